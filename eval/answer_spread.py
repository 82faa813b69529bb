"""Where a question set's answer strings occur: in the gold documents, and in others.

`eval.check_set` asks that *one* accepted string of each answerable question occur in
*one* of its gold docs. This is the stricter check for sets over look-alike documents
(quarterly filings whose tables repeat last year's figures beside this year's):

* every accepted string must occur in at least one gold doc;
* each question is reported with the non-gold docs that also contain one of its
  strings, which is why such a question must name its filing or period.

Strings are matched as `eval.check_set` matches them (case-insensitive, whitespace
collapsed, curly quotes as straight ones), but only as whole tokens: "7,442" is not
found inside "17,442" or "7,442,000".

    python -m eval.answer_spread eval/sets/aapl10q.jsonl ../shared/bench/sec10q_aapl/docs [--json]

Exits 1 when an accepted string is missing from every gold doc.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from pathlib import Path

from eval.check_set import _norm, load_corpus
from eval.datasets import read_jsonl

__all__ = ["answer_spread", "main", "occurs"]


def occurs(answer: str, normalised_text: str) -> bool:
    """Whether `answer` occurs in an already `_norm`-ed text as whole tokens."""
    needle = re.escape(_norm(answer))
    pattern = rf"(?<![0-9a-z])(?<![0-9][.,]){needle}(?![0-9a-z])(?![.,][0-9])"
    return re.search(pattern, normalised_text) is not None


def answer_spread(set_path: str | Path, corpus: str | Path) -> list[dict]:
    """One record per answerable question.

    Returns:
        Dicts with ``qid``, ``answers``, ``gold_docs``, ``missing`` (accepted strings
        found in no gold doc) and ``elsewhere`` (``{doc_id: [strings]}`` for non-gold
        docs holding any accepted string).
    """
    docs = {doc_id: _norm(text) for doc_id, text in load_corpus(corpus).items()}
    out = []
    for _, row in read_jsonl(set_path):
        if not row.get("answerable"):
            continue
        answers, gold = row.get("answers", []), row.get("gold_docs", [])
        missing = [a for a in answers if not any(occurs(a, docs.get(g, "")) for g in gold)]
        elsewhere = {}
        for doc_id, text in docs.items():
            if doc_id in gold:
                continue
            hits = [a for a in answers if occurs(a, text)]
            if hits:
                elsewhere[doc_id] = hits
        out.append({"qid": row["qid"], "answers": answers, "gold_docs": gold, "missing": missing,
                    "elsewhere": elsewhere})
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """CLI: ``python -m eval.answer_spread SET CORPUS [--json]``."""
    parser = argparse.ArgumentParser(prog="python -m eval.answer_spread", description=__doc__.split("\n")[0])
    parser.add_argument("set", type=Path)
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--json", action="store_true", help="print the records as JSON")
    args = parser.parse_args(argv)
    records = answer_spread(args.set, args.corpus)
    if args.json:
        print(json.dumps(records, indent=1, ensure_ascii=False))
    else:
        for r in records:
            flag = "MISSING " + repr(r["missing"]) if r["missing"] else "ok"
            other = "; ".join(f"{d}: {', '.join(h)}" for d, h in r["elsewhere"].items()) or "-"
            print(f"{r['qid']}\t{flag}\t{' | '.join(r['answers'])}\talso in: {other}")
    bad = [r["qid"] for r in records if r["missing"]]
    shared = sum(bool(r["elsewhere"]) for r in records)
    print(f"{len(records)} answerable; {len(bad)} with a string missing from its gold docs; "
          f"{shared} with a string also in a non-gold doc", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
