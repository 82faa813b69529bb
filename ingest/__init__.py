"""Ingestion: load, clean, chunk and embed documents into an index folder."""

from .chunker import Chunker
from .embedder import Embedder, SentenceTransformerEmbedder, configure_threads
from .errors import IndexMismatchError, IndexNotFoundError, PartnerQAError, SkipFile
from .pipeline import Ingestor, IngestReport
from .settings import Settings
from .types import Chunk, Document

__all__ = [
    "Chunk", "Chunker", "Document", "Embedder", "IndexMismatchError", "IndexNotFoundError", "IngestReport",
    "Ingestor", "PartnerQAError", "SentenceTransformerEmbedder", "Settings", "SkipFile", "configure_threads",
]
