"""Retriever: dense, keyword and fused ranks worked out by hand; filters; refresh."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import HashEmbedder, KeywordEmbedder

from ingest.errors import ConfigError, IndexMismatchError
from ingest.pipeline import Ingestor
from rag import Retriever

VOCAB = ["chips", "korea", "seoul", "center", "factory"]


@pytest.fixture
def kw_index(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    (d / "a.txt").write_text("chips korea korea")  # dense cos(q=chips) = 1/sqrt(2); BM25 chips rank 2
    (d / "b.txt").write_text("chips")  # dense cos = 1; BM25 rank 1 (shorter)
    (d / "c.txt").write_text("seoul center factory")  # dense cos = 0
    emb = KeywordEmbedder(VOCAB)
    Ingestor(tmp_path / "idx", emb).ingest([d])
    return tmp_path / "idx", emb


def test_dense_ranks_are_cosine_order(kw_index):
    idx, emb = kw_index
    hits = Retriever.load(idx, embedder=emb, mode="dense").search("chips", k=3)
    assert [h.doc_id for h in hits] == ["b.txt", "a.txt", "c.txt"]
    assert [round(h.dense_score, 4) for h in hits] == [1.0, round(2 ** -0.5, 4), 0.0]
    assert [h.dense_rank for h in hits] == [1, 2, 3]


def test_keyword_mode_uses_bm25_only(kw_index):
    idx, emb = kw_index
    hits = Retriever.load(idx, embedder=emb, mode="keyword").search("center", k=3)
    assert [h.doc_id for h in hits] == ["c.txt"] and hits[0].bm25_rank == 1 and hits[0].dense_rank is None


def test_hybrid_is_weighted_reciprocal_rank_fusion(kw_index):
    idx, emb = kw_index
    r = Retriever.load(idx, embedder=emb, mode="hybrid", rrf_k=60)
    hits = r.search("chips", k=3)
    # b: dense 1, bm25 1; a: dense 2, bm25 2; c: dense 3 only
    assert [h.doc_id for h in hits] == ["b.txt", "a.txt", "c.txt"]
    assert hits[0].score == pytest.approx(1 / 61 + 1 / 61)
    assert hits[1].score == pytest.approx(1 / 62 + 1 / 62)
    assert hits[2].score == pytest.approx(1 / 63) and hits[2].bm25_rank is None
    r2 = Retriever.load(idx, embedder=emb, mode="hybrid", rrf_k=60, dense_weight=0.0, bm25_weight=2.0)
    hits = r2.search("chips", k=3)
    assert [h.doc_id for h in hits] == ["b.txt", "a.txt"], "c has no BM25 rank and no dense weight"
    assert hits[0].score == pytest.approx(2 / 61)


def test_hits_carry_provenance_and_exact_offsets(kw_index):
    idx, emb = kw_index
    r = Retriever.load(idx, embedder=emb)
    for h in r.search("seoul center", k=3):
        assert r.document_text(h.doc_id)[h.start:h.end] == h.text
        assert h.chunk_id.startswith(h.doc_id + "#") and h.title and h.metadata["format"] == "txt"


def test_metadata_filter(kw_index):
    idx, emb = kw_index
    r = Retriever.load(idx, embedder=emb)
    assert {h.doc_id for h in r.search("chips", k=5, filters={"doc_id": "a.txt"})} == {"a.txt"}
    assert {h.doc_id for h in r.search("chips", k=5, filters={"doc_id": ["a.txt", "c.txt"]})} == {"a.txt", "c.txt"}
    assert r.search("chips", filters={"format": "pdf"}) == []


def test_batch_equals_single(kw_index):
    idx, emb = kw_index
    r = Retriever.load(idx, embedder=emb)
    qs = ["chips", "seoul", "factory korea"]
    assert r.search_batch(qs, k=2) == [r.search(q, k=2) for q in qs]


def test_bad_arguments_are_named(kw_index):
    idx, emb = kw_index
    r = Retriever.load(idx, embedder=emb)
    with pytest.raises(ConfigError, match="mode"):
        r.search("x", mode="fuzzy")
    with pytest.raises(ConfigError, match="k must"):
        r.search("x", k=0)


def test_refuses_an_index_built_with_another_embedder(kw_index):
    idx, _ = kw_index
    with pytest.raises(IndexMismatchError, match="embedder"):
        Retriever.load(idx, embedder=HashEmbedder(dimension=6))


def test_refresh_picks_up_a_new_generation(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    (d / "a.txt").write_text("Alpha about chips.")
    emb = HashEmbedder()
    ing = Ingestor(tmp_path / "idx", emb)
    ing.ingest([d])
    r = Retriever.load(tmp_path / "idx", embedder=emb)
    assert r.refresh() is False
    (d / "b.txt").write_text("Beta about the Seoul center.")
    ing.ingest([d])
    assert r.refresh() is True
    assert "b.txt" in {h.doc_id for h in r.search("Seoul center", k=2)}


def test_query_vectors_are_remembered_until_the_cache_is_cleared(kw_index):
    idx, emb = kw_index
    embedded: list[str] = []
    inner = emb.embed

    def counting(texts, **kw):
        embedded.extend(texts)
        return inner(texts, **kw)

    emb.embed = counting
    r = Retriever.load(idx, embedder=emb, mode="dense")
    first = r.search("chips", k=3)
    assert r.search("chips", k=3) == first and embedded == ["chips"]
    r.clear_query_cache()
    assert r.search("chips", k=3) == first and embedded == ["chips", "chips"]


def test_a_loaded_retriever_sees_documents_removed_by_another_process(tmp_path):
    """Issue 13, item 3: no request may answer from a generation that is no longer live."""
    import subprocess
    import sys

    from ingest.pipeline import Ingestor
    from rag import Answerer

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "x.txt").write_text("The quorvel plant makes 990,000 wafers a year.\n")
    (corpus / "y.txt").write_text("The morrow line packages chips in Seoul.\n")
    index = tmp_path / "index"
    Ingestor(index, HashEmbedder()).ingest([corpus])
    retriever = Retriever.load(index, embedder=HashEmbedder())
    answerer = Answerer(Retriever.load(index, embedder=HashEmbedder()), abstain_threshold=0.0)
    assert retriever.search("quorvel plant wafers")[0].doc_id == "x.txt"
    assert {d["doc_id"] for d in retriever.documents()} == {"x.txt", "y.txt"}

    worker = ("import sys; sys.path[:0] = [sys.argv[1]]\n"
              "from support import HashEmbedder\nfrom ingest.pipeline import Ingestor\n"
              "print(Ingestor(sys.argv[2], HashEmbedder()).remove(['x.txt']).removed)")
    done = subprocess.run([sys.executable, "-c", worker, str(Path(__file__).parents[1]), str(index)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert "x.txt" in done.stdout, done.stderr

    # No refresh() call, no page load: the next request sees the live generation.
    assert all(h.doc_id != "x.txt" for h in retriever.search("quorvel plant wafers", k=5))
    assert {d["doc_id"] for d in retriever.documents()} == {"y.txt"}
    ans = answerer.answer("How many wafers does the quorvel plant make?")
    assert all(c.doc_id != "x.txt" for c in ans.citations) and "990,000" not in ans.text
