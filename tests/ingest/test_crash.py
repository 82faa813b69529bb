"""Crashes lose nothing: an ingest killed with SIGKILL at any point leaves the previous
index loadable and correct, and the next ingest completes; readers in another process
see the old index or the new one, never a half-written one.

The ingest runs in a real subprocess (a worker script defined here) whose fake embedder
and wrapped store steps print where they are, so the test can kill it at a known point.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import HashEmbedder, check_index, make_pdf

from ingest.pipeline import Ingestor
from ingest.store import current_generation
from rag.retriever import Retriever

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"

# argv: tests dir, index, corpus, point to stop at ("-" for none), seconds to sleep at every other point.
_WORKER = r"""
import os, sys, time
sys.path[:0] = [sys.argv[1]]
index, corpus, stop_at, delay = sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
from support import HashEmbedder
import ingest.store as store
from ingest.pipeline import Ingestor

def point(name):
    print(name, flush=True)
    if name == stop_at:
        time.sleep(300)  # wait here to be killed
    elif delay:
        time.sleep(delay)

class Embedder(HashEmbedder):
    def embed(self, texts, *, progress=False):
        point("embedding")
        return super().embed(texts, progress=progress)

_write_jsonl = store._write_jsonl
def write_jsonl(path, rows):
    _write_jsonl(path, rows)
    point("wrote-" + path.name)
store._write_jsonl = write_jsonl

_save = store.BM25Index.save
def save(self, *args, **kwargs):
    _save(self, *args, **kwargs)
    point("wrote-bm25")
store.BM25Index.save = save

class _Os:  # the store's view of `os`: pause around the two renames that publish a generation
    def __getattr__(self, name):
        return getattr(os, name)
    def rename(self, src, dst):
        os.rename(src, dst)
        point("renamed")
    def replace(self, src, dst):
        if os.path.basename(dst) == "CURRENT":
            point("pointer-written")
        os.replace(src, dst)
store.os = _Os()

_gc = store._collect_garbage
def collect(index_dir, keep):
    point("switched")
    _gc(index_dir, keep)
store._collect_garbage = collect

