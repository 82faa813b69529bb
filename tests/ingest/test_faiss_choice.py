"""The FAISS index chosen by corpus size, checked against brute-force numpy on seeded vectors."""

from __future__ import annotations

import numpy as np
import pytest

from ingest.settings import Settings
from ingest.store import HNSW_EF_SEARCH, build_faiss, faiss_kind

faiss = pytest.importorskip("faiss")


def _unit(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x / np.linalg.norm(x, axis=1, keepdims=True), dtype=np.float32)


def _clustered(n: int, d: int, seed: int) -> np.ndarray:
    """Unit vectors around 40 centres, the way sentence embeddings of a corpus cluster by topic."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, d))
    return _unit(centres[rng.integers(0, 40, n)] + 0.6 * rng.standard_normal((n, d)))


def _brute(x: np.ndarray, q: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    sims = q @ x.T
    rows = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    return rows, np.take_along_axis(sims, rows, axis=1)


def test_kind_switches_just_above_exact_max():
    assert faiss_kind(0, 0) == "flat"
    assert faiss_kind(50, 50) == "flat"
    assert faiss_kind(51, 50) == "hnsw"
    assert faiss_kind(Settings().exact_max, Settings().exact_max) == "flat"
    assert isinstance(build_faiss(np.zeros((0, 8), np.float32), 10), faiss.IndexFlatIP)


def test_flat_index_equals_brute_force_exactly():
    x = _clustered(3000, 48, seed=1)
    q = _clustered(25, 48, seed=2)
    index = build_faiss(x, exact_max=len(x))
    assert isinstance(index, faiss.IndexFlatIP) and index.ntotal == len(x)
    scores, rows = index.search(q, 10)
    want_rows, want_scores = _brute(x, q, 10)
    assert np.array_equal(rows, want_rows)
    np.testing.assert_allclose(scores, want_scores, rtol=0, atol=1e-5)


def test_hnsw_recall_against_brute_force():
    x = _clustered(4000, 48, seed=3)
    q = _clustered(100, 48, seed=4)
    index = build_faiss(x, exact_max=len(x) - 1)
    assert isinstance(index, faiss.IndexHNSWFlat) and index.ntotal == len(x)
    assert index.metric_type == faiss.METRIC_INNER_PRODUCT
    scores, rows = index.search(q, 10, params=faiss.SearchParametersHNSW(efSearch=HNSW_EF_SEARCH))
    want_rows, _ = _brute(x, q, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(rows, want_rows)])
    assert recall >= 0.95, recall
    # What HNSW returns is scored exactly: the inner products of the stored vectors.
    np.testing.assert_allclose(scores, np.take_along_axis(q @ x.T, rows, axis=1), rtol=0, atol=1e-5)
    # Stored vectors come back as they went in (the ingest reuses them for unchanged documents).
    np.testing.assert_array_equal(index.reconstruct_batch(np.arange(5, dtype=np.int64)), x[:5])


def test_filtered_search_on_hnsw_is_exact_within_the_filter(tmp_path, hash_embedder):
    """Over an HNSW index a filter to a few documents scans their rows exactly."""
    from ingest.chunker import Chunker
    from ingest.pipeline import Ingestor
    from ingest.store import load_snapshot
    from rag.retriever import Retriever

    corpus = tmp_path / "docs"
    corpus.mkdir()
    rng = np.random.default_rng(5)
    words = [f"w{i}" for i in range(300)]
    for d in range(12):
        sents = [" ".join(rng.choice(words, 12)).capitalize() + "." for _ in range(40)]
        (corpus / f"doc{d:02d}.txt").write_text(" ".join(sents), encoding="utf-8")
    Ingestor(tmp_path / "index", hash_embedder, Chunker(200, 40), exact_max=0).ingest([corpus])
    snap = load_snapshot(tmp_path / "index")
    assert snap.manifest["faiss"] == "hnsw"
    r = Retriever(snap, hash_embedder, k=5, mode="dense")
    query = "w1 w2 w3 w4 w5"
    hits = r.search(query, 5, filters={"doc_id": ["doc03.txt", "doc07.txt"]})
    rows = np.concatenate([snap.rows_of("doc03.txt"), snap.rows_of("doc07.txt")])
    sims = snap.vectors(rows) @ hash_embedder.embed([query])[0]
    want = [snap.chunks[rows[i]].chunk_id for i in np.argsort(-sims, kind="stable")[:5]]
    assert [h.chunk_id for h in hits] == want
    assert all(h.doc_id in ("doc03.txt", "doc07.txt") for h in hits)


def test_flat_matrix_is_the_exact_index_vectors_and_ranks_like_faiss():
    from ingest.store import exact_top, flat_matrix

    x = _clustered(3000, 32, seed=7)
    q = _unit(np.random.default_rng(8).standard_normal((5, 32)))
    flat = build_faiss(x, exact_max=10_000)
    view = flat_matrix(flat)
    assert view is not None and view.shape == x.shape and np.array_equal(view, x)
    assert not view.flags.writeable  # a view of FAISS's own memory: never written through
    scores, rows = flat.search(q, 10)
    for i, (ids, sims) in enumerate(exact_top(q, np.arange(len(x)), view, 10)):
        assert ids.tolist() == rows[i].tolist()
        np.testing.assert_allclose(sims, scores[i], rtol=1e-5, atol=1e-6)
    assert flat_matrix(build_faiss(x, exact_max=100)) is None  # HNSW: searched by FAISS
    assert flat_matrix(faiss.IndexFlatIP(32)) is None  # empty
