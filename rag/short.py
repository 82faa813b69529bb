"""Short answers: the typed span of the best evidence sentence that answers the question.

"How many chips?" -> "about 260,000"; "Who met Jensen Huang?" -> "Bae Kyung-hoon";
"What was total net sales in Q2 2023?" on the row "Total net sales $ 94,836 $ 97,278"
-> "$ 94,836" (the first figure of a statement row is the period the filing covers).
The span is always a slice of the cited sentence, so it is verbatim in the source.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence

from ingest.text import terms

from .answer_types import (
    AMOUNT,
    COUNT,
    DATE,
    DURATION,
    LABELS,
    MONEY,
    NUMERIC,
    PERCENT,
    PRIMARY,
    Span,
    pattern_spans,
    unit_end,
)
from .evidence import (
    CHANGE_VERB,
    RELATION_WORDS,
    asked_variant,
    asks_change,
    head_noun,
    how_many,
    is_namesake,
    lemma_terms,
    prep_object,
    quarters,
    row_label_end,
    trailing_preposition,
    variant_mentions,
)

_NUMBER_CELL = re.compile(r"(?:[$€£¥₩]\s?)?\(?\d[\d,]*(?:\.\d+)?\)?(?:\s?%)?")
_LINK = re.compile(r"^(?:\s*(?:'s|’s)?\s*|\s+(?:of|and|&)\s+)$")
_WORD = re.compile(r"[^\W_]+")
_LOWER_WORDS = re.compile(r"^(?:\s+[a-z][a-z-]*)*\s+$")  # only lower-case words between a span and its noun
_NAME_RUN = re.compile(r"[A-Z0-9][\w’'&-]*(?:\.(?=\w)[\w’'&-]*)*(?:\s[A-Z0-9][\w’'&-]*(?:\.(?=\w)[\w’'&-]*)*)*")
_MODIFIERS = 30
FIGURE_LIKE = NUMERIC | {DURATION}  # a figure answers them, with its unit if it has one
# "what/which N <auxiliary>": N is surely the noun asked about ("What chips will ...", not "What total ...")
_REASON_OR_MANNER = re.compile(r"^\W*(?:why|how\s+(?:do|does|did|is|are|was|were|can|could|would|should|has|have|had|"
                               r"will))\b|\bwhy\b|왜|어떻게|무엇 때문|이유"
                               # "What would the Seoul R&D center do?": an activity, which the sentence says
                               r"|^\W*what\s+(?:will|would|does|did|do|can|could|should)\b.*\bdo\W*$", re.IGNORECASE)
_KO_WHICH = re.compile(r"(?:어떤|어느|무슨)\s*[\uac00-\ud7a3]")  # a Korean "what/which N" question
_DIRECT_HEAD = re.compile(r"\b(?:what|which)\s+[a-z]{3,}s?\s+(?:will|would|did|does|do|is|are|was|were|has|have|had"
                          r"|can|could|should|may|might)\b", re.IGNORECASE)  # characters of modifiers allowed between them


def _words_of(sentence: str, term: list[str]) -> Iterator[re.Match[str]]:
    """The words of `sentence` whose index term is `term` (["chip"]: "chips", "chip"); none for no term."""
    return (m for m in _WORD.finditer(sentence) if term and terms(m.group(0))[:1] == term)


def _term_positions(sentence: str, q_terms: set[str]) -> list[int]:
    """Character offsets of the sentence's words that are question terms."""
    out = []
    for m in _WORD.finditer(sentence):
        t = terms(m.group(0))
        if t and t[0] in q_terms:
            out.append(m.start())
    return out


# "Who is the minister of science?": a question for whoever holds a role, and the verbs that give a sentence's
# subject that role ("Bae Kyung-hoon ... is ... the Minister of Science and ICT under the Lee administration").
_ROLE_QUESTION = re.compile(r"^\W*who\s+(?:is|was|are|were|has\s+been|had\s+been|became|serves\s+as|served\s+as)\s+"
                            r"(?:the|a|an)\s+", re.IGNORECASE)
_BRACKETED = re.compile(r"\([^()]*\)")
_COPULA = re.compile(r"\b(?:is|was|are|were|has\s+been|had\s+been|became|becomes|serves\s+as|served\s+as|"
                     r"remains|remained)\b")


def _role_holder(question: str, sentence: str, pool: Sequence[Span], q_terms: set[str]) -> tuple[int, int] | None:
    """For "Who is the <role>?", the name that is the subject of the verb giving the role: the last candidate
    before a copula whose complement holds the question's words. A name after the role ("under the Lee Jae Myung
    administration") is the role's modifier, not its holder; a name in brackets ("(4th century BC)") is an aside."""
    if not _ROLE_QUESTION.match(question):
        return None
    anchors = _term_positions(sentence, q_terms)
    asides = [b.span() for b in _BRACKETED.finditer(sentence)]
    subjects = [sp for sp in pool if not any(a <= sp.start and sp.end <= b for a, b in asides)]
    for m in _COPULA.finditer(sentence):
        if not any(a >= m.end() for a in anchors):
            continue
        before = [sp for sp in subjects if sp.end <= m.start() and not _COPULA.search(sentence, sp.end, m.start())]
        if before:
            return before[-1].start, before[-1].end
        return None
    return None


