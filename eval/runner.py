"""The evaluation harness: run a question set through the answerer, score it, write the reports.

``partnerqa eval`` (or ``python -m eval.runner``) answers every question of a set,
scores retrieval, answers, abstention, citations and latency with the pure metrics
of `eval.metrics`, prints a summary and writes ``results.json``, ``summary.md`` and a
self-contained ``report.html`` (see `eval.report`). ``partnerqa eval --compare A B``
shows what changed between two runs, question by question.

The pieces are usable from Python: `build_index` makes an index from a corpus with
any embedder, `run_eval` scores a ready answerer (anything with
``answer(question, k=..., mode=...) -> rag.types.Answer``), so tests and sweeps plug
in fakes and reuse one answerer across settings.
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from eval import metrics as m
from eval.datasets import Question, load_beir, load_question_set
from eval.results import LATENCY_KEYS, OVERALL_KEYS, PER_QUESTION_KEYS

__all__ = [
    "DEFAULT_SEEDS",
    "DEFAULT_SET",
    "LATENCY_KEYS",
    "OVERALL_KEYS",
    "PER_QUESTION_KEYS",
    "EvalResult",
    "QuestionRun",
    "build_index",
    "main",
    "outcome",
    "question_run",
    "run_eval",
    "score_runs",
    "strip_markers",
]

logger = logging.getLogger(__name__)

DEFAULT_SET = Path(__file__).resolve().parent / "sets" / "seeds.jsonl"
DEFAULT_SEEDS = Path(__file__).resolve().parents[1] / "seeds"

#: How many retrieved passages each question record keeps (to show what was retrieved).
PASSAGES_KEPT = 3
PASSAGE_CHARS = 400

_MARKER = re.compile(r"\s*\[\d+(?:\s*[,;]\s*\d+)*\]")

Supports = Callable[[str, str], bool]


def strip_markers(text: str) -> str:
    """Remove ``[n]`` / ``[1, 2]`` citation markers from an answer text."""
    return " ".join(_MARKER.sub("", text).split())


# --------------------------------------------------------------------------- one question


@dataclass(frozen=True)
class QuestionRun:
    """What the system did on one question, reduced to what the metrics need.

    Attributes:
        question: The benchmark question.
        retrieved: Ranked document ids of the answer's hits, repeats removed.
        answer_text: The answer text as shown to the user (with ``[n]`` markers).
        abstained: Whether the answerer abstained.
        sentences: ``(sentence, quotes)`` per answer sentence, quotes being the texts of
            its citations (empty when abstained).
        citations: ``{n, doc_id, start, end, quote}`` per citation.
        passages: The first `PASSAGES_KEPT` hits: ``{doc_id, start, end, score, text}``.
        confidence: The answerer's evidence score (a calibrated probability for the extractive answerer).
        short: The short answer (a span of the first quote), "" when there is none.
        retrieve_ms: Retrieval time.
        total_ms: End-to-end time.
    """

    question: Question
    retrieved: tuple[str, ...]
    answer_text: str
    abstained: bool
    sentences: tuple[tuple[str, tuple[str, ...]], ...] = ()
    citations: tuple[Mapping[str, Any], ...] = ()
    passages: tuple[Mapping[str, Any], ...] = ()
    confidence: float = 0.0
    short: str = ""
    retrieve_ms: float = 0.0
    total_ms: float = 0.0

    @property
    def prediction(self) -> str:
        """The answer text the answer metrics see: markers stripped, "" when abstained."""
        return "" if self.abstained else strip_markers(self.answer_text)

    @property
    def short_prediction(self) -> str:
        """What token F1 sees: the short answer, else the answer text ("" when abstained)."""
        return "" if self.abstained else (self.short or self.prediction)


def question_run(question: Question, answer: Any) -> QuestionRun:
    """Reduce a `rag.types.Answer` to a `QuestionRun`."""
    retrieved = tuple(dict.fromkeys(h.doc_id for h in answer.hits))
    by_n = {c.n: c for c in answer.citations}
    sentences = tuple((s.text, tuple(by_n[n].quote for n in s.citations if n in by_n)) for s in answer.sentences)
    citations = tuple(
        {"n": c.n, "doc_id": c.doc_id, "start": c.start, "end": c.end, "quote": c.quote} for c in answer.citations
    )
    passages = tuple(
        {
            "doc_id": h.doc_id,
            "start": h.start,
            "end": h.end,
            "score": round(float(h.score), 6),
            "text": h.text[:PASSAGE_CHARS],
        }
        for h in answer.hits[:PASSAGES_KEPT]
    )
    timings = answer.timings or {}
    return QuestionRun(
        question=question,
        retrieved=retrieved,
        answer_text=answer.text,
        abstained=bool(answer.abstained),
        sentences=sentences,
        citations=citations,
        passages=passages,
        confidence=float(getattr(answer, "confidence", 0.0) or 0.0),
        short=str(getattr(answer, "short", "") or ""),
        retrieve_ms=float(timings.get("retrieve_ms", 0.0)),
        total_ms=float(timings.get("total_ms", 0.0)),
    )


def outcome(run: QuestionRun, accuracy: float | None, hit: float | None) -> str:
    """Label one question's result.

    ``correct``, ``correct_abstention``, ``wrong_abstention`` (abstained on an
    answerable question), ``missed_abstention`` (answered an unanswerable one),
    ``wrong_answer`` (answered without an acceptable answer in the text), or, for
    retrieval-only questions (no answer strings), ``retrieval_miss`` when no gold
    document is in the top 5.
    """
    q = run.question
    if not q.answerable:
        return "correct_abstention" if run.abstained else "missed_abstention"
    if run.abstained:
        return "wrong_abstention"
    if accuracy is not None:
        return "correct" if accuracy >= 1.0 else "wrong_answer"
    if hit is not None and hit < 1.0:
        return "retrieval_miss"
    return "correct"


CORRECT_OUTCOMES = frozenset({"correct", "correct_abstention"})


# --------------------------------------------------------------------------- scoring


def score_runs(runs: Sequence[QuestionRun], supports: Supports) -> dict[str, m.MetricResult]:
    """Every per-question metric over `runs`, keyed by its `results.json` name.

    Args:
        runs: The questions' results.
        supports: The citation support judge (see `eval.support.make_support_judge`).

    Returns:
        ``{key: MetricResult}`` for each key of `PER_QUESTION_KEYS`.
    """
    retrieved = [list(r.retrieved) for r in runs]
    gold = [r.question.gold_docs for r in runs]
    preds = [r.prediction for r in runs]
    shorts = [r.short_prediction for r in runs]
    answers = [r.question.answers for r in runs]
    answerable = [r.question.answerable for r in runs]
    abstained = [r.abstained for r in runs]
    cited = [list(r.sentences) for r in runs]
    return {
        "hit@1": m.hit_at_k(retrieved, gold, 1),
        "hit@3": m.hit_at_k(retrieved, gold, 3),
        "hit@5": m.hit_at_k(retrieved, gold, 5),
        "recall@5": m.recall_at_k(retrieved, gold, 5),
        "mrr@10": m.mrr_at_k(retrieved, gold, 10),
        "ndcg@10": m.ndcg_at_k(retrieved, gold, 10),
        "accuracy": m.answer_accuracy(preds, answers, answerable),
        "token_f1": m.token_f1(shorts, answers, answerable),
        "citation_precision": m.citation_precision(cited, supports),
        "citation_recall": m.citation_recall(cited, supports),
        "abstention_precision": m.abstention_precision(abstained, answerable),
        "abstention_recall": m.abstention_recall(abstained, answerable),
        "abstention_f1": m.abstention_f1(abstained, answerable),
        "wrong_abstention_rate": m.wrong_abstention_rate(abstained, answerable),
    }


def _latency(runs: Sequence[QuestionRun]) -> dict[str, float]:
    total = [r.total_ms for r in runs]
    retrieve = [r.retrieve_ms for r in runs]
    return {
        "latency_p50_ms": round(m.percentile(total, 50), 2),
        "latency_p95_ms": round(m.percentile(total, 95), 2),
        "retrieval_latency_p50_ms": round(m.percentile(retrieve, 50), 2),
        "retrieval_latency_p95_ms": round(m.percentile(retrieve, 95), 2),
    }


def _counts(runs: Sequence[QuestionRun]) -> dict[str, int]:
    answerable = sum(r.question.answerable for r in runs)
    return {"questions": len(runs), "answerable": answerable, "unanswerable": len(runs) - answerable}


def _overall(runs: Sequence[QuestionRun], scores: Mapping[str, m.MetricResult]) -> dict[str, float]:
    overall = {key: round(scores[key].overall, 6) for key in PER_QUESTION_KEYS}
    overall.update(_latency(runs))
    return overall


# --------------------------------------------------------------------------- a whole run


@dataclass(frozen=True)
class EvalResult:
    """One evaluation run: what `results.json` holds.

    Attributes:
        overall: ``OVERALL_KEYS`` -> score (rates in [0, 1], latencies in ms). A metric
            that counted no question is 0.0 there; `scored` tells.
        scored: Per metric of `PER_QUESTION_KEYS`, how many questions it counted.
        counts: ``questions``, ``answerable``, ``unanswerable``.
        by_kind: Per question kind, ``{"counts", "overall", "scored", "outcomes"}``.
        by_lang: The same per question language (``"en"`` unless the set says otherwise).
        outcomes: How many questions ended in each `outcome` label.
        questions: One record per question (see `runner` docs in the README).
        config: How the run was set up (set, k, mode, threshold, index manifest, git commit).
    """

    overall: Mapping[str, float]
    scored: Mapping[str, int]
    counts: Mapping[str, int]
    by_kind: Mapping[str, Mapping[str, Any]]
    outcomes: Mapping[str, int]
    questions: tuple[Mapping[str, Any], ...]
    config: Mapping[str, Any] = field(default_factory=dict)
    by_lang: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape written as ``results.json``."""
        return {
            "overall": dict(self.overall),
            "scored": dict(self.scored),
            "counts": dict(self.counts),
            "outcomes": dict(self.outcomes),
            "by_kind": {k: dict(v) for k, v in self.by_kind.items()},
            "by_lang": {k: dict(v) for k, v in self.by_lang.items()},
            "config": dict(self.config),
            "questions": [dict(q) for q in self.questions],
        }


