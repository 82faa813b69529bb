"""The index on disk: a folder of generations, switched atomically.

Layout::

    INDEX/
      .partnerqa-index  marks the folder as a partnerqa index; records the generation names the writer made
      CURRENT           name of the live generation (replaced atomically)
      .lock             held by the one writer at a time
      gen-000007/
        .partnerqa-generation  marks the folder as made by this index's writer
        manifest.json  format, embedder name + fingerprint, dimension, chunker, documents, and the
                       size and SHA-256 of every other file in the generation
        docs.jsonl     one document a line: id, text, pages, metadata, hash, added_at
        chunks.jsonl   one chunk a line, in FAISS row order
        vectors.faiss  FAISS index (inner product over unit vectors)
        vectors-e5.faiss  the same chunks in another embedder's space, one file per extra
                       channel (the manifest's "channels" names each with its fingerprint)
        e5-units.npy, e5-ptr.npy, e5-spans.npy
                       a channel's vectors of each chunk's sentences (its "units", float16,
                       memory-mapped), whose chunk and where; optional
        bm25.npz/json  the BM25 postings and vocabulary
        sentence_ptr.npy, sentence_spans.npy, sentence_vectors.npy
                       each chunk's sentences (spans in the chunk) with their in-context vectors
                       (float16), pooled from the pass that embedded the chunk; optional

A writer records the names it is about to create in `.partnerqa-index`, builds a new
generation beside the live one, fsyncs it, then replaces CURRENT. A reader that opened
the old generation keeps a consistent view; a killed writer leaves at most a `*.tmp`
folder, removed by the next writer. Only folders whose names the marker records and that
carry this index's generation marker are ever deleted, never through a symlink.

A reader opens index files without following symlinks or blocking on FIFOs, refuses
anything but regular files, checks each file's size against the manifest before reading
it and its SHA-256 before using it. Nothing here is unpickled: JSON, JSONL,
`np.load(allow_pickle=False)` and FAISS's own binary format.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import shutil
import stat
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .bm25 import BM25Index
from .errors import (
    IndexCorruptError,
    IndexMismatchError,
    IndexNotFoundError,
    IndexWriteError,
    NotAnIndexError,
    PartnerQAError,
)
from .types import Chunk

log = logging.getLogger(__name__)

# 2: the manifest records every file's size and SHA-256 ("files"); format 1 had no such record.
FORMAT_VERSION = 2
_CURRENT = "CURRENT"
INDEX_MARKER = ".partnerqa-index"
GENERATION_MARKER = ".partnerqa-generation"
MANIFEST = "manifest.json"
#: Files every generation has; the manifest may list more (each is verified the same way).
REQUIRED_FILES = ("docs.jsonl", "chunks.jsonl", "vectors.faiss", "bm25.npz", "bm25.json")
_KEEP_GENERATIONS = 2
# Upper bounds for the files whose size no manifest records.
_CURRENT_MAX_BYTES = 256
_MARKER_MAX_BYTES = 1 << 20
MANIFEST_MAX_BYTES = 256 << 20
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class DocRecord:
    """A document as the index holds it."""

    doc_id: str
    text: str
    pages: tuple[tuple[int, int, int], ...]
    metadata: Mapping[str, Any]
    content_hash: str
    added_at: str
    updated_at: str
    n_chunks: int
    source: str = ""

    @property
    def title(self) -> str:
        return str(self.metadata.get("title") or self.doc_id)

    def to_record(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id, "text": self.text, "pages": [list(p) for p in self.pages],
            "metadata": dict(self.metadata), "content_hash": self.content_hash, "added_at": self.added_at,
            "updated_at": self.updated_at, "n_chunks": self.n_chunks, "source": self.source,
        }

    @classmethod
    def from_record(cls, r: Mapping[str, Any]) -> DocRecord:
        return cls(r["doc_id"], r["text"], tuple(tuple(p) for p in r.get("pages", ())), r.get("metadata", {}),
                   r["content_hash"], r.get("added_at", ""), r.get("updated_at", ""), int(r.get("n_chunks", 0)),
                   r.get("source", ""))


@dataclass
class IndexSnapshot:
    """One generation of the index, loaded into memory."""

    path: Path
    manifest: dict[str, Any]
    docs: dict[str, DocRecord]
    chunks: list[Chunk]
    faiss_index: Any
    bm25: BM25Index
    generation: str = ""
    channels: dict[str, Any] = field(default_factory=dict)  # extra channel name -> its FAISS index
    sentences: SentenceVectors | None = None  # in-context sentence vectors, when the index has them
    channel_units: dict[str, ChannelUnits] = field(default_factory=dict)  # channels' sentence vectors
    _doc_rows: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    _row_of: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def dimension(self) -> int:
        return int(self.manifest["dimension"])

    def rows_of(self, doc_id: str) -> np.ndarray:
        if not self._doc_rows:
            self._doc_rows.update(doc_rows(self.chunks))
        return self._doc_rows.get(doc_id, np.zeros(0, dtype=np.int64))

    def row_of(self, chunk_id: str) -> int | None:
        """The row of a chunk by its id (None: not in this generation)."""
        if not self._row_of:
            self._row_of.update({c.chunk_id: i for i, c in enumerate(self.chunks)})
        return self._row_of.get(chunk_id)

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        """The stored vectors of the given rows (reconstructed from FAISS)."""
        if len(rows) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.ascontiguousarray(self.faiss_index.reconstruct_batch(np.asarray(rows, dtype=np.int64)), dtype=np.float32)

    def channel_info(self, name: str) -> dict[str, Any] | None:
        """The manifest's record of an extra vector channel (name, fingerprint, dimension, file), or None."""
        info = self.manifest.get("channels", {}).get(name)
        return dict(info) if isinstance(info, dict) and name in self.channels else None

    def channel_vectors(self, name: str, rows: np.ndarray) -> np.ndarray:
        """The stored vectors of the given rows in an extra channel."""
        index = self.channels[name]
        if len(rows) == 0:
            return np.zeros((0, index.d), dtype=np.float32)
        return np.ascontiguousarray(index.reconstruct_batch(np.asarray(rows, dtype=np.int64)), dtype=np.float32)

    def channel_data(self, name: str, rows: np.ndarray) -> np.ndarray | ChannelUnits:
        """What a new generation of the given chunk rows keeps of a channel, in `write_generation`'s terms:
        the rows' vectors, or, where the channel has sentence units, the units with the rows' vectors."""
        rows = np.asarray(rows, dtype=np.int64)
        vectors = self.channel_vectors(name, rows)
        units = self.channel_units.get(name)
        if units is None:
            return vectors
        sub_ptr, unit_rows = units.select(rows)
        return ChannelUnits(sub_ptr, units.spans[unit_rows], units.unit_vectors(unit_rows), vectors)

    def chunk_units(self, name: str, row: int) -> tuple[np.ndarray, np.ndarray]:
        """Chunk `row`'s sentence units in a channel: spans (k, 2) in the chunk, vectors (k, d)."""
        units = self.channel_units[name]
        a, b = int(units.ptr[row]), int(units.ptr[row + 1])
        return units.spans[a:b], units.unit_vectors(np.arange(a, b, dtype=np.int64))


