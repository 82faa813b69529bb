"""The citation support judge built on `rag.verify.support_score`."""

from __future__ import annotations

import pytest

from eval.support import CachedEmbedder, make_support_judge


def test_lexical_only_judge_by_hand():
    # claim terms {nvidia, sell, chip} (stop words out, plurals folded); "sell" is missing: 2/3
    supports = make_support_judge(None, threshold=0.6)
    premise = "Nvidia will supply advanced chips."
    assert supports.score(premise, "Nvidia sells chips") == pytest.approx(2 / 3)
    assert supports(premise, "Nvidia sells chips")
    assert not supports(premise, "Samsung sells memory")
    # a number the premise lacks halves the score: {nvidia, supply, 40000, chip} -> 3/4 * 1/2
    assert supports.score("Nvidia supplies 260,000 chips.", "Nvidia supplies 40,000 chips") == pytest.approx(
        0.5 * 3 / 4
    )


def test_judge_accepts_a_copied_quote_and_rejects_an_unrelated_one(hash_embedder):
    supports = make_support_judge(hash_embedder)
    quote = "The Kestrel bridge spans 840 metres across the Vell river."
    assert supports(quote, quote)
    assert supports.score(quote, quote) == pytest.approx(1.0)
    assert not supports(quote, "Marmalade exports from Orvieto reached 12,000 tonnes.")
    assert not supports("", quote)


def test_embeddings_are_cached(hash_embedder):
    supports = make_support_judge(hash_embedder, threshold=0.5)
    supports("a premise about bridges", "a claim about bridges")
    calls = hash_embedder.calls
    supports("a premise about bridges", "a claim about bridges")
    assert hash_embedder.calls == calls
    cached = CachedEmbedder(hash_embedder)
    texts = ["one bridge", "two bridges", "one bridge"]
    assert (cached.embed(texts) == hash_embedder.embed(texts)).all()


@pytest.mark.parametrize("kwargs", [{"threshold": 1.5}, {"threshold": -0.1}, {"cache_size": 0}])
def test_judge_checks_its_settings(hash_embedder, kwargs):
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        make_support_judge(hash_embedder, **kwargs)
