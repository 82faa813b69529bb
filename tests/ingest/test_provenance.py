"""Provenance as staff see it: the byline that is known, and edits that survive a re-ingest."""

import shutil
from pathlib import Path

import pytest

from ingest.loaders import load_file, read_sidecar, split_header
from ingest.pipeline import Ingestor
from ingest.provenance import (
    OVERRIDES_FILE,
    apply_overrides,
    byline,
    check_fields,
    clean_date,
    clean_publisher,
    edit_provenance,
    load_overrides,
)
from ingest.store import load_snapshot

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


@pytest.mark.parametrize(("raw", "want"), [
    ("unknown (news article provided with the project)", ""),
    ("Unknown", ""),
    ("", ""),
    (None, ""),
    ("The White House (Office of Science and Technology Policy signatory: Michael Kratsios)", "The White House"),
    ("Wikipedia, the free encyclopedia (authors: Wikipedia contributors; history at https://x)",
     "Wikipedia, the free encyclopedia"),
    ("Reuters", "Reuters"),
])
def test_clean_publisher(raw, want):
    assert clean_publisher(raw) == want


@pytest.mark.parametrize(("raw", "want"), [
    ("unknown", ""),
    ("revision date unknown; content cites sources up to 2025-03-20 (GTC 2025)", ""),
    ("2025-10-29", "2025-10-29"),
    ("2025-11-13 (fact sheet release)", "2025-11-13"),
    ("October 29, 2025", "October 29, 2025"),
    ("", ""),
])
def test_clean_date(raw, want):
    assert clean_date(raw) == want


def test_no_seed_byline_says_unknown_or_carries_a_note():
    for path in sorted(SEEDS.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        meta = {**split_header(text)[0], **read_sidecar(path)}
        b = byline(meta.get("publisher"), meta.get("date"))
        shown = " ".join(b.parts())
        assert "unknown" not in shown.lower() and "(" not in shown and len(shown) < 80, (path.name, shown)


def test_docx_file_metadata_is_not_a_publisher(tmp_path):
    docx = pytest.importorskip("docx")
    d = docx.Document()
    d.add_paragraph("Samsung will build an AI factory with 50,000 GPUs.")
    path = tmp_path / "note.docx"
    d.save(path)
    meta = load_file(path, "note.docx")[0].metadata
    assert "publisher" not in meta and "date" not in meta
    assert meta.get("author") == "python-docx"  # the writing program, kept apart


def test_check_fields_rejects_bad_input():
    with pytest.raises(ValueError, match="url"):
        check_fields({"url": "javascript:alert(1)"})
    with pytest.raises(ValueError, match="field"):
        check_fields({"licence": "x"})
    with pytest.raises(ValueError, match="title"):
        check_fields({"title": "  "})
    assert check_fields({"publisher": " Korea\nHerald ", "url": ""}) == {"publisher": "Korea Herald", "url": ""}
    assert apply_overrides({"title": "a", "x": 1}, {"title": "b"}) == {"title": "b", "x": 1}


def test_edit_is_used_at_once_and_survives_a_reingest(tmp_path, hash_embedder):
    docs = tmp_path / "docs"
    docs.mkdir()
    shutil.copy(SEEDS / "us_wh_tpd_mou_2025-10-29.txt", docs)
    index = tmp_path / "idx"
    ing = Ingestor(index, hash_embedder)
    ing.ingest([docs])
    doc_id = "us_wh_tpd_mou_2025-10-29.txt"
    before = load_snapshot(index)

    stored = edit_provenance(ing, doc_id, {"title": "TPD MOU", "publisher": "OSTP", "date": "2025-10-29"})
    assert stored == {"title": "TPD MOU", "publisher": "OSTP", "date": "2025-10-29"}
    assert (index / OVERRIDES_FILE).is_file() and load_overrides(index)[doc_id]["publisher"] == "OSTP"
    snap = load_snapshot(index)
    assert snap.docs[doc_id].metadata["publisher"] == "OSTP" and snap.docs[doc_id].title == "TPD MOU"
    assert {c.title for c in snap.chunks} == {"TPD MOU"}
    assert (snap.vectors(snap.rows_of(doc_id)) == before.vectors(before.rows_of(doc_id))).all()

    report = ing.ingest([docs])  # the same file again: the edit is applied at load, nothing changes
    assert report.unchanged == (doc_id,) and not report.updated
    text = (docs / doc_id).read_text(encoding="utf-8")
    (docs / doc_id).write_text(text.replace("----- END TEXT -----", "One more line.\n----- END TEXT -----"),
                               encoding="utf-8")
    report = ing.ingest([docs])  # a changed file: re-chunked, and still with the staff's fields
    assert report.updated == (doc_id,)
    snap = load_snapshot(index)
    assert snap.docs[doc_id].metadata["publisher"] == "OSTP" and {c.title for c in snap.chunks} == {"TPD MOU"}

    with pytest.raises(ValueError, match="not in the index"):
        edit_provenance(ing, "nope.txt", {"title": "x"})
