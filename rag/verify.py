"""Check a generated answer against the passages it was given; never trust the model's citations.

`verify` splits the reply into sentences, reads the ``[n]`` markers of each, and keeps a
sentence only if a supplied passage supports it (shared content terms, blended with embedding
similarity when an embedder is given). Citations point at the best-supporting document sentence,
sliced from the document text, so every quote is exact. Support is a cheap overlap test, not
entailment: it catches invented facts and wrong citation numbers, not a negated paraphrase.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ingest.text import sentence_spans, terms

from .prompts import NOT_IN_DOCUMENTS
from .types import AnswerSentence, Citation, Hit

DEFAULT_THRESHOLD = 0.5
"""Support at or above this counts; about half the claim's content terms found, or fewer plus close meaning."""

LEXICAL_WEIGHT = 0.5
"""Share of the lexical score in the blend when an embedder is given (the rest is cosine)."""

NUMBER_PENALTY = 0.5
"""Factor applied when a number in the claim is absent from the premise: numbers are where
invented facts do the most harm, and embeddings barely tell 40,000 from 260,000."""

# [1]  [1, 3]  [1][2]  [1-3]  [Passage 2]
_MARKER = re.compile(r"\[\s*(?:passages?\s*)?(\d+(?:\s*(?:[,;]|[-–])\s*\d+)*)\s*\]", re.IGNORECASE)
# markers written after the full stop ("Seoul. [1] Next") move before it, so the splitter keeps
# them with their sentence
_MARKERS_AFTER_STOP = re.compile(
    r"([.!?]['\"”’)]*)((?:\s*\[\s*(?:passages?\s*)?\d+(?:\s*(?:[,;]|[-–])\s*\d+)*\s*\])+)", re.IGNORECASE)
# list markers at line starts ("1. ", "- "), which the sentence splitter would take for sentences
_LIST_MARKER = re.compile(r"^[ \t]*(?:\d{1,2}[.)]|[-*•+])[ \t]+", re.MULTILINE)
_DOC_BULLET = re.compile(r"(?:[-*•▪◦‣]|\d{1,2}[.)])[ \t]+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?])")
_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class Verified:
    """A generated answer after checking.

    Attributes:
        sentences: Kept sentences; `citations` are numbers into `citations` below (1..m).
        citations: Renumbered in order of first use; `quote` is exact document text.
        text: The sentences joined, each followed by its `` [n]`` markers; "" when abstained.
        changes: What checking altered, one note each. Passage numbers in the notes are the
            prompt's numbers (``[n]`` = the n-th hit), not the renumbered citations.
        abstained: The model said NOT_IN_DOCUMENTS, or no supported sentence remains.
    """

    sentences: tuple[AnswerSentence, ...]
    citations: tuple[Citation, ...]
    text: str
    changes: tuple[str, ...]
    abstained: bool


# -- support -----------------------------------------------------------------------------------
class _Scorer:
    """Support scores with one embedding per distinct text, computed in batches."""

    def __init__(self, embedder: Any = None) -> None:
        self.embedder = embedder
        self._vecs: dict[str, np.ndarray] = {}
        self._terms: dict[str, list[str]] = {}

    def prime(self, texts: Sequence[str]) -> None:
        if self.embedder is None:
            return
        todo = list(dict.fromkeys(t for t in texts if t not in self._vecs))
        if todo:
            vecs = np.asarray(self.embedder.embed(todo), dtype=np.float32)
            for t, v in zip(todo, vecs):
                self._vecs[t] = v

    def _t(self, text: str) -> list[str]:
        if text not in self._terms:
            self._terms[text] = terms(text)
        return self._terms[text]

    def score(self, premise: str, claim: str) -> float:
        claim_terms = set(self._t(claim))
        if not claim_terms:
            return 0.0
        premise_terms = set(self._t(premise))
        lexical = len(claim_terms & premise_terms) / len(claim_terms)
        if self.embedder is None:
            score = lexical
        else:
            self.prime([premise, claim])
            cosine = float(np.dot(self._vecs[premise], self._vecs[claim]))
            score = LEXICAL_WEIGHT * lexical + (1 - LEXICAL_WEIGHT) * max(0.0, cosine)
        numbers = {t for t in claim_terms if any(ch.isdigit() for ch in t)}
        if numbers - premise_terms:
            score *= NUMBER_PENALTY
        return min(1.0, max(0.0, score))


