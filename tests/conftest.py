"""Shared fixtures: deterministic fake embedders and small indexes built in tmp_path."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

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

from support import HashEmbedder, KeywordEmbedder  # noqa: F401  (after the environment defaults above)


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
