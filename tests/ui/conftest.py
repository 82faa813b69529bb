"""Fixtures for the UI tests: seed indexes in tmp, and a live chat server on a free port."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from support import free_port

from ingest.embedder import configure_threads

configure_threads()  # before anything imports torch

SEEDS = Path(__file__).resolve().parents[2] / "seeds"


@contextmanager
def live_app(answerer: Any, settings: Any) -> Iterator[str]:
    """The real chat page over `answerer`, served in this process on a free port; yields its URL."""
    from ui.app import build_app

    app = build_app(answerer, settings)
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        app.close()
        time.sleep(0.2)


@pytest.fixture
def serve_page():
    """`serve_page(answerer, settings)`: a context manager serving the real page; yields its URL."""
    return live_app


@pytest.fixture(scope="session")
def port_factory():
    """A function returning a free TCP port on 127.0.0.1."""
    return free_port


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture
def seeds_dir() -> Path:
    """The repository's seeds/ folder."""
    return SEEDS


@pytest.fixture(scope="session")
def real_embedder():
    """The bundled all-MiniLM-L6-v2, loaded once for every UI test that needs it."""
    from ingest.embedder import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder()


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, real_embedder) -> Path:
    """An index of the repository's seeds/ built with the real embedder (read-only: copy it to change it)."""
    from ingest.pipeline import Ingestor
    from ingest.settings import Settings

    index = tmp_path_factory.mktemp("seed-index") / "idx"
    report = Ingestor.from_settings(Settings.from_env(index=index), embedder=real_embedder).ingest([SEEDS])
    assert report.added and not report.skipped, report.summary()
    return index


@pytest.fixture
def seed_app(tmp_path, seed_index, real_embedder):
    """A private copy of the seed index, its settings and a real Answerer over it."""
    from ingest.settings import Settings
    from rag import Answerer

    index = tmp_path / "idx"
    shutil.copytree(seed_index, index)
    settings = Settings.from_env(index=index, upload_dir=tmp_path / "uploads", feedback=tmp_path / "feedback.jsonl")
    answerer = Answerer.load(settings=settings, embedder=real_embedder)
    answerer.warm_up()
    return answerer, settings
