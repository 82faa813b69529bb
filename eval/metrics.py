"""Pure evaluation metrics: retrieval, answers, abstention, citations and latency.

Every metric takes parallel sequences (one entry per question, in the same order)
and returns a `MetricResult`: the overall score and one score per question.

Conventions shared by all metrics:

* ``per_question`` is aligned with the input: entry ``i`` belongs to question ``i``.
  A question the metric does not count is ``None`` there (for example a question with
  no gold documents in a retrieval metric), and ``n`` says how many were counted.
* ``overall`` is the mean of the counted per-question scores, except for the
  abstention precision/recall/F1, which are computed from confusion counts (see
  `abstention_counts`).
* 0/0 is 0.0: when nothing is counted (``n == 0``) or a ratio has a zero
  denominator, the score is 0.0, never NaN, so results stay JSON-safe. Check ``n``
  to tell "scored zero" from "nothing to score".
* Mismatched input lengths or a bad ``k`` raise `ValueError`.
"""

from __future__ import annotations

import math
import re
import string
import unicodedata
from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

__all__ = [
    "AbstentionCounts",
    "MetricResult",
    "abstention_counts",
    "abstention_f1",
    "abstention_precision",
    "abstention_recall",
    "answer_accuracy",
    "citation_precision",
    "citation_recall",
    "hit_at_k",
    "mrr_at_k",
    "ndcg_at_k",
    "normalize_answer",
    "percentile",
    "recall_at_k",
    "token_f1",
    "wrong_abstention_rate",
]


@dataclass(frozen=True)
class MetricResult:
    """One metric over a question set.

    Attributes:
        name: Metric name, e.g. ``"recall@5"``, ``"mrr@10"``, ``"token_f1"``.
        overall: The aggregate score in [0, 1]; 0.0 when ``n == 0``.
        per_question: One entry per input question, in input order; ``None`` where
            the question is not counted by this metric.
        n: How many questions were counted (non-``None`` entries).
    """

    name: str
    overall: float
    per_question: tuple[float | None, ...]
    n: int


def _mean_result(name: str, scores: Sequence[float | None]) -> MetricResult:
    counted = [s for s in scores if s is not None]
    overall = sum(counted) / len(counted) if counted else 0.0
    return MetricResult(name=name, overall=overall, per_question=tuple(scores), n=len(counted))


def _ratio(num: float, den: float) -> float:
    return num / den if den else 0.0


def _check_lengths(**seqs: Sequence[object]) -> None:
    lengths = {name: len(seq) for name, seq in seqs.items()}
    if len(set(lengths.values())) > 1:
        raise ValueError(f"inputs must have one entry per question; got lengths {lengths}")


def _check_k(k: int) -> None:
    if not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")


# --------------------------------------------------------------------------- retrieval


def _dedupe(ids: Sequence[str]) -> list[str]:
    """Keep the first occurrence of each id (several chunks of one document)."""
    seen: set[str] = set()
    out: list[str] = []
    for doc_id in ids:
        if doc_id not in seen:
            seen.add(doc_id)
            out.append(doc_id)
    return out


def _retrieval(
    name: str,
    retrieved: Sequence[Sequence[str]],
    gold: Sequence[Collection[str]],
    k: int,
    score: Callable[[list[str], set[str]], float],
) -> MetricResult:
    _check_k(k)
    _check_lengths(retrieved=retrieved, gold=gold)
    scores: list[float | None] = []
    for ranked, relevant in zip(retrieved, gold):
        relevant_set = set(relevant)
        if not relevant_set:
            scores.append(None)
            continue
        scores.append(score(_dedupe(ranked)[:k], relevant_set))
    return _mean_result(name, scores)


def hit_at_k(retrieved: Sequence[Sequence[str]], gold: Sequence[Collection[str]], k: int) -> MetricResult:
    """Share of questions with at least one gold document in the top `k`.

    Args:
        retrieved: Per question, the ranked retrieved document ids, best first. Repeats
            (several chunks of one document) are removed keeping the first occurrence
            before cutting at `k`.
        gold: Per question, the relevant document ids. Questions with none (unanswerable
            ones) are not counted.
        k: Cut-off, at least 1.

    Returns:
        ``hit@k``: per question 1.0 or 0.0.
    """
    return _retrieval(f"hit@{k}", retrieved, gold, k, lambda top, rel: float(any(d in rel for d in top)))


def recall_at_k(retrieved: Sequence[Sequence[str]], gold: Sequence[Collection[str]], k: int) -> MetricResult:
    """Fraction of each question's gold documents found in the top `k`.

    Arguments as in `hit_at_k`. Returns ``recall@k``.
    """
    return _retrieval(f"recall@{k}", retrieved, gold, k, lambda top, rel: sum(d in rel for d in top) / len(rel))