SENTENCE_FILES = ("sentence_ptr.npy", "sentence_spans.npy", "sentence_vectors.npy")


def _pack_rows(rows: Sequence[tuple[np.ndarray, np.ndarray]], dimension: int,
               dtype: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-chunk (spans (k, 2), vectors (k, dimension)) pairs packed into (ptr, spans, vectors): chunk ``r``'s
    rows are ``ptr[r]:ptr[r + 1]``."""
    counts = np.array([len(sp) for sp, _ in rows], dtype=np.int64)
    ptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(counts, out=ptr[1:])
    spans = np.zeros((int(ptr[-1]), 2), dtype=np.int32)
    vectors = np.zeros((int(ptr[-1]), dimension), dtype=dtype)
    for r, (sp, vec) in enumerate(rows):
        if len(sp) != len(vec):
            raise ValueError(f"chunk row {r}: {len(sp)} spans but {len(vec)} vectors")
        spans[ptr[r]:ptr[r + 1]] = sp
        vectors[ptr[r]:ptr[r + 1]] = vec
    return ptr, spans, vectors


@dataclass(frozen=True)
class SentenceVectors:
    """In-context vectors of each chunk's sentences, stored with the index.

    The sentences of chunk row ``r`` are rows ``ptr[r]:ptr[r + 1]``: their ``spans`` are (start, end)
    character offsets in the chunk's text and their ``vectors`` unit rows (float16; a zero row where the
    embedder gave none, e.g. a sentence past the model's maximum length). A chunk may have none.
    """

    ptr: np.ndarray
    spans: np.ndarray
    vectors: np.ndarray

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[np.ndarray, np.ndarray]], dimension: int) -> SentenceVectors:
        """From per-chunk (spans (k, 2), vectors (k, dimension)) pairs, in chunk order."""
        return cls(*_pack_rows(rows, dimension, np.float16))

    @property
    def n_chunks(self) -> int:
        return len(self.ptr) - 1

    def of_chunk(self, row: int) -> tuple[np.ndarray, np.ndarray]:
        """Chunk `row`'s sentence spans (k, 2) and their vectors (k, dimension), as stored."""
        a, b = int(self.ptr[row]), int(self.ptr[row + 1])
        return self.spans[a:b], self.vectors[a:b]


@dataclass(frozen=True)
class ChannelUnits:
    """A vector channel's sentence units: each of a chunk's sentences embedded on its own, beside the chunk's
    own vector, so that the answerer reads its candidate sentences' vectors instead of embedding them for
    every question (e5: ~30-100 ms a sentence on two cores).

    The units of chunk row ``r`` are rows ``ptr[r]:ptr[r + 1]``; ``spans`` are their (start, end) character
    offsets in the chunk's text. Every chunk has at least one unit (a chunk the sentence splitter finds
    nothing in is one unit, whole). ``vectors`` are the units' vectors (float16 and memory-mapped when loaded:
    they are read a few rows at a time, never searched); ``chunk_vectors`` the chunks', when writing.

    Search stays by the chunks' vectors. Scoring a chunk by its best sentence too (0.5 each) ranked the gold
    document better for English questions (MRR, e5 alone: SQuAD 2.0 sample 0.929 -> 0.952, Apple 10-Q
    0.668 -> 0.755) and the same for the Korean set (0.958), but e5 favours text in the question's language
    most at the sentence level: a Korean question about the chip supply then ranked an unrelated Korean
    document's chunk second.
    """

    ptr: np.ndarray
    spans: np.ndarray
    vectors: np.ndarray | None = None
    chunk_vectors: np.ndarray | None = None

    @classmethod
    def from_rows(cls, rows: Sequence[tuple[np.ndarray, np.ndarray]], dimension: int,
                  chunk_vectors: np.ndarray) -> ChannelUnits:
        """From per-chunk (spans (k, 2), vectors (k, dimension)) pairs, in chunk order (k >= 1 each), and the
        chunks' own vectors."""
        if any(len(sp) < 1 for sp, _ in rows):
            raise ValueError("every chunk needs at least one unit")
        return cls(*_pack_rows(rows, dimension, np.float32), np.asarray(chunk_vectors, dtype=np.float32))

    @property
    def n_chunks(self) -> int:
        return len(self.ptr) - 1

    def unit_vectors(self, unit_rows: np.ndarray) -> np.ndarray:
        """The vectors of the given units."""
        return np.asarray(self.vectors[np.asarray(unit_rows, dtype=np.int64)], dtype=np.float32)

    def select(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """For chunk `rows` (in that order): the ptr of just those chunks, and their unit rows."""
        counts = (self.ptr[rows + 1] - self.ptr[rows]) if len(rows) else np.zeros(0, np.int64)
        ptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(counts, out=ptr[1:])
        unit_rows = np.arange(ptr[-1], dtype=np.int64) + np.repeat(self.ptr[rows] - ptr[:-1], counts)
        return ptr, unit_rows


def unit_files(name: str) -> tuple[str, str, str]:
    """The files of a channel's sentence units: vectors, ptr and spans (``e5-units.npy``, ...)."""
    channel_file(name)
    return f"{name}-units.npy", f"{name}-ptr.npy", f"{name}-spans.npy"


_GENERATION_NAME = re.compile(r"gen-\d{6}")
_WRITER_NAME = re.compile(r"gen-(\d{6})(\.tmp)?")
_CHANNEL_NAME = re.compile(r"[a-z0-9][a-z0-9_]{0,31}")


def channel_file(name: str) -> str:
    """The file an extra vector channel is stored in (``vectors-e5.faiss``)."""
    if not _CHANNEL_NAME.fullmatch(name):
        raise ValueError(f"channel name must be [a-z0-9_], at most 32 characters, got {name!r}")
    return f"vectors-{name}.faiss"
_LOAD_ATTEMPTS = 3


# -- reading files that may not be what they claim ---------------------------------------------


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISLNK, "a link")):
        if test(mode):
            return name
    return "not a regular file"