_NAME_BEFORE = re.compile(r"(?:[A-Z0-9][\w’'&.-]*\s){1,4}$")


def _name_before(sentence: str, at: int, q_lower: str, q_terms: set[str]) -> tuple[int, int] | None:
    """The run of capitalised words or alphanumeric codes ending right before `at` ("HBM4 " before "memory"),
    without the words the question already holds; None when there is none."""
    m = _NAME_BEFORE.search(sentence, max(0, at - 60), at)
    if not m:
        return None
    words = [(w.start() + m.start(), w.end() + m.start()) for w in re.finditer(r"\S+", m.group(0))]
    def asked(w: tuple[int, int]) -> bool:
        word = sentence[w[0]:w[1]]
        return word.lower() in q_lower or set(terms(word)) <= q_terms

    if not words or asked(words[-1]):
        return None  # "Nvidia chips" for "What chips will Nvidia supply?": the question's own name
    while asked(words[0]):
        words.pop(0)  # "Nvidia’s Vera Rubin platform" for a question about Nvidia: "Vera Rubin"
    if not any(re.search(r"[^\W\d_]", sentence[a:b]) for a, b in words):
        return None  # a bare year or figure is no name
    return words[0][0], words[-1][1]


def _with_capital_head(sentence: str, start: int, end: int, head: re.Match[str]) -> tuple[int, int]:
    """(start, end), taking in the head noun when the sentence capitalises it as part of the name right before it
    ("the General Court" for "Which court ...?", not "General")."""
    if end <= head.start() and head.group(0)[:1].isupper() and not sentence[end:head.start()].strip():
        return start, head.end()
    return start, end


_PAREN_AFTER = re.compile(r"\s*\(([^()]{1,40})\)")


def _restates(sentence: str, sp: Span, q_lower: str) -> bool:
    """Whether the span is the question's own term spelt out: it is followed by a parenthesised abbreviation
    the question uses ("a Master of Business Administration (MBA)" for "Where did he obtain his MBA?")."""
    m = _PAREN_AFTER.match(sentence, sp.end)
    if not m:
        return False
    inner = m.group(1).strip()
    return bool(re.fullmatch(r"[A-Z][A-Za-z0-9.&-]{1,11}", inner)) and re.search(
        rf"(?<![\w]){re.escape(inner.lower())}(?![\w])", q_lower) is not None


def _typed_beside_head(question: str, sentence: str, typed: Sequence[Span], kind: str) -> tuple[int, int] | None:
    """The typed span that names the question's head noun, when the sentence has one: the span holding it
    ("Kwangwoon University" for "From which university ...?") or the figure right before it with only
    lower-case words between ("50 petaflops performance" for "What FP4 performance ...?" gives "50 petaflops",
    "roughly 260,000 advanced chips" for "How many chips ...?" gives "roughly 260,000"). None otherwise."""
    head = head_noun(question)
    if head is None and kind in FIGURE_LIKE:  # "How many advanced chips ...?": what is counted, its last word
        counted = how_many(question)
        head = counted.split()[-1] if counted else None
    head_term = terms(head)[:1] if head else []
    if not head_term:
        return None
    for m in _words_of(sentence, head_term):
        # a name holding the noun, capitalised as part of it ("Kwangwoon University"), or a figure holding its
        # unit ("63 days" for "How many days ...?"); "the late 19th century" for "In what century ...?" is
        # neither: the learned choice ("19th") answers
        holding = [sp for sp in typed if sp.start <= m.start() and m.end() <= sp.end
                   and (m.group(0)[:1].isupper() or kind in FIGURE_LIKE) and len(_WORD.findall(sp.text)) > 1]
        if holding:
            return holding[0].start, holding[0].end
        if kind not in FIGURE_LIKE:
            continue
        before = [sp for sp in typed if 0 <= m.start() - sp.end <= _MODIFIERS
                  and (not sentence[sp.end:m.start()].strip() or _LOWER_WORDS.match(sentence[sp.end:m.start()]))]
        if before:
            sp = before[-1]
            return sp.start, unit_end(sentence, sp.end)
    return None


def _merge(spans: Sequence[Span], sentence: str) -> list[Span]:
    """Join neighbouring spans linked by a possessive or 'of' ("Nvidia's Vera Rubin")."""
    out: list[Span] = []
    for sp in sorted(spans, key=lambda s: s.start):
        if out and sp.start >= out[-1].end and _LINK.match(sentence[out[-1].end:sp.start]):
            prev = out[-1]
            out[-1] = Span(prev.start, sp.end, sentence[prev.start:sp.end], sp.label)
        elif not out or sp.start >= out[-1].end:
            out.append(sp)
    return out


def _cell(row: str, m: re.Match[str]) -> tuple[int, int]:
    """A figure cell of a row without the space after it, with its currency sign ("$ 94,836")."""
    s, e = m.span()
    while e > s and row[e - 1] == " ":
        e -= 1
    return s, e


def _first_figure(row: str) -> tuple[int, int] | None:
    """The first figure after a table row's label, with its currency sign ("$ 94,836")."""
    m = _NUMBER_CELL.search(row, row_label_end(row))
    return _cell(row, m) if m else None