def _record(run: QuestionRun, scores: Mapping[str, m.MetricResult], i: int) -> dict[str, Any]:
    q = run.question
    per = {key: scores[key].per_question[i] for key in PER_QUESTION_KEYS}
    label = outcome(run, per["accuracy"], per["hit@5"])
    return {
        "qid": q.qid,
        "kind": q.kind,
        "lang": q.lang,
        "question": q.question,
        "answerable": q.answerable,
        "answers": list(q.answers),
        "gold_docs": list(q.gold_docs),
        "retrieved": list(run.retrieved),
        "answer": run.answer_text,
        "abstained": run.abstained,
        "confidence": round(run.confidence, 6),
        "short": run.short,
        "outcome": label,
        "correct": label in CORRECT_OUTCOMES,
        "citations": [dict(c) for c in run.citations],
        "passages": [dict(p) for p in run.passages],
        "retrieve_ms": run.retrieve_ms,
        "total_ms": run.total_ms,
        "scores": per,
    }


def _count_outcomes(records: Sequence[Mapping[str, Any]]) -> dict[str, int]:
    out: dict[str, int] = {}
    for r in records:
        out[r["outcome"]] = out.get(r["outcome"], 0) + 1
    return dict(sorted(out.items()))


def evaluate_runs(
    runs: Sequence[QuestionRun], supports: Supports, config: Mapping[str, Any] | None = None
) -> EvalResult:
    """Score finished question runs into an `EvalResult` (no model calls but the judge's).

    Raises:
        ValueError: If `runs` is empty.
    """
    if not runs:
        raise ValueError("runs must not be empty")
    scores = score_runs(runs, supports)
    records = [_record(r, scores, i) for i, r in enumerate(runs)]
    by_kind = group_runs(runs, records, supports, lambda q: q.kind)
    return EvalResult(
        overall=_overall(runs, scores),
        scored={key: scores[key].n for key in PER_QUESTION_KEYS},
        counts=_counts(runs),
        by_kind=by_kind,
        outcomes=_count_outcomes(records),
        questions=tuple(records),
        config=dict(config or {}),
        by_lang=group_runs(runs, records, supports, lambda q: q.lang),
    )