def open_regular(path: Path) -> tuple[int, os.stat_result]:
    """Open `path` read-only without following a symlink or blocking on a FIFO.

    Returns the descriptor and its stat. Raises:
        IndexCorruptError: `path` is a symlink, FIFO, device, socket or folder.
        OSError: it cannot be opened (FileNotFoundError when missing).
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        if e.errno == errno.ELOOP:
            raise IndexCorruptError(f"{path} is a symbolic link; index files must be regular files") from None
        raise
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise IndexCorruptError(f"{path} is {_kind(st.st_mode)}, not a regular file")
    return fd, st


def _read_small(path: Path, limit: int) -> bytes:
    """The bytes of a regular file of at most `limit` bytes (size checked before reading)."""
    fd, st = open_regular(path)
    with os.fdopen(fd, "rb") as fh:
        if st.st_size > limit:
            raise IndexCorruptError(f"{path} is {st.st_size} bytes; a {path.name} is at most {limit}")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise IndexCorruptError(f"{path} grew past {limit} bytes while being read")
    return data


def file_record(path: Path) -> dict[str, Any]:
    """{"size", "sha256"} of a file, as the manifest records it."""
    fd, st = open_regular(path)
    with os.fdopen(fd, "rb") as fh:
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    return {"size": st.st_size, "sha256": digest}


def _verify_file(path: Path, size: int, sha256: str) -> None:
    """Refuse a file that is not the regular file of `size` bytes and `sha256` the writer recorded."""
    try:
        fd, st = open_regular(path)
    except FileNotFoundError:
        raise IndexCorruptError(f"{path} is missing") from None
    with os.fdopen(fd, "rb") as fh:
        if st.st_size != size:
            raise IndexCorruptError(f"{path} is {st.st_size} bytes; the manifest recorded {size}")
        digest = hashlib.file_digest(fh, "sha256").hexdigest()
    if digest != sha256:
        raise IndexCorruptError(f"{path} does not match the SHA-256 the manifest recorded (changed or damaged "
                                "after it was written)")


def current_generation(index_dir: Path) -> str | None:
    """The live generation's folder name, or None when there is no index.

    Raises:
        IndexCorruptError: CURRENT names something that is not a generation folder
            (a path like `../elsewhere` is never followed), or is not a small regular file.
    """
    path = Path(index_dir) / _CURRENT
    try:
        name = _read_small(path, _CURRENT_MAX_BYTES).decode("utf-8").strip()
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        raise IndexNotFoundError(f"no index at {index_dir}: it is a file, not a folder") from None
    except (OSError, UnicodeDecodeError) as e:
        raise IndexCorruptError(f"unreadable {path}: {e}") from None
    if not name:
        return None
    if not _GENERATION_NAME.fullmatch(name):
        raise IndexCorruptError(f"{path} names {name[:40]!r}, not a generation (gen-NNNNNN)")
    return name


def exists(index_dir: Path) -> bool:
    return current_generation(index_dir) is not None


def load_snapshot(index_dir: Path, *, embedder_fingerprint: str | None = None, mmap: bool = False) -> IndexSnapshot:
    """Load the live generation, verifying every file the manifest lists.

    Args:
        index_dir: The index folder.
        embedder_fingerprint: When given, refuse an index built with other weights.
        mmap: Memory-map the FAISS file instead of reading it (flat indexes).

    Raises:
        IndexNotFoundError: no index there.
        IndexMismatchError: unknown format, or built with a different embedder.
        IndexCorruptError: files missing, not regular files, of the wrong size or hash, or inconsistent.
    """
    index_dir = Path(index_dir)
    for attempt in range(_LOAD_ATTEMPTS):
        gen = current_generation(index_dir)
        if gen is None:
            raise IndexNotFoundError(f"no index at {index_dir} (run: partnerqa ingest)")
        try:
            return _load_generation(index_dir, gen, embedder_fingerprint, mmap)
        except IndexCorruptError:
            # A writer may have switched CURRENT and collected this generation while we read it:
            # then the newer generation is the one to load. Otherwise the index really is broken.
            if attempt + 1 == _LOAD_ATTEMPTS or current_generation(index_dir) == gen:
                raise
            log.info("generation %s went away while loading; loading the new one", gen)
    raise AssertionError("unreachable")


def _check_manifest(manifest: Any, index_dir: Path, path: Path) -> dict[str, tuple[int, str]]:
    """Check the manifest's shape; returns the files it lists as name -> (size, sha256)."""
    if not isinstance(manifest, dict):
        raise IndexCorruptError(f"manifest in {path} is not a JSON object")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"index at {index_dir} has format {manifest.get('format_version')!r}; this partnerqa reads "
            f"format {FORMAT_VERSION}. Rebuild it with: partnerqa ingest --rebuild"
        )
    emb = manifest.get("embedder")
    if not isinstance(emb, dict) or not isinstance(emb.get("name"), str) or not isinstance(emb.get("fingerprint"), str) \
            or not emb["fingerprint"]:
        raise IndexCorruptError(f"manifest in {path} has no embedder name and fingerprint")
    dim = manifest.get("dimension")
    if type(dim) is not int or dim < 1:
        raise IndexCorruptError(f"manifest in {path} has no valid dimension ({str(dim)[:20]!r})")
    files = manifest.get("files")
    if not isinstance(files, dict):
        raise IndexCorruptError(f"manifest in {path} does not list the generation's files")
    out: dict[str, tuple[int, str]] = {}
    for name, entry in files.items():
        if not _FILE_NAME.fullmatch(name) or name in (MANIFEST, GENERATION_MARKER):
            raise IndexCorruptError(f"manifest in {path} lists a file named {name[:40]!r}")
        if not isinstance(entry, dict) or type(entry.get("size")) is not int or entry["size"] < 0 \
                or not isinstance(entry.get("sha256"), str) or not _SHA256.fullmatch(entry["sha256"]):
            raise IndexCorruptError(f"manifest in {path} has no valid size and SHA-256 for {name}")
        out[name] = (entry["size"], entry["sha256"])
    missing = [n for n in REQUIRED_FILES if n not in out]
    if missing:
        raise IndexCorruptError(f"manifest in {path} does not list {', '.join(missing)}")
    return out


