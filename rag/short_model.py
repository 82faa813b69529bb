"""A learned choice of the short answer among the spans of the best sentence.

`rag.short.short_answer`'s rules pick one span (the type the question asks for, nearest its words,
the name beside its head noun ...); they know nothing of how often each rule is right. Here every
span of the sentence is a candidate: its NER or pattern spans, those joined by "'s"/"of", and runs
of capitalised words. A logistic regression over `SPAN_FEATURES` (the label against the question's
answer class, distance to the question's words and head noun, position, length, whether the rules
chose it, ...) scores each; the best is the short answer when its probability reaches the model's
threshold, else the rules' choice stands. Weights ship as JSON (`rag/models/short.json`), trained by
`python -m eval.train_short` on the labelled sets, with leave-one-corpus-out figures in its `info`.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from ingest.text import terms

from .answer_types import LABELS, PRIMARY, Span, is_generic_acronym
from .evidence import (
    check_threshold,
    head_noun,
    lemma_terms,
    linear_params,
    prep_object,
    sigmoid,
    trailing_preposition,
)
from .short import _LOWER_WORDS, _NAME_RUN, _WORD, _asked_names, _merge, _restates, _term_positions, is_asked_name

log = logging.getLogger(__name__)

MODEL_PATH = Path(__file__).parent / "models" / "short.json"

_GROUPS = {
    "person": ("PERSON",), "org": ("ORG",), "place": ("GPE", "LOC", "FAC"), "date": ("DATE", "TIME"),
    "number": ("CARDINAL", "QUANTITY", "ORDINAL"), "money": ("MONEY",), "percent": ("PERCENT",),
    "norp": ("NORP",), "name_run": ("NAME",),
}
SPAN_FEATURES: tuple[str, ...] = (
    "typed_primary", "typed", "untyped_question",
    *(f"label_{g}" for g in _GROUPS), "label_other",
    "rule_pick", "rule_overlap",
    "log_anchor_distance", "no_anchor", "anchor_before",
    "head_adjacent", "head_modifies", "prep_object",
    "log_words", "relative_position", "question_overlap", "in_parentheses", "capitalised", "first_in_sentence",
    "nearest_anchor_rank", "has_digit", "year_for_year_question", "follows_anchor",
)
_YEAR = re.compile(r"\b(?:1[5-9]|20)\d\d\b")
_YEAR_Q = re.compile(r"\b(?:what|which|in what|in which)\s+year\b|\bwhen\b", re.IGNORECASE)


_WHOLE_NAMES = frozenset({"PERSON", "ORG", "GPE", "LOC", "FAC", "NORP", "PRODUCT", "EVENT", "WORK_OF_ART", "LAW"})


def span_candidates(question: str, sentence: str, spans: Sequence[Span]) -> list[Span]:
    """The sentence's spans that could answer: typed spans not already in the question, those joined
    by a possessive or "of", and runs of capitalised words (label ``NAME``); each (start, end) once."""
    q_lower = question.lower()
    q_terms = set(terms(question))
    asked_names = _asked_names(question)

    def novel(text: str, at: tuple[int, int] | None = None, label: str = "NAME") -> bool:
        t = set(terms(text))
        # "President Donald J. Trump" is the question's "Trump"
        return (bool(text.strip()) and text.lower() not in q_lower and bool(t) and not t <= q_terms
                and not (at is not None and label in ("PERSON", "NAME")
                         and is_asked_name(sentence, at[0], at[1], asked_names)))

    out: dict[tuple[int, int], Span] = {}
    typed = [sp for sp in spans if novel(sp.text, (sp.start, sp.end), sp.label) and not _restates(sentence, sp, q_lower)]
    for sp in [*typed, *_merge(typed, sentence)]:
        out.setdefault((sp.start, sp.end), sp)
    for m in _NAME_RUN.finditer(sentence):
        s, e = m.span()
        while e > s and sentence[e - 1] in ".,;:":
            e -= 1
        run = sentence[s:e]
        if not (e > s and novel(run, (s, e)) and re.search(r"[^\W\d_]", run)):
            continue  # a run of digits is no name ("000" of "260,000"): figures come from the tagger, whole
        if is_generic_acronym(run):
            continue  # nor is a common noun in capitals ("often used for AI")
        if not re.search(r"\w", sentence[:s]) and " " not in run and not any(
                sp.start <= s and e <= sp.end for sp in spans):
            continue  # nor one word capitalised only because it opens the sentence ("Focus area: ..."), untagged
        if any(sp.start <= s and e <= sp.end and (sp.start, sp.end) != (s, e) and sp.label in _WHOLE_NAMES
               for sp in typed):
            continue  # nor a piece of a name the tagger gives whole ("The Korea Strategic Trade" of "... and Investment")
        out.setdefault((s, e), Span(s, e, run, "NAME"))
    return sorted(out.values(), key=lambda sp: (sp.start, sp.end))


def span_features(question: str, kind: str | None, sentence: str, cands: Sequence[Span],
                  rule: tuple[int, int] | None) -> np.ndarray:
    """One row of `SPAN_FEATURES` per candidate span."""
    X = np.zeros((len(cands), len(SPAN_FEATURES)), dtype=np.float64)
    col = {f: i for i, f in enumerate(SPAN_FEATURES)}
    q_terms = set(terms(question))
    anchors = _term_positions(sentence, q_terms)
    head = head_noun(question)
    head_term = terms(head)[:1] if head else []
    heads = [m for m in _WORD.finditer(sentence) if head_term and terms(m.group(0))[:1] == head_term]
    prep = trailing_preposition(question)
    at = prep_object(sentence, prep, set(lemma_terms(question)), question.lower()) if prep else None
    n = max(1, len(sentence))
    first = min((sp.start for sp in cands), default=-1)
    dists = [min(min(abs(sp.start - a), abs(sp.end - a)) for a in anchors) if anchors else 0 for sp in cands]
    ranks = np.argsort(np.argsort(dists, kind="stable"), kind="stable")
    year_q = bool(_YEAR_Q.search(question))
    for i, sp in enumerate(cands):
        row = X[i]
        if kind is None:
            row[col["untyped_question"]] = 1
        else:
            row[col["typed"]] = float(sp.label in LABELS[kind])
            row[col["typed_primary"]] = float(sp.label in PRIMARY.get(kind, ()))
        group = next((g for g, labels in _GROUPS.items() if sp.label in labels), None)
        row[col[f"label_{group}" if group else "label_other"]] = 1
        if rule is not None:
            row[col["rule_pick"]] = float((sp.start, sp.end) == tuple(rule))
            row[col["rule_overlap"]] = float(sp.start < rule[1] and rule[0] < sp.end)
        if anchors:
            d = min(min(abs(sp.start - a), abs(sp.end - a)) for a in anchors)
            row[col["log_anchor_distance"]] = math.log1p(d)
            row[col["anchor_before"]] = float(any(a < sp.start for a in anchors))
        else:
            row[col["no_anchor"]] = 1
        for m in heads:
            if 0 <= m.start() - sp.end <= 2 or 0 <= sp.start - m.end() <= 2:
                row[col["head_adjacent"]] = 1
            if 0 <= m.start() - sp.end <= 30 and _LOWER_WORDS.match(sentence[sp.end:m.start()]):
                row[col["head_modifies"]] = 1
        row[col["prep_object"]] = float(at is not None and sp.start == at)
        words = terms(sp.text)
        row[col["log_words"]] = math.log1p(len(sp.text.split()))
        row[col["relative_position"]] = sp.start / n
        row[col["question_overlap"]] = (sum(t in q_terms for t in words) / len(words)) if words else 0.0
        row[col["in_parentheses"]] = float(sentence[:sp.start].rstrip().endswith("("))
        row[col["capitalised"]] = float(sp.text[:1].isupper())
        row[col["first_in_sentence"]] = float(sp.start == first)
        row[col["nearest_anchor_rank"]] = 1.0 / (1.0 + ranks[i]) if anchors else 0.0
        row[col["has_digit"]] = float(any(ch.isdigit() for ch in sp.text))
        row[col["year_for_year_question"]] = float(year_q and bool(_YEAR.search(sp.text)))
        row[col["follows_anchor"]] = float(any(0 <= sp.start - a <= 25 for a in anchors))
    return X


class ShortModel:
    """A logistic regression over standardised `SPAN_FEATURES`, shipped as one JSON file."""

    def __init__(self, weights: Sequence[float], bias: float, mean: Sequence[float], scale: Sequence[float], *,
                 threshold: float = 0.5, features: Sequence[str] = SPAN_FEATURES,
                 info: Mapping[str, Any] | None = None) -> None:
        if tuple(features) != SPAN_FEATURES:
            raise ValueError(f"short-answer model features {list(features)} differ from this code's "
                             f"{list(SPAN_FEATURES)}; retrain with `python -m eval.train_short`")
        self.weights, self.bias, self.mean, self.scale = linear_params(weights, bias, mean, scale,
                                                                       len(SPAN_FEATURES))
        self.threshold = check_threshold(threshold)
        self.info = dict(info or {})

    def proba(self, X: np.ndarray) -> np.ndarray:
        return sigmoid(((X - self.mean) / self.scale) @ self.weights + self.bias)

    def choose(self, question: str, kind: str | None, sentence: str, spans: Sequence[Span],
               rule: tuple[int, int] | None) -> tuple[int, int] | None:
        """The span the model prefers when it is sure enough, else `rule` (the rules' choice)."""
        cands = span_candidates(question, sentence, spans)
        if not cands:
            return rule
        p = self.proba(span_features(question, kind, sentence, cands, rule))
        best = int(np.argmax(p))
        if p[best] >= self.threshold:
            return cands[best].start, cands[best].end
        return rule

    def to_dict(self) -> dict[str, Any]:
        return {"features": list(SPAN_FEATURES), "weights": self.weights.tolist(), "bias": self.bias,
                "mean": self.mean.tolist(), "scale": self.scale.tolist(), "threshold": self.threshold,
                "info": self.info}

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ShortModel:
        return cls(d["weights"], d["bias"], d["mean"], d["scale"], threshold=d.get("threshold", 0.5),
                   features=d.get("features", SPAN_FEATURES), info=d.get("info"))

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path = MODEL_PATH) -> ShortModel:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


@lru_cache(maxsize=1)
def default_short_model() -> ShortModel | None:
    """The shipped model, or None (the rules alone then choose, with a warning) when the package has none or
    its features are not this code's (retrain with `python -m eval.train_short`)."""
    if not MODEL_PATH.is_file():
        log.warning("no short-answer model at %s: short answers come from the rules alone", MODEL_PATH)
        return None
    try:
        return ShortModel.load(MODEL_PATH)
    except (ValueError, KeyError, TypeError) as e:
        log.warning("the short-answer model at %s is unusable (%s): short answers come from the rules alone",
                    MODEL_PATH, e)
        return None

