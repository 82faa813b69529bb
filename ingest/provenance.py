"""A document's provenance as staff see it: the byline that is actually known, and their edits.

Two small pieces, both kept apart from the loaders and the store they touch:

- `byline(publisher, date)`: the publisher and date worth showing. Header notes such as
  "unknown (news article provided with the project)" or "revision date unknown; content
  cites sources up to 2025-03-20 ..." are notes, not a byline: "unknown" is never shown,
  a parenthetical note is cut from the publisher, and a date is shown only when it is one.
- Provenance edits (title, publisher, date, URL) that staff make in the Documents tab.
  They are kept in `provenance.json` at the index root (beside `CURRENT`, outside every
  generation), applied to a document whenever it is loaded for ingest (`apply_overrides`),
  so a re-ingest of the same file keeps them, and written into the live generation at once
  (`edit_provenance`), so every citation uses them without re-embedding anything.
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

OVERRIDES_FILE = "provenance.json"
EDITABLE = ("title", "publisher", "date", "url")
MAX_FIELD_CHARS = 300

_UNKNOWN = re.compile(r"^\s*(unknown|n/?a|none|unspecified|not known)\b", re.IGNORECASE)
_NOTE = re.compile(r"\s*[(\[].*$", re.DOTALL)  # "The White House (Office of ...)" -> "The White House"
_DATE = re.compile(r"^\s*(\d{4}-\d{2}-\d{2}|\d{4}-\d{2}|\d{4}|"
                   r"\d{1,2} [A-Z][a-z]+ \d{4}|[A-Z][a-z]+ \d{1,2}, \d{4})\b")
_URL = re.compile(r"^https?://[^\s<>\"']+$", re.IGNORECASE)


@dataclass(frozen=True)
class Byline:
    """What a citation card shows under its title; empty strings for what is not known."""

    publisher: str = ""
    date: str = ""

    def parts(self) -> list[str]:
        return [p for p in (self.publisher, self.date) if p]


def clean_publisher(value: Any) -> str:
    """The publisher without notes: "" for unknown, a parenthetical note cut off, one line."""
    text = " ".join(str(value or "").split())
    if not text or _UNKNOWN.match(text):
        return ""
    text = _NOTE.sub("", text).strip(" ;,.-") or ""
    return "" if _UNKNOWN.match(text) else text


def clean_date(value: Any) -> str:
    """The date when the value starts with one (2025-10-29, 2025-10, October 29, 2025); else ""."""
    m = _DATE.match(" ".join(str(value or "").split()))
    return m.group(1) if m else ""


def byline(publisher: Any, date: Any) -> Byline:
    """The publisher and date worth showing (see the module docstring)."""
    return Byline(clean_publisher(publisher), clean_date(date))


# -- staff edits ----------------------------------------------------------------------------


def overrides_path(index_dir: str | Path) -> Path:
    return Path(index_dir) / OVERRIDES_FILE


def load_overrides(index_dir: str | Path) -> dict[str, dict[str, str]]:
    """doc id -> the fields staff set; {} when there are none or the file is unreadable."""
    path = overrides_path(index_dir)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        log.warning("ignoring unreadable provenance edits %s: %s", path, e)
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): {f: str(v[f]) for f in EDITABLE if isinstance(v, dict) and f in v}
            for k, v in data.items() if isinstance(v, dict)}


def check_fields(fields: Mapping[str, Any]) -> dict[str, str]:
    """The edit, checked: only `EDITABLE` keys, one line each, at most 300 characters, an
    http(s) URL or none. Raises ValueError naming the field and the bad value."""
    out: dict[str, str] = {}
    for key, value in fields.items():
        if key not in EDITABLE:
            raise ValueError(f"field must be one of {', '.join(EDITABLE)}, got {key!r}")
        text = " ".join(str(value or "").split())
        if len(text) > MAX_FIELD_CHARS:
            raise ValueError(f"{key} must be at most {MAX_FIELD_CHARS} characters, got {len(text)}")
        if key == "url" and text and not _URL.match(text):
            raise ValueError(f"url must start with http:// or https://, got {text[:60]!r}")
        if key == "title" and not text:
            raise ValueError("title must not be empty")
        out[key] = text
    return out


def apply_overrides(metadata: dict[str, Any], override: Mapping[str, str] | None) -> dict[str, Any]:
    """`metadata` with the staff's fields set (in place, and returned)."""
    for key, value in (override or {}).items():
        if key in EDITABLE:
            metadata[key] = value
    return metadata


def _save_overrides(index_dir: Path, data: Mapping[str, Mapping[str, str]]) -> None:
    path = overrides_path(index_dir)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def edit_provenance(ingestor: Any, doc_id: str, fields: Mapping[str, Any]) -> dict[str, str]:
    """Set a document's title, publisher, date or URL: stored in `provenance.json` at the index
    root (kept across re-ingests) and written into a new live generation (used by every citation
    from the next question on; nothing is re-embedded: the vectors do not depend on these fields).

    Args:
        ingestor: The `Ingestor` of the index (its folder, writer lock and FAISS settings).
        doc_id: A document in the index.
        fields: Some of title, publisher, date, url; "" clears a publisher, date or URL.

    Returns:
        The document's stored edits after this one.

    Raises:
        ValueError: a bad field (see `check_fields`), or `doc_id` is not in the index.
    """
    import numpy as np

    from .store import DocRecord, SentenceVectors
    from .types import Document

    edit = check_fields(fields)
    index_dir = Path(ingestor.index_dir)
    store = ingestor.store  # the FAISS generation folder, or another backend (ingest/backend.py)
    with store.lock():
        old = store.load()
        if doc_id not in old.docs:
            raise ValueError(f"doc_id {doc_id!r} is not in the index")
        data = load_overrides(index_dir)
        data[doc_id] = {**data.get(doc_id, {}), **edit}
        index_dir.mkdir(parents=True, exist_ok=True)
        _save_overrides(index_dir, data)
        docs: list[DocRecord] = []
        for d in old.docs.values():
            if d.doc_id == doc_id:
                meta = apply_overrides(dict(d.metadata), data[doc_id])
                h = Document(d.doc_id, d.text, d.pages, meta).content_hash
                d = replace(d, metadata=meta, content_hash=h)
            docs.append(d)
        rows = [old.rows_of(d.doc_id) for d in docs]
        all_rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
        title = str(data[doc_id].get("title") or "")
        chunks = [replace(old.chunks[r], title=title) if title and old.chunks[r].doc_id == doc_id else old.chunks[r]
                  for r in all_rows]
        manifest = {k: v for k, v in old.manifest.items()
                    if k not in ("generation", "n_chunks", "n_docs", "faiss", "channels")}
        manifest["documents"] = {d.doc_id: d.content_hash for d in docs}
        channels = {name: (old.channel_info(name), old.channel_data(name, all_rows)) for name in old.channels}
        if store.keeps_vectors:  # only the edited document's rows are written again: only theirs are read
            vectors = np.zeros((len(all_rows), old.dimension), np.float32)
            mine = np.isin(all_rows, old.rows_of(doc_id))
            vectors[mine] = old.vectors(all_rows[mine])
        else:
            vectors = old.vectors(all_rows)
        kept = getattr(old, "sentences", None)  # the chunks' texts are unchanged: their sentence vectors stay
        sentences = SentenceVectors.from_rows([kept.of_chunk(int(r)) for r in all_rows], old.dimension) \
            if kept is not None else None
        store.write(manifest, docs, chunks, vectors, ingestor.exact_max, channels, sentences)
    return data[doc_id]
