"""The chat page's file I/O: uploaded files copied under safe names, and the feedback file."""

import contextlib
import json
import re
import threading
import unicodedata
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

UPLOAD_TYPES = (".pdf", ".txt", ".md", ".html", ".htm", ".docx")
MAX_NAME_CHARS = 120

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


def store_upload(src: str | Path, upload_dir: Path, taken: Collection[str] = ()) -> Path:
    """Copy an uploaded file into `upload_dir` under a sanitised, unused name; returns the copy.

    Never overwrites: a name that exists on disk or is in `taken` (e.g. the doc ids
    already indexed) gets a numeric suffix, and the copy is created exclusively.
    """
    upload_dir.mkdir(parents=True, exist_ok=True)
    want = safe_filename(Path(str(src)).name)
    avoid = set(taken)
    while True:
        name = unique_name(want, avoid | {p.name for p in upload_dir.iterdir()})
        dest = upload_dir / name
        try:
            with open(src, "rb") as fin, open(dest, "xb") as fout:
                while block := fin.read(1 << 20):
                    fout.write(block)
            return dest
        except FileExistsError:  # another writer took the name between the check and the open
            avoid.add(name)


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


def feedback_record(turn: Mapping[str, Any], vote: str, *, now: datetime | None = None) -> dict[str, Any]:
    """One line of the feedback file: the question, answer, citations and the vote."""
    return {
        "timestamp": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "vote": vote,
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
