"""The three systems the bench compares, as each worker builds them.

* partnerqa's own embedder (or, for `--fake`, `HashEmbedder`; above `--embed-max`,
  `PoolEmbedder`, whose vectors come from a real corpus's embeddings);
* the stock LangChain recipe: loaders, `RecursiveCharacterTextSplitter`,
  `HuggingFaceEmbeddings` and the extractive `ContextualCompressionRetriever` chain;
* the hardware's limit: the fastest encoder's raw throughput (the encoders experiment picks it;
  `SentenceTransformer.encode` when it is torch or the experiment was skipped).

`TimedEmbedder` and `timed_lc` wrap an embedder to time the encoder's share of an ingest.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eval.bench.workloads import ANSWER_K


class HashEmbedder:
    """A fast deterministic bag-of-words embedder for `--fake` runs (no model)."""

    def __init__(self, dimension: int = 384) -> None:
        self.dimension = dimension
        self.name = "bench-hash"

    def fingerprint(self) -> str:
        return f"bench-hash:{self.dimension}"

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for w in re.findall(r"\w+", text.lower()):
                h = int.from_bytes(hashlib.blake2b(w.encode(), digest_size=8).digest(), "little")
                out[row, h % self.dimension] += 1.0 if h >> 63 else -1.0
        out[:, 0] += 1e-3
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return np.ascontiguousarray(out)


class PoolEmbedder:
    """Vectors for any text, derived from a pool of real embeddings (no model run).

    A text's vector is `normalise(pool[i] + 0.5 * pool[j] + 0.3 * noise[m])`, with i, j, m
    taken from a hash of the text: deterministic, spread like real embeddings of the same
    corpus, and distinct for distinct texts. Used to build 100k-chunk indexes without
    embedding 100k chunks; the encoder's time is then projected, not measured.
    """

    def __init__(self, pool: np.ndarray, *, name: str = "pool", fingerprint: str = "pool") -> None:
        if pool.ndim != 2 or len(pool) < 2:
            raise ValueError(f"pool must be an (n >= 2, d) array, got shape {pool.shape}")
        self.pool = np.ascontiguousarray(pool, dtype=np.float32)
        self.dimension = int(pool.shape[1])
        self.name = name
        self._fingerprint = fingerprint
        noise = np.random.default_rng(12345).standard_normal((4096, self.dimension)).astype(np.float32)
        self.noise = noise / np.linalg.norm(noise, axis=1, keepdims=True)

    def fingerprint(self) -> str:
        return self._fingerprint

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if not len(texts):
            return np.zeros((0, self.dimension), np.float32)
        h = np.array([int.from_bytes(hashlib.blake2b(t.encode("utf-8", "surrogatepass"), digest_size=8).digest(),
                                     "little") for t in texts], dtype=np.uint64)
        n = np.uint64(len(self.pool))
        i = (h % n).astype(np.int64)
        j = ((h // n) % n).astype(np.int64)
        m = ((h >> np.uint64(40)) % np.uint64(len(self.noise))).astype(np.int64)
        v = self.pool[i] + 0.5 * self.pool[j] + 0.3 * self.noise[m]
        v /= np.linalg.norm(v, axis=1, keepdims=True)
        return np.ascontiguousarray(v, dtype=np.float32)

    def embed_sentences(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
                        ) -> tuple[np.ndarray, list[np.ndarray]]:
        """As the real encoders: the texts' vectors and their sentences' (here derived from the sentence text)."""
        return self.embed(texts), [self.embed([t[a:b] for a, b in sp]) for t, sp in zip(texts, spans)]


class TimedEmbedder:
    """Wraps an embedder and adds up the wall and CPU seconds spent inside `embed`."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.texts = 0
        self.name = inner.name
        self.dimension = inner.dimension
        self.seconds = self.cpu_seconds = 0.0
        if callable(getattr(inner, "embed_sentences", None)):  # the ingest then stores sentence vectors
            self.embed_sentences = self._embed_sentences

    def fingerprint(self) -> str:
        return self.inner.fingerprint()

    def _embed_sentences(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]) -> Any:
        self.texts += len(texts)
        t, c = time.perf_counter(), time.process_time()
        try:
            return self.inner.embed_sentences(texts, spans)
        finally:
            self.seconds += time.perf_counter() - t
            self.cpu_seconds += time.process_time() - c

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        self.texts += len(texts)
        t, c = time.perf_counter(), time.process_time()
        try:
            return self.inner.embed(texts)
        finally:
            self.seconds += time.perf_counter() - t
            self.cpu_seconds += time.process_time() - c


def lc_embeddings(embedder: Any) -> Any:
    """A partnerqa-style embedder behind LangChain's `Embeddings` (for --fake and pooled runs)."""
    from langchain_core.embeddings import Embeddings

    class _Adapter(Embeddings):
        seconds = cpu_seconds = 0.0

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            t, c = time.perf_counter(), time.process_time()
            out = embedder.embed(texts).tolist()
            type(self).seconds += time.perf_counter() - t
            type(self).cpu_seconds += time.process_time() - c
            return out

        def embed_query(self, text: str) -> list[float]:
            return embedder.embed([text])[0].tolist()

    return _Adapter()


