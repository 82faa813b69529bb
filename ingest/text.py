"""Text primitives shared by the chunker, BM25 and the answerer: sentences and terms."""

from __future__ import annotations

import re

# A sentence ends at . ! ? (with any closing quotes/brackets, which stay in it) when
# whitespace and an upper-case letter, digit or opening quote follow; a line break
# always ends one (bullet lists and headings are one "sentence" per line). Wikipedia-style
# reference marks after the stop ("2026.[1][2] Next") are left out of both sentences.
# Only the `refs` group and whitespace fall between two sentences; blanks before a line
# break are trimmed by `_push`, so matching starts at the break (linear on long blank runs).
#
# Korean: a stop after a Hangul syllable ends a sentence when whitespace and Hangul follow
# ("했다. 그는"), and also with no space at all ("했다.그는", common in scraped text); the
# endings 다. 요. 까? 죠. are all a syllable and a stop. Numbers ("3.5") and Latin
# abbreviations before Hangul ("U.S.대표단") are not cut, since a digit or a Latin letter
# precedes the stop.
_HANGUL = "\uac00-\ud7a3"
_BOUNDARY = re.compile(
    r"""(?<=[.!?…])(?P<close>["'”’)\]]*+)(?P<refs>(?:\[\d{1,3}\])*+)"""
    rf"""(?:[ \t]+(?=["'“‘(\[]?[A-Z0-9{_HANGUL}])|(?<=[{_HANGUL}][.!?…])(?=[{_HANGUL}]))"""
    r"""|\n\s*+"""
)
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st no inc corp co ltd jr sr vs etc e.g i.e u.s u.k gen rep sen gov fig vol al approx dept est".split()  # noqa: SIM905
)
_MONTH_ABBREVIATIONS = frozenset("jan feb mar apr jun jul aug sep sept oct nov dec".split())  # noqa: SIM905
_WORD_BEFORE = re.compile(r"(?<![A-Za-z.])([A-Za-z][A-Za-z.]*)\.\W*$")
_WORD_WINDOW = 64


# A line break inside a sentence: PDF text is wrapped at the page's width ("... a hearing has been scheduled for
# May 23,\n2023."). A break is such a wrap when the line before it is long, is prose (not a title-case heading)
# and stops mid-sentence (on a letter or a comma, not on a stop, colon or semicolon), and the next line goes on in
# lower case or with a figure, and is no list item; or it stops on a figure (as table rows do too) and the next
# line goes on with a lower-case word ("we saw a $200\nmillion increase"). Blank lines, short lines
# (headings, list items, table rows), lines that end a sentence and lines before a capital (a sentence-case
# heading, "Key: value" metadata) still end one.
WRAP_MIN_CHARS = 50
_WRAP_END = re.compile(r"[^\W\d_][’'”)]?|[,‐–—-]")
_CONTINUES = re.compile(r"[a-z\d(\[$€£¥₩%]")  # a sentence goes on in lower case or a figure ("May 23,\n2023.")
_FIGURE_END = re.compile(r"\d[%)]?$")
_TWO_FIGURES_END = re.compile(r"\d[\d,.]*\)?\s?%?\s+[$€£¥₩]?\s?\(?\d[\d,.]*[%)]?$")
_GOES_ON_IN_WORDS = re.compile(r"[a-z]{2,}\b")  # "million increase in Mobility revenue"
_LIST_START = re.compile(r"\s*(?:[-•*▪●◦]\s|\d{1,3}[.)]\s|\([a-zA-Z0-9]{1,4}\)\s)")
_LOWER_WORD = re.compile(r"(?<![\w’'-])[a-z]{4,}\b")
_FUNCTION_WORDS = frozenset(("with", "from", "into", "over", "upon", "under", "than", "that", "this", "their", "through",
                            "about", "between", "within", "without", "against", "during", "after", "before", "among",
                            "onto", "versus"))


def _wrapped(text: str, brk: int, nxt: int) -> bool:
    """Whether the line break at text[brk:nxt] (one break and its blanks) only wraps a sentence."""
    line = text[text.rfind("\n", 0, brk) + 1:brk].rstrip()
    if len(line) < WRAP_MIN_CHARS or nxt >= len(text) or _LIST_START.match(text, nxt):
        return False
    if _WRAP_END.fullmatch(line[-2:] if line[-1] in "’'”)" else line[-1]):
        if not _CONTINUES.match(text, nxt):
            return False
    elif not (_FIGURE_END.search(line) and not _TWO_FIGURES_END.search(line) and _GOES_ON_IN_WORDS.match(text, nxt)):
        # A line of prose may stop on a figure ("we saw a $200\nmillion increase"); a table row stops on two or
        # more ("Total net sales $ 94,836 $ 97,278").
        return False
    # A heading capitalises every word but its function words ("Management’s Discussion and Analysis of Financial
    # Condition"); a line of prose has some other lower-case word.
    return any(w not in _FUNCTION_WORDS for w in _LOWER_WORD.findall(line))


