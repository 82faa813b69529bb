"""Speed of partnerqa against the stock LangChain recipe and against the hardware's limit.

`partnerqa bench` (or `python -m eval.bench`) measures, on this machine, in one run:

* ingestion (documents, pages and chunks per second, peak memory, index size) of `seeds/`,
  the Apple 10-Q PDFs in `../shared/bench/sec10q_aapl/docs/` and synthetic corpora;
* query latency (p50/p95) of retrieval alone, of a batch of queries and of a full
  extractive answer, and the serving memory, at 1k, 10k and 100k chunks;
* cold start: process start to first answer (`partnerqa ask` in a subprocess);
* the recall@10 of the approximate (HNSW) index against exact search;
* query-embedding latency next to a busy neighbour process, with and without
  `OMP_WAIT_POLICY=PASSIVE` (what `configure_threads()` sets).

Each figure is also taken for the stock LangChain recipe (`HuggingFaceEmbeddings`,
`RecursiveCharacterTextSplitter`, `FAISS.from_documents`, `.similarity_search`) and for
the hardware's limit (raw `SentenceTransformer.encode` and raw FAISS search), and the
ratios partnerqa/stock and partnerqa/limit are printed. Figures are medians of repeated
runs. Every measurement runs in its own subprocess (`--worker`), so thread settings apply
before torch is imported and memory figures belong to one job.

Corpora above `--embed-max` chunks are not embedded by the model: their vectors are
derived from the real embeddings of the largest embedded corpus (see `PoolEmbedder`), and
the encoder's share of their ingestion time is projected from the encoder rate measured
on that corpus. Everything else in those runs (loading, chunking, BM25, FAISS, writing)
is measured.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = Path("reports/bench")
SEC_DOCS = REPO.parent / "shared" / "bench" / "sec10q_aapl" / "docs"
SEEDS = REPO / "seeds"
SEEDS_QUESTION = "About how many advanced chips were agreed to at the APEC event?"
K = 5  # passages per retrieval, for every system
ANSWER_K = 8  # passages an answer is built from (the Answerer's default)
STOCK_SUFFIXES = (".txt", ".md", ".pdf")


# --------------------------------------------------------------------------- pure helpers
def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation between closest ranks.

    Matches `numpy.percentile(values, q)` (its default, "linear" method).

    Raises:
        ValueError: no values, or q outside [0, 100].
    """
    if not 0 <= q <= 100:
        raise ValueError(f"q must be in [0, 100], got {q!r}")
    xs = sorted(float(v) for v in values)
    if not xs:
        raise ValueError("percentile of no values")
    pos = (len(xs) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def median(values: Sequence[float]) -> float:
    """The median (the 50th percentile)."""
    return percentile(values, 50)


def ratio(ours: float | None, theirs: float | None) -> float | None:
    """ours / theirs, or None when either is missing or theirs is not positive."""
    if ours is None or theirs is None or theirs <= 0 or not math.isfinite(ours) or not math.isfinite(theirs):
        return None
    return ours / theirs


def fmt_ratio(r: float | None) -> str:
    """A ratio as `0.93x`; `-` when there is none."""
    if r is None:
        return "-"
    return f"{r:.2f}x" if r < 100 else f"{r:.0f}x"


def fmt_value(v: float | None) -> str:
    """A figure with three significant digits (no exponent below a million); `-` for None."""
    if v is None:
        return "-"
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1000:
        return f"{v:,.0f}"
    if a >= 100:
        return f"{v:.0f}"
    if a >= 10:
        return f"{v:.1f}"
    if a >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


# --------------------------------------------------------------------------- synthetic corpus
_COMMON = """the of and to in a is that for it as was with be by on not this are or from at which but have
an they were has been would more will if no when what so can who about other into time only new some could
these two may first then any like now over such even most made after also many before must through back years
where much way well down should because each just those people how too little state good very make world still
own see work long get here between both life being under never day same another know while last might great
old year off come since against go came right used take three part during without again place around however
small found public every number country group system program report market plan support policy process level
result national increase company service development government level rate data lead share growth""".split()  # noqa: SIM905
_DOMAIN = """chip chips semiconductor memory wafer foundry fab gpu accelerator cluster datacenter supercomputer
server rack cooling power grid energy nuclear reactor battery robot robotics autonomous vehicle factory
manufacturing supply chain export license tariff investment billion million percent revenue quarter fiscal net
sales margin income tax dividend shares cash debt agreement partnership ministry president summit minister
minister alliance cooperation research laboratory university startup talent engineer model training inference
network telecom cloud software platform architecture transistor bandwidth latency throughput token language
vision speech sensor satellite quantum biotech pharmaceutical shipbuilding steel automotive display battery
iphone mac ipad services wearables europe china japan korea americas pacific""".split()  # noqa: SIM905
_SYLLABLES = ("ka", "ri", "to", "mu", "sen", "dor", "vel", "an", "gi", "pho", "lux", "tra", "ne", "bo", "quin", "sa")


def _tail_word(i: int) -> str:
    """A made-up proper name for rank i of the long tail (distinct for distinct i)."""
    parts = []
    i += 16 * 16  # at least three syllables
    while i:
        i, r = divmod(i, len(_SYLLABLES))
        parts.append(_SYLLABLES[r])
    return "".join(parts).capitalize()


@dataclass(frozen=True)
class SyntheticDoc:
    """One generated document: `doc_id` is also its file name."""

    doc_id: str
    text: str


def synthetic_document(index: int, seed: int = 0, *, sentences: tuple[int, int] = (30, 60)) -> SyntheticDoc:
    """The `index`-th synthetic document; the same (index, seed) always gives the same text.

    English-like sentences: words drawn Zipf-like from a common and a domain vocabulary,
    with a long tail of made-up names (so BM25 postings look like a real corpus's), and
    numbers and years sprinkled in.
    """
    rng = np.random.default_rng([seed, index])
    n_sent = int(rng.integers(sentences[0], sentences[1] + 1))
    vocab = _COMMON + _DOMAIN
    ranks = np.arange(1, len(vocab) + 1, dtype=np.float64)
    p = 1.0 / ranks**1.05
    p /= p.sum()
    out = []
    topic = [_tail_word(int(t)) for t in rng.integers(0, 50_000, size=3)]  # the document's recurring names
    for _ in range(n_sent):
        n_words = int(rng.integers(8, 24))
        ids = rng.choice(len(vocab), size=n_words, p=p)
        words = [vocab[i] for i in ids]
        for j in range(n_words):
            u = rng.random()
            if u < 0.06:
                words[j] = topic[int(rng.integers(0, 3))]
            elif u < 0.10:
                words[j] = _tail_word(int(rng.zipf(1.3)) % 200_000)
            elif u < 0.12:
                words[j] = str(int(rng.integers(1990, 2030))) if rng.random() < 0.5 else f"{rng.integers(1, 999):d}.{rng.integers(0, 9):d}"
        words[0] = words[0].capitalize()
        out.append(" ".join(words) + ".")
        if rng.random() < 0.15:
            out.append("\n\n")
    text = " ".join(out).replace(" \n\n ", "\n\n").strip()
    return SyntheticDoc(f"synthetic_{seed}_{index:06d}.txt", text + "\n")


def synthetic_corpus(n_chunks: int, count_chunks: Callable[[str], int], seed: int = 0) -> list[SyntheticDoc]:
    """Synthetic documents, in order, until `count_chunks` says they hold >= `n_chunks` chunks."""
    if n_chunks < 1:
        raise ValueError(f"n_chunks must be >= 1, got {n_chunks!r}")
    docs: list[SyntheticDoc] = []
    total = 0
    while total < n_chunks:
        d = synthetic_document(len(docs), seed)
        docs.append(d)
        total += count_chunks(d.text)
    return docs


def synthetic_queries(docs: Sequence[SyntheticDoc], n: int, seed: int = 0) -> list[str]:
    """`n` questions, each made of a run of words from a sentence of one document."""
    rng = np.random.default_rng([seed, 7_777])
    out = []
    for _ in range(n):
        d = docs[int(rng.integers(0, len(docs)))]
        sents = [s for s in re.split(r"(?<=\.)\s+", d.text) if len(s.split()) >= 8]
        words = sents[int(rng.integers(0, len(sents)))].rstrip(".").split()
        lo = int(rng.integers(0, len(words) - 6))
        out.append("What about " + " ".join(words[lo:lo + int(rng.integers(4, 8))]).lower() + "?")
    return out


def write_corpus(docs: Iterable[SyntheticDoc], folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for d in docs:
        (folder / d.doc_id).write_text(d.text, encoding="utf-8")
    return folder


# --------------------------------------------------------------------------- embedders for the bench
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


class TimedEmbedder:
    """Wraps an embedder and adds up the wall and CPU seconds spent inside `embed`."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.texts = 0
        self.name = inner.name
        self.dimension = inner.dimension
        self.seconds = self.cpu_seconds = 0.0

    def fingerprint(self) -> str:
        return self.inner.fingerprint()

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        self.texts += len(texts)
        t, c = time.perf_counter(), time.process_time()
        try:
            return self.inner.embed(texts)
        finally:
            self.seconds += time.perf_counter() - t
            self.cpu_seconds += time.process_time() - c


def _lc_embeddings(embedder: Any) -> Any:
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


def _timed_lc(inner: Any) -> Any:
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


# --------------------------------------------------------------------------- memory
class PeakRSS:
    """Samples this process's resident memory in a thread; `peak_mb` and `delta_mb` after exit."""

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.base = self.peak = 0
        self._stop = threading.Event()

    @staticmethod
    def rss() -> int:
        try:
            with open("/proc/self/statm") as fh:
                return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:  # not Linux: the lifetime peak is the best there is
            import resource

            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * (1 if sys.platform == "darwin" else 1024)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, self.rss())

    def __enter__(self) -> Self:
        self.base = self.peak = self.rss()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.rss())

    @property
    def peak_mb(self) -> float:
        return self.peak / 2**20

    @property
    def delta_mb(self) -> float:
        return (self.peak - self.base) / 2**20


