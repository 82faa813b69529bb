"""Train the answerer's evidence model (`rag/models/evidence.json`) on the labelled question sets.

``python -m eval.train_evidence`` runs every question of each set through the answerer's
own retrieval and candidate features (`rag.answer.Answerer.score_candidates`), labels a
candidate positive when it holds an accepted answer string, and fits:

1. the candidate model: logistic regression over `rag.evidence.FEATURES`, every corpus
   weighing the same and every question the same within its corpus;
2. the abstention model: P(the answer is right) from what its best candidates scored and
   why (`rag.evidence.QUESTION_FEATURES`), a logistic regression fitted on out-of-fold
   predictions (questions in five folds within every corpus, each fold scored by a candidate
   model trained on the others), so it is calibrated on questions the candidate model never
   saw; an unanswerable question's answer is never right;
3. the abstention threshold: on those out-of-fold predictions, the probability that
   maximises the mean over corpora of (answered right on answerable + abstained on
   unanswerable) / 2 while no corpus has more than ``--max-wrong-abstention`` (10%) of its
   answerable questions refused.

It reports cross-validated figures, never training-set scores: the 5-fold figures above,
and leave-one-corpus-out (train on the other corpora, score this one: a kind of document
the model never saw), both written into the model's ``info``.
The default sets are the project's seeds set, its Korean set over the same documents, the Apple
10-Q set and, when ``../shared`` holds them, the SQuAD 2.0 sample; indexes are cached under ``--cache``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.datasets import Question, load_question_set
from eval.metrics import normalize_answer

logger = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"


@dataclass
class Corpus:
    """One labelled set over its documents."""

    name: str
    questions: list[Question]
    corpus: Path


@dataclass
class QuestionRows:
    """The candidates of one question: features, labels, and whether it is answerable."""

    corpus: str
    qid: str
    answerable: bool
    X: np.ndarray
    y: np.ndarray


def default_sets(cache: Path) -> list[Corpus]:
    """The seeds set, the Apple 10-Q set and the SQuAD 2.0 sample, where their documents exist."""
    out = [Corpus("seeds", load_question_set(REPO / "eval" / "sets" / "seeds.jsonl"), REPO / "seeds")]
    ko = REPO / "eval" / "sets" / "ko.jsonl"
    if ko.exists():  # Korean questions over the same English documents (the multilingual channel)
        out.append(Corpus("ko", load_question_set(ko), REPO / "seeds"))
    aapl = SHARED / "bench" / "sec10q_aapl" / "docs"
    if aapl.is_dir():
        out.append(Corpus("aapl10q", load_question_set(REPO / "eval" / "sets" / "aapl10q.jsonl"), aapl))
    else:
        logger.warning("%s not found: training without the 10-Q set", aapl)
    squad = SHARED / "bench" / "squad2_sample500"
    if squad.is_dir():
        from eval.convert_squad import convert_squad

        folder = cache / "squad2"
        if not (folder / "questions.jsonl").exists():
            convert_squad(squad, folder)
        out.append(Corpus("squad2", load_question_set(folder / "questions.jsonl"), folder / "corpus.jsonl"))
    else:
        logger.warning("%s not found: training without SQuAD 2.0", squad)
    return out


def contains_answer(text: str, answers: Sequence[str]) -> bool:
    """An accepted answer's normalised tokens appear contiguously in `text` (as `eval.metrics` counts)."""
    tokens = normalize_answer(text).split()
    for a in answers:
        need = normalize_answer(a).split()
        if need and any(tokens[i:i + len(need)] == need for i in range(len(tokens) - len(need) + 1)):
            return True
    return False


def corpus_index(c: Corpus, cache: Path, embedder) -> Path:
    """The index of `c`'s documents under `cache`, built on first use (keyed by the corpus's path)."""
    from eval.runner import build_index

    key = hashlib.sha256(str(c.corpus.resolve()).encode()).hexdigest()[:12]
    index = cache / f"index-{c.name}-{key}"
    if not (index / "CURRENT").exists():
        logger.info("indexing %s into %s", c.corpus, index)
        build_index(c.corpus, index, embedder)
    return index