def _reciprocal_rank(top: list[str], rel: set[str]) -> float:
    for rank, doc_id in enumerate(top, start=1):
        if doc_id in rel:
            return 1.0 / rank
    return 0.0


def mrr_at_k(retrieved: Sequence[Sequence[str]], gold: Sequence[Collection[str]], k: int) -> MetricResult:
    """Mean reciprocal rank of the first gold document within the top `k` (0 if none).

    Arguments as in `hit_at_k`. Returns ``mrr@k``.
    """
    return _retrieval(f"mrr@{k}", retrieved, gold, k, _reciprocal_rank)


def ndcg_at_k(retrieved: Sequence[Sequence[str]], gold: Sequence[Collection[str]], k: int) -> MetricResult:
    """Normalised discounted cumulative gain at `k` with binary relevance.

    DCG sums ``1 / log2(rank + 1)`` over gold documents in the top `k` (rank is
    1-based); the ideal DCG puts ``min(len(gold), k)`` gold documents first.
    Arguments as in `hit_at_k`. Returns ``ndcg@k``.
    """
    _check_k(k)

    def score(top: list[str], rel: set[str]) -> float:
        dcg = sum(1.0 / math.log2(rank + 1) for rank, d in enumerate(top, start=1) if d in rel)
        ideal = sum(1.0 / math.log2(rank + 1) for rank in range(1, min(len(rel), k) + 1))
        return _ratio(dcg, ideal)

    return _retrieval(f"ndcg@{k}", retrieved, gold, k, score)


# --------------------------------------------------------------------------- answers

_DIGIT_GROUP = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_ARTICLES = re.compile(r"\b(a|an|the)\b")


_MARKS = re.compile("[\u2122\u00ae\u00a9\u2120]")  # ™ ® © ℠: trademark and copyright marks are no words


def _is_punct(ch: str) -> bool:
    return ch in string.punctuation or unicodedata.category(ch).startswith("P")


def normalize_answer(text: str) -> str:
    """SQuAD-style answer normalisation, plus digit grouping.

    Steps: trademark and copyright marks (™ ® © ℠) become a space; Unicode NFKC and lower case; drop thousands separators between digits
    ("260,000" -> "260000"); punctuation (ASCII and Unicode, e.g. curly quotes and
    dashes) becomes a space; the articles "a", "an", "the" are removed; whitespace
    is collapsed. Unlike SQuAD's script, punctuation is replaced by a space rather
    than deleted, so "four-day" -> "four day" and "3.5" does not turn into "35".

    Args:
        text: Any answer or reference string.

    Returns:
        The normalised string (tokens joined by single spaces).
    """
    text = _MARKS.sub(" ", text)  # before NFKC, which spells "™" as "TM" ("Pro™" would become "protm")
    text = unicodedata.normalize("NFKC", text).lower()
    text = _DIGIT_GROUP.sub("", text)
    text = "".join(" " if _is_punct(ch) else ch for ch in text)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def _contains(haystack: list[str], needle: list[str]) -> bool:
    if not needle:
        return False
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def _f1(prediction: str, reference: str) -> float:
    pred = normalize_answer(prediction).split()
    ref = normalize_answer(reference).split()
    if not pred or not ref:
        return float(pred == ref)
    same = sum((Counter(pred) & Counter(ref)).values())
    if same == 0:
        return 0.0
    precision, recall = same / len(pred), same / len(ref)
    return 2 * precision * recall / (precision + recall)


def _answer_metric(
    name: str,
    predictions: Sequence[str],
    answers: Sequence[Sequence[str]],
    answerable: Sequence[bool],
    score: Callable[[str, Sequence[str]], float],
) -> MetricResult:
    _check_lengths(predictions=predictions, answers=answers, answerable=answerable)
    scores: list[float | None] = []
    for pred, refs, ok in zip(predictions, answers, answerable):
        refs = [r for r in refs if normalize_answer(r)]
        scores.append(score(pred, refs) if ok and refs else None)
    return _mean_result(name, scores)


def answer_accuracy(
    predictions: Sequence[str], answers: Sequence[Sequence[str]], answerable: Sequence[bool]
) -> MetricResult:
    """Share of answerable questions whose answer text contains an acceptable answer.

    Containment is on normalised tokens (`normalize_answer`): the reference's tokens
    must appear as a contiguous run in the prediction's tokens, so "2020" is not
    found in "20201" but "Vera Rubin" is found in "the Vera Rubin platform".

    Args:
        predictions: Per question, the system's answer text (pass the abstention text or
            "" when it abstained; that scores 0 on an answerable question).
        answers: Per question, the acceptable answer strings.
        answerable: Per question, whether it is answerable. Unanswerable questions and
            answerable ones with no acceptable answers (retrieval-only sets) are not
            counted.

    Returns:
        ``answer_accuracy``: per question 1.0 or 0.0.
    """

    def score(pred: str, refs: Sequence[str]) -> float:
        tokens = normalize_answer(pred).split()
        return float(any(_contains(tokens, normalize_answer(r).split()) for r in refs))

    return _answer_metric("answer_accuracy", predictions, answers, answerable, score)


