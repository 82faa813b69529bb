"""Train the short-answer model (`rag/models/short.json`) on the labelled sets.

For every answerable question whose best evidence sentence (as the shipped answerer picks it) holds
an accepted answer, each span of that sentence (`rag.short_model.span_candidates`) is a candidate,
positive when its token F1 against an accepted answer is at least 0.5. A logistic regression is fitted
with every corpus weighing the same and every question equal within it. The threshold (under it the
rules' span stands) is the one with the best mean token F1 over the corpora, out of fold (five folds of
questions within every corpus); leave-one-corpus-out figures are reported beside it, against the rules
alone. Both are written into the model's ``info``; training-set scores never are.

    python -m eval.train_short [--cache DIR] [--out rag/models/short.json]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from eval.metrics import _f1
from eval.train_evidence import REPO, Corpus, contains_answer, corpus_index, default_sets

logger = logging.getLogger(__name__)

THRESHOLDS = tuple(round(t, 2) for t in np.arange(0.0, 1.0001, 0.05))


@dataclass
class SpanRows:
    """One question's candidate spans: features, token F1 of each, and the rules' F1."""

    corpus: str
    qid: str
    X: np.ndarray
    f1: np.ndarray
    rule_f1: float
    rule: int  # index of the rules' span among the candidates, -1 if it is none of them


def collect(sets: Sequence[Corpus], cache: Path, embedder=None) -> list[SpanRows]:
    """The candidate spans of each answerable question's best sentence, as the answerer builds them."""
    from ingest.embedder import SentenceTransformerEmbedder
    from rag.answer import Answerer
    from rag.evidence import FEATURES, eligible
    from rag.retriever import Retriever
    from rag.short import LEARNED_REASONS, short_answer_reason
    from rag.short_model import span_candidates, span_features

    embedder = embedder or SentenceTransformerEmbedder()
    rows: list[SpanRows] = []
    for c in sets:
        answerer = Answerer(Retriever.load(corpus_index(c, cache, embedder), embedder=embedder, k=8), k=8)
        for q in c.questions:
            if not q.answerable or not q.answers:
                continue
            turn, hits = answerer.retrieve(q.question)
            cands, X, _, ctx = answerer.score_candidates(turn, hits)
            if not cands:
                continue
            logits = np.where(eligible(X), answerer.model.candidate_logit(X), -np.inf)
            best = int(np.argmax(logits))
            if not np.isfinite(logits[best]) or not contains_answer(cands[best].text, q.answers):
                continue
            top = cands[best]
            table_row = bool(X[best, FEATURES.index("table_row")])
            asked = f"{turn.focus} {ctx.question}" if turn.cross_lingual else turn.focus
            rule, reason = short_answer_reason(asked, ctx.kind, top.text, top.spans, table_row=table_row)
            if reason not in LEARNED_REASONS:
                continue  # a structural rule chose (a table row's figure, the name after the preposition ...)
            spans = span_candidates(asked, top.text, top.spans)
            if not spans:
                continue
            f1 = np.array([max(_f1(sp.text, a) for a in q.answers) for sp in spans])
            rule_f1 = max(_f1(top.text[rule[0]:rule[1]], a) for a in q.answers) if rule else 0.0
            at = next((i for i, sp in enumerate(spans) if rule and (sp.start, sp.end) == tuple(rule)), -1)
            rows.append(SpanRows(c.name, q.qid, span_features(asked, ctx.kind, top.text, spans, rule), f1,
                                 rule_f1, at))
        logger.info("%s: %d questions with spans", c.name, sum(r.corpus == c.name for r in rows))
    return rows


