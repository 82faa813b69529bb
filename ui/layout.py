"""The chat page: its layout (`on_building_ui`), its event wiring (`on_register_events`) and `build_app`.

The split follows kotaemon's pages: the layout makes the components and returns them as a
`Page`; the wiring connects them to the `ChatHandlers`; neither knows the other's internals.
"""

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # read when gradio is imported: no network calls

import gradio as gr

from ui.handlers import PAGE_K_MAX, RETRIEVAL_MODES, ChatHandlers
from ui.render import SOURCES_PLACEHOLDER
from ui.storage import FEEDBACK_COLUMNS, UPLOAD_TYPES
from ui.style import CSS, HEAD, theme

EXAMPLES = (
    "What chips will Nvidia supply to Korea?",
    "What is an AI factory?",
    "What would the Seoul R&D center do?",
    "What is physical AI?",
)
CONCURRENCY = 4  # questions answered at once; ingestion runs one at a time


class PartnerQAApp(gr.Blocks):
    """`gr.Blocks` whose `launch()` brings the partnerqa look and limits by default.

    Gradio 6 takes `theme`, `css` and `head` in `launch()`, so `build_app(...).launch()`
    gets them here; explicit arguments still win.
    """

    launch_defaults: ClassVar[dict[str, Any]] = {}

    def launch(self, *args: Any, **kwargs: Any):  # type: ignore[override]
        for key, value in self.launch_defaults.items():
            kwargs.setdefault(key, value)
        return super().launch(*args, **kwargs)


@dataclass(frozen=True)
class Page:
    """The components `on_building_ui` made that `on_register_events` wires."""

    conv: gr.State  # plain-text conversation, for follow-up questions
    turns: gr.State  # one record per answer: feedback and sources
    chat_id: gr.State  # the open conversation's id in the browser's store ("" until its first answer)
    doc_shown: gr.State  # the document whose details the edit fields show ("" for none)
    store: gr.BrowserState  # the conversations, kept in the browser per user
    fb_target: gr.State  # the message the last vote was on, for its comment
    header: gr.HTML
    chatbot: gr.Chatbot
    box: gr.Textbox
    send: gr.Button
    stop: gr.Button
    clear: gr.Button
    chats: gr.Dropdown
    chat_name: gr.Textbox
    rename: gr.Button
    delete: gr.Button
    export: gr.Button
    export_file: gr.File
    fb_panel: gr.Group
    fb_note: gr.HTML
    fb_comment: gr.Textbox
    fb_send: gr.Button
    sources: gr.HTML
    viewer: gr.HTML
    view_req: gr.Textbox
    k_slider: gr.Slider
    mode_radio: gr.Radio
    am_drop: gr.Dropdown
    only_pick: gr.Dropdown
    docs_table: gr.HTML
    row_req: gr.Textbox
    files: gr.File
    add_btn: gr.Button
    remove_pick: gr.Dropdown
    details: gr.Accordion
    d_title: gr.Textbox
    d_publisher: gr.Textbox
    d_date: gr.Textbox
    d_url: gr.Textbox
    save_btn: gr.Button
    remove_btn: gr.Button
    confirm: gr.Group
    confirm_text: gr.HTML
    confirm_yes: gr.Button
    confirm_no: gr.Button
    status: gr.HTML
    fb_tab: gr.Tab
    fb_table: gr.Dataframe
    fb_csv: gr.File
    fb_refresh: gr.Button


def _answer_mode_info(h: ChatHandlers) -> str:
    if len(h.answer_modes) > 1:
        return "extractive quotes the documents; the others write an answer from them"
    return ("Only extractive answers (quoted from the documents) are set up. A generative mode needs "
            "PARTNERQA_LLM_BASE_URL + PARTNERQA_LLM_MODEL or PARTNERQA_GGUF.")


