"""Generators behind one Protocol: an OpenAI-compatible endpoint, a local GGUF model, and a fake.

A generator turns chat messages (built by `rag.prompts.build_messages`) into streamed text. It
knows nothing about passages or citations; `rag.verify` checks whatever it writes. The real
backends are optional: their libraries are imported on first use and a missing one raises an
`ImportError` naming the extra to install.
"""

from __future__ import annotations

import copy
import logging
import os
import queue
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ingest.embedder import configure_threads
from ingest.errors import ConfigError

log = logging.getLogger(__name__)

Messages = list[dict[str, str]]

GGUF_BACKENDS = ("auto", "llama_cpp", "xllamacpp")


@runtime_checkable
class Generator(Protocol):
    """Streams a chat model's reply as text deltas."""

    name: str

    def stream(self, messages: Messages) -> Iterator[str]:
        """Yield the reply to `messages` (``[{"role": ..., "content": ...}]``) piece by piece."""
        ...


def generate(generator: Generator, messages: Messages) -> str:
    """The whole reply of `generator` to `messages`: `stream` joined."""
    return "".join(generator.stream(messages))


def _check_messages(messages: Sequence[Mapping[str, str]]) -> Messages:
    if not messages:
        raise ValueError("messages must not be empty")
    out = []
    for i, m in enumerate(messages):
        role, content = m.get("role"), m.get("content")
        if role not in ("system", "user", "assistant") or not isinstance(content, str):
            raise ValueError(f"messages[{i}] must be {{'role': system|user|assistant, 'content': str}}, got {m!r}")
        out.append({"role": role, "content": content})
    return out


def _check_sampling(temperature: float, max_tokens: int) -> None:
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature!r}")
    if max_tokens < 1:
        raise ValueError(f"max_tokens must be >= 1, got {max_tokens!r}")


# -- OpenAI-compatible endpoint ----------------------------------------------------------------
def _import_chat_openai():
    try:
        from langchain_openai import ChatOpenAI
    except ImportError as e:
        raise ImportError("answer mode 'openai' needs langchain-openai: pip install 'partnerqa[llm]'") from e
    return ChatOpenAI


class OpenAICompatibleGenerator:
    """A chat model behind an OpenAI-compatible HTTP endpoint (vLLM, llama.cpp server, Ollama).

    Uses LangChain's `ChatOpenAI`, so anything LangChain can point at works. The client is made
    on first use; no request is sent before `stream`.

    Args:
        base_url: The endpoint's base URL, e.g. ``http://localhost:8000/v1``.
        model: The model name the server expects.
        api_key: Bearer key; local servers usually need none (a placeholder is sent).
        temperature: Sampling temperature; 0 keeps answers repeatable.
        max_tokens: Most tokens in a reply.
        timeout: Seconds to wait for the server.
        max_retries: Retries on connection errors and 5xx replies.

    Raises:
        ImportError: langchain-openai is not installed (extra ``partnerqa[llm]``).
    """

    def __init__(self, base_url: str, model: str, api_key: str = "", *, temperature: float = 0.0,
                 max_tokens: int = 512, timeout: float = 60.0, max_retries: int = 1) -> None:
        if not base_url or not base_url.strip():
            raise ValueError(f"base_url must be a URL, got {base_url!r}")
        if not model or not model.strip():
            raise ValueError(f"model must be a model name, got {model!r}")
        _check_sampling(temperature, max_tokens)
        if timeout <= 0:
            raise ValueError(f"timeout must be > 0, got {timeout!r}")
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries!r}")
        self._chat_openai = _import_chat_openai()  # fail at construction, not mid-answer
        self.base_url = base_url.strip().rstrip("/")
        self.model = model.strip()
        self.api_key = api_key
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.timeout = timeout
        self.max_retries = max_retries
        self.name = f"openai:{self.model}"
        self._llm = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never show the key
        return f"OpenAICompatibleGenerator(base_url={self.base_url!r}, model={self.model!r})"

    def warm_up(self) -> None:
        """Build the LangChain client now (it does not contact the server)."""
        with self._lock:
            if self._llm is None:
                self._llm = self._chat_openai(
                    base_url=self.base_url, model=self.model, api_key=self.api_key or "not-needed",
                    temperature=self.temperature, max_tokens=self.max_tokens, timeout=self.timeout,
                    max_retries=self.max_retries, streaming=True,
                )

    def stream(self, messages: Messages) -> Iterator[str]:
        messages = _check_messages(messages)
        self.warm_up()
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

        kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
        lc_messages = [kinds[m["role"]](content=m["content"]) for m in messages]
        for chunk in self._llm.stream(lc_messages):
            text = chunk.content if isinstance(chunk.content, str) else "".join(
                part.get("text", "") if isinstance(part, dict) else str(part) for part in chunk.content)
            if text:
                yield text


