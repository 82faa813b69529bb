"""Convert the shared SQuAD 2.0 sample into this project's question and corpus files."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.datasets import Question, read_jsonl

__all__ = ["DEFAULT_SRC", "ConversionSummary", "convert_squad", "squad_corpus_row", "squad_question"]

logger = logging.getLogger(__name__)

DEFAULT_SRC = Path(__file__).resolve().parents[1].parent / "shared" / "bench" / "squad2_sample500"
PUBLISHER = "Wikipedia via SQuAD 2.0"
LICENCE = "CC BY-SA 4.0"


@dataclass(frozen=True)
class ConversionSummary:
    """What `convert_squad` wrote.

    Attributes:
        questions_path: The converted question set.
        corpus_path: The converted corpus.
        answerable: Number of answerable questions.
        unanswerable: Number of unanswerable questions.
        documents: Number of corpus paragraphs.
    """

    questions_path: Path
    corpus_path: Path
    answerable: int
    unanswerable: int
    documents: int


def squad_question(row: dict[str, Any]) -> Question:
    """One row of the sample's ``questions.jsonl`` as a `Question`.

    ``answerable = not is_impossible``; gold docs are ``[gold_doc_id]`` for answerable
    questions and empty for unanswerable ones (their ``gold_doc_id`` is only the
    paragraph the question was written against, which does not answer it).
    """
    answerable = not bool(row["is_impossible"])
    return Question(
        qid=str(row["qid"]),
        question=str(row["question"]).strip(),
        answers=tuple(str(a) for a in row.get("answers") or ()) if answerable else (),
        answerable=answerable,
        gold_docs=(str(row["gold_doc_id"]),) if answerable else (),
        kind="squad2-answerable" if answerable else "squad2-unanswerable",
    )


def squad_corpus_row(row: dict[str, Any]) -> dict[str, str]:
    """One row of the sample's ``corpus.jsonl`` with title, publisher and licence added."""
    doc_id = str(row["doc_id"])
    return {
        "doc_id": doc_id,
        "text": str(row["text"]),
        "title": f"SQuAD 2.0 paragraph {doc_id}",
        "publisher": PUBLISHER,
        "licence": LICENCE,
    }


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    return count


def convert_squad(src: str | Path, out: str | Path) -> ConversionSummary:
    """Write ``out/questions.jsonl`` and ``out/corpus.jsonl`` from a SQuAD 2.0 sample.

    Args:
        src: Folder with ``questions.jsonl`` (``qid``, ``question``, ``answers``,
            ``is_impossible``, ``gold_doc_id``) and ``corpus.jsonl`` (``doc_id``, ``text``).
        out: Output folder; created if needed, existing files are overwritten.

    Returns:
        A summary with the output paths and counts.

    Raises:
        FileNotFoundError: If a source file is missing.
        ValueError: On a malformed row, or an answerable question whose gold paragraph
            is not in the corpus.
    """
    src, out = Path(src), Path(out)
    corpus = []
    for lineno, row in read_jsonl(src / "corpus.jsonl"):
        if "doc_id" not in row or "text" not in row:
            raise ValueError(f"{src / 'corpus.jsonl'}:{lineno}: needs 'doc_id' and 'text'")
        corpus.append(squad_corpus_row(row))
    doc_ids = {r["doc_id"] for r in corpus}
    questions = []
    for lineno, row in read_jsonl(src / "questions.jsonl"):
        missing = [k for k in ("qid", "question", "is_impossible", "gold_doc_id") if k not in row]
        if missing:
            raise ValueError(f"{src / 'questions.jsonl'}:{lineno}: missing {missing}")
        q = squad_question(row)
        if q.answerable and q.gold_docs[0] not in doc_ids:
            raise ValueError(f"{src / 'questions.jsonl'}:{lineno}: gold doc {q.gold_docs[0]!r} not in corpus")
        questions.append(q)
    out.mkdir(parents=True, exist_ok=True)
    questions_path, corpus_path = out / "questions.jsonl", out / "corpus.jsonl"
    _write_jsonl(questions_path, (q.to_dict() for q in questions))
    _write_jsonl(corpus_path, corpus)
    summary = ConversionSummary(
        questions_path=questions_path,
        corpus_path=corpus_path,
        answerable=sum(q.answerable for q in questions),
        unanswerable=sum(not q.answerable for q in questions),
        documents=len(corpus),
    )
    logger.info("wrote %s", summary)
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: ``python -m eval.convert_squad [--src DIR] --out DIR``."""
    parser = argparse.ArgumentParser(prog="python -m eval.convert_squad", description=__doc__)
    parser.add_argument("--src", type=Path, default=DEFAULT_SRC, help="SQuAD sample folder (default: %(default)s)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        s = convert_squad(args.src, args.out)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(
        f"{s.answerable + s.unanswerable} questions ({s.answerable} answerable, {s.unanswerable} unanswerable), "
        f"{s.documents} documents -> {s.questions_path.parent}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
