"""PDF text extracted by worker processes while the ingest embeds gives the very index an
in-process ingest gives: same documents, pages, chunks, vectors and skip reasons."""

from __future__ import annotations

import numpy as np
import pytest
from support import HashEmbedder, check_index, make_pdf

from ingest import pipeline
from ingest.loaders import extract_pdf_pages, load_file, pdf_page_count
from ingest.pipeline import Ingestor
from ingest.store import load_snapshot


class RecordingEmbedder(HashEmbedder):
    """Records the size of each `embed` call."""

    def __init__(self):
        super().__init__()
        self.sizes: list[int] = []

    def embed(self, texts, *, progress=False):
        self.sizes.append(len(texts))
        return super().embed(texts, progress=progress)


def _encrypted_copy(src, out, password=""):
    from pypdf import PdfReader, PdfWriter

    w = PdfWriter()
    for page in PdfReader(str(src)).pages:
        w.add_page(page)
    w.encrypt(user_password=password, owner_password="owner", algorithm="AES-256")
    with out.open("wb") as fh:
        w.write(fh)
    return out


def _corpus(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    for n, pages in (("a", 11), ("b", 9), ("c", 5)):
        texts = [f"Report {n} page {i}. Nvidia will supply {1000 * i + len(n)} chips to partner {n}{i}. "
                 f"The factory {n}{i} opens in {2020 + i}." if i % 4 else "" for i in range(1, pages + 1)]
        make_pdf(d / f"{n}.pdf", texts, title=f"Report {n}")
    _encrypted_copy(d / "c.pdf", d / "c-encrypted.pdf")
    (d / "c.pdf").unlink()
    (d / "broken.pdf").write_bytes((d / "a.pdf").read_bytes()[:700])  # truncated
    _encrypted_copy(d / "b.pdf", d / "locked.pdf", password="secret")
    (d / "notes.txt").write_text("Plain notes about the Seoul R&D center and physical AI.")
    return d


def _ingest(tmp_path, d, workers, name):
    emb = RecordingEmbedder()
    report = Ingestor(tmp_path / name, emb, load_workers=workers).ingest([d])
    return report, load_snapshot(tmp_path / name), emb


def test_page_ranges_join_to_the_whole_pdf(tmp_path):
    pdf = make_pdf(tmp_path / "r.pdf", [f"Page {i} text." if i != 3 else "" for i in range(1, 8)])
    assert pdf_page_count(pdf) == 7
    parts = [extract_pdf_pages(pdf, lo, lo + 3) for lo in (0, 3, 6)]
    texts = [t for p in parts for t in p[0]]
    assert len(texts) == 7 and "Page 7" in texts[6] and texts[2].strip() == ""
    whole = load_file(pdf, "r.pdf")[0]
    assert load_file(pdf, "r.pdf", (texts, []))[0] == whole


def test_prefetched_ingest_equals_in_process_ingest(tmp_path):
    d = _corpus(tmp_path)
    one, snap1, _ = _ingest(tmp_path, d, 1, "idx1")
    two, snap2, _ = _ingest(tmp_path, d, 2, "idx2")
    assert sorted(one.added) == sorted(two.added) == ["a.pdf", "b.pdf", "c-encrypted.pdf", "notes.txt"]
    assert sorted(one.skipped) == sorted(two.skipped)
    reasons = dict(two.skipped)
    assert reasons["locked.pdf"] == "encrypted PDF needs a password"
    assert reasons["broken.pdf"].startswith("not a readable PDF")
    assert one.warnings == two.warnings and any("have no extractable text" in w for _, w in two.warnings)
    for doc_id, rec in snap1.docs.items():
        other = snap2.docs[doc_id]
        assert (other.text, other.pages, other.metadata) == (rec.text, rec.pages, rec.metadata)
    assert [c.chunk_id for c in snap1.chunks] == [c.chunk_id for c in snap2.chunks]
    rows = np.arange(len(snap1.chunks))
    np.testing.assert_allclose(snap1.vectors(rows), snap2.vectors(rows), atol=1e-6)
    check_index(tmp_path / "idx2")


def test_small_batches_are_read_in_process(tmp_path, monkeypatch):
    d = tmp_path / "docs"
    d.mkdir()
    make_pdf(d / "small.pdf", ["One page about chips.", "Another page about chips."])

    def no_pool(*a, **k):
        raise AssertionError("a pool was started for two pages")

    monkeypatch.setattr(pipeline, "ProcessPoolExecutor", no_pool)
    assert Ingestor(tmp_path / "idx", HashEmbedder(), load_workers=4).ingest([d]).added == ("small.pdf",)


def test_a_failing_worker_falls_back_to_loading_in_process(tmp_path, monkeypatch):
    d = _corpus(tmp_path)

    def explode(path, lo, hi):
        raise RuntimeError("worker died")

    monkeypatch.setattr(pipeline, "extract_pdf_pages", explode)
    report, snap, _ = _ingest(tmp_path, d, 2, "idx")
    assert sorted(report.added) == ["a.pdf", "b.pdf", "c-encrypted.pdf", "notes.txt"]
    assert "Report a page 11" in snap.docs["a.pdf"].text


def test_embedding_starts_before_every_pdf_is_read(tmp_path, monkeypatch):
    """With workers, chunks are embedded in groups as documents arrive, not all at the end."""
    monkeypatch.setattr(pipeline, "STREAM_EMBED_MIN", 2)
    d = _corpus(tmp_path)
    _, _, emb = _ingest(tmp_path, d, 2, "idx")
    _, _, emb1 = _ingest(tmp_path, d, 1, "idx1")
    assert sum(emb.sizes) == sum(emb1.sizes)
    assert len(emb.sizes) > len(emb1.sizes)


def test_load_workers_must_not_be_negative(tmp_path):
    with pytest.raises(ValueError):
        Ingestor(tmp_path / "idx", HashEmbedder(), load_workers=-1)


def test_a_failed_ingest_stops_its_workers_and_frees_the_index(tmp_path, monkeypatch):
    import multiprocessing

    monkeypatch.setattr(pipeline, "STREAM_EMBED_MIN", 1)
    d = _corpus(tmp_path)

    class Failing(HashEmbedder):
        def embed(self, texts, *, progress=False):
            raise RuntimeError("embedder broke")

    with pytest.raises(RuntimeError, match="embedder broke"):
        Ingestor(tmp_path / "idx", Failing(), load_workers=2).ingest([d])
    assert multiprocessing.active_children() == []
    report = Ingestor(tmp_path / "idx", HashEmbedder(), load_workers=2).ingest([d])
    assert "a.pdf" in report.added
    check_index(tmp_path / "idx")