def support_score(premise: str, claim: str, embedder: Any = None) -> float:
    """How well `premise` supports `claim`, from 0 to 1.

    The lexical part is the share of the claim's content terms (`ingest.text.terms`: stop words
    out, plurals folded) found in the premise. With an embedder it is averaged with the cosine
    of the two embeddings (negative cosine counts as 0). A number in the claim that the premise
    lacks halves the score. A claim without content terms scores 0.
    """
    return _Scorer(embedder).score(premise, claim)


def supports(premise: str, claim: str, embedder: Any = None, threshold: float = DEFAULT_THRESHOLD) -> bool:
    """Whether `support_score(premise, claim)` reaches `threshold`; fits `eval.metrics`' Supports."""
    return support_score(premise, claim, embedder) >= threshold


# -- parsing -----------------------------------------------------------------------------------
def _numbers(group: str) -> list[int]:
    out: list[int] = []
    for part in re.split(r"\s*[,;]\s*", group.strip()):
        if re.search(r"[-–]", part):
            a, b = (int(x) for x in re.split(r"\s*[-–]\s*", part))
            out.extend(range(a, b + 1) if 0 <= b - a <= 20 else (a, b))
        elif part:
            out.append(int(part))
    return out


def _clean(segment: str) -> str:
    text = _MARKER.sub(" ", segment)
    text = _SPACE.sub(" ", text).strip()
    text = _SPACE_BEFORE_PUNCT.sub(r"\1", text)
    return text


def parse_cited_sentences(raw_text: str) -> list[tuple[str, list[int]]]:
    """Split a generated reply into (sentence without markers, cited numbers in order).

    Markers may follow the full stop (``Seoul. [1]``) or precede it (``Seoul [1].``); a run of
    markers with no words of its own belongs to the sentence before it. List markers at the
    start of a line (``1.``, ``-``) are dropped.
    """
    text = _LIST_MARKER.sub("", raw_text.strip())
    text = _MARKERS_AFTER_STOP.sub(lambda m: m.group(2) + m.group(1), text)
    out: list[tuple[str, list[int]]] = []
    for s, e in sentence_spans(text):
        segment = text[s:e]
        cited = [n for g in _MARKER.findall(segment) for n in _numbers(g)]
        clean = _clean(segment)
        if not any(ch.isalnum() for ch in clean):
            if cited and out:
                out[-1][1].extend(cited)
            continue
        out.append((clean, cited))
    return [(t, list(dict.fromkeys(c))) for t, c in out]


def _skip_bullet(doc: str, s: int, e: int) -> tuple[int, int]:
    """Start a quote at its words, not at a list marker (the span still slices the document)."""
    m = _DOC_BULLET.match(doc, s, e)
    return (m.end(), e) if m and m.end() < e else (s, e)


def _markers(ns: Sequence[int]) -> str:
    return "".join(f"[{n}]" for n in ns)


