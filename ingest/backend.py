"""The storage seam: what ingest writes and retrieval reads, on FAISS files (default) or Milvus."""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .settings import BACKENDS, Settings
from .store import (
    DocRecord,
    IndexSnapshot,
    SentenceVectors,
    current_generation,
    exists,
    load_snapshot,
    write_generation,
    writer_lock,
)
from .types import Chunk

__all__ = ["BACKENDS", "FaissStore", "Store", "open_store"]


@runtime_checkable
class Store(Protocol):
    """Where an index lives.

    A store holds one live generation: documents (text, pages, provenance, content hash),
    chunks with their offsets, their unit vectors, a keyword channel over the chunk texts and a
    manifest (embedder fingerprint, chunker, document hashes). `load` returns an object with
    `IndexSnapshot`'s reading surface (`docs`, `chunks`, `manifest`, `generation`, `bm25`,
    `rows_of`, `row_of`, `vectors`, `channel_info`, `channel_vectors`, `dimension`); a backend that searches
    itself adds `search_dense(vecs, n, doc_ids)` and `search_keyword(queries, n, doc_ids)` to it.
    `write` replaces the live generation by the one given (a backend may apply only the
    difference: documents removed, changed and added, by content hash). A store whose
    `keeps_vectors` is true keeps the vectors of documents whose content hash did not change, and
    its `write` ignores their rows (the ingest then does not read them back). `sentences`, the
    chunks' in-context sentence vectors, may be dropped by a backend (the answerer then embeds the
    sentences it reads); the snapshot's `sentences` is None there.
    """

    backend: str
    location: str
    keeps_vectors: bool

    def exists(self) -> bool: ...

    def current_generation(self) -> str | None: ...

    def lock(self) -> AbstractContextManager[None]: ...

    def load(self, embedder_fingerprint: str | None = None) -> Any: ...

    def write(self, manifest: Mapping[str, Any], docs: list[DocRecord], chunks: list[Chunk], vectors: np.ndarray,
              exact_max: int, channels: Mapping[str, tuple[Mapping[str, Any], np.ndarray]] | None = None,
              sentences: SentenceVectors | None = None) -> str: ...


class FaissStore:
    """The default store: the generation folder of `ingest/store.py` (format unchanged)."""

    backend = "faiss"
    keeps_vectors = False

    def __init__(self, index_dir: str | Path) -> None:
        self.index_dir = Path(index_dir)
        self.location = str(self.index_dir)

    def exists(self) -> bool:
        return exists(self.index_dir)

    def current_generation(self) -> str | None:
        return current_generation(self.index_dir)

    def lock(self) -> AbstractContextManager[None]:
        return writer_lock(self.index_dir)

    def load(self, embedder_fingerprint: str | None = None) -> IndexSnapshot:
        return load_snapshot(self.index_dir, embedder_fingerprint=embedder_fingerprint)

    def write(self, manifest: Mapping[str, Any], docs: list[DocRecord], chunks: list[Chunk], vectors: np.ndarray,
              exact_max: int, channels: Mapping[str, tuple[Mapping[str, Any], np.ndarray]] | None = None,
              sentences: SentenceVectors | None = None) -> str:
        return write_generation(self.index_dir, manifest, docs, chunks, vectors, exact_max, channels, sentences)


def open_store(settings: Settings, index_dir: str | Path | None = None) -> Store:
    """The store `settings.backend` names; `index_dir` overrides `settings.index`.

    Milvus: `settings.milvus_uri` (a file path is Milvus Lite in-process; empty: `milvus.db` in the
    index folder), `milvus_token`, and collections named `settings.milvus_prefix` + `_chunks`, `_docs`.
    """
    index_dir = Path(index_dir) if index_dir is not None else settings.index
    if settings.backend == "milvus":
        from .milvus_store import MilvusStore

        return MilvusStore(settings.milvus_uri or str(index_dir / "milvus.db"), token=settings.milvus_token,
                           prefix=settings.milvus_prefix)
    return FaissStore(index_dir)
