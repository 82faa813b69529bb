"""Every failure the README promises as one line and an exit code, through the real command line.

Real processes, real files, real file systems: a full tmpfs for ENOSPC and a read-only
mount for EROFS (skipped where this process may not mount), a port that is really taken.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from support import HashEmbedder, check_index, rehash

from ingest.errors import IndexWriteError
from ingest.pipeline import Ingestor
from ingest.store import current_generation

REPO = Path(__file__).resolve().parents[1]


def _cli(args: list[str], timeout: float = 180, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PARTNERQA_")}
    return subprocess.run([sys.executable, "-m", "ui.cli", *args], capture_output=True, text=True, timeout=timeout,
                          cwd=REPO, env={**base, "PYTHONPATH": str(REPO), **env}, check=False)


def _one_line(r: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in r.stderr, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("partnerqa: error:")]
    assert len(lines) == 1 and r.stderr.count("\n") == 1, r.stderr
    return lines[0]


class _BundledFingerprint(HashEmbedder):
    """Hash vectors under the bundled model's name and fingerprint, so the CLI (which uses
    the real model) accepts the index for commands that embed nothing (docs, remove, a failed ingest)."""

    def __init__(self) -> None:
        from ingest.embedder import BUNDLED_MODEL_NAME, SentenceTransformerEmbedder

        super().__init__(384, name=BUNDLED_MODEL_NAME)
        self._fp = SentenceTransformerEmbedder().fingerprint()

    def fingerprint(self) -> str:
        return self._fp


def _corpus(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    (path / "a.txt").write_text("About 260,000 advanced chips were pledged at the APEC summit.\n")
    (path / "b.txt").write_text("The AI factory will run on the Vera Rubin platform.\n")
    return path


@contextmanager
def _mounted_tmpfs(where: Path, size: str) -> Iterator[Path]:
    where.mkdir(parents=True, exist_ok=True)
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)], capture_output=True,
                       text=True, check=False)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({r.stderr.strip() or r.returncode}): run as root to test ENOSPC/EROFS")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


# -- disk full, read-only ----------------------------------------------------------------------------------


def test_disk_full_during_ingest_leaves_the_old_index_and_no_half_written_generation(tmp_path):
    with _mounted_tmpfs(tmp_path / "small", "1m") as fs:
        index = fs / "index"
        Ingestor(index, HashEmbedder()).ingest([_corpus(tmp_path / "corpus")])
        old = current_generation(index)
        free = shutil.disk_usage(fs).free
        words = " ".join(f"w{i}" for i in range(40_000))  # ~300 KB of text: 3 copies do not fit
        (tmp_path / "corpus" / "big.txt").write_text(". ".join(words[i:i + 700] for i in range(0, len(words), 700)))
        with pytest.raises(IndexWriteError, match="No space left on device"):
            Ingestor(index, HashEmbedder()).ingest([tmp_path / "corpus"])
        assert current_generation(index) == old
        check_index(index)
        assert not [p for p in index.iterdir() if p.name.endswith(".tmp")]
        assert shutil.disk_usage(fs).free >= free - 64 * 1024  # the failed generation's files are gone


def test_read_only_index_folder_is_one_line_exit_1_and_still_readable(tmp_path):
    with _mounted_tmpfs(tmp_path / "ro", "8m") as fs:
        index = fs / "index"
        Ingestor(index, _BundledFingerprint()).ingest([_corpus(tmp_path / "corpus")])
        subprocess.run(["mount", "-o", "remount,ro", str(fs)], check=True)
        (tmp_path / "corpus" / "c.txt").write_text("A third document.\n")
        r = _cli(["--index", str(index), "ingest", str(tmp_path / "corpus")])
        assert r.returncode == 1
        assert "Read-only file system" in _one_line(r)
        r = _cli(["--index", str(index), "docs", "--json"])
        assert r.returncode == 0, r.stderr
        assert {d["doc_id"] for d in json.loads(r.stdout)} == {"a.txt", "b.txt"}


# -- settings ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "value", "says"), [
    ("PARTNERQA_THREADS", "-3", "threads"),
    ("PARTNERQA_ABSTAIN_THRESHOLD", "nan", "PARTNERQA_ABSTAIN_THRESHOLD"),
    ("PARTNERQA_DENSE_WEIGHT", "inf", "PARTNERQA_DENSE_WEIGHT"),
    ("PARTNERQA_MAX_FILE_MB", "-inf", "PARTNERQA_MAX_FILE_MB"),
    ("PARTNERQA_EXACT_MAX", "-1", "exact_max"),
    ("PARTNERQA_MAX_SENTENCES", "0", "max_sentences"),
    ("PARTNERQA_MAX_DOC_CHARS", "10", "max_doc_chars"),
    ("PARTNERQA_MODEL", "/etc", "not a sentence-transformers model folder"),
    ("PARTNERQA_MODEL", "/nonexistent/model", "does not exist"),
])
def test_a_bad_setting_is_one_line_exit_2(tmp_path, name, value, says):
    r = _cli(["--index", str(tmp_path / "idx"), "search", "chips"], **{name: value})
    assert r.returncode == 2, r.stderr
    assert says in _one_line(r)


def test_an_unknown_setting_name_is_warned_about(tmp_path):
    r = _cli(["--index", str(tmp_path / "idx"), "docs"], PARTNERQA_TRHEADS="2")
    assert r.returncode == 3  # no index there: the command itself still runs
    assert "PARTNERQA_TRHEADS is not a partnerqa setting" in r.stderr and "PARTNERQA_THREADS" in r.stderr


# -- damaged index files through the CLI ---------------------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncated-bm25", "flipped-bm25", "float-ids", "fingerprint-null"])
def test_a_damaged_index_is_one_line_exit_4(tmp_path, damage):
    index = tmp_path / "index"
    Ingestor(index, HashEmbedder()).ingest([_corpus(tmp_path / "corpus")])
    gen = index / current_generation(index)
    npz = gen / "bm25.npz"
    if damage == "truncated-bm25":
        npz.write_bytes(npz.read_bytes()[:-50])
    elif damage == "flipped-bm25":
        data = bytearray(npz.read_bytes())
        data[len(data) // 3] ^= 0x40
        npz.write_bytes(bytes(data))
    elif damage == "float-ids":
        with np.load(npz, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        arrays["doc_ids"] = arrays["doc_ids"].astype(np.float32)
        with npz.open("wb") as fh:
            np.savez(fh, **arrays)
        rehash(gen)
    else:
        m = json.loads((gen / "manifest.json").read_text())
        m["embedder"]["fingerprint"] = None
        (gen / "manifest.json").write_text(json.dumps(m))
    for cmd in (["docs"], ["search", "chips"]):
        r = _cli(["--index", str(index), *cmd])
        assert r.returncode == 4, r.stderr
        _one_line(r)


# -- remove, serve -------------------------------------------------------------------------------------------------


def test_remove_of_an_unknown_id_says_so_on_stderr(tmp_path):
    index = tmp_path / "index"
    Ingestor(index, _BundledFingerprint()).ingest([_corpus(tmp_path / "corpus")])
    r = _cli(["--index", str(index), "remove", "nope.txt"])
    assert r.returncode == 1
    assert "not in the index: nope.txt" in _one_line(r)
    r = _cli(["--index", str(index), "remove", "a.txt", "nope.txt"])
    assert r.returncode == 0 and "not in the index: nope.txt" in r.stderr, r.stderr


def test_serve_on_a_port_out_of_range_is_exit_2():
    r = _cli(["serve", "--port", "99999"])
    assert r.returncode == 2 and "65535" in r.stderr and "Traceback" not in r.stderr


def test_serve_on_a_port_in_use_is_one_line_exit_1(tmp_path):
    index = tmp_path / "index"
    Ingestor(index, _BundledFingerprint()).ingest([_corpus(tmp_path / "corpus")])
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = _cli(["--index", str(index), "serve", "--port", str(port)], timeout=120)
    assert r.returncode == 1
    assert f"127.0.0.1:{port}" in _one_line(r)
