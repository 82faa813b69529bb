"""The index on disk: a folder of generations, switched atomically.

Layout::

    INDEX/
      CURRENT          name of the live generation (replaced atomically)
      .lock            held by the one writer at a time
      gen-000007/
        manifest.json  format, embedder name + fingerprint, dimension, chunker, documents
        docs.jsonl     one document a line: id, text, pages, metadata, hash, added_at
        chunks.jsonl   one chunk a line, in FAISS row order
        vectors.faiss  FAISS index (inner product over unit vectors)
        vectors-e5.faiss  the same chunks in another embedder's space, one file per extra
                       channel (the manifest's "channels" names each with its fingerprint)
        bm25.npz/json  the BM25 postings and vocabulary

A writer builds a new generation beside the live one, fsyncs it, then replaces
CURRENT. A reader that opened the old generation keeps a consistent view; one
killed writer leaves at most a `*.tmp` folder, removed by the next writer.
Nothing here is unpickled: JSON, JSONL, `np.load(allow_pickle=False)` and FAISS's
own binary format.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator, Mapping

import numpy as np

from .bm25 import BM25Index
from .errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError
from .types import Chunk

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
_CURRENT = "CURRENT"
_KEEP_GENERATIONS = 2


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
    def from_record(cls, r: Mapping[str, Any]) -> "DocRecord":
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
    _doc_rows: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    @property
    def dimension(self) -> int:
        return int(self.manifest["dimension"])

    def rows_of(self, doc_id: str) -> np.ndarray:
        if not self._doc_rows:
            by: dict[str, list[int]] = {}
            for i, c in enumerate(self.chunks):
                by.setdefault(c.doc_id, []).append(i)
            self._doc_rows.update({k: np.asarray(v, dtype=np.int64) for k, v in by.items()})
        return self._doc_rows.get(doc_id, np.zeros(0, dtype=np.int64))

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


_GENERATION_NAME = re.compile(r"gen-\d{6}")
_CHANNEL_NAME = re.compile(r"[a-z0-9][a-z0-9_]{0,31}")


def channel_file(name: str) -> str:
    """The file an extra vector channel is stored in (``vectors-e5.faiss``)."""
    if not _CHANNEL_NAME.fullmatch(name):
        raise ValueError(f"channel name must be [a-z0-9_], at most 32 characters, got {name!r}")
    return f"vectors-{name}.faiss"
_LOAD_ATTEMPTS = 3


def current_generation(index_dir: Path) -> str | None:
    """The live generation's folder name, or None when there is no index.

    Raises:
        IndexCorruptError: CURRENT names something that is not a generation folder
            (a path like `../elsewhere` is never followed).
    """
    try:
        name = (Path(index_dir) / _CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as e:
        raise IndexCorruptError(f"unreadable {Path(index_dir) / _CURRENT}: {e}") from None
    if not name:
        return None
    if not _GENERATION_NAME.fullmatch(name):
        raise IndexCorruptError(f"{Path(index_dir) / _CURRENT} names {name[:40]!r}, not a generation (gen-NNNNNN)")
    return name


def exists(index_dir: Path) -> bool:
    return current_generation(index_dir) is not None


def load_snapshot(index_dir: Path, *, embedder_fingerprint: str | None = None, mmap: bool = False) -> IndexSnapshot:
    """Load the live generation.

    Args:
        index_dir: The index folder.
        embedder_fingerprint: When given, refuse an index built with other weights.
        mmap: Memory-map the FAISS file instead of reading it (flat indexes).

    Raises:
        IndexNotFoundError: no index there.
        IndexMismatchError: unknown format, or built with a different embedder.
        IndexCorruptError: files missing or inconsistent.
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


def _load_generation(index_dir: Path, gen: str, embedder_fingerprint: str | None, mmap: bool) -> IndexSnapshot:
    import faiss

    path = index_dir / gen
    try:
        manifest = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise IndexCorruptError(f"unreadable manifest in {path}: {e}") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("embedder", {}), dict):
        raise IndexCorruptError(f"manifest in {path} is not a JSON object of the expected shape")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise IndexMismatchError(
            f"index at {index_dir} has format {manifest.get('format_version')!r}; this partnerqa reads "
            f"format {FORMAT_VERSION}. Rebuild it with: partnerqa ingest --rebuild"
        )
    emb = manifest.get("embedder", {})
    if embedder_fingerprint is not None and emb.get("fingerprint") != embedder_fingerprint:
        raise IndexMismatchError(
            f"index at {index_dir} was built with embedder {emb.get('name')!r} ({emb.get('fingerprint', '?')[:19]}...), "
            f"not the one configured now ({embedder_fingerprint[:19]}...). Use the same model "
            f"(PARTNERQA_MODEL) or rebuild: partnerqa ingest --rebuild"
        )
    try:
        docs = {}
        with (path / "docs.jsonl").open(encoding="utf-8") as fh:
            for line in fh:
                rec = DocRecord.from_record(_object(json.loads(line)))
                docs[rec.doc_id] = rec
        with (path / "chunks.jsonl").open(encoding="utf-8") as fh:
            chunks = [Chunk.from_record(_object(json.loads(line))) for line in fh]
        flags = faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY if mmap else 0
        findex = faiss.read_index(str(path / "vectors.faiss"), flags)
        bm25 = BM25Index.load(path)
        channels = _load_channels(path, manifest, flags)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RuntimeError) as e:
        raise IndexCorruptError(f"index at {path} is unreadable: {type(e).__name__}: {str(e)[:200]}") from None
    if findex.ntotal != len(chunks) or bm25.n_docs != len(chunks) or findex.d != manifest.get("dimension"):
        raise IndexCorruptError(
            f"index at {path} is inconsistent: {findex.ntotal} vectors, {len(chunks)} chunks, {bm25.n_docs} BM25 rows"
        )
    for name, cindex in channels.items():
        if cindex.ntotal != len(chunks) or cindex.d != manifest["channels"][name].get("dimension"):
            raise IndexCorruptError(f"index at {path} is inconsistent: channel {name!r} has {cindex.ntotal} vectors "
                                    f"of {cindex.d} dimensions for {len(chunks)} chunks")
    for c in chunks:  # a citation is only as good as its offsets: check them once, here
        doc = docs.get(c.doc_id)
        if doc is None or not (0 <= c.start <= c.end <= len(doc.text)) or doc.text[c.start:c.end] != c.text:
            raise IndexCorruptError(f"index at {path} is inconsistent: chunk {c.chunk_id!r} does not slice its document")
    return IndexSnapshot(path, manifest, docs, chunks, findex, bm25, gen, channels)


