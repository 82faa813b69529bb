"""In-context sentence vectors: pooled at ingest from the pass that embeds each chunk, stored with the
index, read by the answerer instead of embedding the candidate sentences of every question."""

from __future__ import annotations

import numpy as np
import pytest
from support import HashEmbedder, SentenceHashEmbedder

from ingest.embedder import pool_spans
from ingest.pipeline import Ingestor
from ingest.store import SentenceVectors, load_snapshot
from ingest.text import sentence_spans

DOCS = {
    "a.txt": "Nvidia will supply about 260,000 advanced chips to Korea. The chips arrive over several years. "
             "Officials met in Seoul on Friday.",
    "b.txt": "The AI factory is built on the Vera Rubin platform. Samsung and SK Hynix supply memory.",
}


def _folder(tmp_path, docs=DOCS):
    d = tmp_path / "docs"
    d.mkdir(exist_ok=True)
    for name, text in docs.items():
        (d / name).write_text(text)
    return d


def test_pool_spans_pools_each_span_and_leaves_zero_rows_where_the_model_read_nothing():
    tokens = np.array([[9, 9], [1, 0], [0, 1], [1, 1], [0, 0]], dtype=np.float32)  # [CLS] a b c [SEP]
    offsets = np.array([[0, 0], [0, 1], [2, 3], [4, 5], [0, 0]])
    got = pool_spans(tokens, offsets, 5, [(0, 1), (2, 5), (6, 9)], truncated=False)
    assert np.allclose(got[0], [1, 0])
    assert np.allclose(got[1], np.array([1, 2]) / np.sqrt(5))  # mean of b and c, unit length; no special token
    assert not got[2].any()  # no token inside the span
    cut = pool_spans(tokens, offsets, 5, [(0, 3), (4, 7)], truncated=True)
    assert cut[0].any() and not cut[1].any()  # runs past the last token the model kept


def test_ingest_stores_every_chunks_sentences_with_their_vectors(tmp_path):
    emb = SentenceHashEmbedder()
    Ingestor(tmp_path / "idx", emb).ingest([_folder(tmp_path)])
    snap = load_snapshot(tmp_path / "idx")
    assert snap.sentences is not None and snap.manifest["sentences"]["count"] == len(snap.sentences.spans)
    for row, chunk in enumerate(snap.chunks):
        spans, vecs = snap.sentences.of_chunk(row)
        assert [tuple(map(int, s)) for s in spans] == sentence_spans(chunk.text)
        want = HashEmbedder.embed(emb, [chunk.text[a:b] for a, b in spans])
        assert np.allclose(np.asarray(vecs, np.float32), want, atol=2e-3)  # stored as float16


def test_unchanged_documents_keep_their_sentence_vectors_and_only_new_chunks_are_embedded(tmp_path):
    emb = SentenceHashEmbedder()
    ing = Ingestor(tmp_path / "idx", emb)
    folder = _folder(tmp_path)
    ing.ingest([folder])
    before = load_snapshot(tmp_path / "idx")
    kept = {c.chunk_id: np.array(before.sentences.of_chunk(r)[1]) for r, c in enumerate(before.chunks)}
    emb.sentence_texts.clear()
    _folder(tmp_path, {"c.txt": "A new report on physical AI. Robots learn in simulation first."})
    ing.ingest([folder])
    after = load_snapshot(tmp_path / "idx")
    assert emb.sentence_texts and all("physical AI" in t or "Robots" in t for t in emb.sentence_texts)
    for r, c in enumerate(after.chunks):
        spans, vecs = after.sentences.of_chunk(r)
        assert len(spans) == len(sentence_spans(c.text))
        if c.chunk_id in kept:
            assert np.array_equal(np.array(vecs), kept[c.chunk_id])


def test_an_embedder_without_sentence_vectors_writes_none(tmp_path):
    Ingestor(tmp_path / "idx", HashEmbedder()).ingest([_folder(tmp_path)])
    snap = load_snapshot(tmp_path / "idx")
    assert snap.sentences is None and "sentences" not in snap.manifest