# "for the first nine months of 2023", "year to date": the question asks a 10-Q's year-to-date column
_YEAR_TO_DATE = re.compile(r"\b(?:first\s+(?:six|nine|6|9)\s+months|(?:six|nine|6|9)\s+months\s+ended|"
                           r"year[\s-]+to[\s-]+date|ytd)\b", re.IGNORECASE)
YEAR_TO_DATE_CELLS = 4  # three months this year and last, then the year to date this year and last


# "a year ago", "the prior year", "last year's": the question asks the figure of the year before
_YEAR_AGO = re.compile(r"\b(?:(?:a|one)\s+year\s+(?:ago|earlier|before)|(?:the\s+)?(?:prior|previous|last)\s+year(?:['’]s)?|"
                       r"year[\s-]ago|(?:the\s+)?same\s+(?:quarter|period)\s+(?:a|last|of\s+the\s+prior)\s+year)\b",
                       re.IGNORECASE)


def asks_year_ago(question: str) -> bool:
    """Whether the question asks the figure of the year before ("What was the tax rate a year ago?")."""
    return bool(_YEAR_AGO.search(question))


_HEADER_YEAR = re.compile(r"(?<![\d,.])(?:19|20)\d\d(?![\d,.]\d)")
_HEADER_QUARTER = re.compile(r"\bQ([1-4])\s*'?((?:19|20)\d\d)\b")  # "Q1 2022" over a column of quarters
# "fiscal 2025", "FY25", "2025 회계연도": a fiscal year, which a column dated by the calendar need not carry
_FISCAL_YEAR = re.compile(r"\b(?:fiscal\s+(?:year\s+)?|fy\s*)'?(?:19|20)?\d\d\b|(?:19|20)\d\d\s*회계\s*연도", re.IGNORECASE)


def _calendar_years(question: str) -> list[int]:
    """The years a question names, unless it names a fiscal year: "fiscal 2025" need not be a column's or a
    sentence's calendar year."""
    return [] if _FISCAL_YEAR.search(question) else [int(y) for y in _HEADER_YEAR.findall(question)]


def column_periods(header: Sequence[str]) -> list[tuple[int, int]]:
    """The (year, quarter) over a table's figure columns, left to right, from its header lines
    (`evidence.header_lines`): those of the line that names the most years, two at least ("2021 2022", "June 24,
    2023 June 25, 2022", "Q4 2021 Q1 2022"); quarter 0 where the line names none. [] when no line names two."""
    best: list[tuple[int, int]] = []
    for line in header:
        by_quarter = [(int(m.group(2)), int(m.group(1))) for m in _HEADER_QUARTER.finditer(line)]
        years = [(int(m.group()), 0) for m in _HEADER_YEAR.finditer(line)]
        found = by_quarter if by_quarter and len(by_quarter) == len(years) else years
        if len(found) > len(best):
            best = found
    return best if len(best) >= 2 else []


def _column_by_period(question: str, cells: int, periods: Sequence[tuple[int, int]]) -> int | None:
    """Which figure column a question asks, by the periods over the columns: the year it names (a calendar year;
    a fiscal year need not be a column's) and the quarter, where the columns are quarters; else the latest; for
    the year before, the same quarter a year earlier. Within the year-to-date half for a year-to-date question
    over four columns. None when the columns are not dated."""
    if not periods or cells < len(periods):
        return None
    block = list(range(len(periods)))
    if len(periods) == YEAR_TO_DATE_CELLS and not any(q for _, q in periods):
        # three months this year and last, then the year to date
        block = block[2:] if _YEAR_TO_DATE.search(question) else block[:2]
    asked_quarter = quarters(question)
    if len(asked_quarter) == 1 and any(q for _, q in periods):
        block = [i for i in block if str(periods[i][1]) in asked_quarter] or block
    named = _calendar_years(question)
    dated = sorted({periods[i] for i in block}, reverse=True)
    target = next((p for y in named for p in dated if p[0] == y), dated[0])
    if asks_year_ago(question):
        earlier = [p for p in dated if p[0] < target[0] and p[1] == target[1]]
        if not earlier:
            return None
        target = earlier[0]
    return next(i for i in block if periods[i] == target)


def _asked_figure(question: str, row: str, header: Sequence[str] = ()) -> tuple[int, int] | None:
    """The figure of a table row the question asks. Where the header lines over the row date its columns
    (`column_periods`), the column of the period asked (`_column_by_period`): a filing may set this year's column
    before last year's (Apple, NVIDIA) or after it (Uber). Else by place: the first after its label; for a
    year-to-date question on a row of a 10-Q's four columns ("Three Months Ended" x2, "Nine Months Ended" x2),
    the third; for the year before, the column after the one it would take."""
    cells = list(_NUMBER_CELL.finditer(row, row_label_end(row)))
    by_year = _column_by_period(question, len(cells), column_periods(header))
    if by_year is not None:
        return _cell(row, cells[by_year])
    at = 2 if _YEAR_TO_DATE.search(question) and len(cells) == YEAR_TO_DATE_CELLS else 0
    if asks_year_ago(question) and len(cells) in (2, YEAR_TO_DATE_CELLS):
        at += 1
    return _cell(row, cells[at]) if at else _first_figure(row)