def group_runs(runs: Sequence[QuestionRun], records: Sequence[Mapping[str, Any]], supports: Supports,
               key: Any) -> dict[str, dict[str, Any]]:
    """Scores per group of questions, ``key(question) -> group``, in first-seen order.

    Returns:
        ``{group: {"counts", "overall", "scored", "outcomes"}}``, the shape of `EvalResult.by_kind`.
    """
    out: dict[str, dict[str, Any]] = {}
    for group in dict.fromkeys(key(r.question) for r in runs):
        idx = [i for i, r in enumerate(runs) if key(r.question) == group]
        sub = [runs[i] for i in idx]
        g_scores = score_runs(sub, supports)
        out[group or "(none)"] = {
            "counts": _counts(sub),
            "overall": _overall(sub, g_scores),
            "scored": {k: g_scores[k].n for k in PER_QUESTION_KEYS},
            "outcomes": _count_outcomes([records[i] for i in idx]),
        }
    return out


def answerer_config(answerer: Any, k: int | None = None, mode: str | None = None) -> dict[str, Any]:
    """What an answerer is set to, plus its index manifest (embedder, chunker)."""
    retriever = getattr(answerer, "retriever", None)
    snapshot = getattr(retriever, "snapshot", None)
    manifest = getattr(snapshot, "manifest", None) or {}
    embedder = manifest.get("embedder") or {}
    return {
        "k": k if k is not None else getattr(answerer, "k", None),
        "mode": mode if mode is not None else getattr(retriever, "mode", None),
        "abstain_threshold": getattr(answerer, "abstain_threshold", None),
        "answer_mode": getattr(answerer, "answer_mode", None),
        "max_sentences": getattr(answerer, "max_sentences", None),
        "embedder": {"name": embedder.get("name"), "fingerprint": embedder.get("fingerprint"),
                     "encoder": embedder.get("encoder", "torch")},
        "chunker": manifest.get("chunker"),
        "index_generation": getattr(snapshot, "generation", None),
        "index_documents": len(getattr(snapshot, "docs", {}) or {}),
        "index_chunks": len(getattr(snapshot, "chunks", []) or []),
    }


