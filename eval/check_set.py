"""Validate a question set against its corpus: fields, kinds, gold docs and answer strings."""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
from collections.abc import Collection, Sequence
from pathlib import Path

from eval.datasets import read_jsonl

__all__ = ["SEED_KINDS", "document_text", "load_corpus", "main", "validate_set"]

logger = logging.getLogger(__name__)

SEED_KINDS = frozenset({"single", "paraphrase", "multi", "headline", "unanswerable"})

_BEGIN, _END = "----- BEGIN TEXT -----", "----- END TEXT -----"
# The seed article's web boilerplate, which the ingest drops: call-to-action lines
# and a trailing "Related Articles" list. Answers must never come from it.
_CTA = re.compile(r"\b(in your inbox|no spam|unsubscribe|sign[ -]?up|newsletter)\b", re.IGNORECASE)
_TRAILER = re.compile(r"^\W*related articles\W*$", re.IGNORECASE)
_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"'})


def document_text(raw: str) -> str:
    """The content of a corpus file, as the benchmark sees it.

    If the file has ``----- BEGIN TEXT -----`` / ``----- END TEXT -----`` markers,
    only the text between them counts (the header above is metadata). Otherwise the
    whole file counts, minus short call-to-action lines ("no spam", "in your inbox")
    and everything from a "Related Articles" heading on.

    Args:
        raw: The file's text.

    Returns:
        The document content.
    """
    if _BEGIN in raw:
        body = raw.split(_BEGIN, 1)[1]
        return body.split(_END, 1)[0].strip()
    kept: list[str] = []
    for line in raw.splitlines():
        if _TRAILER.match(line):
            break
        if len(line) <= 160 and _CTA.search(line):
            continue
        kept.append(line)
    return "\n".join(kept).strip()


def load_corpus(corpus: str | Path) -> dict[str, str]:
    """Map doc id to content for a folder of ``.txt``/``.pdf`` files or a JSONL corpus.

    Args:
        corpus: A folder or a ``.jsonl`` file with ``doc_id`` and ``text``. In a
            folder, each ``*.txt`` directly in it counts (doc id = file name,
            content via `document_text`), and so does each PDF in it or below it
            (doc id = path relative to the folder, as ingest names it; content =
            the text the ingest loader extracts, so answers are checked against
            exactly what the index holds). A PDF that cannot be loaded is left
            out with a warning.

    Returns:
        ``{doc_id: text}``.
    """
    corpus = Path(corpus)
    if corpus.is_file():
        return {str(row["doc_id"]): str(row.get("text", "")) for _, row in read_jsonl(corpus)}
    docs = {p.name: document_text(p.read_text(encoding="utf-8")) for p in sorted(corpus.glob("*.txt"))}
    pdfs = sorted(p for p in corpus.rglob("*") if p.suffix.lower() == ".pdf" and p.is_file())
    if pdfs:
        from ingest.errors import SkipFile
        from ingest.loaders import load_file

        for p in pdfs:
            doc_id = p.relative_to(corpus).as_posix()
            try:
                docs[doc_id] = "\n\n".join(d.text for d in load_file(p, doc_id))
            except SkipFile as exc:
                logger.warning("%s: left out (%s)", doc_id, exc)
    return docs


def _norm(text: str) -> str:
    return " ".join(text.translate(_QUOTES).split()).casefold()