point("started")
Ingestor(index, Embedder()).ingest([corpus], prune=True)
point("done")
"""

# Where a kill leaves the index: the old generation until CURRENT is replaced, the new one after.
POINTS_BEFORE_SWITCH = [
    "started",
    "embedding",
    "wrote-docs.jsonl",
    "wrote-chunks.jsonl",
    "wrote-bm25",
    "renamed",
    "pointer-written",
]
POINTS_AFTER_SWITCH = ["switched"]


def _state(index: Path) -> tuple[dict[str, str], list[tuple[str, int, int, str]]]:
    """What a reader sees: document texts and chunk offsets (checked for consistency)."""
    snap = check_index(index)
    docs = {k: d.text for k, d in snap.docs.items()}
    chunks = sorted((c.doc_id, c.start, c.end, c.text) for c in snap.chunks)
    return docs, chunks


def _write_v1(corpus: Path) -> None:
    corpus.mkdir(parents=True, exist_ok=True)
    (corpus / "a.txt").write_text("Version one of a, about the halvern fab. It opens in spring.\n")
    (corpus / "b.txt").write_text("Document b, about the morrow packaging line.\n")
    make_pdf(corpus / "c.pdf", ["Page one of c about the trisk wafer.", "Page two of c about yields."])


def _write_v2(corpus: Path) -> None:
    (corpus / "a.txt").write_text("Version two of a, about the halvern fab. It opens in autumn now.\n")
    (corpus / "b.txt").unlink()
    (corpus / "d.txt").write_text("A new document d, about the quell memory plant.\n")


@pytest.fixture
def setup(tmp_path):
    """An index of corpus v1, the corpus changed to v2, and what a clean build of v2 holds."""
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    _write_v1(corpus)
    Ingestor(index, HashEmbedder()).ingest([corpus])
    old = _state(index), current_generation(index)
    _write_v2(corpus)
    Ingestor(tmp_path / "reference", HashEmbedder()).ingest([corpus])
    new = _state(tmp_path / "reference")
    return corpus, index, old, new


def _start(index: Path, corpus: Path, stop_at: str = "-", delay: float = 0.0, log: Path | None = None):
    with open(log or os.devnull, "w") as err:  # the child has its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(TESTS), str(index), str(corpus), stop_at, str(delay)],
            stdout=subprocess.PIPE,
            stderr=err,
            text=True,
            cwd=REPO,
        )


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()


def _run_until(index: Path, corpus: Path, stop_at: str, log: Path) -> list[str]:
    """Start a worker, read its points until it reaches `stop_at`, kill it there."""
    proc = _start(index, corpus, stop_at, log=log)
    seen = []
    try:
        for line in proc.stdout:
            seen.append(line.strip())
            if seen[-1] == stop_at:
                break
    finally:
        _kill(proc)
    assert seen and seen[-1] == stop_at, f"worker never reached {stop_at!r}: {seen}\n{log.read_text()}"
    return seen


def _recover_and_check(corpus: Path, index: Path, new) -> None:
    """The next ingest completes and gives what a clean build gives; nothing temporary is left."""
    report = Ingestor(index, HashEmbedder()).ingest([corpus], prune=True)
    assert _state(index) == new
    assert report.total_docs == len(new[0])
    leftovers = [p.name for p in index.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []


@pytest.mark.timeout(120)
@pytest.mark.parametrize("stop_at", POINTS_BEFORE_SWITCH + POINTS_AFTER_SWITCH)
def test_kill_at_each_step_keeps_an_index_that_loads_and_is_correct(setup, tmp_path, stop_at):
    corpus, index, (old_state, old_gen), new = setup
    _run_until(index, corpus, stop_at, tmp_path / "worker.log")
    if stop_at in POINTS_BEFORE_SWITCH:
        assert current_generation(index) == old_gen
        assert _state(index) == old_state
    else:
        assert current_generation(index) != old_gen
        assert _state(index) == new
    retriever = Retriever.load(index, embedder=HashEmbedder())
    assert retriever.search("halvern fab")[0].doc_id == "a.txt"
    _recover_and_check(corpus, index, new)


@pytest.mark.timeout(120)
@pytest.mark.parametrize("after", [0.2, 0.5, 1.0, 1.5, 2.0, 2.6])
def test_kill_after_a_delay_keeps_the_old_index_or_the_new_one(setup, tmp_path, after):
    corpus, index, (old_state, _), new = setup
    proc = _start(index, corpus, delay=0.3, log=tmp_path / "worker.log")
    time.sleep(after)
    _kill(proc)
    assert _state(index) in (old_state, new)
    _recover_and_check(corpus, index, new)


@pytest.mark.timeout(120)
def test_repeated_kills_then_a_clean_run(setup, tmp_path):
    corpus, index, (old_state, old_gen), new = setup
    for stop_at in ("wrote-chunks.jsonl", "renamed", "wrote-docs.jsonl", "pointer-written"):
        _run_until(index, corpus, stop_at, tmp_path / "worker.log")
        assert current_generation(index) == old_gen and _state(index) == old_state
    assert any(p.name.endswith(".tmp") for p in index.iterdir())  # the last kill left its temporary files
    _recover_and_check(corpus, index, new)


_WRITER = r"""
import sys, time
sys.path[:0] = [sys.argv[1]]
from pathlib import Path
from support import HashEmbedder
from ingest.pipeline import Ingestor
index, corpus, rounds, pause = sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5])
ingestor = Ingestor(index, HashEmbedder())
for i in range(rounds):
    (corpus / "rotating.txt").write_text(f"Round {i} of the rotating document about tellurium. " * (1 + i % 5))
    if i % 3 == 0:
        (corpus / f"extra{i}.txt").write_text(f"Extra document {i} about tellurium refining.")
    print(ingestor.ingest([corpus], prune=True).generation, flush=True)
    time.sleep(pause)