def test_sentence_vectors_that_do_not_match_the_chunks_are_refused():
    rows = [(np.array([[0, 5]], np.int32), np.ones((1, 4), np.float16))]
    sv = SentenceVectors.from_rows(rows, 4)
    assert sv.n_chunks == 1 and sv.of_chunk(0)[0].tolist() == [[0, 5]]
    with pytest.raises(ValueError, match="spans but"):
        SentenceVectors.from_rows([(np.array([[0, 5]], np.int32), np.ones((2, 4), np.float16))], 4)


def _answer_with(index, emb):
    from rag.answer import Answerer
    from rag.retriever import Retriever

    ans = Answerer(Retriever.load(index, embedder=emb, k=4), k=4)
    emb.embedded.clear()
    a = ans.answer("How many advanced chips will Nvidia supply to Korea?")
    return a, list(emb.embedded)


def test_the_answerer_reads_stored_sentence_vectors_instead_of_embedding_sentences(tmp_path):
    emb = SentenceHashEmbedder()
    Ingestor(tmp_path / "idx", emb).ingest([_folder(tmp_path)])
    a, embedded = _answer_with(tmp_path / "idx", emb)
    assert a.hits and embedded == [a.retrieval_query]  # the question only: no sentence was embedded
    # The same index without its stored vectors (as Milvus or an older index gives it): sentences are embedded.
    from rag.answer import Answerer
    from rag.retriever import Retriever

    retr = Retriever.load(tmp_path / "idx", embedder=emb, k=4)
    retr.snapshot.sentences = None
    ans = Answerer(retr, k=4)
    emb.embedded.clear()
    b = ans.answer("How many advanced chips will Nvidia supply to Korea?")
    assert len(emb.embedded) > 1 and any("260,000" in t for t in emb.embedded)
    assert b.text == a.text  # the fake's stored vectors are the sentences' own: the same answer


@pytest.mark.model
@pytest.mark.parametrize("encoder", ["torch", "onnx"])
def test_real_encoders_give_the_chunk_vectors_of_embed_and_the_same_sentence_vectors(encoder, tmp_path):
    from ingest.embedder import make_embedder

    texts = [DOCS["a.txt"], DOCS["b.txt"], "Short."]
    spans = [sentence_spans(t) for t in texts]
    emb = make_embedder(encoder=encoder, cache_dir=tmp_path / "cache" if encoder != "torch" else None)
    vecs, sents = emb.embed_sentences(texts, spans)
    assert np.allclose(vecs, emb.embed(texts), atol=1e-5)
    ref_vecs, ref_sents = make_embedder(encoder="torch").embed_sentences(texts, spans)
    assert np.allclose(ref_vecs, vecs, atol=1e-5)
    for got, ref, sp in zip(sents, ref_sents, spans):
        assert got.shape == (len(sp), emb.dimension)
        assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
        assert (got * ref).sum(axis=1).min() > 0.9999
    # In context, not alone: a sentence's pooled vector is nearer to that sentence embedded on its own than to
    # any sentence of the other document, yet not equal to it (its chunk's other sentences shaped it).
    alone = emb.embed([t[a:b] for t, sp in zip(texts[:2], spans[:2]) for a, b in sp])
    pooled = np.vstack(sents[:2])
    cos = pooled @ alone.T
    doc = np.array([i for i, sp in enumerate(spans[:2]) for _ in sp])
    for i in range(len(pooled)):
        assert cos[i, i] > cos[i, doc != doc[i]].max()
    assert np.diag(cos).max() < 0.9999


def test_an_index_written_without_sentence_vectors_gets_them_on_its_next_ingest(tmp_path):
    folder = _folder(tmp_path)
    Ingestor(tmp_path / "idx", HashEmbedder(name="sentence-hash-embedder")).ingest([folder])
    assert load_snapshot(tmp_path / "idx").sentences is None
    emb = SentenceHashEmbedder()  # the same fingerprint, now giving sentence vectors
    report = Ingestor(tmp_path / "idx", emb).ingest([folder])
    snap = load_snapshot(tmp_path / "idx")
    assert sorted(report.unchanged) == sorted(DOCS) and not report.added and not report.updated
    assert snap.sentences is not None
    assert all(len(snap.sentences.of_chunk(r)[0]) == len(sentence_spans(c.text)) for r, c in enumerate(snap.chunks))
    emb.sentence_texts.clear()
    again = Ingestor(tmp_path / "idx", emb).ingest([folder])
    assert emb.sentence_texts == [] and again.generation == report.generation  # nothing left to do