def fit(rows: Sequence[SpanRows], l2: float):
    from rag.evidence import fit_logistic
    from rag.short_model import ShortModel

    by_corpus: dict[str, int] = {}
    for r in rows:
        by_corpus[r.corpus] = by_corpus.get(r.corpus, 0) + 1
    X = np.vstack([r.X for r in rows])
    y = np.concatenate([(r.f1 >= 0.5).astype(np.float64) for r in rows])
    w = np.concatenate([np.full(len(r.f1), 1.0 / len(r.f1) / by_corpus[r.corpus]) for r in rows])
    mean, scale = X.mean(axis=0), X.std(axis=0)
    scale[scale < 1e-6] = 1.0
    weights, bias = fit_logistic((X - mean) / scale, y, w * (len(w) / w.sum()), l2=l2)
    return ShortModel(weights, bias, mean, scale)


def chosen_f1(model, r: SpanRows, threshold: float) -> float:
    """Token F1 of the short answer `model` gives at `threshold` (the rules' span under it)."""
    p = model.proba(r.X)
    best = int(np.argmax(p))
    return float(r.f1[best]) if p[best] >= threshold else r.rule_f1


def _by_corpus(pairs: Sequence[tuple[str, float]]) -> dict[str, float]:
    out: dict[str, list[float]] = {}
    for c, v in pairs:
        out.setdefault(c, []).append(v)
    return {c: round(float(np.mean(v)), 3) for c, v in sorted(out.items())}


def out_of_fold(rows: Sequence[SpanRows], l2: float, folds: int) -> dict[float, dict[str, float]]:
    """Mean token F1 per corpus at every threshold, each question scored by a model that did not see it."""
    rng = np.random.default_rng(0)
    fold = {id(r): int(rng.integers(folds)) for r in rows}
    scored: dict[float, list[tuple[str, float]]] = {t: [] for t in THRESHOLDS}
    for k in range(folds):
        train = [r for r in rows if fold[id(r)] != k]
        model = fit(train, l2)
        for r in rows:
            if fold[id(r)] == k:
                for t in THRESHOLDS:
                    scored[t].append((r.corpus, chosen_f1(model, r, t)))
    return {t: _by_corpus(v) for t, v in scored.items()}


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m eval.train_short", description=__doc__.split("\n\n")[0])
    p.add_argument("--cache", type=Path, default=REPO / ".partnerqa" / "train-cache", help="indexes are kept here")
    p.add_argument("--out", type=Path, default=REPO / "rag" / "models" / "short.json")
    p.add_argument("--l2", type=float, default=1.0)
    p.add_argument("--folds", type=int, default=5)
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    args.cache.mkdir(parents=True, exist_ok=True)
    sets = default_sets(args.cache)
    if len({c.name for c in sets}) < 2:
        p.error("cross-validation needs at least two corpora")
    rows = collect(sets, args.cache)
    if not rows:
        p.error("no question's best sentence holds its answer: nothing to train on")
    oof = out_of_fold(rows, args.l2, args.folds)
    threshold = max(THRESHOLDS, key=lambda t: (np.mean(list(oof[t].values())), -t))
    rules = _by_corpus([(r.corpus, r.rule_f1) for r in rows])
    loco: dict[str, float] = {}
    for c in sorted({r.corpus for r in rows}):
        model = fit([r for r in rows if r.corpus != c], args.l2)
        loco[c] = round(float(np.mean([chosen_f1(model, r, threshold) for r in rows if r.corpus == c])), 3)
    model = fit(rows, args.l2)
    model.threshold = threshold
    model.info = {
        "trained_on": {c: sum(r.corpus == c for r in rows) for c in sorted({r.corpus for r in rows})},
        "questions": "answerable questions whose best sentence holds an accepted answer, where no structural "
                     "rule chose (rag.short.LEARNED_REASONS)",
        "l2": args.l2,
        "token_f1_rules_alone": rules,
        f"token_f1_{args.folds}_fold_at_threshold": oof[threshold],
        "token_f1_leave_one_corpus_out": loco,
    }
    model.save(args.out)
    print(json.dumps({"threshold": threshold, **model.info}, indent=1))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
