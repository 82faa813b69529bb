"""The index folder is partnerqa's alone and its files are what the writer wrote.

Ownership: an ingest deletes only generation folders it recorded and marked, never a
user's folder that happens to be called `gen-*`, never through a symlink, and it refuses
to turn a non-empty folder that is not an index into one. Integrity: every file of a
generation has its size and SHA-256 in the manifest; FIFOs, links to devices, flipped
bytes, NaN vectors and consistent edits are refused with a one-line error, never a hang.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from support import HashEmbedder, check_index, rehash

from ingest.errors import IndexCorruptError, NotAnIndexError, PartnerQAError
from ingest.pipeline import Ingestor
from ingest.store import INDEX_MARKER, REQUIRED_FILES, current_generation, load_snapshot

REPO = Path(__file__).resolve().parents[2]


def _corpus(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir(exist_ok=True)
    (corpus / "a.txt").write_text("About 260,000 advanced chips were pledged at the APEC summit in Gyeongju.\n")
    (corpus / "b.txt").write_text("The AI factory will run on the Vera Rubin platform.\n")
    return corpus


def _index(tmp_path: Path) -> Path:
    index = tmp_path / "index"
    Ingestor(index, HashEmbedder()).ingest([_corpus(tmp_path)])
    return index


def _user_folder(path: Path) -> Path:
    path.mkdir(parents=True)
    (path / "notes.txt").write_text("the user's own file\n")
    return path


# -- item 1: only ever delete what partnerqa wrote ---------------------------------------------------


def test_ingest_never_deletes_folders_it_did_not_make(tmp_path):
    index = _index(tmp_path)
    corpus = tmp_path / "corpus"
    # Folders a user (or another tool) put there, some named exactly like partnerqa's.
    theirs = [_user_folder(index / n) for n in ("gen-archive", "gen-drafts.tmp", "gen-000050", "gen-000099.tmp")]
    for i in range(4):  # each ingest writes a generation and collects old ones
        (corpus / "a.txt").write_text(f"Version {i} of a, about 260,000 chips.\n")
        Ingestor(index, HashEmbedder()).ingest([corpus])
    for folder in theirs:
        assert (folder / "notes.txt").read_text() == "the user's own file\n", folder
    ours = sorted(p.name for p in index.iterdir() if p.name not in {f.name for f in theirs} and p.name.startswith("gen-"))
    assert len(ours) == 2 and current_generation(index) in ours  # the live one and the one before
    check_index(index)


def test_a_generation_killed_while_writing_its_marker_is_collected(tmp_path):
    """A writer killed after making gen-N.tmp, inside the atomic write of its marker, leaves only the
    marker's temporary file there: that folder is still the writer's, and the next ingest removes it."""
    from ingest.store import GENERATION_MARKER, _record_names

    index = _index(tmp_path)
    half = index / "gen-000777.tmp"
    _record_names(index, add=[half.name, "gen-000777"])
    half.mkdir()
    (half / (GENERATION_MARKER + ".tmp")).write_text('{"index": "')  # cut off mid-write
    (tmp_path / "corpus" / "a.txt").write_text("A new version of a, about 260,000 chips.\n")
    Ingestor(index, HashEmbedder()).ingest([tmp_path / "corpus"])
    assert not half.exists()
    check_index(index)


def test_a_non_empty_folder_that_is_not_an_index_is_refused(tmp_path):
    folder = tmp_path / "work"
    _user_folder(folder / "gen-archive")
    _user_folder(folder / "gen-drafts.tmp")
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    with pytest.raises(NotAnIndexError, match="not a partnerqa index"):
        Ingestor(folder, HashEmbedder()).ingest([_corpus(tmp_path)])
    assert sorted(p.relative_to(folder) for p in folder.rglob("*")) == before  # not even a .lock

    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    with pytest.raises(NotAnIndexError, match="not a folder"):
        Ingestor(a_file, HashEmbedder()).ingest([_corpus(tmp_path)])
    # An empty folder becomes an index.
    (tmp_path / "empty").mkdir()
    Ingestor(tmp_path / "empty", HashEmbedder()).ingest([_corpus(tmp_path)])
    assert (tmp_path / "empty" / INDEX_MARKER).is_file()


def test_deleting_an_old_generation_never_follows_a_symlink(tmp_path):
    victim = _user_folder(tmp_path / "victim")
    index = _index(tmp_path)
    corpus = tmp_path / "corpus"
    first = index / current_generation(index)
    os.symlink(victim, first / "link-to-victim")  # inside a generation that will be collected
    for i in range(3):
        (corpus / "a.txt").write_text(f"Version {i} of a.\n")
        Ingestor(index, HashEmbedder()).ingest([corpus])
    assert not first.exists()
    # A recorded generation name replaced by a link to the user's folder is left alone.
    marker = json.loads((index / INDEX_MARKER).read_text())
    old = min(n for n in marker["names"] if n != current_generation(index))
    import shutil

    shutil.rmtree(index / old)
    os.symlink(victim, index / old)
    for i in range(3):
        (corpus / "a.txt").write_text(f"Version {i + 10} of a.\n")
        Ingestor(index, HashEmbedder()).ingest([corpus])
    assert (victim / "notes.txt").read_text() == "the user's own file\n"
    assert (index / old).is_symlink()


def test_cli_ingest_into_a_foreign_folder_or_a_file_is_one_line_exit_2(tmp_path):
    folder = tmp_path / "work"
    _user_folder(folder / "gen-archive")
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    for target in (folder, a_file):
        r = _cli(["--index", str(target), "ingest", str(_corpus(tmp_path))])
        assert r.returncode == 2, r.stderr
        assert r.stderr.count("\n") == 1 and r.stderr.startswith("partnerqa: error:"), r.stderr
    assert (folder / "gen-archive" / "notes.txt").exists() and not (folder / ".lock").exists()


def _cli(args: list[str], **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ui.cli", *args], capture_output=True, text=True, timeout=120, check=False,
                          cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO), **env})


# -- item 5: files that never end, and integrity -------------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", ["CURRENT", "manifest.json", *REQUIRED_FILES])
@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "link"])
def test_a_fifo_or_a_link_in_place_of_an_index_file_is_refused_at_once(tmp_path, name, kind):
    index = _index(tmp_path)
    where = index if name == "CURRENT" else index / current_generation(index)
    target = where / name
    real = tmp_path / "real-copy"
    real.write_bytes(target.read_bytes())
    target.unlink()
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "dev-zero":
        os.symlink("/dev/zero", target)
    else:  # a link to an identical regular file: still not what the writer wrote
        os.symlink(real, target)
    with pytest.raises(IndexCorruptError, match="FIFO|symbolic link|not a regular file"):
        load_snapshot(index)


@pytest.mark.parametrize("name", REQUIRED_FILES)
def test_a_flipped_byte_in_any_file_is_refused(tmp_path, name):
    index = _index(tmp_path)
    path = index / current_generation(index) / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(IndexCorruptError, match="SHA-256"):
        load_snapshot(index)
    path.write_bytes(bytes(data[:-7]))  # truncated: the size gives it away before reading
    with pytest.raises(IndexCorruptError, match="bytes; the manifest recorded"):
        load_snapshot(index)


def test_a_consistently_edited_document_is_refused(tmp_path):
    """The attack the issue showed: "260,000" changed to "990,000" in docs.jsonl and chunks.jsonl alike."""
    index = _index(tmp_path)
    gen = index / current_generation(index)
    for name in ("docs.jsonl", "chunks.jsonl"):
        (gen / name).write_text((gen / name).read_text().replace("260,000", "990,000"))
    with pytest.raises(IndexCorruptError, match="SHA-256"):
        load_snapshot(index)


def test_nan_vectors_are_refused_even_with_matching_hashes(tmp_path):
    import faiss

    index = _index(tmp_path)
    gen = index / current_generation(index)
    flat = faiss.read_index(str(gen / "vectors.faiss"))
    x = flat.reconstruct_n(0, flat.ntotal)
    x[0, 3] = np.nan
    fresh = faiss.IndexFlatIP(flat.d)
    fresh.add(x)
    faiss.write_index(fresh, str(gen / "vectors.faiss"))
    rehash(gen)
    with pytest.raises(IndexCorruptError, match="NaN"):
        load_snapshot(index)


@pytest.mark.parametrize("damage", ["truncated", "float-ids", "nan-weights"])
def test_damaged_bm25_postings_are_a_clean_error_even_with_matching_hashes(tmp_path, damage):
    index = _index(tmp_path)
    gen = index / current_generation(index)
    path = gen / "bm25.npz"
    if damage == "truncated":
        path.write_bytes(path.read_bytes()[:100])
    else:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        if damage == "float-ids":
            arrays["doc_ids"] = arrays["doc_ids"].astype(np.float64) + 0.5
        else:
            arrays["weights"][:] = np.nan
        with path.open("wb") as fh:
            np.savez(fh, **arrays)
    rehash(gen)
    with pytest.raises(IndexCorruptError):
        load_snapshot(index)


@pytest.mark.parametrize("edit", ["fingerprint-null", "no-files", "file-dropped", "bad-entry", "odd-name"])
def test_a_manifest_of_the_wrong_shape_is_a_clean_error(tmp_path, edit):
    index = _index(tmp_path)
    path = index / current_generation(index) / "manifest.json"
    m = json.loads(path.read_text())
    if edit == "fingerprint-null":
        m["embedder"]["fingerprint"] = None
    elif edit == "no-files":
        del m["files"]
    elif edit == "file-dropped":
        del m["files"]["docs.jsonl"]
    elif edit == "bad-entry":
        m["files"]["bm25.json"]["size"] = 1.5
    else:
        m["files"]["../CURRENT"] = m["files"]["bm25.json"]
    path.write_text(json.dumps(m))
    with pytest.raises(IndexCorruptError):
        load_snapshot(index)
    with pytest.raises(PartnerQAError):
        load_snapshot(index, embedder_fingerprint=HashEmbedder().fingerprint())


def test_cli_on_a_damaged_index_is_one_line_exit_4(tmp_path):
    index = _index(tmp_path)
    path = index / current_generation(index) / "manifest.json"
    m = json.loads(path.read_text())
    m["embedder"]["fingerprint"] = None
    path.write_text(json.dumps(m))
    r = _cli(["--index", str(index), "docs"])
    assert r.returncode == 4 and r.stderr.count("\n") == 1 and "fingerprint" in r.stderr, r.stderr


def test_every_file_the_writer_puts_in_a_generation_is_recorded(tmp_path):
    index = _index(tmp_path)
    gen = index / current_generation(index)
    m = json.loads((gen / "manifest.json").read_text())
    on_disk = {p.name for p in gen.iterdir()} - {"manifest.json", ".partnerqa-generation"}
    assert set(m["files"]) == on_disk
    for name, entry in m["files"].items():
        import hashlib

        data = (gen / name).read_bytes()
        assert entry == {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def test_an_extra_file_the_manifest_lists_is_verified_too(tmp_path):
    """The verifier checks whatever the manifest lists (a second vectors file, say), not a fixed list."""
    index = _index(tmp_path)
    gen = index / current_generation(index)
    (gen / "vectors_extra.faiss").write_bytes(b"extra vectors")
    rehash_with = json.loads((gen / "manifest.json").read_text())
    rehash_with["files"]["vectors_extra.faiss"] = {"size": 0, "sha256": "0" * 64}
    (gen / "manifest.json").write_text(json.dumps(rehash_with))
    rehash(gen)
    load_snapshot(index)  # recorded and matching
    (gen / "vectors_extra.faiss").write_bytes(b"extra vectorz")
    with pytest.raises(IndexCorruptError, match="vectors_extra.faiss"):
        load_snapshot(index)