# a figure, then the words that date it a year before: "compared with 7.1% a year ago"
_BEFORE_YEAR_AGO = re.compile(r"^(?:\s+(?:in|for|during|of))?\s+(?:the\s+)?(?:(?:a|one)\s+year\s+(?:ago|earlier|before)|"
                              r"(?:prior|previous|last|year-ago)\s+(?:year|period|quarter)|same\s+(?:quarter|period))\b",
                              re.IGNORECASE)


def prefer_year_ago(question: str, sentence: str, spans: Sequence[Span],
                    chosen: tuple[int, int] | None) -> tuple[int, int] | None:
    """For a question that asks the year before, the figure the sentence dates a year before ("compared with 7.1%
    a year ago") in place of the chosen one, when it is of the same kind; `chosen` otherwise."""
    own = _span_at(spans, chosen)
    if own is None or not asks_year_ago(question) or _BEFORE_YEAR_AGO.match(sentence[own.end:]):
        return chosen
    dated = [sp for sp in spans if sp.label == own.label and _BEFORE_YEAR_AGO.match(sentence[sp.end:])]
    return _swapped(sentence, chosen, own, dated[0]) if dated else chosen


_RESPECTIVELY = re.compile(r",?\s+respectively\b", re.IGNORECASE)


def prefer_respective(question: str, sentence: str, chosen: tuple[int, int] | None) -> tuple[int, int] | None:
    """For "... $185 million and $(232) million for the three months ended March 31, 2021 and 2022,
    respectively", the figure of the year the question names (else of the latest; for "a year ago" of the one
    before): figures and years pair up in order. `chosen` when the sentence pairs none, or not as many of each."""
    m = _RESPECTIVELY.search(sentence)
    if chosen is None or not m or chosen[0] >= m.start():
        return chosen
    figures = [sp for sp in pattern_spans(sentence) if sp.end <= m.start() and sp.label in ("MONEY", "PERCENT")]
    own = next((sp for sp in figures if sp.start <= chosen[0] < sp.end or chosen[0] <= sp.start < chosen[1]), None)
    if own is None:
        return chosen
    run = [sp for sp in figures if sp.label == own.label]
    years = [int(y.group()) for y in _HEADER_YEAR.finditer(sentence, run[-1].end, m.start())]
    if len(run) < 2 or len(years) != len(run) or len(set(years)) != len(years):
        return chosen
    named = _calendar_years(question)
    target = next((y for y in named if y in years), max(years))
    if asks_year_ago(question):
        earlier = [y for y in years if y < target]
        if not earlier:
            return chosen
        target = max(earlier)
    picked = run[years.index(target)]
    return picked.start, picked.end


_OR_FIGURE = re.compile(r",?\s+or\s+")
_CHANGE_AMOUNT = re.compile(r"(?:[$€£¥₩]\s?)?\d[\d,]*(?:\.\d+)?(?:\s?(?:%|percent\b|percentage points?\b)|"
                            r"\s(?:million|billion|trillion|thousand)\b)?", re.IGNORECASE)


def change_figure(sentence: str) -> tuple[int, int] | None:
    """The figure a change verb comes to ("decreased 3% or $2.4 billion" -> "3% or $2.4 billion"), both forms
    when the sentence gives two; None when no verb of change is followed by a figure."""
    for m in CHANGE_VERB.finditer(sentence):
        first = _CHANGE_AMOUNT.match(sentence, m.end())
        if not first:
            continue
        s, e = first.start(), unit_end(sentence, first.end())
        link = _OR_FIGURE.match(sentence, e)
        second = _CHANGE_AMOUNT.match(sentence, link.end()) if link else None
        if second:
            e = unit_end(sentence, second.end())
        return s, e
    return None


# a verb of change, then within a clause "to" and the figure it came to: "rose 62% from a year earlier to "
_CHANGED_TO = re.compile(r"\b(?:increas|decreas|rose|rise|risen|fell|fallen|grew|grown|declin|dropp?|jump|climb|surg|"
                         r"soar|slump|plung|tumbl|slid|shr[ai]nk)\w*\b[^.;:]{0,60}?\bto\s+(?:about\s+|around\s+|"
                         r"roughly\s+|nearly\s+|a\s+record\s+|an?\s+all-time\s+high\s+of\s+)?$", re.IGNORECASE)


def _level_after_change(sentence: str, typed: Sequence[Span]) -> tuple[int, int] | None:
    """The first of `typed` a change came to ("rose 62% ... to 11.38 trillion won" -> "11.38 trillion won"): the
    level a question that asks no change wants, rather than a figure later in the sentence ("topped 10 trillion
    won") or the change itself."""
    for sp in typed:
        if _CHANGED_TO.search(sentence, max(0, sp.start - 90), sp.start):
            return sp.start, sp.end
    return None


def _change_cell(row: str) -> tuple[int, int] | None:
    """A table row's first percentage after its label ("Total net sales $ 94,836 $ 97,278 (3)%" -> "(3)%"):
    the change column of a statement that compares two periods."""
    for m in _NUMBER_CELL.finditer(row, row_label_end(row)):
        if m.group(0).rstrip().endswith("%"):
            return m.start(), m.start() + len(m.group(0).rstrip())
    return None


