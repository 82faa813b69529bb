"""The eval harness end to end: tiny corpus, fake and real embedder, hand-computed scores, --compare."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval import report
from eval.datasets import Question
from eval.runner import (
    OVERALL_KEYS,
    PER_QUESTION_KEYS,
    build_index,
    evaluate_runs,
    main,
    question_run,
    run_eval,
    strip_markers,
)
from rag.types import Answer, AnswerSentence, Citation, Hit

BRIEF_KEYS = {
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
    "latency_p50_ms",
    "latency_p95_ms",
}
SCRIPT_Q = "Who painted the <script>alert('x')</script> ceiling of the cathedral?"

DOCS = {
    "alpha": "The Zephyr telescope was completed in 2019 on Mount Tarn. "
    "The Zephyr telescope observes infrared light from the southern sky.",
    "beta": "Marmalade exports from Orvieto reached 12,000 tonnes last year. "
    "Most of the marmalade jars ship to Norway by sea.",
    "gamma": "The Kestrel bridge spans 840 metres across the Vell river. "
    "Engineers opened the Kestrel bridge to traffic in May.",
}
QUESTIONS = [
    Question("q1", "When was the Zephyr telescope completed?", ("2019",), True, ("alpha",), "single"),
    Question("q2", "How many tonnes of marmalade did Orvieto export?", ("12,000 tonnes",), True, ("beta",), "single"),
    Question(
        "q3", "How long is the Kestrel bridge across the Vell river?", ("840 metres",), True, ("gamma",), "single"
    ),
    Question("q4", "Where do most of the marmalade jars ship to?", ("Norway",), True, ("beta",), "paraphrase"),
    Question("q5", SCRIPT_Q, (), False, (), "unanswerable"),
]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    path = tmp_path / "corpus.jsonl"
    with path.open("w", encoding="utf-8") as f:
        for doc_id, text in DOCS.items():
            f.write(json.dumps({"doc_id": doc_id, "text": text, "title": doc_id.title()}) + "\n")
    return path


@pytest.fixture
def question_file(tmp_path: Path) -> Path:
    path = tmp_path / "set.jsonl"
    path.write_text("".join(json.dumps(q.to_dict()) + "\n" for q in QUESTIONS), encoding="utf-8")
    return path


def _strict_json(path: Path) -> dict:
    def no_constants(name: str):
        raise AssertionError(f"{path} holds {name}, which is not JSON")

    return json.loads(path.read_text(encoding="utf-8"), parse_constant=no_constants)


def _check_results(data: dict, n: int) -> None:
    assert set(data["overall"]) == set(OVERALL_KEYS)
    assert BRIEF_KEYS <= set(data["overall"])
    assert {"retrieval_latency_p50_ms", "retrieval_latency_p95_ms"} <= set(data["overall"])
    assert data["counts"] == {"questions": n, "answerable": 4, "unanswerable": 1}
    assert set(data["by_kind"]) == {"single", "paraphrase", "unanswerable"}
    assert data["by_kind"]["single"]["counts"]["questions"] == 3
    for key in ("set", "k", "mode", "abstain_threshold", "embedder", "chunker", "git_commit"):
        assert key in data["config"], key
    assert [q["qid"] for q in data["questions"]] == [q.qid for q in QUESTIONS][:n]
    for q in data["questions"]:
        assert {
            "qid",
            "kind",
            "question",
            "retrieved",
            "answer",
            "abstained",
            "citations",
            "scores",
            "outcome",
            "retrieve_ms",
            "total_ms",
        } <= set(q)
        assert set(q["scores"]) == set(PER_QUESTION_KEYS)
        assert len(q["retrieved"]) == len(set(q["retrieved"]))
        for c in q["citations"]:
            assert set(c) == {"n", "doc_id", "start", "end", "quote"}
            assert DOCS[c["doc_id"]][c["start"] : c["end"]] == c["quote"]
        assert q["abstained"] == (not q["citations"])


def test_end_to_end_with_fake_embedder(tmp_path, corpus, hash_embedder):
    from rag.answer import Answerer

    index_dir = tmp_path / "index"
    ingested = build_index(corpus, index_dir, hash_embedder)
    assert ingested.total_docs == 3
    answerer = Answerer.load(index_dir, embedder=hash_embedder)
    result = run_eval(QUESTIONS, answerer, config={"set": "tiny", "git_commit": None})
    data = result.to_dict()
    _check_results(data, 5)
    # Each question's content words occur in its gold document only, so BM25 and the
    # bag-of-words embedder both put it first.
    assert data["overall"]["hit@1"] == 1.0
    assert data["config"]["embedder"]["fingerprint"] == hash_embedder.fingerprint()
    assert data["config"]["index_documents"] == 3

    paths = report.write_reports(data, tmp_path / "out")
    assert _strict_json(paths["results"])["overall"] == data["overall"]
    assert "| hit@1 | 1.000 |" in paths["summary"].read_text(encoding="utf-8")
    page = paths["html"].read_text(encoding="utf-8")
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "<svg" in page and "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")


def _hit(doc_id: str, text: str = "passage") -> Hit:
    return Hit(
        chunk_id=f"{doc_id}#0", doc_id=doc_id, title=doc_id, page=None, start=0, end=len(text), text=text, score=1.0
    )


class CannedAnswerer:
    """Returns prepared Answers by question text and records the per-call overrides."""

    def __init__(self, answers: dict[str, Answer]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, int | None, str | None]] = []

    def answer(self, question: str, *, k: int | None = None, mode: str | None = None) -> Answer:
        self.calls.append((question, k, mode))
        return self.answers[question]


def _answer(
    question: str,
    hits: list[Hit],
    sentences: list[tuple[str, str]],
    abstained: bool,
    total_ms: float,
    retrieve_ms: float,
) -> Answer:
    cites = tuple(
        Citation(n=i + 1, doc_id=hits[0].doc_id, title="", page=None, start=0, end=len(quote), quote=quote)
        for i, (_, quote) in enumerate(sentences)
    )
    sents = tuple(AnswerSentence(text=text, citations=(i + 1,)) for i, (text, _) in enumerate(sentences))
    text = "No answer." if abstained else " ".join(f"{s.text} [{s.citations[0]}]" for s in sents)
    return Answer(
        question=question,
        text=text,
        sentences=sents,
        citations=cites,
        abstained=abstained,
        hits=tuple(hits),
        timings={"retrieve_ms": retrieve_ms, "answer_ms": total_ms - retrieve_ms, "total_ms": total_ms},
    )


def test_scores_match_hand_computed_values():
    qs = [
        Question("a", "When?", ("2019",), True, ("d1",), "single"),
        Question("b", "Who?", ("Bae",), True, ("d3",), "single"),
        Question("c", "Why?", (), False, (), "unanswerable"),
    ]
    canned = CannedAnswerer(
        {
            # d1 at rank 2 after de-duplication: hit@1 0, hit@3 1, mrr 1/2; the answer contains "2019".
            "When?": _answer(
                "When?", [_hit("d2"), _hit("d1"), _hit("d1")], [("It was 2019.", "It was 2019.")], False, 10.0, 1.0
            ),
            # Abstained on an answerable question: retrieval miss, accuracy 0, a wrong abstention.
            "Who?": _answer("Who?", [_hit("d1")], [], True, 20.0, 2.0),
            # Answered an unanswerable question, citing a quote that does not back the sentence.
            "Why?": _answer("Why?", [_hit("d2")], [("Because of rain.", "Sunny all week.")], False, 30.0, 3.0),
        }
    )
    result = run_eval(qs, canned, supports=lambda premise, claim: claim in premise, k=7, mode="keyword")
    o = result.overall
    assert canned.calls == [("When?", 7, "keyword"), ("Who?", 7, "keyword"), ("Why?", 7, "keyword")]
    assert (o["hit@1"], o["hit@3"], o["hit@5"], o["mrr@10"]) == (0.0, 0.5, 0.5, 0.25)
    assert o["ndcg@10"] == pytest.approx((1 / 1.584962500721156) / 2, abs=1e-6)  # 1/log2(3), averaged with 0
    assert (o["accuracy"], o["token_f1"]) == (0.5, pytest.approx((2 * (1 / 3) * 1 / (1 / 3 + 1)) / 2, abs=1e-6))
    # Citations: "a" is supported by its quote (1/1); "c" is not (0/1); "b" abstained (not counted).
    assert (o["citation_precision"], o["citation_recall"]) == (0.5, 0.5)
    assert result.scored["citation_precision"] == 2
    # Abstention: TP 0, FP 1 (b), FN 1 (c), TN 1 (a).
    assert (o["abstention_precision"], o["abstention_recall"], o["abstention_f1"]) == (0.0, 0.0, 0.0)
    assert o["wrong_abstention_rate"] == 0.5
    # Latency, numpy-style linear interpolation: p95 of [10, 20, 30] = 20 + 0.9 * 10.
    assert (o["latency_p50_ms"], o["latency_p95_ms"]) == (20.0, 29.0)
    assert (o["retrieval_latency_p50_ms"], o["retrieval_latency_p95_ms"]) == (2.0, 2.9)
    assert [q["outcome"] for q in result.questions] == ["correct", "wrong_abstention", "missed_abstention"]
    assert result.questions[0]["retrieved"] == ["d2", "d1"]
    assert result.by_kind["single"]["overall"]["accuracy"] == 0.5
    assert result.by_kind["unanswerable"]["scored"]["accuracy"] == 0
    assert result.config["k"] == 7 and result.config["mode"] == "keyword"
    assert [q["qid"] for q in report.failures(result.to_dict())] == ["b", "c"]


def test_results_are_split_by_question_language():
    qs = [
        Question("a", "When?", ("2019",), True, ("d1",), "single"),
        Question("k", "언제?", ("2019",), True, ("d1",), "single", lang="ko"),
        Question("u", "누구?", (), False, (), "unanswerable", lang="ko"),
    ]
    canned = CannedAnswerer(
        {
            "When?": _answer("When?", [_hit("d1")], [("It was 2019.", "It was 2019.")], False, 10.0, 1.0),
            "언제?": _answer("언제?", [_hit("d2"), _hit("d1")], [], True, 30.0, 3.0),
            "누구?": _answer("누구?", [_hit("d2")], [], True, 50.0, 5.0),
        }
    )
    result = run_eval(qs, canned, supports=lambda premise, claim: claim in premise)
    assert list(result.by_lang) == ["en", "ko"]
    en, ko = result.by_lang["en"], result.by_lang["ko"]
    assert en["counts"] == {"questions": 1, "answerable": 1, "unanswerable": 0}
    assert (en["overall"]["hit@1"], en["overall"]["accuracy"]) == (1.0, 1.0)
    assert ko["counts"] == {"questions": 2, "answerable": 1, "unanswerable": 1}
    assert (ko["overall"]["hit@1"], ko["overall"]["hit@5"], ko["overall"]["accuracy"]) == (0.0, 1.0, 0.0)
    assert ko["overall"]["abstention_recall"] == 1.0 and ko["outcomes"] == {"correct_abstention": 1,
                                                                              "wrong_abstention": 1}
    assert [q["lang"] for q in result.questions] == ["en", "ko", "ko"]
    data = result.to_dict()
    assert data["by_lang"]["ko"]["counts"]["questions"] == 2
    md = report.summary_markdown(data)
    assert "## By language" in md and "| ko | 2 | 0.500 | 0.000 | 1.000 |" in md
    assert "language" in report.summary_table(data)


def test_strip_markers_and_question_run():
    assert strip_markers("It was 2019 [1]. Then 2020 [2, 3] [4].") == "It was 2019. Then 2020."
    q = Question("a", "When?", ("2019",), True, ("d1",))
    run = question_run(q, _answer("When?", [_hit("d1")], [("It was 2019.", "It was 2019.")], False, 5.0, 1.0))
    assert run.prediction == "It was 2019."
    assert run.sentences == (("It was 2019.", ("It was 2019.",)),)
    abstained = question_run(q, _answer("When?", [_hit("d1")], [], True, 5.0, 1.0))
    assert abstained.prediction == ""
    with pytest.raises(ValueError, match="runs"):
        evaluate_runs([], lambda p, c: True)


def test_index_and_corpus_are_exclusive(corpus, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--index", "somewhere", "--corpus", str(corpus)])
    assert exc.value.code == 2


@pytest.mark.model
def test_main_with_the_real_embedder(tmp_path, corpus, question_file, capsys):
    out = tmp_path / "report"
    rc = main(["--set", str(question_file), "--corpus", str(corpus), "--out", str(out), "--no-progress"])
    assert rc == 0
    data = _strict_json(out / "results.json")
    _check_results(data, 5)
    assert data["config"]["embedder"]["name"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert data["config"]["index"] == "temporary"
    assert data["overall"]["hit@1"] == 1.0
    assert (out / "summary.md").is_file()
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;" in page and "<script" not in page.lower()
    printed = capsys.readouterr().out
    assert "hit@1" in printed and "latency_p95_ms" in printed


def _results(questions: list[dict], **overall: float) -> dict:
    base = {key: 0.5 for key in PER_QUESTION_KEYS} | {
        "latency_p50_ms": 100.0,
        "latency_p95_ms": 200.0,
        "retrieval_latency_p50_ms": 10.0,
        "retrieval_latency_p95_ms": 20.0,
    }
    return {"overall": base | overall, "questions": questions, "config": {}}


def _q(qid: str, outcome: str, abstained: bool = False, hit5: float | None = 1.0) -> dict:
    return {
        "qid": qid,
        "outcome": outcome,
        "correct": outcome in ("correct", "correct_abstention"),
        "abstained": abstained,
        "scores": {"hit@5": hit5},
    }


def test_compare_two_runs(tmp_path, capsys):
    a = _results(
        [
            _q("s1", "correct"),
            _q("s2", "wrong_answer"),
            _q("s3", "correct"),
            _q("u1", "missed_abstention", hit5=None),
            _q("s4", "correct"),
        ],
        accuracy=0.6,
        latency_p50_ms=100.0,
    )
    b = _results(
        [
            _q("s1", "correct"),
            _q("s2", "correct"),
            _q("s3", "wrong_abstention", abstained=True, hit5=0.0),
            _q("u1", "correct_abstention", abstained=True, hit5=None),
            _q("s5", "correct"),
        ],
        accuracy=0.7,
        latency_p50_ms=150.0,
    )
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "results.json").write_text(json.dumps(a), encoding="utf-8")
    (tmp_path / "b.json").write_text(json.dumps(b), encoding="utf-8")

    c = report.compare_results(a, b)
    assert c.correct_to_wrong == (("s3", "wrong_abstention"),)
    assert c.wrong_to_correct == (("s2", "wrong_answer"), ("u1", "missed_abstention"))
    assert c.started_abstaining == ("s3", "u1") and c.stopped_abstaining == ()
    assert c.retrieval_lost == ("s3",) and c.retrieval_gained == ()
    assert (c.only_in_a, c.only_in_b) == (("s4",), ("s5",))
    deltas = {d.key: d for d in c.metrics}
    assert deltas["accuracy"].delta == pytest.approx(0.1) and deltas["accuracy"].better is True
    assert deltas["latency_p50_ms"].better is False  # slower is worse
    assert deltas["hit@1"].better is None

    assert main(["--compare", str(tmp_path / "a"), str(tmp_path / "b.json")]) == 0
    text = capsys.readouterr().out
    assert "correct -> wrong (1):\n  s3 (now wrong_abstention)" in text
    assert "wrong -> correct (2):" in text and "s2 (was wrong_answer)" in text
    assert "started abstaining (2):" in text
    assert "accuracy" in text and "better" in text and "worse" in text


def test_compare_refuses_a_file_that_is_not_a_run(tmp_path, capsys):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"hello": 1}), encoding="utf-8")
    assert main(["--compare", str(bad), str(bad)]) == 2
    assert "not an eval results file" in capsys.readouterr().err


def test_main_on_a_beir_folder(tmp_path, hash_embedder, capsys):
    beir = tmp_path / "tinybeir"
    (beir / "qrels").mkdir(parents=True)
    (beir / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": doc_id, "title": doc_id, "text": text}) + "\n" for doc_id, text in DOCS.items()),
        encoding="utf-8",
    )
    (beir / "queries.jsonl").write_text(
        json.dumps({"_id": "b1", "text": "Kestrel bridge Vell river"})
        + "\n"
        + json.dumps({"_id": "b2", "text": "Zephyr telescope infrared"})
        + "\n",
        encoding="utf-8",
    )
    (beir / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nb1\tgamma\t1\nb2\talpha\t1\n", encoding="utf-8"
    )
    out = tmp_path / "out"
    assert (
        main(
            ["--beir", str(beir), "--out", str(out), "--no-progress", "--mode", "keyword", "-k", "3"],
            embedder=hash_embedder,
        )
        == 0
    )
    data = _strict_json(out / "results.json")
    assert data["counts"] == {"questions": 2, "answerable": 2, "unanswerable": 0}
    assert data["overall"]["hit@1"] == 1.0 and data["scored"]["accuracy"] == 0
    assert (data["config"]["k"], data["config"]["mode"]) == (3, "keyword")
    assert data["config"]["embedder"]["name"] == "hash-embedder"
    assert "accuracy" in capsys.readouterr().out
