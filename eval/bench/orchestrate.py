"""A whole bench run: the corpora ingested by every system, query latency, cold start and threads.

`Bench` starts the workers in subprocesses and gathers their results; `run` puts the
raw results and the derived figures into one report (what `bench.json` holds).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from eval.bench.figures import backend_figures, fill_ingest, latency_summary, serve_figures
from eval.bench.report import build_rows, check_targets
from eval.bench.stats import median
from eval.bench.workloads import (
    REPO,
    SEC_DOCS,
    SEEDS,
    SEEDS_QUESTION,
    SyntheticDoc,
    count_pages,
    synthetic_corpus,
    synthetic_queries,
    write_corpus,
)


def ingest_corpus(b: Bench, corpus: Path, work: Path, systems: Sequence[str], repeats: int, *, fake: bool,
                  pool: str | None = None, sample_every: int = 1, limit_encoder: str = "torch") -> dict[str, Any]:
    """`repeats` rounds of ingesting `corpus`, each system in a fresh process, the order
    turning round by round (partnerqa before the limit in the first round: the limit
    encodes partnerqa's chunks). Returns the per-system runs and the last indexes."""
    docs, pages = count_pages(corpus)
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
                    "pool": pool, "pqa_index": str(last.get("partnerqa", "")), "sample_every": sample_every,
                    "limit_encoder": limit_encoder}
            out[system].append(b.run("ingest", spec))
            if system != "limit":
                if system in last:
                    shutil.rmtree(last[system], ignore_errors=True)
                last[system] = idx
    out["pqa_index"] = str(last.get("partnerqa", ""))
    out["stock_index"] = str(last.get("stock", ""))
    return out


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
                                           **hnsw_settings()},
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
    # -- the encoders bare, taking turns; the fastest one is the limit every other figure is held to
    limit_encoder = "torch"
    if "encoders" not in skip and not fake and args.encoders:
        texts = sorted((c for d in synth[scales[0]][1] for c in chunker_texts(chunker, d)), key=len)
        texts = texts[:: max(1, len(texts) // 1000)]  # at most ~1,000, the corpus's length mix kept
        rng = random.Random(4)
        rng.shuffle(texts)  # the probe (the first 256) then spans every length
        queries = synthetic_queries(synth[scales[0]][1], args.thread_queries, seed=3)
        report["encoders"] = encoders_experiment(b, work, args.encoders, texts, queries, args.repeats)
        limit_encoder = max(report["encoders"], key=lambda e: report["encoders"][e]["chunks_per_s"])
    report["settings"]["encoder"] = settings.encoder
    report["settings"]["limit_encoder"] = limit_encoder
    ingest_raw: dict[str, Any] = {}
    for name, folder, repeats, _ in corpora:
        b.say(f"ingesting {name} x{repeats} ({', '.join(systems)})")
        ingest_raw[name] = ingest_corpus(b, folder, work / f"idx-{name}", systems, repeats, fake=fake,
                                         limit_encoder=limit_encoder)
    pool_from: str | None = None
    for n in scales:
        name = f"synthetic-{_short(n)}"
        folder = synth[n][0]
        if n in real_scales:
            repeats = args.repeats if n <= 1000 else args.big_repeats
            b.say(f"ingesting {name} x{repeats} ({', '.join(systems)})")
            ingest_raw[name] = ingest_corpus(b, folder, work / f"idx-{name}", systems, repeats, fake=fake,
                                             sample_every=1 if n <= 2000 else 4, limit_encoder=limit_encoder)
            pool_from = name
        else:
            if pool_from is None:
                raise SystemExit(f"bench: scale {n} is above --embed-max and no smaller scale was embedded")
            b.say(f"ingesting {name} with vectors pooled from {pool_from} (encoder time projected)")
            ingest_raw[name] = ingest_corpus(b, folder, work / f"idx-{name}", systems, 1, fake=fake,
                                             pool=ingest_raw[pool_from]["pqa_index"], limit_encoder=limit_encoder)
    report["ingest_raw"] = ingest_raw
    report["pool_from"] = pool_from
    fill_ingest(report)
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
                                        "limit": "limit" in systems, "fake": fake, "faiss_sizes": sizes,
                                        "limit_encoder": limit_encoder})
        stock = None
        if "stock" in systems:
            stock = b.run("serve-stock", {"index": ingest_raw[name]["stock_index"], "queries": queries,
                                          "per_round": args.queries,
                                          "rounds": args.repeats, "batch": args.batch, "fake": fake})
        report["query"][name] = serve_figures(pqa, stock)
        if [x for x in getattr(args, "backends", ["faiss"]) if x != "faiss"]:
            b.say(f"retrieval on each backend at {name} ({', '.join(args.backends)})")
            got = b.run("serve-backend", {"index": ingest_raw[name]["pqa_index"], "queries": queries,
                                          "per_round": args.queries, "rounds": args.repeats, "batch": args.batch,
                                          "fake": fake, "backends": ["faiss", *args.backends],
                                          "work": str(work / f"backends-{name}")})
            report.setdefault("backends", {})[name] = backend_figures(got)
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
                spec.write_text(json.dumps({"index": seeds_index, "question": SEEDS_QUESTION,
                                            "limit_encoder": limit_encoder}))
                times["limit"].append(b.timed([sys.executable, "-m", "eval.bench", "--worker", "limit-ask",
                                               str(spec), str(work / "limit-ask.out.json")]))
        report["cold_start"] = {k: median(v) if v else None for k, v in times.items()}
        report["cold_start_each"] = times
    # -- the multilingual (e5) channel's cost (issue 12), by eval.multilingual_cost in its own processes
    if "multilingual" not in skip and not fake:
        serve = [n for n in scales if n in (10_000, 100_000)]  # the sizes issue 12's targets name
        b.say(f"the multilingual channel's cost (ingest, Korean answers at {', '.join(map(str, serve)) or 'no'} "
              "chunks)")
        out_path = work / "multilingual_cost.json"
        b.timed([sys.executable, "-m", "eval.multilingual_cost", "--chunks", "300",
                 "--serve", ",".join(map(str, serve)), "--out", str(out_path)], timeout=3600)
        report["multilingual"] = json.loads(out_path.read_text())
    # -- threads next to a busy neighbour
    if "threads" not in skip and not fake:
        report["threads"] = threads_experiment(b, work, args)
    report["seconds"] = time.perf_counter() - t_start
    report["targets"] = [{"target": t, "met": m, "numbers": s} for t, m, s in check_targets(report)]
    report["rows"] = [r.to_dict() for r in build_rows(report)]
    if not args.keep and not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return report


