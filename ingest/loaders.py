"""Loaders: one function per format, each turning a file into cleaned Documents.

A loader raises `SkipFile` with a one-line reason when a file cannot be used; the
pipeline reports it and carries on with the rest of the batch.
"""

from __future__ import annotations

import json
import logging
import re
import zipfile
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import IO, Any

from .clean import clean, fix_surrogates, has_visible_text, normalize
from .errors import SkipFile
from .types import Document

log = logging.getLogger(__name__)

SIDECAR_SUFFIX = ".meta.json"
_HEADER_BEGIN = "----- BEGIN TEXT -----"
_HEADER_END = "----- END TEXT -----"
# Possessive quantifiers: the key may end in spaces that `\s*` could also take, and the
# backtracking between the two was cubic on a long line of spaces. The key is stripped.
_HEADER_LINE = re.compile(r"^([A-Z][A-Z /_-]*+)(\([^)]*+\))?\s*+:\s*+(.*)$")
_HEADER_KEYS = {
    "TITLE": "title",
    "PUBLISHER": "publisher",
    "DATE": "date",
    "URL": "url",
    "LICENCE BASIS": "licence",
    "LICENSE BASIS": "licence",
    "LICENCE": "licence",
    "LICENSE": "licence",
    "COMPLETENESS": "completeness",
    "TEXT TAKEN FROM": "retrieved_from",
    "CHANGES MADE": "changes",
}


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13)) + b"\x7f"


