"""Twenty SIGKILLs at random moments of real ingests leave the old index or the new one, every time
(issue 13: "a loop of 20 SIGKILLs ... including the write-and-switch window").

Each round starts a real ingest process that switches the corpus between two versions.
Half the rounds kill it after a random delay; the other half make the writer pause inside
the write-and-switch window with the store's own test hook (`PARTNERQA_TEST_PAUSE`: before
the generation folder is renamed, between the rename and the CURRENT switch, and after the
switch before old generations are collected) and kill it there. After every kill the index
must load, pass every consistency check, and equal the state before the round or a clean
build of the round's version; folders a user put in the index folder must survive.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support import HashEmbedder, check_index

from ingest.pipeline import Ingestor

REPO = Path(__file__).resolve().parents[2]
TESTS = REPO / "tests"
ROUNDS = 20
WINDOW = ("before-rename", "before-switch", "after-switch")

_WORKER = r"""
import sys
sys.path[:0] = [sys.argv[1]]
from support import HashEmbedder
from ingest.pipeline import Ingestor
Ingestor(sys.argv[2], HashEmbedder(delay=float(sys.argv[4]))).ingest([sys.argv[3]], prune=True)
print("done", flush=True)
"""

VERSIONS = {
    "A": {"a.txt": "Version A of a: the halvern fab opens in spring.\n",
          "b.txt": "Document b, about the morrow packaging line.\n",
          "c.txt": "".join(f"Sentence {i} of c about trisk wafers and their yields. " for i in range(60))},
    "B": {"a.txt": "Version B of a: the halvern fab opens in autumn.\n",
          "d.txt": "A new document d, about the quell memory plant.\n",
          "c.txt": "".join(f"Sentence {i} of c, second edition, about trisk wafers. " for i in range(50))},
}


def _write(corpus: Path, version: str) -> None:
    corpus.mkdir(parents=True, exist_ok=True)
    for p in corpus.iterdir():
        p.unlink()
    for name, text in VERSIONS[version].items():
        (corpus / name).write_text(text)


def _state(index: Path):
    snap = check_index(index)
    return ({k: d.text for k, d in snap.docs.items()},
            sorted((c.doc_id, c.start, c.end, c.text) for c in snap.chunks))


@pytest.mark.timeout(600)
def test_twenty_sigkills_at_random_moments_leave_old_or_new(tmp_path):
    rng = random.Random(int(os.environ.get("KILL_LOOP_SEED", "13")))
    reference = {}
    for v in VERSIONS:
        _write(tmp_path / f"ref-corpus-{v}", v)
        Ingestor(tmp_path / f"ref-{v}", HashEmbedder()).ingest([tmp_path / f"ref-corpus-{v}"])
        reference[v] = _state(tmp_path / f"ref-{v}")
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    _write(corpus, "A")
    Ingestor(index, HashEmbedder()).ingest([corpus])
    theirs = []
    for name in ("gen-archive", "gen-000900.tmp"):  # a user's folders inside the index folder
        (index / name).mkdir()
        (index / name / "keep.txt").write_text("mine\n")
        theirs.append(index / name / "keep.txt")

    log, outcomes = [], {"old": 0, "new": 0}
    for i in range(ROUNDS):
        version = "B" if i % 2 == 0 else "A"
        _write(corpus, version)
        before = _state(index)
        point = rng.choice(WINDOW) if i % 2 == 0 else None
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        env.pop("PARTNERQA_TEST_PAUSE", None)
        if point:
            env["PARTNERQA_TEST_PAUSE"] = f"{point}:120"
        proc = subprocess.Popen([sys.executable, "-c", _WORKER, str(TESTS), str(index), str(corpus), "0.05"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env, cwd=REPO)
        try:
            if point:
                for line in proc.stderr:
                    if line.strip() == f"partnerqa-test-pause {point}":
                        break
                time.sleep(rng.uniform(0, 0.02))
                moment = point
            else:
                delay = rng.uniform(0.0, 2.5)
                time.sleep(delay)
                moment = f"after {delay:.2f} s"
            finished = proc.poll() is not None
            os.kill(proc.pid, signal.SIGKILL) if not finished else None
        finally:
            proc.wait(timeout=30)
            proc.stderr.close()
        after = _state(index)
        assert after in (before, reference[version]), f"round {i}: killed {moment}: neither old nor new"
        outcomes["old" if after == before and after != reference[version] else "new"] += 1
        log.append(f"round {i}: killed {moment} -> {'new' if after == reference[version] else 'old'}")
        for f in theirs:
            assert f.read_text() == "mine\n", f"round {i}: {f} was deleted"
    print("\n".join(log))
    # Both outcomes happened, and the kills inside the window were really inside it.
    assert outcomes["old"] and outcomes["new"], log
    # The next ingest completes, equals a clean build and leaves none of its own leftovers.
    for final in ("B", "A"):  # the last of these always changes the index, so it writes and collects
        _write(corpus, final)
        Ingestor(index, HashEmbedder()).ingest([corpus], prune=True)
    assert _state(index) == reference["A"]
    leftovers = sorted(p.name for p in index.iterdir() if p.name.endswith(".tmp"))
    assert leftovers == ["gen-000900.tmp"]
    assert len([p for p in index.iterdir() if p.name.startswith("gen-0") and not p.name.endswith(".tmp")]) == 2
