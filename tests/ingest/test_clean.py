"""Cleaning: a numbered heading glued to the line before it goes back on its own line."""

from __future__ import annotations

from pathlib import Path

from ingest.clean import clean, split_glued_numbering

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def test_glued_numbered_heading_is_split_off():
    text = "- Seoul R&D center growth5. The visit was broader than one government meeting"
    assert split_glued_numbering(text) == "- Seoul R&D center growth\n5. The visit was broader than one government meeting"


def test_numbers_that_are_not_glued_headings_stay():
    for text in ("COVID19. The pandemic", "Version 2.5. Next", "the A100. The H100", "see note 3. Then"):
        assert split_glued_numbering(text) == text
    assert clean(clean("growth5. The visit")) == clean("growth5. The visit")


def test_the_seed_article_has_no_glued_marker_after_cleaning():
    article = (SEEDS / "000_d6495e9b5ae2718f.txt").read_text(encoding="utf-8")
    assert "growth5." in article
    cleaned = clean(article)
    assert "growth5." not in cleaned and "\n5. The visit was broader" in cleaned
