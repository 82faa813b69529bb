"""The Korean-English glossary: what a Korean question's words add for matching English sentences."""

from __future__ import annotations

from rag.glossary import GLOSSARY, english_words


def test_words_with_particles_get_their_english_renderings():
    names, words = english_words("루빈 칩은 어느 회사가 제조하나요?")
    assert names == ["Rubin"]
    assert {"chips", "company", "manufacture", "manufactured"} <= set(words)


def test_the_longest_key_wins_and_its_parts_are_not_read_again():
    names, words = english_words("엔비디아 최고경영자는 누구입니까?")
    assert set(names) == {"CEO", "Nvidia"}
    assert "chief" in words and "executive" in words
    assert english_words("젠슨 황은 서울에 며칠 머물렀나요?")[0] == ["Jensen", "Huang", "Seoul"]


def test_names_come_in_the_questions_order():
    # "루빈 울트라" is "Rubin Ultra", as an English question names the variant, though "울트라" is the longer key
    assert english_words("루빈 울트라는 언제 출시되나요?")[0] == ["Rubin", "Ultra"]
    assert english_words("삼성전자와 엔비디아는 무엇에 합의했나요?")[0] == ["Samsung", "Electronics", "Nvidia"]


def test_a_question_without_glossary_words_adds_nothing():
    assert english_words("이것은 무엇입니까?") == ([], [])
    assert english_words("What chips will Nvidia supply?") == ([], [])


def test_every_entry_is_hangul_with_english_renderings():
    assert len(GLOSSARY) > 200
    for key, english in GLOSSARY.items():
        assert all("\uac00" <= ch <= "\ud7a3" or ch == " " for ch in key.replace("AI", "")), key
        assert english and all(w.isascii() for w in english), key


def test_a_korean_count_question_counts_the_noun_next_to_its_question_word():
    from rag.glossary import counted_noun

    assert counted_noun("엔비디아가 한국에 공급하기로 한 칩은 몇 개인가요?") == "chips"
    assert counted_noun("몇 개의 칩을 받나요?") == "chips"
    assert counted_noun("루빈 GPU는 어느 회사가 제조하나요?") == ""  # no count asked
    assert counted_noun("직원은 몇 명인가요?") == "employees"


def test_a_previous_one_is_also_a_predecessor():
    assert "predecessor" in english_words("루빈 이전 아키텍처는 무엇인가요?")[1]


def test_the_words_of_a_results_story_have_renderings():
    # a Korean question about quarterly results: its finance words meet the English story's
    words = english_words("SK하이닉스의 최고재무책임자는 누구이고 주가는 얼마에 마감했나? 영업이익률은?")[1]
    for w in ("chief", "financial", "officer", "shares", "closed", "operating", "margin"):
        assert w in words, w


def test_the_line_items_of_a_quarterly_filing_have_renderings():
    # the statements' own words: goodwill, free cash flow, interest expense, a segment's revenue, notes' maturity
    words = english_words("2022년 1분기 잉여현금흐름과 이자비용, 배달 부문 매출, 영업권, 전환사채 만기는?")[1]
    for w in ("free", "cash", "flow", "interest", "expense", "delivery", "segment", "goodwill", "convertible",
              "notes", "maturity"):
        assert w in words, w
