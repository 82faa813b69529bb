"""`partnerqa ingest --ray`: chunking and embedding fanned out with Ray Data, written to either backend.

The ingest process discovers and loads the files (with its PDF worker processes) and keeps every
decision of `Ingestor` (content hashes, skips, pruning, the write); Ray Data splits the
documents into chunks in tasks and embeds the chunks in a pool of actors, each holding its own
embedder. Chunks are the same as the single-process path's (the same `Chunker`), and so are the
vectors (the same model; texts go out sorted by length as `Ingestor._embed` sends them).

Requires the `ray` extra: ``pip install -e '.[ray]'``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .chunker import Chunker
from .embedder import Embedder
from .pipeline import EMBED_STEP, Ingestor, Progress, _Discovered
from .types import Chunk, Document

log = logging.getLogger(__name__)

#: Documents per chunking task.
SPLIT_BATCH = 16


def _ray() -> Any:
    try:
        import ray
    except ImportError:
        raise ImportError("partnerqa ingest --ray needs Ray: pip install -e '.[ray]'") from None
    return ray


class RayRunner:
    """A Ray cluster to fan work out to: a local one by default, or the one at `address`.

    Args:
        address: `ray://host:10001` or `auto` for an existing cluster; None starts a local one.
        num_cpus: CPUs of the local cluster (None: all of this machine's).
        actors: Embedding actors (each loads the model once).
        batch_size: Texts per embedding call in an actor.
    """

    def __init__(self, address: str | None = None, *, num_cpus: int | None = None, actors: int = 2,
                 batch_size: int = EMBED_STEP) -> None:
        if actors < 1:
            raise ValueError(f"actors must be >= 1, got {actors!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
        if num_cpus is not None and num_cpus < 1:
            raise ValueError(f"num_cpus must be >= 1, got {num_cpus!r}")
        self.address = address
        self.num_cpus = num_cpus
        self.actors = actors
        self.batch_size = batch_size

    def start(self) -> None:
        """Connect to the cluster (or start the local one); a second call does nothing."""
        ray = _ray()
        if ray.is_initialized():
            return
        repo = str(Path(__file__).resolve().parents[1])
        # Workers import `ingest` from this checkout (a cluster's nodes need partnerqa installed).
        env = {"PYTHONPATH": os.pathsep.join([repo, *filter(None, [os.environ.get("PYTHONPATH")])]),
               "OMP_WAIT_POLICY": "PASSIVE", "HF_HUB_OFFLINE": "1"}
        if self.address:
            ray.init(address=self.address, runtime_env={"env_vars": env}, log_to_driver=False)
        else:
            ray.init(num_cpus=self.num_cpus or os.cpu_count() or 1, include_dashboard=False,
                     runtime_env={"env_vars": env}, log_to_driver=False)
        ray.data.DataContext.get_current().enable_progress_bars = False

    def split(self, docs: Sequence[Document], chunker: Chunker) -> list[list[Chunk]]:
        """Each document's chunks (`chunker.split`), computed in Ray tasks, in `docs` order."""
        if not docs:
            return []
        self.start()
        ray = _ray()
        def split_batch(batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
            out = [[c.to_record() for c in chunker.split(d)] for d in batch["doc"]]
            return {"i": batch["i"], "chunks": np.asarray(out + [None], dtype=object)[:-1]}

        ds = ray.data.from_items([{"i": i, "doc": d} for i, d in enumerate(docs)],
                                 override_num_blocks=max(1, min(len(docs) // SPLIT_BATCH, 8)))
        rows = ds.map_batches(split_batch, batch_size=SPLIT_BATCH, batch_format="numpy").take_all()
        rows.sort(key=lambda r: r["i"])
        return [[Chunk.from_record(c) for c in r["chunks"]] for r in rows]

    def embed(self, texts: Sequence[str], factory: Callable[[], Embedder], dimension: int) -> np.ndarray:
        """Vectors of `texts` (in order), embedded by `actors` actors that each build `factory()`."""
        if not texts:
            return np.zeros((0, dimension), dtype=np.float32)
        self.start()
        ray = _ray()

        class EmbedActor:
            def __init__(self) -> None:
                self.embedder = factory()

            def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
                vecs = self.embedder.embed([str(t) for t in batch["text"]])
                return {"i": batch["i"], "vector": np.asarray(vecs, dtype=np.float32)}

        blocks = max(1, min(len(texts) // self.batch_size, 4 * self.actors))
        ds = ray.data.from_items([{"i": i, "text": t} for i, t in enumerate(texts)], override_num_blocks=blocks)
        out = ds.map_batches(EmbedActor, batch_size=self.batch_size, batch_format="numpy",
                             concurrency=min(self.actors, blocks)).take_all()
        vecs = np.empty((len(texts), dimension), dtype=np.float32)
        for r in out:
            vecs[int(r["i"])] = r["vector"]
        return vecs


class RayIngestor(Ingestor):
    """An `Ingestor` whose chunking and embedding run on Ray (`RayRunner`).

    Args:
        index_dir, embedder, chunker, **kwargs: As `Ingestor`.
        runner: The Ray cluster.
        embedder_factory: Makes the embedder in each actor (the same weights as `embedder`;
            its fingerprint is checked against `embedder`'s in each actor's first batch).
    """

    def __init__(self, index_dir: str | Path, embedder: Embedder, chunker: Chunker | None = None, *,
                 runner: RayRunner, embedder_factory: Callable[[], Embedder], **kwargs: Any) -> None:
        super().__init__(index_dir, embedder, chunker, **kwargs)
        self.runner = runner
        self.embedder_factory = embedder_factory
        self._prechunked: dict[tuple[str, str], list[Chunk]] = {}

    @classmethod
    def from_settings(cls, settings: Any, embedder: Embedder | None = None, *,  # type: ignore[override]
                      runner: RayRunner | None = None) -> RayIngestor:
        """As `Ingestor.from_settings`, with the actors loading the same model on the same encoder
        (`PARTNERQA_ENCODER`; one thread each)."""
        from .embedder import make_embedder

        base = Ingestor.from_settings(settings, embedder)
        model, batch, encoder = settings.model or None, settings.batch_size, settings.encoder
        cache_dir = settings.cache_dir or None

        def factory() -> Embedder:
            return make_embedder(model, encoder=encoder, batch_size=batch, threads=1, cache_dir=cache_dir)

        out = cls(base.index_dir, base.embedder, base.chunker, runner=runner or RayRunner(),
                  embedder_factory=factory if embedder is None else (lambda: embedder),
                  max_file_mb=settings.max_file_mb, exact_max=base.exact_max, load_workers=base.load_workers,
                  max_doc_chars=base.max_doc_chars, max_doc_chunks=base.max_doc_chunks,
                  multilingual=base.multilingual, multilingual_max_chunks=base.multilingual_max_chunks,
                  store=base.store)
        return out

    def _documents(self, paths: Sequence[str | Path], found: _Discovered) -> Iterator[tuple[Document, str]]:
        pre = _Discovered()
        docs = list(super()._documents(paths, pre))
        found.skipped.extend(pre.skipped)
        found.roots |= pre.roots
        found.unloadable |= pre.unloadable
        chunks = self.runner.split([d for d, _ in docs], self.chunker)
        self._prechunked = {(d.doc_id, d.content_hash): c for (d, _), c in zip(docs, chunks)}
        real = self.chunker
        self.chunker = _Prechunked(real, self._prechunked)  # type: ignore[assignment]
        try:
            yield from docs
        finally:
            self.chunker = real
            self._prechunked = {}

    @property
    def stores_sentences(self) -> bool:
        """False: the actors return chunk vectors only (see `_embed`)."""
        return False

    def _embed(self, chunks: list[Chunk], progress: bool, note: Progress, embedder: Embedder | None = None,
               span: tuple[float, float] = (0.1, 0.95),
               sentences: dict[str, tuple[np.ndarray, np.ndarray]] | None = None, unit: str = "chunk") -> np.ndarray:
        """As `Ingestor._embed`, on the Ray actors; they return chunk vectors only, so an index built on Ray
        stores no sentence vectors (`sentences` stays empty) and the answerer embeds the sentences it reads.
        The multilingual channel (chunks and their sentences) is embedded here, as `Ingestor` does."""
        if embedder is not None and embedder is not self.embedder:
            return super()._embed(chunks, progress, note, embedder, span, unit=unit)
        if not chunks:
            return np.zeros((0, self.embedder.dimension), dtype=np.float32)
        order = sorted(range(len(chunks)), key=lambda i: len(chunks[i].text))  # as Ingestor._embed
        note(f"embedding {len(chunks)} chunks on Ray", span[0])
        vecs = self.runner.embed([chunks[i].text for i in order], self.embedder_factory, self.embedder.dimension)
        out = np.empty_like(vecs)
        out[np.asarray(order)] = vecs
        return out


class _Prechunked:
    """A `Chunker` whose answers were computed on Ray (falls back to splitting here)."""

    def __init__(self, chunker: Chunker, table: dict[tuple[str, str], list[Chunk]]) -> None:
        self._chunker = chunker
        self._table = table
        self.config = chunker.config
        self.chunk_size = chunker.chunk_size
        self.overlap = chunker.overlap

    def split(self, doc: Document) -> list[Chunk]:
        got = self._table.get((doc.doc_id, doc.content_hash))
        return list(got) if got is not None else self._chunker.split(doc)
