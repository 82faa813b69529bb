"""The chat page: its pure helpers by hand, its handlers over a hash-embedded index, and the
real server (real model, real index of seeds/) through gradio_client."""

import html
import json
import os
import re
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from support import stop_process

from rag.types import Answer, AnswerSentence, Citation, Hit
from ui.app import (
    CONTEXT_CHARS,
    ChatHandlers,
    answer_html,
    answer_plain_text,
    append_feedback,
    documents_html,
    feedback_record,
    is_loopback,
    parse_auth,
    passage_html,
    replace_upload,
    report_html,
    safe_filename,
    sources_html,
    sources_panel,
    streaming_html,
    unique_name,
    vote_of,
)
from ui.storage import drop_backup, feedback_csv, feedback_rows, read_feedback, restore_upload

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
EVIL_DOC = (
    "Staff handbook.\n\nThe cafeteria opens at 7:30. "
    f"Beware of {SCRIPT} and {IMG} in pasted text. "
    "It closes at 19:00 on weekdays."
)


def _evil_answer(turn_text: str = EVIL_DOC) -> tuple[Answer, dict[str, str]]:
    quote = f"Beware of {SCRIPT} and {IMG} in pasted text."
    start = turn_text.index(quote)
    cit = Citation(n=1, doc_id="evil<b>.txt", title=f"Handbook {IMG}", page=2, start=start, end=start + len(quote),
                   quote=quote, publisher=f"HR {SCRIPT}", date="2025-01-01", url="javascript:alert(1)")
    ans = Answer(question=f"What about {SCRIPT}?", text=f"{quote} [1]",
                 sentences=(AnswerSentence(text=quote, citations=(1,)),), citations=(cit,), abstained=False,
                 hits=(), timings={"total_ms": 12.0})
    return ans, {"evil<b>.txt": turn_text}


def _no_markup(out: str) -> None:
    low = out.lower()
    assert "<script" not in low and "<img" not in low and "<b>" not in low, out
    assert "javascript:" not in low.replace("javascript:alert(1)</", "")  # never as an href


# -- pure helpers --------------------------------------------------------------------------------


def test_sources_html_escapes_document_text():
    ans, docs = _evil_answer()
    out = sources_html(ans, docs.__getitem__, turn=3)
    _no_markup(out)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in out
    assert 'id="src-3-1"' in out
    assert 'href="javascript' not in out  # a non-http URL is never linked
    # The highlighted text is exactly the escaped quote.
    marked = re.findall(r"<mark>(.*?)</mark>", out, re.DOTALL)
    assert [html.unescape(m) for m in marked] == [ans.citations[0].quote]
    assert "HR &lt;script&gt;" in out and "p. 2" in out and "2025-01-01" in out


def test_answer_html_escapes_and_links_markers():
    ans, _ = _evil_answer()
    out = answer_html(ans, turn=2)
    _no_markup(out.replace('<span class="pqa-copytext">', ""))
    assert '<a class="pqa-cite" href="#src-2-1"' in out
    assert ">[1]</a>" in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    # The hidden copy text is the plain answer with its sources, escaped once.
    copy = re.search(r'<span class="pqa-copytext">(.*?)</span>', out, re.DOTALL).group(1)
    assert html.unescape(copy) == answer_plain_text(ans)
    assert answer_plain_text(ans).startswith(ans.text + "\n\nSources:\n[1] Handbook")


def test_answer_html_without_sentences_links_only_known_markers():
    ans, _ = _evil_answer()
    bare = Answer(question="q", text="Alpha [1] beta [7].", sentences=(), citations=ans.citations, abstained=False,
                  hits=(), timings={})
    out = answer_html(bare, turn=1)
    assert out.count('class="pqa-cite"') == 1 and "[7]" in out


