"""An index folder is data, never code: nothing in it is unpickled, and a tampered one
fails with a clean `PartnerQAError` instead of running anything."""

from __future__ import annotations

import ast
import builtins
import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from support import HashEmbedder

from ingest.errors import IndexCorruptError, PartnerQAError
from ingest.pipeline import Ingestor
from ingest.store import current_generation, load_snapshot
from rag.retriever import Retriever

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"
INDEX_FILES = ("manifest.json", "docs.jsonl", "chunks.jsonl", "vectors.faiss", "bm25.npz", "bm25.json")


class _Payload:
    """Unpickling this creates `marker`: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return builtins.open, (self.marker, "w")


def _payloads(marker: Path) -> dict[str, bytes]:
    return {f"protocol-{p}": pickle.dumps(_Payload(marker), protocol=p) for p in (0, 2, 5)}


def _index(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir(parents=True)
    (corpus / "a.txt").write_text("Alpha text about the quorvel wafer line. It runs at night.\n")
    (corpus / "b.txt").write_text("Beta text about the sennat packaging plant.\n")
    index = tmp_path / "index"
    Ingestor(index, HashEmbedder()).ingest([corpus])
    return index


def test_the_payload_is_live(tmp_path):
    marker = tmp_path / "ran"
    for payload in _payloads(marker).values():
        pickle.loads(payload)  # the control: unpickling it does run code
        assert marker.exists()
        marker.unlink()


@pytest.mark.parametrize("name", INDEX_FILES)
def test_pickle_in_place_of_an_index_file_is_refused_without_running(tmp_path, name):
    index = _index(tmp_path)
    gen = index / current_generation(index)
    marker = tmp_path / "pwned"
    emb = HashEmbedder()
    for label, payload in _payloads(marker).items():
        (gen / name).write_bytes(payload)
        with pytest.raises(PartnerQAError):
            load_snapshot(index)
        with pytest.raises(PartnerQAError):
            Retriever.load(index, embedder=emb)
        assert not marker.exists(), f"{name} as a {label} pickle ran code"


def test_npz_holding_a_pickled_object_array_is_refused(tmp_path):
    index = _index(tmp_path)
    gen = index / current_generation(index)
    marker = tmp_path / "pwned"
    evil = np.empty(1, dtype=object)
    evil[0] = _Payload(marker)
    with (gen / "bm25.npz").open("wb") as fh:  # np.savez pickles object arrays
        np.savez(fh, term_ptr=evil, doc_ids=evil, weights=evil)
    with pytest.raises(IndexCorruptError):
        load_snapshot(index)
    with (gen / "bm25.npz").open("wb") as fh:  # a bare .npy of objects under the npz name
        np.save(fh, evil, allow_pickle=True)
    with pytest.raises(IndexCorruptError):
        load_snapshot(index)
    assert not marker.exists()


_AUDIT_WORKER = r"""
import json, sys
sys.path[:0] = [sys.argv[1]]
from pathlib import Path
from support import HashEmbedder
from ingest.errors import PartnerQAError
from ingest.store import load_snapshot
from rag.retriever import Retriever
import faiss, numpy  # imported before the hook: imports are not what we audit

WATCH = ("pickle.find_class", "os.system", "subprocess.Popen", "os.exec", "os.posix_spawn", "os.spawn",
         "os.fork")  # not marshal/compile: lazy imports inside the code under test use them
events = []
recording = False
def hook(event, args):
    if recording and event.startswith(WATCH):
        events.append(event)
sys.addaudithook(hook)

results = {}
for index in sys.argv[2:]:
    recording = True
    try:
        r = Retriever.load(index, embedder=HashEmbedder())
        hits = r.search("quorvel wafer")
        results[index] = "ok:" + (hits[0].doc_id if hits else "")
    except PartnerQAError as e:
        results[index] = "refused:" + type(e).__name__
    except Exception as e:
        results[index] = "crashed:" + type(e).__name__
    recording = False
print(json.dumps({"events": events, "results": results}))
"""


def test_loading_and_searching_never_unpickles_or_spawns(tmp_path):
    """An audit hook watches a fresh interpreter load a good index and poisoned ones."""
    good = _index(tmp_path / "good")
    marker = tmp_path / "pwned"
    poisoned = []
    for name in INDEX_FILES:
        index = _index(tmp_path / name)
        (index / current_generation(index) / name).write_bytes(pickle.dumps(_Payload(marker), protocol=2))
        poisoned.append(index)
    proc = subprocess.run(
        [sys.executable, "-c", _AUDIT_WORKER, str(TESTS), str(good), *map(str, poisoned)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["events"] == []
    assert out["results"][str(good)] == "ok:a.txt"
    for index in poisoned:
        assert out["results"][str(index)].startswith("refused:"), (index, out["results"][str(index)])
    assert not marker.exists()


_UNSAFE_CALLS = {
    ("pickle", "load"),
    ("pickle", "loads"),
    ("pickle", "Unpickler"),
    ("torch", "load"),
    ("joblib", "load"),
    ("dill", "load"),
    ("dill", "loads"),
    ("marshal", "load"),
    ("marshal", "loads"),
    ("shelve", "open"),
    ("cloudpickle", "load"),
    ("cloudpickle", "loads"),
}


@pytest.mark.parametrize("package", ["ingest", "rag"])
def test_source_never_deserialises_code(package):
    """Static check of the packages that read an index: no unpickling API, and every
    `np.load` says `allow_pickle=False`."""
    problems = []
    for path in sorted((REPO / package).glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
                if any(
                    n and n.split(".")[0] in ("pickle", "dill", "joblib", "marshal", "shelve", "cloudpickle")
                    for n in names
                ):
                    problems.append(f"{path.name}:{node.lineno} imports a pickle-like module")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
            ):
                call = (node.func.value.id, node.func.attr)
                if call in _UNSAFE_CALLS:
                    problems.append(f"{path.name}:{node.lineno} calls {'.'.join(call)}")
                if call in (("np", "load"), ("numpy", "load")):
                    kw = {k.arg: k.value for k in node.keywords}
                    if not (isinstance(kw.get("allow_pickle"), ast.Constant) and kw["allow_pickle"].value is False):
                        problems.append(f"{path.name}:{node.lineno} np.load without allow_pickle=False")
    assert problems == []


# -- shapes that parse but are not what the store wrote ---------------------------------------------------

_WRONG_SHAPES = ["[]", "null", '"text"', "42", "[1, 2]\n"]


@pytest.mark.parametrize("name", ["manifest.json", "docs.jsonl", "chunks.jsonl", "bm25.json"])
def test_valid_json_of_the_wrong_shape_is_a_clean_error(tmp_path, name):
    index = _index(tmp_path)
    gen = index / current_generation(index)
    for text in _WRONG_SHAPES:
        (gen / name).write_text(text)
        with pytest.raises(PartnerQAError):
            load_snapshot(index)


def test_bm25_postings_out_of_range_are_refused_at_load(tmp_path):
    index = _index(tmp_path)
    gen = index / current_generation(index)
    with np.load(gen / "bm25.npz", allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files}
    arrays["doc_ids"] = np.full_like(arrays["doc_ids"], 10**6)
    with (gen / "bm25.npz").open("wb") as fh:
        np.savez(fh, **arrays)
    try:
        retriever = Retriever.load(index, embedder=HashEmbedder())
    except PartnerQAError:
        return
    retriever.search("quorvel wafer", mode="keyword")
