"""Metric functions against hand-computed values, and the seed benchmark's validity."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from eval.check_set import document_text, validate_set
from eval.metrics import (
    abstention_counts,
    abstention_f1,
    abstention_precision,
    abstention_recall,
    answer_accuracy,
    citation_precision,
    citation_recall,
    hit_at_k,
    mrr_at_k,
    ndcg_at_k,
    normalize_answer,
    percentile,
    recall_at_k,
    token_f1,
    wrong_abstention_rate,
)

ROOT = Path(__file__).resolve().parents[2]

# q1: gold d1 at rank 2. q2: d1 repeated (two chunks), gold {d2, d5}, d2 at rank 2 after
# dedupe. q3: no gold docs (unanswerable), not counted.
RETRIEVED = [["d3", "d1", "d2"], ["d1", "d1", "d2", "d4"], ["d1"]]
GOLD = [{"d1"}, {"d2", "d5"}, set()]


# --------------------------------------------------------------------------- retrieval


def test_hit_at_k_by_hand():
    assert hit_at_k(RETRIEVED, GOLD, 1).per_question == (0.0, 0.0, None)
    r3 = hit_at_k(RETRIEVED, GOLD, 3)
    assert r3.name == "hit@3"
    assert r3.per_question == (1.0, 1.0, None)
    assert r3.overall == 1.0
    assert r3.n == 2


def test_repeats_are_deduplicated_before_the_cut():
    # Without dedupe the top 2 would be [d1, d1] and miss d2.
    assert hit_at_k([["d1", "d1", "d1", "d2"]], [{"d2"}], 2).overall == 1.0
    assert mrr_at_k([["d1", "d1", "d2"]], [{"d2"}], 10).overall == 0.5


def test_recall_at_5_by_hand():
    r = recall_at_k(RETRIEVED, GOLD, 5)
    assert r.name == "recall@5"
    assert r.per_question == (1.0, 0.5, None)
    assert r.overall == pytest.approx(0.75)


def test_mrr_by_hand():
    r = mrr_at_k(RETRIEVED, GOLD, 10)
    assert r.name == "mrr@10"
    assert r.per_question == (0.5, 0.5, None)
    assert mrr_at_k(RETRIEVED, GOLD, 1).per_question == (0.0, 0.0, None)


def test_ndcg_by_hand():
    r = ndcg_at_k(RETRIEVED, GOLD, 10)
    assert r.name == "ndcg@10"
    # q1: DCG = 1/log2(3), ideal = 1.
    assert r.per_question[0] == pytest.approx(1 / math.log2(3))
    # q2: DCG = 1/log2(3), ideal = 1 + 1/log2(3)  ->  1 / (log2(3) + 1) = 1 / log2(6).
    assert r.per_question[1] == pytest.approx(1 / math.log2(6))
    assert r.per_question[2] is None
    assert r.overall == pytest.approx((1 / math.log2(3) + 1 / math.log2(6)) / 2)


def test_ndcg_ideal_is_capped_at_k():
    # Three gold docs, k = 1: the ideal list has only one slot, so a hit at rank 1 is perfect.
    assert ndcg_at_k([["a", "x"]], [{"a", "b", "c"}], 1).overall == 1.0
    assert ndcg_at_k([["x", "a"]], [{"a"}], 1).overall == 0.0


def test_retrieval_with_nothing_to_score_is_zero():
    r = recall_at_k([["d1"]], [set()], 5)
    assert (r.overall, r.n, r.per_question) == (0.0, 0, (None,))
    assert hit_at_k([], [], 1).overall == 0.0


def test_retrieval_rejects_bad_input():
    with pytest.raises(ValueError, match="k must be"):
        hit_at_k(RETRIEVED, GOLD, 0)
    with pytest.raises(ValueError, match="one entry per question"):
        mrr_at_k(RETRIEVED, GOLD[:2], 10)


# --------------------------------------------------------------------------- answers


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("The 260,000 chips!", "260000 chips"),
        ("260000", "260000"),
        ("1,234,567 GPUs", "1234567 gpus"),
        ("about 260 , 000", "about 260 000"),  # not a digit group: spaces around the comma
        ("Korea\u2019s  four-day   visit", "korea s four day visit"),
        ("An apple a day", "apple day"),
        ("$150 billion.", "150 billion"),
        ("Apple Vision Pro\u2122, its visionOS\u00ae", "apple vision pro its visionos"),  # not "protm"
    ],
)
def test_normalize_answer(text, expected):
    assert normalize_answer(text) == expected


def test_digit_grouping_matches_either_way():
    assert normalize_answer("260,000") == normalize_answer("260000")
    r = answer_accuracy(["Korea was promised about 260000 chips."], [["260,000"]], [True])
    assert r.overall == 1.0


def test_answer_accuracy_by_hand():
    r = answer_accuracy(
        ["It is the Vera Rubin platform.", "In Busan.", "I cannot say.", "2020", "anything"],
        [["Vera Rubin"], ["Seoul"], [], ["20"], []],
        [True, True, False, True, True],
    )
    # q1 contains "vera rubin"; q2 does not; q3 unanswerable; q4 "20" is not a token of
    # "2020"; q5 answerable but has no answer strings (retrieval-only), not counted.
    assert r.per_question == (1.0, 0.0, None, 0.0, None)
    assert r.n == 3
    assert r.overall == pytest.approx(1 / 3)


def test_token_f1_worked_example():
    # pred tokens [vera, rubin, platform]; vs "Vera Rubin": overlap 2, P = 2/3, R = 1,
    # F1 = 0.8. vs "Rubin Ultra": overlap 1, P = 1/3, R = 1/2, F1 = 0.4. Max = 0.8.
    r = token_f1(["the Vera Rubin platform"], [["Rubin Ultra", "Vera Rubin"]], [True])
    assert r.name == "token_f1"
    assert r.overall == pytest.approx(0.8)


def test_token_f1_counts_repeats_once_per_match():
    # pred [rubin, rubin] vs [rubin]: overlap 1, P = 1/2, R = 1, F1 = 2/3.
    assert token_f1(["Rubin Rubin"], [["Rubin"]], [True]).overall == pytest.approx(2 / 3)
    assert token_f1([""], [["Seoul"]], [True]).overall == 0.0
    assert token_f1(["four days"], [["four-day"]], [True]).overall == pytest.approx(0.5)


def test_answer_metrics_with_only_unanswerable_questions_are_zero():
    r = token_f1(["x"], [[]], [False])
    assert (r.overall, r.n, r.per_question) == (0.0, 0, (None,))


# --------------------------------------------------------------------------- abstention

ABSTAINED = [True, True, False, False, True, False, True]
ANSWERABLE = [False, True, False, True, False, True, True]
# outcomes:  tp    fp    fn     tn     tp     tn    fp   ->  tp=2, fp=2, fn=1, tn=2


def test_abstention_counts_by_hand():
    c = abstention_counts(ABSTAINED, ANSWERABLE)
    assert (c.tp, c.fp, c.fn, c.tn) == (2, 2, 1, 2)


def test_abstention_scores_by_hand():
    p = abstention_precision(ABSTAINED, ANSWERABLE)
    assert p.overall == pytest.approx(2 / 4)
    assert p.per_question == (1.0, 0.0, None, None, 1.0, None, 0.0)
    r = abstention_recall(ABSTAINED, ANSWERABLE)
    assert r.overall == pytest.approx(2 / 3)
    assert r.per_question == (1.0, None, 0.0, None, 1.0, None, None)
    f = abstention_f1(ABSTAINED, ANSWERABLE)
    # 2TP / (2TP + FP + FN) = 4 / 7 = harmonic mean of 1/2 and 2/3.
    assert f.overall == pytest.approx(4 / 7)
    assert f.n == 5
    w = wrong_abstention_rate(ABSTAINED, ANSWERABLE)
    assert w.overall == pytest.approx(2 / 4)
    assert w.per_question == (None, 1.0, None, 0.0, None, 0.0, 1.0)


def test_abstention_zero_over_zero_is_zero():
    never = [False, False]
    all_answerable = [True, True]
    for metric in (abstention_precision, abstention_recall, abstention_f1):
        r = metric(never, all_answerable)
        assert (r.overall, r.n) == (0.0, 0)
    assert wrong_abstention_rate([True], [False]).overall == 0.0
    assert abstention_f1([], []).overall == 0.0


def test_abstention_rejects_mismatched_lengths():
    with pytest.raises(ValueError):
        abstention_precision([True], [True, False])
    with pytest.raises(ValueError):
        wrong_abstention_rate([True], [True, False])


# --------------------------------------------------------------------------- citations


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text.lower()))


def supports(premise: str, claim: str) -> bool:
    """A judge that can be followed by hand: every word of the claim is in the premise."""
    return words(claim) <= words(premise)


CITED = [
    [
        ("Huang visited Seoul", ["Huang visited Seoul for four days"]),  # supported, 1/1 precise
        ("Bae met Huang", ["Bae met ministers", "Huang was there"]),  # needs both: 2/2 precise
        ("Chips were delivered", []),  # no citation: unsupported
    ],
    [
        ("Seoul hosts the center", ["Seoul hosts the center", "Rubin is a GPU"]),  # 2nd irrelevant
        ("Rubin uses HBM4", ["Rubin is a GPU"]),  # not supported: 0/1 precise
    ],
    [],  # abstained: not counted
]


def test_citation_recall_by_hand():
    r = citation_recall(CITED, supports)
    assert r.per_question[0] == pytest.approx(2 / 3)
    assert r.per_question[1] == pytest.approx(1 / 2)
    assert r.per_question[2] is None
    assert r.overall == pytest.approx((2 / 3 + 1 / 2) / 2)


def test_citation_precision_by_hand():
    r = citation_precision(CITED, supports)
    assert r.per_question[0] == pytest.approx(3 / 3)
    assert r.per_question[1] == pytest.approx(1 / 3)
    assert r.per_question[2] is None
    assert r.overall == pytest.approx((1 + 1 / 3) / 2)


def test_citation_precision_keeps_a_citation_the_others_cannot_replace():
    # Both citations support the claim alone: neither is irrelevant.
    both = [[("Seoul", ["Seoul one", "Seoul two"])]]
    assert citation_precision(both, supports).overall == 1.0
    # Sentences but no citations at all: precision 0 (as in ALCE), recall 0.
    bare = [[("Seoul", [])]]
    assert citation_precision(bare, supports).overall == 0.0
    assert citation_recall(bare, supports).overall == 0.0


def test_citation_quotes_are_joined_with_newlines():
    seen: list[str] = []

    def judge(premise: str, claim: str) -> bool:
        seen.append(premise)
        return True

    citation_recall([[("claim", ["a", "b"])]], judge)
    assert seen == ["a\nb"]


# --------------------------------------------------------------------------- latency


def test_percentile_by_hand():
    assert percentile([1, 2, 3, 4], 50) == pytest.approx(2.5)
    # rank = 3 * 0.95 = 2.85 -> 3 + 0.85 * (4 - 3)
    assert percentile([4, 1, 3, 2], 95) == pytest.approx(3.85)
    assert percentile([1, 2, 3, 4], 0) == 1
    assert percentile([1, 2, 3, 4], 100) == 4
    assert percentile([7.0], 95) == 7.0


def test_percentile_matches_numpy_linear():
    rng = np.random.default_rng(0)
    values = rng.exponential(100.0, size=37).tolist()
    for p in (0, 5, 50, 90, 95, 99, 100):
        assert percentile(values, p) == pytest.approx(float(np.percentile(values, p)))


def test_percentile_rejects_bad_input():
    with pytest.raises(ValueError, match="values"):
        percentile([], 50)
    with pytest.raises(ValueError, match="p must be"):
        percentile([1.0], 101)


# --------------------------------------------------------------------------- the seed benchmark


def test_seed_set_is_valid():
    path = ROOT / "eval" / "sets" / "seeds.jsonl"
    assert validate_set(path, ROOT / "seeds") == []
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 80
    assert sum(not r["answerable"] for r in rows) >= 20
    assert {r["kind"] for r in rows} == {"single", "paraphrase", "multi", "headline", "unanswerable"}


def test_document_text_drops_header_and_boilerplate():
    assert document_text("TITLE: x\n----- BEGIN TEXT -----\nBody.\n----- END TEXT -----\n") == "Body."
    raw = "Title\nGet the latest AI news in your inbox\nNo spam. Unsubscribe.\nBody.\n// Related Articles\n- Other"
    assert document_text(raw) == "Title\nBody."


def test_validate_set_reports_problems(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Seoul hosts the R&D center.\nNo spam. Unsubscribe anytime.\n", encoding="utf-8")
    rows = [
        {
            "qid": "q1",
            "question": "Where?",
            "answers": ["Seoul"],
            "answerable": True,
            "gold_docs": ["a.txt"],
            "kind": "single",
        },
        {
            "qid": "q1",
            "question": "Dup?",
            "answers": ["Seoul"],
            "answerable": True,
            "gold_docs": ["a.txt"],
            "kind": "single",
        },
        {
            "qid": "q3",
            "question": "Spam?",
            "answers": ["No spam"],
            "answerable": True,
            "gold_docs": ["a.txt"],
            "kind": "single",
        },
        {
            "qid": "q4",
            "question": "Missing?",
            "answers": ["x"],
            "answerable": True,
            "gold_docs": ["b.txt"],
            "kind": "single",
        },
        {
            "qid": "q5",
            "question": "None?",
            "answers": ["x"],
            "answerable": False,
            "gold_docs": [],
            "kind": "unanswerable",
        },
        {
            "qid": "q6",
            "question": "Kind?",
            "answers": ["Seoul"],
            "answerable": True,
            "gold_docs": ["a.txt"],
            "kind": "odd",
        },
        {
            "qid": "q7",
            "question": "Multi?",
            "answers": ["Seoul"],
            "answerable": True,
            "gold_docs": ["a.txt"],
            "kind": "multi",
        },
        {
            "qid": "q8",
            "question": "",
            "answers": "Seoul",
            "answerable": "yes",
            "gold_docs": ["a.txt"],
            "kind": "single",
        },
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    problems = validate_set(path, corpus)
    text = "\n".join(problems)
    assert ":1:" not in text  # the first row is fine
    assert "already used" in text  # line 2
    assert f"{path}:3: no answer string" in text  # "No spam" is boilerplate, not content
    assert "'b.txt' is not in the corpus" in text
    assert f"{path}:5: an unanswerable question must have empty" in text
    assert f"{path}:6: 'kind' must be one of" in text
    assert f"{path}:7: a 'multi' question needs at least two gold docs" in text
    assert f"{path}:8: 'question'" in text and f"{path}:8: 'answers'" in text and f"{path}:8: 'answerable'" in text


def test_check_set_reads_pdfs_as_ingest_does(tmp_path):
    """A folder of PDFs: doc id = path relative to the folder, text = what ingest extracts."""
    from support import make_pdf

    from eval.answer_spread import answer_spread

    corpus = tmp_path / "docs"
    (corpus / "q").mkdir(parents=True)
    make_pdf(corpus / "2023 Q1 X.pdf", ["Total net sales 117,154 123,945"])
    make_pdf(corpus / "q" / "2023 Q2 X.pdf", ["Total net sales 94,836 117,154"])
    rows = [
        {"qid": "a1", "question": "Net sales in Q1?", "answers": ["117,154"], "answerable": True,
         "gold_docs": ["2023 Q1 X.pdf"], "kind": "table"},
        {"qid": "a2", "question": "Net sales in Q2?", "answers": ["94,836", "4,836"], "answerable": True,
         "gold_docs": ["q/2023 Q2 X.pdf"], "kind": "table"},
    ]
    path = tmp_path / "set.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert validate_set(path, corpus, kinds=None) == []
    spread = {r["qid"]: r for r in answer_spread(path, corpus)}
    assert spread["a1"]["missing"] == [] and spread["a1"]["elsewhere"] == {"q/2023 Q2 X.pdf": ["117,154"]}
    assert spread["a2"]["missing"] == ["4,836"]  # whole tokens only: not inside "94,836"
    assert spread["a2"]["elsewhere"] == {}
