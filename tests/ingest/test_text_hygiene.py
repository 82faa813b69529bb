"""Smaller findings of issue 13 (item 6): what reaches the index is visible text, and a
failure says what happened."""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import pytest
from support import HashEmbedder

from ingest.errors import SkipFile
from ingest.loaders import load_file
from ingest.pipeline import Ingestor
from ingest.store import load_snapshot


def _pdf_with_content(path: Path, content: bytes) -> Path:
    """A minimal hand-written PDF whose one page has `content` as its FlateDecode content stream."""
    data = zlib.compress(content, 9)
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            (b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R "
             b"/Resources << /Font << /F1 5 0 R >> >> >>"),
            (b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data)) + data + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    path.write_bytes(bytes(out))
    return path


def test_a_pdf_past_pypdfs_decompression_limit_says_so(tmp_path):
    text = b"BT /F1 12 Tf 10 10 Td (hello) Tj ET\n"
    ok = load_file(_pdf_with_content(tmp_path / "ok.pdf", text + b" " * 1000), "ok.pdf")
    assert ok[0].text == "hello"
    bomb = _pdf_with_content(tmp_path / "bomb.pdf", text + b" " * 80_000_000)  # 78 KB inflating to 80 MB
    assert bomb.stat().st_size < 100_000
    with pytest.raises(SkipFile) as e:
        load_file(bomb, "bomb.pdf")
    assert "decompression limit" in str(e.value) and "scanned" not in str(e.value)


def test_c1_control_characters_never_reach_the_index(tmp_path):
    c1 = "".join(chr(c) for c in range(0x80, 0xA0))
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(f"The fab{c1} opens in spring.\n", encoding="utf-8")
    (corpus / "b.jsonl").write_text(json.dumps({"doc_id": "j", "text": f"Broken ToUnicode map:{c1} wafer yields."}) + "\n")
    Ingestor(tmp_path / "index", HashEmbedder()).ingest([corpus])
    snap = load_snapshot(tmp_path / "index")
    texts = [d.text for d in snap.docs.values()] + [c.text for c in snap.chunks]
    assert not [t for t in texts if any(0x80 <= ord(ch) < 0xA0 for ch in t)]
    assert snap.docs["a.txt"].text == "The fab opens in spring."


@pytest.mark.parametrize("name", ["zw.txt", "zw.md", "zw.html", "zw.jsonl"])
def test_a_file_of_only_invisible_characters_is_skipped(tmp_path, name):
    invisible = "\u200b\u200c\u200d\u2060\ufeff\u00ad" * 8000
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    if name.endswith(".jsonl"):
        (corpus / name).write_text(json.dumps({"doc_id": "zw", "text": invisible}) + "\n")
    elif name.endswith(".html"):
        (corpus / name).write_text(f"<html><body><p>{invisible}</p></body></html>")
    else:
        (corpus / name).write_text(invisible)
    (corpus / "real.txt").write_text("A real document.\n")
    report = Ingestor(tmp_path / "index", HashEmbedder()).ingest([corpus])
    assert report.added == ("real.txt",)
    reasons = " ".join(why for _, why in report.skipped)
    assert "no visible text" in reasons or "no text" in reasons
    assert len(load_snapshot(tmp_path / "index").chunks) == 1


def test_an_unterminated_html_comment_is_not_indexed(tmp_path):
    f = tmp_path / "c.html"
    f.write_text("<html><body><p>Visible paragraph.</p><!-- draft: the secret figure is 990,000\n"
                 "<p>still inside the comment</p></body></html>")
    doc = load_file(f, "c.html")[0]
    assert doc.text == "Visible paragraph."
    closed = tmp_path / "d.html"
    closed.write_text("<p>Before.</p><!-- hidden --><p>After.</p>")
    assert load_file(closed, "d.html")[0].text == "Before.\nAfter."