# -- verify ------------------------------------------------------------------------------------
def verify(raw_text: str, hits: Sequence[Hit], document_text: Callable[[str], str], embedder: Any = None, *,
           threshold: float = DEFAULT_THRESHOLD, remove_unsupported: bool = True) -> Verified:
    """Check a generated answer sentence by sentence against the passages it was given.

    Args:
        raw_text: The model's whole reply.
        hits: The passages as numbered in the prompt (``[n]`` is ``hits[n - 1]``).
        document_text: Returns a document's stored text by id (`Retriever.document_text`).
        embedder: Optional; blends embedding similarity into the support score.
        threshold: Support needed to keep a sentence (0..1).
        remove_unsupported: Drop sentences no passage supports (default); otherwise keep them
            with ``supported=False`` and no citation.

    Returns:
        A `Verified`: citations to passages that were not supplied are dropped; a sentence whose
        cited passage does not support it moves to the passage that does; unsupported sentences
        are removed; each citation quotes the best-supporting sentence of its passage exactly.
    """
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], got {threshold!r}")
    hits = list(hits)
    changes: list[str] = []
    stripped = raw_text.strip()
    if not stripped or stripped.lstrip("\"'*`_ ").startswith(NOT_IN_DOCUMENTS):
        changes.append("the model replied NOT_IN_DOCUMENTS" if stripped else "the model replied nothing")
        return Verified((), (), "", tuple(changes), True)

    parsed = []
    for text, cited in parse_cited_sentences(stripped):
        if NOT_IN_DOCUMENTS in text:
            changes.append(f"dropped {NOT_IN_DOCUMENTS} inside the answer")
            continue
        parsed.append((text, cited))

    # Each passage: its document text and candidate units (the whole passage, each sentence).
    docs: dict[str, str | None] = {}
    units: list[list[tuple[int, int]]] = []
    usable: list[bool] = []
    for n, hit in enumerate(hits, start=1):
        if hit.doc_id not in docs:
            try:
                docs[hit.doc_id] = document_text(hit.doc_id)
            except (KeyError, LookupError):
                docs[hit.doc_id] = None
        doc = docs[hit.doc_id]
        if doc is None or not 0 <= hit.start < hit.end <= len(doc):
            changes.append(f"passage [{n}] is no longer in the index; it cannot be cited")
            units.append([])
            usable.append(False)
            continue
        units.append([_skip_bullet(doc, s, e) for s, e in sentence_spans(doc, hit.start, hit.end)]
                     or [(hit.start, hit.end)])
        usable.append(True)

    scorer = _Scorer(embedder)
    unit_texts = [docs[h.doc_id][s:e] for h, spans, ok in zip(hits, units, usable) if ok
                  for s, e in [(h.start, h.end), *spans]]
    scorer.prime(unit_texts + [t for t, _ in parsed])

    def support(text: str, h: int) -> tuple[float, tuple[int, int]]:
        """Best support of `text` by hit `h`, and the document sentence that gives it."""
        if not usable[h]:
            return 0.0, (0, 0)
        hit, doc = hits[h], docs[hits[h].doc_id]
        whole = scorer.score(doc[hit.start:hit.end], text)
        best, span = -1.0, units[h][0]
        for s, e in units[h]:
            sc = scorer.score(doc[s:e], text)
            if sc > best:
                best, span = sc, (s, e)
        return max(whole, best), span

    kept: list[tuple[str, list[tuple[int, tuple[int, int]]]]] = []  # text, [(hit index, quote span)]
    for i, (text, cited) in enumerate(parsed, start=1):
        valid = []
        for n in cited:
            if 1 <= n <= len(hits):
                valid.append(n)
            else:
                changes.append(f"dropped citation [{n}]: no such passage (sentence {i})")
        scores = [support(text, h) for h in range(len(hits))]
        ok = [n for n in valid if scores[n - 1][0] >= threshold]
        if ok:
            for n in valid:
                if n not in ok:
                    changes.append(f"dropped citation [{n}] from sentence {i}: the passage does not support it")
            kept.append((text, [(n - 1, scores[n - 1][1]) for n in ok]))
            continue
        best = max(range(len(hits)), key=lambda h: scores[h][0], default=None)
        if best is not None and scores[best][0] >= threshold:
            if valid:
                changes.append(f"re-attached sentence {i} from {_markers(valid)} to [{best + 1}]")
            else:
                changes.append(f"attached uncited sentence {i} to [{best + 1}]")
            kept.append((text, [(best, scores[best][1])]))
            continue
        if remove_unsupported:
            changes.append(f"removed unsupported sentence {i}: {text}")
        else:
            changes.append(f"marked unsupported sentence {i}: {text}")
            kept.append((text, []))

    if not any(cites for _, cites in kept):
        changes.append("no supported sentence remains: abstained")
        return Verified((), (), "", tuple(changes), True)

    citations: list[Citation] = []
    number: dict[tuple[str, int, int], int] = {}
    sentences: list[AnswerSentence] = []
    for text, cites in kept:
        ns: list[int] = []
        for h, (s, e) in cites:
            hit = hits[h]
            key = (hit.doc_id, s, e)
            if key not in number:
                number[key] = len(citations) + 1
                meta = hit.metadata or {}
                citations.append(Citation(
                    n=number[key], doc_id=hit.doc_id, title=hit.title, page=hit.page, start=s, end=e,
                    quote=docs[hit.doc_id][s:e], publisher=str(meta.get("publisher") or ""),
                    date=str(meta.get("date") or ""), url=str(meta.get("url") or ""), chunk_id=hit.chunk_id))
            if number[key] not in ns:
                ns.append(number[key])
        sentences.append(AnswerSentence(text=text, citations=tuple(ns), supported=bool(cites)))
    text = " ".join(s.text + "".join(f" [{n}]" for n in s.citations) for s in sentences)
    return Verified(tuple(sentences), tuple(citations), text, tuple(changes), False)
