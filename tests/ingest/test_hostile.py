"""Bad and hostile input: every bad file is skipped with a one-line reason naming it,
every good file is indexed, and the index stays whole.

The corpus is generated here in tmp_path (no committed binaries).
"""

from __future__ import annotations

import json
import os
import time
import zipfile
from pathlib import Path

import pytest
from support import check_index, make_pdf

from ingest import loaders
from ingest.chunker import Chunker
from ingest.loaders import load_file
from ingest.pipeline import Ingestor
from ingest.store import current_generation
from rag.retriever import Retriever

WEIRD_NAME = "we ird $(rm -rf) ;&|ü名.txt"
DATA_URI = "data:image/png;base64," + "iVBORw0KGgoAAAANSUhEUgAA" * 125_000  # 3 MB


def _docx(path: Path, text: str) -> Path:
    import docx

    d = docx.Document()
    d.add_paragraph(text)
    d.save(str(path))
    return path


def _encrypted(src: Path, out: Path, **kw) -> Path:
    from pypdf import PdfWriter

    w = PdfWriter(clone_from=str(src))
    w.encrypt(**kw)
    with out.open("wb") as fh:
        w.write(fh)
    return out


def build_corpus(base: Path) -> tuple[Path, dict[str, str], dict[str, str]]:
    """Good and bad files side by side.

    Returns the folder, {good doc id: a word only it contains}, {bad name: expected reason part}.
    """
    root = base / "corpus"
    root.mkdir()
    work = base / "work"
    work.mkdir()
    good: dict[str, str] = {}
    bad: dict[str, str] = {}

    # -- good files ----------------------------------------------------------------------
    (root / "plain.txt").write_text("The zorblax accord covers twelve thousand accelerators.\n", encoding="utf-8")
    good["plain.txt"] = "zorblax"
    (root / "notes.md").write_text(
        "---\ntitle: Notes\n---\n# Notes\n\nThe **quillfen** plan, see [docs](http://x.y).\n"
    )
    good["notes.md"] = "quillfen"
    make_pdf(
        root / "report.pdf", ["Page one on wafers and vantrosk.", "Page two on memory.", "Page three on packaging."]
    )
    good["report.pdf"] = "vantrosk"
    _docx(root / "memo.docx", "The memo names the plinthor foundry.")
    good["memo.docx"] = "plinthor"
    (root / "legacy.txt").write_bytes(
        "Caf\u00e9 na\u00efve \u201cgrelvin\u201d r\u00e9sum\u00e9 \u20ac5.\n".encode("cp1252")
    )
    good["legacy.txt"] = "grelvin"
    (root / "mixed.txt").write_bytes(
        "UTF-8 line: K\u00f6ln \u540d mixonde.\n".encode() + "cp1252 line: Stra\u00dfe \u20ac.\n".encode("cp1252")
    )
    good["mixed.txt"] = "mixonde"
    (root / "nul.txt").write_bytes(b"Stray\x00 NUL bytes in the\x00 hafnoria text.\n")
    good["nul.txt"] = "hafnoria"
    (root / "page.html").write_text(
        "<html><head><title>Page</title><style>.STYLETOKEN{color:red}</style>"
        "<script>var SCRIPTTOKEN = 1;</script></head><body><nav>Menu</nav>"
        f"<p>Visible text about the drevanth fab.</p><img src='{DATA_URI}' alt='x'>"
        f'<div style="background:url({DATA_URI[:2000]})">styled</div>'
        "<script type='module'>import('SCRIPT2TOKEN')</script><!-- COMMENTTOKEN --></body></html>",
        encoding="utf-8",
    )
    good["page.html"] = "drevanth"
    for alg in ("AES-256", "RC4-128"):
        src = make_pdf(work / f"{alg}.pdf", [f"Open {alg} document about krostel lithography."])
        _encrypted(src, root / f"open-{alg}.pdf", user_password="", owner_password="x", algorithm=alg)
        good[f"open-{alg}.pdf"] = "krostel"
    (root / WEIRD_NAME).write_text("A file with a hostile name about ostrevik interposers.\n", encoding="utf-8")
    good[WEIRD_NAME] = "ostrevik"
    (root / "dup1.txt").write_text("Duplicate document about the sarnevo scanner.\n")
    good["dup1.txt"] = "sarnevo"
    lines = [
        {"doc_id": "j1", "text": "First JSONL document about the pelmora yield."},
        "{not json",
        {"doc_id": "j1", "text": "the same id again"},
        [1, 2],
        {"text": "no id"},
        {"doc_id": "j3", "text": "   "},
        {"doc_id": "j2", "text": "Second JSONL document about tarvish packaging."},
    ]
    with (root / "corpus.jsonl").open("w", encoding="utf-8") as fh:
        for row in lines:
            fh.write((row if isinstance(row, str) else json.dumps(row)) + "\n")
        fh.write('{"doc_id": "j4\\ud800", "text": "Lone \\udc00 surrogate about vemmick.", "title": "t\\udfff"}\n')
    good.update({"j1": "pelmora", "j2": "tarvish", "j4\ufffd": "vemmick"})

    # -- bad files -----------------------------------------------------------------------
    (root / "empty.txt").write_bytes(b"")
    bad["empty.txt"] = "empty file"
    (root / "zero.pdf").write_bytes(b"")
    bad["zero.pdf"] = "empty file"
    whole = make_pdf(work / "long.pdf", [f"Page {i} text about truncation." for i in range(6)]).read_bytes()
    (root / "truncated.pdf").write_bytes(whole[: len(whole) // 2])
    bad["truncated.pdf"] = "not a readable PDF"
    (root / "renamed.pdf").write_text("Just a text file wearing a .pdf name.\n")
    bad["renamed.pdf"] = "not a PDF (no %PDF- header)"
    _encrypted(make_pdf(work / "secret.pdf", ["Locked text."]), root / "locked.pdf", user_password="secret")
    bad["locked.pdf"] = "encrypted PDF needs a password"
    make_pdf(root / "scanned.pdf", ["", ""])
    bad["scanned.pdf"] = "no extractable text in 2 page(s)"
    (root / "huge.txt").write_bytes(b"lots of words " * 330_000)  # ~4.4 MB, over the 4 MB limit
    bad["huge.txt"] = "too large (4.41 MB > 4 MB limit)"
    (root / "binary.txt").write_bytes(bytes(range(256)) * 40)
    bad["binary.txt"] = "looks binary (control bytes, not text)"
    (root / "notzip.docx").write_text("I am not a zip archive")
    bad["notzip.docx"] = "not a valid DOCX (not a zip archive)"
    with zipfile.ZipFile(root / "otherzip.docx", "w") as zf:
        zf.writestr("hello.txt", "a zip, but not a Word document")
    bad["otherzip.docx"] = "not a readable DOCX"
    with zipfile.ZipFile(root / "bomb.docx", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/document.xml", b"\0" * (3 * 1024 * 1024))  # limit lowered to 2 MB in the test
    bad["bomb.docx"] = "DOCX expands to 3 MB"
    (root / "broken.html").write_text("<p>fine so far</p><![endif-ish[ oops")
    bad["broken.html"] = "not parseable HTML"
    (root / "dup2.txt").write_text("Duplicate document about the sarnevo scanner.\n")
    bad["dup2.txt"] = "duplicate of dup1.txt (same text)"
    (root / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    bad["image.png"] = "unsupported file type '.png'"
    bad["corpus.jsonl:2"] = "malformed JSON"
    bad["corpus.jsonl:3"] = "duplicate doc_id 'j1'"
    bad["corpus.jsonl:4"] = "not a JSON object"
    bad["corpus.jsonl:5"] = "missing doc_id"
    bad["corpus.jsonl:6"] = "doc 'j3' has no text"

    outside = base / "outside-secret.txt"
    outside.write_text("A secret that lives outside the corpus: qelvorn.\n")
    os.symlink(outside, root / "escape.txt")
    bad["escape.txt"] = "symlink points outside the ingested folder"
    os.symlink(root / "plain.txt", root / "alias.txt")  # inside: the same document again
    bad["alias.txt"] = "duplicate of plain.txt (same text)"
    os.symlink(base, root / "linked-folder")
    bad["linked-folder"] = "symlinked folder not followed"
    os.symlink(root / "loop-b.txt", root / "loop-a.txt")
    os.symlink(root / "loop-a.txt", root / "loop-b.txt")
    bad["loop-a.txt"] = "unresolvable symlink"
    bad["loop-b.txt"] = "unresolvable symlink"
    os.symlink(root / "nowhere.txt", root / "dangling.txt")
    bad["dangling.txt"] = "not a regular file"
    os.mkfifo(root / "pipe.txt")  # reading it would block forever
    bad["pipe.txt"] = "not a regular file"
    with open(os.path.join(os.fsencode(root), b"latin1-\xe9t\xe9.txt"), "wb") as fh:
        fh.write(b"A name in Latin-1 bytes.\n")
    bad["latin1-\ufffdt\ufffd.txt"] = "file name is not valid UTF-8"
    return root, good, bad


@pytest.fixture
def corpus(tmp_path, monkeypatch):
    monkeypatch.setattr(loaders, "DOCX_MAX_EXPANDED_BYTES", 2 * 1024 * 1024)
    return build_corpus(tmp_path)


def test_hostile_corpus_skips_each_bad_file_and_indexes_every_good_one(tmp_path, corpus, hash_embedder):
    root, good, bad = corpus
    index = tmp_path / "index"
    t0 = time.perf_counter()
    report = Ingestor(index, hash_embedder, max_file_mb=4).ingest([root])
    assert time.perf_counter() - t0 < 60

    skipped = dict(report.skipped)
    assert len(skipped) == len(report.skipped), f"a name was skipped twice: {report.skipped}"
    for name, reason in report.skipped:
        assert "\n" not in reason and "\n" not in name, (name, reason)
        (name + reason).encode("utf-8")  # printable in any UTF-8 terminal or log
    assert set(skipped) == set(bad), report.summary()
    for name, part in bad.items():
        assert part in skipped[name], (name, skipped[name])
    assert set(report.added) == set(good), report.summary()
    assert not report.updated and not report.removed

    snap = check_index(index)
    assert set(snap.docs) == set(good)
    retriever = Retriever(snap, hash_embedder, k=3, index_dir=index)
    for doc_id, word in good.items():
        if word == "krostel":  # the two open encrypted PDFs share their words
            hits = retriever.search(f"{word} lithography", mode="keyword")
            assert {h.doc_id for h in hits} >= {"open-AES-256.pdf", "open-RC4-128.pdf"}
            continue
        for mode in ("keyword", "hybrid"):
            hits = retriever.search(word, mode=mode)
            assert hits and hits[0].doc_id == doc_id, (mode, word, [h.doc_id for h in hits])

    everything = "\n".join(d.text for d in snap.docs.values()) + "\n".join(c.text for c in snap.chunks)
    for hidden in (
        "SCRIPTTOKEN",
        "SCRIPT2TOKEN",
        "STYLETOKEN",
        "COMMENTTOKEN",
        "iVBORw0KGgo",
        "Menu",
        "qelvorn",
        "\x00",
        "\ud800",
    ):
        assert hidden not in everything, hidden
    assert "Caf\u00e9 na\u00efve \u201cgrelvin\u201d r\u00e9sum\u00e9 \u20ac5." in snap.docs["legacy.txt"].text
    assert "K\u00f6ln \u540d" in snap.docs["mixed.txt"].text and "Stra\u00dfe \u20ac" in snap.docs["mixed.txt"].text
    assert "Stray NUL bytes in the hafnoria text." in snap.docs["nul.txt"].text
    assert snap.docs["j4\ufffd"].metadata["title"] == "t\ufffd"
    assert len(snap.docs["report.pdf"].pages) == 3
    assert sum(1 for c in snap.chunks if c.doc_id == "page.html") == 1  # the 3 MB of data made no chunks

    # Same corpus again: nothing changes, the same files are skipped for the same reasons.
    again = Ingestor(index, hash_embedder, max_file_mb=4).ingest([root])
    assert not again.changed and set(again.unchanged) == set(good)
    assert dict(again.skipped) == skipped
    assert again.generation == report.generation


def test_hostile_only_batch_leaves_the_index_untouched(tmp_path, corpus, hash_embedder):
    root, _good, bad = corpus
    index = tmp_path / "index"
    clean_dir = tmp_path / "clean"
    clean_dir.mkdir()
    (clean_dir / "keep.txt").write_text("Kept document about the ulvarine process.\n")
    Ingestor(index, hash_embedder).ingest([clean_dir])
    gen = current_generation(index)
    before = check_index(index)

    # Every bad file by itself (duplicates are only bad beside their original).
    names = [n for n in bad if ":" not in n and n not in ("linked-folder", "alias.txt", "dup2.txt")]
    bad_files = [root / n for n in names if "\ufffd" not in n] + [
        Path(os.fsdecode(os.path.join(os.fsencode(root), b"latin1-\xe9t\xe9.txt")))
    ]
    report = Ingestor(index, hash_embedder, max_file_mb=4).ingest(bad_files)
    assert not report.changed and not report.added
    assert {n for n, _ in report.skipped} == set(names)
    assert current_generation(index) == gen
    after = check_index(index)
    assert {k: v.text for k, v in after.docs.items()} == {k: v.text for k, v in before.docs.items()}


def test_size_limit_reason_names_both_sizes(tmp_path, hash_embedder):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "big.txt").write_bytes(b"word " * 4000)  # 20,000 bytes
    (tmp_path / "c" / "small.txt").write_text("A small file about the brennick valve.\n")
    report = Ingestor(tmp_path / "index", hash_embedder, max_file_mb=0.01).ingest([tmp_path / "c"])
    assert report.skipped == (("big.txt", "too large (0.0191 MB > 0.01 MB limit)"),)
    assert report.added == ("small.txt",)


def test_markdown_with_inline_data_and_scripts_keeps_only_prose(tmp_path):
    f = tmp_path / "n.md"
    f.write_text(
        "# Title\n\nProse about the cindral line.\n\n"
        f'<img src="{DATA_URI[:600_000]}" alt="chart">\n\n![inline]({DATA_URI[:600_000]})\n\n'
        "<script>\nvar MDSCRIPT = 1;\n</script>\n<style>p{MDSTYLE: 1}</style>\n"
        "Raw data in prose: " + DATA_URI[:400_000] + " end.\n"
    )
    doc = load_file(f, "n.md")[0]
    assert "Prose about the cindral line." in doc.text and "end." in doc.text
    for hidden in ("iVBORw0KGgo", "MDSCRIPT", "MDSTYLE", "<img", "<script"):
        assert hidden not in doc.text
    assert len(doc.text) < 200


def test_markdown_keeps_text_after_an_unclosed_script_tag(tmp_path):
    f = tmp_path / "n.md"
    f.write_text("Use the <script> tag to load code.\n\nThe rest of the page is still prose.\n")
    doc = load_file(f, "n.md")[0]
    assert "The rest of the page is still prose." in doc.text


@pytest.mark.parametrize(
    "suffix, text",
    [
        (".txt", "TITLE" + " " * 20_000 + "x\n----- BEGIN TEXT -----\nbody text\n----- END TEXT -----\n"),
        (".md", "[" * 100_000 + " text"),
        (".md", "![a](" * 40_000 + " text"),
        (".md", "<script " * 40_000 + " text"),
        (".txt", "A. " * 100_000),
        (".txt", "Mr. " * 80_000),
        (".txt", "x" + " \t" * 100_000 + "y. Z."),
        (".html", "<p>" + "x " * 100_000 + "</p>"),
    ],
    ids=[
        "header-spaces",
        "md-brackets",
        "md-images",
        "md-unclosed-script",
        "initials",
        "abbreviations",
        "blank-run",
        "html-long-paragraph",
    ],
)
def test_hostile_text_loads_and_chunks_in_linear_time(tmp_path, suffix, text):
    # Each of these took minutes to hours before (cubic or quadratic regex backtracking).
    f = tmp_path / f"x{suffix}"
    f.write_text(text, encoding="utf-8")
    t0 = time.perf_counter()
    try:
        docs = load_file(f, f.name)
    except loaders.SkipFile:
        docs = []
    for d in docs:
        chunks = Chunker().split(d)
        assert all(d.text[c.start : c.end] == c.text for c in chunks)
    assert time.perf_counter() - t0 < 5


def test_two_files_with_one_doc_id_are_reported_not_silently_merged(tmp_path, hash_embedder):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "readme.txt").write_text("Readme of folder a about the morvane unit.\n")
    (b / "readme.txt").write_text("Readme of folder b about the selkirt unit.\n")
    (b / "ids.jsonl").write_text(json.dumps({"doc_id": "readme.txt", "text": "A JSONL row claiming that id."}) + "\n")
    report = Ingestor(tmp_path / "index", hash_embedder).ingest([a, b])
    assert report.added == ("readme.txt",)
    assert sorted(report.skipped) == [
        ("ids.jsonl", f"doc id 'readme.txt' is already taken by {(a / 'readme.txt').as_posix()}"),
        ("readme.txt", f"doc id 'readme.txt' is already taken by {(a / 'readme.txt').as_posix()}"),
    ]
    snap = check_index(tmp_path / "index")
    assert "morvane" in snap.docs["readme.txt"].text


def test_the_same_file_given_twice_is_one_document(tmp_path, hash_embedder):
    (tmp_path / "c").mkdir()
    f = tmp_path / "c" / "one.txt"
    f.write_text("Only one document about the tavrel pump.\n")
    report = Ingestor(tmp_path / "index", hash_embedder).ingest([tmp_path / "c", f, tmp_path / "c"])
    assert report.added == ("one.txt",) and report.skipped == ()


def test_an_index_inside_the_corpus_is_not_ingested(tmp_path, hash_embedder):
    (tmp_path / "doc.txt").write_text("The only document, about the gorvast valve.\n")
    ing = Ingestor(tmp_path / "index", hash_embedder)  # docs.jsonl/chunks.jsonl would look like corpora
    ing.ingest([tmp_path])
    report = ing.ingest([tmp_path])
    assert not report.changed and report.skipped == () and report.total_docs == 1


def test_many_nul_bytes_is_binary_but_a_few_are_cleaned(tmp_path):
    few = tmp_path / "few.txt"
    few.write_bytes(b"a\x00b text here\x00.\n")
    assert load_file(few, "few.txt")[0].text == "ab text here."
    many = tmp_path / "many.txt"
    many.write_bytes(b"\x00x" * 100)
    with pytest.raises(loaders.SkipFile, match="looks binary"):
        load_file(many, "many.txt")


def test_lone_surrogates_in_sidecar_metadata_are_replaced(tmp_path, hash_embedder):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "a.txt").write_text("Text about the wendrel gauge.\n")
    (tmp_path / "c" / "a.txt.meta.json").write_text('{"title": "T\\ud83d\\ude00 \\ud800", "tags": ["x\\udc00"]}')
    Ingestor(tmp_path / "index", hash_embedder).ingest([tmp_path / "c"])
    meta = check_index(tmp_path / "index").docs["a.txt"].metadata
    assert meta["title"] == "T\U0001f600 \ufffd" and meta["tags"] == ["x\ufffd"]


def test_page_spans_of_a_pdf_with_blank_pages_stay_exact(tmp_path):
    pdf = make_pdf(tmp_path / "gaps.pdf", ["First page words.", "", "Third page words.", ""])
    doc = load_file(pdf, "gaps.pdf")[0]
    assert [p for p, _, _ in doc.pages] == [1, 3]
    assert doc.warnings == ("2 of 4 pages have no extractable text",)
    for chunk in Chunker(100, 0).split(doc):
        assert doc.text[chunk.start : chunk.end] == chunk.text


@pytest.mark.model
@pytest.mark.slow
def test_hostile_corpus_with_the_real_model(tmp_path, corpus, real_embedder):
    root, good, bad = corpus
    index = tmp_path / "index"
    report = Ingestor(index, real_embedder, max_file_mb=4).ingest([root])
    assert set(report.added) == set(good) and set(dict(report.skipped)) == set(bad)
    snap = check_index(index)
    retriever = Retriever(snap, real_embedder, k=3, index_dir=index)
    hits = retriever.search("Which document has a file name with shell metacharacters about interposers?", mode="dense")
    assert WEIRD_NAME in [h.doc_id for h in hits]
    hits = retriever.search("visible text about the fab", mode="dense")
    assert "page.html" in [h.doc_id for h in hits]


def test_prune_keeps_the_indexed_version_of_a_file_that_turned_bad(tmp_path, hash_embedder):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "gone.txt").write_text("A document about the pellin gauge that will be deleted.\n")
    make_pdf(corpus / "report.pdf", ["A report about the corvane turbine.", "Second page."])
    ing = Ingestor(tmp_path / "index", hash_embedder)
    ing.ingest([corpus])
    (corpus / "gone.txt").unlink()
    data = (corpus / "report.pdf").read_bytes()
    (corpus / "report.pdf").write_bytes(data[: len(data) // 3])  # corrupted on disk, but still there
    report = ing.ingest([corpus], prune=True)
    assert report.removed == ("gone.txt",)
    assert dict(report.skipped)["report.pdf"].startswith("not a readable PDF")
    assert (
        "report.pdf",
        "the file could not be loaded this time; the index keeps its previous version",
    ) in report.warnings
    assert "corvane turbine" in check_index(tmp_path / "index").docs["report.pdf"].text


def test_explicit_hidden_files_sidecars_and_the_index_itself_are_reported(tmp_path, hash_embedder):
    (tmp_path / ".hidden.txt").write_text("Hidden text.\n")
    (tmp_path / "a.txt").write_text("Visible text about the dorran bridge.\n")
    (tmp_path / "a.txt.meta.json").write_text('{"title": "A"}')
    ing = Ingestor(tmp_path / "index", hash_embedder)
    ing.ingest([tmp_path / "a.txt"])
    report = ing.ingest(
        [
            tmp_path / ".hidden.txt",
            tmp_path / "a.txt.meta.json",
            tmp_path / "index",
            tmp_path / "index" / current_generation(tmp_path / "index") / "docs.jsonl",
        ]
    )
    assert dict(report.skipped) == {
        ".hidden.txt": "hidden file",
        "a.txt.meta.json": "a metadata sidecar, not a document",
        str(tmp_path / "index"): "this is the index folder, not documents",
        str(
            tmp_path / "index" / current_generation(tmp_path / "index") / "docs.jsonl"
        ): "this is the index folder, not documents",
    }
    assert not report.changed


def test_jsonl_line_skips_are_named_by_their_path_under_the_root(tmp_path, hash_embedder):
    (tmp_path / "c" / "sub").mkdir(parents=True)
    (tmp_path / "c" / "sub" / "rows.jsonl").write_text(
        '{"doc_id": "r1", "text": "Row one about the ferran kiln."}\n{oops\n'
    )
    report = Ingestor(tmp_path / "index", hash_embedder).ingest([tmp_path / "c"])
    assert report.added == ("r1",)
    assert [n for n, _ in report.skipped] == ["sub/rows.jsonl:2"]


def test_an_unreadable_folder_is_reported(tmp_path, hash_embedder, monkeypatch):
    (tmp_path / "c" / "locked").mkdir(parents=True)
    (tmp_path / "c" / "locked" / "x.txt").write_text("Hidden behind permissions.\n")
    (tmp_path / "c" / "ok.txt").write_text("Readable text about the sorrel pump.\n")
    real_scandir = os.scandir

    def scandir(path="."):  # what chmod 000 does for anyone but root
        if os.fspath(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    report = Ingestor(tmp_path / "index", hash_embedder).ingest([tmp_path / "c"])
    assert report.added == ("ok.txt",)
    assert report.skipped == (("locked", "unreadable folder (Permission denied)"),)


def test_an_empty_path_and_other_indexes_are_not_ingested(tmp_path, hash_embedder, monkeypatch):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("The only document, about the wessel crane.\n")
    Ingestor(corpus / "old-index", hash_embedder).ingest([corpus])  # an index left inside the corpus
    monkeypatch.chdir(corpus)
    report = Ingestor(tmp_path / "index", hash_embedder).ingest(["", corpus])
    assert report.added == ("a.txt",)
    assert dict(report.skipped) == {"''": "empty path", "old-index": "a partnerqa index folder, not documents"}


def test_documents_inside_the_index_folder_but_outside_its_generations_are_ingested(tmp_path, hash_embedder):
    index = tmp_path / "index"
    Ingestor(index, hash_embedder).ingest([])  # an empty index (a non-empty folder would be refused)
    (index / "docs").mkdir()
    (index / "docs" / "a.txt").write_text("A document about the harrow mill.\n")
    report = Ingestor(index, hash_embedder).ingest([index / "docs"])  # the index is the parent folder
    assert report.added == ("a.txt",) and report.skipped == ()
    assert (index / "docs" / "a.txt").exists()
