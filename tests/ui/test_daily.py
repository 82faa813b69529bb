"""The chat as staff use it every day (issue 15), in headless Chromium at desktop and phone widths:
re-upload, remove, provenance, the PDF page and document viewer, chats that survive a reload,
feedback with a comment, and the Documents tab on a 390 px screen. Screenshots of each screen
at both widths go to artifacts/screenshots/ (git-ignored)."""

import base64
import json
import re
import shutil
import time
from pathlib import Path

import pytest
from support import make_pdf

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "artifacts" / "screenshots"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]
DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}
ANSWER_DONE = "#pqa-chat .pqa-answer:not(.pqa-pending)"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.model,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                                                     "(apt-get install chromium chromium-driver)"),
]

NOTE_V1 = ("<html><head><title>Naver Cloud GPU cluster</title></head><body><h1>Naver Cloud GPU cluster</h1>"
           "<p>Naver Cloud will run 60,000 Blackwell GPUs in its Chuncheon data center.</p></body></html>")
NOTE_V2 = NOTE_V1.replace("60,000", "65,000")
PDF_FACT = "The Gumi plant will package 12,000 wafers a month from March 2026."


@pytest.fixture(scope="module")
def server(tmp_path_factory, seed_index, real_embedder, port_factory):
    """The real page over a private copy of the seed index; yields (url, answerer, settings)."""
    from ingest.settings import Settings
    from rag import Answerer
    from ui.app import build_app

    root = tmp_path_factory.mktemp("daily")
    shutil.copytree(seed_index, root / "idx")
    settings = Settings.from_env(index=root / "idx", upload_dir=root / "uploads", feedback=root / "feedback.jsonl",
                                 auth="")
    answerer = Answerer.load(settings=settings, embedder=real_embedder)
    answerer.warm_up()
    app = build_app(answerer, settings)
    port = port_factory()
    app.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/", answerer, settings
    app.close()


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def context(browser, server):
    """One browser profile for the module (its localStorage holds the chats across tests)."""
    ctx = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    yield ctx
    ctx.close()


def _open(ctx, url: str, viewport: dict):
    pg = ctx.new_page()
    pg.set_viewport_size(viewport)
    pg.dialogs, pg.foreign = [], []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.on("request", lambda r: pg.foreign.append(r.url) if not r.url.startswith((url, "data:", "blob:")) else None)
    # The page's load events (documents, past chats, feedback) are calls to the server: the test starts once
    # they are all back, however long a busy machine takes (the heartbeat keeps the network from going idle).
    calls = {"open": 0, "done": 0}

    def track(key: str):
        return lambda r: calls.__setitem__(key, calls[key] + 1) if "/run/predict" in r.url else None

    pg.on("request", track("open"))
    pg.on("requestfinished", track("done"))
    pg.on("requestfailed", track("done"))
    pg.calls = calls
    pg.goto(url)
    _settle(pg)
    return pg


def _settle(pg) -> None:
    """Wait until the page shows and its load events are back from the server (300 ms with every call answered),
    and at least 1.5 s after it shows, for the page's scripts: after `goto` and after a reload, whose load events
    (the past chats restored, their name box filled) may otherwise land on what the test types next."""
    calls = pg.calls
    pg.wait_for_selector("#pqa-chat", timeout=60_000)
    shown = time.monotonic()
    deadline = shown + 60
    quiet = 0
    while quiet < 3 and time.monotonic() < deadline:
        pg.wait_for_timeout(100)
        quiet = quiet + 1 if calls["open"] and calls["done"] >= calls["open"] else 0
    assert quiet >= 3, f"the page's load events did not come back: {calls}"
    pg.wait_for_timeout(max(0, 1500 - 1000 * (time.monotonic() - shown)))


