"""A BM25 index built once at ingest time and saved as plain arrays (no pickle)."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .text import COMPATIBLE_TOKENIZERS, TOKENIZER_VERSION, terms

log = logging.getLogger(__name__)


class BM25Index:
    """Okapi BM25 with precomputed per-posting weights.

    Each posting stores idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl)),
    so a query is a sum of posting weights over its distinct terms. idf is the
    Lucene form log(1 + (N - df + 0.5) / (df + 0.5)), never negative.

    Args:
        vocab: Term -> column id.
        term_ptr: CSC pointers, len(vocab) + 1.
        doc_ids: Row (chunk) ids of the postings, grouped by term.
        weights: Posting weights aligned with `doc_ids`.
        n_docs: Number of chunks indexed.
    """

    FORMAT = 1

    def __init__(self, vocab: dict[str, int], term_ptr: np.ndarray, doc_ids: np.ndarray, weights: np.ndarray,
                 n_docs: int, k1: float = 1.2, b: float = 0.75) -> None:
        self.vocab = vocab
        self.term_ptr = term_ptr
        self.doc_ids = doc_ids
        self.weights = weights
        self.n_docs = n_docs
        self.k1 = k1
        self.b = b

    @classmethod
    def build(cls, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> BM25Index:
        """Index texts (one per chunk, in chunk order)."""
        if k1 < 0:
            raise ValueError(f"k1 must be >= 0, got {k1!r}")
        if not 0 <= b <= 1:
            raise ValueError(f"b must be in [0, 1], got {b!r}")
        n = len(texts)
        tokenised = _term_lists(texts)
        lengths = np.fromiter((len(t) for t in tokenised), dtype=np.int64, count=n)
        avgdl = float(lengths.mean()) if n and lengths.sum() else 1.0
        # Postings in bulk: every (term, row) pair as one int64 key, so one sort groups them
        # by term (vocabulary order) and then row, and its run lengths are the term frequencies.
        ids_of: dict[str, int] = {}
        ids = np.fromiter((ids_of.setdefault(t, len(ids_of)) for toks in tokenised for t in toks), dtype=np.int64,
                          count=int(lengths.sum()))
        del tokenised
        names = list(ids_of)
        order = sorted(range(len(names)), key=names.__getitem__)
        rank = np.empty(len(names), dtype=np.int64)
        rank[np.asarray(order, dtype=np.int64)] = np.arange(len(names), dtype=np.int64)
        keys = rank[ids] * max(n, 1) + np.repeat(np.arange(n, dtype=np.int64), lengths)
        del ids
        keys, tf = np.unique(keys, return_counts=True)
        term = keys // max(n, 1)
        rows = keys - term * max(n, 1)
        df = np.bincount(term, minlength=len(names))
        ptr = np.zeros(len(names) + 1, dtype=np.int64)
        np.cumsum(df, out=ptr[1:])
        idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5))
        tf = tf.astype(np.float64)
        norm = k1 * (1.0 - b + b * lengths[rows] / avgdl)
        weights = idf[term] * tf * (k1 + 1.0) / (tf + norm)
        vocab = {names[i]: j for j, i in enumerate(order)}
        return cls(vocab, ptr, rows.astype(np.int32), weights.astype(np.float32), n, k1, b)

    #: A chunk's Hangul matches count only when it holds at least this share of the question's
    #: distinct Hangul terms. One shared bigram is usually an ending ("짓기로" and "공급하기로" share
    #: 기로), which made any Korean chunk outrank the English answer for a Korean question.
    HANGUL_MIN_SHARE = 0.25

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for `query` (zeros where no term matches)."""
        out = np.zeros(self.n_docs, dtype=np.float32)
        distinct = set(terms(query))
        hangul = [t for t in distinct if "\uac00" <= t[0] <= "\ud7a3"]
        for term in distinct.difference(hangul):
            self._add(term, out)
        if hangul:
            part = np.zeros(self.n_docs, dtype=np.float32)
            matched = np.zeros(self.n_docs, dtype=np.int32)
            for term in hangul:
                self._add(term, part, matched)
            need = max(1, math.ceil(self.HANGUL_MIN_SHARE * len(hangul)))
            out += np.where(matched >= need, part, 0.0).astype(np.float32)
        return out

    def _add(self, term: str, out: np.ndarray, matched: np.ndarray | None = None) -> None:
        i = self.vocab.get(term)
        if i is None:
            return
        lo, hi = self.term_ptr[i], self.term_ptr[i + 1]
        rows = self.doc_ids[lo:hi]
        out[rows] += self.weights[lo:hi]  # rows are unique per term
        if matched is not None:
            matched[rows] += 1

    def top(self, query: str, n: int, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The `n` best rows with a positive score, best first, as (rows, scores).

        `allowed` is an optional boolean mask of rows that may be returned.
        """
        s = self.scores(query)
        if allowed is not None:
            s = np.where(allowed, s, 0.0)
        pos = np.flatnonzero(s > 0)
        if len(pos) > n:
            pos = pos[np.argpartition(-s[pos], n - 1)[:n]]
        order = pos[np.lexsort((pos, -s[pos]))]
        return order, s[order]

    def save(self, folder: Path) -> None:
        np.savez(folder / "bm25.npz", term_ptr=self.term_ptr, doc_ids=self.doc_ids, weights=self.weights)
        terms_sorted = sorted(self.vocab, key=self.vocab.__getitem__)
        (folder / "bm25.json").write_text(
            json.dumps({"format": self.FORMAT, "tokenizer": TOKENIZER_VERSION, "k1": self.k1, "b": self.b, "n_docs": self.n_docs, "terms": terms_sorted}),
            encoding="utf-8",
        )

    @classmethod
    def load(cls, folder: Path) -> BM25Index:
        meta = json.loads((folder / "bm25.json").read_text(encoding="utf-8"))
        if not isinstance(meta, dict):
            raise TypeError("bm25.json is not a JSON object")
        if meta.get("format") != cls.FORMAT:
            raise ValueError(f"unknown BM25 format {meta.get('format')!r}")
        if meta.get("tokenizer") not in COMPATIBLE_TOKENIZERS:
            raise ValueError(
                f"BM25 terms were made by tokenizer {meta.get('tokenizer')!r}, this partnerqa uses "
                f"{TOKENIZER_VERSION}; rebuild the index (partnerqa ingest --rebuild)"
            )
        if meta.get("tokenizer") != TOKENIZER_VERSION:
            log.info("BM25 index in %s was built by tokenizer %s: its Hangul words and dotted abbreviations "
                     "(\"U.S.\") match queries only after a rebuild (partnerqa ingest --rebuild)", folder,
                     meta.get("tokenizer"))
        with np.load(folder / "bm25.npz", allow_pickle=False) as z:
            ptr, rows, wts = z["term_ptr"], z["doc_ids"], z["weights"]
        if not isinstance(meta.get("terms"), list) or not isinstance(meta.get("n_docs"), int):
            raise TypeError("bm25.json has the wrong shape")
        vocab = {str(t): i for i, t in enumerate(meta["terms"])}
        n_docs = meta["n_docs"]
        if ptr.dtype.kind not in "iu" or rows.dtype.kind not in "iu" or wts.dtype.kind != "f":
            raise ValueError(f"BM25 arrays have the wrong types ({ptr.dtype}, {rows.dtype}, {wts.dtype})")
        if len(ptr) != len(vocab) + 1 or len(rows) != len(wts) or ptr.ndim != 1 or rows.ndim != 1 or wts.ndim != 1:
            raise ValueError("BM25 arrays do not match its vocabulary")
        if len(ptr) and (ptr[0] != 0 or ptr[-1] != len(rows) or (np.diff(ptr) < 0).any()):
            raise ValueError("BM25 term pointers are not a valid CSC index")
        if len(rows) and (rows.min() < 0 or rows.max() >= n_docs):
            raise ValueError("BM25 postings point outside the indexed chunks")
        if not np.isfinite(wts).all():
            raise ValueError("BM25 weights hold NaN or infinite values")
        return cls(vocab, ptr, rows, wts, n_docs, float(meta["k1"]), float(meta["b"]))


def _term_lists(texts: Sequence[str]) -> list[list[str]]:
    """`terms(t)` for each text, computed once per distinct whitespace-separated word.

    `terms` never joins or splits across whitespace, so the terms of a text are the
    terms of its words in order; a corpus has far fewer distinct words than words, which
    makes this several times faster. A sample is checked against `terms` itself, and any
    difference (should `terms` ever change that way) falls back to calling it per text.
    """
    cache: dict[str, list[str]] = {}

    def by_word(text: str) -> list[str]:
        out: list[str] = []
        for w in text.split():
            got = cache.get(w)
            if got is None:
                got = cache[w] = terms(w)
            out += got
        return out

    step = max(1, len(texts) // 32)
    if any(by_word(t) != terms(t) for t in texts[::step]):
        log.warning("per-word tokenising differs from terms(); indexing BM25 text by text")
        return [terms(t) for t in texts]
    return [by_word(t) for t in texts]
