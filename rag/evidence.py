"""Evidence selection: features of candidate sentences and the learned model that scores them.

Every sentence (or table row) of the retrieved passages is a candidate. `featurize`
describes each one by numbers a reader would look at: does it mean the same as the
question (dense cosine), does it hold the question's rarer words (idf coverage) and
in order (bigrams), is the word that matters most missing, does it hold a span of the
type the question asks for that the question does not already hold, is it a heading,
a table row, boilerplate repeated across documents, inside the document the question
names, and how its passage ranked. `EvidenceModel` is a logistic regression over
those features whose weights ship as JSON (`rag/models/evidence.json`), trained by
`python -m eval.train_evidence` on the labelled sets; its probability is calibrated
on held-out corpora, and abstention is that probability under a threshold.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ingest.text import STOPWORDS, terms

from .answer_types import LABELS, NUMERIC, PRIMARY, Span, is_generic_acronym
from .glossary import glossary_head
from .types import Hit

MODEL_PATH = Path(__file__).resolve().parent / "models" / "evidence.json"

FEATURES: tuple[str, ...] = (
    "dense",  # cosine(question, sentence), bundled embedder
    "dense_gap",  # dense minus the best candidate's
    "lexical",  # idf-weighted share of the question's terms in the sentence (title words count less)
    "lexical_gap",  # lexical minus the best candidate's
    "missing_idf",  # largest idf (0..1) of a question word absent from the sentence and its title
    "missing_share",  # share of the question's words absent from the sentence and its title
    "missing_count",  # how many of them (capped at 5, scaled)
    "missing_in_passages",  # one of them is in none of the retrieved candidates
    "missing_in_index",  # one of them is nowhere in the index: the documents may not speak of it at all
    "bigrams",  # share of the question's adjacent word pairs found adjacent in the sentence
    "passage_rank",  # 1 / fused rank of the passage
    "bm25_rank",  # 1 / BM25 rank of the passage (0 when BM25 did not find it)
    "dense_rank",  # 1 / dense rank of the passage (0 likewise)
    "typed_question",  # the question asks for a type of span (person, date, count, ...)
    "type_present",  # ... and the sentence has a span of that type
    "type_novel",  # ... that is not already in the question
    "type_primary",  # ... and of the class's first label (a PERSON for "who", a MONEY for "how much money")
    "type_near",  # ... within a few words of a question word ("about 260,000 advanced chips" for "how many chips")
    "untyped_novel",  # untyped question, and the sentence names an entity or number the question does not
    "length",  # log of the sentence length
    "new_terms",  # terms beyond the question's (capped, scaled)
    "heading",  # looks like a heading: a short line without a full stop
    "echo",  # says nothing beyond the question's words
    "repeated",  # the same sentence is in two or more documents (certifications, legal notices)
    "table_row",  # a label followed by two or more numbers, alone on its line
    "row_for_number",  # a table row, and the question asks for a number, amount or percentage
    "in_scope",  # the question names documents and this is one of them
    "position",  # where in its document (0 = start)
    "list_item",  # a bullet or numbered line
    "is_question",  # ends with a question mark
    "negation_mismatch",  # one of question and sentence is negated, the other not
    "cross_lingual",  # the question is in another language than English: dense is the multilingual model's
    "head_near",  # "what/which N ...?": the sentence names N with a span the question lacks beside it
    "prep_object",  # "... built on?": the sentence has a question word, that preposition, then a new name
)

_FRAME = frozenset(terms("many much"))  # words of the question's frame ("how many"), not of its content
_NEGATION = re.compile(r"\b(?:not|no|never|none|neither|nor|without|n't|cannot|failed to)\b", re.IGNORECASE)
_NUMBER = re.compile(r"\(?[$€£¥₩]?\s?\d[\d,]*(?:\.\d+)?\)?(?:\s?%)?")
# ... and the footnote marks a filing sets after a row's figures ("$ (200) $ 30 **": "percentage not meaningful")
# The label is set off from the first figure: "Key figures (Q3 2025)" names a period, not two figures.
_ROW = re.compile(r"^(?P<label>[A-Za-z][^\d$€£¥₩]{1,90}?)(?:\s+|(?<=[^A-Za-z\s]))(?:[$€£¥₩]?\s?\(?\d[\d,]*(?:\.\d+)?\)?(?:\s?%)?\s*|—\s*|-\s+){2,}"
                  r"(?:\*{1,3}\s*|\(\d\)\s*)*$")
_MONTH_LABEL = re.compile(r"^\s*(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s*$", re.IGNORECASE)
_HEADER_CUE = re.compile(r"\b(?:months?|weeks?|quarters?|years?)\s+ended\b|\b(?:19|20)\d\d\b|\bas of\b", re.IGNORECASE)


@dataclass(frozen=True)
class Candidate:
    """A sentence or table row that might answer the question.

    `start`/`end` are offsets in the document's text: ``document_text[start:end] == text``.
    `line` is true when the candidate is a whole line of its document.
    """

    doc_id: str
    start: int
    end: int
    text: str
    hit: Hit
    hit_rank: int
    terms: frozenset[str]
    line: bool = False
    listed: bool = False  # a bullet or list number was trimmed off its start
    back_matter: bool = False  # in the document's references or links (`back_matter_start`): never quoted
    spans: tuple[Span, ...] = field(default=(), compare=False)
    vector: Any = field(default=None, compare=False, repr=False)  # its stored in-context vector, if any
    ml_vector: Any = field(default=None, compare=False, repr=False)  # its stored multilingual (e5) vector, if any


@dataclass(frozen=True)
class QuestionContext:
    """What `featurize` needs to know of the question and the index."""

    question: str
    query: str
    kind: str | None  # answer class (answer_types.question_type)
    idf: Callable[[str], float]  # idf of a term in the index
    n_chunks: int
    scope: frozenset[str] = frozenset()  # doc ids the question names (empty: no scope)
    doc_length: Callable[[str], int] = lambda doc_id: 0
    df: Callable[[str], int] = lambda term: 1  # chunks of the index holding the term
    cross_lingual: bool = False  # question not in English; `dense` comes from the multilingual model
    expanded: str = ""  # the long forms of the question's abbreviations ("R&D" -> "research and development")
    counted: str | None = None  # what a how-many question counts, where `how_many(question)` cannot tell (Korean)
    # the noun a what/which question asks about (`head_noun` of the question as asked; "" for none, None: read
    # `question`)
    head: str | None = None
    # what qualifies a table row beyond its own words (its column headers, group label, caption and document name:
    # "Three Months Ended March 31, 2022" over "Revenue $ 2,903 $ 6,854"): words of the question held there are
    # not missing from the row
    row_context: Callable[[Candidate], frozenset[str]] = lambda cand: frozenset()


def is_table_row(text: str) -> bool:
    """A label followed by two or more numbers (or dashes), e.g. 'Total net sales $ 94,836 $ 97,278'.

    A date ("October 29, 2025") is not a row, though it is a word and two numbers.
    """
    m = _ROW.match(text.strip())
    return bool(m) and len(_NUMBER.findall(text)) >= 2 and not _MONTH_LABEL.match(m.group("label"))


def row_label_end(text: str) -> int:
    """Where a table row's label ends (0 when `text` is not a row)."""
    m = _ROW.match(text)
    return m.end("label") if m else 0