def test_abstention_is_shown_with_related_reading():
    hit = Hit(chunk_id="d#0", doc_id="d.txt", title=f"T {SCRIPT}", page=None, start=0, end=20,
              text=f"Closest {IMG} passage", score=0.1, metadata={"publisher": "P", "url": "https://example.org/a"})
    ans = Answer(question="capital?", text="The documents do not contain the answer to this question.",
                 sentences=(), citations=(), abstained=True, hits=(hit,), timings={}, related=(hit,))
    chat = answer_html(ans, turn=1)
    panel = sources_html(ans, lambda d: "", turn=1)
    assert "Not in the documents" in chat and "Not in the documents" in panel
    assert "related" in panel.lower() and "Closest &lt;img" in panel
    assert 'href="https://example.org/a"' in panel
    _no_markup(chat.replace('<span class="pqa-copytext">', ""))
    _no_markup(panel)


def test_passage_html_marks_the_quote_in_its_context():
    text = " ".join(f"word{i}" for i in range(200))
    start = text.index("word100")
    end = start + len("word100 word101")
    out = passage_html(text, start, end)
    assert re.findall(r"<mark>(.*?)</mark>", out) == ["word100 word101"]
    plain = html.unescape(re.sub(r"<[^>]+>", "", out))
    assert plain.startswith("… ") and plain.endswith(" …")
    core = plain[2:-2]
    assert core in text  # cut at word boundaries: no split words
    assert len(core) <= 2 * CONTEXT_CHARS + (end - start)
    # At the very start of a document there is no leading ellipsis.
    head = passage_html(text, 0, 5)
    assert head.startswith("<mark>word0</mark>")


def test_sources_panel_keeps_earlier_answers_folded():
    assert "Sources" in sources_panel([])
    out = sources_panel(["<section>one</section>", "<section>two</section>", "<section>three</section>"])
    assert out.index("three") < out.index("<details") < out.index("two") < out.index("one")


def test_documents_and_report_html_escape():
    docs = [{"doc_id": "a<b>.txt", "title": IMG, "pages": 3, "chunks": 4, "added_at": "2025-11-13T10:00:00+00:00",
             "publisher": SCRIPT, "date": "", "url": "https://example.org/x?a=1&b=2"}]
    out = documents_html(docs)
    _no_markup(out)
    assert ">2025-11-13 10:00<" in out and 'href="https://example.org/x?a=1&amp;b=2"' in out

    class Report:
        added, updated, removed, unchanged = ("x.txt",), (), (), ()
        skipped = (("bad<i>.exe", f"unsupported file type {SCRIPT}"),)
        warnings = ()
        total_docs, total_chunks, seconds = 6, 20, 0.5

    rep = report_html(Report(), {"x.txt": "x.txt", "bad<i>.exe": "bad<i>.exe"})
    assert "<script" not in rep and "<i>" not in rep and "Rejected" in rep and "unsupported file type &lt;script&gt;" in rep


@pytest.mark.parametrize(("name", "want"), [
    ("../../etc/passwd", "passwd"),
    ("..\\..\\windows\\win.ini", "win.ini"),
    ("/abs/path/report.PDF", "report.pdf"),
    (".hidden.txt", "hidden.txt"),
    ("..", "upload"),
    ("", "upload"),
    ("a b<c>|d.md", "a_b_c_d.md"),
    ("보고서 2025.docx", "보고서_2025.docx"),
    ("-rf .txt", "rf.txt"),
    ("notes", "notes"),
])
def test_safe_filename(name, want):
    assert safe_filename(name) == want


@given(st.text(max_size=300))
def test_safe_filename_is_always_a_plain_name(name):
    out = safe_filename(name)
    assert out and len(out) <= 120
    assert "/" not in out and "\\" not in out and "\x00" not in out
    assert not out.startswith((".", "-")) and out not in (".", "..")
    assert Path(out).name == out


def test_unique_name_adds_a_suffix():
    assert unique_name("a.txt", set()) == "a.txt"
    assert unique_name("a.txt", {"a.txt"}) == "a-2.txt"
    assert unique_name("a.txt", {"a.txt", "a-2.txt"}) == "a-3.txt"


