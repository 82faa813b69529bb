"""The learned short-answer choice: candidates, features, the shipped model, and its training."""

from __future__ import annotations

import numpy as np
import pytest

from eval.train_short import SpanRows, chosen_f1, fit
from rag.answer_types import Span, pattern_spans
from rag.short_model import SPAN_FEATURES, ShortModel, default_short_model, span_candidates, span_features

SENTENCE = "Nvidia's Rubin GPU, unveiled at Computex in Taipei, delivers 50 petaflops of FP4 compute."


def _spans(sentence: str) -> list[Span]:
    found = list(pattern_spans(sentence))
    for name, label in (("Nvidia", "ORG"), ("Rubin", "PRODUCT"), ("Computex", "EVENT"), ("Taipei", "GPE")):
        at = sentence.find(name)
        if at >= 0:
            found.append(Span(at, at + len(name), name, label))
    return sorted(found, key=lambda s: s.start)


def test_candidates_leave_out_what_the_question_says_and_add_name_runs():
    cands = span_candidates("Where was the Rubin GPU unveiled?", SENTENCE, _spans(SENTENCE))
    texts = {c.text for c in cands}
    assert "Taipei" in texts and "Computex" in texts
    assert "Rubin" not in texts and "Rubin GPU" not in texts  # the question's own words
    assert all(SENTENCE[c.start:c.end] == c.text for c in cands)  # verbatim slices
    assert any(c.label == "NAME" for c in cands)


def test_no_candidate_is_a_piece_of_a_figure():
    s = "Bae asked for smooth delivery of the roughly 260,000 advanced chips agreed to at the APEC event."
    texts = {c.text for c in span_candidates("Which event?", s, _spans(s))}
    assert "APEC" in texts and "000" not in texts and "260" not in texts


def test_a_common_noun_in_capitals_is_no_candidate():
    from rag.short import short_answer_reason

    s = "Rubin has 50 petaflops in FP4 (4-bit floating point math, often used for AI) on TSMC chips."
    texts = {c.text for c in span_candidates("What format is the figure for?", s, _spans(s))}
    assert "AI" not in texts and "TSMC" in texts
    # nor is it the name after the preposition the question ends on
    span, _ = short_answer_reason("What is floating point math often used for?", None, s, _spans(s))
    assert span is not None and s[span[0]:span[1]] != "AI"


def test_a_run_of_capitals_inside_a_tagged_name_is_no_candidate_of_its_own():
    s = "They reaffirmed the announcement in July of The Korea Strategic Trade and Investment deal."
    name = "The Korea Strategic Trade and Investment"
    spans = [Span(s.index(name), s.index(name) + len(name), name, "ORG")]
    texts = {c.text for c in span_candidates("What is the name of the trade deal?", s, spans)}
    assert name in texts and "The Korea Strategic Trade" not in texts


def test_features_have_one_row_per_candidate_and_mark_the_rules_choice():
    q = "Where was the Rubin GPU unveiled?"
    cands = span_candidates(q, SENTENCE, _spans(SENTENCE))
    taipei = next(c for c in cands if c.text == "Taipei")
    X = span_features(q, "place", SENTENCE, cands, (taipei.start, taipei.end))
    assert X.shape == (len(cands), len(SPAN_FEATURES))
    col = SPAN_FEATURES.index("rule_pick")
    assert X[:, col].tolist() == [float(c is taipei) for c in cands]
    assert X[cands.index(taipei), SPAN_FEATURES.index("typed_primary")] == 1.0


def test_choose_keeps_the_rules_span_under_the_threshold_and_without_candidates():
    n = len(SPAN_FEATURES)
    never = ShortModel([0.0] * n, -10.0, [0.0] * n, [1.0] * n, threshold=0.5)
    q = "Where was the Rubin GPU unveiled?"
    assert never.choose(q, "place", SENTENCE, _spans(SENTENCE), (0, 6)) == (0, 6)
    assert never.choose("What is it?", None, "it is it.", [], None) is None
    w = np.zeros(n)
    w[SPAN_FEATURES.index("typed_primary")] = 5.0
    sure = ShortModel(w, 0.0, [0.0] * n, [1.0] * n, threshold=0.5)
    s, e = sure.choose(q, "place", SENTENCE, _spans(SENTENCE), (0, 6))
    assert SENTENCE[s:e] == "Taipei"


