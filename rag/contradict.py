"""Sentences that say otherwise than the question takes for granted.

A question often carries an assumption: "What did the European Community not focus on?" assumes something it did
not focus on; "When the Rhine took a right turn, what did it create?" assumes a right turn; "What changes to GM
vehicles were implemented in 1982?" assumes changes in 1982. A sentence that shares nearly every word of such a
question but says the opposite ("originally focused upon free movement of workers", "took a left turn", "By 1977,
GM's full-sized cars reflected the crisis") reads as the best evidence to every similarity measure, and quoting it
would answer a question the documents do not answer. These tests find that sentence by what it says, one sentence
at a time, so the answerer can set it aside (and abstain when nothing else answers). They read English questions;
the words are general English, not a list of any corpus's facts.
"""

from __future__ import annotations

import re

from ingest.text import STOPWORDS

from .evidence import IRREGULAR_PAST

_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*(?:-[A-Za-z]+)*|\d[\d,.]*")

# A question that asks what did not happen. "Whether or not", "not only" and "why not" ask nothing negative.
_Q_NEGATION = re.compile(r"\b(?:not|never|none|nothing|nobody|nowhere|fail(?:s|ed)?\s+to)\b|\bno\b(?!\.?\s*\d)|n[’']t\b",
                         re.IGNORECASE)  # "no" but not "No. 1"
_Q_NOT_NEGATIVE = re.compile(r"\bor\s+not\b|\bnot\s+(?:only|just|merely)\b|\bwhy\s+not\b|\bif\s+not\b", re.IGNORECASE)
# How a sentence says that something did not happen, or held for one thing rather than another.
_S_NEGATION = re.compile(
    r"\b(?:not|no|never|none|neither|nor|without|cannot|unable|fail(?:s|ed|ure)?|rather\s+than|instead|unlike|except"
    r"|lack(?:s|ed|ing)?|absen(?:t|ce)|only)\b|n[’']t\b", re.IGNORECASE)
# The words a sentence negates a statement with, before what it negates ("had not proven", "should not fall").
_NEGATOR = frozenset({"not", "never", "cannot"})
_CONTRAST = frozenset({"only", "but", "rather", "instead"})  # "not X, only Y": the sentence says what is so, too
_STOP = STOPWORDS | {"may", "might", "must", "shall", "many", "much", "some", "all", "one", "another"}

# Words with opposites (each of a group against each of the other), in their plain forms. Compass points are a
# set of their own: "north of Victoria" is not "west".
_OPPOSITES = [
    ("left", "right"), ("increase rise grow climb", "decrease fall decline drop shrink"), ("gain", "loss"),
    ("larger", "smaller"), ("largest", "smallest"), ("bigger", "smaller"), ("biggest", "smallest"),
    ("higher", "lower"), ("highest", "lowest"), ("greater", "lesser"), ("greatest", "least"),
    ("maximum", "minimum"), ("stronger", "weaker"), ("strongest", "weakest"), ("strong", "weak"),
    ("better", "worse"), ("best", "worst"), ("earliest", "latest"), ("newest", "oldest"), ("youngest", "oldest"),
    ("succeed successor", "precede predecessor"), ("success", "failure"), ("successful", "unsuccessful"),
    ("succeed", "fail"), ("win", "lose"),
    ("victory", "defeat"), ("victorious", "defeated"), ("accept", "reject"), ("allow", "forbid"),
    ("legal", "illegal"), ("import", "export"), ("private", "public"), ("internal", "external"), ("inner", "outer"),
    ("upper", "lower"), ("major", "minor"), ("positive", "negative"), ("minority", "majority"),
    ("ancient", "modern"), ("wider", "narrower"), ("widest", "narrowest"), ("longer", "shorter"),
    ("longest", "shortest"), ("heavier", "lighter"), ("heaviest", "lightest"), ("warmer", "colder"),
    ("warmest", "coldest"), ("hottest", "coldest"), ("richest", "poorest"), ("rural", "urban"), ("male", "female"),
    ("men", "women"), ("inside", "outside"),
]
_OPPOSITE: dict[str, set[str]] = {}  # a word -> its opposites ("rise" -> "decrease", "fall", ...)
_ALIKE: dict[str, set[str]] = {}  # a word -> its group ("drop" -> "decline", ...)
for _pair in _OPPOSITES:
    for _one, _other in (_pair, _pair[::-1]):
        for _w in _one.split():
            _OPPOSITE.setdefault(_w, set()).update(_other.split())
            _ALIKE.setdefault(_w, set()).update(_one.split())
