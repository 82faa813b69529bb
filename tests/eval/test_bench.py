"""The bench's pure helpers against hand-computed values, and one tiny end-to-end run (no timing asserted)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from eval import bench
from ingest.chunker import Chunker
from ingest.types import Document

REPO = Path(__file__).resolve().parents[2]


def test_percentile_interpolates_between_ranks():
    xs = [15, 20, 35, 40, 50]
    assert bench.percentile(xs, 0) == 15
    assert bench.percentile(xs, 100) == 50
    assert bench.percentile(xs, 50) == 35
    assert bench.percentile(xs, 40) == pytest.approx(29.0)  # rank 1.6: 20 + 0.6 * 15
    assert bench.percentile([3, 1, 2], 50) == 2  # unsorted input
    assert bench.percentile([7], 95) == 7
    for q in (5, 25, 95, 99):
        assert bench.percentile(xs, q) == pytest.approx(float(np.percentile(xs, q)))


def test_percentile_rejects_nothing_and_bad_q():
    with pytest.raises(ValueError, match="no values"):
        bench.percentile([], 50)
    with pytest.raises(ValueError, match="q must be"):
        bench.percentile([1, 2], 101)


def test_median_even_and_odd():
    assert bench.median([4, 1, 3]) == 3
    assert bench.median([1, 2, 3, 10]) == 2.5


def test_ratio_and_its_formatting():
    assert bench.ratio(3.0, 2.0) == 1.5
    assert bench.ratio(None, 2.0) is None
    assert bench.ratio(1.0, 0.0) is None
    assert bench.ratio(1.0, None) is None
    assert bench.fmt_ratio(1.5) == "1.50x"
    assert bench.fmt_ratio(0.934) == "0.93x"
    assert bench.fmt_ratio(250.0) == "250x"
    assert bench.fmt_ratio(None) == "-"


def test_fmt_value_keeps_three_significant_digits():
    assert bench.fmt_value(None) == "-"
    assert bench.fmt_value(0) == "0"
    assert bench.fmt_value(12345.6) == "12,346"
    assert bench.fmt_value(123.4) == "123"
    assert bench.fmt_value(12.34) == "12.3"
    assert bench.fmt_value(1.234) == "1.23"
    assert bench.fmt_value(0.01234) == "0.0123"


def test_synthetic_documents_are_deterministic_and_distinct():
    a = bench.synthetic_document(3, seed=0)
    assert a == bench.synthetic_document(3, seed=0)
    assert a.text != bench.synthetic_document(4, seed=0).text
    assert a.text != bench.synthetic_document(3, seed=1).text
    assert a.doc_id == "synthetic_0_000003.txt"
    assert a.text.endswith(".\n") and len(a.text) > 1000


def test_synthetic_corpus_reaches_the_chunk_count_and_repeats():
    chunker = Chunker(800, 160)

    def count(text: str) -> int:
        return len(chunker.split(Document("x", text)))

    docs = bench.synthetic_corpus(60, count, seed=5)
    total = sum(count(d.text) for d in docs)
    assert total >= 60
    assert total - count(docs[-1].text) < 60  # stops at the first document that reaches it
    assert docs == bench.synthetic_corpus(60, count, seed=5)
    q = bench.synthetic_queries(docs, 5, seed=1)
    assert q == bench.synthetic_queries(docs, 5, seed=1) and len(set(q)) == 5
    assert all(s.startswith("What about ") and s.endswith("?") for s in q)
    with pytest.raises(ValueError, match="n_chunks"):
        bench.synthetic_corpus(0, count)


def test_pool_embedder_is_deterministic_unit_and_spread():
    rng = np.random.default_rng(0)
    pool = rng.standard_normal((50, 16)).astype(np.float32)
    emb = bench.PoolEmbedder(pool)
    texts = [f"text {i}" for i in range(200)]
    v = emb.embed(texts)
    assert v.shape == (200, 16) and v.dtype == np.float32 and v.flags.c_contiguous
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(v, emb.embed(texts))
    assert np.array_equal(v[:3], emb.embed(texts[:3]))  # a text's vector does not depend on its batch
    assert len({row.tobytes() for row in v}) == 200
    assert emb.embed([]).shape == (0, 16)


def test_int_list_reads_k_suffixes():
    assert bench._int_list("1k,10000,0.5k") == [1000, 10_000, 500]


def test_rows_and_targets_from_a_hand_made_report():
    report = {
        "ingest": {"c": {"docs": 2, "pages": 2, "pooled": False,
                         "partnerqa": {"seconds": 10.0, "docs_per_s": 0.2, "pages_per_s": 0.2, "chunks_per_s": 90.0,
                                       "chunks": 900, "delta_mb": 50.0, "index_mb": 3.0},
                         "stock": {"seconds": 11.0, "docs_per_s": 2 / 11, "pages_per_s": 2 / 11, "chunks_per_s": 80.0,
                                   "chunks": 880, "delta_mb": 60.0, "index_mb": 2.0},
                         "limit": {"seconds": 9.0, "docs_per_s": 2 / 9, "pages_per_s": 2 / 9, "chunks_per_s": 100.0,
                                   "chunks": 900, "delta_mb": 1.0}}},
        "query": {"s": {"n_chunks": 10_000, "faiss": "flat",
                        "partnerqa": {"retrieve": {"p50": 12.0, "p95": 20.0}, "answer": {"p50": 60.0, "p95": 90.0},
                                      "batch_per_query": 3.0, "serving_mb": 700.0},
                        "stock": {"retrieve": {"p50": 12.0, "p95": 21.0}, "answer": {"p50": 80.0, "p95": 99.0},
                                  "batch_per_query": 6.0, "serving_mb": 800.0},
                        "limit": {"retrieve": {"p50": 10.0, "p95": 15.0}, "answer": {"p50": 40.0, "p95": 50.0},
                                  "batch_per_query": 2.0, "embed": {"p50": 9.0}, "search": {"p50": 1.0}}}},
        "cold_start": {"partnerqa": 6.0, "stock": 9.0, "limit": 4.0},
    }
    rows = {r.figure: r for r in bench.build_rows(report)}
    assert "ingest c: pages/s" not in rows  # no paged documents: same as docs/s
    r = rows["ingest c: chunks/s"]
    assert (r.partnerqa, r.stock, r.limit, r.higher) == (90.0, 80.0, 100.0, True)
    assert rows["query s (flat): full answer p50"].partnerqa == 60.0
    table = bench.format_table(list(rows.values()))
    assert "1.12x" in table  # 90 / 80 chunks/s against stock
    assert "0.90x" in table  # 90 / 100 against the limit
    targets = {t: (met, nums) for t, met, nums in bench.check_targets(report)}
    assert targets["ingest c: throughput >= 0.85 of the encoder limit"] == (True, "0.90 (90.0 vs 100.0 chunks/s)")
    assert targets["retrieval p50 at 10,000 chunks <= 2x raw embed + raw FAISS"][0] is True
    assert targets["full extractive answer p50 at 10k chunks < 150 ms"][0] is True
    assert targets["never slower than the stock recipe (beyond 5% noise)"][0] is True
    assert not any("multilingual" in t for t in targets)  # not measured: no target claimed
    report["multilingual"] = {"encoder": "onnx-int8",
                              "ingest_synthetic": {"minilm": {"chunks_per_s": 40.0}, "minilm+e5": {"chunks_per_s": 18.0},
                                                   "ratio": 0.45, "chunks": 339},
                              "serve_10000": {"korean_answer_p50_ms": 199.4},
                              "serve_100000": {"rss_mb": 1418.0}}
    targets = {t: (met, nums) for t, met, nums in bench.check_targets(report)}
    assert targets["ingest with the multilingual channel >= 0.5 of MiniLM-only (issue 12; e5 on onnx-int8)"] == (
        False, "0.45 (18.0 vs 40.0 chunks/s, 339 chunks)")
    assert targets["Korean answer p50 at 10k chunks < 300 ms (issue 12)"] == (True, "199.4 ms")
    assert targets["serving memory with the multilingual channel at 100k chunks < 1.5 GB (issue 12)"] == (
        True, "1418 MB")
    md = bench.markdown({**report, "env": {"cpus": 2}, "args": {"repeats": 3},
                         "rows": [x.to_dict() for x in rows.values()], "targets": []})
    assert md.startswith("## Performance") and "| ingest c: chunks/s | chunks/s ↑ | 90.0 | 80.0 | 100 |" in md


def test_tiny_end_to_end_run_writes_bench_json(tmp_path):
    """A whole run on a hash embedder: every worker starts, bench.json and BENCH.md appear."""
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "eval.bench", "--fake", "--scales", "60,150", "--embed-max", "60", "--repeats", "1",
         "--queries", "4", "--recall-queries", "4", "--batch", "4", "--skip", "sec,stock", "--silent",
         "--out", str(out), "--work", str(tmp_path / "work")],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads((out / "bench.json").read_text())
    assert set(report["ingest"]) == {"seeds", "synthetic-60", "synthetic-150"}
    assert report["ingest"]["synthetic-150"]["pooled"] is True
    assert report["ingest"]["seeds"]["partnerqa"]["chunks"] > 0
    assert set(report["query"]) == {"synthetic-60", "synthetic-150"}
    q = report["query"]["synthetic-150"]
    assert q["partnerqa"]["retrieve"]["p50"] > 0 and q["limit"]["retrieve"]["p50"] > 0
    assert report["rows"] and report["targets"]
    assert (out / "BENCH.md").read_text().startswith("## Performance")
    assert "pqa/limit" in proc.stdout


@pytest.mark.milvus
def test_bench_compares_backends(tmp_path):
    """`--backends faiss,milvus`: the same index in Milvus Lite, retrieval timed on each, a table row each."""
    pytest.importorskip("milvus_lite", reason="needs the milvus extra: pip install -e '.[milvus]'")
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "eval.bench", "--fake", "--scales", "60", "--embed-max", "60", "--repeats", "1",
         "--queries", "4", "--recall-queries", "4", "--batch", "4", "--skip", "seeds,sec,stock,cold,threads",
         "--silent", "--backends", "faiss,milvus", "--out", str(out), "--work", str(tmp_path / "work")],
        cwd=REPO, capture_output=True, text=True, timeout=300, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads((out / "bench.json").read_text())
    got = report["backends"]["synthetic-60"]
    assert got["n_chunks"] > 0 and got["faiss"]["p50"] > 0 and got["milvus"]["p50"] > 0
    assert got["milvus"]["write_s"] > 0 and got["faiss"]["write_s"] is None
    md = (out / "BENCH.md").read_text()
    assert "| synthetic-60 | milvus |" in md and "not what a Milvus cluster serves" in md


def test_encoder_rows_hold_each_encoder_to_the_fastest_and_issue_17_targets():
    q = {"p50": 5.0, "p95": 6.0}
    report = {
        "settings": {"encoder": "onnx", "limit_encoder": "onnx-int8"},
        "encoders": {
            "torch": {"chunks_per_s": 40.0, "query": {"p50": 15.0, "p95": 17.0}, "load_s": 1.5,
                      "cosine_to_torch": {"min": 1.0, "mean": 1.0, "n": 3}},
            "onnx": {"chunks_per_s": 60.0, "query": q, "load_s": 0.2,
                     "cosine_to_torch": {"min": 0.9999999, "mean": 1.0, "n": 3}},
            "onnx-int8": {"chunks_per_s": 120.0, "query": {"p50": 3.0, "p95": 4.0}, "load_s": 0.2,
                          "cosine_to_torch": {"min": 0.98, "mean": 0.99, "n": 3}},
        },
        "query": {"s": {"n_chunks": 10_000, "faiss": "flat",
                        "partnerqa": {"retrieve": {"p50": 7.5, "p95": 9.0}, "answer": {"p50": 61.0, "p95": 90.0},
                                      "batch_per_query": 2.0, "serving_mb": 500.0}}},
        "cold_start": {"partnerqa": 4.2},
    }
    rows = {r.figure: r for r in bench.build_rows(report)}
    r = rows["encoder onnx bare: chunks/s"]
    assert (r.partnerqa, r.limit) == (60.0, 120.0)  # the limit is the fastest encoder
    assert rows["encoder torch bare: query embedding p50"].limit == 3.0
    assert rows["encoder onnx-int8: cosine to torch's vectors, min of 3"].partnerqa == 0.98
    assert "0.50x" in bench.format_table([r])
    targets = {t: met for t, met, _ in bench.check_targets(report)}
    assert targets["retrieval p50 at 10k chunks <= 8 ms (issue 17; encoder onnx)"] is True
    assert targets["full extractive answer p50 at 10k chunks < 60 ms (issue 17; encoder onnx)"] is False
    assert targets["cold start to first answer < 5 s (issue 17; encoder onnx, export cached)"] is True


def test_encoder_list_refuses_an_unknown_encoder():
    import argparse

    from eval.bench.cli import _encoder_list

    assert _encoder_list("torch, onnx-int8") == ["torch", "onnx-int8"]
    with pytest.raises(argparse.ArgumentTypeError, match="openvino"):
        _encoder_list("torch,openvino")