def test_replace_upload_never_escapes_and_replaces_a_same_name_upload(tmp_path):
    up = tmp_path / "uploads"
    src_dir = tmp_path / "in"
    (src_dir / "x").mkdir(parents=True)
    first = src_dir / "passwd"
    first.write_text("one")
    second = src_dir / "x" / "passwd"
    second.write_text("two")
    a, backup_a = replace_upload(src_dir / "x" / ".." / "passwd", up)
    assert a == up / "passwd" and backup_a is None and a.read_text() == "one"
    b, backup_b = replace_upload(second, up)  # the same name again: an update, the old kept as a backup
    assert b == a and b.read_text() == "two" and backup_b.read_text() == "one"
    restore_upload(b, backup_b)  # the ingest failed: the previous file is back
    assert a.read_text() == "one" and not backup_b.exists()
    c, backup_c = replace_upload(first, up, avoid={"passwd"})  # a name a seed document holds: never replaced
    assert c.name == "passwd-2" and backup_c is None
    drop_backup(backup_c)
    assert sorted(p.name for p in up.iterdir()) == ["passwd", "passwd-2"]
    assert not (tmp_path / "etc").exists()


def test_feedback_view_rows_and_csv(tmp_path):
    path = tmp_path / "fb.jsonl"
    turn = {"question": "Q, with a comma?", "answer": "A. [1]", "citations": [{"n": 1, "doc_id": "a.txt"}]}
    append_feedback(path, feedback_record(turn, "down", comment="  wrong\nyear ", user="kim"))
    path.open("a").write("not json\n")
    append_feedback(path, feedback_record(turn, "up"))
    records = read_feedback(path)
    assert [r["vote"] for r in records] == ["up", "down"]  # newest first, the bad line skipped
    rows = feedback_rows(records)
    assert rows[1][1:4] == ["down", "wrong year", "Q, with a comma?"] and rows[1][5] == "[1] a.txt"
    text = feedback_csv(records)
    assert text.splitlines()[0].startswith("timestamp,vote,comment,question")
    assert '"Q, with a comma?"' in text and read_feedback(tmp_path / "none.jsonl") == []


def test_feedback_jsonl(tmp_path):
    path = tmp_path / "deep" / "feedback.jsonl"
    turn = {"question": "Q?", "answer": "A. [1]", "citations": [{"n": 1, "quote": "A."}], "abstained": False,
            "mode": "extractive", "k": 5, "retrieval_mode": "hybrid"}
    when = datetime(2025, 11, 13, 9, 30, tzinfo=UTC)
    append_feedback(path, feedback_record(turn, "up", now=when))
    append_feedback(path, feedback_record(turn, vote_of(False)))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    first, second = (json.loads(x) for x in lines)
    assert first == {"timestamp": "2025-11-13T09:30:00+00:00", "vote": "up", "comment": "", "user": "",
                     "question": "Q?", "answer": "A. [1]",
                     "citations": [{"n": 1, "quote": "A."}], "abstained": False, "mode": "extractive", "k": 5,
                     "retrieval_mode": "hybrid"}
    assert second["vote"] == "down"
    assert [vote_of(x) for x in (True, False, "Like", "Dislike", None)] == ["up", "down", "up", "down", "cleared"]


def test_parse_auth_and_loopback():
    assert parse_auth("") is None
    assert parse_auth("staff:s3cr:et") == ("staff", "s3cr:et")
    with pytest.raises(ValueError, match="user:password"):
        parse_auth("nopassword")
    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.4")


# -- handlers over a small hash-embedded index (no model) -------------------------------------------

DOCS = {
    "telescope.txt": "Zephyr Telescope\n\nThe Zephyr telescope was completed in 2019 on Mount Tarn. "
                     "The Zephyr telescope observes infrared light from the southern sky.",
    "bridge.txt": "Kestrel Bridge\n\nThe Kestrel bridge spans 840 metres across the Vell river. "
                  "Engineers opened the Kestrel bridge to traffic in May.",
}


@pytest.fixture
def hashed(tmp_path, hash_embedder):
    """A real Answerer over a hash-embedded index of two tiny documents, and its settings."""
    from ingest.pipeline import Ingestor
    from ingest.settings import Settings
    from rag import Answerer, Retriever

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name, text in DOCS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    settings = Settings.from_env(index=tmp_path / "idx", upload_dir=tmp_path / "up", feedback=tmp_path / "fb.jsonl",
                                 abstain_threshold=0.3)
    Ingestor.from_settings(settings, embedder=hash_embedder).ingest([corpus])
    retriever = Retriever.load(settings.index, embedder=hash_embedder, settings=settings)
    answerer = Answerer(retriever, abstain_threshold=0.3, settings=settings)
    return answerer, settings