def token_f1(predictions: Sequence[str], answers: Sequence[Sequence[str]], answerable: Sequence[bool]) -> MetricResult:
    """SQuAD token F1, the maximum over the acceptable answers.

    Tokens come from `normalize_answer`; overlap counts shared tokens with
    multiplicity; F1 is ``2PR / (P + R)`` with P = overlap / prediction tokens and
    R = overlap / reference tokens (0 when nothing overlaps). Arguments and counting
    as in `answer_accuracy`.

    Returns:
        ``token_f1``.
    """
    return _answer_metric(
        "token_f1", predictions, answers, answerable, lambda pred, refs: max(_f1(pred, r) for r in refs)
    )


# --------------------------------------------------------------------------- abstention


@dataclass(frozen=True)
class AbstentionCounts:
    """Confusion counts with "abstain" as the positive class and "unanswerable" as target.

    Attributes:
        tp: Abstained on an unanswerable question.
        fp: Abstained on an answerable question (a wrong abstention).
        fn: Answered an unanswerable question.
        tn: Answered an answerable question.
    """

    tp: int
    fp: int
    fn: int
    tn: int


def _outcome(abstained: bool, answerable: bool) -> str:
    if abstained:
        return "fp" if answerable else "tp"
    return "tn" if answerable else "fn"


def abstention_counts(abstained: Sequence[bool], answerable: Sequence[bool]) -> AbstentionCounts:
    """Count the four outcomes of the abstain decision.

    Args:
        abstained: Per question, whether the system abstained.
        answerable: Per question, whether the corpus answers it.

    Returns:
        The confusion counts.
    """
    _check_lengths(abstained=abstained, answerable=answerable)
    c = Counter(_outcome(a, ok) for a, ok in zip(abstained, answerable))
    return AbstentionCounts(tp=c["tp"], fp=c["fp"], fn=c["fn"], tn=c["tn"])


def _per_outcome(
    abstained: Sequence[bool], answerable: Sequence[bool], values: dict[str, float | None]
) -> list[float | None]:
    return [values[_outcome(a, ok)] for a, ok in zip(abstained, answerable)]


def abstention_precision(abstained: Sequence[bool], answerable: Sequence[bool]) -> MetricResult:
    """Of the abstentions, the share on unanswerable questions: TP / (TP + FP).

    Per question: 1.0 for a correct abstention, 0.0 for a wrong one, ``None`` where
    the system answered. 0.0 when it never abstained.
    """
    c = abstention_counts(abstained, answerable)
    per = _per_outcome(abstained, answerable, {"tp": 1.0, "fp": 0.0, "fn": None, "tn": None})
    return MetricResult("abstention_precision", _ratio(c.tp, c.tp + c.fp), tuple(per), c.tp + c.fp)


def abstention_recall(abstained: Sequence[bool], answerable: Sequence[bool]) -> MetricResult:
    """Of the unanswerable questions, the share the system abstained on: TP / (TP + FN).

    Per question: 1.0 abstained, 0.0 answered, ``None`` for answerable questions.
    0.0 when there are no unanswerable questions.
    """
    c = abstention_counts(abstained, answerable)
    per = _per_outcome(abstained, answerable, {"tp": 1.0, "fp": None, "fn": 0.0, "tn": None})
    return MetricResult("abstention_recall", _ratio(c.tp, c.tp + c.fn), tuple(per), c.tp + c.fn)


def abstention_f1(abstained: Sequence[bool], answerable: Sequence[bool]) -> MetricResult:
    """Harmonic mean of abstention precision and recall: 2TP / (2TP + FP + FN).

    The overall score is not a mean of the per-question entries: those are 1.0 for a
    true positive, 0.0 for a false positive or false negative and ``None`` for a true
    negative (which does not enter F1). 0.0 when TP + FP + FN is 0.
    """
    c = abstention_counts(abstained, answerable)
    per = _per_outcome(abstained, answerable, {"tp": 1.0, "fp": 0.0, "fn": 0.0, "tn": None})
    return MetricResult("abstention_f1", _ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn), tuple(per), c.tp + c.fp + c.fn)