def _load_generation(index_dir: Path, gen: str, embedder_fingerprint: str | None, mmap: bool) -> IndexSnapshot:
    import faiss

    path = index_dir / gen
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        raise IndexCorruptError(f"{index_dir / _CURRENT} names {gen}, which does not exist") from None
    if not stat.S_ISDIR(st.st_mode):
        raise IndexCorruptError(f"{path} is {_kind(st.st_mode)}, not a generation folder")
    try:
        manifest = json.loads(_read_small(path / MANIFEST, MANIFEST_MAX_BYTES).decode("utf-8"))
    except (OSError, ValueError) as e:
        raise IndexCorruptError(f"unreadable manifest in {path}: {e}") from None
    files = _check_manifest(manifest, index_dir, path)
    emb = manifest["embedder"]
    if embedder_fingerprint is not None and emb["fingerprint"] != embedder_fingerprint:
        raise IndexMismatchError(
            f"index at {index_dir} was built with embedder {emb['name']!r} ({emb['fingerprint'][:19]}...), "
            f"not the one configured now ({embedder_fingerprint[:19]}...). Use the same model "
            f"(PARTNERQA_MODEL) or rebuild: partnerqa ingest --rebuild"
        )
    for name, (size, digest) in files.items():
        _verify_file(path / name, size, digest)
    try:
        docs = {}
        for line in _lines(path / "docs.jsonl"):
            rec = DocRecord.from_record(_object(json.loads(line)))
            docs[rec.doc_id] = rec
        chunks = [Chunk.from_record(_object(json.loads(line))) for line in _lines(path / "chunks.jsonl")]
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
        findex = faiss.read_index(str(path / "vectors.faiss"), flags)
        bm25 = BM25Index.load(path)
        channels, units = _load_channels(path, manifest, flags)
        sentences = _load_sentences(path, manifest, len(chunks))
    except PartnerQAError:
        raise
    except Exception as e:  # noqa: BLE001 - whatever a damaged file makes a parser raise, the index is unreadable
        raise IndexCorruptError(f"index at {path} is unreadable: {type(e).__name__}: {str(e)[:200]}") from None
    if findex.ntotal != len(chunks) or bm25.n_docs != len(chunks) or findex.d != manifest["dimension"]:
        raise IndexCorruptError(
            f"index at {path} is inconsistent: {findex.ntotal} vectors, {len(chunks)} chunks, {bm25.n_docs} BM25 rows"
        )
    _check_vectors(findex, path)
    for name, cindex in channels.items():
        if cindex.ntotal != len(chunks) or cindex.d != manifest["channels"][name].get("dimension"):
            raise IndexCorruptError(f"index at {path} is inconsistent: channel {name!r} has {cindex.ntotal} vectors "
                                    f"of {cindex.d} dimensions for {len(chunks)} chunks")
        _check_vectors(cindex, path)
        u = units.get(name)
        if u is not None:
            n = int(u.ptr[-1])
            if u.n_chunks != len(chunks) or u.spans.shape != (n, 2) or u.vectors.shape != (n, cindex.d):
                raise IndexCorruptError(f"index at {path} is inconsistent: channel {name!r} has sentence units that "
                                        f"do not match its {len(chunks)} chunks")
    for c in chunks:  # a citation is only as good as its offsets: check them once, here
        doc = docs.get(c.doc_id)
        if doc is None or not (0 <= c.start <= c.end <= len(doc.text)) or doc.text[c.start:c.end] != c.text:
            raise IndexCorruptError(f"index at {path} is inconsistent: chunk {c.chunk_id!r} does not slice its document")
    return IndexSnapshot(path, manifest, docs, chunks, findex, bm25, gen, channels, sentences, units)


