"""Loaders for this project's question sets and for BEIR folders, on tiny files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.datasets import Question, load_beir, load_question_set


def write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def test_load_question_set(tmp_path):
    path = tmp_path / "set.jsonl"
    write_jsonl(
        path,
        [
            {
                "qid": "s1",
                "question": "Where?",
                "answers": ["Seoul"],
                "answerable": True,
                "gold_docs": ["a.txt"],
                "kind": "single",
            },
            {
                "qid": "s2",
                "question": "Price?",
                "answers": [],
                "answerable": False,
                "gold_docs": [],
                "kind": "unanswerable",
            },
        ],
    )
    with path.open("a", encoding="utf-8") as f:
        f.write("\n")  # blank lines are skipped
    questions = load_question_set(path)
    assert questions == [
        Question("s1", "Where?", ("Seoul",), True, ("a.txt",), "single"),
        Question("s2", "Price?", (), False, (), "unanswerable"),
    ]
    assert questions[0].to_dict() == {
        "qid": "s1",
        "question": "Where?",
        "answers": ["Seoul"],
        "answerable": True,
        "gold_docs": ["a.txt"],
        "kind": "single",
    }
    ko = Question("k1", "언제?", ("2019",), True, ("a.txt",), "single", lang="ko")
    assert ko.to_dict()["lang"] == "ko"


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"question": "q?", "answerable": True}, "'qid'"),
        ({"qid": "x", "question": "", "answerable": True}, "'question'"),
        ({"qid": "x", "question": "q?", "answerable": "yes"}, "'answerable'"),
        ({"qid": "x", "question": "q?", "answerable": True, "answers": "Seoul"}, "'answers'"),
    ],
)
def test_load_question_set_rejects_bad_rows(tmp_path, row, message):
    path = tmp_path / "set.jsonl"
    write_jsonl(path, [row])
    with pytest.raises(ValueError, match=message):
        load_question_set(path)


def test_load_question_set_rejects_duplicates_and_bad_json(tmp_path):
    path = tmp_path / "dup.jsonl"
    write_jsonl(path, [{"qid": "x", "question": "a?", "answerable": True}] * 2)
    with pytest.raises(ValueError, match="duplicate qid 'x'"):
        load_question_set(path)
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"qid": "x",\n', encoding="utf-8")
    with pytest.raises(ValueError, match="bad.jsonl:1"):
        load_question_set(bad)


def make_beir(folder: Path, qrels_name: str = "test.tsv") -> None:
    folder.mkdir()
    write_jsonl(
        folder / "corpus.jsonl",
        [
            {"_id": "d1", "title": "Rubin", "text": "Rubin uses HBM4."},
            {"_id": 2, "title": "", "text": "Seoul hosts a center."},
        ],
    )
    write_jsonl(
        folder / "queries.jsonl",
        [
            {"_id": "q1", "text": "What memory does Rubin use?"},
            {"_id": "q2", "text": "Where is the center?"},
            {"_id": "q3", "text": "Judged, nothing relevant"},
            {"_id": "q4", "text": "Never judged"},
        ],
    )
    (folder / "qrels").mkdir()
    (folder / "qrels" / qrels_name).write_text(
        "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\t2\t2\nq2\td1\t0\nq3\td1\t0\n", encoding="utf-8"
    )


def test_load_beir(tmp_path):
    make_beir(tmp_path / "beir")
    corpus, questions = load_beir(tmp_path / "beir")
    assert corpus == [
        {"doc_id": "d1", "text": "Rubin uses HBM4.", "title": "Rubin"},
        {"doc_id": "2", "text": "Seoul hosts a center.", "title": ""},
    ]
    assert [(q.qid, q.answerable, q.gold_docs, q.kind) for q in questions] == [
        ("q1", True, ("d1",), "beir-answerable"),
        ("q2", True, ("2",), "beir-answerable"),  # score 0 rows are not relevant
        ("q3", False, (), "beir-unanswerable"),
        ("q4", False, (), "beir-unanswerable"),
    ]
    assert all(q.answers == () for q in questions)
    assert questions[0].question == "What memory does Rubin use?"


def test_load_beir_falls_back_to_first_qrels_file_and_can_drop_unjudged(tmp_path):
    make_beir(tmp_path / "beir", qrels_name="dev.tsv")
    _, questions = load_beir(tmp_path / "beir", include_unjudged=False)
    assert [q.qid for q in questions] == ["q1", "q2", "q3"]


def test_load_beir_without_qrels_fails(tmp_path):
    make_beir(tmp_path / "beir")
    (tmp_path / "beir" / "qrels" / "test.tsv").unlink()
    with pytest.raises(FileNotFoundError, match="qrels"):
        load_beir(tmp_path / "beir")
