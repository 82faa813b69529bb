"""rag.langchain.PartnerQARetriever: a LangChain retriever over either backend, inside an LCEL chain."""

from __future__ import annotations

import asyncio

import pytest
from langchain_core.documents import Document
from langchain_core.output_parsers import StrOutputParser
from langchain_core.prompts import ChatPromptTemplate
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda, RunnablePassthrough
from support import KeywordEmbedder

from ingest.backend import open_store
from ingest.pipeline import Ingestor
from ingest.settings import Settings
from rag.langchain import PartnerQARetriever

VOCAB = ["chips", "korea", "seoul", "center", "factory"]


@pytest.fixture(params=["faiss", pytest.param("milvus", marks=pytest.mark.milvus)])
def settings(request, tmp_path) -> Settings:
    if request.param == "milvus":
        pytest.importorskip("pymilvus", reason="needs the milvus extra: pip install -e '.[milvus]'")
        pytest.importorskip("milvus_lite", reason="needs the milvus extra: pip install -e '.[milvus]'")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("Nvidia supplies chips to Korea.\n\nKorea builds a factory.", encoding="utf-8")
    (docs / "a.txt.meta.json").write_text('{"title": "Chips deal", "publisher": "Example Press", '
                                          '"url": "https://example.org/a"}', encoding="utf-8")
    (docs / "b.txt").write_text("Seoul hosts a data center.", encoding="utf-8")
    s = Settings(index=tmp_path / "idx", backend=request.param)
    Ingestor(s.index, KeywordEmbedder(VOCAB), store=open_store(s)).ingest([docs])
    return s


def test_documents_carry_offsets_scores_and_provenance(settings):
    r = PartnerQARetriever.from_settings(settings, embedder=KeywordEmbedder(VOCAB), k=2)
    assert isinstance(r, BaseRetriever)
    docs = r.invoke("chips korea")
    assert [d.metadata["doc_id"] for d in docs] == ["a.txt", "b.txt"]
    top = docs[0]
    meta = top.metadata
    text = r.retriever.document_text("a.txt")
    assert text[meta["start"]:meta["end"]] == top.page_content and "chips" in top.page_content
    assert meta["title"] == "Chips deal" and meta["chunk_id"] == top.id
    assert meta["provenance"]["publisher"] == "Example Press" and meta["provenance"]["url"] == "https://example.org/a"
    assert meta["score"] > 0 and meta["dense_rank"] == 1 and meta["bm25_rank"] == 1 and meta["bm25_score"] > 0
    only_b = PartnerQARetriever(retriever=r.retriever, filters={"doc_id": "b.txt"}, mode="dense")
    assert [d.metadata["doc_id"] for d in only_b.invoke("chips")] == ["b.txt"]


def test_inside_an_lcel_chain_sync_and_async(settings):
    r = PartnerQARetriever.from_settings(settings, embedder=KeywordEmbedder(VOCAB), k=1)
    prompt = ChatPromptTemplate.from_template("Context:\n{context}\n\nQuestion: {question}")

    def fmt(docs: list[Document]) -> str:
        return "\n".join(f"[{d.metadata['doc_id']}:{d.metadata['start']}] {d.page_content}" for d in docs)

    # The "model" echoes its prompt, so the chain's output shows what the retriever fed it.
    echo = RunnableLambda(lambda p: p.to_string())
    chain = {"context": r | fmt, "question": RunnablePassthrough()} | prompt | echo | StrOutputParser()
    out = chain.invoke("Which city hosts a data center?")
    assert "[b.txt:0] Seoul hosts a data center." in out and "Question: Which city hosts" in out
    out_async = asyncio.run(chain.ainvoke("Which city hosts a data center?"))
    assert out_async == out
    batch = asyncio.run(r.abatch(["seoul center", "factory"]))
    assert [[d.metadata["doc_id"] for d in docs] for docs in batch] == [["b.txt"], ["a.txt"]]