def _load_sentences(path: Path, manifest: Mapping[str, Any], n_chunks: int) -> SentenceVectors | None:
    """The stored sentence vectors, when the manifest lists them for this index's embedder (else None).

    The vectors are memory-mapped (their SHA-256 was checked with every other file's): a server touches
    only the pages of the sentences it reads.
    """
    info = manifest.get("sentences")
    if info is None:
        return None
    if not isinstance(info, dict) or info.get("files") != list(SENTENCE_FILES):
        raise ValueError("manifest 'sentences' has the wrong shape")
    if info.get("fingerprint") != manifest["embedder"]["fingerprint"]:
        return None  # another model's vectors: the answerer embeds sentences itself
    ptr = np.load(path / SENTENCE_FILES[0], allow_pickle=False)
    spans = np.load(path / SENTENCE_FILES[1], allow_pickle=False)
    vectors = np.load(path / SENTENCE_FILES[2], allow_pickle=False, mmap_mode="r")
    n = int(ptr[-1]) if len(ptr) else -1
    if (ptr.ndim != 1 or len(ptr) != n_chunks + 1 or ptr[0] != 0 or (len(ptr) > 1 and np.any(np.diff(ptr) < 0))
            or spans.shape != (n, 2) or vectors.shape != (n, manifest["dimension"])):
        raise IndexCorruptError(f"index at {path} is inconsistent: the sentence vectors do not match its "
                                f"{n_chunks} chunks")
    return SentenceVectors(ptr, spans, vectors)


def _load_channels(path: Path, manifest: Mapping[str, Any], flags: int) -> tuple[dict[str, Any],
                                                                                 dict[str, ChannelUnits]]:
    """The extra vector channels the manifest lists (none in an index written before they existed), and the
    sentence units of those that have them."""
    import faiss

    listed = manifest.get("channels", {})
    if not isinstance(listed, dict):
        raise TypeError("manifest 'channels' is not an object")
    out, units = {}, {}
    for name, info in listed.items():
        if not isinstance(info, dict) or info.get("file") != channel_file(name):
            raise ValueError(f"manifest channel {name!r} has the wrong shape")
        out[name] = faiss.read_index(str(path / info["file"]), flags)
        record = info.get("units")
        if record is not None:
            names = unit_files(name)
            if not isinstance(record, dict) or record.get("files") != list(names):
                raise ValueError(f"manifest channel {name!r} does not list its unit files")
            ptr = np.load(path / names[1], allow_pickle=False)
            spans = np.load(path / names[2], allow_pickle=False)
            if ptr.ndim != 1 or len(ptr) < 1 or ptr[0] != 0 or (len(ptr) > 1 and np.diff(ptr).min() < 1):
                raise ValueError(f"channel {name!r}: malformed unit pointers")
            vectors = np.load(path / names[0], allow_pickle=False, mmap_mode="r")  # hashed with every file
            if vectors.dtype != np.float16 or vectors.ndim != 2:
                raise ValueError(f"channel {name!r}: unit vectors are not a float16 matrix")
            units[name] = ChannelUnits(ptr.astype(np.int64), spans, vectors)
    return out, units


def _lines(path: Path) -> Iterator[str]:
    fd, _ = open_regular(path)
    with os.fdopen(fd, "r", encoding="utf-8") as fh:
        yield from fh


def _check_vectors(findex: Any, path: Path) -> None:
    """Refuse a FAISS index of an unexpected kind, or one holding NaN or infinite vectors."""
    import faiss

    storage = faiss.downcast_index(findex.storage) if isinstance(findex, faiss.IndexHNSW) else findex
    if not isinstance(storage, faiss.IndexFlat) or findex.metric_type != faiss.METRIC_INNER_PRODUCT:
        raise IndexCorruptError(f"{path / 'vectors.faiss'} is a {type(findex).__name__}, not what partnerqa writes")
    n = storage.ntotal
    if n == 0:
        return
    xb = _flat_view(storage)
    for lo in range(0, n, 16384):
        if not np.isfinite(xb[lo:lo + 16384]).all():
            raise IndexCorruptError(f"{path / 'vectors.faiss'} holds NaN or infinite vectors")