class RecordingAnswerer:
    """Wraps an Answerer and records the history each `stream` call received."""

    def __init__(self, inner):
        self.inner, self.histories = inner, []
        self.retriever, self.k = inner.retriever, inner.k

    def available_answer_modes(self):
        return ["extractive"]

    def stream(self, question, history=None, **kw):
        self.histories.append([dict(m) for m in history or []])
        return self.inner.stream(question, history, **kw)


def _drain(gen):
    out = list(gen)
    assert out, "the handler yielded nothing"
    return out


def test_respond_streams_keeps_history_and_records_votes(hashed):
    answerer, settings = hashed
    rec = RecordingAnswerer(answerer)
    h = ChatHandlers(rec, settings)
    steps = _drain(h.respond("When was the Zephyr telescope completed?", [], [], [], 5, "hybrid", "extractive"))
    assert steps[0][0] == "" and "Searching the documents" in steps[0][1][-1]["content"]
    assert len(steps) >= 3  # the question, at least one streamed piece, the final answer
    _, chat, conv, turns, panel = steps[-1]
    assert 'class="pqa-cite" href="#src-1-1"' in chat[-1]["content"]
    assert "2019" in chat[-1]["content"] and 'id="src-1-1"' in panel and "<mark>" in panel
    assert conv[0] == {"role": "user", "content": "When was the Zephyr telescope completed?"}
    assert "[1]" in conv[1]["content"]

    steps = _drain(h.respond("And what does it observe?", chat, conv, turns, 5, "hybrid", "extractive"))
    _, chat2, conv2, turns2, panel2 = steps[-1]
    assert rec.histories[1] == conv  # the follow-up saw the first exchange
    assert len(chat2) == 4 and len(conv2) == 4 and len(turns2) == 2
    assert 'id="src-2-1"' in panel2 and "<details" in panel2

    record = h.record_vote(turns2, 3, False)
    assert record["vote"] == "down" and record["question"] == "And what does it observe?"
    assert h.record_vote(turns2, 0, True) is None  # a vote on a question is not an answer's
    saved = [json.loads(x) for x in Path(settings.feedback).read_text().splitlines()]
    assert [s["question"] for s in saved] == ["And what does it observe?"]


def test_respond_ignores_empty_and_rejects_bad_settings(hashed):
    h = ChatHandlers(*hashed)
    steps = list(h.respond("   ", [], [], [], 5, "hybrid", "extractive"))
    assert len(steps) == 1
    import gradio as gr

    with pytest.raises(gr.Error):
        list(h.respond("q", [], [], [], 5, "fuzzy", "extractive"))
    with pytest.raises(gr.Error):
        h.ask("q", k=0.5, mode="hybrid")
    with pytest.raises(gr.Error):
        h.ask(" ")


def test_upload_and_remove(hashed, tmp_path):
    answerer, settings = hashed
    h = ChatHandlers(answerer, settings)
    src = tmp_path / "incoming"
    src.mkdir()
    good = src / "telescope.txt"  # same name as a document from elsewhere: must not replace it
    good.write_text("Canteen hours\n\nThe canteen opens at 7:30 on weekdays.", encoding="utf-8")
    bad = src / "empty.md"
    bad.write_text("", encoding="utf-8")
    status, table, _, header, cleared = h.add_files([str(good), str(bad)], progress=lambda *a, **k: None)
    assert "telescope-2.txt" in table and "Canteen hours" in table
    assert "Rejected" in status and "empty.md" in status and cleared is None
    assert sorted(p.name for p in Path(settings.upload_dir).iterdir()) == ["telescope-2.txt"]
    assert answerer.retriever.document_text("telescope.txt").startswith("Zephyr")  # untouched
    assert "3 documents" in header
    assert h.ask("When does the canteen open?")[1]["citations"][0]["doc_id"] == "telescope-2.txt"

    # The same file again: one document, reported unchanged; a new version: updated, still one document.
    status, table, *_ = h.add_files([str(good)], progress=lambda *a, **k: None)
    assert "Unchanged" in status and table.count('data-doc="telescope-2.txt"') == 1 + 2  # the row and its 2 buttons
    good.write_text("Canteen hours\n\nThe canteen opens at 8:00 on weekdays.", encoding="utf-8")
    status, table, *_ = h.add_files([str(good)], progress=lambda *a, **k: None)
    assert "Updated" in status and "telescope-3.txt" not in table
    assert sorted(p.name for p in Path(settings.upload_dir).iterdir()) == ["telescope-2.txt"]
    assert "8:00" in h.ask("When does the canteen open?")[0]

    assert "Remove <b>Canteen hours</b>" in h.ask_remove("telescope-2.txt")[1]  # asks first
    assert "deletes its uploaded file" in h.ask_remove("telescope-2.txt")[1]
    status, table, _, header, _ = h.remove_doc("telescope-2.txt")
    assert "Removed" in status and "telescope-2.txt" not in table
    assert not list(Path(settings.upload_dir).iterdir())  # gone from disk, no backup left behind
    assert "not in the index" in h.remove_doc("nope.txt")[0]
    assert "canteen" not in h.ask("When does the canteen open?")[0].lower()


