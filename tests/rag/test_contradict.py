"""Sentences that say otherwise than a question takes for granted are not its evidence."""

from __future__ import annotations

import pytest

from rag.contradict import (
    asks_negated,
    misses_life_event,
    misses_negation,
    names_another_rank,
    names_another_year,
    negates_asked,
    says_opposite,
    says_otherwise,
)

AGREED = "Nvidia agreed to supply roughly 260,000 advanced chips to Korea in 2025."


def test_a_question_about_what_did_not_happen_needs_a_sentence_that_negates():
    assert asks_negated("Which chips did Nvidia not supply?")
    assert asks_negated("What wasn't agreed at APEC?")
    assert asks_negated("Which buyer got no chips?")
    assert not asks_negated("Who is the No. 1 chipmaker?")  # a rank
    assert not asks_negated("Did Nvidia supply the chips or not?")  # "or not" asks nothing negative
    assert not asks_negated("Which firms will not only buy chips but build factories?")
    assert misses_negation("Which chips did Nvidia not agree to supply?", AGREED)
    assert not misses_negation("Which chips did Nvidia not agree to supply?",
                               "Nvidia did not agree to supply its Rubin Ultra chips before 2027.")
    assert not misses_negation("Which chips did Nvidia not agree to supply?",
                               "Nvidia agreed to supply Blackwell chips rather than Hopper chips.")
    assert not misses_negation("Which chips did Nvidia agree to supply?", AGREED)
    # "failed to" asks what did not happen too
    assert asks_negated("Which chips did Nvidia fail to deliver?")
    assert misses_negation("What have many members failed to join?", "Many members have gone on to join groups.")
    assert not misses_negation("What have many members failed to join?", "Many members failed to join the party.")


def test_a_sentence_that_ranks_otherwise_than_asked():
    q = "When was Warsaw ranked as the 22nd most liveable city in the world?"
    assert names_another_rank(q, "In 2012 the Economist ranked Warsaw as the 32nd most liveable city in the world.")
    assert not names_another_rank(q, "In 2012 the Economist ranked Warsaw as the 22nd most liveable city.")
    assert not names_another_rank(q, "In 2012 Warsaw was ranked among the most liveable cities.")  # no rank said
    # a rank in words is the same rank; a century is a date (the years' test), not a rank
    assert not names_another_rank("Who was Genghis's 3rd son?", "Genghis' third son, Ogedei Khan, ruled.")
    assert not names_another_rank("What grew in the 19th century?", "In the 18th century it grew.")
    assert says_otherwise(q, "In 2012 the Economist ranked Warsaw as the 32nd most liveable city in the world.",
                          years=False)


def test_a_sentence_that_denies_what_the_question_asserts():
    assert negates_asked("What did the ministry approve?", "The ministry did not approve the data center plan.")
    assert negates_asked("What should the fund cover?", "The fund should never cover operating losses.")
    # the sentence goes on to say what is so
    assert not negates_asked("What did the ministry approve?",
                             "The ministry did not approve the whole plan, only its first phase.")
    # the negation is about something else
    assert not negates_asked("What did the ministry approve?",
                             "The ministry approved the plan, which does not need a budget.")
    assert not negates_asked("What did the ministry not approve?", "The ministry did not approve the plan.")


@pytest.mark.parametrize("question, text", [
    ("Which region saw sales increase?", "Sales in Europe decreased 4% in the quarter."),
    ("By how much did exports fall?", "Exports rose 12% in the first year."),  # "rose" is "rise"
    ("Who will succeed Rubin?", "Predecessor: Blackwell"),
    ("Which company is the largest buyer?", "Samsung is the smallest of the four buyers."),
    ("What lies north of the river?", "The new campus lies west of the river."),
    ("What runs in non-volatile memory?", "The firmware runs in volatile memory."),
    ("How is unencrypted traffic routed?", "Encrypted traffic is routed through the gateway."),
])
def test_a_sentence_that_says_the_opposite(question, text):
    assert says_opposite(question, text)


@pytest.mark.parametrize("question, text", [
    ("Which region saw sales increase?", "Sales increased in Europe and decreased in Japan."),  # says both
    # "declined" is a drop
    ("When did orders first drop?", "Orders declined in 2023 as interest rates kept increasing."),
    ("What did South Korea agree to?", "Korea, in East Asia, agreed to host the factory."),  # place names
    ("What is unequal between the two plans?", "The budgets of the two plans are not equal."),  # "not equal"
    ("What did the union ask for?", "The workers asked for higher wages."),  # "union" is no negated "ion"
    ("Who owns the largest share?", AGREED),
])
def test_a_sentence_that_does_not_say_the_opposite(question, text):
    assert not says_opposite(question, text)


def test_a_sentence_dated_to_other_years_than_asked():
    assert names_another_year("What did Nvidia pledge in 2023?", AGREED)
    assert names_another_year("What was built in the 19th century?", "The bridge was built in 1788.")
    assert not names_another_year("What did Nvidia pledge in 2025?", AGREED)
    assert not names_another_year("What happened in the 2020s?", AGREED)  # the decade holds the year
    assert not names_another_year("How did the rate change between 2004 and 2014?",
                                  "The rate from 2000 to 2005 was 18% higher.")  # the ranges overlap
    assert not names_another_year("Who led the country in the 1960's?", "At the conference in 1960 he spoke.")
    assert not names_another_year("What did Nvidia pledge in 2023?", "Nvidia pledged chips to Korea.")  # no year
    assert not names_another_year("What were sales of $2,024 million?", "Sales were $1,999 million in 2025.")


def test_says_otherwise_reads_years_only_when_asked():
    assert says_otherwise("What did Nvidia pledge in 2023?", AGREED)
    assert not says_otherwise("What did Nvidia pledge in 2023?", AGREED, years=False)
    assert not says_otherwise("How many advanced chips will Nvidia supply to Korea?", AGREED)


def test_a_birth_or_death_asked_needs_a_sentence_that_states_it():
    bio = "Kim Min-jun (born 1971) became the plant's director in 2019."
    assert not misses_life_event("When was Kim Min-jun born?", bio)
    assert misses_life_event("When was Kim Min-jun born?", "Kim Min-jun became the plant's director in 2019.")
    assert misses_life_event("When did Kim Min-jun die?", bio)  # a birth is no death
    assert not misses_life_event("When did Lee die?", "Lee Kun-hee (1942–2020) led Samsung.")
    assert not misses_life_event("When did Kim become director?", "Kim became the plant's director in 2019.")