def sentence_spans(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Split `text[start:end]` into sentences.

    Returns (start, end) offsets into `text` with surrounding whitespace trimmed,
    so ``text[s:e]`` is the sentence. Empty sentences are dropped. A line break ends a sentence unless it
    only wraps one (`_wrapped`: PDF text broken at the page's width).
    """
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    cursor = start
    for m in _BOUNDARY.finditer(text, start, end):
        if m.group("close") is None and m.group(0).count("\n") == 1 and _wrapped(text, m.start(), m.end()):
            continue
        if m.group(0).strip(" \t") == "" and "\n" not in m.group(0):
            # Only the last word matters; a bounded window keeps runs of
            # abbreviations ("A. B. C. ...") linear instead of quadratic.
            before = text[max(cursor, m.start() - _WORD_WINDOW) : m.start()]
            w = _WORD_BEFORE.search(before)
            if w and (w.group(1).lower().rstrip(".") in _ABBREVIATIONS or len(w.group(1)) == 1):
                continue
            if w and w.group(1).lower() in _MONTH_ABBREVIATIONS and text[m.end():m.end() + 1].isdigit():
                continue  # "on Oct. 30": a date, not the end of a sentence
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
_DIGIT_GROUP = re.compile(r"(?<=\d)[,_](?=\d{3}(?:\b|[\uac00-\ud7a3]))")  # "260,000개" too
STOPWORDS = frozenset(
    """a an and are as at be been but by can could did do does for from had has have he her his how i if in into
    is it its of on or our she so than that the their them then there these they this those to was we were what
    when where which who whom whose why will with would you your about after also any before both did each few
    more most other over such through under until very s t just don should now""".split()  # noqa: SIM905
)


# An abbreviation written with full stops: "Ph.D.", "U.S.", "a.m." (letters, one or two at a time, each stopped).
_DOTTED = re.compile(r"(?<![\w.])(?:[^\W\d_]{1,2}\.){2,}")


def terms(text: str) -> list[str]:
    """Lower-case index terms: words and numbers, stop words out, plurals folded.

    Digit grouping is removed first, so "260,000" and "260000" are one term; so are the full stops of an
    abbreviation, so "Ph.D." is "PhD" and "U.S." is "US".
    """
    text = _DOTTED.sub(lambda m: m.group(0).replace(".", ""), text)
    text = _DIGIT_GROUP.sub("", text.lower())
    out = []
    for tok in _TERM.findall(text):
        if _HAS_HANGUL.search(tok):
            out += _mixed_terms(tok)
            continue
        if tok in STOPWORDS:
            continue
        out.append(stem(tok))
    return out


_HAS_HANGUL = re.compile(f"[{_HANGUL}]")
_SCRIPT_RUN = re.compile(f"[{_HANGUL}]+|[^{_HANGUL}]+")


# Bigrams of the commonest Korean endings and particles ("입니다", "합니까", "있는", "에서", "으로"):
# they say nothing about the subject, and in a mixed index they made any Korean chunk the BM25 match
# for any Korean question ("...몇 개입니까?" matched a Korean document's "...입니다").
KOREAN_STOP_BIGRAMS = frozenset((
    "입니", "니다", "니까", "습니", "합니", "됩니", "있습", "었습", "였습", "했습", "했다", "있다",
    "었다", "였다", "한다", "된다", "하는", "있는", "없는", "되는", "하고", "하여", "해서", "에서",
    "으로", "에게", "까지", "부터", "나요", "는가", "인가", "을까", "할까", "일까", "어요", "아요",
    "해요", "이다", "이며", "이고", "에는", "에도", "과는", "와는", "라고", "다고", "는데", "은데",
    "했나", "었나", "였나", "하나", "인지", "는지", "은지",
))


def _mixed_terms(tok: str) -> list[str]:
    """Terms of a word with Hangul in it: Hangul runs as character bigrams, the rest as English terms.

    Korean attaches particles and endings to the word ("엔비디아가", "APEC에서"), so whole words
    rarely meet; overlapping syllable bigrams do ("엔비디아가" and "엔비디아는" share 엔비 비디 디아).
    A one-syllable run is its own term (칩, 년); bigrams of common endings and particles
    (`KOREAN_STOP_BIGRAMS`) are left out. Latin letters and digits glued to Hangul are split
    off and treated as any English word ("apec에서" -> apec, 에서; "26만" -> 26, 만).
    """
    out: list[str] = []
    for run in _SCRIPT_RUN.findall(tok):
        if "\uac00" <= run[0] <= "\ud7a3":
            if len(run) == 1:
                out.append(run)
            else:
                out += [b for b in (run[i:i + 2] for i in range(len(run) - 1)) if b not in KOREAN_STOP_BIGRAMS]
        elif run not in STOPWORDS:
            out.append(stem(run))
    return out


# Bump when `terms` changes: BM25 indexes store the version they were built with. Version 3 added
# Hangul bigrams; for text without Hangul it gives exactly version 2's terms, so a version 2 index
# still loads (see `COMPATIBLE_TOKENIZERS`): its Hangul words just do not match version 3 queries.
# Version 4 joins dotted abbreviations ("U.S." -> "us"); other words are version 3's, so an older index
# loads too and only its dotted abbreviations miss.
TOKENIZER_VERSION = 4
COMPATIBLE_TOKENIZERS = frozenset({2, 3, 4})


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
