"""Document scoping: periods, latest/earliest, named sources."""

from __future__ import annotations

from datetime import date

from rag.scope import parse_date, profile, quarters_in, resolve


def _profiles():
    docs = [
        ("2023 Q1 ACME.pdf", "", {}, "FORM 10-Q\nFor the quarterly period ended December 31, 2022\nACME Inc."),
        ("2023 Q2 ACME.pdf", "", {}, "FORM 10-Q\nFor the quarterly period ended April 1, 2023\nACME Inc."),
        ("2022 Q3 ACME.pdf", "", {}, "FORM 10-Q\nFor the quarterly period ended June 25, 2022\nACME Inc."),
        ("wikipedia_rubin.txt", "Rubin (microarchitecture)", {"publisher": "Wikipedia", "date": "2026-05-01"},
         "Rubin is a microarchitecture."),
        ("us_wh_fact_sheet.txt", "Joint Fact Sheet on the State Visit", {"publisher": "The White House",
                                                                        "date": "2025-11-13"}, "Fact sheet."),
    ]
    return [profile(*d) for d in docs]


def test_quarters_and_dates_are_parsed():
    assert quarters_in("in the Q2 2023 10-Q") == {(2023, 2)}
    assert quarters_in("2023 Q1 AAPL") == {(2023, 1)}
    assert quarters_in("Apple's third quarter of fiscal 2022") == {(2022, 3)}
    assert quarters_in("fiscal 2023 first quarter") == {(2023, 1)}
    assert quarters_in("Q3 FY23") == {(2023, 3)}
    # a 10-Q reports the year to date: its nine months are the third quarter's filing, six months the second's
    assert quarters_in("the tax rate for the first nine months of fiscal 2023") == {(2023, 3)}
    assert quarters_in("first six months of 2022") == {(2022, 2)}
    assert quarters_in("the nine months of growth in 2023") == set()  # not "the first" months of a year
    assert quarters_in("2025 회계연도 2분기 영업비용은?") == {(2025, 2)} and quarters_in("2023년 3분기 매출") == {(2023, 3)}
    assert parse_date("period ended April 1, 2023") == date(2023, 4, 1)
    assert parse_date("2025-11-13 (describes)") == date(2025, 11, 13)
    assert profile("x.pdf", "", {}, "For the quarterly period ended July 1, 2023").date == date(2023, 7, 1)


def test_a_named_quarter_or_period_scopes_to_its_filing():
    p = _profiles()
    assert resolve("What were net sales in the Q2 2023 10-Q?", p).doc_ids == ("2023 Q2 ACME.pdf",)
    assert resolve("R&D expense in the first quarter of fiscal 2023?", p).doc_ids == ("2023 Q1 ACME.pdf",)
    s = resolve("Net sales for the quarter ended June 25, 2022?", p)
    assert s.doc_ids == ("2022 Q3 ACME.pdf",) and "June 25, 2022" in s.description


def _edgar_filing(period: str, quarter: str, year: int) -> str:
    # named as EDGAR names a filing, which says no quarter: the text says which, again and again
    return (f"FORM 10-Q\nFor the quarterly period ended {period}\nNVIDIA Corporation\n"
            + f"Revenue for the {quarter} quarter of fiscal year {year} was up. " * 4
            + f"Compared with the {quarter} quarter of fiscal year {year - 1}, margins rose. "
            + f"Revenue in the first quarter of fiscal year {year} was lower. ")


def test_a_filing_whose_name_says_no_quarter_covers_the_one_its_text_names_most():
    from rag.scope import reported_quarter

    p = [profile("nvda-20240428.pdf", "0001045810-24-000124", {}, _edgar_filing("April 28, 2024", "first", 2025)),
         profile("nvda-20240728.pdf", "0001045810-24-000264", {}, _edgar_filing("July 28, 2024", "second", 2025))]
    assert p[0].quarters == {(2025, 1)} and p[1].quarters == {(2025, 2)}
    assert resolve("What was R&D expense in the second quarter of fiscal 2025?", p).doc_ids == ("nvda-20240728.pdf",)
    assert resolve("What was gross margin in Q1 FY2025?", p).doc_ids == ("nvda-20240428.pdf",)
    # no quarter stands out (a tie, or too few mentions): none is assumed
    assert reported_quarter("the first quarter of 2022. the second quarter of 2022.") is None
    assert reported_quarter("Q1 2022 sales. " * 3 + "Q2 2022 sales. " * 3) is None
    # a document that is no periodic report keeps the quarters its name says, none here
    # the period's end bounds the fiscal year: a filing for the quarter ended March 31, 2022 that names 2021's
    # first quarter most still reports no quarter of 2021
    assert reported_quarter("the first quarter of 2021. " * 4, date(2022, 3, 31)) is None
    assert reported_quarter("the first quarter of fiscal 2025. " * 4, date(2024, 4, 28)) == (2025, 1)
    story = profile("story.txt", "Results", {}, "Q3 2025 " * 5)
    assert story.quarters == frozenset() and not story.periodic and p[0].periodic