def test_adding_sentence_vectors_keeps_the_multilingual_vectors_without_embedding_them_again(tmp_path):
    from ingest.multilingual import CHANNEL

    folder = _folder(tmp_path)
    ml = SentenceHashEmbedder(dimension=32)  # stands in for e5: counts what it embeds
    Ingestor(tmp_path / "idx", HashEmbedder(name="sentence-hash-embedder"), multilingual=ml,
             multilingual_max_chunks=None).ingest([folder])
    before = load_snapshot(tmp_path / "idx")
    old = {c.chunk_id: before.channel_vectors(CHANNEL, np.array([r]))[0] for r, c in enumerate(before.chunks)}
    ml.embedded.clear()
    _folder(tmp_path, {"c.txt": "A new report on physical AI. Robots learn in simulation first."})
    Ingestor(tmp_path / "idx", SentenceHashEmbedder(), multilingual=ml, multilingual_max_chunks=None).ingest([folder])
    after = load_snapshot(tmp_path / "idx")
    assert after.sentences is not None
    assert ml.embedded and all("physical AI" in t or "Robots" in t for t in ml.embedded)  # only the new document
    for r, c in enumerate(after.chunks):
        if c.chunk_id in old:
            assert np.allclose(after.channel_vectors(CHANNEL, np.array([r]))[0], old[c.chunk_id])


def test_with_stored_vectors_more_candidates_are_scored_than_are_ever_embedded(tmp_path):
    from rag.answer import MAX_EMBED, MAX_STORED, Answerer
    from rag.retriever import Retriever

    text = " ".join(f"Chip shipment number {i} left port {i} on time." for i in range(40))
    emb = SentenceHashEmbedder()
    Ingestor(tmp_path / "idx", emb).ingest([_folder(tmp_path, {"many.txt": text})])
    retr = Retriever.load(tmp_path / "idx", embedder=emb, k=8)
    ans = Answerer(retr, k=8)
    turn, hits = ans.retrieve("Which chip shipment left port on time?")
    assert len(ans.score_candidates(turn, hits)[0]) == MAX_STORED
    retr.snapshot.sentences = None  # the same index without them: only what is embedded is scored
    assert len(Answerer(retr, k=8).score_candidates(turn, hits)[0]) == MAX_EMBED < MAX_STORED


def test_removing_a_document_or_editing_its_provenance_keeps_the_others_sentence_vectors(tmp_path):
    from ingest.provenance import edit_provenance

    emb = SentenceHashEmbedder()
    ing = Ingestor(tmp_path / "idx", emb)
    ing.ingest([_folder(tmp_path)])
    before = load_snapshot(tmp_path / "idx")
    old = {c.chunk_id: np.array(before.sentences.of_chunk(r)[1]) for r, c in enumerate(before.chunks)}
    edit_provenance(ing, "b.txt", {"title": "The AI factory"})
    edited = load_snapshot(tmp_path / "idx")
    assert edited.sentences is not None and edited.generation != before.generation
    ing.remove(["a.txt"])
    after = load_snapshot(tmp_path / "idx")
    assert after.sentences is not None and {c.doc_id for c in after.chunks} == {"b.txt"}
    for r, c in enumerate(after.chunks):
        assert np.array_equal(np.array(after.sentences.of_chunk(r)[1]), old[c.chunk_id])
    emb.sentence_texts.clear()
    ing.ingest([tmp_path / "docs"])  # a.txt comes back: only its chunks are embedded, nothing is refreshed
    assert emb.sentence_texts and all("Nvidia" in t or "Officials" in t or "chips" in t for t in emb.sentence_texts)
