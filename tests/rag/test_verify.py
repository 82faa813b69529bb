"""Citation verification: never trust the model's numbers, quote the documents exactly."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support import HashEmbedder

from ingest.text import sentence_spans
from rag.prompts import NOT_IN_DOCUMENTS
from rag.types import Hit
from rag.verify import parse_cited_sentences, support_score, supports, verify

DOC_A = ("Korea deal.\n"
         "Nvidia will supply 260,000 Blackwell chips to South Korea. The chips go to the government and four companies. "
         "Samsung will build an AI factory with 50,000 of the chips. Hyundai plans to use its share for autonomous driving.")
DOC_B = "SK Group will deploy its chips in a new data centre in Ulsan. The Ulsan centre will open in 2027."
DOCS = {"doc-a": DOC_A, "doc-b": DOC_B}


def _hit(n: int, doc_id: str, first: str, last: str) -> Hit:
    doc = DOCS[doc_id]
    start, end = doc.index(first), doc.index(last) + len(last)
    return Hit(chunk_id=f"{doc_id}:{n}", doc_id=doc_id, title=doc_id.upper(), page=None, start=start, end=end,
               text=doc[start:end], score=1.0 / n,
               metadata={"publisher": f"Pub {doc_id}", "date": "2025-10-31", "url": f"https://example.org/{doc_id}"})


HITS = [
    _hit(1, "doc-a", "Nvidia will", "four companies."),
    _hit(2, "doc-a", "Samsung will", "autonomous driving."),
    _hit(3, "doc-b", "SK Group", "in 2027."),
]


def doc_text(doc_id: str) -> str:
    return DOCS[doc_id]


@pytest.fixture(params=[None, "hash"], ids=["lexical", "embedded"])
def embedder(request):
    return HashEmbedder() if request.param else None


def _check_citations(v, hits=HITS):
    """Every quote is exact document text inside a supplied passage; numbers run 1..m."""
    assert [c.n for c in v.citations] == list(range(1, len(v.citations) + 1))
    for c in v.citations:
        assert c.quote == DOCS[c.doc_id][c.start:c.end]
        assert any(h.doc_id == c.doc_id and h.start <= c.start < c.end <= h.end and h.chunk_id == c.chunk_id
                   for h in hits)
    used = [n for s in v.sentences for n in s.citations]
    assert sorted(set(used)) == [c.n for c in v.citations]
    assert list(dict.fromkeys(used)) == sorted(set(used))  # first uses appear in order 1, 2, ...


# -- support scores, by hand -------------------------------------------------------------------
def test_lexical_support_is_the_share_of_claim_terms_in_the_premise():
    premise = "Nvidia will supply chips to Korea."
    assert support_score(premise, "Nvidia supplies chips.") == 1.0  # "supplies" folds to "supply"
    assert support_score(premise, "Nvidia chips") == 1.0
    assert support_score(premise, "Nvidia sells chips") == pytest.approx(2 / 3)
    assert support_score(premise, "Intel sells memory") == 0.0
    assert support_score(premise, "It is.") == 0.0  # nothing checkable


def test_a_number_missing_from_the_premise_halves_the_score():
    premise = "Nvidia will supply 260,000 chips."
    assert support_score(premise, "Nvidia will supply 260000 chips.") == 1.0
    assert support_score(premise, "Nvidia will supply 40,000 chips.") == pytest.approx(0.5 * 3 / 4)


def test_embedding_blend_with_identical_and_unrelated_text():
    emb = HashEmbedder()
    text = "Samsung will build an AI factory."
    assert support_score(text, text, emb) == pytest.approx(1.0, abs=1e-6)
    assert support_score("Bananas are yellow.", "Samsung builds factories.", emb) < 0.3
    assert supports(text, text, emb) and not supports("Bananas are yellow.", text, emb)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=80), st.text(max_size=80))
def test_support_score_is_between_0_and_1(premise, claim):
    for emb in (None, HashEmbedder(dimension=16)):
        assert 0.0 <= support_score(premise, claim, emb) <= 1.0


# -- parsing -----------------------------------------------------------------------------------
def test_markers_before_or_after_the_full_stop_belong_to_their_sentence():
    raw = "Nvidia supplies chips [1]. Samsung builds a factory. [2][3] Hyundai drives [1, 3]. [Passage 2] Done [1-2]."
    assert parse_cited_sentences(raw) == [
        ("Nvidia supplies chips.", [1]),
        ("Samsung builds a factory.", [2, 3]),
        ("Hyundai drives.", [1, 3, 2]),
        ("Done.", [1, 2]),
    ]
    assert parse_cited_sentences("1. Nvidia supplies chips [1].\n2. Samsung builds.\n- SK opens [3]") == [
        ("Nvidia supplies chips.", [1]), ("Samsung builds.", []), ("SK opens", [3])]


# -- verify ------------------------------------------------------------------------------------
def test_citation_to_a_passage_that_was_not_supplied_is_dropped(embedder):
    v = verify("Nvidia will supply 260,000 Blackwell chips to South Korea [1][9].", HITS, doc_text, embedder)
    assert not v.abstained
    assert any(c.startswith("dropped citation [9]: no such passage") for c in v.changes)
    (s,) = v.sentences
    assert s.citations == (1,) and s.supported
    (c,) = v.citations
    assert c.quote == "Nvidia will supply 260,000 Blackwell chips to South Korea."
    assert (c.doc_id, c.title, c.publisher, c.date, c.url) == (
        "doc-a", "DOC-A", "Pub doc-a", "2025-10-31", "https://example.org/doc-a")
    assert v.text == "Nvidia will supply 260,000 Blackwell chips to South Korea. [1]"
    _check_citations(v)


def test_sentence_cited_to_the_wrong_passage_is_reattached(embedder):
    v = verify("Samsung will build an AI factory with 50,000 chips [1].", HITS, doc_text, embedder)
    assert "re-attached sentence 1 from [1] to [2]" in v.changes
    (c,) = v.citations
    assert c.quote == "Samsung will build an AI factory with 50,000 of the chips."
    assert c.chunk_id == "doc-a:2"
    _check_citations(v)


def test_invented_sentence_is_removed(embedder):
    raw = ("Nvidia will supply 260,000 Blackwell chips to South Korea [1]. The chips cost $40,000 each [1]. "
           "SK Group will open its Ulsan data centre in 2027 [3].")
    v = verify(raw, HITS, doc_text, embedder)
    assert [s.text for s in v.sentences] == [
        "Nvidia will supply 260,000 Blackwell chips to South Korea.",
        "SK Group will open its Ulsan data centre in 2027.",
    ]
    assert "removed unsupported sentence 2: The chips cost $40,000 each." in v.changes
    assert "40,000" not in v.text
    assert [c.doc_id for c in v.citations] == ["doc-a", "doc-b"]
    _check_citations(v)


def test_unsupported_sentence_can_be_kept_and_marked(embedder):
    raw = "Nvidia will supply 260,000 Blackwell chips [1]. The chips cost $40,000 each [2]."
    v = verify(raw, HITS, doc_text, embedder, remove_unsupported=False)
    assert [s.supported for s in v.sentences] == [True, False]
    assert v.sentences[1].citations == ()
    assert v.text.endswith("The chips cost $40,000 each.")
    assert any(c.startswith("marked unsupported sentence 2") for c in v.changes)


def test_citations_are_renumbered_in_order_of_first_use_and_shared(embedder):
    raw = ("SK Group will deploy chips in a data centre in Ulsan [3]. "
           "Nvidia will supply 260,000 Blackwell chips to South Korea [1]. "
           "The Ulsan data centre of SK Group gets chips [3].")
    v = verify(raw, HITS, doc_text, embedder)
    assert [s.citations for s in v.sentences] == [(1,), (2,), (1,)]
    assert [c.doc_id for c in v.citations] == ["doc-b", "doc-a"]
    assert v.text.count("[1]") == 2 and v.text.count("[2]") == 1
    _check_citations(v)


def test_uncited_supported_sentence_is_attached(embedder):
    v = verify("Hyundai plans to use its chips for autonomous driving.", HITS, doc_text, embedder)
    assert "attached uncited sentence 1 to [2]" in v.changes
    assert v.citations[0].quote == "Hyundai plans to use its share for autonomous driving."


@pytest.mark.parametrize("raw", [NOT_IN_DOCUMENTS, f" {NOT_IN_DOCUMENTS}.", f"**{NOT_IN_DOCUMENTS}** sorry", ""])
def test_not_in_documents_abstains(raw):
    v = verify(raw, HITS, doc_text)
    assert v.abstained and v.text == "" and v.sentences == () and v.citations == ()


def test_nothing_supported_abstains(embedder):
    v = verify("The chips cost $40,000 each [1]. Bananas grow in Ulsan [3].", HITS, doc_text, embedder)
    assert v.abstained and v.sentences == () and v.citations == ()
    assert v.changes[-1] == "no supported sentence remains: abstained"


def test_not_in_documents_inside_an_answer_is_dropped():
    v = verify(f"Nvidia will supply 260,000 Blackwell chips [1]. {NOT_IN_DOCUMENTS}", HITS, doc_text)
    assert not v.abstained and len(v.sentences) == 1
    assert v.sentences[0].text == "Nvidia will supply 260,000 Blackwell chips."


def test_passage_whose_document_is_gone_cannot_be_cited():
    gone = Hit(chunk_id="old:1", doc_id="old", title="Old", page=None, start=0, end=10, text="Nvidia chips",
               score=1.0)
    v = verify("Nvidia will supply 260,000 Blackwell chips [1].", [gone, *HITS], doc_text)
    assert "passage [1] is no longer in the index; it cannot be cited" in v.changes
    assert "re-attached sentence 1 from [1] to [2]" in v.changes
    _check_citations(v, [gone, *HITS])


def test_quotes_start_at_the_words_of_a_bullet():
    doc = "Plans:\n- Samsung will build an AI factory.\n- Hyundai will test robots."
    hit = Hit(chunk_id="l:0", doc_id="l", title="List", page=None, start=0, end=len(doc), text=doc, score=1.0)
    v = verify("Hyundai will test robots [1].", [hit], lambda _d: doc)
    (c,) = v.citations
    assert c.quote == "Hyundai will test robots." == doc[c.start:c.end]


def test_bad_threshold_is_refused():
    with pytest.raises(ValueError, match="threshold"):
        verify("x", HITS, doc_text, threshold=1.5)


_SENTENCES = [DOC_A[s:e] for s, e in sentence_spans(DOC_A)] + [DOC_B[s:e] for s, e in sentence_spans(DOC_B)] + [
    "The chips cost $40,000 each.", "Bananas are yellow.", "NOT_IN_DOCUMENTS"]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_SENTENCES), st.lists(st.integers(0, 6), max_size=3),
                          st.booleans()), min_size=1, max_size=6))
def test_any_reply_gives_exact_quotes_and_contiguous_numbers(parts):
    raw = " ".join(s[:-1] + "".join(f" [{n}]" for n in ns) + "." if before else s + "".join(f" [{n}]" for n in ns)
                   for s, ns, before in parts)
    v = verify(raw, HITS, doc_text, HashEmbedder(dimension=64))
    _check_citations(v)
    assert v.abstained == (not v.sentences)
    for s in v.sentences:
        assert s.supported and s.citations
        assert "40,000" not in s.text and "Bananas" not in s.text
