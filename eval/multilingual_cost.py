"""What the multilingual (e5) channel costs: embedding and ingest throughput, query latency, serving memory.

    python -m eval.multilingual_cost [--chunks 300] [--serve 10000,100000] [--encoder onnx-int8]
        [--out reports/multilingual_cost.json]

Ingests run in this process, alternating "MiniLM only" and "MiniLM + e5" on the same files, after both
models are warm; MiniLM runs as configured (PARTNERQA_ENCODER, default ONNX fp32) and e5 on `--encoder`
(PARTNERQA_MULTILINGUAL_ENCODER's runtimes); serving figures load an index of synthetic chunks with random unit vectors in both
channels (FAISS and BM25 costs do not depend on what the vectors mean) in a fresh process each, and
embed real Korean questions with e5. `partnerqa bench` is being reorganised; this script stands alone.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]


def _texts_of(index: Path) -> list[str]:
    gen = (index / "CURRENT").read_text().strip()
    return [json.loads(line)["text"] for line in (index / gen / "chunks.jsonl").open(encoding="utf-8")]


def synthetic_folder(folder: Path, n_chunks: int, seed: int = 0) -> Path:
    """Documents made of shuffled sentences of seeds/, about `n_chunks` 800-character chunks in all."""
    from ingest.text import sentence_spans

    sentences = []
    for f in sorted((REPO / "seeds").glob("*.txt")):
        text = f.read_text(encoding="utf-8")
        sentences += [text[s:e] for s, e in sentence_spans(text) if 40 <= e - s <= 400]
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    per_doc = 8  # chunks a document
    for d in range(max(1, n_chunks // per_doc)):
        body, size = [], 0
        while size < per_doc * 700:
            s = rng.choice(sentences)
            body.append(s)
            size += len(s) + 1
        (folder / f"synthetic_{d:05d}.txt").write_text(" ".join(body) + "\n", encoding="utf-8")
    return folder


def _models(encoder: str):
    """The English embedder as configured and the multilingual one on `encoder`, neither loaded."""
    from ingest.embedder import embedder_from_settings
    from ingest.multilingual import make_multilingual
    from ingest.settings import Settings

    settings = Settings.from_env()
    return embedder_from_settings(settings), make_multilingual(encoder, cache_dir=settings.cache_dir,
                                                              threads=settings.threads)


def embedding_throughput(texts: list[str], encoder: str, rounds: int = 3) -> dict:
    """Chunks per second of each embedder alone on the same texts (median of `rounds`), wall and CPU."""
    out = {}
    minilm, e5 = _models(encoder)
    models = {"minilm": minilm, "e5": e5}
    for m in models.values():
        m.warm_up()
        m.embed(texts[:8])
    runs: dict[str, list[tuple[float, float]]] = {k: [] for k in models}
    for _ in range(rounds):
        for name, m in models.items():
            w, c = time.perf_counter(), time.process_time()
            m.embed(texts)
            runs[name].append((time.perf_counter() - w, time.process_time() - c))
    for name, r in runs.items():
        wall = statistics.median(x[0] for x in r)
        cpu = statistics.median(x[1] for x in r)
        out[name] = {"chunks_per_s": round(len(texts) / wall, 2), "cpu_s_per_chunk": round(cpu / len(texts), 4)}
    out["e5_cpu_vs_minilm"] = round(out["e5"]["cpu_s_per_chunk"] / out["minilm"]["cpu_s_per_chunk"], 2)
    out["n_chunks"] = len(texts)
    return out


def ingest_throughput(folder: Path, work: Path, encoder: str, rounds: int = 2) -> dict:
    """Documents and chunks per second of a fresh ingest of `folder`, with and without the channel."""
    from ingest.pipeline import Ingestor

    minilm, e5 = _models(encoder)
    minilm.warm_up()
    e5.warm_up()
    times: dict[str, list[float]] = {"minilm": [], "minilm+e5": []}
    docs = chunks = 0
    for _ in range(rounds):
        for name, ml in (("minilm", None), ("minilm+e5", e5)):
            index = work / name
            shutil.rmtree(index, ignore_errors=True)
            t = time.perf_counter()
            report = Ingestor(index, minilm, multilingual=ml, multilingual_max_chunks=None).ingest([folder])
            times[name].append(time.perf_counter() - t)
            docs, chunks = report.total_docs, report.total_chunks
    out = {name: {"seconds": round(statistics.median(t), 2), "docs_per_s": round(docs / statistics.median(t), 2),
                  "chunks_per_s": round(chunks / statistics.median(t), 2)} for name, t in times.items()}
    out["ratio"] = round(out["minilm+e5"]["docs_per_s"] / out["minilm"]["docs_per_s"], 3)
    out.update(docs=docs, chunks=chunks)
    return out


def korean_questions() -> list[str]:
    rows = [json.loads(line) for line in (REPO / "eval" / "sets" / "ko.jsonl").open(encoding="utf-8")]
    return [r["question"] for r in rows]


def query_latency(encoder: str, rounds: int = 1) -> dict:
    """e5 query embedding (distinct Korean questions) and 24 English candidate sentences' passage embedding by
    the runtime's scorer (what the answerer embeds for a Korean question when the index stores no units)."""
    _, e5 = _models(encoder)
    e5.warm_up()
    qs = korean_questions()
    e5.embed_queries(qs[:2])
    ms = []
    for _ in range(rounds):
        for q in qs:
            t = time.perf_counter()
            e5.embed_queries([q])
            ms.append((time.perf_counter() - t) * 1000)
    texts = _seed_sentences()[:24]
    scorer = e5.scorer
    scorer.embed_passages(texts[:2])
    cand = []
    for _ in range(5):
        t = time.perf_counter()
        scorer.embed_passages(texts)
        cand.append((time.perf_counter() - t) * 1000)
    return {"query_p50_ms": round(float(np.percentile(ms, 50)), 1),
            "query_p95_ms": round(float(np.percentile(ms, 95)), 1),
            "24_sentences_ms": round(statistics.median(cand), 1)}


