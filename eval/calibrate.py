"""Calibrate the extractive answerer's abstention threshold on labelled question sets.

For each question the answerer runs once with abstention off, recording the
evidence score of its best sentence and whether the answer is right. A question
is handled correctly at threshold t when it is answerable, scores >= t and the
answer contains an acceptable string, or when it is unanswerable and scores < t.
The sweep prints, per threshold, that rate and the abstention precision/recall,
and suggests the threshold with the best balanced rate, pooled over the sets.

    python -m eval.calibrate --set eval/sets/seeds.jsonl --corpus seeds \
        --set /tmp/squad2/questions.jsonl --corpus /tmp/squad2/corpus.jsonl
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ingest.embedder import configure_threads


@dataclass(frozen=True)
class Scored:
    qid: str
    answerable: bool
    confidence: float
    correct: bool  # the answer, if given, contains an acceptable string


def score_set(answerer, questions) -> list[Scored]:
    """Run every question with abstention off and record (confidence, correctness)."""
    from eval.metrics import answer_accuracy

    out = []
    for q in questions:
        ans = answerer.answer(q.question)
        text = re.sub(r"\s*\[\d+\]", "", ans.text)
        correct = bool(q.answerable and answer_accuracy([text], [list(q.answers)], [True]).overall == 1.0)
        out.append(Scored(q.qid, q.answerable, ans.confidence, correct))
    return out


def sweep(rows: Sequence[Scored], thresholds: Sequence[float]) -> list[dict]:
    """Per threshold: balanced correctness (mean of the answerable and unanswerable rates), etc."""
    res = []
    ans = [r for r in rows if r.answerable]
    una = [r for r in rows if not r.answerable]
    for t in thresholds:
        ok_ans = sum(1 for r in ans if r.confidence >= t and r.correct)
        ok_una = sum(1 for r in una if r.confidence < t)
        abst = [r for r in rows if r.confidence < t]
        tp = sum(1 for r in abst if not r.answerable)
        prec = tp / len(abst) if abst else 0.0
        rec = tp / len(una) if una else 0.0
        res.append({
            "threshold": round(t, 3),
            "answered_correctly": ok_ans / len(ans) if ans else 0.0,
            "abstained_correctly": ok_una / len(una) if una else 0.0,
            "balanced": ((ok_ans / len(ans) if ans else 0) + (ok_una / len(una) if una else 0)) / 2,
            "overall": (ok_ans + ok_una) / len(rows) if rows else 0.0,
            "abstention_precision": prec,
            "abstention_recall": rec,
            "wrong_abstention_rate": sum(1 for r in ans if r.confidence < t) / len(ans) if ans else 0.0,
        })
    return res


def main(argv: Sequence[str] | None = None) -> int:
    configure_threads()
    p = argparse.ArgumentParser(prog="python -m eval.calibrate", description=__doc__.splitlines()[0])
    p.add_argument("--set", action="append", required=True, help="question set (JSONL); repeatable")
    p.add_argument("--corpus", action="append", required=True, help="corpus folder or JSONL, one per --set")
    p.add_argument("--out", help="write the sweep as JSON here")
    args = p.parse_args(argv)
    if len(args.set) != len(args.corpus):
        p.error("give one --corpus per --set")
    from eval.datasets import load_question_set
    from ingest.embedder import SentenceTransformerEmbedder
    from ingest.pipeline import Ingestor
    from ingest.settings import Settings
    from rag import Answerer, Retriever

    embedder = SentenceTransformerEmbedder()
    thresholds = [i / 100 for i in range(20, 81, 2)]
    report: dict = {"sets": {}}
    pooled: list[list[dict]] = []
    for qset, corpus in zip(args.set, args.corpus):
        with tempfile.TemporaryDirectory() as tmp:
            settings = Settings.from_env(index=Path(tmp) / "index")
            Ingestor.from_settings(settings, embedder=embedder).ingest([corpus])
            retriever = Retriever.load(settings.index, embedder=embedder, settings=settings, k=8)
            answerer = Answerer(retriever, k=8, abstain_threshold=0.0, settings=settings)
            rows = score_set(answerer, load_question_set(qset))
        table = sweep(rows, thresholds)
        pooled.append(table)
        best = max(table, key=lambda r: r["balanced"])
        report["sets"][qset] = {"n": len(rows), "best": best, "sweep": table}
        print(f"{qset}: n={len(rows)}; best balanced {best['balanced']:.3f} at threshold {best['threshold']}")
    mean = [{"threshold": t, "balanced": sum(tb[i]["balanced"] for tb in pooled) / len(pooled)}
            for i, t in enumerate(thresholds)]
    best = max(mean, key=lambda r: r["balanced"])
    report["pooled_best"] = best
    print(f"{'threshold':>9}  " + "  ".join(f"{Path(s).parent.name[:10] + '/' + Path(s).stem[:8]:>22}" for s in args.set))
    for i, t in enumerate(thresholds):
        cells = "  ".join(f"ans {tb[i]['answered_correctly']:.2f} abst {tb[i]['abstained_correctly']:.2f}".rjust(22)
                          for tb in pooled)
        print(f"{t:>9.2f}  {cells}   balanced {mean[i]['balanced']:.3f}")
    print(f"pooled best: threshold {best['threshold']} (mean balanced {best['balanced']:.3f})")
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