def cpu_time() -> float:
    """CPU seconds of this process and of its finished children (partnerqa's PDF workers)."""
    t = os.times()  # children's times only here: os.times ticks in 10 ms steps
    return time.process_time() + t.children_user + t.children_system


def max_rss_mb() -> float:
    """This process's lifetime peak resident memory."""
    import resource

    r = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return r / 2**20 if sys.platform == "darwin" else r / 1024


def folder_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in Path(folder).rglob("*") if p.is_file()) / 2**20


# --------------------------------------------------------------------------- workers (subprocesses)
def _model_embedder(spec: Mapping[str, Any]) -> Any:
    """partnerqa's embedder for a worker: the real one, or the fake one for --fake."""
    if spec.get("fake"):
        return HashEmbedder()
    from ingest.embedder import SentenceTransformerEmbedder
    from ingest.settings import Settings

    settings = Settings.from_env()
    emb = SentenceTransformerEmbedder(batch_size=settings.batch_size, threads=settings.threads)
    emb.warm_up()
    emb.embed(["warm up"])
    return emb


def _pool_embedder(spec: Mapping[str, Any], real_fingerprint: str) -> Any:
    from ingest.store import load_snapshot

    snap = load_snapshot(Path(spec["pool"]))
    vecs = snap.vectors(np.arange(len(snap.chunks)))
    return PoolEmbedder(vecs, name="pool", fingerprint=real_fingerprint)


def _raw_model(spec: Mapping[str, Any]) -> Callable[[list[str]], np.ndarray]:
    """The hardware limit's encoder: `SentenceTransformer.encode` as it comes."""
    if spec.get("fake"):
        fake = HashEmbedder()
        return lambda texts, batch_size=32: fake.embed(texts)
    from sentence_transformers import SentenceTransformer

    from ingest.embedder import bundled_model_path

    model = SentenceTransformer(str(bundled_model_path()), device="cpu")
    model.encode(["warm up"])
    return lambda texts, batch_size=32: model.encode(texts, batch_size=batch_size, normalize_embeddings=True)


def _stock_embeddings(spec: Mapping[str, Any]) -> Any:
    if spec.get("fake"):
        return _lc_embeddings(HashEmbedder())
    from langchain_huggingface import HuggingFaceEmbeddings

    from ingest.embedder import bundled_model_path

    emb = HuggingFaceEmbeddings(model_name=str(bundled_model_path()), model_kwargs={"device": "cpu"})
    emb.embed_query("warm up")
    return emb


def _count_pages(folder: Path) -> tuple[int, int]:
    """(documents, pages) that partnerqa's loaders see in a folder (a text file is one page)."""
    from ingest.loaders import load_file

    docs = pages = 0
    for f in sorted(folder.iterdir()):
        if f.suffix.lower() not in STOCK_SUFFIXES or f.name.startswith("."):
            continue
        for d in load_file(f, f.name):
            docs += 1
            pages += max(1, len(d.pages))
    return docs, pages


def _stock_load(folder: Path) -> list[Any]:
    from langchain_community.document_loaders import PyPDFLoader, TextLoader

    docs = []
    for f in sorted(folder.iterdir()):
        suffix = f.suffix.lower()
        if suffix == ".pdf":
            docs.extend(PyPDFLoader(str(f), password="").load())
        elif suffix in (".txt", ".md") and not f.name.startswith("."):
            docs.extend(TextLoader(str(f), encoding="utf-8").load())
    return docs


def _stock_splitter() -> Any:
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from ingest.settings import Settings

    s = Settings.from_env()
    return RecursiveCharacterTextSplitter(chunk_size=s.chunk_size, chunk_overlap=s.chunk_overlap)


def worker_ingest(spec: Mapping[str, Any]) -> dict[str, Any]:
    """One ingest of one corpus by one system, in a process of its own.

    A fresh process per run, so no run inherits another's heap: memory figures are each
    system's own, whatever ran before it. The model is loaded (and warmed up) before
    timing and memory sampling start, as a server or a CLI that already loaded it would be.

    * partnerqa: `Ingestor` (load, clean, chunk, embed, BM25, FAISS, write); its time in
      the embedder is kept apart, for projecting pooled runs.
    * stock: the LangChain recipe (loaders, splitter, `FAISS.from_documents`, `save_local`).
    * limit: `SentenceTransformer.encode` (batch 32) of partnerqa's chunks from the index
      at `spec["pqa_index"]`, nothing else; with `sample_every` > 1, every n-th chunk in
      length order (the same length mix), and the time scaled back up.
    """
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from ingest.chunker import Chunker
    from ingest.pipeline import Ingestor
    from ingest.settings import Settings

    corpus, idx = Path(spec["corpus"]), Path(spec["index"])
    system = spec["system"]
    settings = Settings.from_env()
    pooled = bool(spec.get("pool"))
    shutil.rmtree(idx, ignore_errors=True)
    if system == "limit":
        from ingest.store import load_snapshot

        raw = _raw_model(spec)
        texts = sorted((c.text for c in load_snapshot(Path(spec["pqa_index"])).chunks), key=len)
        every = max(1, int(spec.get("sample_every", 1)))
        sample = texts[::every]
        t, c = time.perf_counter(), cpu_time()
        raw(sample)
        secs, cpu = time.perf_counter() - t, cpu_time() - c
        scale = len(texts) / len(sample)
        return {"seconds": secs * scale, "cpu_seconds": cpu * scale, "chunks": len(texts), "sampled": len(sample)}
    real = _model_embedder(spec)
    if system == "partnerqa":
        emb = _pool_embedder(spec, real.fingerprint()) if pooled else real
        timed = TimedEmbedder(emb)
        ing = Ingestor(idx, timed, Chunker(settings.chunk_size, settings.chunk_overlap),
                       max_file_mb=settings.max_file_mb, exact_max=settings.exact_max,
                       load_workers=settings.load_workers)
        with PeakRSS() as mem:
            t, c = time.perf_counter(), cpu_time()
            rep = ing.ingest([corpus], rebuild=True)
            secs, cpu = time.perf_counter() - t, cpu_time() - c
        gen = idx / (idx / "CURRENT").read_text().strip()
        manifest = json.loads((gen / "manifest.json").read_text())
        return {"seconds": secs, "cpu_seconds": cpu, "embed_seconds": timed.seconds,
                "embed_cpu_seconds": timed.cpu_seconds, "chunks": rep.total_chunks, "docs": rep.total_docs,
                "peak_mb": mem.peak_mb, "delta_mb": mem.delta_mb, "index_mb": folder_mb(gen),
                "faiss": manifest.get("faiss"), "skipped": len(rep.skipped)}
    from langchain_community.vectorstores import FAISS

    stock_emb = _lc_embeddings(_pool_embedder(spec, real.fingerprint())) if pooled \
        else _timed_lc(_stock_embeddings(spec))
    del real
    with PeakRSS() as mem:
        t, c = time.perf_counter(), cpu_time()
        lc_docs = _stock_load(corpus)
        splits = _stock_splitter().split_documents(lc_docs)
        vs = FAISS.from_documents(splits, stock_emb)
        vs.save_local(str(idx))
        secs, cpu = time.perf_counter() - t, cpu_time() - c
    return {"seconds": secs, "cpu_seconds": cpu, "embed_seconds": getattr(stock_emb, "seconds", None),
            "embed_cpu_seconds": getattr(stock_emb, "cpu_seconds", None), "chunks": len(splits),
            "docs": len({d.metadata.get("source") for d in lc_docs}), "peak_mb": mem.peak_mb,
            "delta_mb": mem.delta_mb, "index_mb": folder_mb(idx)}