_INFLECTIONS = ("s", "es", "d", "ed", "ing")  # "decreased", "rises", "accepting": the word in the list
_PAST = {**IRREGULAR_PAST, "lost": "lose"}  # "rose", "fell", "won": the verb in the list
_COMPASS = {f"{p}{s}": p for p in ("north", "south", "east", "west") for s in ("", "ern", "ward", "wards", "erly")}
_COMPASS.update({f"{a}{b}{s}": f"{a}{b}" for a in ("north", "south") for b in ("east", "west")
                 for s in ("", "ern", "ward", "erly")})

_YEAR = re.compile(r"(?<![\d.,$€£¥₩])(1[0-9]{3}|20[0-9]{2})((?:['’]?s)?)(?![\d%])")
_YEAR_RANGE = re.compile(r"(?<![\d.,$€£¥₩])(1[0-9]{3}|20[0-9]{2})\s*(?:-|–|—|to|and|through|until)\s*"
                         r"(1[0-9]{3}|20[0-9]{2})(?![\d%])")
_CENTURY = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)[\s-]+century\b", re.IGNORECASE)


def _words(text: str) -> list[str]:
    return [w.lower().replace("’", "'") for w in _WORD.findall(text)]


def _stem(word: str) -> str:
    return word[:5]


def asks_negated(question: str) -> bool:
    """Whether the question asks what did not happen or is not so ("What did the Court not rule on?")."""
    return bool(_Q_NEGATION.search(_Q_NOT_NEGATIVE.sub(" ", question)))


def misses_negation(question: str, text: str) -> bool:
    """Whether a question about what is not so meets a sentence that negates nothing: "What is not the primary law
    of the EU?" is not answered by "The primary law of the EU consists mainly of the founding treaties"."""
    return asks_negated(question) and not _S_NEGATION.search(text)


def negates_asked(question: str, text: str) -> bool:
    """Whether the sentence denies what the question asserts: "the Commission had not proven that ..." for "What
    had the Commission proven?", "should not fall within article 56" for "What should fall under article 56?". A
    word of the question's must follow the sentence's "not" within three words, and the sentence must not go on
    to say what is so instead ("could not propose what the sanctions could be, only that there must be some")."""
    if asks_negated(question):
        return False
    asked = {_stem(w) for w in _words(question) if w not in _STOP and len(w) > 2}
    words = _words(text)
    for i, w in enumerate(words):
        if _negator(w) and not _CONTRAST & set(words[i + 1:]):
            after = [x for x in words[i + 1:i + 4] if x not in _STOP]
            if any(_stem(x) in asked for x in after):
                return True
    return False


def _negator(word: str) -> bool:
    return word in _NEGATOR or word.endswith("n't")


def _negated(words: list[str]) -> set[str]:
    """The words a "not" stands right before ("not equal", "not only")."""
    return {x for i, w in enumerate(words) if _negator(w) for x in words[i + 1:i + 3]}


def _base(word: str) -> str:
    """The form `word` has in the list of opposites ("decreased" -> "decrease", "fell" -> "fall"), else `word`."""
    word = _PAST.get(word, word)
    if word in _OPPOSITE:
        return word
    for suffix in _INFLECTIONS:
        stem = word[:-len(suffix)]
        if word.endswith(suffix) and len(stem) > 2:
            for form in (stem, stem + "e"):
                if form in _OPPOSITE:
                    return form
    return word


def _compass(text: str) -> set[str]:
    """The compass points `text` speaks of in lower case: "South Korea" and "East Asia" are names, not points."""
    return {_COMPASS[w] for w in _WORD.findall(text) if w in _COMPASS}


def says_opposite(question: str, text: str) -> bool:
    """Whether the sentence holds the opposite of a word of the question and not the word (nor its like): "took a
    left turn" for "When the Rhine took a right turn ...?", "a much smaller number of electors" for "Which islands
    comprise a larger number of electors?", "in the west of the state" for "north of Victoria", "the Islamic
    world" for "the non-Islamic world", "the encrypted content" for "unencrypted content"."""
    q_words, s_words = _words(question), _words(text)
    q, s = set(q_words), set(s_words)
    q_bases, s_bases = {_base(w) for w in q}, {_base(w) for w in s}
    for w in q_bases - s_bases:
        # "applications declined as a result of increasing crime" does say "a drop in applications"
        if _OPPOSITE.get(w, set()) & s_bases and not _ALIKE[w] & s_bases:
            return True
    qc, sc = _compass(question), _compass(text)
    if qc and sc and not qc & sc:
        return True
    # "non-Islamic" / "Islamic", "unencrypted" / "encrypted": the plain word said, the negated one not (or back).
    # "not equal" says "unequal".
    for a, b, b_words in ((q, s, s_words), (s, q, q_words)):
        for w in a - b:
            for prefix in ("non-", "non", "un"):
                plain = w[len(prefix):]
                if (w.startswith(prefix) and len(plain) > 4 and plain in b and not plain.startswith("-")
                        and plain not in _negated(b_words)):
                    return True
    return False


