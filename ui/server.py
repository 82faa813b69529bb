"""Serving the chat page: `serve` (index from seeds/ when none exists, one model, one index), auth, loopback."""

import ipaddress
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ui.layout import build_app


def parse_auth(auth: str) -> tuple[str, str] | None:
    """`"user:password"` as a tuple for `launch(auth=...)`; None when empty."""
    if not auth:
        return None
    from ingest.errors import ConfigError

    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise ConfigError("auth must look like user:password")
    return user, password


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(settings: Any, host: str = "127.0.0.1", port: int = 7860, seeds: Path = Path("seeds")) -> int:
    """Serve the chat until interrupted; build the index from `seeds` first if none exists.

    The model and the index are loaded once and shared by every user. Prints the time
    from start to ready.
    """
    t0 = time.perf_counter()
    from ingest.embedder import configure_threads

    configure_threads(getattr(settings, "threads", 0))  # before anything imports torch
    from ingest.backend import open_store
    from ingest.embedder import embedder_from_settings
    from ingest.errors import IndexNotFoundError

    auth = parse_auth(settings.auth)
    embedder = embedder_from_settings(settings)
    if not open_store(settings).exists():  # the FAISS folder, or Milvus (PARTNERQA_BACKEND)
        seeds = Path(seeds)
        if not seeds.exists():
            raise IndexNotFoundError(f"no index at {settings.index} and no seeds folder at {seeds} to build it from")
        from ingest.pipeline import Ingestor

        print(f"partnerqa: no index at {settings.index}; building it from {seeds}/ ...", file=sys.stderr, flush=True)
        last = [""]

        def note(msg: str, frac: float) -> None:
            if msg != last[0]:
                last[0] = msg
                print(f"  [{frac * 100:5.1f}%] {msg}", file=sys.stderr, flush=True)

        report = Ingestor.from_settings(settings, embedder=embedder).ingest([seeds], progress=sys.stderr.isatty(),
                                                                             on_progress=note)
        print(report.summary(), file=sys.stderr, flush=True)
    from rag import Answerer

    answerer = Answerer.load(settings=settings, embedder=embedder)
    # Load the model while the page is built, so the first question waits for nothing.
    warm = threading.Thread(target=getattr(answerer, "warm_up", lambda: None), name="partnerqa-warm-up", daemon=True)
    warm.start()
    if not is_loopback(host) and auth is None:
        print(f"partnerqa: warning: serving on {host} without a password; anyone who can reach this machine can "
              "read and change the index (set PARTNERQA_AUTH=user:password)", file=sys.stderr, flush=True)
    app = build_app(answerer, settings)
    app.launch(server_name=host, server_port=port, auth=auth, prevent_thread_lock=True, quiet=True,
               inbrowser=False, share=False)
    warm.join()
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    n_docs = len(answerer.retriever.documents())
    print(f"partnerqa: ready in {time.perf_counter() - t0:.1f} s at http://{shown}:{port} "
          f"({n_docs} documents, index {settings.index})", flush=True)
    try:
        app.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        app.close()
    return 0
