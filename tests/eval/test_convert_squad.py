"""The SQuAD 2.0 converter on a three-row fake source (no ../shared needed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eval.check_set import validate_set
from eval.convert_squad import convert_squad, main
from eval.datasets import load_question_set


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.fixture
def src(tmp_path: Path) -> Path:
    folder = tmp_path / "squad"
    folder.mkdir()
    corpus = [
        {"doc_id": "sq2-p0001", "text": "Defensins are found in all animals and plants."},
        {"doc_id": "sq2-p0002", "text": "Packet switching was developed for the Air Force."},
    ]
    questions = [
        {
            "qid": "a1",
            "question": "Where are defensins found?",
            "answers": ["all animals and plants"],
            "is_impossible": False,
            "gold_doc_id": "sq2-p0001",
        },
        {
            "qid": "a2",
            "question": "What was developed for the Air Force ",
            "answers": ["Packet switching", "packet switching"],
            "is_impossible": False,
            "gold_doc_id": "sq2-p0002",
        },
        {
            "qid": "u1",
            "question": "What was developed for the Navy?",
            "answers": [],
            "is_impossible": True,
            "gold_doc_id": "sq2-p0002",
        },
    ]
    (folder / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in corpus), encoding="utf-8")
    (folder / "questions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in questions), encoding="utf-8")
    return folder


def test_convert_squad(src, tmp_path):
    out = tmp_path / "out"
    summary = convert_squad(src, out)
    assert (summary.answerable, summary.unanswerable, summary.documents) == (2, 1, 2)
    assert read_rows(out / "questions.jsonl") == [
        {
            "qid": "a1",
            "question": "Where are defensins found?",
            "answers": ["all animals and plants"],
            "answerable": True,
            "gold_docs": ["sq2-p0001"],
            "kind": "squad2-answerable",
        },
        {
            "qid": "a2",
            "question": "What was developed for the Air Force",
            "answers": ["Packet switching", "packet switching"],
            "answerable": True,
            "gold_docs": ["sq2-p0002"],
            "kind": "squad2-answerable",
        },
        {
            "qid": "u1",
            "question": "What was developed for the Navy?",
            "answers": [],
            "answerable": False,
            "gold_docs": [],
            "kind": "squad2-unanswerable",
        },
    ]
    assert read_rows(out / "corpus.jsonl")[0] == {
        "doc_id": "sq2-p0001",
        "text": "Defensins are found in all animals and plants.",
        "title": "SQuAD 2.0 paragraph sq2-p0001",
        "publisher": "Wikipedia via SQuAD 2.0",
        "licence": "CC BY-SA 4.0",
    }
    # The output reads back and passes the set checker against its own corpus.
    assert len(load_question_set(out / "questions.jsonl")) == 3
    assert validate_set(out / "questions.jsonl", out / "corpus.jsonl", kinds=None) == []


def test_convert_squad_rejects_unknown_gold_doc(src, tmp_path):
    rows = read_rows(src / "questions.jsonl")
    rows[0]["gold_doc_id"] = "sq2-p9999"
    (src / "questions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    with pytest.raises(ValueError, match="sq2-p9999"):
        convert_squad(src, tmp_path / "out")


def test_cli(src, tmp_path, capsys):
    assert main(["--src", str(src), "--out", str(tmp_path / "cli")]) == 0
    assert "3 questions (2 answerable, 1 unanswerable), 2 documents" in capsys.readouterr().out
    assert main(["--src", str(tmp_path / "missing"), "--out", str(tmp_path / "x")]) == 1
