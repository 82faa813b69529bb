"""Load question sets (this project's JSONL format) and BEIR folders."""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Question", "load_beir", "load_question_set", "read_jsonl"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Question:
    """One benchmark question.

    Attributes:
        qid: Unique id within its set.
        question: The question text.
        answers: Acceptable answer strings; empty for unanswerable questions and for
            retrieval-only sets (BEIR).
        answerable: Whether the corpus answers it.
        gold_docs: Ids of the documents that answer it; empty when unanswerable.
        kind: Category, e.g. ``single``, ``paraphrase``, ``multi``, ``unanswerable``,
            ``squad2-answerable``, ``beir-answerable``.
        lang: The question's language (``"en"`` unless the set says otherwise, e.g. ``"ko"``).
    """

    qid: str
    question: str
    answers: tuple[str, ...] = ()
    answerable: bool = True
    gold_docs: tuple[str, ...] = ()
    kind: str = ""
    lang: str = "en"

    def to_dict(self) -> dict[str, Any]:
        """The JSONL row shape that `load_question_set` reads (``lang`` only when not English)."""
        return {
            "qid": self.qid,
            "question": self.question,
            "answers": list(self.answers),
            "answerable": self.answerable,
            "gold_docs": list(self.gold_docs),
            "kind": self.kind,
            **({"lang": self.lang} if self.lang != "en" else {}),  # English, the default, is left implicit
        }