# A line of a fact box: words, then one figure with a decimal point, a percent sign, a currency or a scale
# ("Operating margin 47%", "Net profit 12.60 trillion won"); a bare whole number ("Page 12", "Top 10") is not.
_FACT_LINE = re.compile(
    r"^[A-Za-z][A-Za-z ,'’&/()-]{1,60}?\s+(?:[$€£¥₩]\s?\d[\d,]*(?:\.\d+)?|\d[\d,]*\.\d+|\d[\d,]*(?=\s?%|\s+(?:"
    r"million|billion|trillion|thousand|won|dollars|yen|euros|yuan|pounds)\b))"
    r"(?:\s?%|\s+(?:million|billion|trillion|thousand))?(?:\s+(?:won|dollars|yen|euros|yuan|pounds))?$",
    re.IGNORECASE)


def is_heading(text: str, line: bool) -> bool:
    """A short line with no sentence-ending punctuation (a title, a section name).

    A "label: value" line ("Trip length: four days") is a fact, not a heading; so is a fact box's
    "label figure" line ("Operating margin 47%").
    """
    t = text.strip()
    if not line or not t or t[-1] in ".!?:;\"”'’)" or is_table_row(t) or re.search(r"\w: \S", t):
        return False
    if _FACT_LINE.match(t):
        return False
    return len(t.split()) <= 12


# The heading of a document's back matter: the works it cites and the links it lists, not what it says. A web
# page's list of other stories counts ("// Related Articles", "You may also like").
_BACK_MATTER = re.compile(
    r"^[ \t]*(?:[/#*>|•—–-]+[ \t]*)?(?:References|Footnotes|Bibliography|Citations|Works cited"
    r"|External links|Further reading|See also"
    r"|Related(?: articles| stories| posts| coverage| content| news| reading| links)?"
    r"|You (?:may|might) also like|Recommended(?: for you| stories| articles| reading)?|Most (?:read|popular|viewed)"
    r"|Trending(?: now| stories)?)[ \t]*:?[ \t]*$", re.IGNORECASE | re.MULTILINE)
# A line that links to another story: "Related: Tesla stock hits record high", "Read more: ...".
_LINK_LINE = re.compile(r"[ \t]*(?:[/#*>|•—–-]+[ \t]*)?(?:Related(?: articles?| stories| coverage)?"
                        r"|Read (?:more|also|next)|Also read|See also|Recommended|Trending|Watch|Listen"
                        r"|More from [^:\n]{1,40})[ \t]*:",
                        re.IGNORECASE)


