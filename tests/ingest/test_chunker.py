"""The chunker's invariants: exact offsets, coverage, size, sentence boundaries."""

from __future__ import annotations

import itertools
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.chunker import Chunker
from ingest.errors import ConfigError
from ingest.types import Document

WORDS = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=0, max_size=12)
SENTENCE_TEXT = st.lists(
    st.tuples(st.lists(WORDS, min_size=1, max_size=30), st.sampled_from([". ", "! ", "? ", "\n", "\n\n", " "])),
    max_size=40,
).map(lambda parts: "".join(" ".join(ws) + sep for ws, sep in parts))


def _check(doc: Document, chunks, size: int) -> None:
    covered = [False] * len(doc.text)
    for c in chunks:
        assert doc.text[c.start:c.end] == c.text
        assert c.end - c.start <= size
        assert c.text == c.text.strip() and c.text
        for i in range(c.start, c.end):
            covered[i] = True
    for i, ch in enumerate(doc.text):
        assert covered[i] or ch.isspace(), f"char {i} {ch!r} not covered"
    starts = [c.start for c in chunks]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)


@settings(max_examples=150, deadline=None)
@given(text=SENTENCE_TEXT, size=st.integers(20, 400), overlap_frac=st.floats(0, 0.45))
def test_offsets_slice_back_and_chunks_cover_the_text(text, size, overlap_frac):
    chunker = Chunker(size, int(size * overlap_frac))
    doc = Document("d", text)
    _check(doc, chunker.split(doc), size)


@settings(max_examples=60, deadline=None)
@given(pages=st.lists(SENTENCE_TEXT.filter(lambda t: t.strip()), min_size=1, max_size=4))
def test_chunks_never_span_pages(pages):
    pages = [p.strip() for p in pages]
    text, spans, pos = "", [], 0
    for i, p in enumerate(pages, 1):
        if text:
            text += "\n\n"
            pos += 2
        spans.append((i, pos, pos + len(p)))
        text += p
        pos += len(p)
    doc = Document("d", text, pages=tuple(spans))
    chunks = Chunker(120, 30).split(doc)
    _check(doc, chunks, 120)
    for c in chunks:
        page = next(p for p, s, e in spans if s <= c.start < e)
        assert c.page == page and c.end <= spans[page - 1][2]


def test_whole_sentences_and_overlap():
    sents = [f"Sentence number {i} says something." for i in range(12)]
    doc = Document("d", " ".join(sents))
    chunks = Chunker(120, 40).split(doc)
    assert len(chunks) > 2
    for c in chunks:
        assert re.fullmatch(r"(Sentence number \d+ says something\.\s?)+", c.text)
    for a, b in itertools.pairwise(chunks):
        assert b.start < a.end, "consecutive chunks share a sentence"


def test_long_sentence_is_cut_at_whitespace():
    doc = Document("d", "word " * 100)
    chunks = Chunker(50, 0).split(doc)
    assert all(len(c.text) <= 50 and not c.text.endswith("wor") for c in chunks)
    assert " ".join(c.text for c in chunks).split() == ["word"] * 100


def test_bad_settings_name_the_parameter():
    with pytest.raises(ConfigError, match="chunk_size"):
        Chunker(5)
    with pytest.raises(ConfigError, match="overlap"):
        Chunker(100, 100)
