"""Sentence-aware chunking with overlap and exact character offsets."""

from __future__ import annotations

from .errors import ConfigError
from .text import sentence_spans
from .types import Chunk, Document


class Chunker:
    """Packs whole sentences into chunks of at most `chunk_size` characters.

    Consecutive chunks share up to `overlap` characters of whole sentences. A
    sentence longer than `chunk_size` is cut at whitespace. Pages are chunked
    independently, so a chunk never spans two pages. For every chunk,
    ``document.text[chunk.start:chunk.end] == chunk.text``.

    Args:
        chunk_size: Maximum characters in a chunk (~4 characters a token; 800
            keeps a chunk inside all-MiniLM-L6-v2's 256-token window).
        overlap: Characters of whole sentences repeated from the previous chunk.
    """

    def __init__(self, chunk_size: int = 800, overlap: int = 100) -> None:
        if chunk_size < 20:
            raise ConfigError(f"chunk_size must be >= 20, got {chunk_size!r}")
        if not 0 <= overlap < chunk_size:
            raise ConfigError(f"overlap must be in [0, chunk_size), got {overlap!r}")
        self.chunk_size = chunk_size
        self.overlap = overlap

    @property
    def config(self) -> dict[str, object]:
        return {"name": "sentence-packer", "version": 4, "chunk_size": self.chunk_size, "overlap": self.overlap}

    def split(self, doc: Document) -> list[Chunk]:
        """Chunk one document."""
        spans: list[tuple[int | None, int, int]] = []
        for page, start, end in doc.spans():
            spans.extend((page, s, e) for s, e in self._pack(doc.text, start, end))
        title = doc.title
        return [
            Chunk(f"{doc.doc_id}#{i}", doc.doc_id, doc.text[s:e], s, e, page, title)
            for i, (page, s, e) in enumerate(spans)
        ]

    def _units(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        """Sentences, with any sentence longer than chunk_size cut at whitespace."""
        units = []
        for s, e in sentence_spans(text, start, end):
            while e - s > self.chunk_size:
                cut = text.rfind(" ", s + 1, s + self.chunk_size + 1)
                if cut <= s:
                    cut = s + self.chunk_size
                piece_end = cut
                while piece_end > s and text[piece_end - 1].isspace():
                    piece_end -= 1
                units.append((s, piece_end))
                s = cut
                while s < e and text[s].isspace():
                    s += 1
            if e > s:
                units.append((s, e))
        return units

    def _pack(self, text: str, start: int, end: int) -> list[tuple[int, int]]:
        units = self._units(text, start, end)
        chunks: list[tuple[int, int]] = []
        i = 0
        while i < len(units):
            j = i
            while j + 1 < len(units) and units[j + 1][1] - units[i][0] <= self.chunk_size:
                j += 1
            chunks.append((units[i][0], units[j][1]))
            if j + 1 >= len(units):
                break
            # Next chunk starts with the trailing sentences that fit in `overlap`,
            # but always moves forward by at least one sentence.
            nxt = j + 1
            while nxt - 1 > i and units[j][1] - units[nxt - 1][0] <= self.overlap:
                nxt -= 1
            i = nxt
        return chunks