# Where a sentence turns from one thing to another: "..., while Rubin Ultra will double ...", "...; the Pro ...".
_CLAUSE_BREAK = re.compile(r"\s*;\s*|,?\s+(?:while|whereas)\s+|,\s+(?:but|compared\s+(?:with|to))\s+")


_FIGURE_OR_DATE = LABELS[COUNT] | LABELS[AMOUNT] | LABELS[DATE]


def _clauses(sentence: str) -> list[tuple[int, int]]:
    cuts = [0] + [x for m in _CLAUSE_BREAK.finditer(sentence) for x in (m.start(), m.end())] + [len(sentence)]
    return [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts), 2)]


def _span_at(spans: Sequence[Span], chosen: tuple[int, int] | None) -> Span | None:
    """The typed span the chosen short answer starts in."""
    return next((sp for sp in spans if chosen and sp.start <= chosen[0] < sp.end), None)


def _swapped(sentence: str, chosen: tuple[int, int], own: Span, other: Span) -> tuple[int, int]:
    """`other` in place of the chosen span `own`, with its unit when the chosen one was taken with its unit ("50
    petaflops" -> "100 petaflops")."""
    return other.start, unit_end(sentence, other.end) if chosen[1] > own.end else other.end


def prefer_asked_variant(question: str, sentence: str, spans: Sequence[Span],
                         chosen: tuple[int, int] | None) -> tuple[int, int] | None:
    """`chosen`, or the span of its kind in the clause about the product variant the question asks of: "Rubin is
    stated to have 50 petaflops ..., while Rubin Ultra will double the performance of Rubin with 100 petaflops"
    answers 100 petaflops for Rubin Ultra and 50 for Rubin. A clause that names a variant speaks of it (its plain
    "Rubin" is the comparison)."""
    said = variant_mentions(sentence)
    if chosen is None or not said:
        return chosen
    clauses = _clauses(sentence)

    def clause_of(at: int) -> tuple[int, int]:
        return next((c for c in clauses if c[0] <= at < c[1]), clauses[-1])

    for base in dict.fromkeys(b for b, _, _, _ in said):
        want = asked_variant(question, base)
        if want is None:
            continue

        def speaks(clause: tuple[int, int], base: str = base) -> set[str]:
            named = {v for b, v, a, _ in said if b == base and clause[0] <= a < clause[1]}
            if named:
                return named
            plain = any(clause[0] <= m.start() < clause[1] and not any(a <= m.start() < e for _, _, a, e in said)
                        for m in re.finditer(rf"\b{re.escape(base)}\b", sentence))
            return {""} if plain else set()

        here = speaks(clause_of(chosen[0]))
        if not here or want in here:
            continue
        own = _span_at(spans, chosen)
        if own is None or own.label not in _FIGURE_OR_DATE:
            return chosen  # a figure or a date only: the other variant's name is not what to swap
        mention = [m.start() for m in re.finditer(rf"\b{re.escape(base)}\b", sentence)]
        fits = [sp for sp in spans if sp.label == own.label and want in speaks(clause_of(sp.start))]
        if not fits:
            return chosen
        best = min(fits, key=lambda sp: min(abs(sp.start - a) for a in mention))
        return _swapped(sentence, chosen, own, best)
    return chosen


# "What is Rubin's successor?", "What is the successor of Rubin?": the noun a question asks for, which it owns.
_OWNED_NOUN = re.compile(r"['’]s\s+([a-z]{3,})\s*[?.]*\s*$"
                         r"|\b(?:what|who|which)\s+(?:is|was|are|were|will\s+be)\s+the\s+([a-z]{3,})\s+of\b", re.IGNORECASE)
# A verb that asks for a noun of a line ("What will succeed Rubin?" asks for its successor; `RELATION_WORDS`), and
# the Korean words that do ("후속", "이전").
_KO_RELATION_WORDS = {"successor": ("후속", "차세대", "다음"), "predecessor": ("이전", "전작")}
_RELATION_VERBS = {"|".join(re.escape(w).replace(r"\ ", r"\s+") for w in (*forms, *_KO_RELATION_WORDS[noun])): noun
                   for noun, forms in RELATION_WORDS.items()}
# Question words that say what kind of answer is wanted, not what it is about.
_FRAME_WORDS = frozenset({"year", "date", "day", "month", "time", "many", "much", "number", "amount", "figure"})
_APPOSITION = re.compile(r"\s*[,:]\s*")
_OWNER = re.compile(r"[\w-]+['’]s$")  # the word that owns it: "Rubin's"
_POSSESSED = re.compile(r"['’]s\s+(?:[a-z][\w-]*\s+){0,2}$")  # "Nvidia's chief " before the noun
_SAID = re.compile(r"\s+(?:said|says|told|added|noted|wrote)\b")


