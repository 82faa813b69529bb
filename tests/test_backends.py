"""One contract suite for every storage backend: the same tests on the FAISS folder and on Milvus Lite.

The Milvus cases start Milvus Lite in-process (`pip install -e '.[milvus]'`; marker `milvus`),
and one starts `milvus-lite server` on a free loopback port and talks to it over gRPC.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from support import HashEmbedder, KeywordEmbedder, stop_process

from ingest.backend import FaissStore, open_store
from ingest.errors import IndexMismatchError, IndexNotFoundError
from ingest.pipeline import Ingestor
from ingest.settings import Settings
from rag import Retriever

VOCAB = ["chips", "korea", "seoul", "center", "factory", "nvidia", "gpus"]
BACKENDS = ["faiss", pytest.param("milvus", marks=pytest.mark.milvus)]

DOCS = {
    "a.txt": "Nvidia will supply chips to Korea. Korea builds a factory in Seoul.",
    "b.txt": "Chips.",
    "c.txt": "Seoul hosts a data center. The center opens next year.",
    "d.txt": "The Rubin GPUs follow Blackwell. Nvidia ships them in volume.",
}


def _milvus_available() -> None:
    pytest.importorskip("pymilvus", reason="the Milvus backend needs the milvus extra: pip install -e '.[milvus]'")
    pytest.importorskip("milvus_lite", reason="Milvus Lite needs the milvus extra: pip install -e '.[milvus]'")


def _settings(backend: str, tmp_path: Path, **kw) -> Settings:
    if backend == "milvus":
        _milvus_available()
    return Settings(index=tmp_path / "idx", backend=backend, **kw)


def _write(folder: Path, docs: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in docs.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _ingestor(settings: Settings, emb) -> Ingestor:
    return Ingestor(settings.index, emb, store=open_store(settings))


def _hits(r: Retriever, q: str, overlap: bool = False, **kw) -> list[tuple]:
    return [(h.chunk_id, h.doc_id, h.start, h.end, h.text) for h in r.search(q, **kw)
            if not overlap or (h.dense_score or 0) > 1e-6 or h.bm25_score]


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture
def built(backend, tmp_path):
    settings = _settings(backend, tmp_path)
    emb = KeywordEmbedder(VOCAB)
    report = _ingestor(settings, emb).ingest([_write(tmp_path / "docs", DOCS)])
    assert sorted(report.added) == sorted(DOCS) and not report.skipped
    return settings, emb


def test_open_store_picks_the_backend(tmp_path):
    assert isinstance(open_store(Settings(index=tmp_path / "i")), FaissStore)
    _milvus_available()
    from ingest.milvus_store import MilvusStore

    s = open_store(Settings(index=tmp_path / "i", backend="milvus", milvus_prefix="t1"))
    assert isinstance(s, MilvusStore) and s.uri == str(tmp_path / "i" / "milvus.db") and s.chunks_name == "t1_chunks"


@pytest.mark.milvus
def test_milvus_indexes_get_our_parameters_and_bm25_scores(tmp_path):
    """HNSW's M/efConstruction and BM25's k1/b reach Milvus (pymilvus can send them where Lite ignores
    them), so its BM25 scores equal ours (same terms, same formula) on a one-segment collection."""
    settings = _settings("milvus", tmp_path)
    emb = HashEmbedder()
    _ingestor(settings, emb).ingest([_write(tmp_path / "docs", DOCS)])
    from ingest.store import HNSW_EF_CONSTRUCTION, HNSW_M

    store = open_store(settings)
    params = store.index_params()
    assert params["vector"]["params"] == {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION}
    assert params["sparse"]["params"] == {"bm25_k1": 1.2, "bm25_b": 0.75}
    snap = store.load()
    for q in ("nvidia chips", "seoul center", "rubin gpus korea"):
        rows, scores = snap.bm25.top(q, 4)
        [(m_rows, m_scores)] = snap.search_keyword([q], 4)
        assert m_rows.tolist() == rows.tolist()
        np.testing.assert_allclose(m_scores, scores, rtol=1e-5)


def test_dense_ranks_are_cosine_order(built):
    settings, emb = built
    hits = Retriever.load(settings.index, embedder=emb, settings=settings, mode="dense").search("chips", k=2)
    assert [h.doc_id for h in hits] == ["b.txt", "a.txt"]
    assert hits[0].dense_score == pytest.approx(1.0, abs=1e-5)


def test_keyword_and_hybrid_rank_alike(built):
    settings, emb = built
    r = Retriever.load(settings.index, embedder=emb, settings=settings)
    kw = r.search("data center Seoul", k=3, mode="keyword")
    assert kw[0].doc_id == "c.txt" and kw[0].bm25_rank == 1 and kw[0].bm25_score > 0 and kw[0].dense_rank is None
    assert [h.doc_id for h in r.search("nvidia gpus", k=2)] == ["d.txt", "a.txt"]
    assert r.search("zzzz unknownword", k=3, mode="keyword") == []


def test_hits_slice_their_documents_and_carry_provenance(built):
    settings, emb = built
    r = Retriever.load(settings.index, embedder=emb, settings=settings)
    for h in r.search("korea factory seoul", k=4):
        assert r.document_text(h.doc_id)[h.start:h.end] == h.text
        assert h.title and h.metadata.get("source") == h.doc_id
    assert [d["doc_id"] for d in r.documents()] == sorted(DOCS)


def test_filters_keep_only_the_named_documents(built):
    settings, emb = built
    r = Retriever.load(settings.index, embedder=emb, settings=settings)
    for mode in ("hybrid", "dense", "keyword"):
        hits = r.search("chips korea seoul", k=4, mode=mode, filters={"doc_id": ["c.txt", "b.txt"]})
        assert hits and {h.doc_id for h in hits} <= {"c.txt", "b.txt"}, mode
    assert r.search("chips", filters={"doc_id": "nope.txt"}) == []


def test_both_backends_return_the_same_hits(tmp_path):
    """The FAISS folder and Milvus give the same passages for the same corpus. Passages that share no
    word with the query tie at cosine 0 (hash embedder) and may come in either order: left out."""
    _milvus_available()
    emb = HashEmbedder()
    docs = _write(tmp_path / "docs", DOCS)
    out = {}
    for b in ("faiss", "milvus"):
        settings = Settings(index=tmp_path / b, backend=b)
        _ingestor(settings, emb).ingest([docs])
        r = Retriever.load(settings.index, embedder=emb, settings=settings)
        out[b] = [_hits(r, q, mode=m, k=4, overlap=True) for q in ("nvidia chips", "seoul center", "rubin gpus")
                  for m in ("dense", "keyword", "hybrid")]
    assert out["faiss"] == out["milvus"]


def test_incremental_by_content_hash(built, tmp_path):
    settings, emb = built
    folder = tmp_path / "docs"
    again = _ingestor(settings, emb).ingest([folder])
    assert not again.changed and again.chunks_embedded == 0
    (folder / "b.txt").write_text("Chips and GPUs for Korea.", encoding="utf-8")
    upd = _ingestor(settings, emb).ingest([folder])
    assert upd.updated == ("b.txt",) and upd.total_docs == 4
    r = Retriever.load(settings.index, embedder=emb, settings=settings)
    assert r.document_text("b.txt") == "Chips and GPUs for Korea."
    assert all(h.text != "Chips." for h in r.search("chips", k=10, mode="keyword"))


def test_remove_reingest_prune_leaves_no_stale_chunk(built, tmp_path):
    """ingest -> remove -> re-ingest -> prune: the removed text is found nowhere, by any channel."""
    settings, emb = built
    folder = tmp_path / "docs"
    needle = "Rubin GPUs follow Blackwell"
    r = Retriever.load(settings.index, embedder=emb, settings=settings)

    def found() -> list[str]:
        return [h.doc_id for m in ("keyword", "dense", "hybrid") for h in r.search(needle, k=10, mode=m)
                if "Rubin" in h.text]

    assert found() == ["d.txt"] * 3
    assert _ingestor(settings, emb).remove(["d.txt"]).removed == ("d.txt",)
    assert found() == [] and "d.txt" not in {d["doc_id"] for d in r.documents()}
    assert _ingestor(settings, emb).ingest([folder]).added == ("d.txt",)
    assert found() == ["d.txt"] * 3
    (folder / "d.txt").unlink()
    pruned = _ingestor(settings, emb).ingest([folder], prune=True)
    assert pruned.removed == ("d.txt",) and pruned.total_docs == 3
    assert found() == []
    fresh = Retriever.load(settings.index, embedder=emb, settings=settings)
    assert len(fresh) == pruned.total_chunks
    assert all("Rubin" not in c.text for c in fresh.snapshot.chunks)


def test_provenance_edits_are_written_through_the_backend(built, tmp_path):
    """Staff's edit of a document's title and publisher reaches the live index on either backend, and
    the edited document is still found by its meaning (its vectors are written again, not zeroed)."""
    from ingest.provenance import edit_provenance

    settings, emb = built
    r = Retriever.load(settings.index, embedder=emb, settings=settings)
    before = [h.doc_id for h in r.search("Rubin GPUs Blackwell", k=3, mode="dense")]
    edit_provenance(_ingestor(settings, emb), "d.txt", {"title": "Rubin note", "publisher": "Staff desk"})
    after = Retriever.load(settings.index, embedder=emb, settings=settings)
    doc = after.snapshot.docs["d.txt"]
    assert doc.metadata["title"] == "Rubin note" and doc.metadata["publisher"] == "Staff desk"
    assert [h.doc_id for h in after.search("Rubin GPUs Blackwell", k=3, mode="dense")] == before
    assert {h.title for h in after.search("Rubin GPUs Blackwell", k=3) if h.doc_id == "d.txt"} == {"Rubin note"}
    # kept across a re-ingest of the same files
    _ingestor(settings, emb).ingest([tmp_path / "docs"])
    again = Retriever.load(settings.index, embedder=emb, settings=settings)
    assert again.snapshot.docs["d.txt"].metadata["publisher"] == "Staff desk"


def test_an_index_built_with_another_embedder_is_refused(built):
    settings, _ = built
    with pytest.raises(IndexMismatchError):
        Retriever.load(settings.index, embedder=KeywordEmbedder(["other"]), settings=settings)
    with pytest.raises(IndexMismatchError):
        _ingestor(settings, KeywordEmbedder(["other"])).ingest([settings.index.parent / "docs"])


def test_no_index_is_reported(backend, tmp_path):
    settings = _settings(backend, tmp_path)
    with pytest.raises(IndexNotFoundError):
        Retriever.load(settings.index, embedder=HashEmbedder(), settings=settings)


def test_missing_pymilvus_names_the_extra(tmp_path, monkeypatch):
    from ingest.milvus_store import MilvusStore

    monkeypatch.setitem(sys.modules, "pymilvus", None)
    with pytest.raises(ImportError, match=r"\.\[milvus\]"):
        MilvusStore(str(tmp_path / "m.db")).exists()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.milvus
def test_milvus_lite_server_over_the_network(tmp_path):
    """The same ingest and search through `milvus-lite server` on a loopback port (a URI, not a file)."""
    _milvus_available()
    exe = shutil.which("milvus-lite") or str(Path(sys.executable).parent / "milvus-lite")
    if not Path(exe).exists():
        pytest.skip("milvus-lite has no server command in this install")
    port = _free_port()
    data = tmp_path / "server"
    data.mkdir()
    proc = subprocess.Popen([exe, "server", "--data-dir", str(data), "--host", "127.0.0.1", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"milvus-lite server did not start: {proc.stderr.read().decode()[-500:]}")
            time.sleep(0.2)
        settings = Settings(index=tmp_path / "idx", backend="milvus", milvus_uri=f"http://127.0.0.1:{port}")
        emb = KeywordEmbedder(VOCAB)
        _ingestor(settings, emb).ingest([_write(tmp_path / "docs", DOCS)])
        r = Retriever.load(settings.index, embedder=emb, settings=settings)
        assert [h.doc_id for h in r.search("chips", k=2, mode="dense")] == ["b.txt", "a.txt"]
        assert r.search("data center", k=1, mode="keyword")[0].doc_id == "c.txt"
        assert not (tmp_path / "idx" / "milvus.db").exists(), "a server URI must not create a Lite file"
    finally:
        stop_process(proc)


@pytest.mark.milvus
def test_another_process_reopens_a_lite_file(tmp_path):
    """A Lite file reopened by a new process holds its collections released: loading loads them.
    (Milvus Lite opens a file in one process at a time: this one lets go of it first.)"""
    settings = _settings("milvus", tmp_path)
    ing = _ingestor(settings, HashEmbedder())
    ing.ingest([_write(tmp_path / "docs", DOCS)])
    ing.store.release()
    code = ("import sys; from pathlib import Path; from ingest.settings import Settings; "
            "from ingest.backend import open_store; "
            "snap = open_store(Settings(index=Path(sys.argv[1]), backend='milvus')).load(); "
            "print(len(snap.chunks), [snap.chunks[r].doc_id for r in snap.search_keyword(['data center'], 1)[0][0]])")
    repo = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code, str(settings.index)], cwd=repo, capture_output=True,
                         text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(repo)}, check=False)
    assert out.returncode == 0, out.stderr[-800:]
    assert out.stdout.split("\n")[0] == "4 ['c.txt']"
