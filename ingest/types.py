"""What ingestion produces: documents with provenance, and chunks with exact offsets."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Provenance keys every citation can show; loaders fill what they know.
PROVENANCE_KEYS = ("title", "publisher", "date", "url", "licence", "completeness")


@dataclass(frozen=True)
class Document:
    """A loaded, cleaned document.

    Attributes:
        doc_id: Path relative to the ingested root, or the JSONL `doc_id`.
        text: The cleaned text that chunks and citations slice into.
        pages: (page number, start, end) spans of `text` for paged formats (PDF);
            empty for unpaged ones.
        metadata: Provenance (`title`, `publisher`, `date`, `url`, `licence`, ...)
            plus `format` and `source` (the file it came from).
        warnings: Things worth reporting that did not stop the load.
    """

    doc_id: str
    text: str
    pages: tuple[tuple[int, int, int], ...] = ()
    metadata: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        return str(self.metadata.get("title") or self.doc_id)

    @property
    def content_hash(self) -> str:
        """Changes when the text, the page layout or the provenance change."""
        h = hashlib.sha256(self.text.encode("utf-8"))
        meta = {k: v for k, v in self.metadata.items() if k not in ("source",)}
        h.update(json.dumps([self.pages, meta], sort_keys=True, default=str).encode("utf-8"))
        return h.hexdigest()

    def spans(self) -> list[tuple[int | None, int, int]]:
        """(page, start, end) spans to chunk independently: pages, or the whole text."""
        if self.pages:
            return [(p, s, e) for p, s, e in self.pages]
        return [(None, 0, len(self.text))]


@dataclass(frozen=True)
class Chunk:
    """A piece of a document: ``document.text[start:end] == text``."""

    chunk_id: str
    doc_id: str
    text: str
    start: int
    end: int
    page: int | None
    title: str

    def to_record(self) -> dict[str, Any]:
        return {
            "chunk_id": self.chunk_id,
            "doc_id": self.doc_id,
            "title": self.title,
            "page": self.page,
            "start": self.start,
            "end": self.end,
            "text": self.text,
        }

    @classmethod
    def from_record(cls, r: Mapping[str, Any]) -> Chunk:
        return cls(r["chunk_id"], r["doc_id"], r["text"], int(r["start"]), int(r["end"]), r.get("page"), r.get("title", ""))