def _object(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise TypeError(f"expected a JSON object, got {type(value).__name__}")
    return value


# HNSW settings, measured by `partnerqa bench` at 100k chunks on two CPU cores with real query
# embeddings: M=32, efConstruction=256 builds at ~0.3 ms a vector (about 1% of embedding it).
# recall@10 against exact search depends on the corpus: efSearch=512 gave 0.987 on one synthetic
# corpus and 0.968 on the next (chunked with less overlap); on that second one 768 gave 0.983,
# 1024 0.986 and 1536 0.996 at 4.4 ms a query (a flat scan of 100k vectors: ~9.4 ms). 1536
# keeps a margin above 0.98. M=24/efConstruction=64/efSearch=128 reached only 0.79.
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 256
HNSW_EF_SEARCH = 1536


def faiss_kind(n: int, exact_max: int) -> str:
    """"flat" (exact) up to `exact_max` vectors, "hnsw" above."""
    return "flat" if n <= exact_max else "hnsw"


def build_faiss(vectors: np.ndarray, exact_max: int) -> Any:
    """Exact inner-product search up to `exact_max` vectors, HNSW above it.

    Below the threshold a flat scan costs less than the model's query embedding and is
    exact; above it the scan grows with the corpus while HNSW stays near constant.
    """
    import faiss

    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, d = vectors.shape
    if faiss_kind(n, exact_max) == "flat":
        index = faiss.IndexFlatIP(d)
    else:
        index = faiss.IndexHNSWFlat(d, HNSW_M, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
        index.hnsw.efSearch = HNSW_EF_SEARCH
    if n:
        index.add(vectors)
    return index


def _pause(point: str) -> None:
    """Test hook: with `PARTNERQA_TEST_PAUSE=<point>[:seconds]` a writer announces `point` on
    stderr and sleeps there (default 60 s), so a test can kill it inside that window."""
    want = os.environ.get("PARTNERQA_TEST_PAUSE", "")
    name, _, seconds = want.partition(":")
    if name == point:
        os.write(sys.stderr.fileno(), f"partnerqa-test-pause {point}\n".encode())
        time.sleep(float(seconds or 60))


# -- owning the folder -------------------------------------------------------------------------


def _read_marker(index_dir: Path) -> dict[str, Any]:
    path = index_dir / INDEX_MARKER
    try:
        marker = json.loads(_read_small(path, _MARKER_MAX_BYTES).decode("utf-8"))
    except FileNotFoundError:
        raise
    except (OSError, ValueError) as e:
        raise IndexCorruptError(f"unreadable {path}: {e}") from None
    if not isinstance(marker, dict) or marker.get("partnerqa_index") != 1 or not isinstance(marker.get("id"), str) \
            or not isinstance(marker.get("names"), list) or not all(isinstance(n, str) for n in marker["names"]):
        raise IndexCorruptError(f"{path} is not a partnerqa index marker")
    return marker


def _write_json_atomic(path: Path, value: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps(value, indent=1, ensure_ascii=False))
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def _record_names(index_dir: Path, add: Sequence[str] = (), drop: Sequence[str] = ()) -> None:
    """Add or drop generation names in the index marker: the writer deletes only names recorded there."""
    marker = _read_marker(index_dir)
    names = [n for n in marker["names"] if n not in drop]
    names += [n for n in add if n not in names]
    if names != marker["names"]:
        _write_json_atomic(index_dir / INDEX_MARKER, {**marker, "names": names})


def _legacy_generations(index_dir: Path) -> list[str] | None:
    """The generations of an index written before the marker existed, or None if this is not one."""
    try:
        live = current_generation(index_dir)
    except PartnerQAError:
        return None
    if live is None or not (index_dir / live / MANIFEST).is_file():
        return None
    return sorted(n for n in os.listdir(index_dir) if _GENERATION_NAME.fullmatch(n)
                  and not (index_dir / n).is_symlink() and (index_dir / n / MANIFEST).is_file())


def _foreign_entries(index_dir: Path) -> list[str]:
    return [n for n in os.listdir(index_dir) if n not in (".lock", INDEX_MARKER, INDEX_MARKER + ".tmp")]


def check_index_folder(index_dir: Path) -> None:
    """Refuse to write an index into a file, or into a non-empty folder that is not a partnerqa index.

    Raises:
        NotAnIndexError: with a message saying what the folder is.
    """
    index_dir = Path(index_dir)
    if not index_dir.exists():
        if index_dir.is_symlink():
            raise NotAnIndexError(f"{index_dir} is a broken symbolic link")
        return
    if not index_dir.is_dir():
        raise NotAnIndexError(f"{index_dir} is a file, not a folder; give --index a folder")
    if (index_dir / INDEX_MARKER).exists() or (index_dir / INDEX_MARKER).is_symlink():
        return
    try:
        foreign = _foreign_entries(index_dir)
    except OSError as e:
        raise IndexWriteError(f"cannot read the index folder {index_dir}: {e.strerror or e}") from None
    if foreign and _legacy_generations(index_dir) is None:
        raise NotAnIndexError(
            f"{index_dir} is not empty and is not a partnerqa index ({len(foreign)} entries, e.g. "
            f"{min(foreign)[:40]!r}); refusing to turn it into one. Give --index an empty or new folder"
        )


def _claim(index_dir: Path) -> None:
    """Make sure the index marker exists (under the writer lock), adopting an index from before it."""
    try:
        _read_marker(index_dir)
        return
    except FileNotFoundError:
        pass
    check_index_folder(index_dir)
    marker_id = uuid.uuid4().hex
    names = (_legacy_generations(index_dir) or []) if _foreign_entries(index_dir) else []
    for name in names:  # adopted: they were written by partnerqa (a valid CURRENT and manifests)
        _write_json_atomic(index_dir / name / GENERATION_MARKER, {"index": marker_id, "generation": name})
    _write_json_atomic(index_dir / INDEX_MARKER, {"partnerqa_index": 1, "id": marker_id, "names": names})


def _is_ours(path: Path, marker_id: str, name: str) -> bool:
    """`path` is a real folder that this index's writer made: it carries the generation marker
    with this index's id, or holds nothing but that marker's temporary file (the writer was killed right
    after making it)."""
    try:
        if not stat.S_ISDIR(os.lstat(path).st_mode):
            return False
        if not set(os.listdir(path)) - {GENERATION_MARKER + ".tmp"}:
            return True  # empty, or killed while its marker was being written (only the marker's temp file)
        mark = json.loads(_read_small(path / GENERATION_MARKER, _MARKER_MAX_BYTES).decode("utf-8"))
    except (OSError, ValueError, PartnerQAError):
        return False
    return isinstance(mark, dict) and mark.get("index") == marker_id and mark.get("generation") == name.removesuffix(".tmp")


def _remove_tree(path: Path) -> None:
    """Delete a folder the writer made; a symlink is never followed (shutil.rmtree's fd-based walk)."""
    if path.is_symlink():
        log.warning("not removing %s: a symbolic link", path)
        return
    shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def writer_lock(index_dir: Path, timeout: float = 600.0) -> Iterator[None]:
    """Hold the index's single-writer lock (a `flock`, released if the holder dies).

    Raises:
        NotAnIndexError: `index_dir` is a file, or a non-empty folder that is not a partnerqa index.
        IndexWriteError: the folder cannot be written (read-only file system, no permission).
    """
    index_dir = Path(index_dir)
    check_index_folder(index_dir)
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(index_dir / ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except OSError as e:
        raise IndexWriteError(f"cannot write to the index folder {index_dir}: {e.strerror or e}") from None
    with os.fdopen(fd, "a+") as fh:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"another ingest holds {index_dir / '.lock'}") from None
                time.sleep(0.2)
        try:
            try:
                _claim(index_dir)
            except OSError as e:
                raise IndexWriteError(f"cannot write to the index folder {index_dir}: {e.strerror or e}") from None
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_jsonl(path: Path, rows: Iterator[Mapping[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False))
            fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())


def write_generation(index_dir: Path, manifest: Mapping[str, Any], docs: list[DocRecord], chunks: list[Chunk],
                     vectors: np.ndarray, exact_max: int,
                     channels: Mapping[str, tuple[Mapping[str, Any], np.ndarray | ChannelUnits]] | None = None,
                     sentences: SentenceVectors | None = None) -> str:
    """Write a complete new generation and make it live. Call under `writer_lock`.

    Args:
        channels: Extra vector channels, name -> (its manifest record: name, fingerprint,
            dimension; its vectors in chunk order, or `ChannelUnits` holding them and the sentences' vectors).
            Each is written to `channel_file(name)` (exact or HNSW as the main vectors are) and
            listed under the manifest's "channels", replacing whatever `manifest` said about channels.
        sentences: The chunks' in-context sentence vectors (from the embedder of `manifest`), or None.

    Returns the new generation's name.

    Raises:
        IndexWriteError: the disk is full or the folder cannot be written; the new
            generation's files are removed and the live index is unchanged.
    """
    index_dir = Path(index_dir)
    if vectors.shape[0] != len(chunks):
        raise ValueError(f"{vectors.shape[0]} vectors for {len(chunks)} chunks")
    if len(vectors) and not np.isfinite(vectors).all():
        raise ValueError("refusing to write NaN or infinite vectors")
    channels = dict(channels or {})
    for cname, (_info, data) in channels.items():
        channel_file(cname)
        if isinstance(data, ChannelUnits):
            if data.n_chunks != len(chunks) or data.vectors is None or len(data.vectors) != int(data.ptr[-1]):
                raise ValueError(f"channel {cname!r}: units for {data.n_chunks} chunks, expected {len(chunks)}")
            if len(data.ptr) > 1 and np.diff(data.ptr).min() < 1:
                raise ValueError(f"channel {cname!r}: a chunk without a unit")
            if not np.isfinite(data.vectors).all():
                raise ValueError(f"channel {cname!r}: refusing to write NaN or infinite vectors")
            cvecs = data.chunk_vectors
            if cvecs is None or cvecs.ndim != 2 or cvecs.shape[0] != len(chunks):
                raise ValueError(f"channel {cname!r}: no vector for each of {len(chunks)} chunks")
        else:
            cvecs = data
            if cvecs.ndim != 2 or cvecs.shape[0] != len(chunks):
                raise ValueError(f"channel {cname!r}: {cvecs.shape[0]} vectors for {len(chunks)} chunks")
        if len(cvecs) and not np.isfinite(cvecs).all():
            raise ValueError(f"channel {cname!r}: refusing to write NaN or infinite vectors")
    if sentences is not None:
        if sentences.n_chunks != len(chunks) or sentences.vectors.shape[1:] != (vectors.shape[1],):
            raise ValueError(f"sentence vectors for {sentences.n_chunks} chunks of {sentences.vectors.shape[1:]} "
                             f"dimensions, expected {len(chunks)} of {vectors.shape[1]}")
        if len(sentences.vectors) and not np.isfinite(sentences.vectors).all():
            raise ValueError("refusing to write NaN or infinite sentence vectors")
    live = current_generation(index_dir)
    numbers = [int(m.group(1)) for n in os.listdir(index_dir) if (m := _WRITER_NAME.fullmatch(n))]
    number = max([int(live.split("-")[1]) if live else 0, *numbers]) + 1
    name = f"gen-{number:06d}"
    tmp = index_dir / f"{name}.tmp"
    try:
        _record_names(index_dir, add=[tmp.name, name])
        tmp.mkdir()
    except OSError as e:
        raise IndexWriteError(f"cannot write to the index folder {index_dir}: {e.strerror or e}") from None
    try:
        _write_json_atomic(tmp / GENERATION_MARKER, {"index": _read_marker(index_dir)["id"], "generation": name})
        _write_files(tmp, manifest, name, docs, chunks, vectors, exact_max, channels, sentences)
    except BaseException as e:
        _remove_tree(tmp)  # a half-written generation must not stay filling the disk
        if isinstance(e, OSError):
            raise IndexWriteError(f"could not write a new index generation in {index_dir} ({e.strerror or e}); "
                                  "the index is unchanged") from None
        raise
    _pause("before-rename")
    final = index_dir / name
    os.rename(tmp, final)
    pointer = index_dir / f"{_CURRENT}.tmp"
    try:
        with pointer.open("w", encoding="utf-8") as fh:
            fh.write(name + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as e:
        pointer.unlink(missing_ok=True)
        raise IndexWriteError(f"could not switch the index in {index_dir} to the new generation "
                              f"({e.strerror or e}); the index is unchanged") from None
    _pause("before-switch")
    os.replace(pointer, index_dir / _CURRENT)
    _fsync_dir(index_dir)
    _pause("after-switch")
    _collect_garbage(index_dir, keep=name)
    return name


def _write_files(tmp: Path, manifest: Mapping[str, Any], name: str, docs: list[DocRecord], chunks: list[Chunk],
                 vectors: np.ndarray, exact_max: int,
                 channels: Mapping[str, tuple[Mapping[str, Any], np.ndarray | ChannelUnits]],
                 sentences: SentenceVectors | None = None) -> None:
    """Write a generation's files into `tmp`, then its manifest with each file's size and SHA-256."""
    import faiss

    _write_jsonl(tmp / "docs.jsonl", (d.to_record() for d in docs))
    _write_jsonl(tmp / "chunks.jsonl", (c.to_record() for c in chunks))
    try:
        faiss.write_index(build_faiss(vectors, exact_max), str(tmp / "vectors.faiss"))
    except RuntimeError as e:  # FAISS reports a failed write as a C++ exception, without errno
        free = os.statvfs(tmp)
        if free.f_bavail * free.f_frsize < vectors.nbytes + (1 << 20):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)) from None
        raise OSError(errno.EIO, f"FAISS could not write vectors.faiss: {str(e).strip().splitlines()[-1][:160]}") from None
    channel_records = {}
    for cname, (info, data) in channels.items():
        record = {k: v for k, v in info.items() if k != "units"}
        cvecs = data
        if isinstance(data, ChannelUnits):
            cvecs = data.chunk_vectors
            names = unit_files(cname)
            # read a few rows at a time, never searched: float16 like the sentence vectors
            for fname, arr in zip(names, (data.vectors.astype(np.float16), data.ptr.astype(np.int64),
                                          data.spans.astype(np.int32))):
                with (tmp / fname).open("wb") as fh:
                    np.save(fh, np.ascontiguousarray(arr), allow_pickle=False)
            record["units"] = {"kind": "sentence", "count": int(data.ptr[-1]), "files": list(names)}
        faiss.write_index(build_faiss(cvecs, exact_max), str(tmp / channel_file(cname)))
        channel_records[cname] = {**record, "dimension": int(cvecs.shape[1]), "normalized": True,
                                  "file": channel_file(cname)}
    sentence_record = None
    if sentences is not None:
        for fname, arr in zip(SENTENCE_FILES, (sentences.ptr.astype(np.int64), sentences.spans.astype(np.int32),
                                               sentences.vectors.astype(np.float16))):
            with (tmp / fname).open("wb") as fh:
                np.save(fh, np.ascontiguousarray(arr), allow_pickle=False)
        sentence_record = {"fingerprint": manifest["embedder"]["fingerprint"], "count": int(sentences.ptr[-1]),
                           "dtype": "float16", "pooling": "token mean over the sentence, in its chunk",
                           "files": list(SENTENCE_FILES)}
    BM25Index.build([c.text for c in chunks]).save(tmp)
    _pause("wrote-files")
    # Every file the generation holds, whatever it is, gets a size and a hash.
    files = {p.name: file_record(p) for p in sorted(tmp.iterdir()) if p.name not in (MANIFEST, GENERATION_MARKER)}
    full_manifest = {**{k: v for k, v in manifest.items() if k != "sentences"}, "channels": channel_records,
                     **({"sentences": sentence_record} if sentence_record else {}),
                     "format_version": FORMAT_VERSION, "generation": name, "n_chunks": len(chunks), "n_docs": len(docs), "faiss": faiss_kind(len(chunks), exact_max),
                     "files": files}
    (tmp / MANIFEST).write_text(json.dumps(full_manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    for f in tmp.iterdir():
        with f.open("rb") as fh:
            os.fsync(fh.fileno())
    _fsync_dir(tmp)


def _collect_garbage(index_dir: Path, keep: str) -> None:
    """Remove stale temporary folders and all but the newest generations: only folders whose
    names the index marker records and that carry this index's generation marker."""
    try:
        marker = _read_marker(index_dir)
    except (OSError, PartnerQAError) as e:
        log.warning("not collecting old generations in %s: %s", index_dir, e)
        return
    finished, stale, gone = [], [], []
    for name in marker["names"]:
        m = _WRITER_NAME.fullmatch(name)
        path = index_dir / name
        if m is None or not (path.exists() or path.is_symlink()):
            gone.append(name)
        elif not _is_ours(path, marker["id"], name):
            log.warning("not removing %s: it does not carry this index's generation marker", path)
        else:
            (stale if m.group(2) else finished).append(name)
    finished.sort()
    for name in stale + finished[:-_KEEP_GENERATIONS]:
        if name != keep:
            _remove_tree(index_dir / name)
            if not (index_dir / name).exists():
                gone.append(name)
    if gone:
        try:
            _record_names(index_dir, drop=gone)
        except (OSError, PartnerQAError) as e:
            log.warning("could not update %s: %s", index_dir / INDEX_MARKER, e)


def exact_top(vecs: np.ndarray, ids: np.ndarray, stored: np.ndarray, n: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The `n` best of `ids` for each query by inner product, best first (ties: lower row)."""
    n = min(n, len(ids))
    if n <= 0:
        return [(np.zeros(0, np.int64), np.zeros(0, np.float32)) for _ in vecs]
    sims = np.asarray(vecs, dtype=np.float32) @ stored.T
    return [top_rows(s, ids, n) for s in sims]


def top_rows(scores: np.ndarray, ids: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """The `n` best of `ids` by their aligned `scores`, best first (ties: lower row)."""
    n = min(n, len(ids))
    top = np.argpartition(-scores, n - 1)[:n] if 0 < n < len(scores) else np.arange(n)
    top = top[np.lexsort((ids[top], -scores[top]))]
    return ids[top], scores[top].astype(np.float32)


def flat_matrix(index: Any) -> np.ndarray | None:
    """The vectors of an exact (flat inner-product) FAISS index as a read-only (n, d) float32 view, without a copy;
    None for any other kind of index.

    One query scored by BLAS against this matrix takes ~0.35 ms at 10k rows where FAISS's own flat search,
    which scans row by row below 20 queries, takes 1-2 ms (two cores, eval/BENCH.md).
    """
    import faiss

    if type(index) is not faiss.IndexFlatIP or index.ntotal == 0:
        return None
    view = _flat_view(index)
    view.flags.writeable = False
    return view


def _flat_view(index: Any) -> np.ndarray:
    """A flat FAISS index's own vectors as an (n, d) float32 array: a view of its memory, no copy."""
    import faiss

    return faiss.rev_swig_ptr(index.get_xb(), index.ntotal * index.d).reshape(index.ntotal, index.d)


def doc_rows(chunks: Sequence[Chunk]) -> dict[str, np.ndarray]:
    """doc id -> the rows of its chunks, in row order."""
    by: dict[str, list[int]] = {}
    for i, c in enumerate(chunks):
        by.setdefault(c.doc_id, []).append(i)
    return {k: np.asarray(v, dtype=np.int64) for k, v in by.items()}
