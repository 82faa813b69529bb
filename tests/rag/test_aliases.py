"""Names spelled in both scripts by the documents: found by hand-checkable patterns."""

from __future__ import annotations

from rag.aliases import aliases_in, name_aliases


def test_pairs_of_latin_and_hangul_spellings():
    texts = [
        "Bae Kyung-hoon (Korean: 배경훈; born 1976) is a South Korean AI expert.",
        "Samsung Electronics (삼성전자) makes memory. Naver (네이버, an internet company) runs search.",
        "The minister (장관) spoke.",  # a lower-case word is not a name
        "Lee (이) met him.",  # one syllable is too short to find safely inside Korean words
        "Later, Bae Kyung-hoon (배경훈) spoke again. Someone Else (배경훈) too.",
    ]
    found = name_aliases(texts)
    assert found == {"배경훈": "Bae Kyung-hoon", "삼성전자": "Samsung Electronics", "네이버": "Naver"}


def test_aliases_in_a_question_with_particles():
    aliases = {"배경훈": "Bae Kyung-hoon", "삼성전자": "Samsung Electronics"}
    assert aliases_in("배경훈 장관과 만난 사람은 누구입니까?", aliases) == ["Bae Kyung-hoon"]
    assert aliases_in("삼성전자는 칩을 몇 개 받나요?", aliases) == ["Samsung Electronics"]
    assert aliases_in("엔비디아는 무엇을 약속했나요?", aliases) == []