def _check_row(row: dict, where: str, kinds: Collection[str] | None, docs: dict[str, str]) -> list[str]:
    problems: list[str] = []
    qid, question, answers = row.get("qid"), row.get("question"), row.get("answers")
    answerable, gold, kind = row.get("answerable"), row.get("gold_docs"), row.get("kind")
    if not isinstance(qid, str) or not qid.strip():
        problems.append(f"{where}: 'qid' must be a non-empty string")
    if not isinstance(question, str) or not question.strip():
        problems.append(f"{where}: 'question' must be a non-empty string")
    if not isinstance(answers, list) or not all(isinstance(a, str) and a.strip() for a in answers):
        problems.append(f"{where}: 'answers' must be a list of non-empty strings")
        answers = None
    if not isinstance(answerable, bool):
        problems.append(f"{where}: 'answerable' must be true or false")
        answerable = None
    if not isinstance(gold, list) or not all(isinstance(g, str) for g in gold):
        problems.append(f"{where}: 'gold_docs' must be a list of strings")
        gold = None
    if not isinstance(kind, str) or (kinds is not None and kind not in kinds):
        problems.append(f"{where}: 'kind' must be one of {sorted(kinds or [])}, got {kind!r}")
        kind = None
    if answers is None or answerable is None or gold is None:
        return problems

    for doc_id in gold:
        if doc_id not in docs:
            problems.append(f"{where}: gold doc {doc_id!r} is not in the corpus")
    if len(set(gold)) != len(gold):
        problems.append(f"{where}: repeated gold doc")
    if not answerable:
        if answers or gold:
            problems.append(f"{where}: an unanswerable question must have empty 'answers' and 'gold_docs'")
        if kinds is not None and "unanswerable" in kinds and kind not in (None, "unanswerable"):
            problems.append(f"{where}: unanswerable question has kind {kind!r}")
        return problems
    if kind == "unanswerable":
        problems.append(f"{where}: kind 'unanswerable' but answerable is true")
    if kind == "multi" and len(gold) < 2:
        problems.append(f"{where}: a 'multi' question needs at least two gold docs")
    if not answers:
        problems.append(f"{where}: an answerable question needs at least one answer string")
    if not gold:
        problems.append(f"{where}: an answerable question needs at least one gold doc")
    texts = [_norm(docs[g]) for g in gold if g in docs]
    if answers and texts and not any(_norm(a) in t for a in answers for t in texts):
        problems.append(f"{where}: no answer string {answers!r} occurs in its gold docs {gold!r}")
    return problems


def validate_set(path: str | Path, corpus_dir: str | Path, *, kinds: Collection[str] | None = SEED_KINDS) -> list[str]:
    """Check a question set against its corpus.

    Checks that every line is a JSON object with the right fields and types
    (``qid``, ``question``, ``answers``, ``answerable``, ``gold_docs``, ``kind``),
    qids are unique, kinds are allowed, unanswerable questions have no answers and
    no gold docs, answerable ones have both, ``multi`` ones have two or more gold
    docs, every gold doc exists, and at least one answer string of each answerable
    question occurs in one of its gold docs (case-insensitive, whitespace
    collapsed, curly quotes read as straight ones).

    Args:
        path: The question set (JSONL).
        corpus_dir: A folder of ``.txt`` documents or a JSONL corpus (see `load_corpus`).
        kinds: Allowed ``kind`` values; ``None`` allows any string. Kind
            ``"unanswerable"`` must go with ``answerable: false``, and when it is an
            allowed kind, every unanswerable question must use it.

    Returns:
        Problems found, each naming the line; empty when the set is valid.
    """
    path = Path(path)
    docs = load_corpus(corpus_dir)
    if not docs:
        return [f"{corpus_dir}: no documents found"]
    problems: list[str] = []
    seen: dict[str, int] = {}
    try:
        rows = list(read_jsonl(path))
    except (OSError, ValueError) as exc:
        return [str(exc)]
    if not rows:
        problems.append(f"{path}: no questions")
    for lineno, row in rows:
        where = f"{path}:{lineno}"
        qid = row.get("qid")
        if isinstance(qid, str):
            if qid in seen:
                problems.append(f"{where}: qid {qid!r} already used on line {seen[qid]}")
            else:
                seen[qid] = lineno
        problems.extend(_check_row(row, where, kinds, docs))
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: ``python -m eval.check_set SET CORPUS [--any-kind]``; exits 1 on problems."""
    parser = argparse.ArgumentParser(prog="python -m eval.check_set", description=__doc__)
    parser.add_argument("set", type=Path, help="question set (.jsonl)")
    parser.add_argument("corpus", type=Path, help="folder of .txt documents or a .jsonl corpus")
    parser.add_argument("--any-kind", action="store_true", help="allow any 'kind' value (e.g. squad2-*)")
    args = parser.parse_args(argv)
    problems = validate_set(args.set, args.corpus, kinds=None if args.any_kind else SEED_KINDS)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{len(problems)} problem(s)", file=sys.stderr)
        return 1
    counts: dict[str, int] = {}
    for _, row in read_jsonl(args.set):
        counts[row["kind"]] = counts.get(row["kind"], 0) + 1
    print(f"ok: {sum(counts.values())} questions {json.dumps(counts, sort_keys=True)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
