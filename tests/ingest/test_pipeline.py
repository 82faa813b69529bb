"""Incremental ingestion: unchanged documents embed nothing; changes and removals apply."""

from __future__ import annotations

from support import HashEmbedder, check_index

from ingest.pipeline import Ingestor


class CountingEmbedder(HashEmbedder):
    def __init__(self):
        super().__init__()
        self.embedded: list[str] = []

    def embed(self, texts, *, progress=False):
        self.embedded.extend(texts)
        return super().embed(texts, progress=progress)


def _docs(tmp_path):
    d = tmp_path / "docs"
    d.mkdir()
    (d / "a.txt").write_text("Alpha document about chips.")
    (d / "b.txt").write_text("Beta document about factories.")
    (d / "sub").mkdir()
    (d / "sub" / "c.txt").write_text("Gamma document about Seoul.")
    return d


def test_doc_ids_are_paths_relative_to_the_root(tmp_path):
    d = _docs(tmp_path)
    r = Ingestor(tmp_path / "idx", HashEmbedder()).ingest([d])
    assert sorted(r.added) == ["a.txt", "b.txt", "sub/c.txt"]


def test_reingesting_unchanged_documents_embeds_nothing(tmp_path):
    d = _docs(tmp_path)
    emb = CountingEmbedder()
    ing = Ingestor(tmp_path / "idx", emb)
    ing.ingest([d])
    emb.embedded.clear()
    r = ing.ingest([d])
    assert emb.embedded == [] and r.chunks_embedded == 0
    assert sorted(r.unchanged) == ["a.txt", "b.txt", "sub/c.txt"] and not r.changed


def test_changed_document_replaces_its_chunks_only(tmp_path):
    d = _docs(tmp_path)
    emb = CountingEmbedder()
    ing = Ingestor(tmp_path / "idx", emb)
    ing.ingest([d])
    emb.embedded.clear()
    (d / "b.txt").write_text("Beta document now about the Vera Rubin platform.")
    r = ing.ingest([d])
    assert r.updated == ("b.txt",) and sorted(r.unchanged) == ["a.txt", "sub/c.txt"]
    assert emb.embedded == ["Beta document now about the Vera Rubin platform."]
    snap = check_index(tmp_path / "idx")
    texts = [c.text for c in snap.chunks]
    assert "Beta document about factories." not in texts
    assert "Beta document now about the Vera Rubin platform." in texts
    # kept vectors are the same as freshly computed ones
    for i, c in enumerate(snap.chunks):
        assert (snap.vectors([i])[0] - HashEmbedder().embed([c.text])[0]).max() < 1e-6


def test_prune_removes_documents_gone_from_the_folder(tmp_path):
    d = _docs(tmp_path)
    ing = Ingestor(tmp_path / "idx", HashEmbedder())
    ing.ingest([d])
    (d / "a.txt").unlink()
    r = ing.ingest([d])
    assert r.removed == () and "a.txt" in check_index(tmp_path / "idx").docs, "without --prune nothing is removed"
    r = ing.ingest([d], prune=True)
    assert r.removed == ("a.txt",)
    assert "a.txt" not in check_index(tmp_path / "idx").docs


def test_prune_leaves_documents_from_other_folders(tmp_path):
    d = _docs(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    (other / "z.txt").write_text("Zeta from another folder.")
    ing = Ingestor(tmp_path / "idx", HashEmbedder())
    ing.ingest([d])
    ing.ingest([other])
    r = ing.ingest([d], prune=True)
    assert r.removed == ()
    assert "z.txt" in check_index(tmp_path / "idx").docs


def test_remove_by_id(tmp_path):
    d = _docs(tmp_path)
    ing = Ingestor(tmp_path / "idx", HashEmbedder())
    ing.ingest([d])
    r = ing.remove(["b.txt", "nope.txt"])
    assert r.removed == ("b.txt",) and r.skipped == (("nope.txt", "not in the index"),)
    snap = check_index(tmp_path / "idx")
    assert set(snap.docs) == {"a.txt", "sub/c.txt"}


def test_bad_file_is_skipped_and_the_rest_indexed(tmp_path):
    d = _docs(tmp_path)
    (d / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    (d / "empty.txt").write_bytes(b"")
    r = Ingestor(tmp_path / "idx", HashEmbedder()).ingest([d])
    reasons = dict(r.skipped)
    assert "not a readable PDF" in reasons["broken.pdf"] or "PDF" in reasons["broken.pdf"]
    assert reasons["empty.txt"] == "empty file"
    assert sorted(r.added) == ["a.txt", "b.txt", "sub/c.txt"]
    assert "skipped: broken.pdf" in r.summary()


def test_changing_chunker_settings_rechunks(tmp_path):
    from ingest.chunker import Chunker

    d = _docs(tmp_path)
    Ingestor(tmp_path / "idx", HashEmbedder()).ingest([d])
    r = Ingestor(tmp_path / "idx", HashEmbedder(), Chunker(300, 30)).ingest([d])
    assert sorted(r.updated) == ["a.txt", "b.txt", "sub/c.txt"]