def collect(sets: Sequence[Corpus], cache: Path, model=None, embedder=None) -> list[QuestionRows]:
    """Features and labels of every question's candidates, as the answerer computes them."""
    from ingest.embedder import SentenceTransformerEmbedder
    from rag.answer import Answerer
    from rag.evidence import EvidenceModel
    from rag.retriever import Retriever

    embedder = embedder or SentenceTransformerEmbedder()
    model = model or EvidenceModel.bootstrap()
    rows: list[QuestionRows] = []
    for c in sets:
        index = corpus_index(c, cache, embedder)
        answerer = Answerer(Retriever.load(index, embedder=embedder, k=8), k=8, model=model)
        t0 = time.perf_counter()
        for q in c.questions:
            turn, hits = answerer.retrieve(q.question)
            cands, X, _, _ = answerer.score_candidates(turn, hits)
            y = np.array([q.answerable and contains_answer(cd.text, q.answers) for cd in cands], dtype=np.float64)
            rows.append(QuestionRows(c.name, q.qid, q.answerable, X, y))
        logger.info("%s: %d questions in %.1f s", c.name, len(c.questions), time.perf_counter() - t0)
    return rows


def _stack(rows: Sequence[QuestionRows]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows of every question; weights make each corpus sum to 1 and each question equal within it."""
    by_corpus: dict[str, int] = {}
    for r in rows:
        by_corpus[r.corpus] = by_corpus.get(r.corpus, 0) + 1
    Xs, ys, ws = [], [], []
    for r in rows:
        if len(r.y) == 0:
            continue
        Xs.append(r.X)
        ys.append(r.y)
        # positives and negatives of a question share its weight equally, so a question with one
        # right sentence among sixteen still teaches what "right" looks like
        w = np.where(r.y > 0, 0.5 / max(1, r.y.sum()), 0.5 / max(1, (1 - r.y).sum()))
        if r.y.sum() == 0:
            w = np.full(len(r.y), 1.0 / len(r.y))
        ws.append(w / by_corpus[r.corpus])
    X, y, w = np.vstack(Xs), np.concatenate(ys), np.concatenate(ws)
    return X, y, w * (len(w) / w.sum())


def fit_candidates(rows: Sequence[QuestionRows], l2: float):
    from rag.evidence import FEATURES, EvidenceModel, fit_logistic

    X, y, w = _stack(rows)
    mean = X.mean(axis=0)
    scale = X.std(axis=0)
    scale[scale < 1e-6] = 1.0
    weights, bias = fit_logistic((X - mean) / scale, y, w, l2=l2)
    return EvidenceModel(weights, bias, mean, scale, features=FEATURES)


def answer_rows(z: np.ndarray) -> list[int]:
    """The candidates an answer would quote: the best, and up to two more with at least
    FOLLOW_RATIO of its probability (as `rag.answer.Answerer` picks them, less its near-duplicate check)."""
    from rag.answer import FOLLOW_RATIO

    p = 1.0 / (1.0 + np.exp(-z))
    order = np.argsort(-z)
    return [int(i) for i in order[:TOP_SENTENCES] if p[i] >= FOLLOW_RATIO * p[order[0]]]


TOP_SENTENCES = 3


def question_outcomes(model, rows: Sequence[QuestionRows]) -> list[tuple[str, bool, np.ndarray, bool]]:
    """Per question: corpus, answerable, its QUESTION_FEATURES, and whether the answer would be right."""
    from rag.evidence import QUESTION_FEATURES, eligible, question_features

    out = []
    for r in rows:
        if len(r.y) == 0:
            q = np.zeros(len(QUESTION_FEATURES))
            q[0] = -20.0
            out.append((r.corpus, r.answerable, q, False))
            continue
        ok = eligible(r.X)
        if not ok.any():
            q = np.zeros(len(QUESTION_FEATURES))
            q[0] = -20.0
            out.append((r.corpus, r.answerable, q, False))
            continue
        z = model.candidate_logit(r.X[ok])  # as the answerer does: only quotable candidates compete
        right = r.answerable and any(r.y[ok][i] > 0 for i in answer_rows(z))
        out.append((r.corpus, r.answerable, question_features(r.X[ok], z), bool(right)))
    return out


def fit_abstention(outcomes, l2: float = 1.0) -> dict:
    """Logistic regression on QUESTION_FEATURES -> P(the answer is right); corpora weigh the same."""
    from rag.evidence import QUESTION_FEATURES, fit_logistic

    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o[0]] = counts.get(o[0], 0) + 1
    F = np.array([o[2] for o in outcomes])
    y = np.array([float(o[3]) for o in outcomes])
    w = np.array([1.0 / counts[o[0]] for o in outcomes])
    mean, scale = F.mean(axis=0), F.std(axis=0)
    scale[scale < 1e-6] = 1.0
    coef, bias = fit_logistic((F - mean) / scale, y, w * len(w) / w.sum(), l2=l2)
    return {"features": list(QUESTION_FEATURES), "weights": coef.tolist(), "bias": bias, "mean": mean.tolist(),
            "scale": scale.tolist()}


def choose_threshold(outcomes, probs, max_wrong: float) -> float:
    """The threshold with the best balanced score among those that abstain wrongly on at most
    `max_wrong` of any corpus's answerable questions (an answer the documents hold must not be
    refused: that was the first complaint); the lowest threshold if none does."""
    grid = np.round(np.arange(0.05, 0.96, 0.01), 2)
    ok = [t for t in grid if max(s["wrong_abstention"] for s in _scores(outcomes, probs, t).values()) <= max_wrong]
    if not ok:
        return float(grid[0])
    return float(max(ok, key=lambda t: (_balanced(_scores(outcomes, probs, t)), -t)))


def _balanced(scores: dict[str, dict[str, float]]) -> float:
    vals = []
    for s in scores.values():
        una = s["abstained_unanswerable"]
        vals.append(s["answered_right"] if math.isnan(una) else (s["answered_right"] + una) / 2)
    return float(np.mean(vals))


def _fold_outcomes(rows: Sequence[QuestionRows], l2: float, folds: int, seed: int = 0) -> list:
    """Out-of-fold outcomes: questions split in `folds` groups within each corpus, each scored by a
    model trained on the other groups (of every corpus)."""
    rng = np.random.default_rng(seed)
    fold_of = np.zeros(len(rows), dtype=int)
    for corpus in {r.corpus for r in rows}:
        idx = [i for i, r in enumerate(rows) if r.corpus == corpus]
        fold_of[idx] = rng.permutation(len(idx)) % folds
    out: list = [None] * len(rows)
    for f in range(folds):
        model = fit_candidates([r for i, r in enumerate(rows) if fold_of[i] != f], l2)
        test = [i for i in range(len(rows)) if fold_of[i] == f]
        for i, o in zip(test, question_outcomes(model, [rows[i] for i in test])):
            out[i] = o
    return out


def _corpus_outcomes(rows: Sequence[QuestionRows], l2: float, folds: int) -> tuple[list, list[float]]:
    """Leave one corpus out: each corpus scored by candidate and abstention models fitted on the
    other corpora only (the abstention model on their out-of-fold predictions)."""
    outcomes: list = []
    probs: list[float] = []
    for test in sorted({r.corpus for r in rows}):
        train = [r for r in rows if r.corpus != test]
        model = fit_candidates(train, l2)
        abstain = fit_abstention(_fold_outcomes(train, l2, folds))
        held = question_outcomes(model, [r for r in rows if r.corpus == test])
        outcomes += held
        probs += _probabilities(held, abstain)
    return outcomes, probs


def _probabilities(outcomes, abstain: dict) -> list[float]:
    from rag.evidence import FEATURES, EvidenceModel

    n = len(FEATURES)
    m = EvidenceModel(np.zeros(n), 0.0, np.zeros(n), np.ones(n), abstain=abstain)
    return [float(m.answer_proba_from(q)) for _, _, q, _ in outcomes]


def _scores(outcomes, probs, threshold: float) -> dict[str, dict[str, float]]:
    per: dict[str, list[tuple[bool, bool, bool]]] = {}
    for (corpus, answerable, _, ok), pr in zip(outcomes, probs):
        per.setdefault(corpus, []).append((answerable, pr < threshold, ok))
    return {c: _summary(items) for c, items in sorted(per.items())}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.train_evidence", description=__doc__.split("\n\n")[0])
    p.add_argument("--set", action="append", default=[], help="question set (JSONL); repeat with --corpus")
    p.add_argument("--corpus", action="append", default=[], help="its documents (folder or .jsonl)")
    p.add_argument("--cache", type=Path, default=REPO / ".partnerqa" / "train-cache", help="indexes are kept here")
    p.add_argument("--out", type=Path, default=REPO / "rag" / "models" / "evidence.json")
    p.add_argument("--l2", type=float, default=1.0, help="L2 penalty of the candidate model")
    p.add_argument("--rounds", type=int, default=2, help="re-collect features with the newly trained model")
    p.add_argument("--folds", type=int, default=5, help="folds of questions for calibration and the threshold")
    p.add_argument("--max-wrong-abstention", type=float, default=0.10,
                   help="the threshold keeps abstentions on answerable questions at or under this on every corpus")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    if len(args.set) != len(args.corpus):
        p.error("give one --corpus per --set")
    args.cache.mkdir(parents=True, exist_ok=True)
    sets = ([Corpus(Path(s).stem, load_question_set(s), Path(c)) for s, c in zip(args.set, args.corpus)]
            if args.set else default_sets(args.cache))
    if len({c.name for c in sets}) < 2:
        p.error("cross-validation needs at least two corpora")
    from ingest.embedder import SentenceTransformerEmbedder
    from rag.evidence import EvidenceModel

    embedder = SentenceTransformerEmbedder()
    model = None
    for rnd in range(max(1, args.rounds)):
        rows = collect(sets, args.cache, model=model, embedder=embedder)
        model = fit_candidates(rows, args.l2)
        logger.info("round %d: %d questions, %d candidates", rnd + 1, len(rows), sum(len(r.y) for r in rows))
    # Calibration and threshold come from out-of-fold predictions (5 folds of questions within
    # every corpus), whose scale matches the final model trained on all of them.
    oof = _fold_outcomes(rows, args.l2, args.folds)
    abstain = fit_abstention(oof)
    probs = _probabilities(oof, abstain)
    threshold = choose_threshold(oof, probs, args.max_wrong_abstention)
    kfold = _scores(oof, probs, threshold)
    # Leave one corpus out: how the model does on a kind of document it never saw.
    loco_scores = _scores(*_corpus_outcomes(rows, args.l2, args.folds), threshold)
    final = EvidenceModel(model.weights, model.bias, model.mean, model.scale, abstain=abstain,
                          threshold=threshold, info={
                              "trained_on": {c.name: len(c.questions) for c in sets},
                              "candidates": int(sum(len(r.y) for r in rows)),
                              "l2": args.l2,
                              "cv_questions": f"{args.folds}-fold over questions within each corpus, at the threshold",
                              "cv_at_threshold": kfold,
                              "leave_one_corpus_out": loco_scores,
                              "reliability": reliability(probs, [o[3] for o in oof]),
                          })
    final.save(args.out)
    print(json.dumps({"threshold": threshold, f"{args.folds}-fold": kfold,
                      "leave one corpus out": loco_scores}, indent=1))
    print(f"wrote {args.out}")
    return 0


def _summary(items: list[tuple[bool, bool, bool]]) -> dict[str, float]:
    ans = [i for i in items if i[0]]
    una = [i for i in items if not i[0]]
    tp = sum(1 for _, abst, _ in una if abst)
    fp = sum(1 for _, abst, _ in ans if abst)
    fn = len(una) - tp
    return {
        "answerable": len(ans), "unanswerable": len(una),
        "answered_right": round(sum(1 for _, abst, ok in ans if not abst and ok) / max(1, len(ans)), 3),
        "wrong_abstention": round(fp / max(1, len(ans)), 3),
        "abstained_unanswerable": round(tp / len(una), 3) if una else float("nan"),
        "abstention_f1": round(2 * tp / max(1, 2 * tp + fp + fn), 3) if una else float("nan"),
    }


def reliability(probs: Sequence[float], correct: Sequence[bool], bins: int = 10) -> list[dict[str, float]]:
    """Mean predicted probability and observed accuracy per probability bin."""
    out = []
    p = np.asarray(probs)
    c = np.asarray(correct, dtype=float)
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        sel = (p >= lo) & ((p < hi) if b < bins - 1 else (p <= hi))
        if sel.any():
            out.append({"bin": [lo, hi], "n": int(sel.sum()), "predicted": round(float(p[sel].mean()), 3),
                        "observed": round(float(c[sel].mean()), 3)})
    return out


if __name__ == "__main__":
    sys.exit(main())