def _seed_sentences() -> list[str]:
    from ingest.text import sentence_spans

    text = (REPO / "seeds" / "000_d6495e9b5ae2718f.txt").read_text(encoding="utf-8")
    return [text[s:e] for s, e in sentence_spans(text) if e - s > 60]


def build_synthetic_index(index: Path, n: int, encoder: str, seed: int = 0) -> None:
    """An index of `n` synthetic chunks with random unit vectors in both channels (nothing is embedded), as
    `encoder`'s runtime writes it (sentence units or not)."""
    from ingest.multilingual import CHANNEL, E5_DIMENSION
    from ingest.store import ChannelUnits, DocRecord, SentenceVectors, write_generation, writer_lock
    from ingest.text import sentence_spans
    from ingest.types import Chunk

    rng = np.random.default_rng(seed)
    words = " ".join(_seed_sentences()).split()
    docs, chunks = [], []
    per_doc = 10
    for d in range(n // per_doc):
        parts, starts = [], []
        pos = 0
        for _ in range(per_doc):
            picked = [words[i % len(words)] for i in rng.integers(0, len(words), 120)]
            # ~25-word sentences, as in prose: the e5 channel stores one vector per sentence
            text = " ".join(w.rstrip(".") + ("." if (j + 1) % 25 == 0 else "") for j, w in enumerate(picked))
            starts.append(pos)
            parts.append(text)
            pos += len(text) + 1
        body = "\n".join(parts)
        doc_id = f"syn_{d:06d}.txt"
        docs.append(DocRecord(doc_id, body, (), {"title": doc_id}, f"h{d}", "", "", per_doc))
        chunks += [Chunk(f"{doc_id}#{i}", doc_id, t, s, s + len(t), None, doc_id) for i, (t, s) in
                   enumerate(zip(parts, starts))]

    def unit(rows: int, dim: int) -> np.ndarray:
        v = rng.standard_normal((rows, dim), dtype=np.float32)
        return v / np.linalg.norm(v, axis=1, keepdims=True)

    minilm, e5 = _models(encoder)
    manifest = {"embedder": {"name": minilm.name, "fingerprint": minilm.fingerprint(), "dimension": 384,
                             "normalized": True}, "dimension": 384, "metric": "inner_product",
                "chunker": {}, "documents": {d.doc_id: d.content_hash for d in docs}, "languages": {"en": len(chunks)}}
    e5_info = {"name": e5.name, "fingerprint": e5.fingerprint()}
    spans = [np.asarray(sentence_spans(c.text) or [(0, len(c.text))], np.int32) for c in chunks]
    vectors = unit(len(chunks), E5_DIMENSION)
    channels = {CHANNEL: (e5_info, ChannelUnits.from_rows([(sp, unit(len(sp), E5_DIMENSION)) for sp in spans],
                                                          E5_DIMENSION, vectors) if e5.stores_units else vectors)}
    with writer_lock(index):
        # with in-context MiniLM sentence vectors too, as an ingest stores them (the answerer reads them)
        sentences = SentenceVectors.from_rows([(sp, unit(len(sp), 384)) for sp in spans], 384)
        write_generation(index, manifest, docs, chunks, unit(len(chunks), 384), 50_000, channels, sentences)


def serve_worker(index: str) -> dict:
    """In a fresh process: load the retriever as `partnerqa serve` would, search Korean questions, report RSS."""
    from rag.retriever import Retriever

    def rss_mb() -> float:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        return float("nan")

    t = time.perf_counter()
    r = Retriever.load(index)
    load_s = time.perf_counter() - t
    qs = korean_questions()
    r.search("warm up 워밍업", k=8)
    r.embedder.embed(["warm up"])
    ms, ms_en = [], []
    for q in qs:
        t = time.perf_counter()
        r.search(q, k=8)
        ms.append((time.perf_counter() - t) * 1000)
    for q in ("How many advanced chips were pledged?", "Where is the R&D center?", "What memory does Rubin use?"):
        t = time.perf_counter()
        r.search(q, k=8)
        ms_en.append((time.perf_counter() - t) * 1000)
    # Whole answers as the chat gives them, each question embedded afresh (the searches above are forgotten);
    # candidate sentences' vectors come from the index, or, for a runtime that stores none, from its scorer (a fresh
    # answerer; the passage cache keeps what earlier questions embedded, as a server's does).
    from rag.answer import Answerer

    answerer = Answerer(r)
    answerer.answer("warm up: how many chips?")
    r.clear_query_cache()
    ans_ms, ans_en = [], []
    for q in qs:
        t = time.perf_counter()
        answerer.answer(q)
        ans_ms.append((time.perf_counter() - t) * 1000)
    for q in ("How many advanced chips were pledged?", "Where is the R&D center?", "What memory does Rubin use?"):
        t = time.perf_counter()
        answerer.answer(q)
        ans_en.append((time.perf_counter() - t) * 1000)
    return {"chunks": len(r), "load_s": round(load_s, 2), "korean_search_p50_ms": round(float(np.median(ms)), 1),
            "korean_answer_p50_ms": round(float(np.median(ans_ms)), 1),
            "korean_answer_p95_ms": round(float(np.percentile(ans_ms, 95)), 1),
            "english_answer_p50_ms": round(float(np.median(ans_en)), 1),
            "korean_search_p95_ms": round(float(np.percentile(ms, 95)), 1),
            "english_search_p50_ms": round(float(np.median(ms_en)), 1), "rss_mb": round(rss_mb(), 0),
            "uses_e5": r.uses_multilingual(qs[0])}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--chunks", type=int, default=300, help="size of the synthetic ingest corpus")
    p.add_argument("--serve", default="10000,100000", help="index sizes for the serving figures ('' for none)")
    p.add_argument("--skip-ingest", action="store_true")
    p.add_argument("--encoder", default=None, help="the multilingual runtime (default: PARTNERQA_MULTILINGUAL_ENCODER)")
    p.add_argument("--out", type=Path, default=REPO / "reports" / "multilingual_cost.json")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        print(json.dumps(serve_worker(args.worker)))
        return 0
    from ingest.settings import Settings

    encoder = args.encoder or Settings.from_env().multilingual_encoder
    result: dict = {"cpus": os.cpu_count(), "load_average_at_start": os.getloadavg()[0], "encoder": encoder}
    with tempfile.TemporaryDirectory(prefix="mlcost-") as tmp:
        work = Path(tmp)
        result["query"] = query_latency(encoder)
        print("query", result["query"], flush=True)
        if not args.skip_ingest:
            syn = synthetic_folder(work / "syn", args.chunks)
            result["ingest_seeds"] = ingest_throughput(REPO / "seeds", work / "i-seeds", encoder)
            print("ingest seeds", result["ingest_seeds"], flush=True)
            result["ingest_synthetic"] = ingest_throughput(syn, work / "i-syn", encoder, rounds=1)
            print("ingest synthetic", result["ingest_synthetic"], flush=True)
            result["embedding"] = embedding_throughput(_texts_of(work / "i-syn" / "minilm")[:96], encoder, rounds=2)
            print("embedding", result["embedding"], flush=True)
        for n in [int(x) for x in args.serve.split(",") if x.strip()]:
            index = work / f"serve-{n}"
            t = time.perf_counter()
            build_synthetic_index(index, n, encoder)
            built = time.perf_counter() - t
            env = {**os.environ, "OMP_WAIT_POLICY": "PASSIVE", "PYTHONPATH": str(REPO),
                   "PARTNERQA_MULTILINGUAL_ENCODER": encoder}
            got = subprocess.run([sys.executable, "-m", "eval.multilingual_cost", "--worker", str(index)], env=env,
                                 capture_output=True, text=True, check=True)
            row = json.loads(got.stdout.strip().splitlines()[-1])
            row["build_s"] = round(built, 1)
            result[f"serve_{n}"] = row
            print(f"serve {n}", row, flush=True)
            shutil.rmtree(index, ignore_errors=True)
    result["load_average_at_end"] = os.getloadavg()[0]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2), encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    from ingest.embedder import configure_threads

    configure_threads()
    sys.exit(main())