def ingest_corpus(b: Bench, corpus: Path, work: Path, systems: Sequence[str], repeats: int, *, fake: bool,
                  pool: str | None = None, sample_every: int = 1) -> dict[str, Any]:
    """`repeats` rounds of ingesting `corpus`, each system in a fresh process, the order
    turning round by round (partnerqa before the limit in the first round: the limit
    encodes partnerqa's chunks). Returns the per-system runs and the last indexes."""
    docs, pages = _count_pages(corpus)
    out: dict[str, Any] = {"docs": docs, "pages": pages, "pooled": bool(pool)}
    systems = [s for s in ("partnerqa", "stock", "limit") if s in systems and not (pool and s == "limit")]
    out.update({s: [] for s in systems})
    last: dict[str, Path] = {}
    for r in range(repeats):
        order = systems if r % 2 == 0 else systems[::-1]
        if r == 0 and "limit" in order:
            order = [s for s in order if s != "limit"] + ["limit"]
        for system in order:
            idx = work / f"{system}-{r}"
            spec = {"corpus": str(corpus), "index": str(idx), "system": system, "fake": fake,
                    "pool": pool, "pqa_index": str(last.get("partnerqa", "")), "sample_every": sample_every}
            out[system].append(b.run("ingest", spec))
            if system != "limit":
                if system in last:
                    shutil.rmtree(last[system], ignore_errors=True)
                last[system] = idx
    out["pqa_index"] = str(last.get("partnerqa", ""))
    out["stock_index"] = str(last.get("stock", ""))
    return out


def _sentences_for(hits: Sequence[Any]) -> list[str]:
    from ingest.text import sentence_spans

    return [h.text[s:e] for h in hits for s, e in sentence_spans(h.text)]


def _rounds(spec: Mapping[str, Any]) -> tuple[list[list[str]], list[str]]:
    """The measured rounds, each with its own questions (an answer cache must not make a
    later round look fast), and the warm-up questions, asked before any of them."""
    queries, n, r = list(spec["queries"]), int(spec["per_round"]), int(spec["rounds"])
    return [queries[i * n:(i + 1) * n] for i in range(r)], queries[r * n:] or queries[:4]


def worker_serve_partnerqa(spec: Mapping[str, Any]) -> dict[str, Any]:
    """partnerqa's query latency and serving memory, and the hardware limit on the same index.

    The limit's measurements alternate with partnerqa's query by query, so both see the
    same machine load.
    """
    import faiss

    from ingest.store import HNSW_EF_SEARCH, load_snapshot
    from rag.answer import Answerer
    from rag.retriever import Retriever

    rounds, warm = _rounds(spec)
    emb = _model_embedder(spec)
    t = time.perf_counter()
    snap = load_snapshot(Path(spec["index"]))
    load_s = time.perf_counter() - t
    retr = Retriever(snap, emb, k=K)
    ans = Answerer(retr, k=ANSWER_K)
    for q in warm:
        ans.answer(q)
        retr.search(q)
    retr.search_batch(warm)
    res: dict[str, Any] = {"n_chunks": len(snap.chunks), "faiss": snap.manifest.get("faiss"), "load_s": load_s,
                           "retrieve": [], "batch": [], "answer": [], "answer_stage": []}
    res["serving_mb"] = max_rss_mb()  # before anything of the limit's is loaded
    limit = bool(spec.get("limit"))
    index = snap.faiss_index
    hnsw = snap.manifest.get("faiss") == "hnsw"
    params = faiss.SearchParametersHNSW(efSearch=max(HNSW_EF_SEARCH, retr.candidates)) if hnsw else None
    flat = None
    if limit:
        # The hardware limit: raw encode + raw FAISS search on this very index.
        raw = _raw_model(spec)
        sentences = {q: _sentences_for(retr.search(q, ANSWER_K)) for qs in rounds for q in qs}
        if hnsw:
            flat = faiss.IndexFlatIP(snap.dimension)
            flat.add(snap.vectors(np.arange(len(snap.chunks))))
        res.update({"limit_retrieve": [], "limit_batch": [], "limit_answer": [], "limit_embed": [],
                    "limit_search": [], "limit_search_flat": []})

    def search(idx: Any, v: np.ndarray, k: int) -> Any:
        return idx.search(v, k, params=params) if (params is not None and idx is index) else idx.search(v, k)

    def ms(t0: float) -> float:
        return (time.perf_counter() - t0) * 1000

    for queries in rounds:
        batch = queries[: int(spec["batch"])]
        lat, lim, emb_ms, srch, srch_flat = [], [], [], [], []
        for q in queries:
            t0 = time.perf_counter()
            retr.search(q)
            lat.append(ms(t0))
            if limit:
                t0 = time.perf_counter()
                v = np.ascontiguousarray(raw([q]), dtype=np.float32)
                t1 = time.perf_counter()
                search(index, v, K)
                lim.append(ms(t0))
                emb_ms.append((t1 - t0) * 1000)
                srch.append(ms(t1))
                t1 = time.perf_counter()
                (flat or index).search(v, K)
                srch_flat.append(ms(t1))
        res["retrieve"].append(lat)
        retr.clear_query_cache()  # the batch's questions were just searched one by one
        t0 = time.perf_counter()
        retr.search_batch(batch)
        res["batch"].append(ms(t0) / len(batch))
        if limit:
            res["limit_retrieve"].append(lim)
            res["limit_embed"].append(emb_ms)
            res["limit_search"].append(srch)
            res["limit_search_flat"].append(srch_flat)
            t0 = time.perf_counter()
            search(index, np.ascontiguousarray(raw(batch), dtype=np.float32), K)
            res["limit_batch"].append(ms(t0) / len(batch))
        lat, lim, stage = [], [], []
        retr.clear_query_cache()
        for q in queries:
            t0 = time.perf_counter()
            a = ans.answer(q)
            lat.append(ms(t0))
            stage.append(dict(a.timings))
            if limit:
                t0 = time.perf_counter()
                search(index, np.ascontiguousarray(raw([q]), dtype=np.float32), ANSWER_K)
                raw([q] + sentences[q])
                lim.append(ms(t0))
        res["answer"].append(lat)
        res["answer_stage"].append(stage)
        if limit:
            res["limit_answer"].append(lim)
    if flat is not None:  # recall of the approximate index against exact search
        qv = np.ascontiguousarray(emb.embed(list(spec.get("recall_queries") or rounds[0])), dtype=np.float32)
        _, exact = flat.search(qv, 10)
        _, approx = index.search(qv, 10, params=params)
        res["recall@10"] = float(np.mean([len(set(a) & set(e)) / 10 for a, e in zip(approx, exact)]))
        res["efSearch"] = params.efSearch
    if spec.get("faiss_sizes"):
        res["faiss_sizes"] = faiss_sizes(snap.vectors(np.arange(len(snap.chunks))),
                                         np.ascontiguousarray(emb.embed(rounds[0]), dtype=np.float32),
                                         [n for n in spec["faiss_sizes"] if n <= len(snap.chunks)])
    return res


def faiss_sizes(vectors: np.ndarray, queries: np.ndarray, sizes: Sequence[int]) -> dict[str, Any]:
    """What `exact_max` trades: a flat scan's single-query time by corpus size, HNSW's search
    and build time, on the bench's own vectors."""
    import faiss

    from ingest.store import HNSW_EF_SEARCH, build_faiss

    def p50(index: Any, params: Any = None) -> float:
        lat = []
        for q in queries:
            t = time.perf_counter()
            index.search(q[None], 50, params=params) if params is not None else index.search(q[None], 50)
            lat.append((time.perf_counter() - t) * 1000)
        return median(lat)

    out: dict[str, Any] = {"flat_p50_ms": {}, "hnsw_p50_ms": {}}
    for n in sizes:
        flat = faiss.IndexFlatIP(vectors.shape[1])
        flat.add(vectors[:n])
        out["flat_p50_ms"][str(n)] = p50(flat)
        del flat
    n_build = min(len(vectors), 20_000)
    t = time.perf_counter()
    hnsw = build_faiss(vectors[:n_build], exact_max=0)
    out["hnsw_build_ms_per_vector"] = (time.perf_counter() - t) * 1000 / n_build
    out["hnsw_p50_ms"][str(n_build)] = p50(hnsw, faiss.SearchParametersHNSW(efSearch=HNSW_EF_SEARCH))
    return out


def _stock_answer_chain(vs: Any, emb: Any) -> Any:
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