def test_ask_endpoint_over_http(hashed, serve_page):
    from gradio_client import Client

    answerer, settings = hashed
    with serve_page(answerer, settings) as url:
        client = Client(url, verbose=False)
        api = client.view_api(print_info=False, return_format="dict")
        assert list(api["named_endpoints"]) == ["/ask"]  # the page's own events are private
        text, sources = client.predict("How long is the Kestrel bridge?", api_name="/ask")
        assert "[1]" in text and "840" in text and sources["abstained"] is False
        assert sources["citations"][0]["doc_id"] == "bridge.txt"


# -- the real thing: real model, real index of seeds/, real server ----------------------------------


def _check_citations(answerer, text: str, sources: dict) -> None:
    assert sources["citations"], sources
    for c in sources["citations"]:
        assert f"[{c['n']}]" in text
        assert answerer.retriever.document_text(c["doc_id"])[c["start"]:c["end"]] == c["quote"]


@pytest.mark.slow
@pytest.mark.model
def test_server_answers_with_checkable_citations(seed_app, serve_page):
    from gradio_client import Client

    answerer, settings = seed_app
    with serve_page(answerer, settings) as url:
        client = Client(url, verbose=False)
        for q in ("What chips will Nvidia supply to Korea?", "What is an AI factory?",
                  "What would the Seoul R&D center do?", "What is physical AI?"):
            text, sources = client.predict(q, api_name="/ask")
            assert not sources["abstained"], (q, text)
            assert "[1]" in text
            _check_citations(answerer, text, sources)
        text, sources = client.predict("What is the capital of Australia?", api_name="/ask")
        assert sources["abstained"] is True and sources["citations"] == []
        assert "do not contain" in text and sources["related"]
        text, sources = client.predict("What is physical AI?", 3, "keyword", api_name="/ask")
        _check_citations(answerer, text, sources)


@pytest.mark.slow
@pytest.mark.model
def test_partnerqa_serve_cold_start(tmp_path, port, seeds_dir, record_property):
    """`partnerqa serve` with no index: builds it from seeds/, serves, answers; time it."""
    from gradio_client import Client

    env = dict(os.environ, PARTNERQA_INDEX=str(tmp_path / "idx"), PARTNERQA_UPLOAD_DIR=str(tmp_path / "up"),
               PARTNERQA_FEEDBACK=str(tmp_path / "fb.jsonl"), PYTHONUNBUFFERED="1")
    env.pop("PARTNERQA_AUTH", None)
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "ui.cli", "serve", "--port", str(port), "--seeds", str(seeds_dir)],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    ready = threading.Event()

    def pump():
        for line in proc.stdout:
            lines.append(line)
            if "ready in" in line:
                ready.set()

    threading.Thread(target=pump, daemon=True).start()
    try:
        assert ready.wait(240), "".join(lines)
        t_ready = time.perf_counter() - t0
        text, sources = Client(f"http://127.0.0.1:{port}/", verbose=False).predict(
            "What chips will Nvidia supply to Korea?", api_name="/ask")
        t_answer = time.perf_counter() - t0
    finally:
        stop_process(proc)
    out = "".join(lines)
    assert "building it from" in out and "added 5" in out
    assert f"http://127.0.0.1:{port}" in out
    assert "[1]" in text and not sources["abstained"]
    record_property("serve_ready_s", round(t_ready, 1))
    record_property("serve_first_answer_s", round(t_answer, 1))
    print(f"\ncold start (index built from seeds): ready {t_ready:.1f} s, first answer {t_answer:.1f} s")
    assert t_answer < 180