def run_eval(
    questions: Sequence[Question],
    answerer: Any,
    *,
    supports: Supports | None = None,
    k: int | None = None,
    mode: str | None = None,
    progress: bool = False,
    config: Mapping[str, Any] | None = None,
) -> EvalResult:
    """Answer every question with `answerer` and score the run.

    Retrieval metrics use the ranked, de-duplicated doc ids of each answer's hits, so
    the ``@10`` metrics see at most `k` passages' documents. Answer metrics use the
    answer text without ``[n]`` markers; an abstention scores 0 on an answerable
    question. Latency is taken from the answer's own timings; the answerer is warmed
    up first so the first question does not pay for loading the model.

    Args:
        questions: The set (in report order).
        answerer: Anything with ``answer(question, k=..., mode=...)`` returning a
            `rag.types.Answer`; a `rag.Answerer` usually.
        supports: The citation support judge; default
            ``eval.support.make_support_judge(answerer.embedder)``.
        k: Passages retrieved per question (default: the answerer's).
        mode: Retrieval mode (default: the answerer's).
        progress: Show a tqdm progress bar on stderr.
        config: Extra entries for the result's ``config`` (set path, git commit, ...).

    Returns:
        The scored run.

    Raises:
        ValueError: If `questions` is empty.
    """
    if not questions:
        raise ValueError("questions must not be empty")
    if supports is None:
        from eval.support import make_support_judge

        supports = make_support_judge(answerer.embedder)
    warm_up = getattr(answerer, "warm_up", None)
    if callable(warm_up):
        warm_up()
    from tqdm.auto import tqdm

    runs: list[QuestionRun] = []
    for q in tqdm(questions, desc="eval", unit="q", disable=not progress, file=sys.stderr):
        runs.append(question_run(q, answerer.answer(q.question, k=k, mode=mode)))
    full_config = answerer_config(answerer, k, mode)
    full_config.update(config or {})
    return evaluate_runs(runs, supports, full_config)


# --------------------------------------------------------------------------- building an index


