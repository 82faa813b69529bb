"""The chat page in headless Chromium: ask, watch it stream, click a citation, upload, remove."""

import json
import re
import shutil
import time
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.model,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                                                     "(apt-get install chromium chromium-driver)"),
]

ANSWER_DONE = "#pqa-chat .pqa-answer:not(.pqa-pending)"


@pytest.fixture(scope="module")
def server(tmp_path_factory, seed_index, real_embedder, port_factory):
    """The real page over a private copy of the seed index; yields (url, answerer, settings)."""
    from ingest.settings import Settings
    from rag import Answerer
    from ui.app import build_app

    root = tmp_path_factory.mktemp("browser")
    shutil.copytree(seed_index, root / "idx")
    settings = Settings.from_env(index=root / "idx", upload_dir=root / "uploads", feedback=root / "feedback.jsonl")
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


@pytest.fixture
def page(browser, server):
    """A fresh page on the app that records dialogs (alert = injected script) and off-host requests."""
    url = server[0]
    ctx = browser.new_context(viewport={"width": 1400, "height": 950})
    ctx.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))
    pg = ctx.new_page()
    pg.dialogs, pg.foreign = [], []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.on("request", lambda r: pg.foreign.append(r.url) if not r.url.startswith((url, "data:", "blob:")) else None)
    pg.goto(url)
    pg.wait_for_selector("#pqa-chat", timeout=60_000)
    yield pg
    ctx.close()


def _ask(pg, question: str, n_answers: int) -> None:
    pg.fill("#pqa-input textarea", question)
    pg.press("#pqa-input textarea", "Enter")
    pg.wait_for_function(f"document.querySelectorAll({ANSWER_DONE!r}).length >= {n_answers}", timeout=60_000)


def test_ask_stream_and_check_a_citation(page, server):
    from playwright.sync_api import expect

    _, _, settings = server
    expect(page.locator("button[aria-label^='Select example']")).to_have_count(4)
    # Record what the chat shows while the answer streams in.
    page.evaluate("""() => {
        window.__pending = [];
        new MutationObserver(() => {
            document.querySelectorAll('#pqa-chat .pqa-pending').forEach(e => window.__pending.push(e.innerText));
        }).observe(document.querySelector('#pqa-chat'), {subtree: true, childList: true, characterData: true});
    }""")
    _ask(page, "What chips will Nvidia supply to Korea?", 1)
    assert page.evaluate("window.__pending.length") >= 1, "the answer did not stream"

    answer = page.locator(ANSWER_DONE).last
    cites = answer.locator("a.pqa-cite")
    assert cites.count() >= 1 and cites.first.inner_text() == "[1]"
    first_sentence = answer.locator("p > span").first.inner_text()

    cites.first.click()
    source = page.locator("#src-1-1")
    expect(source).to_have_class(re.compile(r"\bpqa-active\b"))
    expect(source).to_be_in_viewport()
    assert source.locator("mark").inner_text().strip() == first_sentence.strip()
    assert "File:" in source.inner_text()
    time.sleep(0.8)  # let the smooth scroll and highlight settle for the screenshot
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui-answer.png"))

    if cites.count() > 1:
        cites.nth(1).click()
        expect(page.locator("#src-1-2")).to_have_class(re.compile(r"\bpqa-active\b"))
        expect(source).not_to_have_class(re.compile(r"\bpqa-active\b"))

    # The copy button copies the answer as plain text with its sources, not HTML.
    answer_copy = page.locator("#pqa-chat button[aria-label='Copy message']").nth(1)
    answer_copy.click()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert first_sentence.strip() in copied and "\nSources:\n[1] " in copied and "<" not in copied

    # A follow-up keeps the conversation; an off-topic question abstains with related reading.
    _ask(page, "What is the capital of Australia?", 2)
    last = page.locator(ANSWER_DONE).last
    expect(last).to_contain_text("Not in the documents")
    expect(page.locator("#pqa-sources")).to_contain_text("related reading")
    expect(page.locator("#pqa-sources details.pqa-earlier")).to_have_count(1)

    # Thumbs up on the first answer lands in the feedback file.
    page.locator("#pqa-chat button[aria-label='Like']").first.click()
    path = Path(settings.feedback)
    for _ in range(50):
        if path.exists() and path.read_text(encoding="utf-8").strip():
            break
        time.sleep(0.1)
    record = json.loads(path.read_text(encoding="utf-8").splitlines()[-1])
    assert record["vote"] == "up" and record["question"] == "What chips will Nvidia supply to Korea?"
    assert record["citations"] and record["timestamp"]

    assert page.dialogs == [] and page.foreign == []


