"""The bundled encoder on ONNX Runtime: the same vectors as torch (fp32) or int8 weights, without torch at run time."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .embedder import (
    BUNDLED_MODEL_NAME,
    SentenceOutput,
    bundled_model_path,
    mean_pool,
    pool_spans,
    weights_fingerprint,
)
from .errors import ConfigError
from .onnx_export import QuantConfig, ensure_onnx, quant_config_for_cpu

log = logging.getLogger(__name__)

#: Encoder names (PARTNERQA_ENCODER) this module serves, and the ONNX variant of each.
ONNX_VARIANTS = {"onnx": "fp32", "onnx-int8": "int8"}


def _onnxruntime():
    try:
        import onnxruntime
    except ImportError as e:
        raise ImportError(f"the ONNX encoder needs onnxruntime and onnx: pip install -e . "
                          f"(or pip install onnxruntime onnx) ({e})") from None
    return onnxruntime


def cpu_session(path: Path, threads: int = 0):
    """An ONNX Runtime session on the CPU for `path`: `threads` intra-op threads (0: one per core, at most 4),
    one inter-op thread, and no busy-waiting between ops (the ONNX Runtime twin of OMP_WAIT_POLICY=PASSIVE,
    `configure_threads`)."""
    ort = _onnxruntime()
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads or min(4, os.cpu_count() or 1)
    opts.inter_op_num_threads = 1
    opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])


# Sequences per ONNX Runtime pass. Measured on two cores (AMD EPYC), 240 paragraphs of ~200 tokens sorted by
# length: 2 -> 43, 4 -> 41-45, 8 -> 39-42, 16 -> 34-38 chunks/s (torch: 35-36 at 16 or 4); ingesting 300
# SQuAD paragraphs: torch 11.5-12.4 s, ONNX at 16 9.6-9.9 s, at 4 8.3-8.4 s.
FORWARD_BATCH = 4


class OnnxEmbedder:
    """A sentence-transformers folder (BERT-like, mean pooling) run by ONNX Runtime on the CPU.

    The transformer is exported once from the folder's own weights into a cache folder
    (`ingest.onnx_export.ensure_onnx`); tokenising uses the folder's `tokenizer.json`, and mean pooling
    and L2 normalisation run in numpy. `fp32` gives torch's vectors (cosine >= 0.9999999 on the bundled
    model), so its fingerprint is the weights' own and its indexes are interchangeable with torch's; `int8`
    gives other vectors, so its fingerprint also names the quantisation.

    Args:
        model_path: Folder of the model; None means the bundled all-MiniLM-L6-v2.
        variant: ``fp32`` or ``int8``.
        batch_size: Texts per forward pass (texts are sorted by length first, as `encode` does), at most
            `FORWARD_BATCH`: ONNX Runtime on two cores runs a pass of 4 sequences faster per sequence than one of
            16 (its activations stay in cache), where torch runs both alike.
        threads: ONNX Runtime intra-op threads; 0 leaves one per core (at most 4).
        cache_dir: Root of the export cache; None: PARTNERQA_CACHE_DIR's default (`onnx_export.cache_root`).
        quant: The int8 config; None: chosen from the CPU.
    """

    def __init__(self, model_path: str | Path | None = None, *, variant: str = "fp32", batch_size: int = 16,
                 threads: int = 0, cache_dir: str | Path | None = None, quant: QuantConfig | None = None) -> None:
        if variant not in ("fp32", "int8"):
            raise ValueError(f"variant must be fp32 or int8, got {variant!r}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size!r}")
        if threads < 0:
            raise ValueError(f"threads must be >= 0, got {threads!r}")
        self.model_path = Path(model_path) if model_path else bundled_model_path()
        if not (self.model_path / "tokenizer.json").is_file():
            raise ConfigError(f"{self.model_path} has no tokenizer.json: the ONNX encoder cannot tokenise for it "
                              "(PARTNERQA_ENCODER=torch runs it)")
        self.variant = variant
        self.encoder = "onnx" if variant == "fp32" else "onnx-int8"
        self.name = BUNDLED_MODEL_NAME if model_path in (None, "") else self.model_path.name
        self.batch_size = min(batch_size, FORWARD_BATCH)
        self.threads = threads
        self.cache_dir = cache_dir
        self.quant = (quant or quant_config_for_cpu()) if variant == "int8" else None
        self.max_seq_length, self.dimension = self._read_config()
        self.onnx_path: Path | None = None
        self._session = None
        self._tokenizer = None
        self._inputs: tuple[str, ...] = ()
        self._lock = threading.Lock()

    def _read_config(self) -> tuple[int, int]:
        try:
            pooling = json.loads((self.model_path / "1_Pooling" / "config.json").read_text())
            st_config = self.model_path / "sentence_bert_config.json"
            max_len = int(json.loads(st_config.read_text()).get("max_seq_length") or 512) if st_config.is_file() \
                else 512
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise ConfigError(f"{self.model_path} is not a usable model folder for the ONNX encoder "
                              f"({type(e).__name__}: {e})") from None
        if not pooling.get("pooling_mode_mean_tokens") or any(
                pooling.get(k) for k in ("pooling_mode_cls_token", "pooling_mode_max_tokens",
                                         "pooling_mode_mean_sqrt_len_tokens")):
            raise ConfigError(f"{self.model_path} does not use mean pooling: the ONNX encoder supports only mean "
                              "pooling (PARTNERQA_ENCODER=torch runs it)")
        return max_len, int(pooling["word_embedding_dimension"])

    def fingerprint(self) -> str:
        fp = weights_fingerprint(self.model_path)
        if self.variant == "fp32":
            return fp
        import hashlib

        from .onnx_export import EXPORT_FORMAT

        # The export format too: int8 vectors follow the graph that was quantised (fp32's match torch's).
        return "sha256:" + hashlib.sha256(f"{fp}|onnx-int8|{self.quant.key}|format{EXPORT_FORMAT}".encode()).hexdigest()

    def warm_up(self) -> None:
        """Export (first time only: ~10-20 s) or find the cached ONNX file, and open a session on it."""
        if self._session is not None:
            return
        with self._lock:
            if self._session is not None:
                return
            from tokenizers import Tokenizer

            self.onnx_path = ensure_onnx(self.model_path, weights_fingerprint(self.model_path), self.variant,
                                         cache_dir=self.cache_dir, quant=self.quant)
            session = cpu_session(self.onnx_path, self.threads)
            tok = Tokenizer.from_file(str(self.model_path / "tokenizer.json"))
            tok.enable_truncation(max_length=self.max_seq_length)
            tok.no_padding()
            self._inputs = tuple(i.name for i in session.get_inputs())
            self._tokenizer = tok
            self._session = session
            log.info("ONNX encoder %s (%s) ready from %s", self.name, self.variant, self.onnx_path)

    def embed(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dimension), dtype=np.float32)
        self.warm_up()
        texts = list(texts)
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        if len(texts) <= self.batch_size:
            out[:] = self._forward(texts)
            return out
        # Longest first, as sentence-transformers' encode does: each batch pads to similar lengths.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        starts = range(0, len(texts), self.batch_size)
        if progress:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="Batches", unit="batch")
        for s in starts:
            idx = order[s:s + self.batch_size]
            out[idx] = self._forward([texts[i] for i in idx])
        return out

    def embed_sentences(self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]) -> SentenceOutput:
        """The texts' vectors (as `embed`) and, from the same pass, the vectors of the given sentence spans of
        each text pooled from its token vectors (`ingest.embedder.pool_spans`)."""
        if len(texts) != len(spans):
            raise ValueError(f"{len(texts)} texts but {len(spans)} span lists")
        out = np.empty((len(texts), self.dimension), dtype=np.float32)
        sents: list[np.ndarray] = [np.zeros((0, self.dimension), np.float32)] * len(texts)
        if len(texts) == 0:
            return out, sents
        self.warm_up()
        order = np.argsort([-len(t) for t in texts], kind="stable")
        for s in range(0, len(texts), self.batch_size):
            idx = order[s:s + self.batch_size]
            vecs, per_text = self._forward([texts[i] for i in idx], [spans[i] for i in idx])
            out[idx] = vecs
            for j, i in enumerate(idx):
                sents[i] = per_text[j]
        return out, sents

    def _forward(self, texts: list[str], spans: Sequence[Sequence[tuple[int, int]]] | None = None):
        """Unit vectors of `texts`; with `spans`, also (vectors, their spans' pooled vectors per text)."""
        encs = self._tokenizer.encode_batch(texts)
        width = max(len(e.ids) for e in encs)
        ids = np.zeros((len(encs), width), dtype=np.int64)
        mask = np.zeros((len(encs), width), dtype=np.int64)
        types = np.zeros((len(encs), width), dtype=np.int64)
        for row, e in enumerate(encs):
            n = len(e.ids)
            ids[row, :n] = e.ids
            mask[row, :n] = 1
            types[row, :n] = e.type_ids
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        tokens = self._session.run(None, {k: feeds[k] for k in self._inputs})[0]
        vecs = mean_pool(tokens, mask)
        if spans is None:
            return vecs
        per_text = []
        for row, e in enumerate(encs):
            offsets = np.asarray(e.offsets, dtype=np.int64).reshape(-1, 2)
            n = len(e.ids)
            per_text.append(pool_spans(tokens[row], offsets, n, spans[row], n >= self.max_seq_length))
        return vecs, per_text
