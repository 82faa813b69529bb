"""Document scoping: a question that names a document, source or period prefers those documents.

"in the Q1 2023 10-Q", "for the quarter ended April 1, 2023", "the latest 10-Q",
"according to Wikipedia", "the White House fact sheet": each names documents by what
the index knows of them: title, file name, publisher and date (from the document's
metadata, its file name, or the period a filing states on its first page). `resolve`
turns a question into a `Scope` (the matching document ids and a description to show),
or None when the question names nothing or names every document alike.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from ingest.text import terms

_MONTHS = {m: i + 1 for i, m in enumerate(
    ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"])}
_MONTH_ABBR = {m[:3]: i for m, i in _MONTHS.items()}
_ORDINAL = {"first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4}
_MONTH_RE = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|" \
            r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_DATE_RE = re.compile(rf"\b({_MONTH_RE})\s+(\d{{1,2}}),?\s+((?:19|20)\d\d)\b", re.IGNORECASE)
_ISO_RE = re.compile(r"\b((?:19|20)\d\d)-(\d\d)-(\d\d)\b")
_PERIOD_RE = re.compile(rf"(?:period|quarter|months|year)\s+end(?:ed|ing)\s+({_MONTH_RE}\s+\d{{1,2}},?\s+(?:19|20)\d\d)",
                        re.IGNORECASE)
_MONTH_QUARTER_RE = re.compile(
    rf"\b(?:the\s+)?({_MONTH_RE})\s+((?:19|20)\d\d)\s+(?:fiscal\s+)?quarter\b|"
    rf"\b(?:the\s+)?(?:fiscal\s+)?quarter\s+(?:that\s+)?end(?:ed|ing|s)\s+(?:in\s+)?({_MONTH_RE})\s+((?:19|20)\d\d)\b",
    re.IGNORECASE)
# Quarter names: "Q1 2023", "2023 Q1", "Q1 FY23", "first quarter of fiscal 2023", "fiscal 2023 first quarter".
_Q_NUM_YEAR = re.compile(r"\bq([1-4])\s*(?:of\s+)?(?:fy\s*|fiscal\s+(?:year\s+)?)?'?((?:19|20)?\d\d)\b", re.IGNORECASE)
_YEAR_Q_NUM = re.compile(r"\b(?:fy\s*|fiscal\s+(?:year\s+)?)?((?:19|20)\d\d)\s*q([1-4])\b", re.IGNORECASE)
_ORD_Q_YEAR = re.compile(r"\b(first|second|third|fourth|1st|2nd|3rd|4th)\s+(?:fiscal\s+)?quarter\s+(?:of\s+)?"
                         r"(?:(?:the\s+)?fiscal\s+(?:year\s+)?|fy\s*)?((?:19|20)\d\d)\b", re.IGNORECASE)
_YEAR_ORD_Q = re.compile(r"\b(?:fiscal\s+(?:year\s+)?|fy\s*)?((?:19|20)\d\d)(?:'s)?\s+(first|second|third|fourth|1st|2nd|3rd|4th)"
                         r"\s+(?:fiscal\s+)?quarter\b", re.IGNORECASE)
# Korean: "2025년 2분기", "2025 회계연도 2분기" (the second quarter of fiscal 2025)
_KO_YEAR_Q = re.compile(r"((?:19|20)\d\d)\s*(?:년|회계\s*연도|회계연도)?\s*(?:의\s*)?(?:제\s*)?([1-4])\s*분기")
# "the first nine months of fiscal 2023": a 10-Q reports the year to date, so nine months are its third quarter.
_MONTHS_YEAR = re.compile(r"\bfirst\s+(three|six|nine|3|6|9)\s+months\s+(?:of|in)\s+(?:the\s+)?"
                          r"(?:fiscal\s+(?:year\s+)?|fy\s*)?((?:19|20)\d\d)\b", re.IGNORECASE)
_QUARTER_OF_MONTHS = {"three": 1, "3": 1, "six": 2, "6": 2, "nine": 3, "9": 3}
# "the first 10-Q of fiscal 2023": the nth quarterly report of a fiscal year is its nth quarter.
_ORD_FILING_YEAR = re.compile(r"\b(first|second|third|1st|2nd|3rd)\s+(?:quarterly\s+)?(?:10-?q|quarterly report|filing)"
                              r"\s+(?:of|for|in)\s+(?:the\s+)?(?:fiscal\s+(?:year\s+)?|fy\s*)?((?:19|20)\d\d)\b", re.IGNORECASE)
_LATEST = re.compile(r"\b(?:latest|most recent|newest|last|current|recent)\s+(?:(?:quarterly|annual|apple|company)\s+)?"
                     r"(10-?q|10-?k|filing|report|quarter|document|fact sheet|article|statement|release)s?\b", re.IGNORECASE)
_EARLIEST = re.compile(r"\b(?:earliest|oldest|first)\s+(?:(?:quarterly|annual)\s+)?(10-?q|10-?k|filing|report|"
                       r"document|fact sheet|article)s?\b", re.IGNORECASE)
_DOC_NOUN = (r"(?:article|report|filing|fact sheet|10-?q|10-?k|document|page|entry|memorandum|mou|press release|"
             r"statement|release|biography|profile|sheet|website|site|text|story|piece)")
_SOURCE_RES = (
    re.compile(r"\baccording to\s+(?:the\s+)?([^,?;.]{2,60}?)(?:'s)?(?=[,?;.]|\s+(?:what|which|who|how|when|where|is|was|"
               r"did|does|do|are|were)\b|$)", re.IGNORECASE),
    re.compile(rf"\b(?:in|from|per|by)\s+(?:the\s+)?([\w&.' -]{{2,60}}?)\s+{_DOC_NOUN}\b", re.IGNORECASE),
    re.compile(rf"\b(?:the\s+)?([\w&.' -]{{2,60}}?)\s+{_DOC_NOUN}\s+(?:says?|said|states?|stated|reports?|reported|"
               rf"mentions?|mentioned|lists?|listed|notes?|noted)\b", re.IGNORECASE),
)
_GENERIC = frozenset(terms("document article report filing text page source quarterly annual company latest recent "
                           "most newest sheet press release statement official wikipedia's"))


@dataclass(frozen=True)
class DocProfile:
    """What a question can name a document by."""

    doc_id: str
    names: frozenset[str]  # terms of the title, publisher and file name
    publisher: str
    date: date | None  # the document's date: metadata, else the period a filing covers
    # (fiscal year, quarter) named by the file name or title, else the one a periodic report's text names most
    quarters: frozenset[tuple[int, int]]
    kind_text: str  # lower-case title + file name + start of text, to match "10-Q", "fact sheet"...
    periodic: bool = False  # a periodic report: its first page states the period it covers


@dataclass(frozen=True)
class Scope:
    """The documents a question is about, and why: shown to the user with the answer."""

    doc_ids: tuple[str, ...]
    description: str
    phrase: str = ""  # the words of the question that named the documents

    def to_dict(self) -> dict[str, object]:
        return {"doc_ids": list(self.doc_ids), "description": self.description}

    def strip(self, question: str) -> str:
        """`question` without the words that named its documents: what the answer must be about.

        "What were total net sales in the Q2 2023 10-Q?" -> "What were total net sales?"
        """
        if not self.phrase or self.phrase not in question:
            return question
        i = question.index(self.phrase)
        head = re.sub(r"(?:\b(?:in|for|from|of|at|on|per|during|according to|as of)\s+)?$", "", question[:i], flags=re.IGNORECASE)
        rest = f"{head} {question[i + len(self.phrase):]}"
        rest = " ".join(rest.split())
        rest = re.sub(r"\s+([?.,;])", r"\1", rest)
        rest = re.sub(r"^[\s,;:]+|[,;:]+(?=[?.]?$)", "", rest)
        rest = rest[:1].upper() + rest[1:]
        return rest if len(terms(rest)) >= 1 else question


def _year(y: str) -> int:
    n = int(y)
    return n + 2000 if n < 100 else n


def _month(name: str) -> int:
    return _MONTH_ABBR[name.lower().rstrip(".")[:3]]


def parse_date(text: str) -> date | None:
    """The first 'Month D, YYYY' or ISO date in `text`."""
    hits = []
    m = _DATE_RE.search(text)
    if m:
        try:
            hits.append((m.start(), date(int(m.group(3)), _month(m.group(1)), int(m.group(2)))))
        except ValueError:
            pass
    m = _ISO_RE.search(text)
    if m:
        try:
            hits.append((m.start(), date(int(m.group(1)), int(m.group(2)), int(m.group(3)))))
        except ValueError:
            pass
    return min(hits)[1] if hits else None


def quarter_mentions(text: str) -> list[tuple[tuple[int, int], tuple[int, int]]]:
    """((year, quarter), (start, end)) for each quarter named in `text`: "Q1 2023", "2023 Q1",
    "first quarter of fiscal 2023", "the second 10-Q of fiscal 2023", "the first six months of 2023" (its second)."""
    out = []
    for m in _Q_NUM_YEAR.finditer(text):
        out.append(((_year(m.group(2)), int(m.group(1))), m.span()))
    for m in _YEAR_Q_NUM.finditer(text):
        out.append(((_year(m.group(1)), int(m.group(2))), m.span()))
    for m in _ORD_Q_YEAR.finditer(text):
        out.append(((_year(m.group(2)), _ORDINAL[m.group(1).lower()]), m.span()))
    for m in _YEAR_ORD_Q.finditer(text):
        out.append(((_year(m.group(1)), _ORDINAL[m.group(2).lower()]), m.span()))
    for m in _ORD_FILING_YEAR.finditer(text):
        out.append(((_year(m.group(2)), _ORDINAL[m.group(1).lower()]), m.span()))
    for m in _KO_YEAR_Q.finditer(text):
        out.append(((int(m.group(1)), int(m.group(2))), m.span()))
    for m in _MONTHS_YEAR.finditer(text):
        out.append(((_year(m.group(2)), _QUARTER_OF_MONTHS[m.group(1).lower()]), m.span()))
    return out


def quarters_in(text: str) -> set[tuple[int, int]]:
    """(year, quarter) pairs named in `text` (see `quarter_mentions`)."""
    return {q for q, _ in quarter_mentions(text)}


FISCAL_YEARS_HELD = 3  # the fiscal years a filing's statements hold: its own and up to two before (a 10-K's)
_FISCAL_YEAR_NAMED = re.compile(r"\b(?:fiscal\s+(?:year\s+)?|fy\s*'?)((?:19|20)?\d\d)\b(?!\s*(?:q[1-4]|first|second|"
                                r"third|fourth))|(?<!\d)((?:19|20)\d\d)\s*회계\s*연도(?!\s*\d\s*분기)", re.IGNORECASE)


def fiscal_years(question: str) -> set[int]:
    """The fiscal years a question names on their own, not as a quarter's ("revenue in fiscal 2019", "FY24",
    "2019 회계연도"; not "Q2 fiscal 2025", which `quarters_in` reads)."""
    if quarters_in(question):
        return set()
    return {_year(m.group(1) or m.group(2)) for m in _FISCAL_YEAR_NAMED.finditer(question)}


REPORTED_QUARTER_MIN = 3  # mentions a periodic report's own quarter needs, more than any other's
REPORTED_QUARTER_SCAN = 200_000  # characters read for them: a 10-Q's MD&A, ~60 ms for a whole 106-page one


def reported_quarter(text: str, period_end: date | None = None) -> tuple[int, int] | None:
    """The (fiscal) quarter a periodic report covers, read from its text: the one it names most, at least
    REPORTED_QUARTER_MIN times and more often than any other ("the first quarter of 2022" 11 times in Uber's 10-Q
    for that quarter, against 8 for the same quarter a year before). A filing's EDGAR file name
    ("nvda-20240728.pdf") and PDF title ("0001543151-22-000015") name no quarter, and its period end date does
    not say which fiscal quarter it closes; it does bound the fiscal year, to the year the period ends in or the
    next (Apple's and NVIDIA's fiscal years are named for the year they end in). None when no quarter stands
    out, or the one that does lies outside that bound (a filing that names last year's quarter most)."""
    counts = Counter(q for q, _ in quarter_mentions(text[:REPORTED_QUARTER_SCAN]))
    ranked = counts.most_common(2)
    if not ranked or ranked[0][1] < REPORTED_QUARTER_MIN or len(ranked) > 1 and ranked[1][1] == ranked[0][1]:
        return None
    year, quarter = ranked[0][0]
    if period_end is not None and not period_end.year <= year <= period_end.year + 1:
        return None
    return year, quarter


def profile(doc_id: str, title: str, metadata: Mapping[str, object], text: str) -> DocProfile:
    """A document's names, date and quarters, from its metadata, file name and first page; a periodic report
    whose file name and title name no quarter covers the one its text names most (`reported_quarter`)."""
    publisher = str(metadata.get("publisher", "") or "")
    stem = re.sub(r"\.\w{1,5}$", "", doc_id.rsplit("/", 1)[-1]).replace("_", " ")
    head = text[:6000]
    period = _PERIOD_RE.search(head)
    when = parse_date(period.group(1)) if period else None
    if when is None:
        when = parse_date(str(metadata.get("date", "") or ""))
    if when is None:
        when = parse_date(head[:1500])
    quarters = quarters_in(f"{stem} {title}")
    if not quarters and period is not None:  # a periodic report: "For the quarterly period ended March 31, 2022"
        reported = reported_quarter(text, parse_date(period.group(1)))
        quarters = {reported} if reported else set()
    return DocProfile(
        doc_id=doc_id,
        names=frozenset(terms(f"{title} {publisher} {stem}")),
        publisher=publisher,
        date=when,
        quarters=frozenset(quarters),
        periodic=period is not None,
        kind_text=f"{title} {stem} {head[:3000]}".lower(),
    )


_NAME_WORD = re.compile(r"\b[A-Z][A-Za-z&.-]{2,}")
_NOT_COMPANY = frozenset(terms("what which who when where how why does did was were is are the form quarter quarterly "
                               "fiscal report filing latest most recent first second third fourth according "
                               "january february march april may june july august september october november "
                               "december"))


def _of_named_company(question: str, profs: list[DocProfile]) -> list[str]:
    """The ids of `profs`, narrowed to the documents of the company the question names when they are of several
    ("What was Intel's revenue in Q2 2023?" over Q2 2023 filings of Apple and Intel: Intel's). A document
    names a company in its title, file name or first page ("INTEL CORPORATION")."""
    ids = [p.doc_id for p in profs]
    if len(profs) < 2:
        return ids
    words = {t for m in _NAME_WORD.finditer(question) for t in terms(m.group(0))} - _NOT_COMPANY - _GENERIC
    for w in sorted(words):
        hit = [p.doc_id for p in profs if w in p.names or re.search(rf"\b{re.escape(w)}", p.kind_text)]
        if 0 < len(hit) < len(profs):
            return hit
    return ids


def _kind_matches(p: DocProfile, noun: str) -> bool:
    noun = noun.lower().replace("-", "")
    if noun in ("10q", "10k"):
        return f"10-{noun[-1]}" in p.kind_text or noun in p.kind_text.replace("-", "")
    if noun in ("fact sheet", "article", "statement", "release"):
        return noun in p.kind_text
    return True  # filing, report, quarter, document: any document


def _date_text(d: date) -> str:
    return f"{d:%B} {d.day}, {d.year}"


def resolve(question: str, profiles: Iterable[DocProfile]) -> Scope | None:
    """The documents `question` names, or None.

    Rules, first match wins: a period end date ("quarter ended April 1, 2023") matches
    documents covering that period; a named quarter ("Q2 2023", "second quarter of fiscal
    2023") matches documents whose file name or title names it; "latest"/"most recent"
    (or "earliest") with a kind of document picks the newest (oldest) dated document of that
    kind; a named source ("according to Wikipedia", "the White House fact sheet") matches
    documents whose title, publisher or file name holds its words. A scope that would keep
    every document, or none, is no scope.
    """
    profs = list(profiles)
    if len(profs) < 2:
        return None
    result = _resolve(question, profs)
    if result is None:
        return None
    ids, why, phrase = result
    if not ids or len(ids) == len(profs):
        return None
    return Scope(tuple(sorted(ids)), why, phrase.strip())


# "the date of the Technology Prosperity Deal MOU", "When was the White House fact sheet published?", "… mou date"
_DOC_DATE_RES = (
    re.compile(rf"\b(?:date|day)\s+of\s+(?:the\s+)?([\w&.' -]{{2,60}}?)\s+{_DOC_NOUN}\b", re.IGNORECASE),
    re.compile(rf"\bwhen\s+(?:was|were|is|did)\s+(?:the\s+)?([\w&.' -]{{2,60}}?)\s+{_DOC_NOUN}\s+(?:published|"
               rf"released|issued|signed|dated|posted|written|announced)\b", re.IGNORECASE),
    # typed as keywords: "tech prosperity deal mou date"
    re.compile(rf"^\s*(?:the\s+)?([\w&.' -]{{2,60}}?)\s+{_DOC_NOUN}\s+(?:publication\s+|release\s+)?date\W*$",
               re.IGNORECASE),
)


def _named_by(phrase: str, profs: list[DocProfile]) -> list[str]:
    """The documents whose title, publisher or file name hold at least half the words of `phrase` (the best such)."""
    want = set(terms(phrase)) - _GENERIC
    if "wikipedia" in phrase.lower():
        want.add("wikipedia")
    if not want or not profs:
        return []
    scored = [(len(want & p.names) / len(want), p.doc_id) for p in profs]
    best = max(s for s, _ in scored)
    return [d for s, d in scored if s == best] if best >= 0.5 else []


def dated_document(question: str, profiles: Iterable[DocProfile]) -> tuple[str, str] | None:
    """(document id, the words that name it) when `question` asks the date of one document by name ("What is the
    date of the Technology Prosperity Deal MOU?"); None otherwise. Only the date is asked of it, so unlike a
    `Scope` this never narrows what is searched for a question that also asks of something else."""
    profs = list(profiles)
    for pattern in _DOC_DATE_RES:
        m = pattern.search(question)
        if m:
            ids = _named_by(m.group(1), profs)
            if len(ids) == 1:
                return ids[0], m.group(0)
    return None


def _resolve(question: str, profs: list[DocProfile]) -> tuple[list[str], str, str] | None:
    dates = {p.date for p in profs if p.date is not None}
    for m in _DATE_RE.finditer(question):
        d = parse_date(m.group(0))
        if d in dates:  # a date that is some filing's period end: "quarter ended April 1, 2023", "at June 25, 2022"
            lead = re.search(r"(?:(?:the\s+)?(?:three|six|nine|twelve)\s+months|(?:the\s+)?(?:fiscal\s+)?quarter|period|"
                             r"year)?\s*(?:ended|ending|end of|as of|at|on)?\s*$", question[:m.start()], re.IGNORECASE)
            start = lead.start() if lead and lead.group(0).strip() else m.start()
            return (_of_named_company(question, [p for p in profs if p.date == d]), f"period ended {_date_text(d)}",
                    question[start:m.end()].strip())
    for m in _MONTH_QUARTER_RE.finditer(question):
        # "the December 2022 quarter", "the quarter ended March 2023": a period that ends in that month (a fiscal
        # quarter may end a few days into the next: Apple's "March quarter" ended April 1, 2023).
        month, year = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
        first = date(int(year), _month(month), 1)
        ids = _of_named_company(question, [p for p in profs if p.date is not None and 0 <= (p.date - first).days <= 37])
        if ids:
            return ids, f"quarter ended {first:%B %Y}", m.group(0)
    named = quarter_mentions(question)
    for q, (a, b) in named:
        ids = _of_named_company(question, [p for p in profs if q in p.quarters])
        if ids:
            phrase = re.search(r"(?:(?:the|its|apple's|their)\s+)?" + re.escape(question[a:b]) +
                               r"(?:\s+(?:form\s+)?10-?[qk]|\s+filing|\s+report)?", question, re.IGNORECASE)
            return ids, f"Q{q[1]} {q[0]}", phrase.group(0) if phrase else question[a:b]
    for pattern, newest in ((_LATEST, True), (_EARLIEST, False)):
        m = pattern.search(question)
        if not m:
            continue
        kind = [p for p in profs if _kind_matches(p, m.group(1)) and p.date is not None]
        named_ids = set(_of_named_company(question, kind))
        narrowed = len(named_ids) < len(kind)  # "Apple's latest 10-Q" among several companies' filings
        kind = [p for p in kind if p.doc_id in named_ids]
        if len(kind) >= 2 or (narrowed and kind):
            pick = max(kind, key=lambda p: p.date) if newest else min(kind, key=lambda p: p.date)
            ids = [p.doc_id for p in kind if p.date == pick.date]
            word = "latest" if newest else "earliest"
            lead = re.search(r"(?:(?:the|its|apple's|their)\s+)?$", question[:m.start()], re.IGNORECASE)
            return ids, f"{word} {m.group(1)}: {_date_text(pick.date)}", question[lead.start():m.end()]
    for pattern in _SOURCE_RES:
        for m in pattern.finditer(question):
            ids = _named_by(m.group(1), profs)
            if ids:
                return ids, f"source: {m.group(1).strip()}", m.group(0)
    low = " ".join(re.findall(r"[a-z0-9]+", question.lower()))
    if "wikipedia" in low:
        ids = [p.doc_id for p in profs if "wikipedia" in p.names]
        if ids:
            m = re.search(r"(?:(?:according to|in|on|from|per)\s+)?(?:the\s+)?wikipedia(?:'s)?(?:\s+(?:article|page|entry))?",
                          question, re.IGNORECASE)
            return ids, "source: Wikipedia", m.group(0) if m else ""
    # A publisher named in full ("the White House", "Reuters"): its documents.
    for name in sorted({p.publisher for p in profs if p.publisher}, key=len, reverse=True):
        words = " ".join(re.findall(r"[a-z0-9]+", name.lower().removeprefix("the ")))
        if len(words) >= 4 and f" {words} " in f" {low} ":
            return [p.doc_id for p in profs if p.publisher == name], f"source: {name}", ""
    return None