def asked_noun(question: str) -> str | None:
    """The noun a question asks for, if it names one: the noun it owns ("What is Rubin's successor?", "What is
    the successor of Rubin?"), the noun of a relation verb ("What will succeed Rubin?", "What comes after Rubin?"
    -> "successor"), or its head noun ("What platform ...?")."""
    m = _OWNED_NOUN.search(question)
    if m:
        return (m.group(1) or m.group(2)).lower()
    related = next((noun for verb, noun in _RELATION_VERBS.items()
                    if re.search(rf"(?<![^\W\d_])(?:{verb})(?![a-z])", question, re.IGNORECASE)), None)
    return related or head_noun(question)


def _named_after(question: str, sentence: str, q_lower: str, q_terms: set[str]) -> tuple[int, int] | None:
    """The name set after the asked noun by a comma or a colon, as an apposition or a field names it ("Rubin's
    successor, Feynman", "Successor: Feynman"), when the question does not name it already."""
    noun = asked_noun(question)
    want = terms(noun)[:1] if noun else []
    if not want:
        return None
    for m in _words_of(sentence, want):
        line_start = sentence.rfind("\n", 0, m.start()) + 1
        field = not sentence[line_start:m.start()].strip() and sentence.startswith(":", m.end())
        # an apposition only after a possessive ("Nvidia's chief executive, Jensen Huang"): "... an AI factory,
        # Bae said" names who said it
        owned = _POSSESSED.search(sentence, 0, m.start())
        owner = _OWNER.search(sentence, 0, owned.start() + 2) if owned else None
        if owner is None or not set(terms(owner.group(0))) & q_terms:
            owned = None  # "Rubin's successor, Feynman" says nothing of Blackwell's
        sep = _APPOSITION.match(sentence, m.end())
        if not (field or owned and sentence.startswith(",", m.end())) or not sep:
            continue
        run = _NAME_RUN.match(sentence, sep.end())
        if (run and run.group(0).lower() not in q_lower and not set(terms(run.group(0))) <= q_terms
                and not _SAID.match(sentence, run.end())):
            return run.start(), run.end()
    return None


# When a figure holds: ahead ("is expected to employ 8,500 people at full capacity") or now ("currently employs
# about 1,340 workers"). A sentence that gives both is cut into its clauses to read each figure's.
_AHEAD = re.compile(r"\b(?:will|would|expect(?:s|ed)?|plans?|planned|projected|forecasts?|eventually|aims?|targets?"
                    r"|full\s+capacity|next\s+year|going\s+to)\b", re.IGNORECASE)
_AUXILIARY = re.compile(r"\b(?:will|would|going\s+to)\b", re.IGNORECASE)
_NOW = re.compile(r"\b(?:currently|now|today|at\s+present|presently|so\s+far|to\s+date)\b", re.IGNORECASE)
_TENSE_BREAK = re.compile(r"\s*[;,]\s*|\s+(?:while|whereas|but)\s+|\s+and\s+(?=(?:is|are|was|were|will|would|has|have|"
                          r"had|plans?|expects?|aims?)\b)", re.IGNORECASE)


def _figure_clauses(sentence: str) -> Callable[[int], tuple[int, int]]:
    """The clause (start, end) of `sentence` that holds a position: cut at commas, semicolons, "while", "but" and
    an "and" that starts a new verb ("... 1,340 workers and is expected to employ 8,500 ...")."""
    cuts = [0] + [x for m in _TENSE_BREAK.finditer(sentence) for x in (m.start(), m.end())] + [len(sentence)]
    clauses = [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts), 2)]
    return lambda at: next((c for c in clauses if c[0] <= at < c[1]), clauses[-1])


def _when_said(text: str, *, asked: bool = False) -> str | None:
    """"ahead", "now" or None (neither or both). A question's "will" says nothing of the figure's time: "... the
    platform that Korea's AI factory will be built on?" asks for the platform's figure as it stands."""
    ahead = bool(_AHEAD.search(_AUXILIARY.sub(" ", text) if asked else text))
    now = bool(_NOW.search(text))
    return "ahead" if ahead and not now else "now" if now and not ahead else None


def prefer_asked_time(question: str, sentence: str, spans: Sequence[Span],
                      chosen: tuple[int, int] | None) -> tuple[int, int] | None:
    """`chosen`, or the figure of its kind in the one clause that speaks of the time the question asks about: "The
    plant currently employs about 1,340 workers and is expected to employ 8,500 people at full capacity" answers
    8,500 for "How many workers will it employ at full capacity?" and 1,340 for "How many people does it employ
    now?". A question that says neither (or both) keeps `chosen`."""
    want = _when_said(question, asked=True)
    own = _span_at(spans, chosen)
    if want is None or own is None or own.label not in _FIGURE_OR_DATE:
        return chosen
    clause_of = _figure_clauses(sentence)

    def when(at: int) -> str | None:
        a, b = clause_of(at)
        return _when_said(sentence[a:b])

    if when(own.start) == want:
        return chosen
    fits = [sp for sp in spans if sp.label == own.label and sp is not own and when(sp.start) == want]
    if len(fits) != 1:
        return chosen
    return _swapped(sentence, chosen, own, fits[0])


_CAPITAL_RUN = re.compile(r"(?<![\w’'])[A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*)*")


