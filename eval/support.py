"""The citation support judge: `rag.verify.support_score` with cached embeddings, not an NLI model.

ALCE's citation metrics (`eval.metrics.citation_precision` / `citation_recall`) need a
judge ``supports(premise, claim) -> bool``: does the cited text back the sentence?
ALCE uses an NLI model (TRUE, T5-11B). This project ships no NLI model and runs
offline on CPU, so the judge is the same cheap support score that checks generated
answers before users see them (`rag.verify.support_score`):

* **lexical coverage**: the share of the claim's content terms (`ingest.text.terms`:
  stop words out, plurals folded, digit grouping removed) found in the premise,
* blended half and half with the **embedding cosine** of premise and claim from the
  bundled embedder (negative cosine counts as 0),
* halved when the claim holds a number that the premise lacks.

The claim is supported when the score reaches `threshold`.

What this judge can and cannot tell: a sentence copied from its quote scores 1.0; a
paraphrase that keeps the key terms scores high; a claim whose terms or numbers are
absent from the quote scores low. It does not understand negation or entailment that
needs reasoning. Its citation numbers are comparable between runs of this project,
not with ALCE's published NLI-based numbers. Since generated answers are filtered by
the same score in `rag.verify`, a generative run's citation scores mostly confirm
that the verifier ran; an independent NLI judge would be needed to audit it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from rag.verify import DEFAULT_THRESHOLD, support_score

__all__ = ["DEFAULT_THRESHOLD", "CachedEmbedder", "make_support_judge"]


class CachedEmbedder:
    """Wraps an embedder so each distinct text is embedded once (ALCE re-checks the same quotes).

    Args:
        embedder: Any `ingest.embedder.Embedder`.
        cache_size: Most texts kept; the cache is cleared when it would overflow.
    """

    def __init__(self, embedder: Any, cache_size: int = 50_000) -> None:
        if cache_size < 1:
            raise ValueError(f"cache_size must be >= 1, got {cache_size!r}")
        self.embedder = embedder
        self.name = getattr(embedder, "name", "")
        self.dimension = getattr(embedder, "dimension", 0)
        self.cache_size = cache_size
        self._vecs: dict[str, np.ndarray] = {}

    def fingerprint(self) -> str:
        return self.embedder.fingerprint()

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self._vecs))
        if missing:
            if len(self._vecs) + len(missing) > self.cache_size:
                self._vecs.clear()
            for text, vec in zip(missing, self.embedder.embed(missing, progress=progress)):
                self._vecs[text] = np.asarray(vec, dtype=np.float32)
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.ascontiguousarray(np.stack([self._vecs[t] for t in texts]), dtype=np.float32)


def make_support_judge(
    embedder: Any, threshold: float = DEFAULT_THRESHOLD, *, cache_size: int = 50_000
) -> Callable[[str, str], bool]:
    """Build ``supports(premise, claim) -> bool`` from `rag.verify.support_score` and an embedder.

    Args:
        embedder: Any `ingest.embedder.Embedder`; None scores on lexical coverage alone.
        threshold: Support score at or above which the claim counts as supported.
        cache_size: Most texts whose embeddings are kept.

    Returns:
        The judge. It also exposes ``judge.score(premise, claim) -> float``.

    Raises:
        ValueError: If `threshold` is outside [0, 1] or `cache_size` is below 1.
    """
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], got {threshold!r}")
    cached = CachedEmbedder(embedder, cache_size) if embedder is not None else None

    def score(premise: str, claim: str) -> float:
        if not premise.strip() or not claim.strip():
            return 0.0
        return support_score(premise, claim, cached)

    def supports(premise: str, claim: str) -> bool:
        return score(premise, claim) >= threshold

    supports.score = score  # type: ignore[attr-defined]
    return supports