def back_matter_start(doc_text: str) -> int:
    """Where the document's back matter starts (its "References", "External links" or "Related Articles" heading
    in its second half), else its length. A reference ("3. Nick Flaherty (March 18, 2025). "Nvidia accelerates
    Feynman chip design, manufacture on Blackwell GPU". eenews.") is the title of another work: quoting it as an
    answer would cite a headline the document does not vouch for."""
    for m in _BACK_MATTER.finditer(doc_text, len(doc_text) // 2):
        return m.start()
    return len(doc_text)


def links_elsewhere(doc_text: str, at: int) -> bool:
    """Whether offset `at` lies on a line that links to another story ("Related: Tesla stock hits record high |
    Advertisement"): the line's words are that story's headline, not this document's."""
    return bool(_LINK_LINE.match(doc_text, doc_text.rfind("\n", 0, at) + 1))


def lines_above(doc_text: str, at: int, max_up: int) -> Iterator[tuple[int, int]]:
    """(start, end) in `doc_text` of the lines above the one holding offset `at`, nearest first, `max_up` at most."""
    end = doc_text.rfind("\n", 0, at)
    for _ in range(max_up):
        if end <= 0:
            return
        start = doc_text.rfind("\n", 0, end) + 1
        yield start, end
        end = start - 1


def header_lines(doc_text: str, row_start: int, max_up: int = 25) -> list[tuple[int, int]]:
    """The nearest column-header lines above a table row ('Three Months Ended', 'April 1, 2023').

    Returns (start, end) offsets in `doc_text` of at most two lines, top first.
    """
    found: list[tuple[int, int]] = []
    for start, end in lines_above(doc_text, row_start, max_up):
        line = doc_text[start:end].strip()
        if line and _HEADER_CUE.search(line) and not is_table_row(line) and len(line) <= 160:
            s = start + (len(doc_text[start:end]) - len(doc_text[start:end].lstrip()))
            found.append((s, s + len(line)))
            if len(found) == 2:
                break
        elif found:
            break
    return sorted(found)


_GROUP_LABEL = re.compile(r"^[A-Z][^()\d]{0,40}:$")  # "Japan:", "Net sales by category:"


def row_context(doc_text: str, row_start: int, max_up: int = 30) -> tuple[str, str]:
    """What qualifies a table row beyond its label: (the nearest group label above it, "Japan:" over "Operating
    income $ 3,394"; the table's caption, the line ending in ':' that introduces it, with the line before, which
    a PDF may have wrapped). Either is "" when not found within `max_up` lines."""
    group = caption = ""
    for start, end in lines_above(doc_text, row_start, max_up):
        line = doc_text[start:end].strip()
        if line.endswith(":"):
            if not group and not caption and _GROUP_LABEL.match(line):
                group = line
            elif not _GROUP_LABEL.match(line):
                before = doc_text.rfind("\n", 0, max(0, start - 1)) + 1
                caption = doc_text[before:end].strip()
                break
    return group, caption


_WORD = re.compile(r"[^\W_]+")
NEAR_CHARS = 30  # "within a few words": about five words of English


_COUNTED = re.compile(r"\bhow\s+many\s+((?:[\w'’-]+\s*){1,3})", re.IGNORECASE)
_COUNTED_BEFORE = re.compile(r"\b([A-Za-z][\w'’-]+)\s+how\s+many\W*$", re.IGNORECASE)


def counted_phrase(words: str) -> str:
    """What "how many" counts: the words after it up to the first function word
    ("gigabytes of HBM4 memory does" -> "gigabytes"; "advanced chips were" -> "advanced chips")."""
    out = []
    for w in words.split():
        if w.lower().strip("'’") in STOPWORDS:
            break
        out.append(w)
    return " ".join(out)


# "By how much did net sales fall?", "How much did revenue grow?", "What was the percentage change in ...?"
_CHANGE_Q = re.compile(
    r"\bby\s+how\s+much\b|\bhow\s+much\s+(?:did|does|do|has|have|had|will|was|were|is|are)\b.*?\b(?:increas|decreas|"
    r"rise|rose|risen|fall|fell|fallen|grow|grew|grown|declin|drop|chang|jump|climb|shrink|shrank)\w*|"
    r"\b(?:percentage|percent)\s+(?:change|increase|decrease|growth|decline|drop)\b|"
    r"\b(?:change|increase|decrease|growth|decline|drop)\s+in\b.*\b(?:compared|from|year\s+over\s+year|yoy)\b",
    re.IGNORECASE)
# A sentence's change verb and the figure it comes to: "decreased 3% or $2.4 billion", "grew by 12 percent".
CHANGE_VERB = re.compile(r"\b(?:(?:increas|decreas|rose|rise|risen|fell|fallen|grew|grown|declin|dropp?|jump|climb|"
                         r"shr[ai]nk|gain|los[st])\w*|(?:down|up)(?!\s+to\b))"
                         r"(?:\s+(?:by|of|about|approximately|roughly|nearly|some))*\s+", re.IGNORECASE)


def asks_change(question: str) -> bool:
    """Whether `question` asks by how much something changed, not how large it is."""
    return bool(_CHANGE_Q.search(question))


def counted_thing(ctx: QuestionContext) -> str:
    """What the question counts: `ctx.counted` where the caller knows it, else `how_many(ctx.question)`."""
    return ctx.counted if ctx.counted is not None else how_many(ctx.question)


def how_many(question: str) -> str:
    """What a "how many" question counts (`counted_phrase`), or "" when it asks no "how many"."""
    m = _COUNTED.search(question)
    if m:
        return counted_phrase(m.group(1))
    # keywords that end on "how many": the word before it is what is counted ("nvidia korea chips how many")
    k = _COUNTED_BEFORE.search(question)
    return k.group(1).lower() if k and k.group(1).lower() not in STOPWORDS else ""


def _near(text: str, spans: Sequence[Span], q_terms: set[str], counted: bool) -> bool:
    """Whether a span sits within NEAR_CHARS of a word of the question (it is about what was asked).

    For "how many X", the word must be X and come after the number ("about 260,000 advanced chips"),
    not any question word nearby ("4 takeaways from Korea's meeting").
    """
    if not spans or not q_terms:
        return False
    anchors = [m.start() for m in _WORD.finditer(text) if (t := terms(m.group(0))) and t[0] in q_terms]
    if counted:
        return any(0 <= a - sp.end <= NEAR_CHARS for sp in spans for a in anchors)
    return any(min(abs(a - sp.end), abs(sp.start - a)) <= NEAR_CHARS for sp in spans for a in anchors)


# "What FP4 performance ...?", "Which AI factory ...?": a code before the noun is a modifier, not the noun
_HEAD = re.compile(r"\b(?:what|which)\s+(?:(?:is|was|were|are|kind of|type of|sort of)\s+)?(?:the\s+)?"
                   r"(?:(?-i:[A-Z0-9][A-Z0-9-]*[A-Z0-9])\s+)?([a-z]{3,})\b", re.IGNORECASE)
# the lower-case words after a possessive, up to a preposition or the end: "Rubin's memory type" -> "memory type"
_OWNED_WORDS = re.compile(r"((?:\s+(?!(?:in|of|for|on|at|to|from|with|by|under|after|before|since)\b)[a-z]{2,})+)"
                          r"(?=\s*(?:[?.!]|$|\s+(?:in|of|for|on|at|to|from|with|by|under|after|before|since)\b))")
_KIND_WORDS = frozenset({"type", "kind", "sort", "name", "brand", "model"})
# "루빈의 성능은?" ("Rubin's performance?"): the noun the question ends on, owned by the name before 의
_KO_OWNED = re.compile(r"의\s+(?:[A-Za-z0-9-]+\s+)?([\uac00-\ud7a3]+?)(?:은|는|이|가)?\s*(?:무엇\w*|뭐\w*|얼마\w*|어떻게\s*\w+)?"
                       r"\s*(?:[?？]|$)")
_KO_HEAD = re.compile(r"(?:어떤|어느|무슨)\s*([\uac00-\ud7a3]+)")
_QUESTION_WORD = re.compile(r"\b(?:what|which|who|whom|whose|when|where|why|how)\b|[\uac00-\ud7a3]", re.IGNORECASE)
# the last word of a keyword search, before any period it names ("iphone revenue Q1 FY23" -> "revenue")
_KEYWORD_HEAD = re.compile(r"(?<![\w-])([A-Za-z]{3,})(?:\s+(?:in|for|of|the|Q[1-4]|FY\s?'?\d{2,4}|\d{4}|latest|last|"
                           r"fiscal))*\W*$", re.IGNORECASE)
_NOT_HEADS = frozenset(["is", "was", "were", "are", "does", "did", "do", "will", "would", "can", "could", "has", "have",
                        "had", "the"])
_TRAILING_PREP = re.compile(r"\b(on|in|of|by|with|from|for|to|at|into|about|after|before|under|behind|between|like)"
                            r"\s*[?？]*\s*$", re.IGNORECASE)
_NAME = re.compile(r"\b[A-Z0-9][\w’'.-]*")
PREP_BEFORE = 40  # a question word ends at most this many characters before the preposition
PREP_AFTER = 15  # and the new name starts at most this many after it
# Irregular past forms, so "What is it built on?" finds "to build ... based on" (stems do not fold these).
IRREGULAR_PAST = {
    "built": "build", "made": "make", "led": "lead", "held": "hold", "won": "win", "sold": "sell",
    "bought": "buy", "paid": "pay", "gave": "give", "given": "give", "took": "take", "taken": "take",
    "began": "begin", "begun": "begin", "wrote": "write", "written": "write", "chose": "choose",
    "chosen": "choose", "spent": "spend", "sent": "send", "met": "meet", "brought": "bring",
    "told": "tell", "became": "become", "grew": "grow", "grown": "grow", "knew": "know", "known": "know",
    "shown": "show", "drew": "draw", "drawn": "draw", "rose": "rise", "risen": "rise", "fell": "fall",
    "fallen": "fall", "struck": "strike", "sought": "seek", "taught": "teach", "caught": "catch",
    "drove": "drive", "driven": "drive", "rode": "ride", "ridden": "ride", "spoke": "speak", "spoken": "speak",
}
# The same as index terms, both sides stemmed as `terms` stems them ("became" -> "becam", "become" -> "becom").
_PAST_TERMS = {terms(past)[0]: terms(verb)[0] for past, verb in IRREGULAR_PAST.items()}


def lemma_terms(text: str) -> list[str]:
    """`terms`, with irregular past forms folded to their verb ("built" -> "build")."""
    return [_PAST_TERMS.get(t, t) for t in terms(text)]


# A model or version code: letters then digits ("FP8", "HBM4", "GPT-4", "H100"); one letter only before three or
# more digits, so "Q2" (a quarter, which scoping handles) is no code.
_CODE = re.compile(r"(?<![\w-])([A-Za-z]{2,}|[A-Za-z](?=-?\d{3}))-?(\d{1,4})(?![\w])")


def codes(text: str) -> set[tuple[str, str]]:
    """The (letters, digits) of every model or version code in `text`, letters in upper case; a lower-case
    word joined to a figure ("pre-1875", "mid-2020") is English, not a code."""
    return {(m.group(1).upper(), m.group(2)) for m in _CODE.finditer(text)
            if not (m.group(1).islower() and "-" in m.group(0))}


# A product's variants by name: "iPhone 15 Pro" / "iPhone 15 Plus", "Rubin" / "Rubin Ultra".
_VARIANT_WORDS = r"Pro|Plus|Max|Ultra|Mini|Lite|Air|SE|Super|Ti|XL"
_VARIANT = re.compile(rf"\b((?:[a-z]+)?[A-Z][\w-]*(?:\s+\d+[\w-]*)?)\s+({_VARIANT_WORDS})\b")


def variant_mentions(text: str) -> list[tuple[str, str, int, int]]:
    """(base, variant in lower case, start, end) of every product `text` names with a variant word: ("Rubin",
    "ultra", ...) for "Rubin Ultra", ("iPhone 15", "pro", ...) for "iPhone 15 Pro"."""
    return [(m.group(1), m.group(2).lower(), m.start(), m.end()) for m in _VARIANT.finditer(text)]


def asked_variant(question: str, base: str) -> str | None:
    """The variant the question names `base` with ("ultra" for "Rubin Ultra"), "" when it names it plain, None
    when it does not name it."""
    found = None
    for m in re.finditer(rf"\b{re.escape(base.lower())}\b", question.lower()):
        after = re.match(rf"\s+({_VARIANT_WORDS})\b", question[m.end():], re.IGNORECASE)
        if after:
            return after.group(1).lower()
        found = ""
    return found


def names_another_variant(question: str, text: str) -> bool:
    """Whether `text` speaks of a product only as another variant than the question's: "The iPhone 15 Pro starts
    at $999" for "What is the price of the iPhone 15 Plus?" (or of the plain "iPhone 15"), "Rubin Ultra … in
    2027" for "When will Rubin ship?". A sentence that also names the asked variant, or the product plain, is
    about it too."""
    said = [(m.group(1), m.group(2), m.start(), m.end()) for m in _VARIANT.finditer(text)]
    if not said:
        return False
    q_low = question.lower()
    for base in {b for b, _, _, _ in said}:
        at = [m for m in re.finditer(rf"\b{re.escape(base.lower())}\b", q_low)]
        if not at:
            continue
        asked = {(re.match(rf"\s+({_VARIANT_WORDS})\b", question[m.end():], re.IGNORECASE) or [None, ""])[1].lower()
                 for m in at}
        variants = {v.lower() for b, v, _, _ in said if b == base}
        plain = any(not any(s <= m.start() < e for _, _, s, e in said)
                    for m in re.finditer(rf"\b{re.escape(base)}\b", text))
        if plain or asked & variants:
            continue
        return True
    return False


# A document's field line ("Launching: 2026", "Predecessor: Blackwell"): a short label, a colon, a short value.
_FIELD_LINE = re.compile(r"\s*[A-Z][\w ()/&'’.-]{0,40}:[ \t]*\S[^\n]{0,80}")


def describes_plain_subject(question: str, text: str, title: str) -> bool:
    """Whether `text` is a field line of a document about a product plain ("Launching: 2026" in "Rubin
    (microarchitecture)") while the question asks about a variant of it ("When does Rubin Ultra launch?"): a
    document's fields describe what it is about, and a line that never names the product says nothing of the
    variant."""
    if not _FIELD_LINE.fullmatch(text):
        return False
    for base, _, _, _ in variant_mentions(question):
        if (re.search(rf"\b{re.escape(base)}\b", title, re.IGNORECASE) and not asked_variant(title, base)
                and not re.search(rf"\b{re.escape(base)}\b", text, re.IGNORECASE)):
            return True
    return False


_QUARTER = re.compile(r"\b(?:Q([1-4])|([1-4])Q|(first|second|third|fourth|1st|2nd|3rd|4th)\s+(?:fiscal\s+)?quarter)\b",
                      re.IGNORECASE)
_ORDINAL = {"first": "1", "second": "2", "third": "3", "fourth": "4", "1st": "1", "2nd": "2", "3rd": "3", "4th": "4"}


def quarters(text: str) -> set[str]:
    """The quarters `text` names, as "1".."4": "Q2", "2Q" and "the second quarter" are one."""
    return {m.group(1) or m.group(2) or _ORDINAL[m.group(3).lower()] for m in _QUARTER.finditer(text)}


def names_another_period(question: str, text: str) -> bool:
    """Whether `text` speaks of other quarters than the one the question names, and not of it: "revenue of $6.04
    billion for the second quarter" does not answer "What was Q3 revenue?"."""
    asked = quarters(question)
    if not asked:
        return False
    said = quarters(text)
    return bool(said) and not said & asked


def names_another_version(question: str, text: str) -> bool:
    """Whether `text` speaks of a sibling of a code the question names instead of it: "FP4" but no "FP8" for
    "What is Rubin's FP8 performance?". Such a sentence answers another question."""
    asked = codes(question)
    if not asked:
        return False
    found = codes(text)
    return any((p, d) not in found and any(fp == p and fd != d for fp, fd in found) for p, d in asked)


# The family ties a who-question can ask for ("Who is Bae's wife?", "Who did Emma marry?"), each with the words
# a sentence uses when it speaks of that tie. A "parent company" is no family.
_KIN_ASKED = {
    "spouse": r"spouses?|wife|wives|husbands?|marr(?:y|ies|ied)|wed",
    "parent": r"fathers?|mothers?|parents?(?! (?:company|companies|firm|group|organi[sz]ation|body))",
    "child": r"sons?|daughters?|child|children|heirs?",
    "sibling": r"brothers?|sisters?|siblings?",
    # not family, but a tie between two people a sentence must speak of as well: "Who supervised X's thesis?"
    "teacher": r"supervis(?:e|ed|es|or|ors|ing|ion)|advis(?:or|ors|er|ers)|mentor(?:s|ed)?|tutor(?:s|ed)?",
}
_KIN_SAID = {
    "spouse": r"spouses?|wife|wives|husbands?|marr(?:y|ies|ied|iage|iages)|wed(?:s|ded|ding)?|widow(?:s|ed|er)?",
    "parent": r"fathers?|mothers?|parents?|born to|sons? of|daughters? of|child of|fathered|mothered",
    "child": r"sons?|daughters?|child|children|offspring|heirs?|fathered|gave birth",
    "sibling": r"brothers?|sisters?|siblings?|twins?",
    "teacher": r"supervis\w*|advis\w*|mentor\w*|tutor\w*|students?|studied under|under the (?:guidance|direction) of|"
               r"doctoral|thesis|dissertation|taught",
}
_KIN_ASKED_RE = {tie: re.compile(rf"\b(?:{words})\b", re.IGNORECASE) for tie, words in _KIN_ASKED.items()}
_KIN_SAID_RE = {tie: re.compile(rf"\b(?:{words})\b", re.IGNORECASE) for tie, words in _KIN_SAID.items()}


def asked_ties(question: str) -> tuple[str, ...]:
    """The family ties a question names ("Who was Genghis's third son?" -> ("child",)), and a teacher's ("Who
    supervised her thesis?" -> ("teacher",)); for a Korean question, pass its English renderings too ("배우자" ->
    "spouse wife husband", `rag.glossary`)."""
    return tuple(tie for tie, rx in _KIN_ASKED_RE.items() if rx.search(question))


def speaks_of_no_tie(ties: Sequence[str], text: str) -> bool:
    """Whether `text` speaks of none of the family `ties` a who-question asks for: "Bae Kyung-hoon ... is the
    Minister of Science and ICT under the Lee Jae Myung administration" names a person, but not a spouse."""
    return bool(ties) and not any(_KIN_SAID_RE[tie].search(text) for tie in ties)


def head_noun(question: str) -> str | None:
    """The noun a what/which question asks about ("What platform is ..." -> "platform"); for a Korean question,
    the English rendering of the noun after 어떤/어느/무슨 ("어떤 메모리가" -> "memory", `rag.glossary`)."""
    m = _HEAD.search(question)
    if m and question[m.end(1):m.end(1) + 2] in ("'s", "’s"):  # "What is Rubin's memory type?" -> "memory"
        owned = _OWNED_WORDS.match(question, m.end(1) + 2)
        words = [w.lower() for w in owned.group(1).split()] if owned else []
        if len(words) >= 2 and words[-1] in _KIND_WORDS:
            return words[-2]
        # otherwise the owner: "What was Blackwell's FP4 performance?" is answered beside "Blackwell"
    if m and m.group(1).lower() not in _NOT_HEADS:
        return m.group(1).lower()
    k = _KO_HEAD.search(question) or _KO_OWNED.search(question)
    if k:
        english = glossary_head(k.group(1))
        if english:
            return english
    # A search typed as keywords names what it wants last: "rubin memory", "trump state visit city".
    key = _KEYWORD_HEAD.search(question)
    if key and not _QUESTION_WORD.search(question) and key.group(1).lower() not in STOPWORDS:
        return key.group(1).lower()
    return None


_ASKS_NAMESAKE = re.compile(r"\bnamed\s+(?:after|for)\b", re.IGNORECASE)
_NAMESAKE_BEFORE = re.compile(r"\bnamed\s+(?:after|for|in\s+hono(?:u)?r\s+of)\s+(?:(?:the\s+)?[a-z][\w-]*\s+){0,2}$")


def is_namesake(question: str, text: str, span: Span) -> bool:
    """Whether `span` is whom or what a thing is named after ("named after astrophysicist Vera Rubin") and the
    question asks just that: the answer then repeats the question's name ("Who is Vera Rubin named after?")."""
    return bool(_ASKS_NAMESAKE.search(question)) and bool(_NAMESAKE_BEFORE.search(text, max(0, span.start - 60),
                                                                                   span.start))


def trailing_preposition(question: str) -> str | None:
    """The preposition a question ends on ("What is the AI factory built on?" -> "on")."""
    m = _TRAILING_PREP.search(question)
    return m.group(1).lower() if m else None


def _head_near(text: str, spans: Sequence[Span], head: str) -> bool:
    """Whether the sentence names the asked-about noun with a new span next to it
    ("about 260,000 advanced chips" for "What chips ...?")."""
    if not spans:
        return False
    return any(terms(m.group(0))[:1] == [head]
               and any(0 <= m.start() - sp.end <= NEAR_CHARS or 0 <= sp.start - m.end() <= 3 for sp in spans)
               for m in _WORD.finditer(text))


def prep_object(text: str, prep: str, q_terms: set[str], q_lower: str) -> int | None:
    """Where the new name after `prep` starts in `text`, when a question word comes just before `prep`
    ("... an AI factory based on Nvidia's Vera Rubin platform" for "What is the AI factory built on?")."""
    anchors = [m.end() for m in _WORD.finditer(text) if (t := lemma_terms(m.group(0))) and t[0] in q_terms]
    if not anchors:
        return None
    for m in re.finditer(rf"\b{re.escape(prep)}\b", text, re.IGNORECASE):
        if not any(0 <= m.start() - a <= PREP_BEFORE for a in anchors):
            continue
        for n in _NAME.finditer(text, m.end(), min(len(text), m.end() + PREP_AFTER + 40)):
            if n.start() - m.end() > PREP_AFTER:
                break
            word = n.group(0)
            # a common noun in capitals is no name: "floating point math, often used for AI"
            if word.lower() not in q_lower and not set(terms(word)) <= q_terms and not is_generic_acronym(word):
                return n.start()
    return None


def _bigrams(ts: Sequence[str]) -> set[tuple[str, str]]:
    return set(itertools.pairwise(ts))


# The verbs a question asks for a product's place in its line with, by the noun a document names it with
# ("What preceded Rubin?" is answered by "Predecessor: Blackwell", `rag.short.asked_noun`).
RELATION_WORDS: dict[str, tuple[str, ...]] = {
    "predecessor": ("precede", "precedes", "preceded", "come before", "comes before", "came before"),
    "successor": ("succeed", "succeeds", "succeeded", "come after", "comes after", "came after"),
}

# Abbreviations (and other names) of line items and roles in filings and news; a question may use either form.
_ABBREVIATIONS = {
    # " | " between a filing's other spellings of the same line: NVIDIA writes "Sales, general and administrative"
    "r&d": "research and development", "sg&a": "selling, general and administrative | sales, general and administrative",
    "eps": "earnings per share", "capex": "capital expenditures", "opex": "operating expenses",
    "cogs": "cost of sales | cost of revenue", "pp&e": "property, plant and equipment",
    "d&a": "depreciation and amortization", "oci": "other comprehensive income",
    "fx": "foreign currency exchange", "yoy": "year over year", "ceo": "chief executive officer",
    "cfo": "chief financial officer", "coo": "chief operating officer", "ai": "artificial intelligence",
    "mou": "memorandum of understanding",
    # countries by their official names: "President Lee Jae Myung of the Republic of Korea (ROK)"
    "south korea": "republic of korea rok", "north korea": "democratic people's republic of korea dprk",
    "q1": "first quarter", "q2": "second quarter", "q3": "third quarter", "q4": "fourth quarter",
    # other names filings give the same line item: Apple's "net sales" are NVIDIA's "revenue"
    "revenue": "net sales", "revenues": "net sales", "net sales": "revenue", "gross profit": "gross margin",
    "gross margin": "gross profit", "net earnings": "net income", "net profit": "net income",
    "operating profit": "operating income", "operating cash flow": "cash generated by operating activities",
    "buybacks": "repurchases of common stock", "buyback": "repurchases of common stock",
    "buy back": "repurchase of common stock", "bought back": "repurchased common stock",
    # the names of a product's place in a line ("Predecessor: Blackwell" says what preceded Rubin)
    **{said: noun for noun, forms in RELATION_WORDS.items() for said in forms},
}
# longest first, so "net sales" is read before a shorter name inside it
_ABBREVIATION = re.compile(r"(?<![\w&])(" + "|".join(re.escape(k) for k in sorted(_ABBREVIATIONS, key=len, reverse=True))
                           + r")(?![\w&])", re.IGNORECASE)


def expand_abbreviations(text: str, only: Callable[[str], bool] | None = None) -> str:
    """`text` with each known abbreviation followed by its long form ("R&D" -> "R&D research and development");
    with `only`, just the abbreviations it accepts."""
    def sub(m: re.Match[str]) -> str:
        if only is not None and not only(m.group(0)):
            return m.group(0)
        return f"{m.group(0)} {_ABBREVIATIONS[m.group(0).lower()].replace(' | ', ' ')}"
    return _ABBREVIATION.sub(sub, text)


_ACRONYM = re.compile(r"\b[A-Z]{2,6}\b")


def spells_out(acronym: str, text: str) -> bool:
    """Whether `text` writes `acronym` out as capitalised words ("TSMC" in "Taiwan Semiconductor Manufacturing
    Co", "IBM" in "International Business Machines", "MOU" in "Memorandum of Understanding"); "of", "and", "the"
    and "for" inside the name may give a letter or none."""
    words = [w.strip(",.;:()\"“”") for w in text.split()]

    def match(i: int, k: int) -> bool:
        if k == len(acronym):
            return True
        if i >= len(words) or not words[i]:
            return False
        w = words[i]
        if w in _NAME_LINKS:
            return (w[0].upper() == acronym[k] and match(i + 1, k + 1)) or (k > 0 and match(i + 1, k))
        return w[:1].isupper() and w[0] == acronym[k] and match(i + 1, k + 1)

    return any(words[i][:1] == acronym[0] and match(i, 0) for i in range(len(words)))


_NAME_LINKS = frozenset({"of", "and", "&", "the", "for"})


def abbreviation_groups(question: str) -> list[tuple[frozenset[str], frozenset[str]]]:
    """For each known abbreviation in `question`, the terms of its short and of its long form
    ("R&D" -> ({"r", "d"}, {"research", "development"})), one pair per long form where it has several: a sentence
    that holds either form holds both."""
    return [(frozenset(terms(m.group(0))), frozenset(terms(long)))
            for m in _ABBREVIATION.finditer(question) for long in _ABBREVIATIONS[m.group(0).lower()].split(" | ")]


def featurize(ctx: QuestionContext, cands: Sequence[Candidate], dense: np.ndarray,
              repeats: Sequence[int]) -> np.ndarray:
    """The feature matrix (candidates x FEATURES) of one question's candidates.

    Args:
        ctx: The question and index statistics.
        cands: The candidates, with `spans` filled (answer_types.Tagger).
        dense: cosine(query, candidate) per candidate.
        repeats: Per candidate, how many documents hold the same sentence.
    """
    n = len(cands)
    X = np.zeros((n, len(FEATURES)), dtype=np.float64)
    if n == 0:
        return X
    q_focus = lemma_terms(ctx.question)
    q_terms = set(lemma_terms(ctx.query)) | set(lemma_terms(ctx.expanded))
    q_set = set(q_focus)
    log_n = math.log(1.0 + ctx.n_chunks + 0.5) or 1.0
    cand_terms = [frozenset(_PAST_TERMS.get(t, t) for t in c.terms) for c in cands]
    weights: dict[str, float] = {}
    for t in q_terms:
        df = sum(1 for ts in cand_terms if t in ts)
        local = math.log(1.0 + (n - df + 0.5) / (df + 0.5))
        weights[t] = (local + ctx.idf(t)) * (1.0 if t in q_set else 0.5)
    q_bigrams = _bigrams(q_focus)
    q_lower = ctx.question.lower()
    q_negated = bool(_NEGATION.search(ctx.question))
    typed = ctx.kind is not None
    accept = LABELS.get(ctx.kind or "", frozenset())
    primary = PRIMARY.get(ctx.kind or "", accept)
    counted_words = set(terms(counted_thing(ctx))) - _FRAME
    counted = bool(counted_words)
    near_terms = counted_words if counted else q_set - _FRAME
    head_word = ctx.head if ctx.head is not None else head_noun(ctx.question)
    head = (terms(head_word) or [None])[0] if head_word else None
    prep = trailing_preposition(ctx.question)
    prep_terms = q_set - _FRAME
    abbreviations = abbreviation_groups(ctx.question)
    spellings: dict[frozenset[str], frozenset[str]] = {}  # an abbreviation -> the words of all its long forms
    for short, long in abbreviations:
        spellings[short] = spellings.get(short, frozenset()) | long
    acronyms = [(a, frozenset(terms(a))) for a in set(_ACRONYM.findall(ctx.question)) if terms(a)]
    seen_terms: set[str] = set().union(*cand_terms) | {t for c in cands for t in terms(c.hit.title)}
    title_terms: dict[str, set[str]] = {}
    for i, c in enumerate(cands):
        ts = cand_terms[i]
        subject = title_terms.setdefault(c.doc_id, set(terms(c.hit.title)))
        w = {t: v * (0.3 if t in subject else 1.0) for t, v in weights.items()}
        row = is_table_row(c.text)
        qualifiers = ctx.row_context(c) & q_terms if row else frozenset()
        held = ts | subject | qualifiers
        spelt = ts | qualifiers
        for short, long in abbreviations:  # "R&D" is not missing from "Research and development $ 7,457"
            if short <= held or long <= held:
                held = held | short | long
            if long <= ts:  # the row spells out what the question abbreviates: its "sg" is not missing, nor
                spelt = spelt | short | spellings[short]  # the words of the line's other spellings ("sales")
        for acronym, short in acronyms:  # "TSMC" is held by "Taiwan Semiconductor Manufacturing Co"
            if not short <= ts and spells_out(acronym, c.text):
                held, spelt = held | short, spelt | short
        lexical = sum(v for t, v in w.items() if t in spelt) / (sum(w.values()) or 1.0)
        missing = [t for t in q_set - _FRAME if t not in held]
        missing_local = any(t not in seen_terms for t in missing)
        missing_global = any(ctx.df(t) == 0 for t in missing)
        sent_terms = lemma_terms(c.text)
        novel_spans = [sp for sp in c.spans if not set(terms(sp.text)) <= q_set and sp.text.lower() not in q_lower
                       or is_namesake(ctx.question, c.text, sp)]
        # A statement prints its currency sign on a block's first and total rows only: in a table, a bare
        # figure ("Research and development 7,457 6,387") is as much an amount of money as "$ 7,457".
        take = accept | {"CARDINAL"} if row and ctx.kind == "money" else accept
        X[i] = (
            dense[i],
            0.0,
            lexical,
            0.0,
            max((min(1.0, ctx.idf(t) / log_n) for t in missing), default=0.0),
            len(missing) / max(1, len(q_set - _FRAME)),
            min(len(missing), 5) / 5.0,
            float(missing_local),
            float(missing_global),
            len(q_bigrams & _bigrams(sent_terms)) / max(1, len(q_bigrams)) if q_bigrams else 0.0,
            1.0 / (1 + c.hit_rank),
            1.0 / c.hit.bm25_rank if c.hit.bm25_rank else 0.0,
            1.0 / c.hit.dense_rank if c.hit.dense_rank else 0.0,
            float(typed),
            float(typed and any(sp.label in take for sp in c.spans)),
            float(typed and any(sp.label in take for sp in novel_spans)),
            float(typed and any(sp.label in primary or sp.label in take - accept for sp in novel_spans)),
            float(typed and _near(c.text, [sp for sp in novel_spans if sp.label in take], near_terms, counted)),
            float(not typed and bool(novel_spans)),
            math.log1p(len(c.text)) / 6.0,
            min(len(ts - q_terms), 20) / 10.0,
            float(is_heading(c.text, c.line)),
            float(not (ts - q_terms)),
            float(repeats[i] >= 2),
            float(row),
            float(row and ctx.kind in NUMERIC),
            float(c.doc_id in ctx.scope),
            c.start / max(1, ctx.doc_length(c.doc_id)),
            float(c.listed),
            float(c.text.rstrip().endswith("?")),
            float(q_negated != bool(_NEGATION.search(c.text))),
            float(ctx.cross_lingual),
            float(head is not None and _head_near(c.text, novel_spans, head)),
            float(prep is not None and prep_object(c.text, prep, prep_terms, q_lower) is not None),
        )
    X[:, 1] = X[:, 0] - X[:, 0].max()
    X[:, 3] = X[:, 2] - X[:, 2].max()
    return X


#: What the abstention model reads of a whole question: how the best candidates scored and why.
QUESTION_FEATURES: tuple[str, ...] = (
    "best_logit",  # the best candidate's logit
    "lead",  # its lead over the runner-up (capped at 4)
    "top3_logit",  # mean logit of the three best
    "best_dense", "best_lexical", "best_missing_share", "best_missing_in_index", "best_missing_in_passages",
    "best_type_primary", "typed_question",
    "max_dense", "max_lexical",  # over all candidates
    "answer_sentences",  # how many of the three best are within 1 logit of the best
)
TOP = 3  # sentences an answer may hold; the abstention model judges them together


def eligible(X: np.ndarray) -> np.ndarray:
    """Which candidates may be quoted as an answer: not a heading, and not a sentence that two or more
    documents repeat (a certification, a legal notice). They still inform the model, never the reader."""
    return (X[:, FEATURES.index("heading")] == 0) & (X[:, FEATURES.index("repeated")] == 0)


def question_features(X: np.ndarray, z: np.ndarray) -> np.ndarray:
    """The QUESTION_FEATURES of one question from its candidates' features `X` and logits `z`."""
    f = {name: i for i, name in enumerate(FEATURES)}
    order = np.argsort(-z)
    b = int(order[0])
    top = z[order[:TOP]]
    lead = float(z[b] - z[order[1]]) if len(z) > 1 else 4.0
    return np.array([
        z[b], min(lead, 4.0), float(top.mean()),
        X[b, f["dense"]], X[b, f["lexical"]], X[b, f["missing_share"]], X[b, f["missing_in_index"]],
        X[b, f["missing_in_passages"]], X[b, f["type_primary"]], X[b, f["typed_question"]],
        float(X[:, f["dense"]].max()), float(X[:, f["lexical"]].max()),
        float((top >= z[b] - 1.0).sum()),
    ])


class EvidenceModel:
    """Two logistic regressions over standardised features, shipped as one JSON file.

    `candidate_proba(X)` is P(this candidate holds the answer), from `FEATURES`.
    `answer_proba(X, logits)` is P(an answer built on the best candidates is right), from
    `QUESTION_FEATURES`; it is fitted on out-of-fold predictions, so it is calibrated on
    questions the candidate model did not see. The answerer abstains under `threshold`.
    """

    def __init__(self, weights: Sequence[float], bias: float, mean: Sequence[float], scale: Sequence[float], *,
                 abstain: Mapping[str, Any] | None = None, threshold: float = 0.5,
                 features: Sequence[str] = FEATURES, info: Mapping[str, Any] | None = None) -> None:
        if tuple(features) != FEATURES:
            raise ValueError(f"model features {list(features)} differ from this code's {list(FEATURES)}; retrain "
                             "with `python -m eval.train_evidence`")
        self.weights, self.bias, self.mean, self.scale = linear_params(weights, bias, mean, scale, len(FEATURES))
        n = len(QUESTION_FEATURES)
        abstain = dict(abstain or {"weights": [1.0] + [0.0] * (n - 1), "bias": 0.0, "mean": [0.0] * n,
                                   "scale": [1.0] * n, "features": list(QUESTION_FEATURES)})
        if tuple(abstain.get("features", QUESTION_FEATURES)) != QUESTION_FEATURES:
            raise ValueError("abstention features differ from this code's; retrain with `python -m eval.train_evidence`")
        self.abstain = {"weights": np.asarray(abstain["weights"], dtype=np.float64), "bias": float(abstain["bias"]),
                        "mean": np.asarray(abstain["mean"], dtype=np.float64),
                        "scale": np.asarray(abstain["scale"], dtype=np.float64)}
        if not all(len(self.abstain[k]) == n for k in ("weights", "mean", "scale")):
            raise ValueError("the abstention model needs one weight, mean and scale per question feature")
        self.threshold = check_threshold(threshold)
        self.info = dict(info or {})

    def candidate_logit(self, X: np.ndarray) -> np.ndarray:
        return ((X - self.mean) / self.scale) @ self.weights + self.bias

    def candidate_proba(self, X: np.ndarray) -> np.ndarray:
        return sigmoid(self.candidate_logit(X))

    def answer_proba(self, X: np.ndarray, logits: np.ndarray) -> float:
        """P(the answer built on the best candidates is right): the answerer's confidence."""
        return float(self.answer_proba_from(question_features(X, logits)))

    def answer_proba_from(self, q: np.ndarray) -> np.ndarray:
        a = self.abstain
        return sigmoid(((q - a["mean"]) / a["scale"]) @ a["weights"] + a["bias"])

    @classmethod
    def bootstrap(cls) -> EvidenceModel:
        """A hand-set model (similarity and word overlap only) to collect the first training features with."""
        w = np.zeros(len(FEATURES))
        w[FEATURES.index("dense")] = w[FEATURES.index("lexical")] = 1.0
        return cls(w, 0.0, np.zeros(len(FEATURES)), np.full(len(FEATURES), 0.2), info={"bootstrap": True})

    def to_dict(self) -> dict[str, Any]:
        a = self.abstain
        return {"format": 2, "features": list(FEATURES), "weights": self.weights.round(6).tolist(),
                "bias": round(self.bias, 6), "mean": self.mean.round(6).tolist(),
                "scale": self.scale.round(6).tolist(),
                "abstain": {"features": list(QUESTION_FEATURES), "weights": a["weights"].round(6).tolist(),
                            "bias": round(a["bias"], 6), "mean": a["mean"].round(6).tolist(),
                            "scale": a["scale"].round(6).tolist()},
                "threshold": round(self.threshold, 4), "info": self.info}

    def save(self, path: str | Path) -> None:
        Path(path).write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> EvidenceModel:
        return cls(d["weights"], d["bias"], d["mean"], d["scale"], abstain=d.get("abstain"),
                   threshold=d.get("threshold", 0.5), features=d.get("features", FEATURES), info=d.get("info"))

    @classmethod
    def load(cls, path: str | Path = MODEL_PATH) -> EvidenceModel:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def linear_params(weights: Sequence[float], bias: float, mean: Sequence[float], scale: Sequence[float],
                  n: int) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """The parameters of a logistic regression over `n` standardised features, as arrays, checked."""
    w, m, sc = (np.asarray(v, dtype=np.float64) for v in (weights, mean, scale))
    if not (len(w) == len(m) == len(sc) == n):
        raise ValueError("weights, mean and scale must have one value per feature")
    return w, float(bias), m, sc


def check_threshold(threshold: float) -> float:
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be in [0, 1], got {threshold!r}")
    return float(threshold)


def sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


def fit_logistic(X: np.ndarray, y: np.ndarray, sample_weight: np.ndarray | None = None, *, l2: float = 1.0,
                 iters: int = 50) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method (IRLS); the bias is not penalised.

    Returns:
        (weights, bias) for inputs as given (standardise them first).
    """
    n, d = X.shape
    sw = np.ones(n) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    A = np.hstack([X, np.ones((n, 1))])
    w = np.zeros(d + 1)
    reg = np.full(d + 1, l2)
    reg[-1] = 0.0
    for _ in range(iters):
        p = sigmoid(A @ w)
        grad = A.T @ (sw * (p - y)) + reg * w
        H = (A * (sw * p * (1 - p))[:, None]).T @ A + np.diag(reg) + 1e-9 * np.eye(d + 1)
        step = np.linalg.solve(H, grad)
        w -= step
        if np.abs(step).max() < 1e-8:
            break
    return w[:-1], float(w[-1])