"""


@pytest.mark.timeout(120)
def test_a_reader_keeps_answering_while_another_process_ingests(tmp_path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    _write_v1(corpus)
    Ingestor(index, HashEmbedder()).ingest([corpus])
    retriever = Retriever.load(index, embedder=HashEmbedder(), k=5)
    # The pause between ingests keeps this test clear of the generation-collection race
    # that test_reader_loading_while_two_ingests_finish shows.
    proc = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(TESTS), str(index), str(corpus), "12", "0.15"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
    )
    errors, generations, searches = [], set(), 0
    used = []  # the snapshot each search used (a search switches to the live generation itself)
    live = retriever._live
    retriever._live = lambda: used.append(live()) or used[-1]
    try:
        deadline = time.monotonic() + 90
        while proc.poll() is None and time.monotonic() < deadline:
            try:
                hits = retriever.search("tellurium halvern fab", mode="hybrid")
                snap = used[-1]
                generations.add(snap.generation)
                for hit in hits:
                    assert snap.docs[hit.doc_id].text[hit.start : hit.end] == hit.text
                searches += 1
            except Exception as e:  # noqa: BLE001 -- any error a reader sees mid-ingest is the finding
                errors.append(f"{type(e).__name__}: {e}")
    finally:
        _kill(proc) if proc.poll() is None else proc.wait()
    assert proc.returncode == 0, proc.stderr.read()
    proc.stderr.close()
    assert errors == []
    assert len(generations) >= 3 and searches > 20
    retriever.refresh()
    assert retriever.snapshot.generation == current_generation(index)
    check_index(index)


def test_reader_loading_while_two_ingests_finish(tmp_path, monkeypatch):
    import faiss

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    _write_v1(corpus)
    Ingestor(index, HashEmbedder()).ingest([corpus])
    retriever = Retriever.load(index, embedder=HashEmbedder())
    (corpus / "a.txt").write_text("Second version of a, about the halvern fab.\n")
    Ingestor(index, HashEmbedder()).ingest([corpus])  # the reader has not refreshed yet

    read_index = faiss.read_index
    busy = []

    def slow_reader(path, *args):
        # The reader has read CURRENT and the JSON files; two ingests finish before it opens FAISS.
        if not busy:
            busy.append(1)
            for i in range(2):
                (corpus / "a.txt").write_text(f"Version {i + 3} of a, about the halvern fab.\n")
                Ingestor(index, HashEmbedder()).ingest([corpus])
        return read_index(path, *args)

    monkeypatch.setattr(faiss, "read_index", slow_reader)
    retriever.refresh()
    assert retriever.search("halvern fab")


class _Boom(Exception):
    pass


@pytest.mark.parametrize("where", ["embed", "write-chunks", "write-faiss"])
def test_an_exception_mid_ingest_leaves_the_old_index(setup, monkeypatch, where):
    import faiss

    from ingest import store

    corpus, index, (old_state, old_gen), new = setup

    class Failing(HashEmbedder):
        def embed(self, texts, *, progress=False):
            raise _Boom("embedder died")

    def fail(*args, **kwargs):
        raise _Boom(where)

    embedder = Failing() if where == "embed" else HashEmbedder()
    if where == "write-chunks":
        real = store._write_jsonl
        monkeypatch.setattr(
            store, "_write_jsonl", lambda path, rows: fail() if path.name == "chunks.jsonl" else real(path, rows)
        )
    elif where == "write-faiss":
        monkeypatch.setattr(faiss, "write_index", fail)
    with pytest.raises(_Boom):
        Ingestor(index, embedder).ingest([corpus], prune=True)
    assert current_generation(index) == old_gen and _state(index) == old_state
    monkeypatch.undo()
    _recover_and_check(corpus, index, new)


@pytest.mark.timeout(120)
def test_two_writers_at_once_are_serialised(setup, tmp_path):
    corpus, index, _, new = setup
    procs = [_start(index, corpus, delay=0.1, log=tmp_path / f"w{i}.log") for i in range(2)]
    for i, proc in enumerate(procs):
        out, _ = proc.communicate(timeout=100)
        assert proc.returncode == 0 and out.split()[-1] == "done", (tmp_path / f"w{i}.log").read_text()
    assert _state(index) == new
    assert not [p for p in index.iterdir() if p.name.endswith(".tmp")]