def build_index(
    corpus: str | Path | Sequence[str | Path],
    index_dir: str | Path,
    embedder: Any,
    settings: Any = None,
    *,
    progress: bool = False,
):
    """Ingest a corpus (folders, files, or a JSONL corpus) into `index_dir`.

    Args:
        corpus: A folder, a file (a ``.jsonl`` corpus ingests as many documents) or several.
        index_dir: Where the index goes (created if missing).
        embedder: The embedder to index with (the answerer must use the same one).
        settings: `ingest.settings.Settings` for chunking and limits (default: from env).
        progress: Show the embedding progress bar.

    Returns:
        The `ingest.pipeline.IngestReport`.

    Raises:
        ValueError: If nothing could be indexed; the message lists the skipped files.
    """
    from ingest.pipeline import Ingestor
    from ingest.settings import Settings

    paths = [corpus] if isinstance(corpus, (str, Path)) else list(corpus)
    settings = (settings or Settings.from_env()).with_(index=Path(index_dir))
    report = Ingestor.from_settings(settings, embedder=embedder).ingest(paths, progress=progress)
    for name, why in report.skipped:
        logger.warning("skipped %s: %s", name, why)
    if report.total_docs == 0:
        reasons = "; ".join(f"{n}: {w}" for n, w in report.skipped[:5]) or "no supported files"
        raise ValueError(f"corpus {', '.join(map(str, paths))} gave no documents ({reasons})")
    return report


# --------------------------------------------------------------------------- command line


