"""A running server follows the index on disk (issue 13, items 3 and 6).

A real `partnerqa serve` process stops citing a document as soon as another process
removes it, without a page load; an upload's temporary copy in Gradio's folder is deleted
once partnerqa has its own.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import stop_process

REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str, **popen) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERQA_")}
    return subprocess.Popen([sys.executable, "-m", "ui.cli", *args], cwd=REPO, text=True,
                            env={**env, "PYTHONPATH": str(REPO)}, **popen)


@pytest.mark.model
@pytest.mark.timeout(600)
def test_a_running_server_stops_citing_a_document_another_process_removed(tmp_path, seed_index, port):
    from gradio_client import Client

    index = tmp_path / "idx"
    shutil.copytree(seed_index, index)
    server = _cli("--index", str(index), "serve", "--port", str(port), "--seeds", str(tmp_path / "none"),
                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300
        lines = []
        for line in server.stdout:
            lines.append(line)
            if "ready in" in line or time.monotonic() > deadline:
                break
        assert "ready in" in lines[-1], "".join(lines)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        question = "How many advanced chips were pledged at APEC?"
        text, sources = client.predict(question, api_name="/ask")
        cited = {c["doc_id"] for c in sources["citations"]}
        assert cited and not sources["abstained"], text

        remove = _cli("--index", str(index), "remove", *sorted(cited), stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE)
        _, err = remove.communicate(timeout=120)
        assert remove.returncode == 0, err

        # The next request, with no page load in between, answers from the live generation.
        text, sources = client.predict(question, api_name="/ask")
        used = {c["doc_id"] for c in sources["citations"]} | {h["doc_id"] for h in sources.get("hits", [])}
        used |= {h["doc_id"] for h in sources.get("related", [])}
        assert not (used & cited), (cited, used, text)
        text, sources = client.predict("What platform will the AI factory run on?", api_name="/ask")
        assert not ({c["doc_id"] for c in sources["citations"]} & cited)
    finally:
        stop_process(server, 30)
        server.stdout.close()


def test_gradios_copy_of_an_upload_is_deleted_once_ingested(tmp_path, hash_embedder, serve_page):
    """Through the real server's upload route: the file lands in Gradio's folder, the handler
    ingests it, and only partnerqa's copy (removed with its document) is left."""
    import httpx
    from gradio.utils import get_upload_folder

    from ingest.pipeline import Ingestor
    from ingest.settings import Settings
    from rag import Answerer, Retriever
    from ui.handlers import ChatHandlers

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("The Kestrel bridge is 840 metres long.\n")
    settings = Settings.from_env(index=tmp_path / "idx", upload_dir=tmp_path / "up", feedback=tmp_path / "fb.jsonl")
    Ingestor.from_settings(settings, embedder=hash_embedder).ingest([corpus])
    answerer = Answerer(Retriever.load(settings.index, embedder=hash_embedder, settings=settings))
    upload = tmp_path / "canteen-hours-7f3a.txt"
    upload.write_text("Canteen hours\n\nThe canteen opens at 7:30 on weekdays.\n")
    with serve_page(answerer, settings) as url:
        with upload.open("rb") as fh:
            r = httpx.post(f"{url}gradio_api/upload", files={"files": (upload.name, fh, "text/plain")}, timeout=30)
        r.raise_for_status()
        (temp,) = r.json()
        assert Path(temp).is_file() and Path(temp).resolve().is_relative_to(Path(get_upload_folder()).resolve())
        h = ChatHandlers(answerer, settings)
        status, *_ = h.add_files([temp], progress=lambda *a, **k: None)
        assert "Added" in status
        assert not Path(temp).exists()
        assert not list(Path(get_upload_folder()).rglob(upload.name))
        assert (settings.upload_dir / upload.name).is_file()
        status, *_ = h.remove_doc(upload.name)
        assert "Removed" in status and not (settings.upload_dir / upload.name).exists()
