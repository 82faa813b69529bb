"""The index on disk: round trips, FAISS against brute force, manifest checks."""

from __future__ import annotations

import json

import numpy as np
import pytest
from support import HashEmbedder, check_index, rehash

from ingest.errors import IndexMismatchError, IndexNotFoundError
from ingest.pipeline import Ingestor
from ingest.store import build_faiss, load_snapshot


def _corpus(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    (d / "a.txt").write_text("Korea will receive about 260,000 advanced chips. The pledge was made at APEC.")
    (d / "b.md").write_text("# Factory\n\nThe AI factory will run on the Vera Rubin platform in Korea.")
    (d / "c.txt").write_text("Nvidia plans an R&D center in Seoul. It will work on physical AI with startups.")
    return d


def test_round_trip_keeps_documents_chunks_and_vectors(tmp_path):
    emb = HashEmbedder()
    report = Ingestor(tmp_path / "idx", emb).ingest([_corpus(tmp_path)])
    assert sorted(report.added) == ["a.txt", "b.md", "c.txt"]
    snap = check_index(tmp_path / "idx")
    assert snap.docs["b.md"].title == "Factory"
    rows = np.arange(len(snap.chunks))
    expected = emb.embed([c.text for c in snap.chunks])
    np.testing.assert_allclose(snap.vectors(rows), expected, rtol=0, atol=1e-6)
    manifest = json.loads((snap.path / "manifest.json").read_text())
    for key in ("format_version", "embedder", "dimension", "chunker", "documents", "metric"):
        assert key in manifest
    assert manifest["embedder"]["fingerprint"] == emb.fingerprint()
    assert manifest["chunker"]["chunk_size"] == 800
    assert set(manifest["documents"]) == {"a.txt", "b.md", "c.txt"}


def test_no_pickle_files_in_the_index(tmp_path):
    Ingestor(tmp_path / "idx", HashEmbedder()).ingest([_corpus(tmp_path)])
    names = {p.name for p in (tmp_path / "idx").rglob("*") if p.is_file()}
    assert not any(n.endswith((".pkl", ".pickle")) for n in names)
    assert {"manifest.json", "docs.jsonl", "chunks.jsonl", "vectors.faiss", "bm25.npz", "bm25.json"} <= names


def test_loading_refuses_another_embedder(tmp_path):
    corpus = _corpus(tmp_path)
    Ingestor(tmp_path / "idx", HashEmbedder()).ingest([corpus])
    other = HashEmbedder(name="other")
    with pytest.raises(IndexMismatchError, match="embedder"):
        load_snapshot(tmp_path / "idx", embedder_fingerprint=other.fingerprint())
    with pytest.raises(IndexMismatchError):
        Ingestor(tmp_path / "idx", other).ingest([corpus])


def test_unknown_format_version_is_refused(tmp_path):
    Ingestor(tmp_path / "idx", HashEmbedder()).ingest([_corpus(tmp_path)])
    snap = load_snapshot(tmp_path / "idx")
    m = json.loads((snap.path / "manifest.json").read_text())
    m["format_version"] = 999
    (snap.path / "manifest.json").write_text(json.dumps(m))
    with pytest.raises(IndexMismatchError, match="format"):
        load_snapshot(tmp_path / "idx")


def test_missing_index_is_a_clear_error(tmp_path):
    with pytest.raises(IndexNotFoundError, match="partnerqa ingest"):
        load_snapshot(tmp_path / "nothing")


@pytest.mark.parametrize("n", [1, 7, 500])
def test_flat_faiss_matches_brute_force_numpy(n):
    rng = np.random.default_rng(n)
    x = rng.normal(size=(n, 32)).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    q = rng.normal(size=(5, 32)).astype(np.float32)
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    index = build_faiss(x, exact_max=10_000)
    k = min(10, n)
    scores, ids = index.search(q, k)
    ref = q @ x.T
    ref_ids = np.argsort(-ref, axis=1, kind="stable")[:, :k]
    np.testing.assert_array_equal(ids, ref_ids)
    np.testing.assert_allclose(scores, np.take_along_axis(ref, ref_ids, axis=1), atol=1e-5)


def test_generations_are_switched_and_old_ones_collected(tmp_path):
    corpus = _corpus(tmp_path)
    ing = Ingestor(tmp_path / "idx", HashEmbedder())
    gens = []
    for i in range(4):
        (corpus / "c.txt").write_text(f"Version {i} of the Seoul R&D center note.")
        gens.append(ing.ingest([corpus]).generation)
    assert gens == ["gen-000001", "gen-000002", "gen-000003", "gen-000004"]
    live = sorted(p.name for p in (tmp_path / "idx").iterdir() if p.name.startswith("gen-"))
    assert live == ["gen-000003", "gen-000004"]
    assert (tmp_path / "idx" / "CURRENT").read_text().strip() == "gen-000004"


def test_current_must_name_a_generation(tmp_path):
    from ingest.errors import IndexCorruptError

    Ingestor(tmp_path / "idx", HashEmbedder()).ingest([_corpus(tmp_path)])
    (tmp_path / "idx" / "CURRENT").write_text("../elsewhere\n")
    with pytest.raises(IndexCorruptError, match="not a generation"):
        load_snapshot(tmp_path / "idx")


def test_chunks_that_do_not_slice_their_document_are_refused(tmp_path):
    from ingest.errors import IndexCorruptError

    Ingestor(tmp_path / "idx", HashEmbedder()).ingest([_corpus(tmp_path)])
    gen = load_snapshot(tmp_path / "idx").path
    rows = [json.loads(line) for line in (gen / "chunks.jsonl").read_text().splitlines()]
    rows[0]["start"] += 1  # a quote would no longer match its offsets
    (gen / "chunks.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(IndexCorruptError, match="SHA-256"):
        load_snapshot(tmp_path / "idx")
    rehash(gen)  # a consistent edit passes the hashes; the offsets still give it away
    with pytest.raises(IndexCorruptError, match="does not slice"):
        load_snapshot(tmp_path / "idx")
