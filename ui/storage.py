"""The chat page's file I/O: uploaded files copied under safe names, and the feedback file."""

import contextlib
import csv
import io
import json
import os
import re
import threading
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

UPLOAD_TYPES = (".pdf", ".txt", ".md", ".html", ".htm", ".docx")
MAX_NAME_CHARS = 120
MAX_COMMENT_CHARS = 2000
FEEDBACK_COLUMNS = ("timestamp", "vote", "comment", "question", "answer", "sources", "mode", "user")

_WRITE_LOCK = threading.Lock()

_UNSAFE_CHARS = re.compile(r"[^\w.\-]+", re.UNICODE)


def safe_filename(name: str, default: str = "upload") -> str:
    """A plain file name from an uploaded one: its last path part only, letters, digits,
    `.`, `-` and `_` (others become `_`), no leading dot or dash, at most 120 characters."""
    base = unicodedata.normalize("NFC", str(name or "")).replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = _UNSAFE_CHARS.sub("_", base.strip())
    base = re.sub(r"\.{2,}", ".", re.sub(r"_{2,}", "_", base)).strip("._- ")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    suffix = suffix[:10].lower()
    stem = stem.strip("._- ")[: MAX_NAME_CHARS - len(suffix) - 1] or default
    return f"{stem}.{suffix}" if suffix else stem


def unique_name(name: str, taken: Collection[str]) -> str:
    """`name`, or `stem-2.ext`, `stem-3.ext`, ... : the first not in `taken`."""
    if name not in taken:
        return name
    p = Path(name)
    i = 2
    while f"{p.stem}-{i}{p.suffix}" in taken:
        i += 1
    return f"{p.stem}-{i}{p.suffix}"


def replace_upload(src: str | Path, upload_dir: Path, avoid: Collection[str] = ()) -> tuple[Path, Path | None]:
    """Copy an uploaded file into `upload_dir` under its sanitised name, replacing a file of that name.

    A re-upload of the same name is an update of that document, never a silent duplicate
    (`report-2.docx`). The copy is written beside the target and renamed over it, so a reader
    never sees half a file; the file it replaced is kept as a hidden backup until the ingest
    is known to have worked (`restore_upload` puts it back, `drop_backup` deletes it).

    `avoid`: names that belong to documents from elsewhere (seeds/, a folder ingested from the
    command line): an upload never replaces those; it gets the first free `name-2.ext`.

    Returns (the stored file, the backup of the file it replaced or None).
    """
    upload_dir.mkdir(parents=True, exist_ok=True)
    dest = upload_dir / unique_name(safe_filename(Path(str(src)).name), set(avoid))
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.{threading.get_ident()}.part")
    with open(src, "rb") as fin, open(tmp, "wb") as fout:
        while block := fin.read(1 << 20):
            fout.write(block)
    backup = None
    if dest.is_file() and not dest.is_symlink():
        backup = dest.with_name(f".{dest.name}.previous")
        os.replace(dest, backup)
    os.replace(tmp, dest)
    return dest, backup


def restore_upload(dest: Path, backup: Path | None) -> None:
    """Undo `replace_upload`: the previous file back under its name, or the new one deleted."""
    if backup is not None and backup.is_file():
        os.replace(backup, dest)
    else:
        dest.unlink(missing_ok=True)


def drop_backup(backup: Path | None) -> None:
    if backup is not None:
        backup.unlink(missing_ok=True)


def discard_gradio_upload(src: str | Path) -> bool:
    """Delete Gradio's temporary copy of an upload once `store_upload` has made partnerqa's own.

    Gradio keeps every uploaded file in its temp folder (`GRADIO_TEMP_DIR`) for the life of
    the server, so a document removed from the index stayed on disk there. Only a regular
    file inside that folder is deleted (never a symlink), with its per-upload folder if that
    is then empty. Returns whether a file was deleted.
    """
    try:
        from gradio.utils import get_upload_folder

        root = Path(get_upload_folder()).resolve()
        path = Path(str(src))
        if path.is_symlink() or not path.is_file():
            return False
        real = path.resolve()
    except (ImportError, OSError):
        return False
    if not real.is_relative_to(root) or real == root:
        return False
    real.unlink(missing_ok=True)
    if real.parent != root:
        with contextlib.suppress(OSError):  # not empty: another upload's files are there
            real.parent.rmdir()
    return True


def feedback_record(turn: Mapping[str, Any], vote: str, *, comment: str = "", user: str = "",
                    now: datetime | None = None) -> dict[str, Any]:
    """One line of the feedback file: the question, answer, citations, the vote and its comment."""
    return {
        "timestamp": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "vote": vote,
        "comment": " ".join(str(comment or "").split())[:MAX_COMMENT_CHARS],
        "user": user,
        "question": turn.get("question", ""),
        "answer": turn.get("answer", ""),
        "citations": list(turn.get("citations", [])),
        "abstained": bool(turn.get("abstained", False)),
        "mode": turn.get("mode", ""),
        "k": turn.get("k"),
        "retrieval_mode": turn.get("retrieval_mode", ""),
    }


def append_feedback(path: Path, record: Mapping[str, Any]) -> None:
    """Append one JSON line to the feedback file (created with its folder if missing)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _WRITE_LOCK, open(path, "a", encoding="utf-8") as fh:
        fh.write(line)


def vote_of(liked: Any) -> str:
    """Gradio's like payload as "up", "down" or "cleared"."""
    if liked is True or str(liked).lower() in ("like", "up", "true"):
        return "up"
    if liked is False or str(liked).lower() in ("dislike", "down", "false"):
        return "down"
    return "cleared"


def read_feedback(path: Path) -> list[dict[str, Any]]:
    """Every record of the feedback file, newest first; unreadable lines are skipped."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    out = []
    for line in lines:
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict):
            out.append(rec)
    return out[::-1]


def feedback_rows(records: Sequence[Mapping[str, Any]]) -> list[list[str]]:
    """The feedback view's table: one row per record, `FEEDBACK_COLUMNS`."""
    rows = []
    for r in records:
        cits = r.get("citations") or []
        sources = "; ".join(f"[{c.get('n')}] {c.get('doc_id', '')}" for c in cits if isinstance(c, Mapping))
        rows.append([str(r.get("timestamp", "")), str(r.get("vote", "")), str(r.get("comment", "")),
                     str(r.get("question", "")), str(r.get("answer", "")), sources, str(r.get("mode", "")),
                     str(r.get("user", ""))])
    return rows


def feedback_csv(records: Sequence[Mapping[str, Any]]) -> str:
    """The feedback as CSV text (a header row, then `feedback_rows`)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(FEEDBACK_COLUMNS)
    w.writerows(feedback_rows(records))
    return buf.getvalue()
