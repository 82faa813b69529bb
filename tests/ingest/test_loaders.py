"""Loaders: each format gives clean text with provenance, PDFs keep their pages."""

from __future__ import annotations

from pathlib import Path

import pytest
from support import make_pdf

from ingest.errors import SkipFile
from ingest.loaders import decode_text, load_file, load_jsonl, split_header

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def test_header_format_becomes_metadata_not_text():
    doc = load_file(SEEDS / "us_wh_tpd_mou_2025-10-29.txt", "mou")[0]
    assert doc.metadata["title"].startswith("Memorandum of Understanding")
    assert doc.metadata["publisher"].startswith("The White House")
    assert doc.metadata["date"] == "2025-10-29"
    assert doc.metadata["url"] == "https://www.whitehouse.gov/articles/2025/10/u-s-korea-technology-prosperity-deal/"
    assert "Work of the United States Government" in doc.metadata["licence"]
    assert "LICENCE BASIS" not in doc.text and "BEGIN TEXT" not in doc.text and "END TEXT" not in doc.text
    assert doc.text.startswith("Memorandum of Understanding Between")


def test_sidecar_gives_the_seed_article_its_provenance_and_boilerplate_is_gone():
    doc = load_file(SEEDS / "000_d6495e9b5ae2718f.txt", "000_d6495e9b5ae2718f.txt")[0]
    assert doc.metadata["title"] == "Korea’s Nvidia talks point to an AI factory push"
    assert "publisher" in doc.metadata and "licence" in doc.metadata
    for junk in ("Get the latest AI news", "Unsubscribe", "Related Articles", "[IND]", "OpenAI updates"):
        assert junk not in doc.text
    assert "260,000 advanced chips" in doc.text
    assert doc.text.rstrip().endswith("actually move forward.")


def test_split_header_without_markers_returns_text_unchanged():
    assert split_header("plain text\nmore") == ({}, "plain text\nmore")


def test_multipage_pdf_keeps_page_numbers(tmp_path):
    pdf = make_pdf(tmp_path / "r.pdf", ["Alpha page one about chips.", "Beta page two about factories.", "Gamma three."],
                   title="Report")
    doc = load_file(pdf, "r.pdf")[0]
    assert [p for p, _, _ in doc.pages] == [1, 2, 3]
    for number, start, end in doc.pages:
        assert doc.text[start:end].strip()
    p2 = doc.pages[1]
    assert "Beta page two" in doc.text[p2[1]:p2[2]]
    assert doc.metadata["title"] == "Report" and doc.metadata["pages"] == 3


@pytest.mark.parametrize("algorithm", ["AES-256", "AES-128", "RC4-128"])
def test_encrypted_pdf_with_empty_user_password_opens(tmp_path, algorithm):
    from pypdf import PdfReader, PdfWriter

    src = make_pdf(tmp_path / "plain.pdf", ["Secret chips one.", "Secret chips two."])
    w = PdfWriter()
    for page in PdfReader(str(src)).pages:
        w.add_page(page)
    w.encrypt(user_password="", owner_password="owner", algorithm=algorithm)
    out = tmp_path / "enc.pdf"
    with out.open("wb") as fh:
        w.write(fh)
    doc = load_file(out, "enc.pdf")[0]
    assert "Secret chips two" in doc.text and len(doc.pages) == 2


def test_pdf_with_a_password_is_skipped_with_reason(tmp_path):
    from pypdf import PdfReader, PdfWriter

    src = make_pdf(tmp_path / "plain.pdf", ["Hidden."])
    w = PdfWriter()
    w.add_page(PdfReader(str(src)).pages[0])
    w.encrypt(user_password="secret", algorithm="AES-256")
    out = tmp_path / "locked.pdf"
    with out.open("wb") as fh:
        w.write(fh)
    with pytest.raises(SkipFile, match="password"):
        load_file(out, "locked.pdf")


def test_pdf_without_text_is_reported(tmp_path):
    pdf = make_pdf(tmp_path / "scan.pdf", ["", ""])
    with pytest.raises(SkipFile, match="no extractable text"):
        load_file(pdf, "scan.pdf")


def test_html_keeps_visible_text_only(tmp_path):
    f = tmp_path / "p.html"
    f.write_text("<html><head><title>Page T</title><style>.x{color:red}</style></head><body>"
                 "<nav>Menu Home</nav><h1>Heading</h1><p>Visible <b>words</b> here.</p>"
                 "<script>var secret = 1;</script><noscript>nojs</noscript></body></html>")
    doc = load_file(f, "p.html")[0]
    assert doc.metadata["title"] == "Page T"
    assert "Visible" in doc.text and "words" in doc.text and "Heading" in doc.text
    for hidden in ("secret", "color:red", "nojs", "Menu Home"):
        assert hidden not in doc.text


def test_markdown_strips_markup_and_takes_the_title(tmp_path):
    f = tmp_path / "n.md"
    f.write_text("# The Title\n\nSome **bold** text with a [link](http://x.y) and ![img](a.png).\n")
    doc = load_file(f, "n.md")[0]
    assert doc.metadata["title"] == "The Title"
    assert "Some bold text with a link and img." in doc.text
    assert "http://x.y" not in doc.text


def test_docx_paragraphs_and_tables(tmp_path):
    import docx

    d = docx.Document()
    d.core_properties.title = "Memo"
    d.add_paragraph("First paragraph about Seoul.")
    t = d.add_table(rows=1, cols=2)
    t.cell(0, 0).text, t.cell(0, 1).text = "chips", "260,000"
    f = tmp_path / "m.docx"
    d.save(str(f))
    doc = load_file(f, "m.docx")[0]
    assert doc.metadata["title"] == "Memo"
    assert "First paragraph about Seoul." in doc.text and "chips | 260,000" in doc.text


def test_jsonl_corpus_with_bad_lines(tmp_path):
    f = tmp_path / "c.jsonl"
    f.write_text('{"doc_id": "a", "text": "Alpha text.", "title": "A"}\n'
                 "not json\n"
                 '{"doc_id": "a", "text": "dup"}\n'
                 '{"text": "no id"}\n'
                 '{"doc_id": "b", "text": "Beta text.", "source_url": "http://b"}\n')
    docs, skipped = load_jsonl(f)
    assert [d.doc_id for d in docs] == ["a", "b"]
    assert docs[0].metadata["title"] == "A" and docs[1].metadata["source_url"] == "http://b"
    reasons = dict(skipped)
    assert "malformed JSON" in reasons["c.jsonl:2"]
    assert "duplicate doc_id 'a'" in reasons["c.jsonl:3"]
    assert "missing doc_id" in reasons["c.jsonl:4"]


def test_decode_text_handles_cp1252_and_mixed_lines():
    assert decode_text("café".encode("cp1252")) == "café"
    mixed = "naïve\n".encode() + "façade".encode("cp1252")
    assert decode_text(mixed) == "naïve\nfaçade"


def test_unsupported_type_is_a_skip(tmp_path):
    f = tmp_path / "x.exe"
    f.write_bytes(b"MZ")
    with pytest.raises(SkipFile, match="unsupported"):
        load_file(f, "x.exe")