def on_building_ui(h: ChatHandlers, settings: Any) -> Page:
    """Make the page's components (inside an open `gr.Blocks`): the Ask, Documents and Feedback tabs."""
    conv = gr.State([])
    turns = gr.State([])
    chat_id = gr.State("")
    doc_shown = gr.State("")
    fb_target = gr.State(None)
    store = gr.BrowserState({"users": {}}, storage_key="partnerqa-chats", secret=browser_secret(settings))
    header = gr.HTML(h.header_html(), elem_id="pqa-header")
    with gr.Tabs():
        with gr.Tab("Ask", id="ask"), gr.Row(equal_height=False, elem_id="pqa-ask-row"):
            with gr.Column(scale=7, min_width=300):
                with gr.Accordion("Chats: past conversations, rename, delete, export", open=False,
                                  elem_id="pqa-chats-acc"):
                    chats = gr.Dropdown(choices=[], value=None, label="Past chats (kept in this browser)",
                                        elem_id="pqa-chats")
                    with gr.Row():
                        chat_name = gr.Textbox(label="Name of this chat", max_lines=1, scale=3,
                                               elem_id="pqa-chat-name")
                        rename = gr.Button("Rename", scale=1, min_width=90, elem_id="pqa-rename")
                    with gr.Row():
                        export = gr.Button("Export as Markdown", min_width=120, elem_id="pqa-export")
                        delete = gr.Button("Delete this chat", variant="stop", min_width=120, elem_id="pqa-delete")
                    export_file = gr.File(label="Exported chat", visible=False, elem_id="pqa-export-file",
                                          interactive=False)
                chatbot = gr.Chatbot(
                    elem_id="pqa-chat", show_label=False, height=520, render_markdown=False,
                    sanitize_html=True, buttons=["copy"], layout="bubble",
                    feedback_options=("Like", "Dislike"), autoscroll=True,
                    examples=[{"text": q} for q in EXAMPLES],
                    placeholder=("<div class='pqa-empty'><div class='pqa-empty-title'>Ask about the "
                                 "Korea–Nvidia partnership</div><p>Answers are built only from the indexed "
                                 "documents. Pick an example or type a question below.</p></div>"),
                )
                with gr.Group(visible=False, elem_id="pqa-fb") as fb_panel:
                    fb_note = gr.HTML("", elem_id="pqa-fb-note")
                    with gr.Row():
                        fb_comment = gr.Textbox(show_label=False, placeholder="What was good or wrong? (optional)",
                                                max_lines=3, scale=4, elem_id="pqa-fb-comment")
                        fb_send = gr.Button("Send comment", scale=1, min_width=110, elem_id="pqa-fb-send")
                with gr.Row(elem_id="pqa-input-row"):
                    box = gr.Textbox(elem_id="pqa-input", show_label=False, scale=8, lines=1, max_lines=4,
                                     placeholder="Ask a question, e.g. What chips will Nvidia supply?",
                                     autofocus=True, submit_btn=False)
                    send = gr.Button("Ask", variant="primary", scale=1, min_width=70, elem_id="pqa-send")
                    stop = gr.Button("Stop", variant="stop", scale=1, min_width=70, elem_id="pqa-stop",
                                     visible=False)
                    clear = gr.Button("New chat", variant="secondary", scale=1, min_width=100, elem_id="pqa-new")
            with gr.Column(scale=5, min_width=300):
                with gr.Accordion("Answer settings", open=False, elem_id="pqa-settings"):
                    k_slider = gr.Slider(1, PAGE_K_MAX, value=min(max(h.default_k, 1), PAGE_K_MAX), step=1,
                                         label="Passages to search", info=f"1 to {PAGE_K_MAX}",
                                         elem_id="pqa-k")
                    mode_radio = gr.Radio(list(RETRIEVAL_MODES), value=settings.mode, label="Retrieval",
                                          info="hybrid = meaning + keywords", elem_id="pqa-mode")
                    am_drop = gr.Dropdown(h.answer_modes, value=h.default_answer_mode, label="Answer mode",
                                          info=_answer_mode_info(h), interactive=len(h.answer_modes) > 1,
                                          elem_id="pqa-answer-mode")
                    only_pick = gr.Dropdown(h.doc_choices(), value=[], multiselect=True,
                                            label="Ask only these documents",
                                            info="empty = all documents (the command line's --doc)",
                                            elem_id="pqa-only")
                viewer = gr.HTML("", elem_id="pqa-viewer")
                view_req = gr.Textbox(visible="hidden", elem_id="pqa-view-req", show_label=False)
                sources = gr.HTML(SOURCES_PLACEHOLDER, elem_id="pqa-sources")
        with gr.Tab("Documents", id="docs"):
            gr.Textbox(show_label=False, placeholder="Search documents by title, publisher or file name",
                       elem_id="pqa-doc-search", max_lines=1)
            docs_table = gr.HTML(h.documents_html(), elem_id="pqa-docs")
            row_req = gr.Textbox(visible="hidden", elem_id="pqa-row-req", show_label=False)
            status = gr.HTML("", elem_id="pqa-status")
            with gr.Accordion("Selected document: details and removal", open=False, elem_id="pqa-details") as details:
                remove_pick = gr.Dropdown(choices=h.doc_choices(), value=None, label="Document",
                                          elem_id="pqa-remove-pick")
                with gr.Row():
                    d_title = gr.Textbox(label="Title", max_lines=1, elem_id="pqa-d-title", min_width=200)
                    d_publisher = gr.Textbox(label="Publisher", max_lines=1, elem_id="pqa-d-publisher",
                                             min_width=200)
                with gr.Row():
                    d_date = gr.Textbox(label="Date", max_lines=1, placeholder="2025-10-29", elem_id="pqa-d-date",
                                        min_width=200)
                    d_url = gr.Textbox(label="URL", max_lines=1, placeholder="https://…", elem_id="pqa-d-url",
                                       min_width=200)
                with gr.Row():
                    save_btn = gr.Button("Save details", variant="primary", elem_id="pqa-save", min_width=120)
                    remove_btn = gr.Button("Remove from index…", variant="stop", elem_id="pqa-remove", min_width=120)
                with gr.Group(visible=False, elem_id="pqa-confirm") as confirm:
                    confirm_text = gr.HTML("")
                    with gr.Row():
                        confirm_yes = gr.Button("Yes, remove it", variant="stop", elem_id="pqa-confirm-yes",
                                                min_width=120)
                        confirm_no = gr.Button("Cancel", elem_id="pqa-confirm-no", min_width=120)
            with gr.Group(elem_id="pqa-upload-group"):
                files = gr.File(label="Upload PDF, TXT, MD, HTML or DOCX (a file of the same name replaces it)",
                                file_count="multiple", file_types=list(UPLOAD_TYPES), type="filepath",
                                elem_id="pqa-upload", height=120)
                add_btn = gr.Button("Add to index", variant="primary", elem_id="pqa-add")
        with gr.Tab("Feedback", id="feedback", visible=h.can_see_feedback(None)) as fb_tab:
            gr.Markdown("Votes and comments on answers, newest first.")
            fb_table = gr.Dataframe(headers=list(FEEDBACK_COLUMNS), value=[], interactive=False, wrap=True,
                                    elem_id="pqa-fb-table", max_height=520)
            with gr.Row():
                fb_refresh = gr.Button("Refresh", elem_id="pqa-fb-refresh", min_width=100)
                fb_csv = gr.File(label="CSV export", interactive=False, elem_id="pqa-fb-csv")
    return Page(conv=conv, turns=turns, chat_id=chat_id, store=store, fb_target=fb_target, header=header,
                chatbot=chatbot, box=box, send=send, stop=stop, clear=clear, chats=chats, chat_name=chat_name,
                rename=rename, delete=delete, export=export, export_file=export_file, fb_panel=fb_panel,
                fb_note=fb_note, fb_comment=fb_comment, fb_send=fb_send, sources=sources, viewer=viewer,
                view_req=view_req, k_slider=k_slider, mode_radio=mode_radio, am_drop=am_drop, only_pick=only_pick,
                docs_table=docs_table,
                row_req=row_req, doc_shown=doc_shown, files=files, add_btn=add_btn, remove_pick=remove_pick,
                details=details,
                d_title=d_title, d_publisher=d_publisher, d_date=d_date, d_url=d_url, save_btn=save_btn,
                remove_btn=remove_btn, confirm=confirm, confirm_text=confirm_text, confirm_yes=confirm_yes,
                confirm_no=confirm_no, status=status, fb_tab=fb_tab, fb_table=fb_table, fb_csv=fb_csv,
                fb_refresh=fb_refresh)


