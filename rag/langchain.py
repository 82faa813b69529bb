"""partnerqa's retrieval as a LangChain retriever: `PartnerQARetriever`, over either backend."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from langchain_core.callbacks import AsyncCallbackManagerForRetrieverRun, CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from ingest.embedder import Embedder
from ingest.settings import Settings

from .retriever import Retriever
from .types import Hit

__all__ = ["PartnerQARetriever", "hit_to_document"]


class PartnerQARetriever(BaseRetriever):
    """A `langchain_core` retriever over a partnerqa index (FAISS folder or Milvus).

    Each passage is a `Document` whose `page_content` is the chunk's text and whose metadata
    carries where it came from: `doc_id`, `title`, `page`, `start`/`end` (character offsets in the
    document's text, so `document_text(doc_id)[start:end] == page_content`), `chunk_id`, the fused
    `score`, each channel's `dense_score`/`dense_rank`/`bm25_score`/`bm25_rank`, and the
    document's provenance (`publisher`, `date`, `url`, `licence`, ... under `provenance`).

    Args:
        retriever: A loaded `rag.Retriever` (see `from_settings`).
        k: Passages returned (default: the retriever's).
        mode: hybrid, dense or keyword (default: the retriever's).
        filters: As `Retriever.search`: `{"doc_id": [...]}` or any metadata key.

    Example::

        retriever = PartnerQARetriever.from_settings(k=4)   # PARTNERQA_BACKEND, PARTNERQA_INDEX, ...
        docs = retriever.invoke("How many advanced chips were pledged?")
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    retriever: Any
    k: int | None = None
    mode: str | None = None
    filters: dict[str, Any] | None = None

    @classmethod
    def from_settings(cls, settings: Settings | None = None, *, index_dir: str | Path | None = None,
                      embedder: Embedder | None = None, **kwargs: Any) -> PartnerQARetriever:
        """Open the index `settings` names (backend, index folder or Milvus URI) and wrap it."""
        return cls(retriever=Retriever.load(index_dir, embedder=embedder, settings=settings), **kwargs)

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        hits = self.retriever.search(query, self.k, mode=self.mode, filters=self.filters)
        return [hit_to_document(h) for h in hits]

    async def _aget_relevant_documents(self, query: str, *,
                                       run_manager: AsyncCallbackManagerForRetrieverRun) -> list[Document]:
        # Searching embeds the query on the CPU and may call Milvus: a worker thread keeps the loop free.
        hits = await asyncio.to_thread(self.retriever.search, query, self.k, mode=self.mode, filters=self.filters)
        return [hit_to_document(h) for h in hits]


def hit_to_document(hit: Hit) -> Document:
    """A `Hit` as a LangChain `Document` (text, and provenance in the metadata)."""
    meta: Mapping[str, Any] = hit.metadata or {}
    return Document(
        page_content=hit.text,
        id=hit.chunk_id,
        metadata={
            "doc_id": hit.doc_id, "title": hit.title, "page": hit.page, "start": hit.start, "end": hit.end,
            "chunk_id": hit.chunk_id, "score": hit.score,
            "dense_score": hit.dense_score, "dense_rank": hit.dense_rank,
            "bm25_score": hit.bm25_score, "bm25_rank": hit.bm25_rank,
            "source": meta.get("source", hit.doc_id),
            "provenance": {k: v for k, v in meta.items() if k != "source"},
        },
    )
