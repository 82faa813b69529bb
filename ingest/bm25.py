"""A BM25 index built once at ingest time and saved as plain arrays (no pickle)."""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Sequence

import numpy as np

from .text import terms


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
    def build(cls, texts: Sequence[str], k1: float = 1.2, b: float = 0.75) -> "BM25Index":
        """Index texts (one per chunk, in chunk order)."""
        if k1 < 0:
            raise ValueError(f"k1 must be >= 0, got {k1!r}")
        if not 0 <= b <= 1:
            raise ValueError(f"b must be in [0, 1], got {b!r}")
        tokenised = [terms(t) for t in texts]
        lengths = np.array([len(t) for t in tokenised], dtype=np.float64)
        avgdl = float(lengths.mean()) if len(lengths) and lengths.sum() else 1.0
        postings: dict[str, list[tuple[int, int]]] = {}
        for row, toks in enumerate(tokenised):
            for term, tf in Counter(toks).items():
                postings.setdefault(term, []).append((row, tf))
        vocab = {term: i for i, term in enumerate(sorted(postings))}
        ptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        rows: list[int] = []
        wts: list[float] = []
        n = len(texts)
        for term, i in vocab.items():
            plist = postings[term]
            df = len(plist)
            idf = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
            for row, tf in plist:
                norm = k1 * (1.0 - b + b * lengths[row] / avgdl)
                rows.append(row)
                wts.append(idf * tf * (k1 + 1.0) / (tf + norm))
            ptr[i + 1] = len(rows)
        return cls(vocab, ptr, np.asarray(rows, dtype=np.int32), np.asarray(wts, dtype=np.float32), n, k1, b)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk for `query` (zeros where no term matches)."""
        out = np.zeros(self.n_docs, dtype=np.float32)
        for term in set(terms(query)):
            i = self.vocab.get(term)
            if i is None:
                continue
            lo, hi = self.term_ptr[i], self.term_ptr[i + 1]
            out[self.doc_ids[lo:hi]] += self.weights[lo:hi]  # rows are unique per term
        return out

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
            json.dumps({"format": self.FORMAT, "k1": self.k1, "b": self.b, "n_docs": self.n_docs, "terms": terms_sorted}),
            encoding="utf-8",
        )

    @classmethod
    def load(cls, folder: Path) -> "BM25Index":
        meta = json.loads((folder / "bm25.json").read_text(encoding="utf-8"))
        if meta.get("format") != cls.FORMAT:
            raise ValueError(f"unknown BM25 format {meta.get('format')!r}")
        with np.load(folder / "bm25.npz", allow_pickle=False) as z:
            ptr, rows, wts = z["term_ptr"], z["doc_ids"], z["weights"]
        vocab = {t: i for i, t in enumerate(meta["terms"])}
        if len(ptr) != len(vocab) + 1 or len(rows) != len(wts):
            raise ValueError("BM25 arrays do not match its vocabulary")
        return cls(vocab, ptr, rows, wts, int(meta["n_docs"]), float(meta["k1"]), float(meta["b"]))
