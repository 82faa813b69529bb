"""The running server under concurrent use, and behind a login."""

from __future__ import annotations

import statistics
import threading
import time

import httpx
import pytest
from support import free_port


@pytest.mark.slow
@pytest.mark.model
def test_twenty_concurrent_clients_get_well_formed_answers(seed_app, serve_page, record_property):
    """A bounded load test on loopback: 20 clients x 3 questions, zero errors; prints throughput."""
    from gradio_client import Client

    answerer, settings = seed_app
    questions = ["What chips will Nvidia supply to Korea?", "What is an AI factory?",
                 "Where is Nvidia's R&D center?", "What is the capital of Australia?",
                 "When was Bae Kyung-hoon born?"]
    clients, per_client = 20, 3
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    with serve_page(answerer, settings) as url:
        barrier = threading.Barrier(clients)

        def worker(i: int) -> None:
            try:
                client = Client(url, verbose=False)
                barrier.wait(timeout=120)
                for j in range(per_client):
                    q = questions[(i + j) % len(questions)]
                    t0 = time.perf_counter()
                    text, sources = client.predict(q, api_name="/ask")
                    dt = time.perf_counter() - t0
                    ok = isinstance(text, str) and text and isinstance(sources, dict) and (
                        sources["abstained"] or (sources["citations"] and "[1]" in text))
                    for c in sources.get("citations", []):
                        ok = ok and answerer.retriever.document_text(c["doc_id"])[c["start"]:c["end"]] == c["quote"]
                    with lock:
                        latencies.append(dt)
                        if not ok:
                            errors.append(f"malformed answer to {q!r}: {text!r}")
            except Exception as e:  # noqa: BLE001 - every failure is a finding
                with lock:
                    errors.append(f"client {i}: {type(e).__name__}: {e}")

        t0 = time.perf_counter()
        threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=600)
        wall = time.perf_counter() - t0
    assert not errors, errors[:5]
    assert len(latencies) == clients * per_client
    lat = sorted(latencies)
    p95 = lat[min(len(lat) - 1, round(0.95 * (len(lat) - 1)))]
    summary = (f"{len(lat)} requests from {clients} clients in {wall:.1f} s: {len(lat) / wall:.1f} req/s, "
               f"p50 {statistics.median(lat) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms")
    record_property("load", summary)
    print("\n" + summary)


@pytest.fixture
def kestrel(tmp_path, hash_embedder):
    """A real Answerer over a hash-embedded one-document index."""
    from ingest.pipeline import Ingestor
    from ingest.settings import Settings
    from rag import Answerer, Retriever

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "bridge.txt").write_text("Kestrel Bridge\n\nThe Kestrel bridge spans 840 metres across the Vell river.")
    settings = Settings.from_env(index=tmp_path / "idx", upload_dir=tmp_path / "up", feedback=tmp_path / "fb.jsonl")
    Ingestor.from_settings(settings, embedder=hash_embedder).ingest([corpus])
    retriever = Retriever.load(settings.index, embedder=hash_embedder, settings=settings)
    return Answerer(retriever, abstain_threshold=0.2, settings=settings), settings


def test_with_auth_set_requests_without_login_are_refused(kestrel):
    from gradio_client import Client

    from ui.app import build_app

    answerer, settings = kestrel
    app = build_app(answerer, settings)
    port = free_port()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
               auth=("staff", "s3cret"))
    url = f"http://127.0.0.1:{port}/"
    try:
        r = httpx.post(url + "gradio_api/call/ask", json={"data": ["How long is the Kestrel bridge?"]}, timeout=30)
        assert r.status_code in (401, 403), r.status_code
        assert httpx.get(url + "config", timeout=30).status_code in (401, 403)
        with pytest.raises(Exception):  # noqa: B017 -- gradio_client's error for a refused login varies by version
            Client(url, verbose=False)
        with pytest.raises(Exception):  # noqa: B017 -- as above
            Client(url, auth=("staff", "wrong"), verbose=False)
        text, sources = Client(url, auth=("staff", "s3cret"), verbose=False).predict(
            "How long is the Kestrel bridge?", api_name="/ask")
        assert "[1]" in text and sources["abstained"] is False
    finally:
        app.close()


def test_serve_binds_to_localhost_by_default():
    import inspect

    from ui.app import serve
    from ui.cli import build_parser

    assert inspect.signature(serve).parameters["host"].default == "127.0.0.1"
    assert build_parser().parse_args(["serve"]).host == "127.0.0.1"
