"""Shared fixtures: deterministic fake embedders and small indexes built in tmp_path."""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# The ONNX encoder's export goes to a cache folder of this session, never the user's ~/.cache: set for the
# CLI subprocesses too (their helpers drop PARTNERQA_* variables, not XDG_CACHE_HOME). Exported once a session.
_CACHE = tempfile.mkdtemp(prefix="partnerqa-test-cache-")
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)
os.environ["XDG_CACHE_HOME"] = _CACHE
os.environ.pop("PARTNERQA_CACHE_DIR", None)

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
SHARED = REPO.parent / "shared"

from support import HashEmbedder  # after the environment defaults above; tests/ is on sys.path


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


@pytest.fixture
def hash_embedder() -> HashEmbedder:
    return HashEmbedder()


@pytest.fixture(scope="session")
def real_embedder():
    """The bundled all-MiniLM-L6-v2, loaded once per test session."""
    from ingest.embedder import SentenceTransformerEmbedder

    emb = SentenceTransformerEmbedder()
    emb.warm_up()
    return emb


@pytest.fixture(scope="session")
def seeds_index(tmp_path_factory, real_embedder) -> Path:
    """An index of seeds/ built with the real model, shared by the tests that only read it."""
    from ingest.pipeline import Ingestor

    index = tmp_path_factory.mktemp("seeds") / "index"
    report = Ingestor(index, real_embedder).ingest([SEEDS])
    assert not report.skipped, report.skipped
    return index
