"""Hybrid retrieval over an index folder: dense (FAISS) and BM25, fused by weighted RRF."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ingest.embedder import Embedder, SentenceTransformerEmbedder
from ingest.errors import ConfigError, PartnerQAError
from ingest.settings import Settings
from ingest.store import HNSW_EF_SEARCH, IndexSnapshot, current_generation, load_snapshot

from .types import Hit

log = logging.getLogger(__name__)

MODES = ("hybrid", "dense", "keyword")
_QUERY_CACHE_SIZE = 64


class Retriever:
    """Ranked, citable passages from an index folder.

    Args:
        snapshot: A loaded index generation.
        embedder: The embedder the index was built with.
        k: Passages returned by default.
        mode: `hybrid` (dense + BM25 fused), `dense` or `keyword` (BM25).
        dense_weight: Weight of the dense ranks in the fusion.
        bm25_weight: Weight of the BM25 ranks in the fusion.
        rrf_k: Reciprocal-rank-fusion constant: score = sum w / (rrf_k + rank).
        candidates: Passages taken from each channel before fusing.
        index_dir: Where the snapshot came from. When given, every search and `documents()`
            first checks the index's CURRENT (one small read) and switches to a newer
            generation, so a document removed or added by another process (the CLI, an
            ingest) is seen by the next request, not by the next restart.
    """

    def __init__(self, snapshot: IndexSnapshot, embedder: Embedder, *, k: int = 5, mode: str = "hybrid",
                 dense_weight: float = 1.0, bm25_weight: float = 1.0, rrf_k: int = 60, candidates: int = 50,
                 index_dir: str | Path | None = None) -> None:
        _check_mode(mode)
        if k < 1:
            raise ConfigError(f"k must be >= 1, got {k!r}")
        if dense_weight < 0 or bm25_weight < 0 or dense_weight + bm25_weight == 0:
            raise ConfigError(f"weights must be >= 0 and not both 0, got dense_weight={dense_weight!r}, bm25_weight={bm25_weight!r}")
        if rrf_k < 1:
            raise ConfigError(f"rrf_k must be >= 1, got {rrf_k!r}")
        if candidates < 1:
            raise ConfigError(f"candidates must be >= 1, got {candidates!r}")
        if embedder.dimension != snapshot.dimension:
            raise ConfigError(f"embedder has {embedder.dimension} dimensions, the index {snapshot.dimension}")
        self.snapshot = snapshot
        self.embedder = embedder
        self.k = k
        self.mode = mode
        self.dense_weight = dense_weight
        self.bm25_weight = bm25_weight
        self.rrf_k = rrf_k
        self.candidates = candidates
        self.index_dir = Path(index_dir) if index_dir else None
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()  # one thread loads a new generation; the others wait for it
        self._broken: str | None = None  # a generation that failed to load: not retried on every request
        self._query_vecs: OrderedDict[str, np.ndarray] = OrderedDict()  # recent queries, so callers reuse them

    @classmethod
    def load(cls, index_dir: str | Path | None = None, *, embedder: Embedder | None = None,
             settings: Settings | None = None, **overrides: Any) -> Retriever:
        """Open an index folder, checking that it was built with `embedder`'s weights.

        Args:
            index_dir: The index folder (default: `settings.index`).
            embedder: Defaults to the bundled all-MiniLM-L6-v2 (or `PARTNERQA_MODEL`).
            settings: Defaults to `Settings.from_env()`.
            **overrides: k, mode, dense_weight, bm25_weight, rrf_k, candidates.

        Raises:
            IndexNotFoundError, IndexMismatchError, IndexCorruptError.
        """
        settings = settings or Settings.from_env()
        index_dir = Path(index_dir) if index_dir is not None else settings.index
        if embedder is None:
            embedder = SentenceTransformerEmbedder(settings.model or None, batch_size=settings.batch_size,
                                                   threads=settings.threads)
        snapshot = load_snapshot(index_dir, embedder_fingerprint=embedder.fingerprint())
        opts = {"k": settings.k, "mode": settings.mode, "dense_weight": settings.dense_weight,
                "bm25_weight": settings.bm25_weight, "rrf_k": settings.rrf_k}
        opts.update({k: v for k, v in overrides.items() if v is not None})
        return cls(snapshot, embedder, index_dir=index_dir, **opts)

    # -- index state -------------------------------------------------------------------------
    def refresh(self) -> bool:
        """Switch to the index's newest generation if it changed; True if it did."""
        if self.index_dir is None:
            return False
        gen = current_generation(self.index_dir)
        if gen is None or gen == self.snapshot.generation:
            return False
        with self._refresh_lock:
            if gen == self.snapshot.generation:  # another request loaded it while this one waited
                return False
            snap = load_snapshot(self.index_dir, embedder_fingerprint=self.embedder.fingerprint())
            with self._lock:
                self.snapshot = snap
        log.info("retriever switched to %s", snap.generation)
        return True

    def _live(self) -> IndexSnapshot:
        """The snapshot a request should use: the index's live generation.

        A generation that cannot be loaded (damaged, another embedder) is logged once and
        the last good one keeps serving until CURRENT names another.
        """
        if self.index_dir is None:
            return self.snapshot
        gen = None
        try:
            gen = current_generation(self.index_dir)
            if gen is not None and gen != self.snapshot.generation and gen != self._broken:
                self.refresh()
        except PartnerQAError as e:
            self._broken = gen
            log.warning("index at %s could not be reloaded (%s); still serving %s", self.index_dir, e,
                        self.snapshot.generation)
        return self.snapshot

    def documents(self) -> list[dict[str, Any]]:
        """What the index holds: doc id, title, pages, chunks, added/updated at, provenance."""
        out = []
        for d in self._live().docs.values():
            out.append({"doc_id": d.doc_id, "title": d.title, "pages": d.metadata.get("pages") or (len(d.pages) or None),
                        "chunks": d.n_chunks, "added_at": d.added_at, "updated_at": d.updated_at,
                        **{k: d.metadata.get(k, "") for k in ("publisher", "date", "url", "licence", "format")}})
        return sorted(out, key=lambda r: r["doc_id"])

    def document_text(self, doc_id: str) -> str:
        return self.snapshot.docs[doc_id].text

    def __len__(self) -> int:
        return len(self.snapshot.chunks)

    # -- search ------------------------------------------------------------------------------
    def search(self, query: str, k: int | None = None, *, mode: str | None = None,
               filters: Mapping[str, Any] | None = None) -> list[Hit]:
        """The `k` best passages for `query`.

        Args:
            query: The question or keywords.
            k: Passages to return (default `self.k`).
            mode: hybrid, dense or keyword (default `self.mode`).
            filters: Keep only chunks whose document matches every item: `doc_id`, or
                any metadata key (`format`, `publisher`, ...); a list value matches any of its items.
        """
        return self.search_batch([query], k, mode=mode, filters=filters)[0]

    def search_batch(self, queries: Sequence[str], k: int | None = None, *, mode: str | None = None,
                     filters: Mapping[str, Any] | None = None) -> list[list[Hit]]:
        """`search` for many queries; the query embeddings are computed in one batch."""
        k = self.k if k is None else k
        if k < 1:
            raise ConfigError(f"k must be >= 1, got {k!r}")
        mode = self.mode if mode is None else mode
        _check_mode(mode)
        snap = self._live()
        if not queries:
            return []
        if not snap.chunks:
            return [[] for _ in queries]
        allowed = self._allowed(snap, filters)
        if allowed is not None and not allowed.any():
            return [[] for _ in queries]
        n_cand = max(self.candidates, k)
        dense: list[tuple[np.ndarray, np.ndarray]] = []
        if mode in ("hybrid", "dense"):
            vecs = self.embed_queries(queries)
            dense = self._dense(snap, vecs, n_cand, allowed)
        results = []
        for qi, q in enumerate(queries):
            d_rows, d_scores = dense[qi] if dense else (np.zeros(0, np.int64), np.zeros(0, np.float32))
            if mode in ("hybrid", "keyword"):
                b_rows, b_scores = snap.bm25.top(q, n_cand, allowed)
            else:
                b_rows, b_scores = np.zeros(0, np.int64), np.zeros(0, np.float32)
            results.append(self._fuse(snap, d_rows, d_scores, b_rows, b_scores, k, mode))
        return results

    def clear_query_cache(self) -> None:
        """Forget the remembered query vectors (the next search of any query embeds it again)."""
        with self._lock:
            self._query_vecs.clear()

    def embed_queries(self, queries: Sequence[str]) -> np.ndarray:
        """Query vectors, remembering the last few so the answerer does not embed a query twice."""
        with self._lock:
            cached = [self._query_vecs.get(q) for q in queries]
        missing = [q for q, v in zip(queries, cached) if v is None]
        fresh = iter(self.embedder.embed(list(missing)) if missing else ())
        out = [v if v is not None else next(fresh) for v in cached]
        with self._lock:
            for q, v in zip(queries, out):
                self._query_vecs[q] = v
                self._query_vecs.move_to_end(q)
            while len(self._query_vecs) > _QUERY_CACHE_SIZE:
                self._query_vecs.popitem(last=False)
        return np.vstack(out).astype(np.float32, copy=False)

    def _allowed(self, snap: IndexSnapshot, filters: Mapping[str, Any] | None) -> np.ndarray | None:
        if not filters:
            return None
        mask = np.zeros(len(snap.chunks), dtype=bool)
        for d in snap.docs.values():
            fields = {"doc_id": d.doc_id, "title": d.title, **d.metadata}
            if all(_match(fields.get(key), want) for key, want in filters.items()):
                mask[snap.rows_of(d.doc_id)] = True  # rows per document are cached on the snapshot
        return mask

    def _dense(self, snap: IndexSnapshot, vecs: np.ndarray, n: int, allowed: np.ndarray | None):
        import faiss

        vecs = np.ascontiguousarray(vecs, dtype=np.float32)
        assert vecs.shape[1] == snap.dimension, "query dimension differs from the index"
        n = min(n, len(snap.chunks))
        hnsw = snap.manifest.get("faiss") == "hnsw"
        params = None
        if allowed is not None:
            ids = np.flatnonzero(allowed).astype(np.int64)
            n = min(n, len(ids))
            if hnsw and len(ids) <= _EXACT_SUBSET:
                # A graph walk that may only return a few allowed rows can miss them; scanning
                # the allowed rows' own vectors is exact and, for a subset this small, fast.
                return _exact_subset(snap, vecs, ids, n)
            sel = faiss.IDSelectorBatch(ids)
            params = faiss.SearchParametersHNSW(sel=sel, efSearch=max(HNSW_EF_SEARCH, n)) if hnsw \
                else faiss.SearchParameters(sel=sel)
        elif hnsw:
            params = faiss.SearchParametersHNSW(efSearch=max(HNSW_EF_SEARCH, n))
        with self._lock:
            scores, rows = snap.faiss_index.search(vecs, n, params=params) if params else snap.faiss_index.search(vecs, n)
        out = []
        for r, s in zip(rows, scores):
            keep = r >= 0  # FAISS pads missing results with -1
            out.append((r[keep].astype(np.int64), s[keep]))
        return out

    def _fuse(self, snap: IndexSnapshot, d_rows, d_scores, b_rows, b_scores, k: int, mode: str) -> list[Hit]:
        info: dict[int, dict[str, Any]] = {}
        for rank, (r, s) in enumerate(zip(d_rows.tolist(), d_scores.tolist()), start=1):
            info.setdefault(r, {})["dense"] = (rank, float(s))
        for rank, (r, s) in enumerate(zip(b_rows.tolist(), b_scores.tolist()), start=1):
            info.setdefault(r, {})["bm25"] = (rank, float(s))
        fused = []
        for r, v in info.items():
            score = 0.0
            if mode == "hybrid":
                if "dense" in v:
                    score += self.dense_weight / (self.rrf_k + v["dense"][0])
                if "bm25" in v:
                    score += self.bm25_weight / (self.rrf_k + v["bm25"][0])
            elif mode == "dense":
                score = v["dense"][1]
            else:
                score = v["bm25"][1]
            if mode == "hybrid" and score <= 0.0:
                continue  # only ranked by a channel whose weight is 0
            fused.append((score, r))
        fused.sort(key=lambda t: (-t[0], t[1]))
        hits = []
        for score, r in fused[:k]:
            c = snap.chunks[r]
            v = info[r]
            doc = snap.docs.get(c.doc_id)
            meta = dict(doc.metadata) if doc else {}
            hits.append(Hit(
                chunk_id=c.chunk_id, doc_id=c.doc_id, title=c.title, page=c.page, start=c.start, end=c.end,
                text=c.text, score=float(score),
                dense_score=v["dense"][1] if "dense" in v else None, dense_rank=v["dense"][0] if "dense" in v else None,
                bm25_score=v["bm25"][1] if "bm25" in v else None, bm25_rank=v["bm25"][0] if "bm25" in v else None,
                metadata=meta,
            ))
        return hits


# Filtered search over an HNSW index scans the allowed rows exactly up to this many.
_EXACT_SUBSET = 20_000


def _exact_subset(snap: IndexSnapshot, vecs: np.ndarray, ids: np.ndarray, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The `n` best of `ids` for each query by inner product, best first (ties: lower row)."""
    if n <= 0:
        return [(np.zeros(0, np.int64), np.zeros(0, np.float32)) for _ in vecs]
    sims = vecs @ snap.vectors(ids).T
    out = []
    for s in sims:
        top = np.argpartition(-s, n - 1)[:n] if n < len(s) else np.arange(len(s))
        top = top[np.lexsort((ids[top], -s[top]))]
        out.append((ids[top], s[top].astype(np.float32)))
    return out


def _match(value: Any, want: Any) -> bool:
    if isinstance(want, (list, tuple, set, frozenset)):
        return any(_match(value, w) for w in want)
    return value == want or (value is not None and str(value) == str(want))


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ConfigError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