class _Req:
    """What a `gr.Request` gives the handlers: the logged-in user's name (None without login)."""

    def __init__(self, username=None):
        self.username = username


def test_chats_are_kept_per_user_reopened_renamed_deleted_and_exported(hashed):
    h = ChatHandlers(*hashed)
    _, chat, conv, turns, _ = _drain(h.respond("When was the Zephyr telescope completed?", [], [], [], 5, "hybrid",
                                               "extractive"))[-1]
    kim, lee = _Req("kim"), _Req("lee")
    store, chat_id, pick = h.save_chat({}, "", chat, conv, turns, kim)
    assert chat_id and pick["value"] == chat_id and "When was the Zephyr" in pick["choices"][0][0]
    assert h.restore(store, lee)[0]["choices"] == []  # another user sees none of kim's chats
    restored = h.restore(store, kim)
    assert restored[1] == chat and restored[3] == turns and restored[5] == chat_id
    assert 'id="src-1-1"' in restored[4]
    import gradio as gr

    # The list fires its input event on blur with nothing picked: the open chat is not replaced by its copy.
    assert h.open_chat(store, chat_id, chat_id, kim) == (gr.skip(),) * 6
    assert h.open_chat(store, chat_id, "", kim)[4:] == (chat_id, restored[6])  # picked from a new chat: opened
    with pytest.raises(gr.Error, match="Type a name first"):
        h.rename_chat(store, chat_id, " \n", kim)
    with pytest.raises(gr.Error, match="Ask a question first"):
        h.rename_chat(store, "gone1234", "A name", kim)  # a chat that is not in this browser's store
    store, pick = h.rename_chat(store, chat_id, "  Zephyr\n dates ", kim)
    assert pick["choices"][0][0].startswith("Zephyr dates")
    md = Path(h.export_chat(store, chat_id, turns, kim)).read_text(encoding="utf-8")
    assert md.startswith("# Zephyr dates\n") and "## When was the Zephyr telescope completed?" in md
    assert "Sources:\n- [1] " in md and "2019" in md
    store, pick, *cleared = h.delete_chat(store, chat_id, kim)
    assert pick["choices"] == [] and cleared[:3] == [[], [], []]
    with pytest.raises(gr.Error, match="ask a question first"):
        h.export_chat(store, "", [], kim)


def test_retry_edit_stop_and_limits(hashed):
    import gradio as gr

    h = ChatHandlers(*hashed)
    _, chat, conv, turns, _ = _drain(h.respond("When was the Zephyr telescope completed?", [], [], [], 5, "hybrid",
                                               "extractive"))[-1]
    box, chat2, conv2, turns2, _ = h.edit_last(chat, conv, turns)  # undo: the question back in the box
    assert box == "When was the Zephyr telescope completed?" and chat2 == [] and conv2 == [] and turns2 == []
    _, chat3, _, turns3, _ = _drain(h.retry(chat, conv, turns, 5, "hybrid", "extractive"))[-1]
    assert len(chat3) == 2 and len(turns3) == 1 and turns3[0]["question"] == turns[0]["question"]
    pending = [*chat, {"role": "user", "content": "q"}, {"role": "assistant", "content": streaming_html("")}]
    assert "Stopped." in h.stopped(pending)[-1]["content"]
    with pytest.raises(gr.Error, match="limited to 2,000 characters; this one has 5,000"):
        list(h.respond("x" * 5000, [], [], [], 5, "hybrid", "extractive"))
    with pytest.raises(gr.Error, match="between 1 and 20, got 99"):
        list(h.respond("q", [], [], [], 99, "hybrid", "extractive"))
    assert h.ask("When was the Zephyr telescope completed?", k=30)[0]  # the API keeps its 1-50 range