def read_jsonl(path: str | Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line_number, object)`` for each non-blank line of a JSONL file.

    Raises:
        ValueError: If a line is not a JSON object; the message names file and line.
    """
    path = Path(path)
    with path.open(encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{lineno}: not valid JSON ({exc.msg})") from exc
            if not isinstance(row, dict):
                # A bad data file is a ValueError for callers, whatever the JSON type was.
                raise ValueError(f"{path}:{lineno}: expected a JSON object, got {type(row).__name__}")  # noqa: TRY004
            yield lineno, row


def _str_list(row: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = row.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where}: {key!r} must be a list of strings, got {value!r}")
    return tuple(value)


def load_question_set(path: str | Path) -> list[Question]:
    """Read a question set in this project's JSONL format.

    Each line: ``{"qid", "question", "answers", "answerable", "gold_docs", "kind"}``.
    ``qid``, ``question`` and ``answerable`` are required; the others default to
    empty. For a full check of a set against its corpus use `eval.check_set`.

    Args:
        path: The ``.jsonl`` file.

    Returns:
        The questions in file order.

    Raises:
        ValueError: On a malformed line, a missing or mistyped field, or a repeated qid.
    """
    questions: list[Question] = []
    seen: set[str] = set()
    for lineno, row in read_jsonl(path):
        where = f"{path}:{lineno}"
        qid, text, answerable = row.get("qid"), row.get("question"), row.get("answerable")
        if not isinstance(qid, str) or not qid:
            raise ValueError(f"{where}: 'qid' must be a non-empty string, got {qid!r}")
        if qid in seen:
            raise ValueError(f"{where}: duplicate qid {qid!r}")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"{where}: 'question' must be a non-empty string, got {text!r}")
        if not isinstance(answerable, bool):
            raise ValueError(f"{where}: 'answerable' must be true or false, got {answerable!r}")  # noqa: TRY004
        kind = row.get("kind", "")
        if not isinstance(kind, str):
            raise ValueError(f"{where}: 'kind' must be a string, got {kind!r}")  # noqa: TRY004
        lang = row.get("lang", "en")
        if not isinstance(lang, str) or not lang:
            raise ValueError(f"{where}: 'lang' must be a non-empty string, got {lang!r}")
        seen.add(qid)
        questions.append(
            Question(
                qid=qid,
                question=text,
                answers=_str_list(row, "answers", where),
                answerable=answerable,
                gold_docs=_str_list(row, "gold_docs", where),
                kind=kind,
                lang=lang,
            )
        )
    return questions


def _qrels_file(folder: Path, split: str) -> Path:
    preferred = folder / "qrels" / f"{split}.tsv"
    if preferred.is_file():
        return preferred
    candidates = sorted((folder / "qrels").glob("*.tsv"))
    if not candidates:
        raise FileNotFoundError(f"{folder}: no qrels/*.tsv file")
    logger.info("%s: no qrels/%s.tsv, using %s", folder, split, candidates[0].name)
    return candidates[0]


def _read_qrels(path: Path) -> dict[str, list[str]]:
    relevant: dict[str, list[str]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter="\t")
        for lineno, fields in enumerate(reader, start=1):
            if not fields or not "".join(fields).strip():
                continue
            if lineno == 1 and fields[0].strip().lower() == "query-id":
                continue
            if len(fields) < 3:
                raise ValueError(f"{path}:{lineno}: expected 'query-id corpus-id score', got {fields!r}")
            qid, doc_id, score = fields[0].strip(), fields[1].strip(), fields[2].strip()
            try:
                value = float(score)
            except ValueError as exc:
                raise ValueError(f"{path}:{lineno}: score {score!r} is not a number") from exc
            docs = relevant.setdefault(qid, [])
            if value > 0 and doc_id not in docs:
                docs.append(doc_id)
    return relevant


def load_beir(
    folder: str | Path, *, split: str = "test", include_unjudged: bool = True
) -> tuple[list[dict[str, str]], list[Question]]:
    """Load a BEIR-format folder as a corpus and a question set.

    Reads ``corpus.jsonl`` (``_id``, ``title``, ``text``), ``queries.jsonl``
    (``_id``, ``text``) and ``qrels/<split>.tsv`` (or, if absent, the first
    ``qrels/*.tsv`` by name), a tab-separated file with header
    ``query-id corpus-id score``; a score above 0 marks a relevant document.

    Queries with relevant documents become answerable questions
    (``kind="beir-answerable"``, ``gold_docs`` in qrels order). Queries with none
    become unanswerable (``kind="beir-unanswerable"``). Note that in many BEIR sets
    ``queries.jsonl`` also holds train/dev queries that merely lack *test* qrels;
    pass ``include_unjudged=False`` to drop queries that have no qrels row at all.
    BEIR gives no answer strings, so ``answers`` is always empty.

    Args:
        folder: The BEIR dataset folder.
        split: Which qrels file to prefer.
        include_unjudged: Keep queries that have no row in the qrels file.

    Returns:
        ``(corpus, questions)``: corpus rows ``{"doc_id", "text", "title"}`` in file
        order (ready to write as a JSONL corpus) and the questions in file order.

    Raises:
        FileNotFoundError: If a required file is missing.
        ValueError: On a malformed row.
    """
    folder = Path(folder)
    corpus: list[dict[str, str]] = []
    for lineno, row in read_jsonl(folder / "corpus.jsonl"):
        if "_id" not in row:
            raise ValueError(f"{folder / 'corpus.jsonl'}:{lineno}: missing '_id'")
        corpus.append(
            {"doc_id": str(row["_id"]), "text": str(row.get("text") or ""), "title": str(row.get("title") or "")}
        )
    qrels = _read_qrels(_qrels_file(folder, split))
    questions: list[Question] = []
    for lineno, row in read_jsonl(folder / "queries.jsonl"):
        if "_id" not in row:
            raise ValueError(f"{folder / 'queries.jsonl'}:{lineno}: missing '_id'")
        qid = str(row["_id"])
        if qid not in qrels and not include_unjudged:
            continue
        gold = tuple(qrels.get(qid, ()))
        questions.append(
            Question(
                qid=qid,
                question=str(row.get("text") or ""),
                answers=(),
                answerable=bool(gold),
                gold_docs=gold,
                kind="beir-answerable" if gold else "beir-unanswerable",
            )
        )
    return corpus, questions