def timed_lc(inner: Any) -> Any:
    """LangChain `Embeddings` that delegate to `inner` and add up the time spent in it."""
    from langchain_core.embeddings import Embeddings

    class _Timed(Embeddings):
        seconds = cpu_seconds = 0.0

        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            t, c = time.perf_counter(), time.process_time()
            try:
                return inner.embed_documents(texts)
            finally:
                type(self).seconds += time.perf_counter() - t
                type(self).cpu_seconds += time.process_time() - c

        def embed_query(self, text: str) -> list[float]:
            return inner.embed_query(text)

    return _Timed()


def model_embedder(spec: Mapping[str, Any]) -> Any:
    """partnerqa's embedder for a worker: the real one, or the fake one for --fake."""
    if spec.get("fake"):
        return HashEmbedder()
    from ingest.embedder import embedder_from_settings
    from ingest.settings import Settings

    settings = Settings.from_env()  # PARTNERQA_ENCODER (`partnerqa --encoder X bench`) picks the encoder
    emb = embedder_from_settings(settings)
    emb.warm_up()
    emb.embed(["warm up"])
    return emb


def pool_embedder(spec: Mapping[str, Any], real_fingerprint: str) -> Any:
    from ingest.store import load_snapshot

    snap = load_snapshot(Path(spec["pool"]))
    vecs = snap.vectors(np.arange(len(snap.chunks)))
    return PoolEmbedder(vecs, name="pool", fingerprint=real_fingerprint)


def raw_model(spec: Mapping[str, Any]) -> Callable[[list[str]], np.ndarray]:
    """The hardware limit's encoder: `spec["limit_encoder"]` (default torch) bare, batch 32.

    torch is `SentenceTransformer.encode` as it comes; an ONNX encoder is `OnnxEmbedder.embed`, which is
    already nothing but tokenise, one session run per batch and pooling.
    """
    if spec.get("fake"):
        fake = HashEmbedder()
        return lambda texts, batch_size=32: fake.embed(texts)
    encoder = spec.get("limit_encoder") or "torch"
    if encoder != "torch":
        return raw_encoder(encoder)
    from sentence_transformers import SentenceTransformer

    from ingest.embedder import bundled_model_path

    model = SentenceTransformer(str(bundled_model_path()), device="cpu")
    model.encode(["warm up"])
    return lambda texts, batch_size=32: model.encode(texts, batch_size=batch_size, normalize_embeddings=True)


def raw_encoder(encoder: str, batch_size: int = 32) -> Callable[[list[str]], np.ndarray]:
    """`encoder`'s bare embed (torch, onnx, onnx-int8), warmed up, with no fallback: a bench must not
    time torch under another encoder's name."""
    if encoder == "torch":
        return raw_model({"limit_encoder": "torch"})
    from ingest.onnx_embedder import ONNX_VARIANTS, OnnxEmbedder
    from ingest.settings import Settings

    settings = Settings.from_env()
    emb = OnnxEmbedder(variant=ONNX_VARIANTS[encoder], batch_size=batch_size, threads=settings.threads,
                       cache_dir=settings.cache_dir or None)
    emb.warm_up()
    emb.embed(["warm up"])
    return lambda texts, batch_size=batch_size: emb.embed(texts)


def stock_embeddings(spec: Mapping[str, Any]) -> Any:
    if spec.get("fake"):
        return lc_embeddings(HashEmbedder())
    from langchain_huggingface import HuggingFaceEmbeddings

    from ingest.embedder import bundled_model_path

    emb = HuggingFaceEmbeddings(model_name=str(bundled_model_path()), model_kwargs={"device": "cpu"})
    emb.embed_query("warm up")
    return emb


def stock_load(folder: Path) -> list[Any]:
    from langchain_community.document_loaders import PyPDFLoader, TextLoader

    docs = []
    for f in sorted(folder.iterdir()):
        suffix = f.suffix.lower()
        if suffix == ".pdf":
            docs.extend(PyPDFLoader(str(f), password="").load())
        elif suffix in (".txt", ".md") and not f.name.startswith("."):
            docs.extend(TextLoader(str(f), encoding="utf-8").load())
    return docs


def stock_splitter() -> Any:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from ingest.settings import Settings

    s = Settings.from_env()
    return RecursiveCharacterTextSplitter(chunk_size=s.chunk_size, chunk_overlap=s.chunk_overlap)


def stock_answer_chain(vs: Any, emb: Any) -> Any:
    """LangChain's extractive recipe: contextual compression to the best sentences."""
    from langchain_classic.retrievers import ContextualCompressionRetriever
    from langchain_classic.retrievers.document_compressors import DocumentCompressorPipeline, EmbeddingsFilter
    from langchain_community.document_transformers import EmbeddingsRedundantFilter
    from langchain_text_splitters import CharacterTextSplitter

    pipeline = DocumentCompressorPipeline(transformers=[
        CharacterTextSplitter(chunk_size=300, chunk_overlap=0, separator=". "),
        EmbeddingsRedundantFilter(embeddings=emb),
        EmbeddingsFilter(embeddings=emb, k=3),
    ])
    return ContextualCompressionRetriever(base_compressor=pipeline,
                                          base_retriever=vs.as_retriever(search_kwargs={"k": ANSWER_K}))