def _git_info(repo: Path) -> dict[str, Any]:
    def git(*args: str) -> str | None:
        try:
            out = subprocess.run(
                ["git", "-C", str(repo), *args], capture_output=True, text=True, timeout=10, check=True
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return out.stdout.strip()

    commit = git("rev-parse", "HEAD")
    status = git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {"git_commit": commit, "git_dirty": bool(status) if status is not None else None}


def _set_name(args: argparse.Namespace) -> str:
    if args.beir:
        return Path(args.beir).name or "beir"
    path = Path(args.set)
    if path.stem in ("questions", "queries", "test", "dev") and path.parent.name:
        return f"{path.parent.name}-{path.stem}"
    return path.stem


def _unit_float(s: str) -> float:
    v = float(s)
    if not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError(f"must be in [0, 1], got {s}")
    return v


def _positive_int(s: str) -> int:
    v = int(s)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {s}")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="partnerqa eval",
        description="Run a question set through the answerer and write results.json, summary.md and report.html. "
        "Without --index/--corpus/--beir a temporary index of the repository's seeds/ is built.",
    )
    p.add_argument("--set", default=str(DEFAULT_SET), help="question set (JSONL; default: the packaged seeds set)")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--corpus", help="folder, file or corpus.jsonl to build a temporary index from")
    src.add_argument("--beir", help="BEIR folder (corpus.jsonl, queries.jsonl, qrels/); replaces --set")
    src.add_argument("--index", help="evaluate this existing index instead of building one")
    p.add_argument("--out", help="report folder (default: reports/eval/<set>-<timestamp>/)")
    p.add_argument("--limit", type=_positive_int, help="only the first N questions")
    p.add_argument(
        "-k", type=_positive_int, default=None, help="passages retrieved per question (default: the answerer's)"
    )
    p.add_argument("--mode", choices=["hybrid", "dense", "keyword"], default=None, help="retrieval mode")
    p.add_argument("--abstain-threshold", type=_unit_float, default=None, help="evidence score below which to abstain")
    p.add_argument(
        "--support-threshold",
        type=_unit_float,
        default=None,
        help="citation support judge threshold (default: eval.support.DEFAULT_THRESHOLD)",
    )
    p.add_argument(
        "--compare", nargs=2, metavar=("A", "B"), help="compare two runs (results.json files or their folders) and exit"
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def _load_questions(args: argparse.Namespace, tmp: Path) -> tuple[list[Question], Path | None]:
    """The questions, and the corpus to index (None when an existing index is used)."""
    if args.beir:
        corpus_rows, questions = load_beir(args.beir)
        corpus = tmp / "corpus.jsonl"
        with corpus.open("w", encoding="utf-8") as f:
            for row in corpus_rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
        return questions, corpus
    questions = load_question_set(args.set)
    if args.index:
        return questions, None
    if args.corpus:
        return questions, Path(args.corpus)
    seeds = DEFAULT_SEEDS if DEFAULT_SEEDS.is_dir() else Path("seeds")
    return questions, seeds


def _run(args: argparse.Namespace, embedder: Any = None) -> int:
    from eval import report
    from eval.support import DEFAULT_THRESHOLD, make_support_judge
    from ingest.embedder import embedder_from_settings
    from ingest.settings import Settings
    from rag.answer import Answerer

    started = datetime.now(UTC)
    t0 = time.perf_counter()
    settings = Settings.from_env()
    if embedder is None:
        embedder = embedder_from_settings(settings)
    out = Path(args.out) if args.out else Path("reports") / "eval" / f"{_set_name(args)}-{started:%Y%m%d-%H%M%S}"
    with tempfile.TemporaryDirectory(prefix="partnerqa-eval-") as tmp_name:
        tmp = Path(tmp_name)
        questions, corpus = _load_questions(args, tmp)
        if args.limit:
            questions = questions[: args.limit]
        if not questions:
            print("partnerqa eval: error: the question set is empty", file=sys.stderr)
            return 2
        index_dir = Path(args.index) if args.index else tmp / "index"
        index_seconds = None
        if corpus is not None:
            print(f"building a temporary index of {corpus} ...", file=sys.stderr)
            ti = time.perf_counter()
            ingest_report = build_index(corpus, index_dir, embedder, settings, progress=not args.no_progress)
            index_seconds = round(time.perf_counter() - ti, 2)
            print(
                f"indexed {ingest_report.total_docs} documents, {ingest_report.total_chunks} chunks "
                f"in {index_seconds:.1f} s",
                file=sys.stderr,
            )
        answerer = Answerer.load(
            index_dir, settings=settings, embedder=embedder, abstain_threshold=args.abstain_threshold
        )
        threshold = DEFAULT_THRESHOLD if args.support_threshold is None else args.support_threshold
        supports = make_support_judge(embedder, threshold=threshold)
        config = {
            "set": str(Path(args.beir) if args.beir else Path(args.set)),
            "corpus": str(corpus) if corpus is not None else None,
            "index": str(args.index) if args.index else "temporary",
            "limit": args.limit,
            "support_judge": {"kind": "lexical coverage + embedding cosine (not NLI)", "threshold": threshold},
            "started_at": started.isoformat(timespec="seconds"),
            "index_seconds": index_seconds,
            **_git_info(Path(__file__).resolve().parents[1]),
        }
        tq = time.perf_counter()
        result = run_eval(
            questions,
            answerer,
            supports=supports,
            k=args.k,
            mode=args.mode,
            progress=not args.no_progress,
            config=config,
        )
    config = {
        **result.config,
        "eval_seconds": round(time.perf_counter() - tq, 2),
        "wall_seconds": round(time.perf_counter() - t0, 2),
    }
    data = {**result.to_dict(), "config": config}
    paths = report.write_reports(data, out)
    print(report.summary_table(data))
    print(f"\nwrote {', '.join(str(p) for p in paths.values())}")
    return 0


def main(argv: Sequence[str] | None = None, *, embedder: Any = None) -> int:
    """Entry point of ``partnerqa eval``; returns the exit status.

    Args:
        argv: The arguments after ``eval`` (default: ``sys.argv[1:]``).
        embedder: Index and answer with this embedder instead of the bundled model
            (tests, sweeps); it is recorded in the run's config like any other.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" in argv:  # `partnerqa eval -- --set X` passes the separator through; drop it
        argv.remove("--")
    args = build_parser().parse_args(argv)
    if args.compare:
        from eval import report

        try:
            a, b = (report.load_results(p) for p in args.compare)
        except (OSError, ValueError) as e:
            print(f"partnerqa eval: error: {e}", file=sys.stderr)
            return 2
        print(report.format_comparison(report.compare_results(a, b), names=tuple(args.compare)))
        return 0
    from ingest.errors import PartnerQAError

    try:
        return _run(args, embedder)
    except (OSError, ValueError, PartnerQAError) as e:
        print(f"partnerqa eval: error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    from ingest.embedder import configure_threads

    configure_threads()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    sys.exit(main())
