"""`ingest --ray`: chunks and vectors from Ray Data equal the single-process ingest's, on both backends."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from support import HashEmbedder

from ingest.backend import open_store
from ingest.pipeline import Ingestor
from ingest.settings import Settings

pytestmark = pytest.mark.ray


@pytest.fixture(scope="module")
def runner():
    pytest.importorskip("ray", reason="needs the ray extra: pip install -e '.[ray]'")
    import ray

    from ingest.ray_ingest import RayRunner

    tests = str(Path(__file__).resolve().parents[1])  # the workers unpickle tests/support.py's HashEmbedder
    old = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [tests, old]))
    r = RayRunner(num_cpus=2, actors=2, batch_size=8)
    try:
        r.start()
        yield r
    finally:
        ray.shutdown()
        if old is None:
            os.environ.pop("PYTHONPATH", None)
        else:
            os.environ["PYTHONPATH"] = old


def _corpus(folder):
    folder.mkdir()
    rows = [{"doc_id": f"p{i:03d}", "title": f"Paragraph {i}",
             "text": " ".join(f"Sentence {j} of paragraph {i} mentions chips, Korea and item {i * j}." for j in range(25))}
            for i in range(30)]
    (folder / "corpus.jsonl").write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    (folder / "note.txt").write_text("A short note about Seoul. " * 3, encoding="utf-8")
    return folder


@pytest.mark.parametrize("backend", ["faiss", pytest.param("milvus", marks=pytest.mark.milvus)])
def test_ray_ingest_equals_single_process(runner, backend, tmp_path):
    from ingest.ray_ingest import RayIngestor

    if backend == "milvus":
        pytest.importorskip("milvus_lite", reason="needs the milvus extra: pip install -e '.[milvus]'")
    docs = _corpus(tmp_path / "docs")
    emb = HashEmbedder()
    snaps = []
    for name, cls in (("one", Ingestor), ("ray", RayIngestor)):
        s = Settings(index=tmp_path / name, backend=backend)
        kw = {"runner": runner, "embedder_factory": HashEmbedder} if cls is RayIngestor else {}
        report = cls(s.index, emb, store=open_store(s), **kw).ingest([docs])
        assert report.total_docs == 31 and not report.skipped
        snap = open_store(s).load(emb.fingerprint())
        snaps.append((snap, snap.vectors(np.arange(len(snap.chunks)))))
    (one, v_one), (ray_, v_ray) = snaps
    assert len(one.chunks) > 31 and one.chunks == ray_.chunks
    assert {k: d.text for k, d in one.docs.items()} == {k: d.text for k, d in ray_.docs.items()}
    np.testing.assert_array_equal(v_one, v_ray)


def test_ray_ingest_is_incremental(runner, tmp_path):
    from ingest.ray_ingest import RayIngestor

    docs = _corpus(tmp_path / "docs")
    ing = RayIngestor(tmp_path / "idx", HashEmbedder(), runner=runner, embedder_factory=HashEmbedder)
    first = ing.ingest([docs])
    assert first.chunks_embedded == first.total_chunks
    (docs / "note.txt").write_text("A changed note about Busan.", encoding="utf-8")
    again = ing.ingest([docs])
    assert again.updated == ("note.txt",) and again.chunks_embedded == 1


def test_ray_ingest_writes_the_multilingual_channel_with_its_sentence_units(runner, tmp_path):
    from ingest.multilingual import CHANNEL
    from ingest.ray_ingest import RayIngestor
    from ingest.store import load_snapshot

    docs = _corpus(tmp_path / "docs")
    snaps = []
    for name, cls in (("one", Ingestor), ("ray", RayIngestor)):
        kw = {"runner": runner, "embedder_factory": HashEmbedder} if cls is RayIngestor else {}
        cls(tmp_path / name, HashEmbedder(), multilingual=HashEmbedder(dimension=16, name="hash-ml"), **kw).ingest([docs])
        snaps.append(load_snapshot(tmp_path / name))
    one, ray_ = snaps
    assert CHANNEL in ray_.channel_units and ray_.manifest["channels"][CHANNEL]["units"]["count"] > len(ray_.chunks)
    rows = np.arange(len(one.chunks))
    np.testing.assert_array_equal(one.channel_vectors(CHANNEL, rows), ray_.channel_vectors(CHANNEL, rows))
    for r in (0, len(rows) - 1):
        for a, b in zip(one.chunk_units(CHANNEL, r), ray_.chunk_units(CHANNEL, r)):
            np.testing.assert_array_equal(a, b)


def test_missing_ray_names_the_extra(monkeypatch):
    from ingest.ray_ingest import RayRunner

    monkeypatch.setitem(sys.modules, "ray", None)
    with pytest.raises(ImportError, match=r"\.\[ray\]"):
        RayRunner().start()


@pytest.mark.slow
@pytest.mark.model
def test_ray_ingest_of_the_squad_corpus_equals_single_process(runner, real_embedder, tmp_path):
    """The SQuAD 2.0 sample (../shared): Ray's chunks are the single-process ingest's, chunk for chunk,
    and its vectors the same model's (the actors run one torch thread: equal to float rounding)."""
    from eval.convert_squad import convert_squad
    from ingest.ray_ingest import RayIngestor

    src = Path(__file__).resolve().parents[3] / "shared" / "bench" / "squad2_sample500"
    if not (src / "corpus.jsonl").is_file():
        pytest.skip(f"the SQuAD 2.0 sample is not at {src}")
    convert_squad(src, tmp_path / "squad")
    corpus = tmp_path / "squad" / "corpus.jsonl"
    one = Ingestor(tmp_path / "one", real_embedder)
    one.ingest([corpus])
    ray_ = RayIngestor.from_settings(Settings(index=tmp_path / "ray", multilingual="off"), runner=runner)
    ray_.ingest([corpus])
    a, b = one.store.load(), ray_.store.load()
    assert len(a.chunks) > 400 and a.chunks == b.chunks
    assert {k: d.text for k, d in a.docs.items()} == {k: d.text for k, d in b.docs.items()}
    va, vb = a.vectors(np.arange(len(a.chunks))), b.vectors(np.arange(len(b.chunks)))
    assert np.abs(va - vb).max() < 1e-4
    assert (np.argmax(va @ va[:50].T, axis=0) == np.argmax(vb @ va[:50].T, axis=0)).all()