def _asked_names(question: str) -> list[set[str]]:
    """The names a question writes (runs of capitalised words past its first word), as terms: "Trump" in "Who
    welcomed Trump?", "Genghis Khan" in "Who was Genghis Khan's son?"."""
    out = []
    for m in _CAPITAL_RUN.finditer(question):
        words = m.group(0).split()
        if m.start() == len(question) - len(question.lstrip()):
            words = words[1:]  # the question's first word is capitalised as the first
        named = set(terms(" ".join(re.sub(r"['’]s$", "", w) for w in words)))
        if named:
            out.append(named)
    return out


def is_asked_name(sentence: str, start: int, end: int, asked_names: Sequence[set[str]]) -> bool:
    """Whether the name at `sentence[start:end]` is one the question writes in part: it holds all of a question's
    name ("Donald J. Trump" for "Trump") and the sentence names that nowhere else. "Vera Rubin" in "... named
    after astrophysicist Vera Rubin and will consist of a GPU named Rubin" is another than the question's Rubin."""
    inside = set(terms(sentence[start:end]))
    outside = set(terms(sentence[:start] + " " + sentence[end:]))
    return any(name <= inside and not name <= outside for name in asked_names)


def prefer_asked_clause(question: str, sentence: str, spans: Sequence[Span],
                        chosen: tuple[int, int] | None) -> tuple[int, int] | None:
    """`chosen`, or the figure or date of its kind in the one clause that holds the question's words, when the
    chosen one's clause holds none ("He completed his Master of Science ... in 2003, followed by a Doctor of
    Philosophy (Ph.D.) ... in 2006" answers 2006 for "When did he receive his Ph.D.?"), or in the one clause that
    holds more of them than the chosen one's. A short clause ("In 2019,") only dates the rest of its sentence, so
    it keeps its figure."""
    own = _span_at(spans, chosen)
    if own is None or own.label not in _FIGURE_OR_DATE:
        return chosen
    q_terms = set(terms(question)) - _FRAME_WORDS
    clause_of = _figure_clauses(sentence)

    def clause_terms(at: int) -> set[str]:
        a, b = clause_of(at)
        return set(terms(sentence[a:b]))

    mine = clause_of(own.start)
    if len(clause_terms(own.start)) < 5:
        return chosen
    held = clause_terms(own.start) & q_terms
    others = [sp for sp in spans if sp.label == own.label and sp is not own and clause_of(sp.start) != mine]
    if held:
        # a list of like clauses ("a $1.9 billion unrealized loss on our Grab investment; a $1.7 billion
        # unrealized loss on our Aurora investments; ..."): the one clause that holds every question word the
        # chosen one holds and more ("Grab")
        fits = [sp for sp in others if clause_terms(sp.start) & q_terms > held
                and not set(terms(sp.text)) <= set(terms(question))]  # not the question's own "oxygen-18"
    else:
        fits = [sp for sp in others if clause_terms(sp.start) & q_terms]
    if len(fits) != 1:
        return chosen
    return _swapped(sentence, chosen, own, fits[0])


def uses_table_rule(kind: str | None, table_row: bool) -> bool:
    """Whether a table row's short answer is its first figure (a figure question, or an untyped one)."""
    return table_row and kind in (COUNT, AMOUNT, MONEY, PERCENT, None)


#: How `short_answer_reason` chose: the structural rules ("table": a row's first figure; "preposition": the name
#: after the preposition the question ends on; "appositive": the name after the asked noun and a comma or colon
#: ("Rubin's successor, Feynman"); "namesake": the name after "named after"; "level": the figure a change
#: came to ("rose 62% to 11.38 trillion won"); "head": the span beside the question's head noun; "head-none":
#: the sentence speaks of the head noun but names nothing; "clause": a why/how question, which the sentence
#: answers and no name in it does) are kept; where they do not apply ("typed": a span of the asked type nearest
#: the question's words; "nearest": any span nearest them; "none": nothing found) a learned model may choose
#: instead (`rag.short_model`).
LEARNED_REASONS = frozenset({"typed", "nearest", "none"})


def short_answer(question: str, kind: str | None, sentence: str, spans: Sequence[Span], *,
                 table_row: bool = False, as_asked: str | None = None,
                 header: Sequence[str] = ()) -> tuple[int, int] | None:
    """(start, end) in `sentence` of the span that answers, or None when no span stands out
    (`short_answer_reason` without the reason)."""
    return short_answer_reason(question, kind, sentence, spans, table_row=table_row, as_asked=as_asked,
                               header=header)[0]


