"""Fuzzing: random and mutated files never crash a loader (only the documented `SkipFile`),
what loads is clean, and the chunker's invariants hold for any text.

Hypothesis keeps examples modest so the suite stays fast on two cores.
"""

from __future__ import annotations

import json
import re
import tempfile
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st
from hypothesis.control import currently_in_test_context
from support import HashEmbedder, check_index, make_pdf

from ingest.chunker import Chunker
from ingest.clean import clean
from ingest.errors import SkipFile
from ingest.loaders import join_pages, load_file, load_jsonl
from ingest.pipeline import Ingestor
from ingest.types import Document

FUZZ = settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
SUFFIXES = [".txt", ".pdf", ".html", ".md", ".docx", ".jsonl"]
_BAD_CHARS = re.compile(r"[\x00-\x09\x0b-\x1f\x7f\ud800-\udfff]")
_REF_MARK = re.compile(r"\[\d{1,3}\]")


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


def _check_docs(docs: list[Document]) -> None:
    """What every loader promises about a document it returns."""
    for d in docs:
        assert isinstance(d, Document) and d.doc_id and isinstance(d.doc_id, str)
        assert d.text and d.text == d.text.strip()
        assert not _BAD_CHARS.search(d.text), "control characters or lone surrogates in the text"
        d.text.encode("utf-8")
        d.doc_id.encode("utf-8")
        json.dumps(dict(d.metadata), ensure_ascii=False, default=str).encode("utf-8")
        last = -1
        for page, s, e in d.pages:
            assert last < s < e <= len(d.text), d.pages
            assert d.text[s:e] == d.text[s:e].strip() and d.text[s:e]
            last = e


def _load(path: Path) -> list[Document]:
    """Load any supported file the way the pipeline does; only SkipFile may escape."""
    try:
        if path.suffix == ".jsonl":
            docs, skipped = load_jsonl(path)
            assert all(isinstance(w, str) and isinstance(r, str) and "\n" not in r for w, r in skipped)
            assert len({d.doc_id for d in docs}) == len(docs)
        else:
            docs = load_file(path, path.name)
    except SkipFile as e:
        assert str(e) and "\n" not in str(e), repr(str(e))
        _event(f"{path.suffix} skipped: {str(e).split('(')[0].strip()}")
        return []
    _check_docs(docs)
    _event(f"{path.suffix} loaded {min(len(docs), 2)}+ docs" if docs else f"{path.suffix} no docs")
    return docs


def _event(what: str) -> None:
    """Counted in `--hypothesis-show-statistics`, to see that fuzzing reaches past the first check."""
    if currently_in_test_context():
        event(what)


def _check_chunks(doc: Document, chunks, size: int) -> None:
    covered = bytearray(len(doc.text))
    for c in chunks:
        assert doc.text[c.start : c.end] == c.text
        assert 0 < c.end - c.start <= size
        assert c.text == c.text.strip()
        if doc.pages:
            assert any(p == c.page and s <= c.start and c.end <= e for p, s, e in doc.pages)
        covered[c.start : c.end] = b"\x01" * (c.end - c.start)
    for m in _REF_MARK.finditer(doc.text):  # reference marks after a stop are left out on purpose
        covered[m.start() : m.end()] = b"\x01" * (m.end() - m.start())
    missing = [i for i, ch in enumerate(doc.text) if not covered[i] and not ch.isspace()]
    assert not missing, f"not covered: {[doc.text[i] for i in missing[:10]]} at {missing[:10]}"
    starts = [c.start for c in chunks]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)


# -- loaders -------------------------------------------------------------------------------------------


@FUZZ
@given(data=st.binary(max_size=4096), suffix=st.sampled_from(SUFFIXES))
def test_random_bytes_in_any_format(scratch, data, suffix):
    path = scratch / f"random{suffix}"
    path.write_bytes(data)
    _load(path)


@cache
def _seed_files() -> dict[str, bytes]:
    import docx

    tmp = Path(tempfile.mkdtemp(prefix="fuzz-seeds-"))
    make_pdf(
        tmp / "s.pdf",
        ["Seed page one about wafers. It has two sentences.", "", "Page three about memory."],
        title="Seed",
    )
    d = docx.Document()
    d.core_properties.title = "Seed memo"
    d.add_paragraph("First paragraph about the fab.")
    t = d.add_table(rows=1, cols=2)
    t.cell(0, 0).text, t.cell(0, 1).text = "chips", "260,000"
    d.save(str(tmp / "s.docx"))
    return {".pdf": (tmp / "s.pdf").read_bytes(), ".docx": (tmp / "s.docx").read_bytes()}


