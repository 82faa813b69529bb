"""Figures from the workers' raw results: medians over runs, encoder rates, projected ingest times.

Pure functions of the report's raw parts, so a saved `bench.json` can be re-derived
(`--from-json`) without measuring again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from eval.bench.stats import median, percentile


def latency_summary(rounds: Sequence[Sequence[float]]) -> dict[str, float]:
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


def ingest_figures(res: Mapping[str, Any], rates: Mapping[str, Mapping[str, float]] | None = None) -> dict[str, Any]:
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


def serve_figures(pqa: Mapping[str, Any], stock: Mapping[str, Any] | None) -> dict[str, Any]:
    out: dict[str, Any] = {"n_chunks": pqa["n_chunks"], "faiss": pqa["faiss"]}
    p = {"retrieve": latency_summary(pqa["retrieve"]), "batch_per_query": median(pqa["batch"]),
         "answer": latency_summary(pqa["answer"]), "serving_mb": pqa["serving_mb"], "load_s": pqa["load_s"]}
    stages = [s for rnd in pqa["answer_stage"] for s in rnd]
    if stages:
        p["answer_stage_p50"] = {k: median([s[k] for s in stages if k in s]) for k in stages[0]}
    out["partnerqa"] = p
    if "limit_retrieve" in pqa:
        out["limit"] = {"retrieve": latency_summary(pqa["limit_retrieve"]), "batch_per_query": median(pqa["limit_batch"]),
                        "answer": latency_summary(pqa["limit_answer"]), "embed": latency_summary(pqa["limit_embed"]),
                        "search": latency_summary(pqa["limit_search"]), "search_flat": latency_summary(pqa["limit_search_flat"])}
    if "recall@10" in pqa:
        out["recall@10"] = pqa["recall@10"]
        out["efSearch"] = pqa["efSearch"]
    if "faiss_sizes" in pqa:
        out["faiss_sizes"] = pqa["faiss_sizes"]
    if stock:
        out["stock"] = {"retrieve": latency_summary(stock["retrieve"]), "batch_per_query": median(stock["batch"]),
                        "answer": latency_summary(stock["answer"]), "serving_mb": stock["serving_mb"],
                        "load_s": stock["load_s"]}
    return out


def fill_ingest(report: dict[str, Any]) -> None:
    """The ingest figures (and the note on projections) from the raw worker results."""
    raw, pool_from = report.get("ingest_raw", {}), report.get("pool_from")
    rates = encoder_rates(raw[pool_from]) if pool_from in raw else {}
    report["encoder_rates"] = rates
    report["ingest"] = {name: ingest_figures(res, rates if res.get("pooled") else None) for name, res in raw.items()}
    if any(res.get("pooled") for res in raw.values()) and rates:
        speeds = ", ".join(f"{k} {v['chunks_per_s']:.1f}" for k, v in rates.items())
        note = (f"corpora marked 'encoder projected' were not embedded by the model: their vectors were derived "
                f"from {pool_from}'s real embeddings, everything else (loading, chunking, BM25, FAISS, writing) was "
                f"measured, and each system's encoder time was added at the rate it showed on {pool_from} "
                f"(chunks/s: {speeds})")
        report["notes"] = [n for n in report.get("notes", []) if "pooled" not in n and "projected" not in n] + [note]


def guess_pool_from(report: Mapping[str, Any]) -> str | None:
    """The largest corpus embedded for real (for a bench.json written before `pool_from` was kept)."""
    real = [(v["partnerqa"][0]["chunks"], k) for k, v in report["ingest_raw"].items()
            if not v.get("pooled") and v.get("partnerqa") and k.startswith("synthetic")]
    return max(real)[1] if real else None


def backend_figures(res: Mapping[str, Any]) -> dict[str, Any]:
    """Per backend: retrieval p50/p95 (median over rounds), batch ms per query, write and load seconds."""
    out: dict[str, Any] = {"n_chunks": res["n_chunks"]}
    for b, rounds in res["retrieve"].items():
        out[b] = {**latency_summary(rounds), "batch_per_query": median(res["batch"][b]),
                  "write_s": res["write_s"].get(b), "load_s": res["load_s"].get(b)}
    return out