def short_answer_reason(question: str, kind: str | None, sentence: str, spans: Sequence[Span], *,
                        table_row: bool = False, as_asked: str | None = None,
                        header: Sequence[str] = ()) -> tuple[tuple[int, int] | None, str]:
    """(start, end) in `sentence` of the span that answers (None when no span stands out), and which rule
    chose it (see `LEARNED_REASONS`).

    Args:
        question: The question as asked.
        kind: Its answer class (`answer_types.question_type`).
        sentence: The best evidence sentence (or table row).
        spans: Its typed spans (`answer_types.Tagger.spans`).
        table_row: Whether the sentence is a table row (label then figures).
        as_asked: The question with the words that named its documents, when `question` is without them:
            "for the first nine months of fiscal 2023" picks a row's year-to-date column.
        header: A table row's column-header lines, top first (`evidence.header_lines`): the periods they name pick
            the column of the one asked.
    """
    q_lower = question.lower()
    q_terms = set(terms(question))
    if asks_change(question):  # "By how much did it fall?": what it changed by, not what it came to
        found = _change_cell(sentence) if table_row else change_figure(sentence)
        if found is not None:
            return found, "change"
    if uses_table_rule(kind, table_row):
        found = _asked_figure(as_asked or question, sentence, header)
        if kind == PERCENT and found is not None and "%" not in sentence[found[0]:found[1] + 2]:
            # a rate asked, and the row's figure for the period is a sum ("Mobility $ 853 $ 2,518 195 %": the
            # percentage is the change): the row states no such rate
            return None, "table"
        return found, "table"
    if kind is None and _REASON_OR_MANNER.search(question):
        return None, "clause"  # "Why ...?", "How does ...?": a reason or a manner is the sentence, not a name in it
    namesake = [sp for sp in spans if sp.label in ("PERSON", "ORG", "GPE", "LOC", "FAC", "NORP")
                and is_namesake(question, sentence, sp)]
    if namesake:  # "named after astrophysicist Vera Rubin" for "Who is Rubin named after?", names and all
        return (namesake[0].start, namesake[0].end), "namesake"
    asked_names = _asked_names(question)
    novel = [sp for sp in spans
             if sp.text.strip() and sp.text.lower() not in q_lower and not set(terms(sp.text)) <= q_terms
             and not _restates(sentence, sp, q_lower)
             # "Donald J. Trump" is the question's "Trump", not who welcomed him
             and not (sp.label == "PERSON" and is_asked_name(sentence, sp.start, sp.end, asked_names))]
    reason = "typed"
    if kind is not None:
        typed = [sp for sp in novel if sp.label in LABELS[kind]]
        if not typed:
            return None, "none"
        level = _level_after_change(sentence, typed) if kind in NUMERIC else None
        if level is not None:  # "rose 62% from a year earlier to 11.38 trillion won": what it came to
            return level, "level"
        primary = [sp for sp in typed if sp.label in PRIMARY.get(kind, ())]
        pool = primary or typed
        beside = _typed_beside_head(question, sentence, typed, kind)
        if beside is not None:
            return beside, "typed-head"
        holder = _role_holder(question, sentence, pool, q_terms)
        if holder is not None:
            return holder, "role-subject"
    else:
        reason = "nearest"
        prep = trailing_preposition(question)
        if prep:  # "What is it built on?" -> the name after "based on" in the sentence
            at = prep_object(sentence, prep, set(lemma_terms(question)), q_lower)
            if at is not None:  # the run of capitalised words there ("Nvidia’s Vera Rubin")
                run = _NAME_RUN.match(sentence, at)
                if run:
                    return (at, run.end()), "preposition"
        named = _named_after(question, sentence, q_lower, q_terms)
        if named is not None:  # "Rubin's successor, Feynman" and "Successor: Feynman" for "What will succeed Rubin?"
            return named, "appositive"
        pool = _merge(novel, sentence)
        head = head_noun(question)
        head_term = terms(head)[:1] if head else []
        if not pool and not head_term:
            return None, "none"
        seen = False
        for m in _words_of(sentence, head_term):
            # "what platform ...?" -> the name right before or after "platform" in the sentence
            seen = True
            near = [sp for sp in pool if 0 <= m.start() - sp.end <= 2 or 0 <= sp.start - m.end() <= 2]
            if near:
                start, end = near[0].start, near[0].end
                if end <= m.start():  # "Vera Rubin platform": the whole name before the noun, not "Rubin" alone
                    named = _name_before(sentence, m.start(), q_lower, q_terms)
                    if named and named[0] < start:
                        start = named[0]
                return _with_capital_head(sentence, start, end, m), "head"
            # "about 260,000 advanced chips" for "What chips ...?": the span, its modifiers and the noun
            before = [sp for sp in pool if 0 <= m.start() - sp.end <= _MODIFIERS
                      and _LOWER_WORDS.match(sentence[sp.end:m.start()])]
            if before:
                return (before[-1].start, m.end()), "head"
            # "will use HBM4 memory" for "What memory ...?": a name no tagger knows, right before the noun
            named = _name_before(sentence, m.start(), q_lower, q_terms)
            if named:
                return _with_capital_head(sentence, *named, m), "head"
        if seen and (_DIRECT_HEAD.search(question) or _KO_WHICH.search(question)):
            # "What chips will ...?" on a sentence that speaks of chips but names none: no span answers
            return None, "head-none"
        if not pool:
            return None, "none"
    anchors = _term_positions(sentence, q_terms)

    def distance(sp: Span) -> tuple[float, int]:
        if not anchors:
            return (0.0, sp.start)
        d = min(min(abs(sp.start - a), abs(sp.end - a)) for a in anchors)
        after = any(a < sp.start for a in anchors)  # answers tend to follow the words they answer
        return (d * (0.8 if after else 1.0), sp.start)

    best = min(pool, key=distance)
    return (best.start, best.end), reason
