"""BM25 scores worked out by hand, and the saved form round-trips without pickle."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ingest.bm25 import BM25Index


def test_scores_match_the_formula_by_hand():
    # terms: d0 = [apple, banana], d1 = [apple], d2 = [cherry]; avgdl = 4/3
    idx = BM25Index.build(["Apple banana", "apples", "the cherry"])
    k1, b, avgdl = 1.2, 0.75, 4 / 3
    idf_banana = math.log(1 + (3 - 1 + 0.5) / (1 + 0.5))  # 0.98083
    idf_apple = math.log(1 + (3 - 2 + 0.5) / (2 + 0.5))  # 0.47000
    w = lambda idf, dl: idf * 2.2 / (1 + k1 * (1 - b + b * dl / avgdl))  # tf = 1
    s = idx.scores("banana")
    assert s[0] == pytest.approx(w(idf_banana, 2), rel=1e-6) == pytest.approx(0.814279, rel=1e-5)
    assert s[1] == 0 and s[2] == 0
    s = idx.scores("apple banana")
    assert s[0] == pytest.approx(w(idf_apple, 2) + w(idf_banana, 2), rel=1e-6)
    assert s[1] == pytest.approx(w(idf_apple, 1), rel=1e-6)
    rows, scores = idx.top("apple banana", 5)
    assert rows.tolist() == [0, 1] and scores[0] > scores[1]


def test_unknown_terms_and_filters():
    idx = BM25Index.build(["alpha beta", "alpha"])
    assert idx.top("zzz", 3)[0].tolist() == []
    rows, _ = idx.top("alpha", 3, allowed=np.array([False, True]))
    assert rows.tolist() == [1]


def test_save_load_round_trip(tmp_path):
    idx = BM25Index.build(["Korea gets 260,000 chips", "Seoul R&D center", "Vera Rubin factory"])
    idx.save(tmp_path)
    again = BM25Index.load(tmp_path)
    for q in ("260000 chips", "seoul", "rubin factory korea"):
        np.testing.assert_array_equal(idx.scores(q), again.scores(q))


def test_a_dotted_abbreviation_is_the_word_without_its_stops():
    from ingest.text import terms

    assert terms("a Ph.D. from the U.S.-ROK program") == terms("a PhD from the US-ROK program")
    assert "us" in terms("the U.S. chipmaker") and terms("Donald J. Trump") == ["donald", "j", "trump"]
    bm = BM25Index.build(["He earned a Ph.D. in 2006.", "He earned a degree in 2001."])
    assert bm.top("When did he earn his PhD?", 1)[0].tolist() == [0]