# -- local GGUF model --------------------------------------------------------------------------
def _import_gguf_backend(backend: str) -> tuple[str, Any]:
    """The first importable runtime: llama-cpp-python, then xllamacpp's prebuilt wheels."""
    # llama.cpp's OpenMP threads spin while waiting unless told otherwise, which starves a busy
    # neighbour (and itself) on a small machine; the variable is read once, at first import.
    configure_threads()
    names = ("llama_cpp", "xllamacpp") if backend == "auto" else (backend,)
    errors = []
    for name in names:
        try:
            if name == "llama_cpp":
                import llama_cpp as module
            else:
                import xllamacpp as module
            return name, module
        except ImportError as e:
            errors.append(e)
    raise ImportError("answer mode 'gguf' needs a llama.cpp runtime: pip install 'partnerqa[gguf]'") from errors[-1]


class GGUFGenerator:
    """A local GGUF chat model run in-process by llama.cpp.

    Uses llama-cpp-python when it is installed, otherwise xllamacpp (prebuilt CPU wheels, no
    compiler needed). The model is loaded once, on first use or in `warm_up`. The chat template
    stored in the GGUF file formats the messages.

    Args:
        model_path: The ``.gguf`` file.
        n_ctx: Context window in tokens (prompt plus reply).
        max_tokens: Most tokens in a reply.
        temperature: Sampling temperature; 0 is greedy and repeatable.
        threads: CPU threads; 0 means one per core, at most 4.
        backend: ``auto``, ``llama_cpp`` or ``xllamacpp``.

    Raises:
        ImportError: Neither runtime is installed (extra ``partnerqa[gguf]``).
        ConfigError: `model_path` is not a file.
    """

    def __init__(self, model_path: str | os.PathLike, *, n_ctx: int = 4096, max_tokens: int = 384,
                 temperature: float = 0.0, threads: int = 0, backend: str = "auto") -> None:
        if backend not in GGUF_BACKENDS:
            raise ValueError(f"backend must be one of {', '.join(GGUF_BACKENDS)}, got {backend!r}")
        if n_ctx < 256:
            raise ValueError(f"n_ctx must be >= 256, got {n_ctx!r}")
        _check_sampling(temperature, max_tokens)
        if max_tokens >= n_ctx:
            raise ValueError(f"max_tokens must be < n_ctx ({n_ctx}), got {max_tokens!r}")
        if threads < 0:
            raise ValueError(f"threads must be >= 0, got {threads!r}")
        self.model_path = Path(model_path)
        if not self.model_path.is_file():
            raise ConfigError(f"model_path is not a GGUF file: {self.model_path}")
        self.backend, self._module = _import_gguf_backend(backend)
        self.n_ctx = n_ctx
        self.max_tokens = max_tokens
        self.temperature = temperature
        self.threads = threads or min(4, os.cpu_count() or 1)
        self.name = f"gguf:{self.model_path.name}"
        self._model: Any = None
        self._load_lock = threading.Lock()
        self._run_lock = threading.Lock()  # llama-cpp-python's Llama is not thread safe

    def warm_up(self) -> None:
        """Load the model now rather than on the first `stream`."""
        with self._load_lock:
            if self._model is not None:
                return
            log.info("loading GGUF model %s with %s", self.model_path, self.backend)
            if self.backend == "llama_cpp":
                self._model = self._module.Llama(model_path=str(self.model_path), n_ctx=self.n_ctx,
                                                 n_threads=self.threads, verbose=False)
            else:
                p = self._module.CommonParams()
                p.model.path = str(self.model_path)
                p.n_ctx = self.n_ctx
                p.n_predict = self.max_tokens
                p.n_parallel = 1
                p.cpuparams.n_threads = self.threads
                p.cpuparams_batch.n_threads = self.threads
                p.sampling.temp = self.temperature
                p.warmup = False
                p.verbosity = 3 if log.isEnabledFor(logging.DEBUG) else 0  # llama.cpp's own log, to stderr
                # xllamacpp also serves HTTP on a random 127.0.0.1 port; a random key keeps
                # other local processes off it (in-process calls do not need the key).
                p.api_keys = [secrets.token_urlsafe(24)]
                self._model = self._module.Server(p)

    def stream(self, messages: Messages) -> Iterator[str]:
        messages = _check_messages(messages)
        self.warm_up()
        if self.backend == "llama_cpp":
            yield from self._stream_llama_cpp(messages)
        else:
            yield from self._stream_xllamacpp(messages)

    def _stream_llama_cpp(self, messages: Messages) -> Iterator[str]:
        with self._run_lock:
            for chunk in self._model.create_chat_completion(messages=messages, stream=True,
                                                            max_tokens=self.max_tokens,
                                                            temperature=self.temperature):
                text = _delta_text(chunk)
                if text:
                    yield text

    def _stream_xllamacpp(self, messages: Messages) -> Iterator[str]:
        # The server calls back from its own thread; a queue turns the callbacks into an iterator,
        # and returning True from the callback stops generation when the reader goes away.
        out: queue.Queue = queue.Queue()
        stop = threading.Event()
        done = object()
        request = {"messages": messages, "stream": True, "max_tokens": self.max_tokens,
                   "temperature": self.temperature}

        def on_chunk(chunk: Any) -> bool:
            out.put(chunk)
            return stop.is_set()

        def run() -> None:
            try:
                result = self._model.handle_chat_completions(request, on_chunk)
                if isinstance(result, dict) and "error" in result:
                    out.put(result)
            except BaseException as e:  # noqa: BLE001 - handed to the reading thread, which re-raises it
                out.put(e)
            finally:
                out.put(done)

        worker = threading.Thread(target=run, name="gguf-stream", daemon=True)
        worker.start()
        try:
            while True:
                item = out.get()
                if item is done:
                    break
                if isinstance(item, BaseException):
                    raise item
                if isinstance(item, dict) and "error" in item:
                    raise RuntimeError(f"GGUF generation failed: {item['error']}")
                text = _delta_text(item)
                if text:
                    yield text
        finally:
            # The callback returns True on the next chunk; wait for that, since a daemon thread
            # still inside llama.cpp when the interpreter exits aborts the process.
            stop.set()
            worker.join()


