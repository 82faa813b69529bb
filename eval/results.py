"""The ``results.json`` format of an evaluation run: the names of its scores, in report order.

`eval.runner` writes this format (`EvalResult.to_dict`) and `eval.report` reads it; both
take the key lists from here, so neither imports the other for them.
"""

from __future__ import annotations

__all__ = ["LATENCY_KEYS", "OVERALL_KEYS", "PER_QUESTION_KEYS"]

#: Scores that have a value per question (in this order in reports).
PER_QUESTION_KEYS = (
    "hit@1",
    "hit@3",
    "hit@5",
    "recall@5",
    "mrr@10",
    "ndcg@10",
    "accuracy",
    "token_f1",
    "citation_precision",
    "citation_recall",
    "abstention_precision",
    "abstention_recall",
    "abstention_f1",
    "wrong_abstention_rate",
)
LATENCY_KEYS = ("latency_p50_ms", "latency_p95_ms", "retrieval_latency_p50_ms", "retrieval_latency_p95_ms")
#: The keys of ``results.json``'s ``overall`` object.
OVERALL_KEYS = PER_QUESTION_KEYS + LATENCY_KEYS