MUTATIONS = st.lists(
    st.tuples(
        st.floats(0, 1, exclude_max=True),
        st.sampled_from(["flip", "insert", "delete", "truncate"]),
        st.binary(min_size=1, max_size=16),
    ),
    min_size=1,
    max_size=6,
)


def _mutate(data: bytes, mutations) -> bytes:
    buf = bytearray(data)
    for where, op, chunk in mutations:
        if not buf:
            break
        i = int(where * len(buf))
        if op == "flip":
            buf[i : i + len(chunk)] = bytes(b ^ c for b, c in zip(buf[i : i + len(chunk)], chunk))
        elif op == "insert":
            buf[i:i] = chunk
        elif op == "delete":
            del buf[i : i + len(chunk) * 8]
        else:
            del buf[i:]
    return bytes(buf)


@FUZZ
@given(suffix=st.sampled_from([".pdf", ".docx"]), mutations=MUTATIONS)
def test_mutated_pdf_and_docx(scratch, suffix, mutations):
    path = scratch / f"mutated{suffix}"
    path.write_bytes(_mutate(_seed_files()[suffix], mutations))
    _load(path)


def test_unmutated_seeds_load():
    with tempfile.TemporaryDirectory() as tmp:
        for suffix, data in _seed_files().items():
            path = Path(tmp) / f"seed{suffix}"
            path.write_bytes(data)
            assert len(_load(path)) == 1


HTML_TOKENS = [
    "<p>",
    "</p>",
    "<script>",
    "</script>",
    "<style>",
    "</style>",
    "<!--",
    "-->",
    "<![",
    "[",
    "]",
    ">",
    "<",
    "&amp;",
    "&#0;",
    "&#xd800;",
    "&#x1F600;",
    "data:image/png;base64," + "QUFB" * 60,
    "text",
    " ",
    "\n",
    "\x00",
    "é",
    "<title>",
    "</title>",
    '<meta name="author" content="a\x00b">',
    "<svg>",
    "<![CDATA[",
    "]]>",
    "<!DOCTYPE html>",
    "<?xml version='1.0'?>",
    "<a href='x'>",
    "</a>",
    "<div",
    "=",
    "'",
    '"',
    "<br/>",
    "<nav>",
    "<head>",
    "</body>",
]
MD_TOKENS = [
    "# ",
    "## ",
    "---\n",
    "title: T\n",
    "[",
    "]",
    "(",
    ")",
    "![",
    "](",
    "**",
    "__",
    "`",
    "```",
    "<",
    ">",
    "<script>",
    "</script>",
    "<img src='data:image/png;base64," + "QUFB" * 60 + "'>",
    "http://x.y",
    "\n",
    "\n\n",
    " ",
    "word",
    "Mr. ",
    "A. ",
    "ü名",
    "\r\n",
    "\t",
]
TEXT_TOKENS = [
    "TITLE: ",
    "DATE (ISO: y): ",
    "----- BEGIN TEXT -----",
    "----- END TEXT -----",
    "\n",
    " " * 40,
    "\t",
    "Word",
    ". ",
    "! ",
    "? ",
    "\u2026 ",
    '"',
    "\u201d",
    ")",
    "[1]",
    "[23]",
    "Mr.",
    "U.S.",
    "e.g.",
    "A.",
    "\x00",
    "\x0c",
    "\u2028",
    "\u00a0",
    "\ufeff",
    "Subscribe to our newsletter",
    "Related articles",
    "caf\u00e9",
    "\U0001f600",
    "\u0301",
]


def _token_text(tokens):
    return st.lists(st.one_of(st.sampled_from(tokens), st.text(max_size=6)), max_size=80).map("".join)


@FUZZ
@given(text=_token_text(HTML_TOKENS))
def test_html_soup(scratch, text):
    path = scratch / "soup.html"
    path.write_text(text, encoding="utf-8")
    for d in _load(path):
        assert "QUFBQUFB" not in d.text


@FUZZ
@given(text=_token_text(MD_TOKENS))
def test_markdown_soup(scratch, text):
    path = scratch / "soup.md"
    path.write_text(text, encoding="utf-8", newline="")
    for d in _load(path):
        assert "QUFBQUFB" not in d.text


