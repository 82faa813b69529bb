"""Deterministic fakes and index checks shared by the tests (and by their subprocess workers).

Kept free of pytest so a worker started with `python -c` can import it too.
"""

from __future__ import annotations

import hashlib
import re
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

_WORD = re.compile(r"\w+", re.UNICODE)
SHARED = Path(__file__).resolve().parents[2] / "shared"  # the data beside the repository (absent in a fresh clone)


class HashEmbedder:
    """A hash-seeded bag-of-words embedder: each word adds +-1 to one of `dimension` columns.

    Texts sharing words get a positive cosine, so a query made of a document's words
    finds it; vectors are L2-normalised float32. The fingerprint depends on the name and
    dimension only, so a slow copy (`delay`) is interchangeable with a fast one.

    Args:
        dimension: Columns of each vector (384, like all-MiniLM-L6-v2).
        delay: Seconds to sleep in every `embed` call (to widen windows in crash tests).
        name: Recorded in the index manifest.
    """

    def __init__(self, dimension: int = 384, *, delay: float = 0.0, name: str = "hash-embedder") -> None:
        if dimension < 2:
            raise ValueError(f"dimension must be >= 2, got {dimension!r}")
        if delay < 0:
            raise ValueError(f"delay must be >= 0, got {delay!r}")
        self.dimension = dimension
        self.delay = delay
        self.name = name
        self.calls = 0

    def fingerprint(self) -> str:
        return f"fake:{self.name}:{self.dimension}:v1"

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        self.calls += 1
        if self.delay:
            time.sleep(self.delay)
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                h = int.from_bytes(
                    hashlib.blake2b(word.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "big"
                )
                out[row, h % self.dimension] += 1.0 if (h >> 32) & 1 else -1.0
            norm = float(np.linalg.norm(out[row]))
            if norm == 0.0:
                out[row, 0] = 1.0
            else:
                out[row] /= norm
        return np.ascontiguousarray(out)


class SentenceHashEmbedder(HashEmbedder):
    """A `HashEmbedder` that also gives sentence vectors (`embed_sentences`): each span's vector is the hash
    vector of the span's own words, so a test can tell which sentence a stored row belongs to.
    `sentence_texts` records the texts it embedded with their sentences; `embedded` every text of `embed`."""

    def __init__(self, dimension: int = 384) -> None:
        super().__init__(dimension, name="sentence-hash-embedder")
        self.sentence_texts: list[str] = []
        self.embedded: list[str] = []

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        self.embedded.extend(texts)
        return super().embed(texts, progress=progress)

    def embed_sentences(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]):
        self.sentence_texts.extend(texts)
        vecs = HashEmbedder.embed(self, texts)
        per_text = [HashEmbedder.embed(self, [t[s:e] for s, e in sp]) if len(sp) else
                    np.zeros((0, self.dimension), np.float32) for t, sp in zip(texts, spans)]
        return vecs, per_text


def stop_process(proc: subprocess.Popen, timeout: float = 20) -> None:
    """Terminate a server started by a test; kill it if it does not exit within `timeout` seconds."""
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()


def make_pdf(path: Path, pages: Sequence[str], *, title: str | None = None) -> Path:
    """Write a real PDF (fpdf2) with one page per string; an empty string gives a page
    that holds only a drawn rectangle (no text at all)."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    if title:
        pdf.set_title(title)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 8, text)
        else:
            pdf.set_fill_color(40, 40, 40)
            pdf.rect(20, 20, 100, 60, style="F")
    pdf.output(str(path))
    return path


def check_index(index_dir: Path):
    """Load the live generation and check it is whole; returns the snapshot.

    Every chunk slices its document's text exactly, lies inside one page when the
    document is paged, and counts match between documents, chunks, FAISS and BM25.
    """
    from ingest.store import load_snapshot

    snap = load_snapshot(index_dir)
    assert snap.faiss_index.ntotal == len(snap.chunks) == snap.bm25.n_docs
    per_doc: dict[str, int] = {}
    for c in snap.chunks:
        doc = snap.docs[c.doc_id]
        assert doc.text[c.start : c.end] == c.text, c.chunk_id
        assert c.text.strip(), c.chunk_id
        if doc.pages:
            assert any(p == c.page and s <= c.start and c.end <= e for p, s, e in doc.pages), c.chunk_id
        per_doc[c.doc_id] = per_doc.get(c.doc_id, 0) + 1
    assert per_doc == {d.doc_id: d.n_chunks for d in snap.docs.values()}
    assert set(snap.manifest["documents"]) == set(snap.docs)
    return snap


def rehash(generation: Path) -> None:
    """Re-record every file's size and SHA-256 in a generation's manifest, as a consistent
    edit would: lets a test reach the checks that run after the integrity check."""
    import json

    from ingest.store import file_record

    path = generation / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["files"] = {name: file_record(generation / name) for name in manifest["files"]}
    path.write_text(json.dumps(manifest), encoding="utf-8")


class KeywordEmbedder:
    """One-hot over a fixed vocabulary, so cosine ranks can be worked out by hand."""

    def __init__(self, vocab: Sequence[str]) -> None:
        self.vocab = list(vocab)
        self.dimension = len(self.vocab) + 1  # the last column catches texts with no known word
        self.name = "fake-keyword"

    def fingerprint(self) -> str:
        return "fake:keyword:" + ",".join(self.vocab)

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for i, t in enumerate(texts):
            words = set(re.findall(r"\w+", t.lower()))
            for j, v in enumerate(self.vocab):
                if v in words:
                    out[i, j] = 1.0
            if not out[i].any():
                out[i, -1] = 1.0
            out[i] /= np.linalg.norm(out[i])
        return out


def free_port() -> int:
    """A TCP port on the loopback address that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
