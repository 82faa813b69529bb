"""The evidence-model trainer on synthetic questions whose right candidate is known."""

from __future__ import annotations

import numpy as np

from eval import train_evidence as te
from rag.evidence import FEATURES, QUESTION_FEATURES, EvidenceModel, eligible


def _rows(corpus: str, n: int, rng: np.random.Generator) -> list[te.QuestionRows]:
    """Answerable questions: one candidate has a higher cosine and holds the answer; unanswerable: none."""
    rows = []
    d = FEATURES.index("dense")
    for i in range(n):
        X = rng.normal(0, 0.05, size=(8, len(FEATURES)))
        X[:, FEATURES.index("heading")] = 0
        X[:, FEATURES.index("repeated")] = 0
        X[:, d] = rng.uniform(0.1, 0.4, size=8)
        y = np.zeros(8)
        answerable = i % 2 == 0
        if answerable:
            j = int(rng.integers(8))
            X[j, d] = rng.uniform(0.7, 0.9)
            y[j] = 1
        rows.append(te.QuestionRows(corpus, f"{corpus}{i}", answerable, X, y))
    return rows


def test_fits_rank_the_right_candidate_and_abstain_on_the_others():
    rng = np.random.default_rng(0)
    rows = _rows("a", 60, rng) + _rows("b", 40, rng)
    model = te.fit_candidates(rows, l2=1.0)
    assert model.weights[FEATURES.index("dense")] > 0
    outcomes = te.question_outcomes(model, rows)
    assert all(ok for _, answerable, _, ok in outcomes if answerable)
    oof = te._fold_outcomes(rows, 1.0, 5)
    abstain = te.fit_abstention(oof)
    assert abstain["features"] == list(QUESTION_FEATURES)
    probs = te._probabilities(oof, abstain)
    t = te.choose_threshold(oof, probs, max_wrong=0.10)
    scores = te._scores(oof, probs, t)
    for s in scores.values():
        assert s["wrong_abstention"] <= 0.10 and s["abstained_unanswerable"] >= 0.9
    # what the trainer writes loads back as the answerer's model
    m = EvidenceModel(model.weights, model.bias, model.mean, model.scale, abstain=abstain, threshold=t)
    back = EvidenceModel.from_dict(m.to_dict())
    X = rows[0].X
    assert np.isclose(back.answer_proba(X, back.candidate_logit(X)), m.answer_proba(X, m.candidate_logit(X)))


def test_headings_and_repeated_sentences_are_never_eligible():
    X = np.zeros((3, len(FEATURES)))
    X[1, FEATURES.index("heading")] = 1
    X[2, FEATURES.index("repeated")] = 1
    assert eligible(X).tolist() == [True, False, False]


def test_contains_answer_matches_like_the_metric():
    assert te.contains_answer("about 260,000 advanced chips", ["260000"])
    assert not te.contains_answer("2601 chips", ["260"])