def browser_secret(settings: Any) -> str:
    """The key the browser's copy of the chats is encrypted with: one per installation, kept beside
    the feedback file, so chats survive a server restart (a new random key would orphan them)."""
    import secrets

    path = Path(settings.feedback).parent / ".partnerqa-browser-key"
    try:
        key = path.read_text(encoding="utf-8").strip()
        if len(key) >= 32:
            return key
    except OSError:
        pass
    key = secrets.token_hex(24)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(key, encoding="utf-8")
        path.chmod(0o600)
    except OSError:  # a read-only folder: chats last until the server restarts
        pass
    return key


def on_register_events(demo: gr.Blocks, h: ChatHandlers, p: Page) -> None:
    """Wire the page's events to the handlers (inside the open `demo`), and expose the `ask` API."""
    chat_in = [p.box, p.chatbot, p.conv, p.turns, p.k_slider, p.mode_radio, p.am_drop, p.only_pick]
    chat_out = [p.box, p.chatbot, p.conv, p.turns, p.sources]
    private: dict[str, Any] = {"api_visibility": "private"}  # the page's own events; scripts use `ask`
    save = ([p.store, p.chat_id, p.chatbot, p.conv, p.turns], [p.store, p.chat_id, p.chats])
    busy = ({"fn": lambda: (gr.update(visible=False), gr.update(visible=True)), "inputs": None,
             "outputs": [p.send, p.stop], "queue": False, **private})
    idle = ({"fn": lambda: (gr.update(visible=True), gr.update(visible=False)), "inputs": None,
             "outputs": [p.send, p.stop], "queue": False, **private})

    def answering(trigger: Any, fn: Any, inputs: list) -> Any:
        ev = trigger(**busy).then(fn, inputs, chat_out, show_progress="hidden", **private)
        ev.then(**idle).then(h.save_chat, *save, queue=False, **private)
        return ev

    asks = [answering(p.box.submit, h.respond, chat_in), answering(p.send.click, h.respond, chat_in)]
    asks.append(p.chatbot.example_select(h.pick_example, None, p.box, queue=False, **private).then(**busy).then(
        h.respond, chat_in, chat_out, show_progress="hidden", **private))
    asks[-1].then(**idle).then(h.save_chat, *save, queue=False, **private)
    asks.append(answering(p.chatbot.retry, h.retry, chat_in[1:]))
    p.stop.click(h.stopped, [p.chatbot], [p.chatbot], cancels=asks, queue=False, **private).then(**idle)
    p.chatbot.undo(h.edit_last, [p.chatbot, p.conv, p.turns], [p.box, p.chatbot, p.conv, p.turns, p.sources],
                   queue=False, **private).then(h.save_chat, *save, queue=False, **private)
    fresh = [p.chatbot, p.conv, p.turns, p.sources, p.box, p.chat_id, p.fb_panel]
    for event in (p.clear.click, p.chatbot.clear):
        event(h.new_chat, None, fresh, queue=False, **private).then(
            lambda: (gr.update(value=None), ""), None, [p.chats, p.chat_name], queue=False, **private)
    p.chats.input(h.open_chat, [p.store, p.chats, p.chat_id],
                  [p.chatbot, p.conv, p.turns, p.sources, p.chat_id, p.chat_name], queue=False, **private)
    for event in (p.rename.click, p.chat_name.submit):  # the button, or Enter in the name box
        event(h.rename_chat, [p.store, p.chat_id, p.chat_name], [p.store, p.chats], queue=False, **private)
    p.delete.click(h.delete_chat, [p.store, p.chat_id], [p.store, p.chats, *fresh], queue=False, **private)
    p.export.click(h.export_chat, [p.store, p.chat_id, p.turns], p.export_file, queue=False, **private).then(
        lambda: gr.update(visible=True), None, p.export_file, queue=False, **private)
    p.chatbot.like(h.on_like, [p.turns], [p.fb_panel, p.fb_note, p.fb_comment, p.fb_target], queue=False, **private)
    for event in (p.fb_send.click, p.fb_comment.submit):
        event(h.send_comment, [p.turns, p.fb_target, p.fb_comment], [p.fb_note, p.fb_comment], queue=False,
              **private)
    p.view_req.change(h.open_view, [p.view_req], [p.viewer], queue=False, **private)

    index_write: dict[str, Any] = {"concurrency_limit": 1, "concurrency_id": "index-write", **private}
    details = [p.d_title, p.d_publisher, p.d_date, p.d_url]
    # After the index changed: the "Ask only" picker lists its documents, and the next pick (or blur) of the
    # document picker reads the details afresh.
    refreshed = ({"fn": lambda picked: (h.only_choices(picked), ""), "inputs": [p.only_pick],
                  "outputs": [p.only_pick, p.doc_shown], "queue": False, **private})
    p.add_btn.click(h.add_files, [p.files], [p.status, p.docs_table, p.remove_pick, p.header, p.files],
                    **index_write).then(**refreshed)
    p.remove_pick.input(h.pick_doc, [p.remove_pick, p.doc_shown], [*details, p.confirm, p.doc_shown], queue=False,
                        **private)
    p.row_req.change(h.row_action, [p.row_req],
                     [p.remove_pick, *details, p.confirm, p.confirm_text, p.details, p.doc_shown],
                     queue=False, **private)
    p.remove_btn.click(h.ask_remove, [p.remove_pick], [p.confirm, p.confirm_text, p.status], queue=False, **private)
    p.confirm_no.click(lambda: gr.update(visible=False), None, p.confirm, queue=False, **private)
    p.confirm_yes.click(h.remove_doc, [p.remove_pick], [p.status, p.docs_table, p.remove_pick, p.header, p.confirm],
                        **index_write).then(**refreshed)
    p.save_btn.click(h.save_details, [p.remove_pick, *details], [p.status, p.docs_table, p.remove_pick, p.header],
                     **index_write).then(**refreshed)
    p.fb_refresh.click(h.feedback_view, None, [p.fb_table, p.fb_csv, p.fb_tab], queue=False, **private)
    demo.load(h.on_load, None, [p.header, p.docs_table, p.remove_pick, p.only_pick], queue=False, **private)
    demo.load(h.restore, [p.store], [p.chats, p.chatbot, p.conv, p.turns, p.sources, p.chat_id, p.chat_name],
              queue=False, **private)
    demo.load(h.feedback_view, None, [p.fb_table, p.fb_csv, p.fb_tab], queue=False, **private)
    gr.api(h.ask, api_name="ask")


def build_app(answerer: Any, settings: Any) -> gr.Blocks:
    """The chat page over a loaded `rag.Answerer`.

    Args:
        answerer: A loaded Answerer (its `retriever` and `embedder` also serve the documents
            panel and uploads, so the model is in memory once).
        settings: The `Settings`: upload_dir, feedback, max_file_mb, k, mode, answer_mode.

    Returns:
        The page, with its queue set up (`CONCURRENCY` questions at once, one index change at
        a time) and one public API endpoint, `ask`. Call `.launch()` on it.
    """
    h = ChatHandlers(answerer, settings)
    with PartnerQAApp(title="partnerqa — answers with sources", analytics_enabled=False) as demo:
        page = on_building_ui(h, settings)
        on_register_events(demo, h, page)
    demo.queue(default_concurrency_limit=CONCURRENCY)
    demo.launch_defaults = {
        "theme": theme(), "css": CSS, "head": HEAD, "ssr_mode": False, "footer_links": ["api"],
        "max_file_size": int(float(settings.max_file_mb) * 1024 * 1024), "show_error": False,
    }
    return demo
