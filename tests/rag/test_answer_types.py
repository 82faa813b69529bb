"""Answer types: question classes, pattern spans, the NER tagger and its fallback, short answers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag.answer_types import Span, Tagger, accepts, asked_unit, in_unit, pattern_spans, question_type
from rag.short import short_answer, short_answer_reason


@pytest.mark.parametrize(("question", "kind"), [
    ("How many advanced chips will Nvidia supply to Korea?", "count"),
    ("how long was huang in seoul", "duration"),
    ("How much will Korea invest in shipbuilding?", "money"),  # investing is spending money
    ("What was the gross margin percentage in Q2 2023?", "percent"),
    ("What was the effective tax rate?", "percent"),
    ("When was the MOU signed?", "date"),
    ("In what year was Bae born?", "date"),
    ("Who met Jensen Huang?", "person"),
    ("Which company will manufacture the chips?", "org"),
    ("Which university awarded his doctorate?", "org"),
    ("Where is the R&D center?", "place"),
    ("In which city is the center?", "place"),
    ("At which event was Rubin announced?", "event"),
    ("What were total net sales?", "money"),
    ("What was diluted earnings per share in Q2 2023?", "money"),  # money per share, no share of a whole
    ("What share of sales came from iPhone?", "percent"),
    ("What was the company's net income?", "money"),  # the income, not the company
    ("Which company's antitrust lawsuit is described?", "org"),  # the company
    ("What big company's shares rose?", "org"),  # no determiner: still the company
    ("What was the minister's first job?", None),
    ("What were Wearables, Home and Accessories net sales?", "money"),  # a line item's long name
    ("What were Gross Bookings in the first quarter of 2022?", "money"),  # a filing's measures by name
    ("What was Adjusted EBITDA in the first quarter of 2022?", "money"),
    ("What is the process of analyzing the amount of resources?", None),
    ("Tesla Q2 2020 revenue", "money"),  # keywords: the last word says what is wanted
    ("tech prosperity deal mou date", "date"),
    ("iphone revenue Q1 FY23", "money"),  # keywords, then the period they are asked for
    ("R&D expense in the latest quarter", "money"),
    ("revenue growth drivers", None),  # the drivers are wanted, not the revenue
    ("nvidia ceo", "person"),  # keywords whose last word says who or what is wanted
    ("trump state visit city", "place"),
    ("rubin chip maker", "org"),
    ("What was diluted EPS in the June 2023 quarter?", "money"),
    ("bae kyung-hoon job before becoming minister", None),
    ("What FP4 performance is Rubin stated to have?", "count"),  # a measure: a figure with its unit
    ("What is the population of Seoul?", "count"),
    ("What area of research did he lead?", "place"),  # "area" stays a place
    ("How many days did the Nvidia boss spend in Seoul?", "duration"),  # "four days" is tagged DATE
    ("How many chips per day will ship?", "count"),  # the thing counted is chips
    ("What is Nvidia's market capitalisation?", "money"),
    ("During which years was no census taken?", "date"),  # plural nouns ask as the singular does
    ("Which cities host the summit?", "place"),
    ("What drives down wages in a job?", None),  # wages are no figure asked for here
    ("루빈 다음 세대 아키텍처의 이름은 무엇입니까?", None),  # the name of a thing, not a person
    ("루빈이라는 이름은 누구에게서 따온 건가요?", "person"),
    ("What is physical AI?", None),
    ("What platform is the AI factory built on?", None),
    ("How much is Korea paying Nvidia for the chips?", "money"),  # a verb of paying asks for a sum of money
    ("How much did the company spend on research?", "money"),
    ("How much memory does Rubin have?", "amount"),
    ("루빈 GPU의 판매 가격은 얼마인가요?", "money"),  # a price
    ("데이터센터의 규모는 얼마인가요?", "amount"),
    ("칩 공급 약속은 어떤 국제 행사에서 합의되었나요?", "event"),  # a word between 어떤 and its noun
    ("루빈 칩은 어느 반도체 회사가 만드나요?", "org"),
    ("When rich countries trade with poor countries, whose wages increase?", "person"),  # "when" is a condition
    ("What was SK hynix's closing share price?", "money"),  # a share's price, not a share of a whole
    ("What share of DRAM revenue came from HBM?", "percent"),
    ("sk hynix operating margin q3", "percent"),  # an operating margin is a share of revenue
    ("What was Apple's gross margin in Q2?", "amount"),  # a sum in Apple's filings, a share in NVIDIA's
    ("What was the gross margin percentage in Q3 2023?", "percent"),
    ("SK하이닉스의 영업이익률은?", "percent"),  # an operating margin, though 이익 (profit) is inside it
    ("SK하이닉스 주가는 얼마에 마감했나?", "money"),  # a share price
    ("2025 회계연도 2분기 영업비용은 얼마인가?", "money"),  # 회계연도 names the fiscal year; it asks no date
    ("nvidia sg&a q2 fy2025", "money"),  # a statement's line by its abbreviation
    ("nvidia r&d center seoul", None),
    ("What drove Data Center revenue?", None),  # a cause, not the revenue
    ("What caused the increase in R&D expense?", None),
])
def test_question_types(question, kind):
    assert question_type(question) == kind


@pytest.mark.parametrize(("question", "sentence", "stated"), [
    ("How many gigabytes of memory does it have?", "It uses a 3 nm process and 288 GB of HBM4.", ["288"]),
    ("How many gigabytes of memory does it have?", "It has 288-gigabyte stacks, not 1 TB.", ["288"]),
    ("What is its FP4 performance in petaflops?", "It reaches 50 petaflops, or 1.2 exaflops a rack.", ["50"]),
    ("How many kilometers long is the bridge?", "It is 5 km long, 6 kilometres wide and 7 m deep.", ["5", "6"]),
    ("How many nanometers is the process?", "A 3 nm process; 5 NM is no unit.", ["3"]),
    # a unit spelled in Hangul, read through the glossary ("나노" -> nm, nanometer)
    ("블랙웰 GPU는 몇 나노미터 공정으로 만들어지나요?", "It is made on a 4 nm process in 20 factories.", ["4"]),
    ("루빈은 몇 와트를 쓰나요?", "It draws 1,800 watts across 72 GPUs.", ["1,800"]),
])
def test_figures_are_kept_only_in_the_asked_unit(question, sentence, stated):
    unit = asked_unit(question)
    assert unit is not None
    assert [sp.text for sp in pattern_spans(sentence) if in_unit(sentence, sp, unit)] == stated


@pytest.mark.parametrize("question", ["How many chips will ship?", "How many cores does it have?",
                                      "Where is the center in?", "How many terms of office did he serve?",
                                      "칩은 몇 개입니까?", "몇 명이 참석했나요?", "몇 년에 태어났나요?"])
def test_a_question_without_a_unit_of_measure_asks_none(question):
    assert asked_unit(question) is None


def test_pattern_spans_find_numbers_money_percent_and_dates():
    text = "Sales were $ 94,836 million, up 14.9 % from March 26, 2022; about 260,000 chips in 2026."
    found = {(s.text, s.label) for s in pattern_spans(text)}
    assert ("$ 94,836 million", "MONEY") in found
    assert ("14.9 %", "PERCENT") in found
    assert ("March 26, 2022", "DATE") in found
    assert ("about 260,000", "CARDINAL") in found
    assert ("2026", "DATE") in found
    for s in pattern_spans(text):
        assert text[s.start:s.end] == s.text


def test_a_reference_mark_is_no_answer_span():
    text = "Rubin has 50 petaflops, up from 20 petaflops.[5] Rubin Ultra ships in 2027[a] [note 3]."
    for spans in (pattern_spans(text), Tagger(use_ner=False).spans([text])[0], Tagger().spans([text])[0]):
        found = [s.text for s in spans]
        assert "5" not in found and "3" not in found
        assert "50" in found and "20" in found and any("2027" in f for f in found)


def test_tagger_falls_back_to_patterns_when_spacy_is_missing(monkeypatch, caplog):
    monkeypatch.setitem(sys.modules, "spacy", None)  # import spacy -> ImportError
    t = Tagger()
    spans = t.spans(["Bae asked for about 260,000 chips in 2025."])[0]
    assert not t.ner_available
    assert {s.label for s in spans} == {"CARDINAL", "DATE"}
    assert "patterns only" in caplog.text


@pytest.mark.model
def test_tagger_reads_a_sentence_wrapped_across_lines_as_one():
    text = "a hearing has been scheduled for May 23,\n2023."
    dates = [s for s in Tagger().spans([text])[0] if s.label == "DATE"]
    assert [s.text for s in dates] == ["May 23,\n2023"]  # as written, the line break kept
    assert all(text[s.start:s.end] == s.text for s in dates)


@pytest.mark.model
def test_a_scale_word_alone_is_no_figure():
    from rag.answer_types import is_figure

    text = ("Share repurchase activity was as follows (in millions, except number of shares, which are reflected "
            "in thousands, and per share amounts): Total 102,673")
    found = {s.text for s in Tagger().spans([text])[0]}
    assert "millions" not in found and "thousands" not in found and "102,673" in found
    assert not is_figure("CARDINAL", "the millions of")
    assert is_figure("CARDINAL", "two million") and is_figure("ORG", "Thousands")


def test_a_one_word_person_after_in_is_a_place_for_a_where_question():
    from rag.answer_types import places_after_prepositions

    s = "Its new M15X fab in Cheongju will start operating in November, Kim Woo-hyun said."
    spans = [Span(s.index("Cheongju"), s.index("Cheongju") + 8, "Cheongju", "PERSON"),
             Span(s.index("Kim"), s.index("Kim") + 11, "Kim Woo-hyun", "PERSON")]
    assert [sp.label for sp in places_after_prepositions(s, spans)] == ["GPE", "PERSON"]


def test_a_generic_acronym_is_no_name():
    from rag.answer_types import is_name

    # the small model tags "AI" a place and "GPU" a company by their shape; a "where" question then answered "AI"
    assert not is_name("GPE", "AI") and not is_name("ORG", "GPUs") and not is_name("ORG", "R&D")
    assert is_name("ORG", "LG AI Research") and is_name("GPE", "ROK") and is_name("CARDINAL", "AI")


@pytest.mark.model
def test_the_tagger_drops_generic_acronyms_it_takes_for_names():
    s = "Bae said he hopes Nvidia’s planned AI research and development center in Seoul can grow."
    found = {s.text for s in Tagger().spans([s])[0]}
    assert "AI" not in found and "Seoul" in found
    assert _short("Where is the AI research and development center planned?", s, tagged=True) == "Seoul"


@pytest.mark.model
def test_a_figure_after_a_currency_sign_is_money_with_its_sign():
    found = {(s.text, s.label) for s in Tagger().spans(["The iPhone 15 Pro starts at $999 and ships soon."])[0]}
    assert ("$999", "MONEY") in found  # spaCy alone gives "999"


@pytest.mark.model
def test_tagger_uses_spacy_ner_and_caches():
    t = Tagger()
    text = "Science Minister Bae Kyung-hoon met Nvidia chief Jensen Huang in Seoul."
    first = t.spans([text])[0]
    assert t.ner_available
    people = {s.text for s in first if s.label == "PERSON"}
    assert "Jensen Huang" in people
    assert any(s.text == "Seoul" and s.label == "GPE" for s in first)
    assert t.spans([text])[0] is first  # cached


@pytest.mark.model
def test_ner_loads_without_importing_torch_and_torch_stays_importable():
    # thinc imports torch whenever it is installed (~2 s of a cold start); the NER needs only numpy.
    code = (
        "import sys\n"
        "from rag.answer_types import Tagger\n"
        "t = Tagger()\n"
        "spans = t.spans(['Nvidia chief Jensen Huang met officials in Seoul.'])[0]\n"
        "assert t.ner_available and any(s.label == 'PERSON' for s in spans), spans\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "import torch\n"
        "assert torch.ones(2).sum().item() == 2.0\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PARTNERQA_ENCODER"}
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, env=env,
                          cwd=Path(__file__).resolve().parents[2], timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


def test_accepts():
    assert accepts("person", "PERSON") and not accepts("person", "DATE") and not accepts(None, "PERSON")


def _short(question, sentence, *, tagged=False, **kw):
    kind = question_type(question)
    spans = Tagger().spans([sentence])[0] if tagged else pattern_spans(sentence)
    span = short_answer(question, kind, sentence, spans, **kw)
    return None if span is None else sentence[span[0]:span[1]]


def test_short_answer_is_the_typed_span_not_in_the_question():
    s = "Bae asked for smooth delivery of the roughly 260,000 advanced chips agreed to at the APEC event in 2025."
    assert _short("How many advanced chips were agreed to at APEC?", s) == "roughly 260,000"
    assert _short("In what year was the APEC event?", s) == "2025"
    assert _short("Who asked for delivery?", s) is None  # no PERSON from patterns: no short answer


def test_short_answer_of_what_noun_is_the_noun_phrase_with_its_new_modifiers():
    s = "The talks come after a prior pledge tied to the APEC meeting, including about 260,000 advanced chips."
    assert _short("What chips will Nvidia supply to Korea?", s) == "about 260,000 advanced chips"
    # an upper-case word between the span and the noun is not a modifier of it; a sentence that speaks
    # of chips but names none has no short answer (not the year, not a person elsewhere in it)
    assert _short("What chips will Nvidia supply?", "In 2025 Nvidia chips shipped.") is None
    # the noun is found in the singular too, and with no span of its own nothing is taken
    s = "Bae met Nvidia chief Jensen Huang to secure chip supply in 2025."
    assert _short("What chips will Nvidia supply to Korea?", s) is None


def test_short_answer_of_what_noun_is_the_name_right_before_the_noun():
    s = "The chips will be manufactured by TSMC using a 3 nm process and will use HBM4 memory."
    assert _short("What memory will Rubin use?", s) == "HBM4"  # no tagger knows "HBM4"
    assert _short("루빈 GPU는 어떤 메모리를 사용하나요?", s) == "HBM4"  # the glossary's "memory"
    # a noun the sentence capitalises is part of the name
    s = "On July 15, 2020, the General Court annulled the State Aid Decision."
    assert _short("Which court annulled the decision?", s) == "General Court"
    # words the question holds are not the answer: "Vera Rubin", not "Nvidia’s Vera Rubin"
    s = "Korea wants an AI factory based on Nvidia’s Vera Rubin platform."
    assert _short("What platform did Nvidia offer for the factory?", s) == "Vera Rubin"


def _tagged(sentence, *named):
    """Pattern spans plus the given (text, NER label) pairs, as spaCy would tag them."""
    spans = list(pattern_spans(sentence))
    for text, label in named:
        at = sentence.index(text)
        spans.append(Span(at, at + len(text), text, label))
    return sorted(spans, key=lambda sp: sp.start)


def _short_tagged(question, sentence, *named):
    span, reason = short_answer_reason(question, question_type(question), sentence, _tagged(sentence, *named))
    return (None if span is None else sentence[span[0]:span[1]]), reason


def test_short_answer_of_which_noun_is_the_name_that_holds_the_noun():
    s = "He earned a degree in Electronic Engineering and Physics from Kwangwoon University in 2001."
    named = (("Electronic Engineering and Physics", "ORG"), ("Kwangwoon University", "ORG"))
    assert _short_tagged("From which university did he earn his degree?", s, *named) == (
        "Kwangwoon University", "typed-head")
    # a lower-case noun inside a date is no name: the rules' usual choice stands
    s = "The system was patented in the late 19th century."
    _, reason = _short_tagged("In what century was the system patented?", s, ("the late 19th century", "DATE"))
    assert reason != "typed-head"
    # a figure holding the unit the question counts in is whole
    s = "The uprising lasted 63 days, not the 48 hours planned."
    assert _short_tagged("How many days did the uprising last?", s, ("63 days", "DATE"), ("48 hours", "TIME"))[0] == (
        "63 days")


def test_short_answer_of_who_holds_a_role_is_the_subject_of_the_verb_that_gives_it():
    s = ("Bae Kyung-hoon (Korean: 배경훈; born 1976) is a South Korean AI expert and the Minister of Science and ICT "
         "under the Lee Jae Myung administration.")
    named = (("Bae Kyung-hoon", "PERSON"), ("Lee Jae Myung", "PERSON"))
    # the name after the role ("under the Lee Jae Myung administration") modifies it; it does not hold it
    assert _short_tagged("Who is the Minister of Science and ICT?", s, *named) == ("Bae Kyung-hoon", "role-subject")
    # a name in brackets is an aside, not the subject
    s = "In Ancient Greece, Diocles of Carystus (4th century BC) was one of several men studying plants."
    assert _short_tagged("Who was a man studying plants in Ancient Greece?", s, ("Diocles of Carystus", "PERSON"),
                         ("BC", "ORG"))[0] == "Diocles of Carystus"
    # not a role question: the rule stays out
    assert _short_tagged("Who met Bae in Seoul?", "Jensen Huang met Bae, who is minister, in Seoul.",
                         ("Jensen Huang", "PERSON"))[1] != "role-subject"


def test_short_answer_of_a_measure_is_the_figure_before_the_noun_with_its_unit():
    s = "Rubin is stated to have 50 petaflops performance in FP4 (4-bit floating point math), up from 20 petaflops."
    short, reason = _short_tagged("What FP4 performance is Rubin stated to have?", s)
    assert (short, reason) == ("50 petaflops", "typed-head")
    # modifiers between figure and noun are not taken, and a figure with no unit after it stays bare
    s = "The talks follow a pledge of about 260,000 advanced chips."
    assert _short_tagged("How many advanced chips were pledged?", s)[0] == "about 260,000"
    assert _short_tagged("How many chips were pledged?", s)[0] == "about 260,000"


def test_short_answer_of_what_a_thing_is_named_after_is_the_whole_name():
    s = "It is named after astrophysicist Vera Rubin and will consist of a GPU named Rubin and a CPU named Vera."
    named = (("Vera Rubin", "PERSON"), ("Rubin", "PERSON"), ("Vera", "PERSON"))
    assert _short_tagged("Who is Rubin named after?", s, *named) == ("Vera Rubin", "namesake")
    # even when the question names it too: the chip and the astronomer share the name
    assert _short_tagged("vera rubin named after who", s, *named) == ("Vera Rubin", "namesake")
    assert _short_tagged("Who designed Rubin?", s, *named)[1] != "namesake"


def test_a_value_question_takes_the_figure_a_change_came_to():
    s = ("Operating profit for the quarter rose 62% from a year earlier to 11.38 trillion won, the first time its "
         "quarterly profit topped 10 trillion won.")
    assert _short("What was the operating profit in the quarter?", s) == "11.38 trillion won"
    assert _short("By how much did operating profit rise?", s) == "62%"  # the change, when that is asked


def test_a_question_for_the_year_before_takes_the_figure_dated_a_year_before():
    from rag.short import prefer_year_ago

    s = "Our effective tax rate was 13.6% for the quarter, compared with 7.1% a year ago."
    spans = pattern_spans(s)
    q = "What was the effective tax rate a year ago?"
    this_year = (s.index("13.6%"), s.index("13.6%") + 5)
    span = prefer_year_ago(q, s, spans, this_year)
    assert s[span[0]:span[1]] == "7.1%"
    first = short_answer("What was the effective tax rate?", "percent", s, spans)
    assert prefer_year_ago("What was the effective tax rate?", s, spans, first) == first  # not asked
    # a row: the column beside the one it would take (each period beside the same one a year earlier)
    row = "Effective tax rate 12.5 % 15.7 % 14.6 % 16.3 %"
    assert _short("What was the tax rate?", row, table_row=True, as_asked="... for the same quarter a year ago?") \
        == "15.7 %"
    assert _short("What was the tax rate?", row, table_row=True,
                  as_asked="... for the first nine months of the prior year?") == "16.3 %"


def test_a_year_to_date_question_takes_the_ten_qs_year_to_date_column():
    row = "Effective tax rate 12.5 % 15.7 % 14.6 % 16.3 %"  # three months 2023, 2022; nine months 2023, 2022
    q = "What was the effective tax rate?"
    assert _short(q, row, table_row=True) == "12.5 %"
    assert _short(q, row, table_row=True, as_asked=f"{q[:-1]} for the first nine months of fiscal 2023?") == "14.6 %"
    # a row of two columns has no year-to-date column to pick
    assert _short(q, "Effective tax rate 12.5 % 15.7 %", table_row=True, as_asked="... first nine months?") == "12.5 %"


def test_a_rows_column_is_the_period_its_header_dates_in_either_order():
    header = ["Three Months Ended March 31,", "2021 2022"]  # Uber sets last year's column first
    row = "Research and development 515 587"
    q = "What was research and development expense?"
    assert _short(q, row, table_row=True, header=header) == "587"  # the latest period when none is named
    assert _short(q, row, table_row=True, header=header, as_asked=f"{q[:-1]} in the first quarter of 2021?") == "515"
    assert _short(q, row, table_row=True, header=header, as_asked=f"{q[:-1]} a year ago?") == "515"
    # a fiscal year need not be a column's calendar year: the latest column, as without a year
    assert _short(q, row, table_row=True, header=header, as_asked=f"{q[:-1]} in fiscal 2021?") == "587"
    # Apple and NVIDIA set this year's first, then the year to date
    header = ["Three Months Ended Six Months Ended", "April 1, 2023 March 26, 2022 April 1, 2023 March 26, 2022"]
    row = "Total net sales $ 94,836 $ 97,278 $ 211,990 $ 221,223"
    assert _short("What were total net sales?", row, table_row=True, header=header) == "$ 94,836"
    assert _short("What were total net sales in Q2 2022?", row, table_row=True, header=header) == "$ 97,278"
    assert _short("What were total net sales?", row, table_row=True, header=header,
                  as_asked="What were total net sales in the first six months of 2023?") == "$ 211,990"
    # columns of quarters: the quarter and the year asked
    header = ["(In millions) Q3 2021 Q4 2021 Q1 2022"]
    row = "Freight 402 1,082 1,823"
    assert _short("What were Freight bookings?", row, table_row=True, header=header) == "1,823"
    assert _short("What were Freight bookings in Q4 2021?", row, table_row=True, header=header) == "1,082"
    # a rate asked of a row of sums: its only percentage is their change, so the row gives no answer
    header = ["Three Months Ended March 31,", "(In millions, except percentages) 2021 2022 % Change"]
    assert _short("What was the Mobility take rate?", "Mobility $ 853 $ 2,518 195 %", table_row=True,
                  header=header) is None
    assert _short("What was the tax rate?", "Effective tax rate 12.5 % 15.7 %", table_row=True,
                  header=["2021 2022"]) == "15.7 %"


def test_figures_said_respectively_pair_with_their_years():
    from rag.short import prefer_respective

    s = ("We recorded an income tax expense/(benefit) of $185 million and $(232) million for the three months ended "
         "March 31, 2021 and 2022, respectively.")
    first = (s.index("$185"), s.index("$185") + len("$185 million"))

    def said(q):
        span = prefer_respective(q, s, first)
        return s[span[0]:span[1]]

    assert said("What was the income tax benefit for the three months ended March 31, 2022?") == "$(232) million"
    assert said("What was the income tax expense in 2021?") == "$185 million"
    assert said("What was the income tax expense?") == "$(232) million"  # the latest, when no year is named
    assert said("What was the income tax expense a year ago?") == "$185 million"
    plain = "Revenue was $6.9 billion in 2022 and costs were $7.3 billion in 2021."  # nothing said respectively
    assert prefer_respective("What was revenue in 2021?", plain, (12, 24)) == (12, 24)


def test_a_clause_that_holds_more_of_the_question_gives_the_figure():
    from rag.short import prefer_asked_clause

    s = ("Unrealized loss on securities was $5.6 billion, including: a $1.9 billion unrealized loss on our Grab "
         "investment; a $1.7 billion unrealized loss on our Aurora investments; and a $462 million unrealized loss "
         "on our Zomato investment.")
    spans = pattern_spans(s)
    last = next(sp for sp in spans if sp.text == "$462 million")
    span = prefer_asked_clause("How much was the unrealized loss on the Grab investment?", s, spans,
                               (last.start, last.end))
    assert s[span[0]:span[1]] == "$1.9 billion"
    # a clause that only holds more by the question's own figure does not answer it
    s = ("In cold periods rain tends to be higher in oxygen-16, and the seawater left behind tends to be higher "
         "in oxygen-18.")
    spans = [Span(s.index(w), s.index(w) + len(w), w, "CARDINAL") for w in ("oxygen-16", "oxygen-18")]
    q = "During what climate is oxygen-18 in seawater higher?"
    assert prefer_asked_clause(q, s, spans, (spans[0].start, spans[0].end)) == (spans[0].start, spans[0].end)


def test_column_periods_read_the_header_line_that_dates_the_most_columns():
    from rag.short import column_periods

    assert column_periods(["As of December 31, 2021 As of March 31, 2022"]) == [(2021, 0), (2022, 0)]
    assert column_periods(["Three Months Ended", "Q4 2021 Q1 2022"]) == [(2021, 4), (2022, 1)]
    assert column_periods(["Fiscal 2023 Highlights"]) == []  # one year dates no columns
    assert column_periods(["Total 12,020 2,021"]) == []  # figures are no years


def test_a_span_that_spells_out_the_questions_abbreviation_is_not_the_answer():
    s = "He obtained a Master of Business Administration (MBA) from Columbia Southern University in 2005."
    named = (("a Master of Business Administration", "ORG"), ("Columbia Southern University", "ORG"))
    assert _short_tagged("Where did he obtain his MBA?", s, *named)[0] == "Columbia Southern University"
    # without the abbreviation in the question the spelt-out name is a candidate like any other
    assert _short_tagged("What degree did he obtain in 2005?", s, *named)[0] is not None


def test_why_and_how_questions_have_no_short_answer_the_sentence_answers_them():
    s = "Fresno has only UHF stations, to avoid interference with existing VHF stations in Los Angeles."
    for q in ("Why does Fresno only have UHF stations?", "How does Fresno avoid interference?",
              "프레즈노에는 왜 UHF 방송국만 있나요?"):
        assert short_answer_reason(q, question_type(q), s, pattern_spans(s) + [
            Span(s.index("Los Angeles"), s.index("Los Angeles") + 11, "Los Angeles", "GPE")])[1] == "clause"
    assert _short("How many stations does Fresno have?", "Fresno has 12 stations.") == "12"  # a figure is asked


def test_short_answer_after_the_preposition_the_question_ends_on():
    s = "Korea wants to build an AI factory based on Nvidia’s Vera Rubin platform, officials said in 2025."
    spans = [Span(s.index("Nvidia"), s.index(" platform"), "Nvidia’s Vera Rubin", "ORG"),
             Span(s.index("2025"), s.index("2025") + 4, "2025", "DATE")]
    span = short_answer("What is the AI factory built on?", None, s, spans)
    assert span is not None and s[span[0]:span[1]] == "Nvidia’s Vera Rubin"
    # without the preposition, the name nearest the question's words is taken
    span = short_answer("What did officials say about the AI factory?", None, s, spans)
    assert span is not None and s[span[0]:span[1]] == "Nvidia’s Vera Rubin"


def test_short_answer_of_a_table_row_is_its_first_figure():
    row = "Total net sales $ 94,836 $ 97,278 $ 211,990 $ 221,223"
    assert _short("What were total net sales in Q2 2023?", row, table_row=True) == "$ 94,836"
    row = "Research and development 7,457 6,387"
    assert _short("How much was spent on research and development?", row, table_row=True) == "7,457"


def test_unit_end_takes_a_spoken_unit_after_a_figure_and_nothing_else():
    from rag.answer_types import unit_end

    for text, figure, whole in (("50 petaflops of compute", "50", "50 petaflops"),
                                ("a 288-gigabyte stack", "288", "288-gigabyte"),
                                ("260,000 advanced chips", "260,000", "260,000"),
                                ("a 3 nm process", "3", "3")):
        at = text.index(figure)
        assert text[at:unit_end(text, at + len(figure))] == whole


def test_a_code_before_the_noun_of_a_what_question_is_a_modifier():
    from rag.evidence import head_noun

    assert head_noun("What FP4 performance is Rubin stated to have?") == "performance"
    assert head_noun("Which HBM4 memory will it use?") == "memory"
    assert head_noun("What chips will Nvidia supply?") == "chips"


def test_dates_of_birth_and_death_are_kept_only_for_questions_about_them():
    from rag.answer_types import drop_life_dates

    s = "Bae Kyung-hoon (born 1976) became minister in July 2025; his mentor died in 2019."
    spans = pattern_spans(s)
    assert {"1976", "July 2025", "2019"} <= {sp.text for sp in spans}
    kept = {sp.text for sp in drop_life_dates("When did Bae become minister?", s, spans)}
    assert "July 2025" in kept and "1976" not in kept and "2019" not in kept
    assert "1976" in {sp.text for sp in drop_life_dates("In what year was Bae born?", s, spans)}
    assert "1976" in {sp.text for sp in drop_life_dates("배경훈은 몇 년에 태어났나요?", s, spans)}


def test_a_degree_s_year_is_kept_only_for_questions_about_study():
    from rag.answer_types import drop_life_dates

    s = ("Bae earned his Bachelor of Science degree in Engineering and Physics in 2001, followed by a Ph.D. in "
         "2006; he joined LG in 2010.")
    spans = pattern_spans(s)
    assert {"2001", "2006", "2010"} <= {sp.text for sp in spans}
    kept = {sp.text for sp in drop_life_dates("When did Bae take office as minister?", s, spans)}
    assert kept >= {"2010"} and not kept & {"2001", "2006"}
    assert {"2001", "2006"} <= {sp.text for sp in drop_life_dates("When did Bae earn his degree?", s, spans)}
    assert "2006" in {sp.text for sp in drop_life_dates("배경훈은 언제 박사 학위를 받았나요?", s, spans)}
    assert not {"2001", "2006"} & {sp.text for sp in drop_life_dates("배경훈 장관은 언제 취임했나요?", s, spans)}


def test_a_measure_is_answered_only_by_figures_in_its_units_or_bare_ones():
    from rag.answer_types import measure_units, stated_unit

    assert measure_units("What memory bandwidth does HBM4 provide?") == {"byte", "bit"}
    assert measure_units("What FP4 performance does Rubin have?") == {"flop"}
    assert measure_units("Who leads the center?") is None
    s = "It uses a 3 nm process, 288 GB of HBM4, 50 petaflops and about 260,000 chips."
    units = {sp.text: stated_unit(s, sp) for sp in pattern_spans(s)}
    assert units == {"3": "meter", "288": "byte", "50": "flop", "about 260,000": None}


def test_a_length_of_time_is_no_answer_to_when():
    from rag.answer_types import drop_durations

    s = "Huang's four-day visit began on October 29; the plague arrived within several days, in the spring of 1349."
    spans = [Span(s.index(t), s.index(t) + len(t), t, "DATE")
             for t in ("four-day", "October 29", "several days", "the spring of 1349")]
    assert [sp.text for sp in drop_durations("date", spans)] == ["October 29", "the spring of 1349"]
    assert len(drop_durations("duration", spans)) == 4  # "how long" wants exactly those


def test_nothing_an_excerpt_cut_is_a_span_that_answers():
    from rag.answer import _uncut

    s = "It is to be signed by representatives of the United Sta [...TRUNCATED...] and by Korea […] later."
    spans = [Span(s.index(t), s.index(t) + len(t), t, label)
             for t, label in (("the United Sta", "GPE"), ("TRUNCATED", "PERSON"), ("Korea", "GPE"))]
    assert [sp.text for sp in _uncut(s, spans)] == []  # "Korea" is cut by "[…]" too
    s = "Signed by Korea and the United States [...] in 2025."
    spans = [Span(s.index(t), s.index(t) + len(t), t, "GPE") for t in ("Korea", "the United States")]
    assert [sp.text for sp in _uncut(s, spans)] == ["Korea"]
    assert _uncut("No cut [1] here.", spans[:1]) == spans[:1]


def test_a_who_question_needs_a_sentence_that_names_someone_it_does_not():
    from rag.answer import _names_someone

    q = "Who will direct Nvidia's Seoul R&D center?"
    s = "A Seoul R&D center could speed up feedback between Korean and Nvidia teams."
    assert not _names_someone(q, s, [Span(s.index("Korean"), s.index("Korean") + 6, "Korean", "NORP")])
    s = "Kim Jung-ho will direct the Seoul R&D center."
    assert _names_someone(q, s, [Span(0, 11, "Kim Jung-ho", "PERSON")])
    s = "The visit included meetings with researchers and startup representatives."
    assert _names_someone("Besides executives, who did Huang meet?", s, [])  # people, though unnamed
    assert not _names_someone("Which researchers did Huang meet?", "Huang met researchers.", [])


def test_a_change_question_reads_the_figure_a_verb_of_change_comes_to():
    from rag.evidence import asks_change
    from rag.short import change_figure, short_answer

    assert asks_change("By how much did Apple's total net sales fall in Q2?")
    assert asks_change("How much did revenue grow year over year?")
    assert asks_change("What was the percentage change in gross margin?")
    assert not asks_change("How much did Apple spend on R&D?")
    assert not asks_change("How much money did Korea pledge?")

    def fig(text: str) -> str | None:
        found = change_figure(text)
        return text[found[0]:found[1]] if found else None

    assert fig("net sales, which decreased 3% or $2.4 billion during the quarter") == "3% or $2.4 billion"
    assert fig("Revenue grew by 12 percent to $5 billion.") == "12 percent"
    assert fig("Margin fell 1.5 percentage points.") == "1.5 percentage points"
    assert fig("Sales increased to $5 billion.") is None  # what they came to, not by how much
    assert fig("revenue of $6.04 billion, down 5% from a year earlier") == "5%"
    assert fig("shares were up to 5% higher") is None
    assert fig("Sales were $5 billion.") is None
    q = "By how much did total net sales fall?"
    row = "Total net sales $ 94,836 $ 97,278 (3)% $ 211,990 $ 221,223 (4)%"
    s, e = short_answer(q, "amount", row, [], table_row=True)
    assert row[s:e] == "(3)%"  # the change column, not the period's level
    s, e = short_answer("What were total net sales?", "amount", row, [], table_row=True)
    assert row[s:e] == "$ 94,836"


def test_the_unit_a_question_asks_for_may_be_written_as_a_symbol_or_in_korean():
    assert asked_unit("How many GB of memory does it have?") == ("byte", "giga")
    assert asked_unit("루빈 울트라의 메모리 용량은 몇 GB인가요?") == ("byte", "giga")
    assert asked_unit("How many TB?") == ("byte", "tera")
    assert asked_unit("How many days did he stay?") is None
    assert asked_unit("몇 개인가요?") is None


def _span(sentence: str, text: str, label: str, nth: int = 0) -> Span:
    start = -1
    for _ in range(nth + 1):
        start = sentence.index(text, start + 1)
    return Span(start, start + len(text), text, label)


def test_a_figure_is_read_in_the_clause_of_the_variant_asked():
    from rag.short import prefer_asked_variant

    s = ("Rubin is stated to have 50 petaflops performance in FP4, increased from 20 petaflops in Blackwell, "
         "while Rubin Ultra will double the performance of Rubin with 100 petaflops.")
    spans = [_span(s, "50", "CARDINAL"), _span(s, "20", "CARDINAL"), _span(s, "100", "CARDINAL"),
             _span(s, "Rubin Ultra", "PERSON")]
    fifty, hundred = (s.index("50"), s.index("50") + 2), (s.index("100"), s.index("100") + 3)
    with_unit = (s.index("50"), s.index("50") + len("50 petaflops"))
    assert prefer_asked_variant("What is the FP4 performance of Rubin Ultra?", s, spans, with_unit) == (
        hundred[0], hundred[0] + len("100 petaflops"))  # with its unit, as chosen
    assert prefer_asked_variant("What is Rubin's FP4 performance?", s, spans, hundred) == fifty
    assert prefer_asked_variant("What is Rubin's FP4 performance?", s, spans, fifty) == fifty
    assert prefer_asked_variant("What is Blackwell's FP4 performance?", s, spans, fifty) == fifty  # not asked
    # a name is not swapped for the other variant's: only figures and dates are
    name = (spans[3].start, spans[3].end)
    assert prefer_asked_variant("Which GPU has 50 petaflops, Rubin?", s, spans, name) == name
    phones = "The iPhone 15 starts at $799; the iPhone 15 Pro starts at $999."
    spans = [_span(phones, "$799", "MONEY"), _span(phones, "$999", "MONEY")]
    at = phones.index("$799"), phones.index("$799") + 4
    assert prefer_asked_variant("How much is the iPhone 15 Pro?", phones, spans, at) == (
        phones.index("$999"), phones.index("$999") + 4)


def test_a_period_named_by_its_kind_alone_dates_nothing():
    from rag.answer_types import drop_durations

    spans = [Span(0, 11, "the quarter", "DATE"), Span(12, 16, "2024", "DATE"), Span(17, 26, "last year", "DATE"),
             Span(27, 36, "each year", "DATE")]
    assert [sp.text for sp in drop_durations("date", spans)] == ["2024", "last year"]
    assert len(drop_durations("count", spans)) == 4  # only a when-question drops them


def test_the_name_set_after_the_asked_noun_by_a_comma_or_a_colon_answers():
    from rag.short import asked_noun

    assert asked_noun("What is Rubin's successor?") == "successor"
    assert asked_noun("What is the successor of Blackwell?") == "successor"
    assert asked_noun("what comes after rubin") == "successor"
    assert asked_noun("What architecture preceded Rubin?") == "predecessor"
    assert asked_noun("블랙웰의 후속 아키텍처는 무엇인가요?") == "successor"
    assert asked_noun("What platform is it on?") == "platform"
    s = "Nvidia uses Blackwell GPUs to design Vera and Rubin, as well as Rubin's successor, Feynman.[3]"
    span, reason = short_answer_reason("What will succeed Rubin?", None, s, [])
    assert reason == "appositive" and s[span[0]:span[1]] == "Feynman"
    span, reason = short_answer_reason("What came before Rubin?", None, "Predecessor: Blackwell", [])
    assert reason == "appositive" and span == (13, 22)
    # an apposition needs a possessive, and a name followed by "said" is who said it
    for sentence in ("Korea plans an AI factory, Bae said.", "Nvidia's successor plan, Kim said, is ready."):
        assert short_answer_reason("What is Nvidia's successor plan?", None, sentence, [])[1] != "appositive"
    # a name the question already holds is no answer, nor is the successor of another than the one asked
    assert short_answer_reason("Is Feynman Rubin's successor?", None, s, [])[1] != "appositive"
    assert short_answer_reason("What will succeed Blackwell?", None, s, [])[1] != "appositive"
    # an owner the possessive cannot be read from (a closing quote before it) owns nothing asked
    assert short_answer_reason("What is the successor?", None, "“Rubin”’s successor, Feynman, is next.", [])[1] \
        != "appositive"


def test_a_figure_the_currency_follows_is_money():
    from rag.answer_types import Span, _with_currency

    text = "Naver plans to invest 1 trillion won in AI infrastructure."
    a = text.index("1 trillion")
    got = _with_currency(text, Span(a, a + len("1 trillion"), "1 trillion", "QUANTITY"))  # as spaCy tags it
    assert (got.text, got.label) == ("1 trillion won", "MONEY")
    b = text.index("AI")
    assert _with_currency(text, Span(b, b + 2, "AI", "GPE")).label == "GPE"
    text = "It costs $999."
    c = text.index("999")
    assert _with_currency(text, Span(c, c + 3, "999", "CARDINAL")).text == "$999"


def test_a_figure_is_read_in_the_clause_of_the_time_asked():
    from rag.short import prefer_asked_time

    s = ("The plant currently employs about 1,340 workers and is expected to employ 8,500 people at full capacity, "
         "the company said.")
    spans = pattern_spans(s)
    now, ahead = s.index("about 1,340"), s.index("8,500")
    near_now = (now, now + len("about 1,340"))
    assert prefer_asked_time("How many workers will it employ at full capacity?", s, spans, near_now) == (ahead, ahead + 5)
    assert prefer_asked_time("How many people does it employ now?", s, spans, (ahead, ahead + 5)) == near_now
    # a question that names no time keeps the choice, and so does one whose "will" is only its grammar
    assert prefer_asked_time("How many workers does the plant employ?", s, spans, near_now) == near_now
    assert prefer_asked_time("How many workers will the plant employ?", s, spans, near_now) == near_now


def test_what_something_would_do_is_answered_by_the_sentence_not_a_name_in_it():
    s = "Bae said he hopes Nvidia's planned AI research and development center in Seoul can grow into a base."
    assert short_answer_reason("What would the Seoul R&D center do?", None, s, pattern_spans(s)) == (None, "clause")
    assert short_answer_reason("What does Nvidia do?", None, s, pattern_spans(s))[1] == "clause"
    assert short_answer_reason("What will Nvidia build in Seoul?", None, s, pattern_spans(s))[1] != "clause"


def test_a_date_is_read_in_the_clause_that_holds_the_questions_words():
    from rag.short import prefer_asked_clause

    s = ("He completed his Master of Science in Computer Vision at the same university in 2003, followed by a "
         "Doctor of Philosophy (Ph.D.) in Computer Vision from Kwangwoon University in 2006.")
    spans = pattern_spans(s)
    a, b = s.index("2003"), s.index("2006")
    assert prefer_asked_clause("When did he receive his Ph.D.?", s, spans, (a, a + 4)) == (b, b + 4)
    assert prefer_asked_clause("When did he complete his Master of Science?", s, spans, (a, a + 4)) == (a, a + 4)
    # a short opening clause dates the rest of its sentence
    s = "In 2019, the company was founded in Seoul, and in 2021 the company moved to Busan."
    spans = pattern_spans(s)
    a = s.index("2019")
    assert prefer_asked_clause("When was the company founded?", s, spans, (a, a + 4)) == (a, a + 4)


def test_a_name_that_holds_the_questions_name_is_the_questions_own():
    from rag.short import _asked_names, is_asked_name

    s = "President Lee Jae Myung welcomed President Donald J. Trump for a State Visit on October 29."
    names = _asked_names("Who welcomed Trump for a state visit?")
    assert names == [{"trump"}]
    assert is_asked_name(s, s.index("Donald"), s.index(" for a State"), names)
    assert not is_asked_name(s, s.index("Lee"), s.index(" welcomed"), names)
    span, _ = short_answer_reason("Who welcomed Trump for a state visit?", "person", s, Tagger().spans([s])[0])
    assert s[span[0]:span[1]] == "Lee Jae Myung"
    # "Vera Rubin" is another than the "Rubin" the sentence also names on its own
    s = "It is named after astrophysicist Vera Rubin and will consist of a GPU named Rubin."
    assert not is_asked_name(s, s.index("Vera"), s.index(" and will"), _asked_names("Who is Rubin named after?"))
