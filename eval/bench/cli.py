"""`partnerqa bench` and `python -m eval.bench`: the options, a run or a re-table from `--from-json`, the output."""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from eval.bench.figures import fill_ingest, guess_pool_from
from eval.bench.orchestrate import hnsw_settings, run
from eval.bench.report import build_rows, check_targets, format_table, markdown
from eval.bench.workers import WORKERS

DEFAULT_OUT = Path("reports/bench")


def build_parser() -> argparse.ArgumentParser:
    from eval import bench

    p = argparse.ArgumentParser(prog="partnerqa bench", description=bench.__doc__.splitlines()[0])
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
                   help="comma list of: seeds, sec, stock, limit, cold, threads, encoders, multilingual")
    p.add_argument("--encoders", type=_encoder_list, default=["torch", "onnx", "onnx-int8"],
                   help="encoders measured bare, side by side (the fastest is the limit; default "
                        "torch,onnx,onnx-int8); partnerqa itself runs $PARTNERQA_ENCODER (`partnerqa --encoder X bench`)")
    p.add_argument("--fake", action="store_true", help="a hash embedder instead of the model (for tests)")
    p.add_argument("--backends", type=lambda s: [x for x in s.split(",") if x], default=["faiss"],
                   help="storage backends to compare retrieval on, e.g. faiss,milvus (milvus: Milvus Lite in "
                        "this process unless PARTNERQA_MILVUS_URI names a server; needs the milvus extra)")
    p.add_argument("--markdown", default=None, help="also write the README section here (e.g. eval/BENCH.md)")
    p.add_argument("--work", default=None, help="scratch folder (default: a temporary one, removed at the end)")
    p.add_argument("--keep", action="store_true", help="keep the scratch folder")
    p.add_argument("--silent", action="store_true", help="no progress lines")
    p.add_argument("--index", default=None, help=argparse.SUPPRESS)  # passed on by `partnerqa --index`; unused
    p.add_argument("--from-json", default=None, metavar="BENCH_JSON",
                   help="re-make the table and BENCH.md from an earlier bench.json instead of measuring")
    p.add_argument("--worker", nargs=3, metavar=("NAME", "SPEC", "RESULT"), help=argparse.SUPPRESS)
    return p


def _encoder_list(s: str) -> list[str]:
    from ingest.settings import ENCODERS

    out = [x.strip() for x in s.split(",") if x.strip()]
    bad = [x for x in out if x not in ENCODERS]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown encoder(s) {', '.join(bad)}: choose from {', '.join(ENCODERS)}")
    return out


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
        for key, value in hnsw_settings().items():  # a bench.json from before they were recorded
            report.setdefault("settings", {}).setdefault(key, value)
        if "ingest_raw" in report:
            report.setdefault("pool_from", guess_pool_from(report))
            fill_ingest(report)
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