def decode_text(data: bytes, *, bom: bool = True) -> str:
    """Bytes to text: BOMs honoured, UTF-8 first, then line by line cp1252/latin-1.

    Mixed-encoding files (UTF-8 lines beside cp1252 lines) keep both readable.
    `bom=False` for a later block of a file (its first bytes are not a BOM).
    """
    if bom and data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if bom and data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    if data.count(b"\x00") > max(16, len(data) // 10):
        raise SkipFile("looks binary (many NUL bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    # Not UTF-8: legacy-encoded text has next to no C0 control bytes, binary data (an
    # image renamed .txt) has about one in nine.
    controls = len(data) - len(data.translate(None, _CONTROL_BYTES))
    if len(data) >= 64 and controls > len(data) // 20:
        raise SkipFile("looks binary (control bytes, not text)")
    lines = []
    for raw in data.split(b"\n"):
        for enc in ("utf-8", "cp1252", "latin-1"):
            try:
                lines.append(raw.decode(enc))
                break
            except UnicodeDecodeError:
                continue
    return "\n".join(lines)


#: Bytes read at a time by the streaming readers.
READ_BLOCK = 1 << 20


def too_long(max_chars: int) -> str:
    """The one-line reason for a document over `max_chars`."""
    return (f"too long: more than {max_chars:,} characters of text (PARTNERQA_MAX_DOC_CHARS); "
            "split it or raise the limit")


def _blocks(fh: IO[bytes], size: int | None = None) -> Iterator[tuple[bool, bytes]]:
    """(first, block) pairs covering the file, each block about `size` bytes and ending after
    a line break where there is one, else never inside a UTF-8 sequence (so one long line is
    still read a block at a time)."""
    rest, first = b"", True
    size = size or READ_BLOCK
    while True:
        data = fh.read(size)
        if not data:
            if rest or first:
                yield first, rest
            return
        data = rest + data
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            cut = len(data)
            i = len(data) - 1
            while i > 0 and len(data) - i < 4 and data[i] & 0xC0 == 0x80:  # continuation bytes
                i -= 1
            if data[i] >= 0xC0:  # a lead byte whose sequence may be cut: keep it for the next block
                cut = i
        rest = data[cut:]
        if cut:
            yield first, data[:cut]
            first = False


def _decoded_blocks(path: Path) -> Iterator[str]:
    """`decode_text` of the file, a block at a time (UTF-16 files, rare, are decoded whole)."""
    with path.open("rb") as fh:
        if fh.read(2) in (b"\xff\xfe", b"\xfe\xff"):
            fh.seek(0)
            yield decode_text(fh.read())
            return
        fh.seek(0)
        for first, block in _blocks(fh):
            yield decode_text(block, bom=first)


class _CharBudget:
    """Counts the characters a document will have after cleaning, and stops a reader past `max_chars`."""

    def __init__(self, max_chars: int | None) -> None:
        self.max_chars = max_chars
        self.count = 0

    def add(self, raw: str) -> None:
        if self.max_chars is None:
            return
        self.count += len(normalize(raw))
        if self.count > self.max_chars:
            raise SkipFile(too_long(self.max_chars))


def read_text(path: Path, max_chars: int | None = None) -> str:
    """The decoded text of a file, read a block at a time.

    Raises:
        SkipFile: binary data, or more than `max_chars` characters once cleaned (reading
            stops there, so a huge file costs no more memory than the limit).
    """
    budget = _CharBudget(max_chars)
    parts = []
    for text in _decoded_blocks(path):
        budget.add(text)
        parts.append(text)
    return "".join(parts)


def split_header(text: str) -> tuple[dict[str, str], str]:
    """Parse the corpus header format: `KEY: value` lines, then the text between
    `----- BEGIN TEXT -----` and `----- END TEXT -----`. Text without it is returned as is."""
    begin = text.find(_HEADER_BEGIN)
    if begin < 0:
        return {}, text
    meta: dict[str, str] = {}
    for line in text[:begin].splitlines():
        m = _HEADER_LINE.match(line.strip())
        if m:
            key = m.group(1).strip().upper()
            meta[_HEADER_KEYS.get(key, key.lower().replace(" ", "_"))] = m.group(3).strip()
    body = text[begin + len(_HEADER_BEGIN) :]
    end = body.find(_HEADER_END)
    return meta, body if end < 0 else body[:end]


def _first_line_title(text: str) -> str:
    for line in text.splitlines():
        line = line.strip().lstrip("#").strip()
        if line:
            return line if len(line) <= 150 else ""
    return ""


def load_text(path: Path, max_chars: int | None = None) -> tuple[dict[str, Any], str, tuple]:
    meta, body = split_header(read_text(path, max_chars))
    return meta, body, ()


_MD_FRONT = re.compile(r"\A---\n(.*?)\n---\n", re.DOTALL)
# Link text and targets stop at the next bracket (a target may hold one level of
# parentheses), so a run of "[" or "](" is linear rather than quadratic.
_MD_TARGET = r"\((?:[^()\[\]]|\([^()\[\]]*\))*\)"
_MD_IMAGE = re.compile(r"!\[([^\[\]]*)\]" + _MD_TARGET)
_MD_LINK = re.compile(r"\[([^\[\]]+)\]" + _MD_TARGET)
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*", re.MULTILINE)
_MD_EMPH = re.compile(r"(\*\*|__|\*|`{1,3})")
# A tag starts with a name, "/" or "!", stays on one line and has no "<" inside; any
# length (a data: URI attribute can be megabytes).
_TAG = re.compile(r"<[A-Za-z/!][^<>\n]*>")
_MD_BLOCK_OPEN = re.compile(r"<(script|style)\b", re.IGNORECASE)


def load_markdown(path: Path, max_chars: int | None = None) -> tuple[dict[str, Any], str, tuple]:
    text = read_text(path, max_chars).replace("\r\n", "\n")
    meta: dict[str, Any] = {}
    m = _MD_FRONT.match(text)
    if m:
        for line in m.group(1).splitlines():
            if ":" in line:
                k, v = line.split(":", 1)
                meta[k.strip().lower()] = v.strip().strip("'\"")
        text = text[m.end() :]
    if "title" not in meta:
        for line in text.splitlines():
            if line.lstrip().startswith("# "):
                meta["title"] = line.lstrip()[2:].strip()
                break
    text = _drop_blocks(text)
    text = _TAG.sub("", text)
    text = _MD_IMAGE.sub(r"\1", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_HEADING.sub("", text)
    text = _MD_EMPH.sub("", text)
    return meta, text, ()


def _drop_blocks(text: str) -> str:
    """Remove <script>/<style> elements with their content.

    An opening tag with no closing tag after it is left for `_TAG` (its content is kept).
    A scan rather than one lazy regex, which rescanned to the end for every unclosed tag.
    """
    out, pos, unclosed = [], 0, set()
    while (m := _MD_BLOCK_OPEN.search(text, pos)) is not None:
        kind = m.group(1).lower()
        close = None if kind in unclosed else re.compile(rf"</{kind}\s*>", re.IGNORECASE).search(text, m.end())
        if close is None:
            unclosed.add(kind)  # no later one of this kind can close either
            out.append(text[pos : m.end()])
            pos = m.end()
            continue
        out.append(text[pos : m.start()])
        pos = close.end()
    out.append(text[pos:])
    return "".join(out)


_HTML_DROP = ("script", "style", "noscript", "template", "svg", "iframe", "object", "embed", "nav", "footer", "aside", "form", "head")


_HTML_META = {"og:title": "title", "author": "publisher", "og:site_name": "publisher", "date": "date"}


class _HtmlText(HTMLParser):
    """Visible text of an HTML page, fed a block at a time (memory follows the text kept, not the page).

    Text inside `_HTML_DROP` elements is left out, text nodes are joined with line breaks
    (as BeautifulSoup's `get_text("\\n")` did), comments are never text (an unterminated
    `<!--` hides everything after it, as browsers do), and the title and a few `<meta>`
    tags give the provenance.
    """

    def __init__(self, budget: _CharBudget) -> None:
        super().__init__(convert_charrefs=True)
        self.budget = budget
        self.parts: list[str] = []
        self._pending: list[str] = []
        self._dropped: dict[str, int] = {}
        self._title: list[str] | None = None
        self.title_parts: list[str] = []
        self.meta: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HTML_DROP:
            self._dropped[tag] = self._dropped.get(tag, 0) + 1
        if tag == "title" and not self.title_parts:
            self._title = []
        if tag == "meta":
            a = {k.lower(): v for k, v in attrs if v is not None}
            name = (a.get("property") or a.get("name") or "").lower()
            if name in _HTML_META and a.get("content") and name not in self.meta:
                self.meta[name] = a["content"]

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if self._dropped.get(tag):
            self._dropped[tag] -= 1
        if tag == "title" and self._title is not None:
            self.title_parts, self._title = self._title or [""], None

    def handle_data(self, data: str) -> None:
        if self._title is not None:
            self._title.append(data)
        if not any(self._dropped.values()):
            self._pending.append(data)

    def feed_block(self, block: str) -> None:
        self.feed(block)
        if self._pending:
            self.budget.add("\n".join(self._pending))
            self.parts += self._pending
            self._pending = []

    def finish(self) -> None:
        if self.rawdata.lstrip().startswith("<!--"):
            self.rawdata = ""  # an unterminated comment runs to the end of the page
        self.close()
        self.feed_block("")


def load_html(path: Path, max_chars: int | None = None) -> tuple[dict[str, Any], str, tuple]:
    parser = _HtmlText(_CharBudget(max_chars))
    try:
        for block in _decoded_blocks(path):
            parser.feed_block(block)
        parser.finish()
    except SkipFile:
        raise
    except (AssertionError, RecursionError, ValueError) as e:
        raise SkipFile(f"not parseable HTML ({type(e).__name__}: {_first_line(e)})") from None
    meta: dict[str, Any] = {}
    if len(parser.title_parts) == 1 and parser.title_parts[0].strip():
        meta["title"] = normalize(parser.title_parts[0])
    for name, key in _HTML_META.items():
        if key not in meta and parser.meta.get(name):
            meta[key] = normalize(parser.meta[name])[:300]
    return meta, "\n".join(parser.parts), ()


DOCX_MAX_EXPANDED_BYTES = 256 * 1024 * 1024


def _first_line(e: BaseException, limit: int = 120) -> str:
    """An exception's message cut to one line, for a one-line skip reason."""
    text = str(e).strip()
    return (text.splitlines()[0] if text else "")[:limit]


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_CORE_MAX_BYTES = 1 << 20


def load_docx(path: Path, max_chars: int | None = None) -> tuple[dict[str, Any], str, tuple]:
    """Paragraphs, then table rows as `cell | cell`, streamed from `word/document.xml`.

    The XML is parsed incrementally and each paragraph is dropped once read, so a 200 MB
    `document.xml` costs no more memory than the text kept (at most `max_chars`).
    """
    if not zipfile.is_zipfile(path):
        raise SkipFile("not a valid DOCX (not a zip archive)")
    try:
        with zipfile.ZipFile(path) as zf:
            # zipfile never inflates a member past its declared size, so the declared
            # sizes bound the work a zip bomb can cause.
            expanded = sum(i.file_size for i in zf.infolist())
            if expanded > DOCX_MAX_EXPANDED_BYTES:
                raise SkipFile(f"DOCX expands to {expanded / 1048576:.0f} MB (limit "
                               f"{DOCX_MAX_EXPANDED_BYTES / 1048576:.0f} MB; a zip bomb?)")
            if "word/document.xml" not in zf.namelist():
                raise SkipFile("not a readable DOCX (a zip without word/document.xml)")
            budget = _CharBudget(max_chars)
            with zf.open("word/document.xml") as fh:
                paragraphs, rows = _docx_body(fh, budget)
            meta = _docx_core(zf)
    except SkipFile:
        raise
    except Exception as e:  # noqa: BLE001 - zipfile and lxml raise many kinds on broken files
        raise SkipFile(f"not a readable DOCX ({type(e).__name__}: {_first_line(e)})") from None
    return meta, "\n".join(paragraphs + rows), ()


def _paragraph_text(p: Any) -> str:
    out = []
    for el in p.iter(_W + "t", _W + "tab", _W + "br", _W + "cr"):
        if el.tag == _W + "t":
            out.append(el.text or "")
        elif el.tag == _W + "tab":
            out.append("\t")
        else:
            out.append("\n")
    return "".join(out)


def _docx_body(fh: IO[bytes], budget: _CharBudget) -> tuple[list[str], list[str]]:
    from lxml import etree

    paragraphs: list[str] = []
    rows: list[str] = []
    tables = 0
    cell: list[str] = []
    row: list[str] = []
    events = etree.iterparse(fh, events=("start", "end"), tag=(_W + "p", _W + "tbl", _W + "tc", _W + "tr"),
                             resolve_entities=False, no_network=True, load_dtd=False)
    for event, el in events:
        tag = el.tag
        if event == "start":
            tables += tag == _W + "tbl"
            continue
        if tag == _W + "p":
            text = _paragraph_text(el)
            budget.add(text)
            (cell if tables else paragraphs).append(text)
        elif tag == _W + "tc":
            row.append("\n".join(cell))
            cell = []
        elif tag == _W + "tr":
            rows.append(" | ".join(row))
            row = []
        else:
            tables -= 1
        if tables == 0 and tag in (_W + "p", _W + "tbl"):
            el.clear(keep_tail=False)  # done with it: keep memory flat in the size of the XML
            parent = el.getparent()
            while parent is not None and el.getprevious() is not None:
                del parent[0]
    return paragraphs, rows


def _docx_core(zf: zipfile.ZipFile) -> dict[str, Any]:
    """Title, author and creation date (as `author`, `file_created`) from `docProps/core.xml`, when there is one."""
    from lxml import etree

    try:
        info = zf.getinfo("docProps/core.xml")
    except KeyError:
        return {}
    if info.file_size > _CORE_MAX_BYTES:
        return {}
    root = etree.fromstring(zf.read(info), etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False))
    found = {etree.QName(el).localname: (el.text or "").strip() for el in root}
    meta: dict[str, Any] = {}
    if found.get("title"):
        meta["title"] = found["title"]
    # The file's creator and creation time are the writing program's ("python-docx", 2013-12-23
    # from its template), not a publisher and a publication date: kept apart, never shown as such.
    if found.get("creator"):
        meta["author"] = found["creator"]
    if re.match(r"\d{4}-\d{2}-\d{2}", found.get("created", "")):
        meta["file_created"] = found["created"][:10]
    return meta


def _open_pdf(path: Path):
    """A PdfReader for `path`, decrypted with the empty password if need be.

    Raises:
        SkipFile: not a PDF, or encrypted with a real password.
    """
    from pypdf import PdfReader

    with path.open("rb") as fh:
        head = fh.read(1024)
    if b"%PDF-" not in head:  # readers accept junk before the header, within the first 1 KB
        raise SkipFile("not a PDF (no %PDF- header)")
    reader = PdfReader(str(path))
    if reader.is_encrypted:
        try:
            ok = reader.decrypt("")
        except Exception as e:  # noqa: BLE001 - missing crypto backends and bad keys
            raise SkipFile(f"encrypted PDF could not be opened ({type(e).__name__}: {_first_line(e)})") from None
        if not ok:
            raise SkipFile("encrypted PDF needs a password")
    return reader


def _pdf_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn pypdf's many exceptions on broken files into one-line SkipFile reasons."""
    from functools import wraps

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from pypdf.errors import PdfReadError

        try:
            return fn(*args, **kwargs)
        except SkipFile:
            raise
        except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError, AssertionError) as e:
            raise SkipFile(f"not a readable PDF ({type(e).__name__}: {_first_line(e)})") from None
        except Exception as e:  # noqa: BLE001 - pypdf raises many kinds on broken files
            raise SkipFile(f"not a readable PDF ({type(e).__name__}: {_first_line(e)})") from None

    return wrapper


def _extract(reader: Any, lo: int, hi: int, max_chars: int | None = None) -> tuple[list[str], list[str]]:
    from pypdf.errors import LimitReachedError

    pages, warnings, total = [], [], 0
    for i in range(lo, hi):
        try:
            pages.append(reader.pages[i].extract_text() or "")
        except LimitReachedError as e:
            warnings.append(f"page {i + 1}: text extraction stopped at pypdf's decompression limit "
                            f"({_first_line(e, 80)}; a decompression bomb?)")
            pages.append("")
        except Exception as e:  # noqa: BLE001 - a bad page must not lose the others
            warnings.append(f"page {i + 1}: text extraction failed ({type(e).__name__}: {_first_line(e, 80)})")
            pages.append("")
        total += len(pages[-1])
        if max_chars is not None and total > 4 * max_chars:  # cleaning never shrinks text fourfold
            raise SkipFile(too_long(max_chars))
    return pages, warnings


@_pdf_errors
def pdf_page_count(path: Path) -> int:
    """How many pages a PDF has (cheap: no text is extracted).

    Raises:
        SkipFile: as `load_pdf` would.
    """
    return len(_open_pdf(path).pages)


@_pdf_errors
def extract_pdf_pages(path: str | Path, lo: int, hi: int) -> tuple[list[str], list[str]]:
    """The texts of pages [lo, hi) (0-based) and a warning per page that failed.

    Text extraction is pypdf's slow part (about 40 ms a page); it runs in worker
    processes, a range of pages each, when a batch holds enough pages (see
    `ingest.pipeline`).
    """
    reader = _open_pdf(Path(path))
    return _extract(reader, lo, min(hi, len(reader.pages)))


@_pdf_errors
def load_pdf(path: Path, extracted: tuple[list[str], list[str]] | None = None, max_chars: int | None = None
             ) -> tuple[dict[str, Any], list[str], tuple]:
    """Returns page texts (one string per page) rather than one text.

    `extracted` is the (page texts, warnings) that `extract_pdf_pages` returned for
    every page, when extraction already ran elsewhere; the file is still opened here
    for its checks and metadata.
    """
    reader = _open_pdf(path)
    n = len(reader.pages)
    if extracted is not None and len(extracted[0]) == n:
        pages, warnings = list(extracted[0]), list(extracted[1])
    else:
        pages, warnings = _extract(reader, 0, n, max_chars)
    meta: dict[str, Any] = {}
    info = reader.metadata
    if info is not None:
        if info.title:
            meta["title"] = str(info.title)
        if info.author:  # the file's author field, often the writing program: not a publisher
            meta["author"] = str(info.author)
    if not pages:
        raise SkipFile("PDF has no pages")
    return meta, pages, tuple(warnings)


LOADERS: dict[str, Callable[..., tuple[dict[str, Any], Any, tuple]]] = {
    ".pdf": load_pdf,
    ".txt": load_text,
    ".text": load_text,
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".html": load_html,
    ".htm": load_html,
    ".docx": load_docx,
}
SUPPORTED_SUFFIXES = frozenset(LOADERS) | {".jsonl"}


def read_sidecar(path: Path) -> dict[str, Any]:
    side = path.with_name(path.name + SIDECAR_SUFFIX)
    if not side.is_file():
        return {}
    try:
        data = json.loads(side.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        log.warning("ignoring unreadable sidecar %s: %s", side, e)
        return {}
    return {str(k): v for k, v in data.items()} if isinstance(data, dict) else {}


def safe_metadata(meta: dict[str, Any]) -> dict[str, Any]:
    """Metadata that can be written as UTF-8 JSON: string keys, no lone surrogates anywhere."""

    def fix(v: Any) -> Any:
        if isinstance(v, str):
            return fix_surrogates(v)
        if isinstance(v, dict):
            return {fix_surrogates(str(k)): fix(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [fix(x) for x in v]
        return v

    return {fix_surrogates(str(k)): fix(v) for k, v in meta.items()}


def join_pages(raw_pages: list[str], max_chars: int | None = None) -> tuple[str, tuple[tuple[int, int, int], ...]]:
    """Clean each page and join the non-empty ones with a blank line.

    Returns the text and a (page number, start, end) span per kept page (numbers from 1,
    so an empty page leaves a gap), with ``text[start:end]`` that page's cleaned text.

    Raises:
        SkipFile: the text passes `max_chars`.
    """
    texts: list[str] = []
    pages: list[tuple[int, int, int]] = []
    pos = 0
    for number, raw in enumerate(raw_pages, start=1):
        page_text = clean(raw, boilerplate=False)
        if not page_text or not has_visible_text(page_text):
            continue
        if max_chars is not None and pos + len(page_text) > max_chars:
            raise SkipFile(too_long(max_chars))
        if texts:
            pos += 2  # the "\n\n" joiner
        pages.append((number, pos, pos + len(page_text)))
        texts.append(page_text)
        pos += len(page_text)
    return "\n\n".join(texts), tuple(pages)


def load_file(path: Path, doc_id: str, pdf_pages: tuple[list[str], list[str]] | None = None, *,
              max_chars: int | None = None) -> list[Document]:
    """Load one file as Documents (one, or many for a JSONL corpus).

    `pdf_pages`: a PDF's page texts and warnings, extracted already (see `extract_pdf_pages`).
    `max_chars`: a document with more characters of cleaned text is skipped (reading stops
    at the limit, so the work and memory of a huge document are bounded by it).

    Raises:
        SkipFile: the file cannot be used; the message says why.
    """
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        raise SkipFile("JSONL corpora are loaded with load_jsonl")
    loader = LOADERS.get(suffix)
    if loader is None:
        raise SkipFile(f"unsupported file type {suffix or '(none)'!r}")
    if loader is load_pdf:
        meta, body, warnings = load_pdf(path, pdf_pages, max_chars)
    else:
        meta, body, warnings = loader(path, max_chars)
    fmt = suffix.lstrip(".")
    meta = safe_metadata({**meta, **read_sidecar(path)})
    if isinstance(body, list):  # paged
        text, doc_pages = join_pages(body, max_chars)
        failed = [w for w in warnings if "text extraction" in w]
        if not doc_pages and failed:
            raise SkipFile(f"text extraction failed on {len(failed)} of {len(body)} page(s): {failed[0]}")
        if not doc_pages:
            raise SkipFile(f"no extractable text in {len(body)} page(s) (scanned or image-only PDF?)")
        empty = len(body) - len(doc_pages)
        if empty:
            warnings = (*warnings, f"{empty} of {len(body)} pages have no extractable text")
        meta.setdefault("pages", len(body))
    else:
        text = clean(body, boilerplate=fmt in ("txt", "text", "html", "htm", "md", "markdown"))
        doc_pages = ()
        if not text:
            raise SkipFile("no text")
        if not has_visible_text(text):
            raise SkipFile("no visible text (only invisible characters such as zero-width spaces)")
        if max_chars is not None and len(text) > max_chars:
            raise SkipFile(too_long(max_chars))
    if not meta.get("title"):
        meta["title"] = (_first_line_title(text) if not doc_pages else "") or path.stem
    meta["format"] = fmt
    return [Document(doc_id=doc_id, text=text, pages=doc_pages, metadata=meta, warnings=tuple(warnings))]


def load_jsonl(path: Path, max_chars: int | None = None) -> tuple[list[Document], list[tuple[str, str]]]:
    """A JSONL corpus: one `{"doc_id", "text", ...metadata}` per line.

    Returns the documents and (where, reason) for each line skipped: malformed
    JSON, a missing or empty field, or a `doc_id` seen before.
    """
    docs: list[Document] = []
    skipped: list[tuple[str, str]] = []
    seen: set[str] = set()
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            where = f"{path.name}:{lineno}"
            if not raw.strip():
                continue
            try:
                row = json.loads(decode_text(raw))
            except (ValueError, RecursionError, SkipFile) as e:
                skipped.append((where, f"malformed JSON ({type(e).__name__}: {_first_line(e, 80)})"))
                continue
            if not isinstance(row, dict):
                skipped.append((where, "not a JSON object"))
                continue
            doc_id, text = row.get("doc_id"), row.get("text")
            if not isinstance(doc_id, (str, int)) or str(doc_id).strip() == "":
                skipped.append((where, "missing doc_id"))
                continue
            doc_id = fix_surrogates(str(doc_id)).strip()
            if not isinstance(text, str) or not text.strip():
                skipped.append((where, f"doc {doc_id!r} has no text"))
                continue
            if doc_id in seen:
                skipped.append((where, f"duplicate doc_id {doc_id!r}"))
                continue
            seen.add(doc_id)
            meta = safe_metadata({k: v for k, v in row.items()
                                  if k not in ("doc_id", "text") and isinstance(v, (str, int, float, bool))})
            meta.setdefault("title", doc_id)
            meta["format"] = "jsonl"
            cleaned = clean(text, boilerplate=False)
            if not cleaned or not has_visible_text(cleaned):
                skipped.append((where, f"doc {doc_id!r} has no text"))
                continue
            if max_chars is not None and len(cleaned) > max_chars:
                skipped.append((where, f"doc {doc_id!r} is {too_long(max_chars)}"))
                continue
            docs.append(Document(doc_id=doc_id, text=cleaned, metadata=meta))
    return docs, skipped