def _years(text: str) -> set[tuple[int, int]]:
    """The spans of years `text` names, as (first, last): "1756" (1756, 1756), "the 1990s" (1990, 1999), "the
    19th century" (1801, 1900)."""
    found = set()
    for m in _YEAR_RANGE.finditer(text):  # "between 2004 and 2014", "1914–1918"
        first, last = int(m.group(1)), int(m.group(2))
        if first < last:
            found.add((first, last))
    for m in _YEAR.finditer(text):
        y = int(m.group(1))
        found.add((y, y + 9) if m.group(2) else (y, y))
    for m in _CENTURY.finditer(text):
        c = int(m.group(1))
        found.add((100 * (c - 1) + 1, 100 * c))
    return found


def names_another_year(question: str, text: str) -> bool:
    """Whether the sentence dates what it says to other years than the question asks about, and never to the
    asked ones: "By 1977, GM's full-sized cars reflected the crisis" for "What changes were implemented in
    1982?", "founded in 1756" for "in 1765". A year overlaps a range, decade or century that holds it ("from 2000 to
    2005" for "between 2004 and 2014", "in 1960" for "in the 1960's"). Months are not compared: a filing dates one
    event by several days ("annulled on July 15, 2020", "appealed on September 25, 2020")."""
    asked = _years(question)
    said = _years(text) if asked else set()
    return bool(said) and not any(a0 <= s1 and s0 <= a1 for a0, a1 in asked for s0, s1 in said)


# A rank written in figures ("the 22nd most liveable city"), not a century ("the 19th century": a date, above).
_RANK = re.compile(r"\b(\d{1,3})(?:st|nd|rd|th)\b(?![\s-]*centur)", re.IGNORECASE)
_RANK_WORDS = {w: i for i, w in enumerate(("second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
                                           "tenth"), start=2)}
_RANK_WORD = re.compile(rf"\b({'|'.join(_RANK_WORDS)})\b(?![\s-]*centur)", re.IGNORECASE)


def _ranks(text: str, *, words: bool) -> set[int]:
    found = {int(m.group(1)) for m in _RANK.finditer(text)} - {1}
    if words:
        found |= {_RANK_WORDS[m.group(1).lower()] for m in _RANK_WORD.finditer(text)}
    return found


def names_another_rank(question: str, text: str) -> bool:
    """Whether the sentence ranks what it says otherwise than the question: "ranked Warsaw as the 32nd most
    liveable city" for "When was Warsaw ranked as the 22nd ...?". The question's rank counts in figures only
    ("second" is also a unit of time); the sentence's in words too, so "Genghis' third son" answers "3rd son"."""
    asked = _ranks(question, words=False)
    said = _ranks(text, words=True) if asked else set()
    return bool(said) and not asked & said


# A question about a birth or a death, and the words (or a life-span in brackets) a sentence states each with.
_LIFE_SPAN = r"\(\s*(?:c\.\s*)?\d{3,4}\s*[–-]\s*(?:c\.\s*)?\d{3,4}\s*\)"
_LIFE_EVENTS = (
    (re.compile(r"\b(?:born|birth|birthday|birthplace)\b", re.IGNORECASE),
     re.compile(rf"\b(?:born|birth|birthday|birthplace|n[ée]e)\b|{_LIFE_SPAN}", re.IGNORECASE)),
    (re.compile(r"\b(?:died|die|death|buried)\b", re.IGNORECASE),
     re.compile(rf"\b(?:died|dies|dying|death|deceased|killed|buried|passed away)\b|{_LIFE_SPAN}", re.IGNORECASE)),
)


def misses_life_event(question: str, text: str) -> bool:
    """Whether a question about when or where someone was born (or died) meets a sentence that does not say so:
    "Möngke Khan succeeded Güyük as Great Khan in 1251" does not say when Möngke was born. (Read of the answer's
    own sentence only: most sentences of a biography state no birth, and all of them weigh in the confidence.)"""
    return any(asked.search(question) and not said.search(text) for asked, said in _LIFE_EVENTS)


def says_otherwise(question: str, text: str, *, years: bool = True) -> bool:
    """Whether an English sentence says otherwise than the English question takes for granted (any test above;
    the years' only with `years`)."""
    return (misses_negation(question, text) or negates_asked(question, text) or says_opposite(question, text)
            or names_another_rank(question, text) or years and names_another_year(question, text))