def wrong_abstention_rate(abstained: Sequence[bool], answerable: Sequence[bool]) -> MetricResult:
    """Of the answerable questions, the share the system abstained on: FP / (FP + TN).

    Per question: 1.0 abstained, 0.0 answered, ``None`` for unanswerable questions.
    Lower is better. 0.0 when there are no answerable questions.
    """
    _check_lengths(abstained=abstained, answerable=answerable)
    per = [(1.0 if a else 0.0) if ok else None for a, ok in zip(abstained, answerable)]
    return _mean_result("wrong_abstention_rate", per)


# --------------------------------------------------------------------------- citations

Supports = Callable[[str, str], bool]
CitedSentence = tuple[str, Sequence[str]]


def _join(quotes: Sequence[str]) -> str:
    return "\n".join(quotes)


def _jointly_supported(sentence: str, quotes: Sequence[str], supports: Supports) -> bool:
    return bool(quotes) and supports(_join(quotes), sentence)


def _precise_citations(sentence: str, quotes: Sequence[str], supports: Supports) -> int:
    """How many of a sentence's citations are precise, per ALCE."""
    if not _jointly_supported(sentence, quotes, supports):
        return 0
    if len(quotes) == 1:
        return 1
    precise = 0
    for i, quote in enumerate(quotes):
        rest = list(quotes[:i]) + list(quotes[i + 1 :])
        # ALCE: a citation is irrelevant when it does not support the sentence on its
        # own AND the other citations still support it without it.
        if supports(quote, sentence) or not supports(_join(rest), sentence):
            precise += 1
    return precise


def citation_recall(answers: Sequence[Sequence[CitedSentence]], supports: Supports) -> MetricResult:
    """ALCE citation recall: share of answer sentences supported by their cited quotes.

    A sentence counts as supported when ``supports(premise, sentence)`` is true for
    the premise made of its cited quotes joined by newlines; a sentence with no
    citation is unsupported.

    Args:
        answers: Per question, the answer's sentences as ``(sentence_text, quotes)``,
            where ``quotes`` are the texts of the citations attached to that sentence.
            A question with no sentences (e.g. the system abstained) is not counted.
        supports: The support judge, e.g. an NLI model wrapped as
            ``supports(premise, claim) -> bool``. It is the only impure part and is
            passed in so the metric itself stays pure.

    Returns:
        ``citation_recall``: per question, supported sentences / sentences.
    """
    scores: list[float | None] = []
    for sentences in answers:
        if not sentences:
            scores.append(None)
            continue
        supported = sum(_jointly_supported(s, q, supports) for s, q in sentences)
        scores.append(supported / len(sentences))
    return _mean_result("citation_recall", scores)


def citation_precision(answers: Sequence[Sequence[CitedSentence]], supports: Supports) -> MetricResult:
    """ALCE citation precision: share of citations that are needed and correct.

    Follows ALCE (Gao et al., 2023) and its reference implementation: when a
    sentence's quotes together do not support it, none of its citations is precise;
    a sole citation that supports its sentence is precise; with several citations
    that jointly support the sentence, a citation is irrelevant (imprecise) only if it
    does not support the sentence alone AND the remaining citations still support it
    without it.

    Args:
        answers: As in `citation_recall`. A question with sentences but no citations
            scores 0.0 (as in ALCE); one with no sentences is not counted.
        supports: The support judge, as in `citation_recall`.

    Returns:
        ``citation_precision``: per question, precise citations / citations.
    """
    scores: list[float | None] = []
    for sentences in answers:
        if not sentences:
            scores.append(None)
            continue
        total = sum(len(q) for _, q in sentences)
        precise = sum(_precise_citations(s, q, supports) for s, q in sentences)
        scores.append(_ratio(precise, total))
    return _mean_result("citation_precision", scores)


# --------------------------------------------------------------------------- latency


def percentile(values: Sequence[float], p: float) -> float:
    """The `p`-th percentile with linear interpolation (numpy's default method).

    The value at fractional rank ``(n - 1) * p / 100`` of the sorted values,
    interpolated between its neighbours; e.g. p50 of [1, 2, 3, 4] is 2.5.

    Args:
        values: Latencies (or any numbers); must not be empty.
        p: Percentile in [0, 100], e.g. 50 or 95.

    Returns:
        The percentile.

    Raises:
        ValueError: If `values` is empty or `p` is outside [0, 100].
    """
    if not values:
        raise ValueError("values must not be empty")
    if not 0 <= p <= 100:
        raise ValueError(f"p must be in [0, 100], got {p!r}")
    ordered = sorted(float(v) for v in values)
    rank = (len(ordered) - 1) * p / 100
    lo = math.floor(rank)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (rank - lo)
