"""Evidence features and the logistic model: checked by hand and against the optimality conditions."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from rag.evidence import (
    FEATURES,
    MODEL_PATH,
    QUESTION_FEATURES,
    Candidate,
    EvidenceModel,
    QuestionContext,
    expand_abbreviations,
    featurize,
    fit_logistic,
    head_noun,
    header_lines,
    is_heading,
    is_table_row,
)
from rag.types import Hit


def test_irregular_past_forms_meet_their_verb_as_index_terms():
    from rag.evidence import lemma_terms

    assert lemma_terms("What drove revenue?")[0] == lemma_terms("driven by demand")[0] == lemma_terms("drive")[0]
    assert lemma_terms("he became minister")[0] == lemma_terms("to become")[0]  # stemmed alike on both sides


def test_table_rows_and_headings():
    assert is_table_row("Total net sales $ 94,836 $ 97,278 $ 211,990 $ 221,223")
    assert is_table_row("Other income/(expense), net 64 160 (329) (87)")
    assert not is_table_row("Net sales rose 5% to $94.8 billion in the quarter.")
    assert is_heading("A chip supply promise that now needs delivery", line=True)
    assert not is_heading("A chip supply promise that now needs delivery", line=False)
    assert not is_heading("The chips arrive in 2026.", line=True)
    # a fact box's "label figure" line is a fact: "Net profit 12.60 trillion won" under "Key figures"
    assert not is_heading("Net profit 12.60 trillion won", line=True) and not is_heading("Operating margin 47%", True)
    assert is_heading("Page 12", line=True) and is_heading("Top 10 takeaways", line=True)  # a bare number
    # a filing's footnote marks after the figures ("** Percentage not meaningful") leave a row a row
    assert is_table_row("Freight 301 1,824 **") and is_table_row("Adjusted EBITDA $ (359) $ 168 **")
    assert not is_heading("Freight 301 1,824 **", line=True)
    # a period glued to the label is no pair of figures
    assert not is_table_row("Key figures (Q3 2025)") and not is_table_row("FY2024 12 13")


def test_header_lines_are_the_nearest_period_lines_above_a_row():
    doc = ("CONDENSED STATEMENTS\nThree Months Ended\nApril 1, 2023 March 26, 2022\nNet sales:\n"
           "Products $ 73,929 $ 77,457\nTotal net sales 94,836 97,278\n")
    row = doc.index("Total net sales")
    found = [doc[a:b] for a, b in header_lines(doc, row)]
    assert found == ["Three Months Ended", "April 1, 2023 March 26, 2022"]
    assert header_lines("just a row 1 2", 0) == []


def _hit(text, doc_id="d.txt", title="Doc"):
    return Hit(chunk_id="c", doc_id=doc_id, title=title, page=None, start=0, end=len(text), text=text, score=1.0,
               dense_rank=1, bm25_rank=2)


def _cand(text, hit, **kw):
    from ingest.text import terms

    s = hit.text.index(text)
    return Candidate(hit.doc_id, s, s + len(text), text, hit, 0, frozenset(terms(text)), **kw)


def test_features_by_hand():
    text = "Korea pledged chips.\nAgreed volume: about 260,000 advanced chips\nThe volume is large."
    hit = _hit(text)
    from rag.answer_types import pattern_spans

    a = _cand("Agreed volume: about 260,000 advanced chips", hit, line=True)
    a = Candidate(**{**a.__dict__, "spans": tuple(pattern_spans(a.text))})
    b = _cand("The volume is large.", hit)
    ctx = QuestionContext(question="How many advanced chips were agreed?", query="How many advanced chips were agreed?",
                          kind="count", idf=lambda t: 1.0, n_chunks=10, scope=frozenset({"d.txt"}),
                          doc_length=lambda d: len(text))
    X = featurize(ctx, [a, b], np.array([0.8, 0.3]), [1, 3])
    f = dict(zip(FEATURES, X[0]))
    g = dict(zip(FEATURES, X[1]))
    assert f["dense"] == 0.8 and f["dense_gap"] == 0.0 and g["dense_gap"] == pytest.approx(-0.5)
    assert f["typed_question"] == 1 and f["type_present"] == 1 and f["type_novel"] == 1
    assert g["type_present"] == 0
    assert f["type_near"] == 1  # the count comes right before "advanced chips", the words after "how many"
    assert f["bm25_rank"] == 0.5 and f["dense_rank"] == 1.0 and f["passage_rank"] == 1.0
    assert f["repeated"] == 0 and g["repeated"] == 1
    assert f["in_scope"] == 1
    assert f["position"] == pytest.approx(text.index("Agreed") / len(text))
    # "how many advanced chips agreed": terms advanc, chip, agre(e)d -> all in a, none but none in b
    assert f["missing_share"] == 0.0 and g["missing_share"] == 1.0
    assert f["lexical"] > g["lexical"]


def test_head_noun_and_trailing_preposition_features():
    from rag.answer_types import pattern_spans
    from rag.evidence import head_noun, prep_object, trailing_preposition

    assert head_noun("What chips will Nvidia supply?") == "chips" and head_noun("What is it?") is None
    # a Korean question that ends on what a name owns: "루빈의 FP4 성능은?" ("Rubin's FP4 performance?")
    assert head_noun("루빈의 FP4 성능은?") == "performance" and head_noun("루빈의 메모리는 무엇인가?") == "memory"
    assert head_noun("루빈의 성능은? Rubin") == "performance"  # with the Latin words the answerer appends
    assert head_noun("배경훈의 학력은?") is None  # a word the glossary does not know
    assert trailing_preposition("What is the AI factory built on?") == "on"
    assert trailing_preposition("What is the AI factory?") is None
    s = "Korea plans to build an AI factory based on Nvidia’s Vera Rubin platform."
    assert prep_object(s, "on", {"ai", "factory", "build"}, "what is the ai factory built on?") == s.index("Nvidia")
    # the preposition must follow a question word: "on" far from them names nothing
    far = "The factory will be large and expensive, and the decision rests on Seoul."
    assert prep_object(far, "on", {"ai", "factory", "build"}, "what is the ai factory built on?") is None

    text = "Korea pledged chips.\nIt includes about 260,000 advanced chips.\nChips matter in 2025 for Korea."
    hit = _hit(text)
    a = _cand("It includes about 260,000 advanced chips.", hit)
    b = _cand("Chips matter in 2025 for Korea.", hit)
    a, b = (Candidate(**{**c.__dict__, "spans": tuple(pattern_spans(c.text))}) for c in (a, b))
    ctx = QuestionContext(question="What chips will Korea get?", query="What chips will Korea get?", kind=None,
                          idf=lambda t: 1.0, n_chunks=10)
    X = featurize(ctx, [a, b], np.array([0.5, 0.5]), [1, 1])
    head = FEATURES.index("head_near")
    assert X[0, head] == 1 and X[1, head] == 0  # "2025" is not beside "chips"
    ctx = QuestionContext(question="What is the AI factory built on?", query="What is the AI factory built on?",
                          kind=None, idf=lambda t: 1.0, n_chunks=10)
    c = _cand(s, _hit(s))
    X = featurize(ctx, [c], np.array([0.5]), [1])
    assert X[0, FEATURES.index("prep_object")] == 1
    assert X[0, FEATURES.index("lexical")] > 0.5  # "built" meets "build"


def test_keywords_that_end_on_how_many_count_the_word_before():
    from rag.evidence import how_many

    assert how_many("nvidia korea chips how many") == "chips"
    assert how_many("How many chips will Nvidia supply?") == "chips"
    assert how_many("Nvidia supplies chips") == ""


def test_a_keyword_search_names_its_head_noun_last():
    assert head_noun("rubin memory") == "memory"
    assert head_noun("iphone revenue Q1 FY23") == "revenue"  # before the period it names
    assert head_noun("trump state visit city") == "city"
    assert head_noun("nvidia korea chips how many") is None  # a question word: not a keyword search
    assert head_noun("What is Rubin's memory type?") == "memory"  # the kind of what it owns, not the owner
    assert head_noun("What was Blackwell's FP4 performance?") == "blackwell"  # answered beside the owner
    assert head_noun("GPU Rubin") == "rubin"  # hence a Korean question's context carries its own head ("" for none)


def test_a_korean_questions_head_noun_comes_from_the_question_as_asked():
    from rag.answer_types import pattern_spans

    # A Korean question's `question` holds only its names in Latin letters ("GPU Rubin"); its head noun is the
    # English of the word after 어떤 ("메모리" -> "memory"), which the context carries.
    text = "The chips will be made by TSMC and will use 288 GB of memory."
    c = _cand(text, _hit(text))
    c = Candidate(**{**c.__dict__, "spans": tuple(pattern_spans(c.text))})
    head = FEATURES.index("head_near")
    bare = QuestionContext(question="GPU Rubin", query="GPU Rubin", kind=None, idf=lambda t: 1.0, n_chunks=10,
                           cross_lingual=True)
    assert featurize(bare, [c], np.array([0.5]), [1])[0, head] == 0
    asked = replace(bare, head=head_noun("루빈 GPU는 어떤 메모리를 사용하나요?"))
    assert asked.head == "memory"
    assert featurize(asked, [c], np.array([0.5]), [1])[0, head] == 1
    # its Latin names read as keywords would name a head ("Rubin memory" -> "memory"): "" says it has none
    names = replace(bare, question="Rubin memory", query="Rubin memory")
    assert featurize(names, [c], np.array([0.5]), [1])[0, head] == 1
    assert featurize(replace(names, head=""), [c], np.array([0.5]), [1])[0, head] == 0


def test_how_many_counts_the_noun_before_the_first_function_word():
    from rag.answer_types import pattern_spans
    from rag.evidence import counted_phrase

    assert counted_phrase("gigabytes of HBM4") == "gigabytes"
    assert counted_phrase("advanced chips were") == "advanced chips"
    text = "The chips will be made on a 3 nm process and will use HBM4 memory."
    c = _cand(text, _hit(text))
    c = Candidate(**{**c.__dict__, "spans": tuple(pattern_spans(c.text))})
    ctx = QuestionContext(question="How many gigabytes of HBM4 memory does a Rubin GPU have?",
                          query="How many gigabytes of HBM4 memory does a Rubin GPU have?", kind="count",
                          idf=lambda t: 1.0, n_chunks=10)
    X = featurize(ctx, [c], np.array([0.5]), [1])
    # "3" sits a few words before "HBM4", but what is counted is gigabytes
    assert X[0, FEATURES.index("type_present")] == 1 and X[0, FEATURES.index("type_near")] == 0


def test_fit_logistic_reaches_the_regularised_optimum():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 3))
    y = (X @ np.array([2.0, -1.0, 0.0]) + 0.5 + rng.logistic(size=400) > 0).astype(float)
    w, b = fit_logistic(X, y, l2=1.0)
    p = 1 / (1 + np.exp(-(X @ w + b)))
    # first-order conditions: gradient of the penalised log-loss is zero (bias unpenalised)
    assert np.allclose(X.T @ (p - y) + 1.0 * w, 0, atol=1e-6)
    assert abs((p - y).sum()) < 1e-6
    assert w[0] > 1.2 and w[1] < -0.6 and abs(w[2]) < 0.3


def test_model_round_trip_and_checks(tmp_path):
    n, q = len(FEATURES), len(QUESTION_FEATURES)
    abstain = {"features": list(QUESTION_FEATURES), "weights": [0.5] + [0.0] * (q - 1), "bias": -1.0,
               "mean": [0.0] * q, "scale": [2.0] * q}
    m = EvidenceModel(np.arange(n) / n, 0.1, np.zeros(n), np.ones(n), abstain=abstain, threshold=0.4)
    m.save(tmp_path / "m.json")
    back = EvidenceModel.load(tmp_path / "m.json")
    X = np.ones((2, n))
    assert np.allclose(back.candidate_proba(X), m.candidate_proba(X))
    assert back.threshold == 0.4
    z = np.array([2.0, 1.0])
    # P(right) = sigmoid(0.5 * best_logit / 2 - 1): only the best logit has weight
    assert back.answer_proba(X, z) == pytest.approx(1 / (1 + math.exp(-(0.5 * 2.0 / 2.0 - 1.0))))
    with pytest.raises(ValueError, match="retrain"):
        EvidenceModel(np.zeros(2), 0, np.zeros(2), np.ones(2), features=("a", "b"))
    with pytest.raises(ValueError, match="threshold"):
        EvidenceModel(np.zeros(n), 0, np.zeros(n), np.ones(n), threshold=1.5)
    with pytest.raises(ValueError, match="abstention features"):
        EvidenceModel(np.zeros(n), 0, np.zeros(n), np.ones(n), abstain={**abstain, "features": ["x"]})


def test_shipped_model_matches_the_code():
    m = EvidenceModel.load(MODEL_PATH)
    assert 0.0 < m.threshold < 1.0
    assert m.info.get("cv_at_threshold"), "the shipped model records its cross-validation"


def test_names_another_version_only_for_a_sibling_code_of_the_one_asked():
    from rag.evidence import codes, names_another_version

    assert codes("FP8, HBM4, GPT-4 and the H100 in Q2 2023, pre-1875") == {
        ("FP", "8"), ("HBM", "4"), ("GPT", "4"), ("H", "100")}  # "Q2" is a quarter, "pre-1875" English
    assert names_another_version("What is Rubin's FP8 performance?", "It has 50 petaflops in FP4.")
    assert not names_another_version("What is Rubin's FP8 performance?", "FP8 and FP4 both rise.")
    assert not names_another_version("What is Rubin's performance?", "It has 50 petaflops in FP4.")
    assert not names_another_version("rubin fp4 petaflops", "It has 50 petaflops in FP4.")


def test_an_abbreviation_is_not_missing_from_a_sentence_that_spells_it_out():
    text = "Research and development 7,457 6,387\nSales and marketing 1,200 1,100"
    hit = _hit(text)
    row = _cand("Research and development 7,457 6,387", hit, line=True)
    other = _cand("Sales and marketing 1,200 1,100", hit, line=True)
    q = "What was Apple's R&D expense?"
    ctx = QuestionContext(question=q, query=q, kind="money", idf=lambda t: 1.0, n_chunks=10)
    X = featurize(ctx, [row, other], np.array([0.5, 0.5]), [1, 1])
    f, g = dict(zip(FEATURES, X[0])), dict(zip(FEATURES, X[1]))
    assert f["missing_count"] < g["missing_count"]  # "r", "d" are held by "Research and development"


def test_an_abbreviation_weighs_as_much_as_its_long_form_in_a_row_that_spells_it_out():
    text = "Selling, general and administrative 5,973 6,012\nTotal operating expenses 13,415 12,809"
    hit = _hit(text)
    row = _cand("Selling, general and administrative 5,973 6,012", hit, line=True)
    other = _cand("Total operating expenses 13,415 12,809", hit, line=True)

    def lexical(q: str) -> float:
        ctx = QuestionContext(question=q, query=q, kind="money", idf=lambda t: 1.0, n_chunks=10,
                              expanded=expand_abbreviations(q))
        return dict(zip(FEATURES, featurize(ctx, [row, other], np.array([0.5, 0.5]), [1, 1])[0]))["lexical"]

    short, full = lexical("What was SG&A expense?"), lexical("What was selling, general and administrative expense?")
    assert short == pytest.approx(full, abs=0.05)  # "sg" is not counted missing from the spelt-out row


def test_abbreviations_gain_their_long_form_where_asked():
    from rag.evidence import expand_abbreviations

    assert expand_abbreviations("Apple's R&D spend?") == "Apple's R&D research and development spend?"
    assert expand_abbreviations("What were PP&E and OpEx?") == (
        "What were PP&E property, plant and equipment and OpEx operating expenses?")
    assert expand_abbreviations("ARD and CAIRO") == "ARD and CAIRO"  # not inside other words
    # one abbreviation, several spellings of its line: either spelling holds it, the search has both
    from rag.evidence import abbreviation_groups

    groups = abbreviation_groups("What was SG&A?")
    assert frozenset({"sale", "general", "administrativ"}) in {long for _, long in groups}
    assert "selling" in expand_abbreviations("SG&A") and "|" not in expand_abbreviations("SG&A")
    # a country by its official name: "President Lee Jae Myung of the Republic of Korea (ROK)"
    assert "republic of korea" in expand_abbreviations("Who is the president of South Korea?")
    # a line item's other names: one filing's "net sales" is another's "revenue"
    assert expand_abbreviations("What were net sales?") == "What were net sales revenue?"
    assert expand_abbreviations("Q2 revenue and gross profit") == (
        "Q2 second quarter revenue net sales and gross profit gross margin")
    # `only` picks which abbreviations grow
    assert expand_abbreviations("AI R&D", only=lambda a: a != "AI") == "AI R&D research and development"


def test_a_question_for_a_relative_needs_a_sentence_that_speaks_of_that_tie():
    from rag.evidence import asked_ties, speaks_of_no_tie
    from rag.glossary import english_words

    assert asked_ties("Who is Bae Kyung-hoon's wife?") == ("spouse",)
    assert asked_ties("Who did Emma marry?") == ("spouse",)
    assert asked_ties("Who was Genghis's third son?") == ("child",)
    assert asked_ties("Who is the parent company of NDS?") == ()  # a company, not a family
    assert asked_ties("Who is the minister of science?") == ()
    # A Korean question through its English renderings: "배우자" is a spouse.
    ko = "배경훈 장관의 배우자는 누구인가요?"
    assert asked_ties(" ".join(english_words(ko)[1])) == ("spouse",)

    minister = "Bae Kyung-hoon is the Minister of Science and ICT under the Lee Jae Myung administration."
    assert speaks_of_no_tie(("spouse",), minister)  # names two people, and no spouse
    assert not speaks_of_no_tie(("spouse",), "Ties grew through the marriage of Emma and King Ethelred II.")
    assert not speaks_of_no_tie(("child",), "Under Genghis' third son, Ogedei Khan, the Mongols took Jin.")
    assert speaks_of_no_tie(("parent",), "Prince Louis, with his sons Daniel and Osias, met Count Ludwig.")
    assert not speaks_of_no_tie((), minister)  # no tie asked: nothing to miss
    # a teacher's tie the same way: "Who supervised ...?" is not answered by a sentence about a minister
    assert asked_ties("Who supervised Bae Kyung-hoon's Ph.D. thesis?") == ("teacher",)
    assert asked_ties("Who was her doctoral advisor?") == ("teacher",)
    assert asked_ties("Who advised the president?") == ()  # a verb of many senses: not asked as a tie
    assert speaks_of_no_tie(("teacher",), minister)
    assert not speaks_of_no_tie(("teacher",), "He wrote his dissertation under the direction of Kim Ji-ho.")


def test_row_context_gives_a_rows_group_label_and_its_tables_caption():
    from rag.evidence import row_context

    text = ("Note 10 - Segments\nThe following table shows information by reportable segment for the three months "
            "ended April 1, 2023 (in\nmillions):\nThree Months Ended\nAmericas:\nNet sales $ 37,784 $ 40,882\n"
            "Operating income $ 13,927 $ 15,279\nJapan:\nNet sales $ 7,176 $ 7,724\nOperating income $ 3,394 $ 3,496\n")
    group, caption = row_context(text, text.index("Operating income $ 3,394"))
    assert group == "Japan:"
    assert caption.startswith("The following table shows information by reportable segment") and "millions):" in caption
    group, _ = row_context(text, text.index("Operating income $ 13,927"))
    assert group == "Americas:"
    assert row_context("Total net sales $ 1 $ 2", 0) == ("", "")


def test_quarters_are_one_however_written_and_another_quarter_is_another_period():
    from rag.evidence import names_another_period, quarters

    assert quarters("Q2 2020 revenue, the third quarter, 4Q results, the fourth fiscal quarter") == {"2", "3", "4"}
    assert names_another_period("What was Tesla's Q3 2020 revenue?", "revenue of $6.04 billion for the second quarter")
    assert not names_another_period("What was Tesla's Q2 2020 revenue?", "revenue for the second quarter of 2020")
    assert not names_another_period("What was Tesla's Q3 revenue?", "Revenue was $6.04 billion.")  # no quarter named
    assert not names_another_period("What was revenue?", "revenue for the second quarter")


def test_a_sentence_about_another_variant_of_a_product_is_about_another_product():
    from rag.evidence import names_another_variant

    pro = "The iPhone 15 Pro starts at $999 and will go on sale September 22."
    assert names_another_variant("What is the price of the iPhone 15 Plus?", pro)
    assert names_another_variant("What is the price of the iPhone 15?", pro)  # the plain model is not the Pro
    assert not names_another_variant("What is the price of the iPhone 15 Pro?", pro)
    assert not names_another_variant("how much is the iphone 15 pro", pro)
    both = "At GTC it was announced that Rubin will be followed by an improved Rubin Ultra architecture in 2027."
    assert not names_another_variant("What comes after Rubin?", both)  # it names Rubin plain too
    assert names_another_variant("When will Rubin ship?", "Rubin Ultra will ship in 2027.")


def test_a_field_line_describes_the_product_its_document_is_about():
    from rag.evidence import describes_plain_subject

    title = "Rubin (microarchitecture)"
    # "Launching: 2026" is the plain Rubin's launch, not Rubin Ultra's
    assert describes_plain_subject("When does Rubin Ultra launch?", "Launching: 2026", title)
    assert not describes_plain_subject("When does Rubin launch?", "Launching: 2026", title)
    # a line that names the product, a prose sentence, or a document about the variant itself is read as usual
    assert not describes_plain_subject("When does Rubin Ultra launch?", "Rubin Ultra launch: 2027", title)
    assert not describes_plain_subject("When does Rubin Ultra launch?", "It launches in 2026 as planned.", title)
    assert not describes_plain_subject("When does Rubin Ultra launch?", "Launching: 2027", "Rubin Ultra")
    # a document about something else says nothing either way
    assert not describes_plain_subject("When does Rubin Ultra launch?", "Launching: 2026", "Blackwell")


def test_an_acronym_is_held_by_the_words_it_abbreviates():
    from rag.evidence import spells_out

    assert spells_out("TSMC", "It will award Taiwan Semiconductor Manufacturing Co $6.6 billion.")
    assert spells_out("MOU", "the Memorandum of Understanding with respect to Strategic Investments")
    assert spells_out("IBM", "International Business Machines said")
    assert not spells_out("TSMC", "Taiwan makes most of the chips")
    text = "The Commerce Department will award Taiwan Semiconductor Manufacturing Co $6.6 billion."
    hit = _hit(text)
    cand = _cand(text, hit)
    q = "How much did the Commerce Department award TSMC?"
    ctx = QuestionContext(question=q, query=q, kind="money", idf=lambda t: 1.0, n_chunks=10)
    f = dict(zip(FEATURES, featurize(ctx, [cand], np.array([0.5]), [1])[0]))
    assert f["missing_count"] == 0  # "tsmc" is not missing from the spelt-out name


def test_back_matter_starts_at_a_references_heading_in_the_second_half():
    from rag.evidence import back_matter_start

    body = "Rubin is a GPU microarchitecture.\n" * 10
    doc = body + "References\n1. \"Nvidia teases Rubin\". ZDNET.\n"
    assert back_matter_start(doc) == len(body)
    assert back_matter_start(body + "External links:\n- https://example.com\n") == len(body)
    # a "References" heading near the top opens a section of the text, not its back matter; "Notes" is none
    early = "References\n" + body
    assert back_matter_start(early) == len(early)
    assert back_matter_start(body + "Notes\n" + body) == len(body) * 2 + len("Notes\n")
    # a sentence that mentions references is no heading
    assert back_matter_start(body + "The references are listed below.\n" + body) > len(body) * 2


def test_a_web_pages_related_stories_are_back_matter_and_link_lines_link_elsewhere():
    from rag.evidence import back_matter_start, links_elsewhere

    body = "Korea and Nvidia discussed chips.\n" * 10
    page = body + "// Related Articles\n- Five AI coding IDEs that fit real workflows\n"
    assert back_matter_start(page) == len(body)
    assert back_matter_start(body + "You may also like:\n- Another story\n") == len(body)
    news = "Tesla reported revenue of $6.04 billion.\nRelated: Tesla stock hits record high | Advertisement\n"
    assert links_elsewhere(news, news.index("stock hits"))
    assert not links_elsewhere(news, news.index("reported"))
    # a sentence that speaks of related matters is the document's own
    own = "Related costs rose 4%: freight and storage.\n"
    assert not links_elsewhere(own, 3)


def test_a_products_place_in_its_line_is_searched_by_its_field_name():
    # "What architecture preceded Rubin?" meets the field "Predecessor: Blackwell"
    assert "predecessor" in expand_abbreviations("What architecture preceded Rubin?")
    assert "successor" in expand_abbreviations("What comes after Rubin?")
