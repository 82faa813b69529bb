"""The index in Milvus (Lite in-process, a server, or a cluster): the same reading surface as the FAISS store.

Two collections, named from a prefix (`partnerqa` by default):

    PREFIX_chunks  one row a chunk: chunk_id (primary key), doc_id, seq (row order), title, page,
                   start, end, text, terms (our analyser's terms, space-joined: Milvus's BM25
                   function indexes them into `sparse`), vector (unit, inner product, HNSW)
    PREFIX_docs    documents and the manifest as JSON records cut into parts: pk "doc:ID:N" or
                   "manifest::0", kind, key, part, data (plus a 2-d placeholder vector: Milvus
                   wants one in every collection)

A write applies the difference against the manifest it finds: the chunks of removed and
changed documents are deleted by `doc_id`, the chunks of changed and new ones inserted, then the
manifest (with a new generation name) is written last. Before deleting, a manifest without the
documents about to change is written, so a write killed half-way is repaired by the next one
(it deletes by `doc_id` before inserting, so inserting again is harmless).

Requires the `milvus` extra: ``pip install -e '.[milvus]'``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .bm25 import BM25Index
from .errors import IndexCorruptError, IndexMismatchError, IndexNotFoundError, IndexWriteError, PartnerQAError
from .store import HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_M, DocRecord, doc_rows, exact_top
from .text import terms
from .types import Chunk

log = logging.getLogger(__name__)

#: The layout of the collections; a manifest of another format is refused.
MILVUS_FORMAT = 1
_PREFIX = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,40}")
#: Characters of a JSON record per part (VARCHAR limits are bytes: 4 per character at most).
_PART_CHARS = 16_000
_VARCHAR_MAX = 65_535
_BATCH = 1_000  # rows per insert, ids per `in [...]` filter
_ITER_BATCH = 4_000
#: A filtered dense search scans the allowed chunks' own vectors exactly up to this many
#: (measured on Milvus Lite: selective filters through HNSW missed most allowed rows).
EXACT_SUBSET = 20_000
#: BM25's parameters, those of `ingest.bm25.BM25Index`.
BM25_K1, BM25_B = 1.2, 0.75


def _quote(s: str) -> str:
    """A Milvus expression string literal."""
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _in(field_name: str, values: Sequence[str]) -> str:
    return f"{field_name} in [{', '.join(_quote(v) for v in values)}]"


def _batches(items: Sequence[Any], n: int = _BATCH) -> Iterator[Sequence[Any]]:
    for lo in range(0, len(items), n):
        yield items[lo:lo + n]


def _record_sha(rec: DocRecord) -> str:
    return hashlib.sha256(json.dumps(rec.to_record(), sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


class MilvusStore:
    """An index held in Milvus.

    Args:
        uri: A file path (Milvus Lite, in this process; its folder is created), or a server's
            address (`http://host:19530`); standalone and distributed Milvus differ only here.
        token: `user:password` or an API key for a server.
        prefix: Collection names start with it (`PREFIX_chunks`, `PREFIX_docs`).
    """

    backend = "milvus"
    keeps_vectors = True  # unchanged documents keep their rows; write ignores their vectors

    def __init__(self, uri: str, *, token: str = "", prefix: str = "partnerqa") -> None:
        if not uri:
            raise ValueError("uri must name a Milvus Lite file or a server, got ''")
        if not _PREFIX.fullmatch(prefix):
            raise ValueError(f"prefix must be letters, digits and _ (at most 41), got {prefix!r}")
        self.uri = uri
        self.token = token
        self.prefix = prefix
        self.chunks_name = f"{prefix}_chunks"
        self.docs_name = f"{prefix}_docs"
        self.local = "://" not in uri
        self.location = f"{uri} ({prefix}_*)"
        self._client: Any = None
        self._client_lock = threading.Lock()
        self._loaded: set[str] = set()

    # -- connection ----------------------------------------------------------------------------
    @property
    def client(self) -> Any:
        with self._client_lock:
            if self._client is None:
                try:
                    from pymilvus import MilvusClient
                except ImportError:
                    raise ImportError("the Milvus backend needs pymilvus: pip install -e '.[milvus]'") from None
                if self.local:
                    Path(self.uri).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
                    # gRPC's C core prints "too_many_pings" lines when pymilvus's keepalive meets Lite's
                    # in-process server (harmless); read when gRPC starts, so only if it has not yet.
                    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
                try:
                    self._client = MilvusClient(self.uri, token=self.token)
                except ImportError:
                    raise ImportError("Milvus Lite (a file URI) needs milvus-lite: pip install -e '.[milvus]'") from None
            return self._client

    def close(self) -> None:
        with self._client_lock:
            if self._client is not None:
                with contextlib.suppress(Exception):
                    self._client.close()
                self._client = None
            self._loaded.clear()

    def release(self) -> None:
        """Close, and let go of a Milvus Lite file so another process may open it (Lite opens a file
        in one process at a time). Every other store on that file in this process stops working."""
        self.close()
        if self.local:
            with contextlib.suppress(ImportError):
                from milvus_lite.server_manager import server_manager_instance

                server_manager_instance.release_server(str(Path(self.uri).expanduser().resolve()))
        self._loaded.clear()

    # -- the Store protocol ----------------------------------------------------------------------
    def exists(self) -> bool:
        return self.current_generation() is not None

    def current_generation(self) -> str | None:
        m = self._manifest()
        return None if m is None else str(m.get("generation") or "") or None

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """One writer at a time on this machine (a file lock next to a Lite file, or in the temp folder)."""
        if self.local:
            path = Path(self.uri).expanduser().resolve()
            path.parent.mkdir(parents=True, exist_ok=True)
            lock_path = path.with_name(path.name + ".lock")
        else:
            key = hashlib.sha256(f"{self.uri}|{self.prefix}".encode()).hexdigest()[:16]
            lock_path = Path(tempfile.gettempdir()) / f"partnerqa-milvus-{key}.lock"
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def load(self, embedder_fingerprint: str | None = None) -> MilvusSnapshot:
        """The live index: manifest checked, documents and chunks read, offsets checked.

        Raises:
            IndexNotFoundError: no manifest in the collections.
            IndexMismatchError: another layout, or built with another embedder.
            IndexCorruptError: chunks or documents missing, or a chunk that does not slice its document.
        """
        manifest = self._manifest()
        if manifest is None:
            raise IndexNotFoundError(f"no index in Milvus at {self.location} (run: partnerqa ingest --backend milvus)")
        if manifest.get("milvus_format") != MILVUS_FORMAT:
            raise IndexMismatchError(f"the Milvus index at {self.location} has layout {manifest.get('milvus_format')!r}; "
                                     f"this partnerqa reads {MILVUS_FORMAT}. Rebuild it with: partnerqa ingest --rebuild")
        emb = manifest.get("embedder") or {}
        if embedder_fingerprint is not None and emb.get("fingerprint") != embedder_fingerprint:
            raise IndexMismatchError(
                f"the Milvus index at {self.location} was built with embedder {emb.get('name')!r} "
                f"({str(emb.get('fingerprint'))[:19]}...), not the one configured now ({embedder_fingerprint[:19]}...). "
                "Use the same model (PARTNERQA_MODEL) or rebuild: partnerqa ingest --rebuild")
        if not self._has(self.chunks_name):
            raise IndexCorruptError(f"the Milvus index at {self.location} has a manifest but no {self.chunks_name}")
        docs = self._read_docs(list(manifest.get("documents", {})))
        rows = self._read_chunks(int(manifest.get("next_seq", 0)))
        chunks = [Chunk(r["chunk_id"], r["doc_id"], r["text"], int(r["start"]), int(r["end"]),
                        None if r["page"] < 0 else int(r["page"]), r["title"]) for r in rows]
        if set(docs) != set(manifest.get("documents", {})) or len(chunks) != manifest.get("n_chunks"):
            raise IndexCorruptError(f"the Milvus index at {self.location} is inconsistent: {len(docs)} documents and "
                                    f"{len(chunks)} chunks, the manifest lists {len(manifest.get('documents', {}))} "
                                    f"and {manifest.get('n_chunks')} (a write was interrupted: run partnerqa ingest --rebuild)")
        for c in chunks:
            doc = docs.get(c.doc_id)
            if doc is None or doc.text[c.start:c.end] != c.text:
                raise IndexCorruptError(f"the Milvus index at {self.location} is inconsistent: chunk {c.chunk_id!r} "
                                        "does not slice its document")
        # The answerer's term statistics (idf, repeated sentences) come from our BM25 over the chunk
        # texts; the keyword *channel* is Milvus's BM25 (search_keyword).
        bm25 = BM25Index.build([c.text for c in chunks])
        return MilvusSnapshot(self, dict(manifest), docs, chunks, bm25, str(manifest["generation"]))

    def write(self, manifest: Mapping[str, Any], docs: list[DocRecord], chunks: list[Chunk], vectors: np.ndarray,
              exact_max: int = 0, channels: Mapping[str, tuple[Mapping[str, Any], np.ndarray]] | None = None,
              sentences: Any = None) -> str:
        """Make the index hold exactly `docs` and `chunks` (with `vectors`, row for row).

        Only documents whose content hash changed are deleted and inserted; `exact_max` is
        unused (Milvus indexes with HNSW at every size). Extra vector channels and the
        stored sentence vectors are not kept (the answerer embeds the sentences it reads).

        Raises:
            IndexWriteError: Milvus refused a write; the next ingest repairs a half-done one.
        """
        if vectors.shape[0] != len(chunks):
            raise ValueError(f"{vectors.shape[0]} vectors for {len(chunks)} chunks")
        if len(vectors) and not np.isfinite(vectors).all():
            raise ValueError("refusing to write NaN or infinite vectors")
        if channels:
            log.warning("the Milvus backend does not store the extra vector channels (%s)", ", ".join(channels))
        for c in chunks:
            if len(c.text.encode("utf-8")) > _VARCHAR_MAX:
                raise ValueError(f"chunk {c.chunk_id!r} is over {_VARCHAR_MAX} bytes, Milvus's VARCHAR limit")
        try:
            return self._write(manifest, docs, chunks, vectors)
        except (ValueError, PartnerQAError):
            raise
        except Exception as e:  # noqa: BLE001 - pymilvus raises its own family and grpc errors
            raise IndexWriteError(f"Milvus at {self.location} refused a write ({type(e).__name__}: "
                                  f"{str(e)[:200]}); run the ingest again to finish it") from None

    # -- writing ---------------------------------------------------------------------------------
    def _write(self, manifest: Mapping[str, Any], docs: list[DocRecord], chunks: list[Chunk],
               vectors: np.ndarray) -> str:
        dim = int(manifest["dimension"])
        old = self._manifest()
        if old is not None and (old.get("milvus_format") != MILVUS_FORMAT or old.get("dimension") != dim
                                or old.get("embedder") != manifest.get("embedder")
                                or old.get("chunker") != manifest.get("chunker")):
            log.info("Milvus index at %s: other embedder, chunker or layout; rewriting it", self.location)
            self.drop()
            old = None
        self._ensure_collections(dim)
        self._has(self.chunks_name)
        old_hashes: dict[str, str] = dict(old.get("documents", {})) if old else {}
        old_records: dict[str, str] = dict(old.get("records", {})) if old else {}
        new_hashes = {d.doc_id: d.content_hash for d in docs}
        gone = [d for d in old_hashes if d not in new_hashes]
        changed = [d for d, h in new_hashes.items() if old_hashes.get(d) != h]
        number = int(str(old.get("generation", "gen-0")).split("-")[-1]) if old else 0
        name = f"gen-{number + 1:06d}"
        next_seq = int(old.get("next_seq", 0)) if old else 0
        if gone or changed:  # the state after the deletes, so an interrupted write is redone, not trusted
            pending = {d: h for d, h in old_hashes.items() if d in new_hashes and d not in changed}
            self._put_manifest({**(old or manifest), "documents": pending, "generation": f"gen-{number:06d}",
                                "n_chunks": -1, "records": {d: old_records.get(d, "") for d in pending}})
        stale = gone + changed
        for ids in _batches(stale):
            self.client.delete(self.chunks_name, filter=_in("doc_id", list(ids)))
            self.client.delete(self.docs_name, filter="kind == \"doc\" and " + _in("key", list(ids)))
        fresh = set(changed)
        rows = []
        for i, c in enumerate(chunks):
            if c.doc_id in fresh:
                rows.append({"chunk_id": c.chunk_id, "doc_id": c.doc_id, "seq": next_seq + i, "title": c.title,
                             "page": -1 if c.page is None else int(c.page), "start": int(c.start), "end": int(c.end),
                             "text": c.text, "terms": " ".join(terms(c.text)), "vector": vectors[i].tolist()})
        next_seq += len(chunks)
        for part in _batches(rows):
            self.client.insert(self.chunks_name, list(part))
        records = {}
        doc_rows = []
        for d in docs:
            sha = _record_sha(d)
            records[d.doc_id] = sha
            if old_records.get(d.doc_id) == sha and d.doc_id not in fresh:
                continue
            if d.doc_id not in fresh:  # same text, new record (provenance edited): replace the record only
                self.client.delete(self.docs_name, filter="kind == \"doc\" and " + _in("key", [d.doc_id]))
            doc_rows += _record_rows("doc", d.doc_id, json.dumps(d.to_record(), ensure_ascii=False))
        for part in _batches(doc_rows, 100):
            self.client.insert(self.docs_name, list(part))
        self._put_manifest({**manifest, "milvus_format": MILVUS_FORMAT, "generation": name, "n_chunks": len(chunks),
                            "n_docs": len(docs), "records": records, "next_seq": next_seq, "channels": {},
                            "faiss": "milvus", "backend": "milvus"})
        # Seal what was written: Milvus Lite otherwise keeps it in its memtable, whose indexes it
        # rebuilds on every search (measured at 2,000 chunks: 417 -> 96 ms a dense search, 1,743 -> 69
        # ms a BM25 one); a server persists it.
        for coll in (self.chunks_name, self.docs_name):
            self.client.flush(coll)
        return name

    def index_params(self) -> dict[str, dict[str, Any]]:
        """What Milvus says its two indexes were built with (`describe_index`), by field."""
        return {f: dict(self.client.describe_index(self.chunks_name, f)) for f in ("vector", "sparse")}

    def drop(self) -> None:
        """Delete both collections (everything this store holds)."""
        for name in (self.chunks_name, self.docs_name):
            self._loaded.discard(name)
            if self.client.has_collection(name):
                self.client.drop_collection(name)

    def _ensure_collections(self, dim: int) -> None:
        c = self.client
        # pymilvus waits for an index by asking for a timestamp that Milvus Lite does not serve: its
        # in-process gRPC server logs an error for each, and the index is built all the same.
        grpc_log = logging.getLogger("grpc._server")
        level = grpc_log.level
        grpc_log.setLevel(logging.CRITICAL)
        try:
            self._create_collections(c, dim)
        finally:
            grpc_log.setLevel(level)

    def _create_collections(self, c: Any, dim: int) -> None:
        from pymilvus import DataType, Function, FunctionType

        if not c.has_collection(self.chunks_name):
            s = c.create_schema(auto_id=False)
            s.add_field("chunk_id", DataType.VARCHAR, is_primary=True, max_length=2048)
            s.add_field("doc_id", DataType.VARCHAR, max_length=2048)
            s.add_field("seq", DataType.INT64)
            s.add_field("title", DataType.VARCHAR, max_length=_VARCHAR_MAX)
            s.add_field("page", DataType.INT64)
            s.add_field("start", DataType.INT64)
            s.add_field("end", DataType.INT64)
            s.add_field("text", DataType.VARCHAR, max_length=_VARCHAR_MAX)
            # Our analyser's terms (stop words out, plurals folded, digit groups joined, Korean
            # bigrams), space-joined: Milvus's standard tokenizer splits them back, so its BM25
            # counts the same terms ours does.
            s.add_field("terms", DataType.VARCHAR, max_length=_VARCHAR_MAX, enable_analyzer=True,
                        analyzer_params={"tokenizer": "standard"})
            s.add_field("vector", DataType.FLOAT_VECTOR, dim=dim)
            s.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
            s.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["terms"],
                                    output_field_names=["sparse"]))
            ip = c.prepare_index_params()
            # Nested under "params": pymilvus 3.0.2 sends top-level params where Milvus Lite ignores
            # them (it then built HNSW with its defaults and scored BM25 with k1=1.5, not our 1.2).
            # `index_params` reads them back, and a test checks it.
            ip.add_index("vector", index_type="HNSW", metric_type="IP",
                         params={"params": {"M": HNSW_M, "efConstruction": HNSW_EF_CONSTRUCTION}})
            ip.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                         params={"params": {"bm25_k1": BM25_K1, "bm25_b": BM25_B}})
            _create(c, self.chunks_name, schema=s, index_params=ip)
        if not c.has_collection(self.docs_name):
            s = c.create_schema(auto_id=False)
            s.add_field("pk", DataType.VARCHAR, is_primary=True, max_length=4200)
            s.add_field("kind", DataType.VARCHAR, max_length=16)
            s.add_field("key", DataType.VARCHAR, max_length=4096)
            s.add_field("part", DataType.INT64)
            s.add_field("data", DataType.VARCHAR, max_length=_VARCHAR_MAX)
            s.add_field("placeholder", DataType.FLOAT_VECTOR, dim=2)
            ip = c.prepare_index_params()
            ip.add_index("placeholder", index_type="FLAT", metric_type="L2")
            _create(c, self.docs_name, schema=s, index_params=ip)

    def _has(self, name: str) -> bool:
        """The collection exists, loaded for queries (a reopened Lite file or a restarted server
        holds its collections released)."""
        if name in self._loaded:
            return True
        if not self.client.has_collection(name):
            return False
        self.client.load_collection(name)
        self._loaded.add(name)
        return True

    def _put_manifest(self, manifest: Mapping[str, Any]) -> None:
        data = json.dumps(manifest, ensure_ascii=False)
        self.client.delete(self.docs_name, filter='kind == "manifest"')
        self.client.insert(self.docs_name, _record_rows("manifest", "", data))

    # -- reading ---------------------------------------------------------------------------------
    def _manifest(self) -> dict[str, Any] | None:
        if not self._has(self.docs_name):
            return None
        rows = self.client.query(self.docs_name, filter='kind == "manifest"', output_fields=["part", "data"],
                                 limit=16_384)
        if not rows:
            return None
        try:
            out = json.loads("".join(r["data"] for r in sorted(rows, key=lambda r: r["part"])))
        except ValueError as e:
            raise IndexCorruptError(f"the Milvus index at {self.location} has an unreadable manifest: {e}") from None
        if not isinstance(out, dict):
            raise IndexCorruptError(f"the Milvus index at {self.location} has a manifest that is not an object")
        return out

    def _read_docs(self, doc_ids: list[str]) -> dict[str, DocRecord]:
        parts: dict[str, list[tuple[int, str]]] = {}
        for ids in _batches(doc_ids, 16):  # at most 188 parts a document (3M characters): under query's limit
            for r in self.client.query(self.docs_name, filter='kind == "doc" and ' + _in("key", list(ids)),
                                       output_fields=["key", "part", "data"], limit=16_384):
                parts.setdefault(r["key"], []).append((int(r["part"]), r["data"]))
        out = {}
        for key, ps in parts.items():
            try:
                rec = DocRecord.from_record(json.loads("".join(d for _, d in sorted(ps))))
            except (ValueError, KeyError, TypeError) as e:
                raise IndexCorruptError(f"the Milvus index at {self.location} has an unreadable document "
                                        f"{key[:80]!r}: {e}") from None
            out[rec.doc_id] = rec
        return out

    def _read_chunks(self, next_seq: int) -> list[dict[str, Any]]:
        """Every chunk row (no vectors), in `seq` order, read in `seq` ranges."""
        fields = ["chunk_id", "doc_id", "seq", "title", "page", "start", "end", "text"]
        rows: list[dict[str, Any]] = []
        for lo in range(0, next_seq, _ITER_BATCH):
            rows += self.client.query(self.chunks_name, filter=f"seq >= {lo} and seq < {lo + _ITER_BATCH}",
                                      output_fields=fields, limit=_ITER_BATCH)
        rows.sort(key=lambda r: r["seq"])
        return rows

    def vectors_of(self, chunk_ids: Sequence[str]) -> np.ndarray:
        """The stored vectors of `chunk_ids`, in that order."""
        got: dict[str, Any] = {}
        for ids in _batches(list(chunk_ids)):
            for r in self.client.query(self.chunks_name, filter=_in("chunk_id", list(ids)),
                                       output_fields=["chunk_id", "vector"], limit=len(ids)):
                got[r["chunk_id"]] = r["vector"]
        missing = [c for c in chunk_ids if c not in got]
        if missing:
            raise IndexCorruptError(f"the Milvus index at {self.location} has no vector for chunk {missing[0]!r}")
        return np.asarray([got[c] for c in chunk_ids], dtype=np.float32).reshape(len(chunk_ids), -1)


def _create(client: Any, name: str, **kwargs: Any) -> None:
    """Create a collection; a retried call that finds it made by the first attempt is not an error."""
    try:
        client.create_collection(name, consistency_level="Strong", **kwargs)
    except Exception as e:
        if "already exist" not in str(e) or not client.has_collection(name):
            raise


def _record_rows(kind: str, key: str, data: str) -> list[dict[str, Any]]:
    parts = [data[i:i + _PART_CHARS] for i in range(0, len(data), _PART_CHARS)] or [""]
    return [{"pk": f"{kind}:{key}:{n}", "kind": kind, "key": key, "part": n, "data": p, "placeholder": [0.0, 0.0]}
            for n, p in enumerate(parts)]


@dataclass
class MilvusSnapshot:
    """The live Milvus index as the retriever and answerer read it (`IndexSnapshot`'s surface).

    Documents and chunk texts are held in memory (citations check offsets against them, and the
    answerer reads whole documents); vectors stay in Milvus, and both channels search there.
    """

    store: MilvusStore
    manifest: dict[str, Any]
    docs: dict[str, DocRecord]
    chunks: list[Chunk]
    bm25: BM25Index
    generation: str
    channels: dict[str, Any] = field(default_factory=dict)
    sentences: Any = None  # sentence vectors are not stored in Milvus
    faiss_index: Any = None
    _doc_rows: dict[str, np.ndarray] = field(default_factory=dict, repr=False)
    _row_of: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def path(self) -> str:
        return self.store.location

    @property
    def dimension(self) -> int:
        return int(self.manifest["dimension"])

    def rows_of(self, doc_id: str) -> np.ndarray:
        if not self._doc_rows:
            self._doc_rows.update(doc_rows(self.chunks))
        return self._doc_rows.get(doc_id, np.zeros(0, dtype=np.int64))

    def row_of(self, chunk_id: str) -> int | None:
        if not self._row_of:
            self._row_of.update({c.chunk_id: i for i, c in enumerate(self.chunks)})
        return self._row_of.get(chunk_id)

    def vectors(self, rows: np.ndarray) -> np.ndarray:
        if len(rows) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self.store.vectors_of([self.chunks[int(r)].chunk_id for r in rows])

    def channel_info(self, name: str) -> dict[str, Any] | None:
        return None

    def channel_vectors(self, name: str, rows: np.ndarray) -> np.ndarray:
        raise KeyError(name)

    def _rows(self, hits: Sequence[Any], negate: bool) -> tuple[np.ndarray, np.ndarray]:
        rows, scores = [], []
        for h in hits:
            r = self.row_of(h["chunk_id"])
            if r is not None:  # a chunk written after this snapshot was read
                rows.append(r)
                d = float(h["distance"])
                scores.append(abs(d) if negate else d)
        return np.asarray(rows, dtype=np.int64), np.asarray(scores, dtype=np.float32)

    def search_dense(self, vecs: np.ndarray, n: int, doc_ids: Sequence[str] | None = None
                     ) -> list[tuple[np.ndarray, np.ndarray]]:
        """The `n` nearest chunks of each query vector (inner product), best first, as (rows, scores).

        With `doc_ids`, only their chunks: up to `EXACT_SUBSET` of them scanned exactly.
        """
        if doc_ids is not None:
            ids = np.concatenate([self.rows_of(d) for d in doc_ids]) if doc_ids else np.zeros(0, np.int64)
            ids = np.unique(ids)
            if len(ids) <= EXACT_SUBSET:
                return exact_top(vecs, ids, self.vectors(ids), n)
        n = min(n, len(self.chunks))
        res = self.store.client.search(
            self.store.chunks_name, data=[v.tolist() for v in vecs], anns_field="vector", limit=n,
            filter=_in("doc_id", list(doc_ids)) if doc_ids is not None else "",
            search_params={"metric_type": "IP", "params": {"ef": max(HNSW_EF_SEARCH, n)}}, output_fields=["chunk_id"])
        return [self._rows(hits, negate=False) for hits in res]

    def search_keyword(self, queries: Sequence[str], n: int, doc_ids: Sequence[str] | None = None
                       ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Milvus's BM25 over the chunks' terms: the `n` best rows of each query, as (rows, scores)."""
        out: list[tuple[np.ndarray, np.ndarray]] = [(np.zeros(0, np.int64), np.zeros(0, np.float32))] * len(queries)
        texts = [" ".join(terms(q)) for q in queries]
        todo = [i for i, t in enumerate(texts) if t]
        if not todo or (doc_ids is not None and not doc_ids):
            return out
        res = self.store.client.search(
            self.store.chunks_name, data=[texts[i] for i in todo], anns_field="sparse", limit=min(n, len(self.chunks)),
            filter=_in("doc_id", list(doc_ids)) if doc_ids is not None else "",
            search_params={"metric_type": "BM25"}, output_fields=["chunk_id"])
        for i, hits in zip(todo, res):
            rows, scores = self._rows(hits, negate=True)  # Milvus Lite returns BM25 scores negated
            keep = scores > 0
            out[i] = (rows[keep], scores[keep])
        return out