def test_model_file_round_trip_and_feature_check(tmp_path):
    n = len(SPAN_FEATURES)
    m = ShortModel(np.arange(n) / 10, 0.5, [0.0] * n, [2.0] * n, threshold=0.3, info={"x": 1})
    m.save(tmp_path / "s.json")
    back = ShortModel.load(tmp_path / "s.json")
    assert np.allclose(back.weights, m.weights) and back.threshold == 0.3 and back.info == {"x": 1}
    with pytest.raises(ValueError, match="retrain"):
        ShortModel([0.0] * n, 0.0, [0.0] * n, [1.0] * n, features=[*SPAN_FEATURES[:-1], "gone"])


def test_the_shipped_model_loads_and_reports_its_held_out_figures():
    m = default_short_model()
    assert m is not None
    assert m.info["token_f1_leave_one_corpus_out"] and m.info["token_f1_rules_alone"]


def test_training_learns_a_feature_that_marks_the_right_span():
    rng = np.random.default_rng(0)
    n = len(SPAN_FEATURES)
    rows = []
    for i in range(40):
        X = rng.normal(size=(5, n))
        right = int(rng.integers(5))
        X[:, SPAN_FEATURES.index("typed_primary")] = 0.0
        X[right, SPAN_FEATURES.index("typed_primary")] = 1.0
        f1 = np.zeros(5)
        f1[right] = 1.0
        rows.append(SpanRows("a" if i % 2 else "b", str(i), X, f1, rule_f1=0.0, rule=-1))
    model = fit(rows, l2=1.0)
    assert np.mean([chosen_f1(model, r, 0.0) for r in rows]) > 0.9
    assert np.mean([chosen_f1(model, r, 1.01) for r in rows]) == 0.0  # above every probability: the rules' span


def test_structural_rules_say_how_they_chose_and_only_the_generic_ones_are_learned():
    from rag.short import LEARNED_REASONS, short_answer_reason

    sentence = "Korea wants an AI factory based on Nvidia's Vera Rubin platform."
    span, reason = short_answer_reason("What is the AI factory built on?", None, sentence, _spans(sentence))
    assert reason == "preposition" and sentence[span[0]:span[1]] == "Nvidia's Vera Rubin"
    assert reason not in LEARNED_REASONS
    row = "Total net sales $ 94,836 $ 97,278"
    span, reason = short_answer_reason("What were total net sales?", "money", row, _spans(row), table_row=True)
    assert reason == "table" and row[span[0]:span[1]] == "$ 94,836"
    span, reason = short_answer_reason("Where was the Rubin GPU unveiled?", "place", SENTENCE, _spans(SENTENCE))
    assert reason == "typed" and reason in LEARNED_REASONS
    assert short_answer_reason("Who leads it?", "person", "It grows.", [])[1] == "none"


def test_a_short_answer_model_of_other_features_leaves_the_rules_with_a_warning(tmp_path, monkeypatch, caplog):
    import json

    import rag.short_model as sm

    bad = tmp_path / "short.json"
    bad.write_text(json.dumps({**ShortModel.load().to_dict(), "features": ["gone"]}))
    monkeypatch.setattr(sm, "MODEL_PATH", bad)
    sm.default_short_model.cache_clear()
    try:
        assert sm.default_short_model() is None
        assert "rules alone" in caplog.text
    finally:
        sm.default_short_model.cache_clear()


def test_a_word_capitalised_only_because_it_opens_the_sentence_is_no_name():
    from rag.short_model import span_candidates

    s = "Focus areas for collaboration include AI adoption with Korea Telecom."
    texts = {sp.text for sp in span_candidates("What does the MOU cover?", s, [])}
    assert "Focus" not in texts and "Korea Telecom" in texts
    # the tagger's name at the start stays, as does a run of capitalised words there
    tagged = [Span(0, 7, "Samsung", "ORG")]
    assert "Samsung" in {sp.text for sp in span_candidates("Who will buy chips?", "Samsung will buy chips.", tagged)}
    assert "Vera Rubin" in {sp.text for sp in span_candidates("What is it?", "Vera Rubin is a platform.", [])}