@FUZZ
@given(text=_token_text(TEXT_TOKENS), encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
def test_text_soup_in_several_encodings(scratch, text, encoding):
    data = text.encode(encoding, errors="ignore")
    path = scratch / "soup.txt"
    path.write_bytes(data)
    _load(path)


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
JSONL_ROWS = st.one_of(
    st.fixed_dictionaries(
        {
            "doc_id": st.one_of(st.text(max_size=6), st.integers(), st.none()),
            "text": st.one_of(st.text(max_size=60), st.none(), st.integers()),
        },
        optional={"title": JSON_VALUES, "url": st.text(max_size=10)},
    ).map(json.dumps),
    JSON_VALUES.map(json.dumps),
    st.sampled_from(
        [
            '{"doc_id": "s\\ud800", "text": "x\\udfff y"}',
            "{",
            "[" * 5000 + "]" * 5000,
            "\x00" * 40,
            "",
            '{"doc_id": "a", "text": "dup"}',
        ]
    ),
    st.binary(max_size=40).map(lambda b: b.decode("latin-1")),
)


@FUZZ
@given(rows=st.lists(JSONL_ROWS, max_size=12))
def test_jsonl_lines(scratch, rows):
    path = scratch / "lines.jsonl"
    path.write_text("\n".join(rows), encoding="utf-8", errors="surrogatepass")
    _load(path)


# -- clean + chunker -------------------------------------------------------------------------------------

ANY_TEXT = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=1500),  # every code point, lone surrogates included
    _token_text(TEXT_TOKENS),
)


@settings(max_examples=150, deadline=None)
@given(text=ANY_TEXT, size=st.integers(20, 400), overlap_frac=st.floats(0, 0.9), boilerplate=st.booleans())
def test_clean_then_chunk_keeps_the_invariants(text, size, overlap_frac, boilerplate):
    cleaned = clean(text, boilerplate=boilerplate)
    assert not _BAD_CHARS.search(cleaned) and cleaned == cleaned.strip()
    cleaned.encode("utf-8")
    assert clean(cleaned, boilerplate=boilerplate) == cleaned, "clean is idempotent"
    doc = Document("d", cleaned)
    chunker = Chunker(size, min(size - 1, int(size * overlap_frac)))
    _check_chunks(doc, chunker.split(doc), size)


@settings(max_examples=100, deadline=None)
@given(text=st.text(st.characters(exclude_categories=()), max_size=1500), size=st.integers(20, 300))
def test_chunker_invariants_hold_on_raw_text(text, size):
    """The chunker promises its invariants for any text, cleaned or not."""
    doc = Document("d", text)
    _check_chunks(doc, Chunker(size, size // 4).split(doc), size)


@settings(max_examples=60, deadline=None)
@given(pages=st.lists(ANY_TEXT, min_size=1, max_size=5), size=st.integers(20, 200))
def test_paged_documents_chunk_within_pages(scratch, pages, size):
    text, spans = join_pages(pages)
    assume(spans)
    doc = Document("d", text, pages=spans)
    _check_docs([doc])
    _check_chunks(doc, Chunker(size, size // 5).split(doc), size)


# -- the whole pipeline --------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    files=st.lists(
        st.tuples(
            st.sampled_from(SUFFIXES), st.one_of(st.binary(max_size=600), _token_text(TEXT_TOKENS).map(str.encode))
        ),
        min_size=1,
        max_size=6,
    )
)
def test_pipeline_accounts_for_every_random_file(files):
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "corpus"
        root.mkdir()
        names = []
        for i, (suffix, data) in enumerate(files):
            name = f"f{i}{suffix}"
            (root / name).write_bytes(data)
            names.append(name)
        report = Ingestor(Path(tmp) / "index", HashEmbedder()).ingest([root])
        reported = set(report.added) | {n.split(":")[0] for n, _ in report.skipped}
        for name in names:
            if not name.endswith(".jsonl"):  # a JSONL file adds its rows' ids, not its name
                assert name in reported, (name, report.summary())
        if report.added:
            check_index(Path(tmp) / "index")


def test_clean_is_idempotent_when_a_control_character_separates_a_combining_mark():
    # Found by test_clean_then_chunk_keeps_the_invariants: NFC ran before controls were removed.
    assert clean("A\x1f\u0300", boilerplate=False) == "\u00c0"