def _shot(pg, name: str, width: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    time.sleep(0.4)
    pg.screenshot(path=str(SHOTS / f"{name}-{width}.png"))


def _ask(pg, question: str, n_answers: int) -> None:
    pg.fill("#pqa-input textarea", question)
    pg.press("#pqa-input textarea", "Enter")
    pg.wait_for_function(f"document.querySelectorAll({ANSWER_DONE!r}).length >= {n_answers}", timeout=180_000)


def _upload(pg, path: Path, want: str) -> None:
    pg.set_input_files("#pqa-upload input[type=file]", [str(path)])
    pg.wait_for_timeout(500)
    pg.click("#pqa-add")
    pg.wait_for_function(f"document.querySelector('#pqa-status').innerText.includes({want!r})", timeout=90_000)


def _no_horizontal_overflow(pg) -> None:
    width = pg.evaluate("document.documentElement.scrollWidth")
    assert width <= pg.viewport_size["width"] + 1, f"page is {width} px wide on a {pg.viewport_size['width']} px screen"


def _docs_tab(pg) -> None:
    pg.get_by_role("tab", name="Documents").click()
    pg.wait_for_selector("#pqa-docs table.pqa-docs")


def test_reupload_edit_provenance_and_remove(context, server, tmp_path):
    from playwright.sync_api import expect

    url, answerer, settings = server
    pg = _open(context, url, DESKTOP)
    note = tmp_path / "naver_cloud.html"
    note.write_text(NOTE_V1, encoding="utf-8")
    _docs_tab(pg)
    _upload(pg, note, "Added")
    _upload(pg, note, "Unchanged")  # the same file again: one document, and it says so
    row = pg.locator("#pqa-docs tr[data-doc='naver_cloud.html']")
    expect(row).to_have_count(1)
    note.write_text(NOTE_V2, encoding="utf-8")
    _upload(pg, note, "Updated")  # a new version under the same name: an update, not naver_cloud-2.html
    expect(row).to_have_count(1)
    expect(pg.locator("#pqa-docs tr[data-doc='naver_cloud-2.html']")).to_have_count(0)
    assert sorted(p.name for p in Path(settings.upload_dir).iterdir()) == ["naver_cloud.html"]

    # Edit its provenance from its row; every citation uses it.
    row.locator("button[data-action=edit]").click()
    expect(pg.locator("#pqa-d-title textarea, #pqa-d-title input").first).to_have_value("Naver Cloud GPU cluster")
    pg.locator("#pqa-d-publisher textarea, #pqa-d-publisher input").first.fill("Naver Corp")
    pg.locator("#pqa-d-date textarea, #pqa-d-date input").first.fill("2025-11-01")
    # A look at the document list, left without a pick, keeps the edits being typed.
    pg.locator("#pqa-remove-pick input").click()
    pg.locator("#pqa-d-publisher textarea, #pqa-d-publisher input").first.click()
    pg.wait_for_timeout(1000)
    expect(pg.locator("#pqa-d-publisher textarea, #pqa-d-publisher input").first).to_have_value("Naver Corp")
    pg.click("#pqa-save")
    expect(pg.locator("#pqa-status")).to_contain_text("Saved the details", timeout=60_000)
    expect(row).to_contain_text("Naver Corp · 2025-11-01")
    assert json.loads((Path(settings.index) / "provenance.json").read_text())["naver_cloud.html"]["publisher"] == \
        "Naver Corp"
    _shot(pg, "documents", "desktop")

    pg.get_by_role("tab", name="Ask").click()
    _ask(pg, "How many GPUs will Naver Cloud run in Chuncheon?", 1)
    sources = pg.locator("#pqa-sources")
    expect(sources).to_contain_text("65,000")
    expect(sources).to_contain_text("Naver Corp · 2025-11-01")

    # Remove it from its row: asked first, then gone from answers and from disk.
    _docs_tab(pg)
    row.locator("button[data-action=remove]").click()
    expect(pg.locator("#pqa-confirm").first).to_be_visible()
    expect(pg.locator("#pqa-confirm").first).to_contain_text("deletes its uploaded file")
    _shot(pg, "remove-confirm", "desktop")
    pg.click("#pqa-confirm-yes")
    expect(row).to_have_count(0, timeout=60_000)
    expect(pg.locator("#pqa-status")).to_contain_text("Removed")
    assert not list(Path(settings.upload_dir).iterdir())
    assert "naver_cloud.html" not in {d["doc_id"] for d in answerer.retriever.documents()}
    pg.get_by_role("tab", name="Ask").click()
    _ask(pg, "How many GPUs will Naver Cloud run in Chuncheon?", 2)
    assert "naver_cloud" not in pg.locator("#pqa-sources .pqa-turn").first.inner_text()
    assert pg.dialogs == [] and pg.foreign == []
    pg.close()


def test_cards_show_no_unknown_and_open_the_source(context, server, tmp_path):
    from playwright.sync_api import expect

    url = server[0]
    pg = _open(context, url, DESKTOP)
    pg.click("#pqa-new")
    # The settings are on screen at 1366x900, and the answer-mode dropdown says why it is fixed.
    box = pg.locator("#pqa-settings").bounding_box()
    assert box and box["y"] + box["height"] < DESKTOP["height"]
    pg.locator("#pqa-settings").click()
    expect(pg.locator("#pqa-answer-mode")).to_contain_text("Only extractive answers")
    pg.locator("#pqa-settings").click()

    _ask(pg, "What is an AI factory?", 1)
    _ask(pg, "What is the Rubin microarchitecture?", 2)
    _ask(pg, "How many advanced chips were pledged at APEC?", 3)
    cards = pg.locator("#pqa-sources .pqa-src-meta")
    texts = [cards.nth(i).inner_text() for i in range(cards.count())]
    assert texts and not [t for t in texts if re.search(r"unknown|python-docx|\(", t, re.IGNORECASE)], texts
    assert "unknown" not in pg.locator("#pqa-sources").inner_text().lower()

    # A text document opens whole, scrolled to the highlighted quote.
    card = pg.locator("#src-3-1")
    quote = card.locator("mark").inner_text().strip()
    card.locator("button.pqa-open").click()
    mark = pg.locator("#pqa-viewer #pqa-view-mark")
    expect(mark).to_be_visible(timeout=30_000)
    assert mark.inner_text().strip() == quote
    expect(mark).to_be_in_viewport()
    _shot(pg, "document-view", "desktop")

    # A PDF citation opens its page as an image with the quote boxed.
    pytest.importorskip("pypdfium2", reason="the pdfview extra is not installed")
    pdf = make_pdf(tmp_path / "gumi_plan.pdf", ["Cover page of the Gumi plan.", f"Operations. {PDF_FACT}"])
    _docs_tab(pg)
    _upload(pg, pdf, "Added")
    pg.get_by_role("tab", name="Ask").click()
    _ask(pg, "How many wafers a month will the Gumi plant package?", 4)
    src = pg.locator("#src-4-1")
    expect(src).to_contain_text("p. 2")
    src.locator("button.pqa-open").click()
    img = pg.locator("#pqa-viewer img.pqa-view-page")
    expect(img).to_be_visible(timeout=30_000)
    assert "Page 2" in img.get_attribute("alt")
    data = base64.b64decode(img.get_attribute("src").split(",", 1)[1])
    import io

    from PIL import Image

    pixels = Image.open(io.BytesIO(data)).convert("RGB").getdata()
    assert sum(1 for r, g, b in pixels if r > 230 and g > 200 and b < 190) > 500  # the quote is boxed
    _shot(pg, "pdf-page", "desktop")

    # A 5,000-character question is refused with the limit named; the Sources title is never flooded.
    pg.fill("#pqa-input textarea", "Why " * 1250)
    pg.press("#pqa-input textarea", "Enter")
    expect(pg.get_by_text(re.compile("limited to 2,000 characters"))).to_be_visible(timeout=30_000)
    assert pg.dialogs == [] and pg.foreign == []
    pg.close()


def test_chat_survives_reload_exports_and_takes_feedback(context, server):
    from playwright.sync_api import expect

    url, _, settings = server
    pg = _open(context, url, DESKTOP)
    pg.click("#pqa-new")
    expect(pg.locator("#pqa-stop")).to_be_hidden()
    pg.evaluate("""() => { window.__stopShown = false;
        new MutationObserver(() => { const b = document.querySelector('#pqa-stop');
            if (b && b.offsetParent !== null) window.__stopShown = true; })
        .observe(document.body, {subtree: true, childList: true, attributes: true}); }""")
    stored = pg.evaluate("localStorage.getItem('partnerqa-chats')")
    _ask(pg, "What chips will Nvidia supply to Korea?", 1)
    assert pg.evaluate("window.__stopShown"), "no Stop button while answering"
    expect(pg.locator("#pqa-stop")).to_be_hidden()
    expect(pg.locator("#pqa-send")).to_be_visible()
    # The chat is saved in the browser after the answer: reload only once the store has been written.
    pg.wait_for_function("(before) => localStorage.getItem('partnerqa-chats') !== before", arg=stored,
                         timeout=30_000)
    pg.reload()
    _settle(pg)
    expect(pg.locator(ANSWER_DONE)).to_have_count(1, timeout=30_000)  # the chat came back
    expect(pg.locator("#pqa-sources")).to_contain_text("What chips will Nvidia supply to Korea?")

    pg.locator("#pqa-chats-acc").click()
    expect(pg.locator("#pqa-chats input")).to_have_value(re.compile("^What chips will Nvidia supply to Korea"))
    name = pg.locator("#pqa-chat-name textarea, #pqa-chat-name input").first
    expect(name).to_have_value("What chips will Nvidia supply to Korea?")
    name.fill("Chips")
    pg.wait_for_timeout(300)  # as long as a person takes from the last key to Enter, at the least
    name.press("Enter")  # Enter in the name box renames
    expect(pg.locator("#pqa-chats input")).to_have_value(re.compile("^Chips  "), timeout=15_000)
    # Looking at the list and leaving it without a pick keeps the chat and the name being typed.
    name.fill("Chip supply")
    pg.locator("#pqa-chats input").click()
    name.click()
    pg.wait_for_timeout(1000)
    expect(name).to_have_value("Chip supply")
    expect(pg.locator(ANSWER_DONE)).to_have_count(1)
    pg.click("#pqa-rename")
    expect(pg.locator("#pqa-chats input")).to_have_value(re.compile("^Chip supply"), timeout=15_000)
    pg.click("#pqa-export")
    link = pg.locator("#pqa-export-file a").first
    expect(link).to_be_visible(timeout=15_000)
    with pg.expect_download() as dl:
        link.click()
    md = Path(dl.value.path()).read_text(encoding="utf-8")
    assert md.startswith("# Chip supply") and "## What chips will Nvidia supply to Korea?" in md
    assert "Sources:" in md and "\u201c" in md
    _shot(pg, "chats", "desktop")

    # Thumbs down: a visible confirmation, then an optional comment, both stored.
    pg.locator("#pqa-chat button[aria-label='Dislike']").first.click()
    expect(pg.locator("#pqa-fb-note")).to_contain_text("Thanks", timeout=15_000)
    pg.locator("#pqa-fb-comment textarea").fill("The chip count should be first.")
    pg.click("#pqa-fb-send")
    expect(pg.locator("#pqa-fb-note")).to_contain_text("comment was recorded", timeout=15_000)
    records = [json.loads(x) for x in Path(settings.feedback).read_text(encoding="utf-8").splitlines()]
    assert records[-1]["vote"] == "down" and records[-1]["comment"] == "The chip count should be first."
    _shot(pg, "feedback-sent", "desktop")

    # Reopen from the list after a new chat; then the Feedback view shows the comment, with a CSV.
    pg.click("#pqa-new")
    expect(pg.locator(ANSWER_DONE)).to_have_count(0)
    pg.locator("#pqa-chats input").click()
    pg.get_by_role("option", name=re.compile("Chip supply")).click()
    expect(pg.locator(ANSWER_DONE)).to_have_count(1, timeout=15_000)
    pg.get_by_role("tab", name="Feedback").click()
    pg.click("#pqa-fb-refresh")
    expect(pg.locator("#pqa-fb-table")).to_contain_text("The chip count should be first.", timeout=15_000)
    expect(pg.locator("#pqa-fb-csv a").first).to_be_visible()
    _shot(pg, "feedback-view", "desktop")
    assert pg.dialogs == [] and pg.foreign == []
    pg.close()


def test_ask_only_chosen_documents(context, server):
    from playwright.sync_api import expect

    pg = _open(context, server[0], DESKTOP)
    pg.click("#pqa-new")
    pg.locator("#pqa-settings").click()
    pg.click("#pqa-only input")
    pg.get_by_role("option", name=re.compile(r"wikipedia_rubin_microarchitecture\.txt")).click()
    pg.keyboard.press("Escape")
    _ask(pg, "What chips will Nvidia supply to Korea?", 1)
    files = pg.locator("#pqa-sources .pqa-file code")
    expect(files.first).to_be_visible()
    assert {files.nth(i).inner_text() for i in range(files.count())} <= {"wikipedia_rubin_microarchitecture.txt"}
    assert pg.dialogs == [] and pg.foreign == []
    pg.close()


def test_phone_width(context, server):
    """At 390x844 no screen is wider than the phone; the Documents tab's actions are reachable."""
    from playwright.sync_api import expect

    url, _, _ = server
    pg = _open(context, url, PHONE)
    expect(pg.locator(ANSWER_DONE).first).to_be_visible(timeout=30_000)  # the last chat, reopened
    _no_horizontal_overflow(pg)
    _shot(pg, "ask", "phone")
    pg.locator("#pqa-sources .pqa-src").first.scroll_into_view_if_needed()
    _shot(pg, "sources", "phone")
    pg.locator("#pqa-sources .pqa-src button.pqa-open").first.click()
    expect(pg.locator("#pqa-viewer #pqa-view-mark")).to_be_in_viewport(timeout=30_000)
    _no_horizontal_overflow(pg)
    _shot(pg, "document-view", "phone")
    pg.locator("#pqa-chats-acc").click()
    pg.locator("#pqa-chats-acc").scroll_into_view_if_needed()
    _no_horizontal_overflow(pg)
    _shot(pg, "chats", "phone")

    _docs_tab(pg)
    _no_horizontal_overflow(pg)
    for sel in ("#pqa-docs button[data-action=edit]", "#pqa-docs button[data-action=remove]", "#pqa-add"):
        b = pg.locator(sel).first.bounding_box()
        assert b and b["x"] >= 0 and b["x"] + b["width"] <= PHONE["width"], (sel, b)
    pg.fill("#pqa-doc-search textarea, #pqa-doc-search input", "rubin")
    expect(pg.locator("#pqa-docs tbody tr:visible")).to_have_count(1)
    _shot(pg, "documents", "phone")
    pg.fill("#pqa-doc-search textarea, #pqa-doc-search input", "")
    pg.locator("#pqa-docs button[data-action=remove]").first.click()
    expect(pg.locator("#pqa-confirm").first).to_be_visible()
    pg.locator("#pqa-confirm").first.scroll_into_view_if_needed()
    _no_horizontal_overflow(pg)
    _shot(pg, "remove-confirm", "phone")
    pg.click("#pqa-confirm-no")
    expect(pg.locator("#pqa-confirm").first).to_be_hidden()

    pg.get_by_role("tab", name="Feedback").click()
    pg.click("#pqa-fb-refresh")
    _no_horizontal_overflow(pg)
    _shot(pg, "feedback-view", "phone")
    assert pg.dialogs == [] and pg.foreign == []
    pg.close()
