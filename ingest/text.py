"""Text primitives shared by the chunker, BM25 and the answerer: sentences and terms."""

from __future__ import annotations

import re

# A sentence ends at . ! ? (with any closing quotes/brackets, which stay in it) when
# whitespace and an upper-case letter, digit or opening quote follow; a line break
# always ends one (bullet lists and headings are one "sentence" per line). Wikipedia-style
# reference marks after the stop ("2026.[1][2] Next") are left out of both sentences.
# Only the `refs` group and whitespace fall between two sentences; blanks before a line
# break are trimmed by `_push`, so matching starts at the break (linear on long blank runs).
_BOUNDARY = re.compile(
    r"""(?<=[.!?…])(?P<close>["'”’)\]]*+)(?P<refs>(?:\[\d{1,3}\])*+)[ \t]+(?=["'“‘(\[]?[A-Z0-9])"""
    r"""|\n\s*+"""
)
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st no inc corp co ltd jr sr vs etc e.g i.e u.s u.k gen rep sen gov fig vol al approx dept est".split()  # noqa: SIM905
)
_WORD_BEFORE = re.compile(r"(?<![A-Za-z.])([A-Za-z][A-Za-z.]*)\.\W*$")
_WORD_WINDOW = 64


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Split `text[start:end]` into sentences.

    Returns (start, end) offsets into `text` with surrounding whitespace trimmed,
    so ``text[s:e]`` is the sentence. Empty sentences are dropped.
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cursor = start
    for m in _BOUNDARY.finditer(text, start, end):
        if m.group(0).strip(" \t") == "" and "\n" not in m.group(0):
            # Only the last word matters; a bounded window keeps runs of
            # abbreviations ("A. B. C. ...") linear instead of quadratic.
            before = text[max(cursor, m.start() - _WORD_WINDOW) : m.start()]
            w = _WORD_BEFORE.search(before)
            if w and (w.group(1).lower().rstrip(".") in _ABBREVIATIONS or len(w.group(1)) == 1):
                continue
        _push(text, cursor, m.start("refs") if m.group("refs") is not None else m.start(), spans)
        cursor = m.end()
    _push(text, cursor, end, spans)
    return spans


def _push(text: str, s: int, e: int, spans: list[tuple[int, int]]) -> None:
    while s < e and text[s].isspace():
        s += 1
    while e > s and text[e - 1].isspace():
        e -= 1
    if e > s:
        spans.append((s, e))


_TERM = re.compile(r"[^\W_]+", re.UNICODE)
_DIGIT_GROUP = re.compile(r"(?<=\d)[,_](?=\d{3}\b)")
STOPWORDS = frozenset(
    """a an and are as at be been but by can could did do does for from had has have he her his how i if in into
    is it its of on or our she so than that the their them then there these they this those to was we were what
    when where which who whom whose why will with would you your about after also any before both did each few
    more most other over such through under until very s t just don should now""".split()  # noqa: SIM905
)


def terms(text: str) -> list[str]:
    """Lower-case index terms: words and numbers, stop words out, plurals folded.

    Digit grouping is removed first, so "260,000" and "260000" are one term.
    """
    text = _DIGIT_GROUP.sub("", text.lower())
    out = []
    for tok in _TERM.findall(text):
        if tok in STOPWORDS:
            continue
        out.append(stem(tok))
    return out


TOKENIZER_VERSION = 2  # bump when `terms` changes: BM25 indexes store the version they were built with


def stem(tok: str) -> str:
    """A light, conservative suffix folding so inflections meet: plurals, -ed, -ing, final -e.

    chips -> chip, factories -> factory, obtained/obtain -> obtain, received/receive -> receiv,
    announcing -> announc. Numbers and short words are left alone.
    """
    if len(tok) <= 3 or tok[0].isdigit():
        return tok
    if len(tok) > 4 and tok.endswith("ies"):
        return tok[:-3] + "y"
    if tok.endswith("sses"):
        tok = tok[:-2]
    elif tok.endswith("s") and not tok.endswith(("ss", "us", "is")):
        tok = tok[:-1]
    if len(tok) > 5 and tok.endswith("ing"):
        tok = tok[:-3]
    elif len(tok) > 4 and tok.endswith("ed") and not tok.endswith("eed"):
        tok = tok[:-2]
    if len(tok) > 4 and tok.endswith("e"):
        tok = tok[:-1]
    return tok