def test_fiscal_years_named_on_their_own():
    from rag.scope import fiscal_years

    assert fiscal_years("What was NVIDIA's revenue in fiscal 2019?") == {2019}
    assert fiscal_years("revenue FY24") == {2024} and fiscal_years("2019 회계연도 매출은?") == {2019}
    # a quarter's fiscal year is the quarter's (`quarters_in`), and a plain year is no fiscal year
    assert fiscal_years("What was revenue in Q2 fiscal 2025?") == set()
    assert fiscal_years("the first nine months of fiscal 2023") == set()
    assert fiscal_years("What did Uber complete in May 2019?") == set()


def test_a_quarter_named_by_its_month_scopes_to_the_filing_whose_period_ends_then():
    p = _profiles()
    s = resolve("What was diluted EPS for the December 2022 quarter?", p)
    assert s.doc_ids == ("2023 Q1 ACME.pdf",) and s.phrase == "the December 2022 quarter"
    # A fiscal quarter may end a few days into the next month: the March quarter ended April 1.
    assert resolve("Net sales in the March 2023 quarter?", p).doc_ids == ("2023 Q2 ACME.pdf",)
    assert resolve("Cash for the quarter ended June 2022?", p).doc_ids == ("2022 Q3 ACME.pdf",)
    assert resolve("What happened in December 2022?", p) is None  # a month, not a quarter


def test_filings_of_several_companies_are_narrowed_to_the_company_the_question_names():
    docs = [("2023 Q2 AAPL.pdf", "0000320193-23-000064", {}, "FORM 10-Q\nFor the quarterly period ended April 1, 2023\nApple Inc."),
            ("2023 Q2 INTC.pdf", "0000050863-23-000069", {}, "FORM 10-Q\nFor the quarterly period ended July 1, 2023\nINTEL CORPORATION"),
            ("2023 Q1 INTC.pdf", "0000050863-23-000030", {}, "FORM 10-Q\nFor the quarterly period ended April 1, 2023\nINTEL CORPORATION")]
    p = [profile(*d) for d in docs]
    assert resolve("What was Intel's revenue in Q2 2023?", p).doc_ids == ("2023 Q2 INTC.pdf",)
    assert resolve("What were net sales in Q2 2023?", p).doc_ids == ("2023 Q2 AAPL.pdf", "2023 Q2 INTC.pdf")
    assert resolve("Apple's net sales for the quarter ended April 1, 2023?", p).doc_ids == ("2023 Q2 AAPL.pdf",)
    assert resolve("What was Apple's gross margin in the latest 10-Q?", p).doc_ids == ("2023 Q2 AAPL.pdf",)
    assert resolve("What was the gross margin in the latest 10-Q?", p).doc_ids == ("2023 Q2 INTC.pdf",)


def test_latest_and_earliest_use_document_dates():
    p = _profiles()
    assert resolve("What was the gross margin in the most recent 10-Q?", p).doc_ids == ("2023 Q2 ACME.pdf",)
    assert resolve("cash in the earliest filing?", p).doc_ids == ("2022 Q3 ACME.pdf",)


def test_named_sources():
    p = _profiles()
    assert resolve("According to Wikipedia, who makes Rubin?", p).doc_ids == ("wikipedia_rubin.txt",)
    assert resolve("What does the White House fact sheet say about shipbuilding?", p).doc_ids == (
        "us_wh_fact_sheet.txt",)


def test_questions_that_name_nothing_have_no_scope():
    p = _profiles()
    assert resolve("What is the latest Nvidia architecture?", p) is None
    assert resolve("How many chips were pledged?", p) is None
    assert resolve("net sales in Q4 2030?", p) is None  # names a quarter no document has
    assert resolve("anything", p[:1]) is None


def test_a_question_for_a_documents_date_names_that_document():
    from rag.scope import dated_document

    profs = [
        profile("mou.txt", "Memorandum of Understanding regarding the U.S.-ROK Technology Prosperity Deal",
                {"publisher": "The White House", "date": "2025-10-29"}, "October 29, 2025\nThe purpose ..."),
        profile("sheet.txt", "Joint Fact Sheet on the Leaders' Meeting", {"publisher": "The White House"}, "..."),
    ]
    assert dated_document("What is the date of the Technology Prosperity Deal MOU?", profs) == (
        "mou.txt", "date of the Technology Prosperity Deal MOU")
    assert dated_document("When was the joint fact sheet published?", profs)[0] == "sheet.txt"
    assert dated_document("tech prosperity deal mou date", profs)[0] == "mou.txt"  # typed as keywords
    assert dated_document("When was the Rubin article published?", profs) is None  # names no document here
    assert dated_document("What does the Technology Prosperity Deal MOU say about AI?", profs) is None
