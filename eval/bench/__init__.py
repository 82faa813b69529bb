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

The package's rooms, each readable alone:

* `workloads`: the corpora and queries measured on (seeds, the 10-Q PDFs, synthetic ones);
* `systems`: partnerqa, the stock LangChain recipe and the hardware's limit, and the
  embedder stand-ins (`HashEmbedder`, `PoolEmbedder`, `TimedEmbedder`);
* `measure` and `stats`: memory, CPU time, percentiles;
* `workers`: the jobs, one subprocess each; `orchestrate`: `Bench` and the whole `run`;
* `figures`: figures derived from the workers' raw results;
* `report`: the table, the targets and the Markdown section; `cli`: the command line.
"""

from __future__ import annotations

from eval.bench.cli import _int_list as _int_list  # the --scales parser, for its test
from eval.bench.cli import build_parser, main
from eval.bench.figures import encoder_rates, fill_ingest, ingest_figures, latency_summary, serve_figures
from eval.bench.measure import PeakRSS, cpu_time, folder_mb, max_rss_mb
from eval.bench.orchestrate import Bench, hnsw_settings, ingest_corpus, run, threads_experiment
from eval.bench.report import (
    Row,
    build_rows,
    check_targets,
    fmt_ratio,
    fmt_value,
    format_markdown_table,
    format_table,
    markdown,
)
from eval.bench.stats import median, percentile, ratio
from eval.bench.systems import HashEmbedder, PoolEmbedder, TimedEmbedder
from eval.bench.workers import WORKERS, faiss_sizes
from eval.bench.workloads import (
    SyntheticDoc,
    synthetic_corpus,
    synthetic_document,
    synthetic_queries,
    write_corpus,
)

__all__ = [
    "WORKERS",
    "Bench",
    "HashEmbedder",
    "PeakRSS",
    "PoolEmbedder",
    "Row",
    "SyntheticDoc",
    "TimedEmbedder",
    "build_parser",
    "build_rows",
    "check_targets",
    "cpu_time",
    "encoder_rates",
    "faiss_sizes",
    "fill_ingest",
    "fmt_ratio",
    "fmt_value",
    "folder_mb",
    "format_markdown_table",
    "format_table",
    "hnsw_settings",
    "ingest_corpus",
    "ingest_figures",
    "latency_summary",
    "main",
    "markdown",
    "max_rss_mb",
    "median",
    "percentile",
    "ratio",
    "run",
    "serve_figures",
    "synthetic_corpus",
    "synthetic_document",
    "synthetic_queries",
    "threads_experiment",
    "write_corpus",
]
