"""Loaders: one function per format, each turning a file into cleaned Documents.

A loader raises `SkipFile` with a one-line reason when a file cannot be used; the
pipeline reports it and carries on with the rest of the batch.
"""

from __future__ import annotations

import json
import logging
import re
import zipfile
from pathlib import Path
from typing import Any, Callable

from .clean import clean, normalize
from .errors import SkipFile
from .types import Document

log = logging.getLogger(__name__)

SIDECAR_SUFFIX = ".meta.json"
_HEADER_BEGIN = "----- BEGIN TEXT -----"
_HEADER_END = "----- END TEXT -----"
_HEADER_LINE = re.compile(r"^([A-Z][A-Z /_-]*?)\s*(\([^)]*\))?\s*:\s*(.*)$")
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


def decode_text(data: bytes) -> str:
    """Bytes to text: BOMs honoured, UTF-8 first, then line by line cp1252/latin-1.

    Mixed-encoding files (UTF-8 lines beside cp1252 lines) keep both readable.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16", errors="replace")
    if data.count(b"\x00") > max(16, len(data) // 10):
        raise SkipFile("looks binary (many NUL bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    lines = []
    for raw in data.split(b"\n"):
        for enc in ("utf-8", "cp1252", "latin-1"):
            try:
                lines.append(raw.decode(enc))
                break
            except UnicodeDecodeError:
                continue
    return "\n".join(lines)


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


def load_text(path: Path) -> tuple[dict[str, Any], str, tuple]:
    meta, body = split_header(decode_text(path.read_bytes()))
    return meta, body, ()


_MD_FRONT = re.compile(r"\A---\n(.*?)\n---\n", re.S)
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_HEADING = re.compile(r"^\s{0,3}#{1,6}\s*", re.M)
_MD_EMPH = re.compile(r"(\*\*|__|\*|`{1,3})")
_TAG = re.compile(r"<[^>\n]{1,500}>")


def load_markdown(path: Path) -> tuple[dict[str, Any], str, tuple]:
    text = decode_text(path.read_bytes()).replace("\r\n", "\n")
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
    text = re.sub(r"<(script|style)\b.*?</\1\s*>", "", text, flags=re.S | re.I)
    text = _TAG.sub("", text)
    text = _MD_IMAGE.sub(r"\1", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _MD_HEADING.sub("", text)
    text = _MD_EMPH.sub("", text)
    return meta, text, ()


_HTML_DROP = ("script", "style", "noscript", "template", "svg", "iframe", "object", "embed", "nav", "footer", "aside", "form", "head")


def load_html(path: Path) -> tuple[dict[str, Any], str, tuple]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(decode_text(path.read_bytes()), "html.parser")
    meta: dict[str, Any] = {}
    if soup.title and soup.title.string:
        meta["title"] = normalize(soup.title.string)
    for name, key in (("og:title", "title"), ("author", "publisher"), ("og:site_name", "publisher"), ("date", "date")):
        tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
        if tag and tag.get("content") and key not in meta:
            meta[key] = normalize(str(tag["content"]))[:300]
    for tag in soup(list(_HTML_DROP)):
        tag.decompose()
    return meta, soup.get_text("\n"), ()


def load_docx(path: Path) -> tuple[dict[str, Any], str, tuple]:
    if not zipfile.is_zipfile(path):
        raise SkipFile("not a valid DOCX (not a zip archive)")
    try:
        import docx
    except ImportError as e:  # pragma: no cover - a core dependency
        raise SkipFile(f"python-docx is not installed: {e}") from None
    try:
        d = docx.Document(str(path))
    except Exception as e:  # noqa: BLE001 - python-docx raises many kinds
        raise SkipFile(f"not a readable DOCX ({type(e).__name__}: {e})") from None
    parts = [p.text for p in d.paragraphs]
    for table in d.tables:
        for row in table.rows:
            parts.append(" | ".join(cell.text for cell in row.cells))
    meta: dict[str, Any] = {}
    core = d.core_properties
    if core.title:
        meta["title"] = core.title
    if core.author:
        meta["publisher"] = core.author
    if core.created:
        meta["date"] = core.created.date().isoformat()
    return meta, "\n".join(parts), ()


def load_pdf(path: Path) -> tuple[dict[str, Any], list[str], tuple]:
    """Returns page texts (one string per page) rather than one text."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    warnings: list[str] = []
    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                ok = reader.decrypt("")
            except Exception as e:  # noqa: BLE001 - missing crypto backends and bad keys
                raise SkipFile(f"encrypted PDF could not be opened ({type(e).__name__}: {e})") from None
            if not ok:
                raise SkipFile("encrypted PDF needs a password")
        pages = []
        for i, page in enumerate(reader.pages, start=1):
            try:
                pages.append(page.extract_text() or "")
            except Exception as e:  # noqa: BLE001 - a bad page must not lose the others
                warnings.append(f"page {i}: text extraction failed ({type(e).__name__})")
                pages.append("")
        meta: dict[str, Any] = {}
        info = reader.metadata
        if info is not None:
            if info.title:
                meta["title"] = str(info.title)
            if info.author:
                meta["publisher"] = str(info.author)
    except SkipFile:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, RecursionError, AssertionError) as e:
        raise SkipFile(f"not a readable PDF ({type(e).__name__}: {str(e)[:120]})") from None
    except Exception as e:  # noqa: BLE001 - pypdf raises many kinds on broken files
        raise SkipFile(f"not a readable PDF ({type(e).__name__}: {str(e)[:120]})") from None
    if not pages:
        raise SkipFile("PDF has no pages")
    return meta, pages, tuple(warnings)