def test_a_korean_question_gets_a_cited_english_quote(page, server):
    from playwright.sync_api import expect

    _ask(page, "엔비디아가 한국에 공급하기로 한 첨단 칩은 몇 개입니까?", 1)
    answer = page.locator(ANSWER_DONE).last
    expect(answer).not_to_contain_text("Not in the documents")
    expect(answer).to_contain_text("260,000")
    expect(answer.locator(".pqa-notice")).to_contain_text("영어 원문")  # says, in Korean, the quote is English
    answer.locator("a.pqa-cite").first.click()
    source = page.locator("#src-1-1")
    expect(source).to_have_class(re.compile(r"\bpqa-active\b"))
    quote = source.locator("mark").inner_text()
    assert "260,000" in quote and not re.search(r"[\uac00-\ud7a3]", quote)  # verbatim English source text
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui-korean.png"))
    assert page.dialogs == [] and page.foreign == []


def test_upload_ask_and_remove(page, server, tmp_path):
    from playwright.sync_api import expect

    _, answerer, settings = server
    evil = tmp_path / "Staff Cafeteria.txt"
    evil.write_text(
        "Staff cafeteria <img src=x onerror=alert(1)>\n\n"
        "The staff cafeteria opens at 7:30 and closes at 19:00 on weekdays. "
        "Menus are posted <script>alert(1)</script> every Monday morning.\n",
        encoding="utf-8")
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")

    page.get_by_role("tab", name="Documents").click()
    expect(page.locator("#pqa-docs table.pqa-docs tbody tr")).to_have_count(5)
    page.set_input_files("#pqa-upload input[type=file]", [str(evil), str(empty)])
    page.wait_for_timeout(500)
    page.click("#pqa-add")
    row = page.locator("#pqa-docs tr[data-doc='Staff_Cafeteria.txt']")
    expect(row).to_have_count(1, timeout=60_000)
    expect(row).to_contain_text("Staff cafeteria <img src=x onerror=alert(1)>")  # shown as text
    expect(page.locator("#pqa-status")).to_contain_text("Added")
    expect(page.locator("#pqa-status")).to_contain_text("Rejected")
    expect(page.locator("#pqa-status")).to_contain_text("empty.txt")
    assert (Path(settings.upload_dir) / "Staff_Cafeteria.txt").is_file()
    assert not (Path(settings.upload_dir) / "empty.txt").exists()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "ui-documents.png"))

    page.get_by_role("tab", name="Ask").click()
    _ask(page, "When does the staff cafeteria open?", 1)
    expect(page.locator("#pqa-sources")).to_contain_text("Staff_Cafeteria.txt")
    expect(page.locator("#pqa-sources")).to_contain_text("7:30")
    assert page.locator("#pqa-sources img, #pqa-chat .pqa-answer img, #pqa-docs img").count() == 0
    assert page.locator("#pqa-sources script, #pqa-chat script").count() == 0

    page.get_by_role("tab", name="Documents").click()
    page.locator("#pqa-details").first.click()  # the picker and its buttons, folded away by default
    page.click("#pqa-remove-pick input")
    page.get_by_role("option", name=re.compile("Staff_Cafeteria")).click()
    page.click("#pqa-remove")
    expect(page.locator("#pqa-confirm").first).to_contain_text("Remove")  # asked first
    expect(row).to_have_count(1)
    page.click("#pqa-confirm-yes")
    expect(row).to_have_count(0, timeout=60_000)
    expect(page.locator("#pqa-status")).to_contain_text("Removed")
    assert not (Path(settings.upload_dir) / "Staff_Cafeteria.txt").exists()
    assert "Staff_Cafeteria.txt" not in {d["doc_id"] for d in answerer.retriever.documents()}
    assert page.dialogs == [] and page.foreign == []