def test_feedback_comment_and_view(hashed):
    h = ChatHandlers(*hashed)
    _, _, _, turns, _ = _drain(h.respond("When was the Zephyr telescope completed?", [], [], [], 5, "hybrid",
                                         "extractive"))[-1]

    class Like:
        index, liked = 1, False

    panel, note, _, target = h.on_like(turns, Like(), _Req("kim"))
    assert panel["visible"] and "Thanks" in note and target == {"index": 1, "vote": "down"}
    assert "comment was recorded" in h.send_comment(turns, target, " Wrong  year ", _Req("kim"))[0]
    assert "Type a comment" in h.send_comment(turns, target, "  ", _Req("kim"))[0]
    rows, csv_path, tab = h.feedback_view(_Req())
    assert tab["visible"] and rows[0][1:3] == ["down", "Wrong year"] and rows[0][7] == "kim"
    assert "Wrong year" in Path(csv_path).read_text(encoding="utf-8")
    h.settings = h.settings.__class__.from_env(index=h.settings.index, feedback=h.settings.feedback, auth="a:b")
    assert h.feedback_view(_Req())[2]["visible"] is False  # with login on, only logged-in users
    assert h.feedback_view(_Req("kim"))[2]["visible"] is True


def test_row_actions_details_and_viewer(hashed):
    h = ChatHandlers(*hashed)
    pick, *_, confirm, text, details, shown = h.row_action("remove|telescope.txt|123")
    assert pick["value"] == "telescope.txt" and confirm["visible"] and "Remove <b>" in text and details["open"]
    assert shown == "telescope.txt"
    assert h.row_action("edit|telescope.txt|1")[5]["visible"] is False
    assert len(h.row_action("edit|nope.txt|1")) == 9  # a row that is gone: nothing changes
    import gradio as gr

    # Picking fills the fields; the picker's blur with the same document shown leaves edits being typed alone.
    title, *_, shown = h.pick_doc("telescope.txt", "")
    assert shown == "telescope.txt" and title
    assert h.pick_doc("telescope.txt", "telescope.txt") == (gr.skip(),) * 6
    assert h.pick_doc(None, "telescope.txt")[:4] == ("", "", "", "")  # the picker cleared: the fields too
    status, table, _, _ = h.save_details("telescope.txt", "Zephyr report", "Observatory Press", "2019-05-01", "")
    assert "Saved" in status and "Observatory Press · 2019-05-01" in table and "Zephyr report" in table
    assert h.ask("When was the Zephyr telescope completed?")[1]["citations"][0]["publisher"] == "Observatory Press"
    assert "Not saved" in h.save_details("telescope.txt", "t", "", "", "javascript:alert(1)")[0]
    text = h.retriever.document_text("telescope.txt")
    view = h.open_view("telescope.txt|20|60||99")
    assert '<mark id="pqa-view-mark">' in view and html.unescape(re.search(
        r'<mark id="pqa-view-mark">(.*?)</mark>', view).group(1)) == text[20:60]
    assert "no longer in the index" in h.open_view("gone.txt|1|2||9") and h.open_view("bad") == ""


def test_ask_only_these_documents(hashed):
    import gradio as gr

    h = ChatHandlers(*hashed)
    q = "When was the Zephyr telescope completed?"
    *_, turns, _ = _drain(h.respond(q, [], [], [], 5, "hybrid", "extractive", ["telescope.txt"]))[-1]
    assert {c["doc_id"] for c in turns[0]["citations"]} == {"telescope.txt"}
    *_, turns, _ = _drain(h.respond(q, [], [], [], 5, "hybrid", "extractive", ["bridge.txt"]))[-1]
    assert all(c["doc_id"] == "bridge.txt" for c in turns[0]["citations"])  # never the telescope document
    assert h.answerer.retriever is h.retriever  # the shared Answerer is untouched
    with pytest.raises(gr.Error, match="Not in the index any more: gone.txt"):
        list(h.respond(q, [], [], [], 5, "hybrid", "extractive", ["gone.txt"]))
    assert h.only_choices(["telescope.txt", "gone.txt"])["value"] == ["telescope.txt"]