def chunker_texts(chunker: Any, doc: SyntheticDoc) -> list[str]:
    from ingest.types import Document

    return [c.text for c in chunker.split(Document(doc.doc_id, doc.text))]


def encoders_experiment(b: Bench, work: Path, encoders: Sequence[str], texts: Sequence[str],
                        queries: Sequence[str], repeats: int) -> dict[str, Any]:
    """Each encoder bare (`worker_encoder`), in a process of its own, the encoders taking turns round by
    round: chunks/s on `texts`, single-question latency, load time, and the cosine of its vectors to
    torch's on the first chunks (when torch is among them)."""
    import numpy as np

    runs: dict[str, list[dict[str, Any]]] = {e: [] for e in encoders}
    for r in range(repeats):
        order = list(encoders) if r % 2 == 0 else list(encoders)[::-1]
        for enc in order:
            b.say(f"encoder {enc}, round {r + 1}/{repeats}: {len(texts):,} chunks")
            runs[enc].append(b.run("encoder", {"encoder": enc, "texts": list(texts), "queries": list(queries),
                                               "vectors": str(work / f"vectors-{enc}.npy"), "probe": 256}))
    out: dict[str, Any] = {}
    ref = np.load(work / "vectors-torch.npy") if "torch" in runs else None
    for enc, rs in runs.items():
        fig = {"chunks": rs[0]["chunks"], "chunks_per_s": rs[0]["chunks"] / median([x["seconds"] for x in rs]),
               "chunks_per_cpu_s": rs[0]["chunks"] / max(median([x["cpu_seconds"] for x in rs]), 1e-9),
               "query": latency_summary([x["query_ms"] for x in rs]), "load_s": median([x["load_s"] for x in rs])}
        if ref is not None:
            cos = (np.load(work / f"vectors-{enc}.npy") * ref).sum(axis=1)
            fig["cosine_to_torch"] = {"min": float(cos.min()), "mean": float(cos.mean()), "n": len(cos)}
        out[enc] = fig
    return out


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
            out[name] = {**latency_summary(rounds), "torch_threads": result.get("torch_threads"),
                         "omp_wait_policy": result.get("omp_wait_policy") or "(unset)"}
            b.say(f"query embedding {name}: p50 {out[name]['p50']:.1f} ms, p95 {out[name]['p95']:.1f} ms")
    return out


def _short(n: int) -> str:
    return f"{n // 1000}k" if n % 1000 == 0 and n >= 1000 else str(n)


def hnsw_settings() -> dict[str, int]:
    from ingest.store import HNSW_EF_CONSTRUCTION, HNSW_EF_SEARCH, HNSW_M

    return {"hnsw_m": HNSW_M, "hnsw_ef_construction": HNSW_EF_CONSTRUCTION, "hnsw_ef_search": HNSW_EF_SEARCH}