def worker_serve_stock(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The stock recipe's query latency and serving memory."""
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import logging

    logging.getLogger("langchain_text_splitters").setLevel(logging.ERROR)  # "Created a chunk of size ..."
    from langchain_community.vectorstores import FAISS

    rounds, warm = _rounds(spec)
    emb = _stock_embeddings(spec)
    t = time.perf_counter()
    vs = FAISS.load_local(spec["index"], emb, allow_dangerous_deserialization=True)
    load_s = time.perf_counter() - t
    retriever = vs.as_retriever(search_kwargs={"k": K})
    chain = _stock_answer_chain(vs, emb)
    for q in warm:
        chain.invoke(q)
        vs.similarity_search(q, k=K)
    retriever.batch(warm)
    res: dict[str, Any] = {"load_s": load_s, "retrieve": [], "batch": [], "answer": []}
    for r, queries in enumerate(rounds):
        batch = queries[: int(spec["batch"])]
        lat = []
        for q in queries:
            t = time.perf_counter()
            vs.similarity_search(q, k=K)
            lat.append((time.perf_counter() - t) * 1000)
        res["retrieve"].append(lat)
        t = time.perf_counter()
        retriever.batch(batch)
        res["batch"].append((time.perf_counter() - t) * 1000 / len(batch))
        lat = []
        for q in queries:
            t = time.perf_counter()
            docs = chain.invoke(q)
            " ".join(d.page_content for d in docs[:3])
            lat.append((time.perf_counter() - t) * 1000)
        res["answer"].append(lat)
        if r == 0:
            res["serving_mb"] = max_rss_mb()
    return res


def worker_stock_ask(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Cold start of the stock recipe: load, retrieve, compress, print the answer."""
    import warnings

    warnings.filterwarnings("ignore")
    from langchain_community.vectorstores import FAISS
    from langchain_huggingface import HuggingFaceEmbeddings

    from ingest.embedder import bundled_model_path

    emb = HuggingFaceEmbeddings(model_name=str(bundled_model_path()), model_kwargs={"device": "cpu"})
    vs = FAISS.load_local(spec["index"], emb, allow_dangerous_deserialization=True)
    docs = _stock_answer_chain(vs, emb).invoke(spec["question"])
    print(" ".join(d.page_content for d in docs[:3]))
    return {}


def worker_limit_ask(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Cold start of the hardware limit: load the model and the FAISS file, encode, search."""
    import faiss
    from sentence_transformers import SentenceTransformer

    from ingest.embedder import bundled_model_path

    index_dir = Path(spec["index"])
    gen = index_dir / (index_dir / "CURRENT").read_text().strip()
    model = SentenceTransformer(str(bundled_model_path()), device="cpu")
    index = faiss.read_index(str(gen / "vectors.faiss"))
    _, rows = index.search(model.encode([spec["question"]], normalize_embeddings=True), K)
    print(rows[0].tolist())
    return {}


def worker_threads(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Single-query embedding latency; the parent sets (or clears) OMP_WAIT_POLICY."""
    if spec.get("configure"):
        from ingest.embedder import configure_threads

        configure_threads()
    import torch  # torch reads the OpenMP settings now, whatever comes later

    from ingest.embedder import SentenceTransformerEmbedder

    emb = SentenceTransformerEmbedder()
    emb.embed(["warm up"])
    for q in spec["queries"][:3]:
        emb.embed([q])
    ready = Path(spec["ready"])
    ready.write_text("1")  # the parent starts the neighbour now
    go = Path(spec["go"])
    deadline = time.monotonic() + 30
    while not go.exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    lat = []
    for q in spec["queries"]:
        t = time.perf_counter()
        emb.embed([q])
        lat.append((time.perf_counter() - t) * 1000)
    return {"lat": lat, "torch_threads": torch.get_num_threads(),
            "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", "")}


WORKERS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "ingest": worker_ingest,
    "serve-partnerqa": worker_serve_partnerqa,
    "serve-stock": worker_serve_stock,
    "stock-ask": worker_stock_ask,
    "limit-ask": worker_limit_ask,
    "threads": worker_threads,
}


# --------------------------------------------------------------------------- orchestration
class Bench:
    """Runs the jobs in subprocesses and gathers what they report."""

    def __init__(self, work: Path, *, verbose: bool = True, env: Mapping[str, str] | None = None) -> None:
        self.work = work
        self.verbose = verbose
        self.env = dict(env if env is not None else os.environ)
        self._n = 0

    def say(self, msg: str) -> None:
        if self.verbose:
            print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    def run(self, worker: str, spec: Mapping[str, Any], *, env: Mapping[str, str] | None = None,
            timeout: float = 3600) -> dict[str, Any]:
        self._n += 1
        spec_path = self.work / f"job-{self._n:03d}-{worker}.json"
        out_path = spec_path.with_suffix(".out.json")
        spec_path.write_text(json.dumps(spec))
        cmd = [sys.executable, "-m", "eval.bench", "--worker", worker, str(spec_path), str(out_path)]
        proc = subprocess.run(cmd, cwd=REPO, env=dict(env if env is not None else self.env), capture_output=True,
                              text=True, timeout=timeout, check=False)
        if proc.returncode != 0:
            tail = "\n".join((proc.stderr or "").strip().splitlines()[-15:])
            raise RuntimeError(f"bench worker {worker} failed (exit {proc.returncode}):\n{tail}")
        return json.loads(out_path.read_text())

    def timed(self, cmd: Sequence[str], *, env: Mapping[str, str] | None = None, timeout: float = 300) -> float:
        t = time.perf_counter()
        proc = subprocess.run(list(cmd), cwd=REPO, env=dict(env if env is not None else self.env),
                              capture_output=True, text=True, timeout=timeout, check=False)
        secs = time.perf_counter() - t
        if proc.returncode != 0:
            tail = "\n".join((proc.stderr or "").strip().splitlines()[-10:])
            raise RuntimeError(f"{' '.join(cmd[:4])} ... failed (exit {proc.returncode}):\n{tail}")
        return secs


def _partnerqa_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("partnerqa")
    return [str(exe)] if exe.is_file() else [sys.executable, "-m", "ui.cli"]


def _busy_neighbour(seconds: float) -> subprocess.Popen:
    """A process that burns one core for `seconds`, then stops by itself."""
    code = f"import time\nend = time.monotonic() + {seconds!r}\nwhile time.monotonic() < end:\n    pass\n"
    return subprocess.Popen([sys.executable, "-c", code])


def _summ_lat(rounds: Sequence[Sequence[float]]) -> dict[str, float]:
    """p50/p95 of each round, then the median over rounds."""
    return {"p50": median([percentile(r, 50) for r in rounds]), "p95": median([percentile(r, 95) for r in rounds]),
            "n": sum(len(r) for r in rounds)}


def encoder_rates(res: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """Each system's encoder speed on a corpus it embedded for real: chunks per second and
    per CPU-second spent embedding (the limit's from its side-by-side runs).

    Each system is projected with its own rate because the systems cut different chunks
    (partnerqa's are fewer and longer), so a chunk costs each a different encoder time.
    For the stock recipe without a timed embedder, its whole ingest time stands in for its
    encoder time (a little slower than the truth, which favours neither side much: its
    non-embedding work is about 1% of it at 10k chunks).
    """
    out: dict[str, dict[str, float]] = {}
    for system in ("partnerqa", "stock", "limit"):
        runs = res.get(system) or []
        if not runs:
            continue
        if system == "limit":
            secs = [r["seconds"] for r in runs]
            cpus = [r.get("cpu_seconds") or 0.0 for r in runs]
        else:
            secs = [r.get("embed_seconds") or r["seconds"] for r in runs]
            cpus = [r.get("embed_cpu_seconds") or r.get("cpu_seconds") or 0.0 for r in runs]
        chunks = runs[0]["chunks"]
        out[system] = {"chunks_per_s": chunks / median(secs),
                       "chunks_per_cpu_s": chunks / median(cpus) if median(cpus) > 0 else 0.0}
    return out


def _ingest_figures(res: Mapping[str, Any], rates: Mapping[str, Mapping[str, float]] | None = None) -> dict[str, Any]:
    """Per system: seconds, docs/s, pages/s, chunks/s (medians), CPU time, memory, index size.

    For a pooled run each system's encoder time is projected: its measured total, minus the
    time in the pool embedder, plus its chunks at its own encoder rate from `rates` (see
    `encoder_rates`); CPU time likewise. The limit is the partnerqa chunks at the limit's rate.
    """
    out: dict[str, Any] = {"docs": res["docs"], "pages": res["pages"], "pooled": res["pooled"]}
    pooled = res["pooled"] and bool(rates)
    rates = rates or {}
    pqa_chunks = res["partnerqa"][0]["chunks"] if res.get("partnerqa") else None
    for system in ("partnerqa", "stock", "limit"):
        runs = res.get(system) or []
        rate = rates.get(system, {})
        if pooled and system == "limit" and pqa_chunks and rate:
            runs = [{"seconds": pqa_chunks / rate["chunks_per_s"], "chunks": pqa_chunks,
                     "cpu_seconds": pqa_chunks / rate["chunks_per_cpu_s"] if rate.get("chunks_per_cpu_s") else None}]
        if not runs:
            continue
        secs, cpus = [], []
        for r in runs:
            s, c = r["seconds"], r.get("cpu_seconds")
            if pooled and system != "limit" and rate:
                s = s - (r.get("embed_seconds") or 0.0) + r["chunks"] / rate["chunks_per_s"]
                if c is not None and rate.get("chunks_per_cpu_s"):
                    c = c - (r.get("embed_cpu_seconds") or r.get("embed_seconds") or 0.0) + r["chunks"] / rate["chunks_per_cpu_s"]
            secs.append(s)
            if c is not None:
                cpus.append(c)
        s = median(secs)
        fig = {"seconds": s, "docs_per_s": res["docs"] / s, "pages_per_s": res["pages"] / s,
               "chunks": runs[0]["chunks"], "chunks_per_s": runs[0]["chunks"] / s, "runs": len(runs),
               "seconds_each": secs}
        if cpus and len(cpus) == len(secs) and median(cpus) > 0:
            fig["cpu_seconds"] = median(cpus)
            fig["chunks_per_cpu_s"] = runs[0]["chunks"] / fig["cpu_seconds"]
            fig["docs_per_cpu_s"] = res["docs"] / fig["cpu_seconds"]
            fig["pages_per_cpu_s"] = res["pages"] / fig["cpu_seconds"]
        if "peak_mb" in runs[0]:
            fig["peak_mb"] = median([r["peak_mb"] for r in runs])
            fig["delta_mb"] = median([r["delta_mb"] for r in runs])
        if "index_mb" in runs[0]:
            fig["index_mb"] = runs[-1]["index_mb"]
        if system == "partnerqa":
            fig["faiss"] = runs[-1].get("faiss")
            fig["non_embed_seconds"] = median([r["seconds"] - (r.get("embed_seconds") or 0.0) for r in runs])
        out[system] = fig
    return out


def _serve_figures(pqa: Mapping[str, Any], stock: Mapping[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"n_chunks": pqa["n_chunks"], "faiss": pqa["faiss"]}
    p = {"retrieve": _summ_lat(pqa["retrieve"]), "batch_per_query": median(pqa["batch"]),
         "answer": _summ_lat(pqa["answer"]), "serving_mb": pqa["serving_mb"], "load_s": pqa["load_s"]}
    stages = [s for rnd in pqa["answer_stage"] for s in rnd]
    if stages:
        p["answer_stage_p50"] = {k: median([s[k] for s in stages if k in s]) for k in stages[0]}
    out["partnerqa"] = p
    if "limit_retrieve" in pqa:
        out["limit"] = {"retrieve": _summ_lat(pqa["limit_retrieve"]), "batch_per_query": median(pqa["limit_batch"]),
                        "answer": _summ_lat(pqa["limit_answer"]), "embed": _summ_lat(pqa["limit_embed"]),
                        "search": _summ_lat(pqa["limit_search"]), "search_flat": _summ_lat(pqa["limit_search_flat"])}
    if "recall@10" in pqa:
        out["recall@10"] = pqa["recall@10"]
        out["efSearch"] = pqa["efSearch"]
    if "faiss_sizes" in pqa:
        out["faiss_sizes"] = pqa["faiss_sizes"]
    if stock:
        out["stock"] = {"retrieve": _summ_lat(stock["retrieve"]), "batch_per_query": median(stock["batch"]),
                        "answer": _summ_lat(stock["answer"]), "serving_mb": stock["serving_mb"],
                        "load_s": stock["load_s"]}
    return out


@dataclass(frozen=True)
class Row:
    """One line of the table: a figure for each system; `higher` says which way is better."""

    figure: str
    unit: str
    partnerqa: float | None
    stock: float | None = None
    limit: float | None = None
    higher: bool = True

    def to_dict(self) -> dict[str, Any]:
        return {"figure": self.figure, "unit": self.unit, "partnerqa": self.partnerqa, "stock": self.stock,
                "limit": self.limit, "higher_is_better": self.higher,
                "partnerqa/stock": ratio(self.partnerqa, self.stock), "partnerqa/limit": ratio(self.partnerqa, self.limit)}


def build_rows(report: Mapping[str, Any]) -> list[Row]:
    """The table's rows from a report (pure: a bench.json can be re-tabled)."""
    rows: list[Row] = []
    for name, ing in report.get("ingest", {}).items():
        p, s, lim = ing.get("partnerqa", {}), ing.get("stock", {}), ing.get("limit", {})
        tag = f"ingest {name}" + (" (encoder projected)" if ing.get("pooled") else "")
        for key, unit in (("docs_per_s", "docs/s"), ("pages_per_s", "pages/s"), ("chunks_per_s", "chunks/s")):
            if key == "pages_per_s" and ing.get("pages") == ing.get("docs"):
                continue  # no paged documents: the same figure as docs/s
            rows.append(Row(f"{tag}: {unit}", unit, p.get(key), s.get(key), lim.get(key)))
        if p.get("docs_per_cpu_s"):
            rows.append(Row(f"{tag}: docs per CPU-second", "docs/CPU-s", p.get("docs_per_cpu_s"),
                            s.get("docs_per_cpu_s"), lim.get("docs_per_cpu_s")))
        rows.append(Row(f"{tag}: peak memory (increase)", "MB", p.get("delta_mb"), s.get("delta_mb"), None,
                        higher=False))
        rows.append(Row(f"{tag}: index on disk", "MB", p.get("index_mb"), s.get("index_mb"), None, higher=False))
    for name, q in report.get("query", {}).items():
        p, s, lim = q.get("partnerqa", {}), q.get("stock", {}), q.get("limit", {})
        tag = f"query {name} ({q.get('faiss')})"
        for key, label in (("retrieve", "retrieval"), ("answer", "full answer")):
            for pc in ("p50", "p95"):
                rows.append(Row(f"{tag}: {label} {pc}", "ms", p.get(key, {}).get(pc), s.get(key, {}).get(pc),
                                lim.get(key, {}).get(pc), higher=False))
        rows.append(Row(f"{tag}: batch retrieval per query", "ms", p.get("batch_per_query"),
                        s.get("batch_per_query"), lim.get("batch_per_query"), higher=False))
        rows.append(Row(f"{tag}: serving memory", "MB", p.get("serving_mb"), s.get("serving_mb"), None, higher=False))
        if "recall@10" in q:
            rows.append(Row(f"{tag}: HNSW recall@10 vs exact (efSearch {q.get('efSearch')})", "", q["recall@10"],
                            None, 1.0))
        fs = q.get("faiss_sizes")
        if fs:
            for n, ms in fs["flat_p50_ms"].items():
                rows.append(Row(f"FAISS flat scan of {int(n):,} vectors, 1 query (k=50)", "ms", ms, higher=False))
            for n, ms in fs["hnsw_p50_ms"].items():
                rows.append(Row(f"FAISS HNSW search of {int(n):,} vectors, 1 query (k=50)", "ms", ms, higher=False))
            rows.append(Row("FAISS HNSW build per vector", "ms", fs["hnsw_build_ms_per_vector"], higher=False))
    cold = report.get("cold_start")
    if cold:
        rows.append(Row("cold start to first answer (seeds)", "s", cold.get("partnerqa"), cold.get("stock"),
                        cold.get("limit"), higher=False))
    for name, t in report.get("threads", {}).items():
        rows.append(Row(f"query embedding, {name}: p50", "ms", t.get("p50"), None, None, higher=False))
        rows.append(Row(f"query embedding, {name}: p95", "ms", t.get("p95"), None, None, higher=False))
    return rows


def format_table(rows: Sequence[Row]) -> str:
    """A plain-text table of the rows with both ratios."""
    head = ("figure", "unit", "partnerqa", "stock", "limit", "pqa/stock", "pqa/limit")
    body = [(r.figure, r.unit + (" ↑" if r.higher else " ↓") if r.unit else "", fmt_value(r.partnerqa),
             fmt_value(r.stock), fmt_value(r.limit), fmt_ratio(ratio(r.partnerqa, r.stock)),
             fmt_ratio(ratio(r.partnerqa, r.limit))) for r in rows]
    widths = [max(len(h), *(len(b[i]) for b in body)) if body else len(h) for i, h in enumerate(head)]
    lines = ["  ".join(h.ljust(w) if i < 2 else h.rjust(w) for i, (h, w) in enumerate(zip(head, widths)))]
    lines.append("  ".join("-" * w for w in widths))
    for b in body:
        lines.append("  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(b, widths))))
    return "\n".join(lines)


def format_markdown_table(rows: Sequence[Row]) -> str:
    lines = ["| figure | unit | partnerqa | stock LangChain | hardware limit | partnerqa/stock | partnerqa/limit |",
             "|---|---|--:|--:|--:|--:|--:|"]
    for r in rows:
        unit = r.unit + (" ↑" if r.higher else " ↓") if r.unit else ""
        lines.append(f"| {r.figure} | {unit} | {fmt_value(r.partnerqa)} | {fmt_value(r.stock)} | {fmt_value(r.limit)} "
                     f"| {fmt_ratio(ratio(r.partnerqa, r.stock))} | {fmt_ratio(ratio(r.partnerqa, r.limit))} |")
    return "\n".join(lines)


def check_targets(report: Mapping[str, Any]) -> list[tuple[str, bool | None, str]]:
    """(target, met, the numbers) for the performance targets of issue 7."""
    out: list[tuple[str, bool | None, str]] = []
    for name, ing in report.get("ingest", {}).items():
        p, lim = ing.get("partnerqa"), ing.get("limit")
        if p and lim:
            r = lim["seconds"] / p["seconds"]
            out.append((f"ingest {name}: throughput >= 0.85 of the encoder limit", r >= 0.85,
                        f"{r:.2f} ({p['chunks_per_s']:.1f} vs {lim['chunks_per_s']:.1f} chunks/s)"))
    queries = report.get("query", {})
    big = max(queries.values(), key=lambda q: q["n_chunks"], default=None)
    if big and "limit" in big:
        lim = big["limit"]["embed"]["p50"] + big["limit"]["search"]["p50"]
        p = big["partnerqa"]["retrieve"]["p50"]
        out.append((f"retrieval p50 at {big['n_chunks']:,} chunks <= 2x raw embed + raw FAISS", p <= 2 * lim,
                    f"{p:.1f} ms vs 2 x {lim:.1f} ms"))
    ten = [q for q in queries.values() if 9_000 <= q["n_chunks"] <= 11_000]
    if ten:
        p = ten[0]["partnerqa"]["answer"]["p50"]
        out.append(("full extractive answer p50 at 10k chunks < 150 ms", p < 150, f"{p:.1f} ms"))
    cold = report.get("cold_start")
    if cold:
        out.append(("cold start to first answer < 10 s", cold["partnerqa"] < 10, f"{cold['partnerqa']:.2f} s"))
    if big:
        mb = big["partnerqa"]["serving_mb"]
        out.append((f"serving memory at {big['n_chunks']:,} chunks < 1.5 GB", mb < 1536, f"{mb:.0f} MB"))
    if big and "recall@10" in big:
        out.append((f"HNSW recall@10 at {big['n_chunks']:,} chunks >= 0.98", big["recall@10"] >= 0.98,
                    f"{big['recall@10']:.3f}"))
    slower = []
    for r in build_rows(report):
        q = ratio(r.partnerqa, r.stock)
        if q is None or r.unit in ("", "MB", "chunks/s"):
            continue  # chunks/s: each system cuts its own chunks, so docs/s and pages/s compare the same work
        worse = q < 0.95 if r.higher else q > 1.05  # 5% is inside this machine's noise
        if worse:
            slower.append(f"{r.figure} ({fmt_ratio(q)})")
    out.append(("never slower than the stock recipe (beyond 5% noise)", not slower,
                "; ".join(slower) if slower else "all speed figures"))
    th = report.get("threads", {})
    if "default, busy neighbour" in th and "PASSIVE, busy neighbour" in th:
        a, b = th["default, busy neighbour"]["p50"], th["PASSIVE, busy neighbour"]["p50"]
        out.append(("query embedding next to a busy process: PASSIVE no slower than default", b <= a * 1.05,
                    f"{b:.1f} ms vs {a:.1f} ms"))
    return out


# --------------------------------------------------------------------------- the run
def _env_info() -> dict[str, Any]:
    info = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(),
            "platform": platform.platform(), "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    try:
        info["load_avg_at_start"] = list(os.getloadavg())
    except OSError:
        pass
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return info


def run(args: argparse.Namespace) -> dict[str, Any]:
    from ingest.chunker import Chunker
    from ingest.settings import Settings

    settings = Settings.from_env()
    chunker = Chunker(settings.chunk_size, settings.chunk_overlap)

    def count(text: str) -> int:
        from ingest.types import Document

        return len(chunker.split(Document("x", text)))

    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="partnerqa-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    b = Bench(work, verbose=not args.silent)
    fake = bool(args.fake)
    skip = set(args.skip)
    systems = [s for s in ("partnerqa", "limit", "stock") if s not in skip]
    report: dict[str, Any] = {"env": _env_info(), "args": {k: v for k, v in vars(args).items() if k != "worker"},
                              "settings": {"exact_max": settings.exact_max, "chunk_size": settings.chunk_size,
                                           "chunk_overlap": settings.chunk_overlap, "batch_size": settings.batch_size,
                                           **_hnsw_settings()},
                              "ingest": {}, "query": {}, "notes": []}
    if fake:
        report["notes"].append("--fake: a hash embedder stood in for the model, so these figures say nothing "
                               "about real speed; the run only checks that the bench works")
    t_start = time.perf_counter()
    # -- corpora
    corpora: list[tuple[str, Path, int, str | None]] = []  # (name, folder, repeats, pool index)
    if "seeds" not in skip:
        corpora.append(("seeds", SEEDS, args.repeats, None))
    if "sec" not in skip:
        if SEC_DOCS.is_dir():
            corpora.append(("sec10q_aapl", SEC_DOCS, args.repeats, None))
        else:
            report["notes"].append(f"skipped the Apple 10-Q PDFs: {SEC_DOCS} is absent")
    scales = sorted(args.scales)
    synth: dict[int, tuple[Path, list[SyntheticDoc]]] = {}
    for n in scales:
        b.say(f"generating a synthetic corpus of {n:,} chunks")
        docs = synthetic_corpus(n, count, seed=0)
        folder = write_corpus(docs, work / f"corpus-{n}")
        synth[n] = (folder, docs)
    real_scales = [n for n in scales if n <= args.embed_max]
    ingest_raw: dict[str, Any] = {}
    for name, folder, repeats, _ in corpora:
        b.say(f"ingesting {name} x{repeats} ({', '.join(systems)})")
        ingest_raw[name] = ingest_corpus(b, folder, work / f"idx-{name}", systems, repeats, fake=fake)
    pool_from: str | None = None
    for n in scales:
        name = f"synthetic-{_short(n)}"
        folder = synth[n][0]
        if n in real_scales:
            repeats = args.repeats if n <= 1000 else args.big_repeats
            b.say(f"ingesting {name} x{repeats} ({', '.join(systems)})")
            ingest_raw[name] = ingest_corpus(b, folder, work / f"idx-{name}", systems, repeats, fake=fake,
                                             sample_every=1 if n <= 2000 else 4)
            pool_from = name
        else:
            if pool_from is None:
                raise SystemExit(f"bench: scale {n} is above --embed-max and no smaller scale was embedded")
            b.say(f"ingesting {name} with vectors pooled from {pool_from} (encoder time projected)")
            ingest_raw[name] = ingest_corpus(b, folder, work / f"idx-{name}", systems, 1, fake=fake,
                                             pool=ingest_raw[pool_from]["pqa_index"])
    report["ingest_raw"] = ingest_raw
    report["pool_from"] = pool_from
    _fill_ingest(report)
    # -- queries
    for n in scales:
        name = f"synthetic-{_short(n)}"
        folder, docs = synth[n]
        queries = synthetic_queries(docs, args.queries * args.repeats + 4, seed=1)
        recall_q = synthetic_queries(docs, args.recall_queries, seed=2)
        b.say(f"query latency at {name}")
        sizes = [x for x in (10_000, 25_000, 50_000, 100_000, 200_000) if x <= n] if n == scales[-1] else []
        pqa = b.run("serve-partnerqa", {"index": ingest_raw[name]["pqa_index"], "queries": queries,
                                        "per_round": args.queries,
                                        "recall_queries": recall_q, "rounds": args.repeats, "batch": args.batch,
                                        "limit": "limit" in systems, "fake": fake, "faiss_sizes": sizes})
        stock = None
        if "stock" in systems:
            stock = b.run("serve-stock", {"index": ingest_raw[name]["stock_index"], "queries": queries,
                                          "per_round": args.queries,
                                          "rounds": args.repeats, "batch": args.batch, "fake": fake})
        report["query"][name] = _serve_figures(pqa, stock)
    # -- cold start
    seeds_index = ingest_raw.get("seeds", {}).get("pqa_index")
    if "cold" not in skip and seeds_index and not fake:
        b.say("cold start")
        times: dict[str, list[float]] = {"partnerqa": [], "stock": [], "limit": []}
        for _ in range(args.repeats):
            times["partnerqa"].append(b.timed([*_partnerqa_cmd(), "--index", seeds_index, "ask", SEEDS_QUESTION]))
            if "stock" in systems:
                spec = work / "stock-ask.json"
                spec.write_text(json.dumps({"index": ingest_raw["seeds"]["stock_index"], "question": SEEDS_QUESTION}))
                times["stock"].append(b.timed([sys.executable, "-m", "eval.bench", "--worker", "stock-ask",
                                               str(spec), str(work / "stock-ask.out.json")]))
            if "limit" in systems:
                spec = work / "limit-ask.json"
                spec.write_text(json.dumps({"index": seeds_index, "question": SEEDS_QUESTION}))
                times["limit"].append(b.timed([sys.executable, "-m", "eval.bench", "--worker", "limit-ask",
                                               str(spec), str(work / "limit-ask.out.json")]))
        report["cold_start"] = {k: median(v) if v else None for k, v in times.items()}
        report["cold_start_each"] = times
    # -- threads next to a busy neighbour
    if "threads" not in skip and not fake:
        report["threads"] = threads_experiment(b, work, args)
    report["seconds"] = time.perf_counter() - t_start
    report["targets"] = [{"target": t, "met": m, "numbers": s} for t, m, s in check_targets(report)]
    report["rows"] = [r.to_dict() for r in build_rows(report)]
    if not args.keep and not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return report


def _fill_ingest(report: dict[str, Any]) -> None:
    """The ingest figures (and the note on projections) from the raw worker results."""
    raw, pool_from = report.get("ingest_raw", {}), report.get("pool_from")
    rates = encoder_rates(raw[pool_from]) if pool_from in raw else {}
    report["encoder_rates"] = rates
    report["ingest"] = {name: _ingest_figures(res, rates if res.get("pooled") else None) for name, res in raw.items()}
    if any(res.get("pooled") for res in raw.values()) and rates:
        speeds = ", ".join(f"{k} {v['chunks_per_s']:.1f}" for k, v in rates.items())
        note = (f"corpora marked 'encoder projected' were not embedded by the model: their vectors were derived "
                f"from {pool_from}'s real embeddings, everything else (loading, chunking, BM25, FAISS, writing) was "
                f"measured, and each system's encoder time was added at the rate it showed on {pool_from} "
                f"(chunks/s: {speeds})")
        report["notes"] = [n for n in report.get("notes", []) if "pooled" not in n and "projected" not in n] + [note]


def threads_experiment(b: Bench, work: Path, args: argparse.Namespace) -> dict[str, Any]:
    """Query-embedding latency with torch's defaults vs `configure_threads()`, idle and busy."""
    queries = [f"question {i} about the chips and the factory in Seoul?" for i in range(args.thread_queries)]
    out: dict[str, Any] = {}
    for label, configure in (("default", False), ("PASSIVE", True)):
        for busy in (False, True):
            env = {k: v for k, v in b.env.items() if k not in ("OMP_WAIT_POLICY", "OMP_NUM_THREADS")}
            rounds = []
            for r in range(args.repeats):
                ready, go = work / f"ready-{label}-{busy}-{r}", work / f"go-{label}-{busy}-{r}"
                spec = {"queries": queries, "configure": configure, "ready": str(ready), "go": str(go)}
                result: dict[str, Any] = {}

                def job(result: dict[str, Any] = result, spec: dict[str, Any] = spec, env: dict[str, str] = env) -> None:
                    result.update(b.run("threads", spec, env=env))

                th = threading.Thread(target=job)
                th.start()
                deadline = time.monotonic() + 120
                while not ready.exists() and th.is_alive() and time.monotonic() < deadline:
                    time.sleep(0.01)
                neighbours = [_busy_neighbour(60.0) for _ in range(args.neighbours if busy else 0)]
                time.sleep(0.3 if busy else 0.0)
                go.write_text("1")
                th.join()
                for p in neighbours:
                    p.terminate()
                    p.wait()
                if not result:
                    raise RuntimeError("the threads worker returned nothing")
                rounds.append(result["lat"])
            name = f"{label}, {'busy neighbour' if busy else 'idle'}"
            out[name] = {**_summ_lat(rounds), "torch_threads": result.get("torch_threads"),
                         "omp_wait_policy": result.get("omp_wait_policy") or "(unset)"}
            b.say(f"query embedding {name}: p50 {out[name]['p50']:.1f} ms, p95 {out[name]['p95']:.1f} ms")
    return out


def _short(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 and n >= 1000 else str(n)


def markdown(report: Mapping[str, Any]) -> str:
    """The README section: the figures of this run and how to reproduce them."""
    env = report.get("env", {})
    rows = [Row(**{k: v for k, v in r.items() if k in ("figure", "unit", "partnerqa", "stock", "limit")},
                higher=r["higher_is_better"]) for r in report.get("rows", [])]
    load = ", ".join(f"{x:.1f}" for x in env.get("load_avg_at_start", []))
    lines = [
        "## Performance",
        "",
        (
            f"Measured by `partnerqa bench` on {env.get('cpus')} CPU cores ({env.get('cpu', 'unknown CPU')}), "
            f"Python {env.get('python')}, {env.get('started')}; the run took {report.get('seconds', 0) / 60:.1f} min. "
            "Figures are medians of repeated runs: ingestion of the small corpora "
            f"{report['args'].get('repeats')} times and of the 10k corpus {report['args'].get('big_repeats')} time(s), "
            "each ingest in a fresh process (so no run inherits another's heap), the systems taking turns; "
            "latencies are the p50/p95 of each round of "
            f"{report['args'].get('queries')} questions (every round its own questions), then the median over "
            f"{report['args'].get('repeats')} rounds. The machine was shared with other work while it ran "
            f"(load average {load} at the start), so absolute figures move by 10-30% between runs; the ratios, "
            "measured side by side, move less."
        ),
        "",
        (
            "* **partnerqa** is this project: `Ingestor` (load, clean, sentence chunks, embed, BM25, FAISS, atomic "
            "write), the hybrid `Retriever` (dense + BM25, RRF) and the extractive `Answerer`."
        ),
        (
            "* **stock LangChain** is the textbook recipe: `PyPDFLoader`/`TextLoader`, "
            f"`RecursiveCharacterTextSplitter({report.get('settings', {}).get('chunk_size', 800)}, "
            f"{report.get('settings', {}).get('chunk_overlap', 100)})` (partnerqa's chunk size and overlap), "
            "`HuggingFaceEmbeddings` on the same bundled "
            "all-MiniLM-L6-v2, `FAISS.from_documents` + `save_local`, `similarity_search(k=5)`; its batch is "
            "`as_retriever().batch(questions)` and its full answer LangChain's extractive recipe, a "
            "`ContextualCompressionRetriever` (sentence splitter, `EmbeddingsRedundantFilter`, "
            "`EmbeddingsFilter(k=3)`) over 8 passages. Same thread settings as partnerqa."
        ),
        (
            "* **hardware limit** is the model and FAISS alone: `SentenceTransformer.encode` (batch 32) of the "
            "chunks partnerqa cut, in a process of its own taking turns with the others (at 10k chunks every 4th "
            "chunk in length order, time scaled up), and a raw `index.search` on the same FAISS index; for a full "
            "answer, one encode "
            "of the question plus the sentences of its 8 passages. partnerqa/limit of a throughput is the share of "
            "the hardware's speed partnerqa reaches; of a latency, how many times the bare minimum it takes."
        ),
        (
            "* ↑ higher is better, ↓ lower is better. Ingest memory is the peak resident memory added while "
            "ingesting; serving memory the whole serving process, model included. chunks/s is not the same work "
            "for both systems (each cuts its own chunks): compare docs/s and pages/s."
        ),
        "",
        format_markdown_table(rows),
        "",
    ]
    if report.get("notes"):
        lines += ["Notes:", ""] + [f"* {n}" for n in report["notes"]] + [""]
    lines += _choices(report)
    if report.get("targets"):
        lines += ["Targets (issue 7):", ""]
        for t in report["targets"]:
            mark = "met" if t["met"] else ("not met" if t["met"] is False else "n/a")
            lines.append(f"* {t['target']}: **{mark}** ({t['numbers']})")
        lines.append("")
    lines += [
        "Reproduce (writes `reports/bench/bench.json` and `reports/bench/BENCH.md`):",
        "",
        "```",
        "pip install langchain-community   # the stock recipe; only the bench needs it",
        "partnerqa bench            # seeds, 10-Q PDFs, 1k/10k/100k chunks: about 30 min on 2 quiet cores",
        "partnerqa bench --quick    # 1k/10k chunks (10k from pooled vectors): about 10 min",
        "```",
        "",
    ]
    return "\n".join(lines)


def _hnsw_settings() -> dict[str, int]:
    from ingest.store import HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_M

    return {"hnsw_m": HNSW_M, "hnsw_ef_construction": HNSW_EF_CONSTRUCTION, "hnsw_ef_search": HNSW_EF_SEARCH}


def _choices(report: Mapping[str, Any]) -> list[str]:
    """What the figures decided: the exact/approximate threshold, HNSW settings, threads."""
    out: list[str] = []
    settings = report.get("settings", {})
    sizes = next((q["faiss_sizes"] for q in report.get("query", {}).values() if q.get("faiss_sizes")), None)
    big = max(report.get("query", {}).values(), key=lambda q: q["n_chunks"], default=None)
    if sizes and big and "limit" in big:
        flat = ", ".join(f"{int(n) // 1000}k: {ms:.1f} ms" for n, ms in sizes["flat_p50_ms"].items())
        embed = big["limit"]["embed"]["p50"]
        out += [
            "Choices these figures made:",
            "",
            (
                f"* Exact search up to `exact_max` = {settings.get('exact_max', 0):,} chunks, HNSW above. A flat scan "
                f"of one query costs {flat}, against {embed:.1f} ms to embed the question: up to 50k it adds at "
                "most about half a query embedding and is exact, and a flat index costs nothing to rebuild, while "
                f"HNSW costs {sizes['hnsw_build_ms_per_vector']:.2f} ms a vector on every ingest (the index is "
                "rebuilt whole). Past 50k the scan keeps growing with the corpus while HNSW stays near constant."
            ),
        ]
        if "recall@10" in big:
            out.append(
                f"* HNSW: M={settings.get('hnsw_m', '?')}, efConstruction={settings.get('hnsw_ef_construction', '?')}, "
                f"efSearch={big.get('efSearch')} (`ingest/store.py`), tuned on the bench's real question embeddings: "
                f"recall@10 against exact search {big['recall@10']:.3f} at {big['n_chunks']:,} chunks. Recall "
                "depends on the corpus: efSearch=512 reached 0.987 on one and 0.968 on the next, so the setting "
                "keeps a margin (the sweep is in `ingest/store.py`); with efSearch=128 recall stayed under 0.9 "
                "whatever M and efConstruction (0.79 with M=24, efConstruction=64)."
            )
    th = report.get("threads", {})
    if th.get("default, idle") and th.get("PASSIVE, busy neighbour") and th.get("default, busy neighbour"):
        d_idle, d_busy, p_idle, p_busy = (th[k] for k in ("default, idle", "default, busy neighbour",
                                                           "PASSIVE, idle", "PASSIVE, busy neighbour"))
        out.append(
            f"* Threads: with torch's defaults one question embeds in {d_idle['p50']:.1f} ms (p95 "
            f"{d_idle['p95']:.1f}) on an idle machine but p95 {d_busy['p95']:.0f} ms next to one busy process; "
            f"with `OMP_WAIT_POLICY=PASSIVE` (`configure_threads()`) it is {p_busy['p50']:.1f} ms (p95 "
            f"{p_busy['p95']:.1f}) next to it, and {p_idle['p50']:.1f} ms idle: sleeping threads are slower to "
            "wake, the price of never collapsing on a shared machine."
        )
    return out + [""] if out else []


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="partnerqa bench", description=__doc__.splitlines()[0])
    p.add_argument("--out", default=str(DEFAULT_OUT), help="folder for bench.json and BENCH.md (default reports/bench)")
    p.add_argument("--quick", action="store_true", help="synthetic corpora of 1k and 10k chunks, fewer queries")
    p.add_argument("--scales", type=_int_list, default=None, help="synthetic corpus sizes in chunks (default 1k,10k,100k)")
    p.add_argument("--embed-max", type=int, default=None,
                   help="embed corpora up to this many chunks with the model; larger ones use pooled vectors")
    p.add_argument("--repeats", type=int, default=3, help="repeats of small ingests, query rounds, cold starts")
    p.add_argument("--big-repeats", type=int, default=1, help="repeats of ingests above 1k chunks")
    p.add_argument("--queries", type=int, default=None, help="queries per round")
    p.add_argument("--recall-queries", type=int, default=200)
    p.add_argument("--batch", type=int, default=32, help="queries in one search_batch")
    p.add_argument("--thread-queries", type=int, default=40)
    p.add_argument("--neighbours", type=int, default=1, help="busy processes in the thread experiment")
    p.add_argument("--skip", type=lambda s: [x for x in s.split(",") if x], default=[],
                   help="comma list of: seeds, sec, stock, limit, cold, threads")
    p.add_argument("--fake", action="store_true", help="a hash embedder instead of the model (for tests)")
    p.add_argument("--markdown", default=None, help="also write the README section here (e.g. eval/BENCH.md)")
    p.add_argument("--work", default=None, help="scratch folder (default: a temporary one, removed at the end)")
    p.add_argument("--keep", action="store_true", help="keep the scratch folder")
    p.add_argument("--silent", action="store_true", help="no progress lines")
    p.add_argument("--index", default=None, help=argparse.SUPPRESS)  # passed on by `partnerqa --index`; unused
    p.add_argument("--from-json", default=None, metavar="BENCH_JSON",
                   help="re-make the table and BENCH.md from an earlier bench.json instead of measuring")
    p.add_argument("--worker", nargs=3, metavar=("NAME", "SPEC", "RESULT"), help=argparse.SUPPRESS)
    return p


def _guess_pool_from(report: Mapping[str, Any]) -> str | None:
    """The largest corpus embedded for real (for a bench.json written before `pool_from` was kept)."""
    real = [(v["partnerqa"][0]["chunks"], k) for k, v in report["ingest_raw"].items()
            if not v.get("pooled") and v.get("partnerqa") and k.startswith("synthetic")]
    return max(real)[1] if real else None


def _int_list(s: str) -> list[int]:
    out = []
    for part in s.split(","):
        part = part.strip().lower().replace("_", "")
        mult = 1000 if part.endswith("k") else 1
        out.append(int(float(part.rstrip("k")) * mult))
    if any(n < 1 for n in out):
        raise argparse.ArgumentTypeError(f"sizes must be >= 1, got {s}")
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `partnerqa bench` and `python -m eval.bench`."""
    args = build_parser().parse_args(list(argv) if argv is not None else None)
    if args.worker:
        name, spec_path, out_path = args.worker
        if name != "threads":
            from ingest.embedder import configure_threads

            configure_threads()
        result = WORKERS[name](json.loads(Path(spec_path).read_text()))
        Path(out_path).write_text(json.dumps(result))
        return 0
    from ingest.embedder import configure_threads

    configure_threads()  # inherited by the workers; the thread experiment clears it for its "default" case
    if args.scales is None:
        args.scales = [1000, 10_000] if args.quick else [1000, 10_000, 100_000]
    if args.embed_max is None:
        args.embed_max = 1000 if args.quick else 10_000
    if args.queries is None:
        args.queries = 20 if args.quick else 40
    if args.quick:
        args.recall_queries = min(args.recall_queries, 100)
        args.thread_queries = min(args.thread_queries, 20)
    if args.repeats < 1 or args.big_repeats < 1:
        raise SystemExit("bench: --repeats and --big-repeats must be >= 1")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    if args.from_json:
        report = json.loads(Path(args.from_json).read_text())
        for key, value in _hnsw_settings().items():  # a bench.json from before they were recorded
            report.setdefault("settings", {}).setdefault(key, value)
        if "ingest_raw" in report:
            report.setdefault("pool_from", _guess_pool_from(report))
            _fill_ingest(report)
        report["targets"] = [{"target": t, "met": m, "numbers": s} for t, m, s in check_targets(report)]
        report["rows"] = [r.to_dict() for r in build_rows(report)]
    else:
        report = run(args)
    (out / "bench.json").write_text(json.dumps(report, indent=2))
    md = markdown(report)
    (out / "BENCH.md").write_text(md, encoding="utf-8")
    if args.markdown:
        Path(args.markdown).write_text(md, encoding="utf-8")
    print(format_table(build_rows(report)))
    for n in report.get("notes", []):
        print(f"note: {n}")
    for t in report.get("targets", []):
        mark = "MET " if t["met"] else ("MISS" if t["met"] is False else "n/a ")
        print(f"[{mark}] {t['target']}: {t['numbers']}")
    print(f"wrote {out / 'bench.json'} and {out / 'BENCH.md'} ({report['seconds'] / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