def _delta_text(chunk: Any) -> str:
    if isinstance(chunk, str):  # some runtimes hand back the SSE payload as JSON text
        import json

        try:
            chunk = json.loads(chunk)
        except ValueError:
            return ""
    try:
        return chunk["choices"][0].get("delta", {}).get("content") or ""
    except (KeyError, IndexError, TypeError, AttributeError):
        return ""


# -- fake --------------------------------------------------------------------------------------
class FakeGenerator:
    """A generator for tests and demos: a fixed or computed reply, streamed in small pieces.

    Args:
        reply: The reply, or a function of the messages that returns it.
        chunk: Characters per streamed piece.

    Attributes:
        calls: A deep copy of every `messages` list received, in order.
    """

    def __init__(self, reply: str | Callable[[Messages], str], chunk: int = 4) -> None:
        if chunk < 1:
            raise ValueError(f"chunk must be >= 1, got {chunk!r}")
        if not isinstance(reply, str) and not callable(reply):
            raise TypeError(f"reply must be a string or a callable, got {type(reply).__name__}")
        self.reply = reply
        self.chunk = chunk
        self.name = "fake"
        self.calls: list[Messages] = []

    def stream(self, messages: Messages) -> Iterator[str]:
        messages = _check_messages(messages)
        self.calls.append(copy.deepcopy(messages))
        text = self.reply(messages) if callable(self.reply) else self.reply
        for i in range(0, len(text), self.chunk):
            yield text[i : i + self.chunk]


# -- from settings -----------------------------------------------------------------------------
def make_generator(settings: Any) -> Generator | None:
    """The generator that `settings.answer_mode` asks for; None for ``extractive``.

    Raises:
        ConfigError: A setting the mode needs is missing (the message names the variable).
        ImportError: The mode's optional dependency is not installed (the message names the extra).
    """
    mode = settings.answer_mode
    if mode == "extractive":
        return None
    if mode == "openai":
        if not settings.llm_base_url:
            raise ConfigError("answer mode 'openai' needs PARTNERQA_LLM_BASE_URL (e.g. http://localhost:8000/v1)")
        if not settings.llm_model:
            raise ConfigError("answer mode 'openai' needs PARTNERQA_LLM_MODEL (the model name the server serves)")
        return OpenAICompatibleGenerator(settings.llm_base_url, settings.llm_model, settings.llm_api_key or "")
    if mode == "gguf":
        if not settings.gguf:
            raise ConfigError("answer mode 'gguf' needs PARTNERQA_GGUF (path of a .gguf model file)")
        if not Path(settings.gguf).is_file():
            raise ConfigError(f"PARTNERQA_GGUF is not a file: {settings.gguf}")
        return GGUFGenerator(settings.gguf, threads=getattr(settings, "threads", 0) or 0)
    raise ConfigError(f"answer_mode must be extractive, openai or gguf, got {mode!r}")


def available_modes(settings: Any) -> list[str]:
    """Answer modes that `settings` configures: extractive always, then openai and gguf when set up.

    Only settings are checked; whether the optional libraries import is left to `make_generator`.
    """
    modes = ["extractive"]
    if settings.llm_base_url and settings.llm_model:
        modes.append("openai")
    if settings.gguf and Path(settings.gguf).is_file():
        modes.append("gguf")
    return modes