def _load_channels(path: Path, manifest: Mapping[str, Any], flags: int) -> dict[str, Any]:
    """The extra vector channels the manifest lists (none in an index written before they existed)."""
    import faiss

    listed = manifest.get("channels", {})
    if not isinstance(listed, dict):
        raise TypeError("manifest 'channels' is not an object")
    out = {}
    for name, info in listed.items():
        if not isinstance(info, dict) or info.get("file") != channel_file(name):
            raise ValueError(f"manifest channel {name!r} has the wrong shape")
        out[name] = faiss.read_index(str(path / info["file"]), flags)
    return out


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


@contextlib.contextmanager
def writer_lock(index_dir: Path, timeout: float = 600.0) -> Iterator[None]:
    """Hold the index's single-writer lock (a `flock`, released if the holder dies)."""
    index_dir = Path(index_dir)
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "a+") as fh:
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
                     channels: Mapping[str, tuple[Mapping[str, Any], np.ndarray]] | None = None) -> str:
    """Write a complete new generation and make it live. Call under `writer_lock`.

    Args:
        channels: Extra vector channels, name -> (its manifest record: name, fingerprint,
            dimension; its vectors in chunk order). Each is written to `channel_file(name)`
            (exact or HNSW by the same rule as the main vectors) and listed under the
            manifest's "channels", replacing whatever `manifest` said about channels.

    Returns the new generation's name.
    """
    import faiss

    index_dir = Path(index_dir)
    if vectors.shape[0] != len(chunks):
        raise ValueError(f"{vectors.shape[0]} vectors for {len(chunks)} chunks")
    channels = dict(channels or {})
    for cname, (_info, cvecs) in channels.items():
        channel_file(cname)
        if cvecs.ndim != 2 or cvecs.shape[0] != len(chunks):
            raise ValueError(f"channel {cname!r}: {cvecs.shape[0]} vectors for {len(chunks)} chunks")
    live = current_generation(index_dir)
    number = int(live.split("-")[1]) + 1 if live else 1
    name = f"gen-{number:06d}"
    tmp = index_dir / f"{name}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    _write_jsonl(tmp / "docs.jsonl", (d.to_record() for d in docs))
    _write_jsonl(tmp / "chunks.jsonl", (c.to_record() for c in chunks))
    faiss.write_index(build_faiss(vectors, exact_max), str(tmp / "vectors.faiss"))
    channel_records = {}
    for cname, (info, cvecs) in channels.items():
        faiss.write_index(build_faiss(cvecs, exact_max), str(tmp / channel_file(cname)))
        channel_records[cname] = {**info, "dimension": int(cvecs.shape[1]), "normalized": True,
                                  "file": channel_file(cname)}
    BM25Index.build([c.text for c in chunks]).save(tmp)
    full_manifest = {**manifest, "channels": channel_records, "format_version": FORMAT_VERSION, "generation": name,
                     "n_chunks": len(chunks), "n_docs": len(docs), "faiss": faiss_kind(len(chunks), exact_max)}
    (tmp / "manifest.json").write_text(json.dumps(full_manifest, indent=2, ensure_ascii=False), encoding="utf-8")
    for f in tmp.iterdir():
        with f.open("rb") as fh:
            os.fsync(fh.fileno())
    _fsync_dir(tmp)
    final = index_dir / name
    if final.exists():
        shutil.rmtree(final)
    os.rename(tmp, final)
    pointer = index_dir / f"{_CURRENT}.tmp"
    with pointer.open("w", encoding="utf-8") as fh:
        fh.write(name + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(pointer, index_dir / _CURRENT)
    _fsync_dir(index_dir)
    _collect_garbage(index_dir, keep=name)
    return name


def _collect_garbage(index_dir: Path, keep: str) -> None:
    """Remove stale temporary folders and all but the newest generations."""
    gens = sorted(p for p in index_dir.iterdir() if p.is_dir() and p.name.startswith("gen-"))
    finished = [p for p in gens if not p.name.endswith(".tmp")]
    stale = [p for p in gens if p.name.endswith(".tmp")] + finished[:-_KEEP_GENERATIONS]
    for p in stale:
        if p.name != keep:
            shutil.rmtree(p, ignore_errors=True)
