"""Sentence splitting of wrapped PDF text: a line break that only wraps a sentence does not end it; headings,
list items, table rows and lines that end a sentence still stand alone."""

from __future__ import annotations

from ingest.text import sentence_spans

FILING = (
    "Court of the Court of Justice of the European Union (the “General Court”). On July 15, 2020, the General Court "
    "annulled the State Aid Decision. On September\n"
    "25, 2020, the European Commission appealed the General Court’s decision to the European Court of Justice and a "
    "hearing has been scheduled for May 23,\n"
    "2023. The Company believes it would be eligible to claim a credit.\n"
    "Item 2. Management’s Discussion and Analysis of Financial Condition and Results of Operations\n"
    "this Item 2 contains forward-looking statements.\n"
    "Total net sales and a long row label that goes on and on and on $ 94,836 $ 97,278\n"
    "cost of sales 30,100 29,900\n"
    "- Agreed volume: about 260,000 advanced chips and a long list item that goes on\n"
    "- Next item\n"
    "A sentence-case heading that runs well past fifty characters\n"
    "The paragraph under it.\n"
    "A wrapped paragraph of prose that stops at the page's right margin and\n"
    "\n"
    "continues after a blank line as a new paragraph.\n"
)


def _sentences(text: str) -> list[str]:
    return [text[s:e] for s, e in sentence_spans(text)]


def test_a_wrapped_sentence_is_one_sentence_with_its_text_as_written():
    got = _sentences(FILING)
    assert ("On September\n25, 2020, the European Commission appealed the General Court’s decision to the European "
            "Court of Justice and a hearing has been scheduled for May 23,\n2023.") in got
    assert "The Company believes it would be eligible to claim a credit." in got


def test_headings_list_items_table_rows_and_paragraphs_still_end_at_the_line():
    got = _sentences(FILING)
    for line in ("Management’s Discussion and Analysis of Financial Condition and Results of Operations",
                 "Total net sales and a long row label that goes on and on and on $ 94,836 $ 97,278",
                 "- Agreed volume: about 260,000 advanced chips and a long list item that goes on", "- Next item",
                 "A sentence-case heading that runs well past fifty characters",
                 "A wrapped paragraph of prose that stops at the page's right margin and"):
        assert line in got


def test_short_lines_are_never_joined():
    assert _sentences("Three Months Ended\nmarch 2023 and april\n") == ["Three Months Ended", "march 2023 and april"]


def test_a_month_abbreviation_before_a_day_does_not_end_the_sentence():
    text = "Samsung is scheduled to report results on Oct. 30. Shares rose in Oct. They fell later."
    assert _sentences(text) == ["Samsung is scheduled to report results on Oct. 30.", "Shares rose in Oct.",
                                "They fell later."]


def test_a_line_of_prose_that_stops_on_a_figure_goes_on_in_the_next():
    text = ("Additionally, during the first quarter of 2022, we saw a $200\n"
            "million increase in Mobility revenue as a result of business model changes in the UK.\n"
            "Revenue and other long row labels that go on and on for a while $ 2,903 $ 6,854\n"
            "marketing and other costs 1,103 1,263\n")
    assert _sentences(text) == [
        ("Additionally, during the first quarter of 2022, we saw a $200\nmillion increase in Mobility revenue as a "
         "result of business model changes in the UK."),
        "Revenue and other long row labels that go on and on for a while $ 2,903 $ 6,854",  # a row: two figures
        "marketing and other costs 1,103 1,263"]
