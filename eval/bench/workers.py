"""The bench's jobs, each run in a subprocess of its own (`python -m eval.bench --worker NAME SPEC RESULT`).

A worker reads its spec (JSON), measures one thing for one system and writes what it
measured (JSON). Running each in a fresh process means thread settings apply before torch
is imported and a memory figure belongs to one job. `WORKERS` maps the names to the jobs.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from eval.bench.measure import PeakRSS, cpu_time, folder_mb, max_rss_mb
from eval.bench.stats import median
from eval.bench.systems import (
    TimedEmbedder,
    lc_embeddings,
    model_embedder,
    pool_embedder,
    raw_encoder,
    raw_model,
    stock_answer_chain,
    stock_embeddings,
    stock_load,
    stock_splitter,
    timed_lc,
)
from eval.bench.workloads import ANSWER_K, K


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

        raw = raw_model(spec)
        texts = sorted((c.text for c in load_snapshot(Path(spec["pqa_index"])).chunks), key=len)
        every = max(1, int(spec.get("sample_every", 1)))
        sample = texts[::every]
        t, c = time.perf_counter(), cpu_time()
        raw(sample)
        secs, cpu = time.perf_counter() - t, cpu_time() - c
        scale = len(texts) / len(sample)
        return {"seconds": secs * scale, "cpu_seconds": cpu * scale, "chunks": len(texts), "sampled": len(sample)}
    real = model_embedder(spec)
    if system == "partnerqa":
        emb = pool_embedder(spec, real.fingerprint()) if pooled else real
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

    stock_emb = lc_embeddings(pool_embedder(spec, real.fingerprint())) if pooled \
        else timed_lc(stock_embeddings(spec))
    del real
    with PeakRSS() as mem:
        t, c = time.perf_counter(), cpu_time()
        lc_docs = stock_load(corpus)
        splits = stock_splitter().split_documents(lc_docs)
        vs = FAISS.from_documents(splits, stock_emb)
        vs.save_local(str(idx))
        secs, cpu = time.perf_counter() - t, cpu_time() - c
    return {"seconds": secs, "cpu_seconds": cpu, "embed_seconds": getattr(stock_emb, "seconds", None),
            "embed_cpu_seconds": getattr(stock_emb, "cpu_seconds", None), "chunks": len(splits),
            "docs": len({d.metadata.get("source") for d in lc_docs}), "peak_mb": mem.peak_mb,
            "delta_mb": mem.delta_mb, "index_mb": folder_mb(idx)}


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
    emb = model_embedder(spec)
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
        raw = raw_model(spec)
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


def worker_serve_stock(spec: Mapping[str, Any]) -> dict[str, Any]:
    """The stock recipe's query latency and serving memory."""
    import warnings

    warnings.filterwarnings("ignore", category=DeprecationWarning)
    import logging

    logging.getLogger("langchain_text_splitters").setLevel(logging.ERROR)  # "Created a chunk of size ..."
    from langchain_community.vectorstores import FAISS

    rounds, warm = _rounds(spec)
    emb = stock_embeddings(spec)
    t = time.perf_counter()
    vs = FAISS.load_local(spec["index"], emb, allow_dangerous_deserialization=True)
    load_s = time.perf_counter() - t
    retriever = vs.as_retriever(search_kwargs={"k": K})
    chain = stock_answer_chain(vs, emb)
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
    docs = stock_answer_chain(vs, emb).invoke(spec["question"])
    print(" ".join(d.page_content for d in docs[:3]))
    return {}