LOADERS: dict[str, Callable[[Path], tuple[dict[str, Any], Any, tuple]]] = {
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


def load_file(path: Path, doc_id: str) -> list[Document]:
    """Load one file as Documents (one, or many for a JSONL corpus).

    Raises:
        SkipFile: the file cannot be used; the message says why.
    """
    suffix = path.suffix.lower()
    if suffix == ".jsonl":
        raise SkipFile("JSONL corpora are loaded with load_jsonl")
    loader = LOADERS.get(suffix)
    if loader is None:
        raise SkipFile(f"unsupported file type {suffix or '(none)'!r}")
    meta, body, warnings = loader(path)
    fmt = suffix.lstrip(".")
    meta = {**meta, **read_sidecar(path)}
    if isinstance(body, list):  # paged
        texts, pages, pos = [], [], 0
        for number, raw in enumerate(body, start=1):
            page_text = clean(raw, boilerplate=False)
            if not page_text:
                continue
            if texts:
                pos += 2  # the "\n\n" joiner
            pages.append((number, pos, pos + len(page_text)))
            texts.append(page_text)
            pos += len(page_text)
        if not texts:
            raise SkipFile(f"no extractable text in {len(body)} page(s) (scanned or image-only PDF?)")
        empty = len(body) - len(texts)
        if empty:
            warnings = (*warnings, f"{empty} of {len(body)} pages have no extractable text")
        text = "\n\n".join(texts)
        meta.setdefault("pages", len(body))
        doc_pages = tuple(pages)
    else:
        text = clean(body, boilerplate=fmt in ("txt", "text", "html", "htm", "md", "markdown"))
        doc_pages = ()
        if not text:
            raise SkipFile("no text")
    if not meta.get("title"):
        meta["title"] = (_first_line_title(text) if not doc_pages else "") or path.stem
    meta["format"] = fmt
    return [Document(doc_id=doc_id, text=text, pages=doc_pages, metadata=meta, warnings=tuple(warnings))]


def load_jsonl(path: Path) -> tuple[list[Document], list[tuple[str, str]]]:
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
            except (ValueError, SkipFile) as e:
                skipped.append((where, f"malformed JSON ({str(e)[:80]})"))
                continue
            if not isinstance(row, dict):
                skipped.append((where, "not a JSON object"))
                continue
            doc_id, text = row.get("doc_id"), row.get("text")
            if not isinstance(doc_id, (str, int)) or str(doc_id).strip() == "":
                skipped.append((where, "missing doc_id"))
                continue
            doc_id = str(doc_id).strip()
            if not isinstance(text, str) or not text.strip():
                skipped.append((where, f"doc {doc_id!r} has no text"))
                continue
            if doc_id in seen:
                skipped.append((where, f"duplicate doc_id {doc_id!r}"))
                continue
            seen.add(doc_id)
            meta = {k: v for k, v in row.items() if k not in ("doc_id", "text") and isinstance(v, (str, int, float, bool))}
            meta.setdefault("title", doc_id)
            meta["format"] = "jsonl"
            cleaned = clean(text, boilerplate=False)
            if not cleaned:
                skipped.append((where, f"doc {doc_id!r} has no text"))
                continue
            docs.append(Document(doc_id=doc_id, text=cleaned, metadata=meta))
    return docs, skipped
