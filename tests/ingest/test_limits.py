"""Bounded work per document (issue 13, item 2): small files that expand into huge text.

A document with more characters of text than PARTNERQA_MAX_DOC_CHARS, or more chunks
than PARTNERQA_MAX_DOC_CHUNKS, is skipped with a reason; readers stream, so reading
stops at the limit and an ingest's memory does not grow with the input. The big inputs
run through the real command line in a subprocess, whose peak RSS is measured.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from support import HashEmbedder, make_pdf

from ingest.pipeline import Ingestor

REPO = Path(__file__).resolve().parents[2]
_W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'


def _short_lines(path: Path, mb: int) -> Path:
    words = ["chip", "fab", "wafer", "korea", "nvidia", "rubin", "factory", "memory", "yield", "plant", "seoul"]
    block = "".join(f"{words[i % 11]} {words[(i * 7) % 11]} line {i}.\n" for i in range(20_000)).encode()
    with path.open("wb") as fh:
        for _ in range(mb * 1024 * 1024 // len(block) + 1):
            fh.write(block)
    return path


def _docx(path: Path, xml_mb: int) -> Path:
    para = ("<w:p><w:r><w:t>" + "The fab yields wafers for the AI factory. " * 4 + "</w:t></w:r></w:p>").encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        with zf.open("word/document.xml", "w", force_zip64=True) as fh:
            fh.write(f'<?xml version="1.0" encoding="UTF-8"?><w:document {_W}><w:body>'.encode())
            chunk = para * 2000
            for _ in range(xml_mb * 1024 * 1024 // len(chunk)):
                fh.write(chunk)
            fh.write(b"</w:body></w:document>")
    return path


def _one_line_html(path: Path, mb: int) -> Path:
    block = "".join(f"<p>Paragraph {i} about the wafer fab and the AI factory.</p>" for i in range(10_000)).encode()
    with path.open("wb") as fh:
        fh.write(b"<html><head><title>Big</title></head><body>")
        for _ in range(mb * 1024 * 1024 // len(block)):
            fh.write(block)
        fh.write(b"</body></html>")
    return path


def _ingest_in_a_process(index: Path, doc: Path, **env: str) -> tuple[subprocess.CompletedProcess, float, float]:
    """The real CLI ingesting `doc`; returns the result, wall seconds and the child's peak RSS in MB."""
    code = ("import resource, subprocess, sys\n"
            "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
            "sys.stdout.write(r.stdout); sys.stderr.write(r.stderr)\n"
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
            "sys.exit(r.returncode)")
    base = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERQA_")}
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", code, sys.executable, "-m", "ui.cli", "--index", str(index), "ingest",
                        str(doc)], capture_output=True, text=True, timeout=180, cwd=REPO,
                       env={**base, "PYTHONPATH": str(REPO), **env}, check=False)
    wall = time.perf_counter() - t0
    rss_mb = int(r.stderr.strip().splitlines()[-1]) / 1024
    return r, wall, rss_mb


@pytest.mark.timeout(600)
@pytest.mark.parametrize(("kind", "make"), [
    ("40 MB of short text lines", lambda d: _short_lines(d / "lines.txt", 40)),
    ("DOCX whose document.xml is 120 MB", lambda d: _docx(d / "big.docx", 120)),
    ("49 MB single-line HTML", lambda d: _one_line_html(d / "big.html", 49)),
])
def test_a_huge_document_is_skipped_in_seconds_with_flat_memory(tmp_path, record_property, kind, make):
    doc = make(tmp_path)
    r, wall, rss_mb = _ingest_in_a_process(tmp_path / "index", doc)
    record_property("ingest", f"{kind}: {wall:.1f} s, peak RSS {rss_mb:.0f} MB")
    print(f"{kind}: {wall:.1f} s, peak RSS {rss_mb:.0f} MB")
    assert r.returncode == 0, r.stderr
    assert "too long: more than 3,000,000 characters" in r.stdout and "PARTNERQA_MAX_DOC_CHARS" in r.stdout
    assert wall < 180
    assert rss_mb < 400  # the CLI process itself is ~70 MB; before: 1-4 GB and hours of embedding


def test_the_character_limit_applies_to_every_format(tmp_path):
    from ingest.loaders import load_file, load_jsonl

    long_text = "The fab yields wafers for the AI factory. " * 100  # 4,200 characters
    files = {
        "a.txt": long_text, "b.md": "# Title\n\n" + long_text,
        "c.html": f"<html><body><p>{long_text}</p></body></html>",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    _docx_small(tmp_path / "d.docx", long_text)
    make_pdf(tmp_path / "e.pdf", [long_text[:1500], long_text[:1500], long_text[:1500]])
    (tmp_path / "f.jsonl").write_text(json.dumps({"doc_id": "x", "text": long_text}) + "\n"
                                      + json.dumps({"doc_id": "y", "text": "short"}) + "\n")
    from ingest.errors import SkipFile

    for name in [*files, "d.docx", "e.pdf"]:
        assert load_file(tmp_path / name, name)  # no limit: loads
        with pytest.raises(SkipFile, match="too long: more than 4,000 characters"):
            load_file(tmp_path / name, name, max_chars=4000)
    docs, skipped = load_jsonl(tmp_path / "f.jsonl", 4000)
    assert [d.doc_id for d in docs] == ["y"] and "too long" in skipped[0][1]


def _docx_small(path: Path, text: str) -> None:
    import docx

    d = docx.Document()
    d.add_paragraph(text)
    d.save(str(path))


def test_a_document_with_too_many_chunks_is_skipped_and_its_previous_version_kept(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("A short first version about the fab.\n")
    (corpus / "b.txt").write_text("Another document.\n")
    index = tmp_path / "index"
    Ingestor(index, HashEmbedder(), max_doc_chunks=5).ingest([corpus])
    (corpus / "a.txt").write_text("".join(f"Sentence {i} about the wafer fab and its yields. " * 20 + "\n"
                                          for i in range(12)))
    report = Ingestor(index, HashEmbedder(), max_doc_chunks=5).ingest([corpus])
    reasons = dict(report.skipped)
    assert "too many chunks" in reasons["a.txt"] and "PARTNERQA_MAX_DOC_CHUNKS" in reasons["a.txt"]
    from ingest.store import load_snapshot

    snap = load_snapshot(index)
    assert snap.docs["a.txt"].text == "A short first version about the fab."
    assert dict(report.warnings)["a.txt"].startswith("the file could not be loaded this time")


def test_streaming_reads_give_the_same_text_as_whole_reads(tmp_path):
    """Block boundaries (mid-line, mid-UTF-8 sequence, mixed encodings) change nothing."""
    from ingest import loaders
    from ingest.loaders import decode_text, read_text

    lines = [f"Zeile {i}: Größe ≈ {i} µm — “quoted” ✓" if i % 3 else f"cp1252 line {i}: caf\xe9".encode("cp1252")
             for i in range(3000)]
    data = b"\n".join(line if isinstance(line, bytes) else line.encode() for line in lines)
    data += b" no newline at the end " + "é".encode() * 5000
    (tmp_path / "t.txt").write_bytes(data)
    old = loaders.READ_BLOCK
    try:
        for block in (7, 64, 1000, 1 << 20):
            loaders.READ_BLOCK = block
            assert read_text(tmp_path / "t.txt") == decode_text(data), block
    finally:
        loaders.READ_BLOCK = old