def worker_limit_ask(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Cold start of the hardware limit: load the model (the limit's encoder) and the FAISS file, encode, search."""
    import faiss

    index_dir = Path(spec["index"])
    gen = index_dir / (index_dir / "CURRENT").read_text().strip()
    if (spec.get("limit_encoder") or "torch") != "torch":
        encode = raw_model(spec)
    else:
        from sentence_transformers import SentenceTransformer

        from ingest.embedder import bundled_model_path

        model = SentenceTransformer(str(bundled_model_path()), device="cpu")

        def encode(texts: list[str]) -> np.ndarray:
            return model.encode(texts, normalize_embeddings=True)
    index = faiss.read_index(str(gen / "vectors.faiss"))
    _, rows = index.search(np.ascontiguousarray(encode([spec["question"]]), dtype=np.float32), K)
    print(rows[0].tolist())
    return {}


def worker_encoder(spec: Mapping[str, Any]) -> dict[str, Any]:
    """One encoder bare (`raw_encoder`, batch 32): load time (export cached), throughput on the
    corpus's chunks, single-question latency; its vectors of the first `probe` chunks go to
    `spec["vectors"]` (.npy) so the parent can compare them with torch's."""
    t = time.perf_counter()
    encode = raw_encoder(spec["encoder"])
    load_s = time.perf_counter() - t
    texts = list(spec["texts"])
    t, c = time.perf_counter(), cpu_time()
    vecs = encode(texts)
    secs, cpu = time.perf_counter() - t, cpu_time() - c
    np.save(spec["vectors"], np.asarray(vecs[: int(spec.get("probe", 256))], dtype=np.float32))
    lat = []
    for q in spec["queries"]:
        t0 = time.perf_counter()
        encode([q])
        lat.append((time.perf_counter() - t0) * 1000)
    return {"encoder": spec["encoder"], "load_s": load_s, "seconds": secs, "cpu_seconds": cpu, "chunks": len(texts),
            "query_ms": lat}


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


def worker_serve_backend(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Retrieval latency of one index on each storage backend, side by side, query by query.

    The FAISS generation at `spec["index"]` is copied as it is (chunks, vectors, documents) into
    each other backend of `spec["backends"]` (Milvus: a Lite file under `spec["work"]`, or
    `PARTNERQA_MILVUS_URI`), timing the write; then the same questions go to a `Retriever` on each,
    taking turns, so every backend sees the same machine load. What differs is only the store.
    """
    from ingest.backend import FaissStore
    from ingest.settings import Settings
    from ingest.store import load_snapshot
    from rag.retriever import Retriever

    rounds, warm = _rounds(spec)
    emb = model_embedder(spec)
    snap = load_snapshot(Path(spec["index"]))
    retrievers = {"faiss": Retriever(snap, emb, k=K, store=FaissStore(Path(spec["index"])))}
    res: dict[str, Any] = {"n_chunks": len(snap.chunks), "write_s": {}, "load_s": {}}
    for backend in spec["backends"]:
        if backend == "faiss":
            continue
        from ingest.backend import open_store

        settings = Settings.from_env().with_(backend=backend, index=Path(spec["work"]) / backend)
        store = open_store(settings)
        rows = np.arange(len(snap.chunks))
        t = time.perf_counter()
        store.write(snap.manifest, list(snap.docs.values()), snap.chunks, snap.vectors(rows), 0)
        res["write_s"][backend] = time.perf_counter() - t
        t = time.perf_counter()
        loaded = store.load(emb.fingerprint())
        res["load_s"][backend] = time.perf_counter() - t
        retrievers[backend] = Retriever(loaded, emb, k=K, store=store)
    for r in retrievers.values():
        for q in warm:
            r.search(q)
    lat: dict[str, list[list[float]]] = {b: [] for b in retrievers}
    batch: dict[str, list[float]] = {b: [] for b in retrievers}
    for queries in rounds:
        for b in retrievers:
            lat[b].append([])
        for q in queries:
            for b, r in retrievers.items():
                t0 = time.perf_counter()
                r.search(q)
                lat[b][-1].append((time.perf_counter() - t0) * 1000)
        for b, r in retrievers.items():
            qs = queries[: int(spec["batch"])]
            t0 = time.perf_counter()
            r.search_batch(qs)
            batch[b].append((time.perf_counter() - t0) * 1000 / len(qs))
    res["retrieve"] = lat
    res["batch"] = batch
    return res


WORKERS: dict[str, Callable[[Mapping[str, Any]], dict[str, Any]]] = {
    "serve-backend": worker_serve_backend,
    "ingest": worker_ingest,
    "serve-partnerqa": worker_serve_partnerqa,
    "serve-stock": worker_serve_stock,
    "stock-ask": worker_stock_ask,
    "limit-ask": worker_limit_ask,
    "threads": worker_threads,
    "encoder": worker_encoder,
}
