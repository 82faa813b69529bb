"""The chat page: its layout (`on_building_ui`), its event wiring (`on_register_events`) and `build_app`.

The split follows kotaemon's pages: the layout makes the components and returns them as a
`Page`; the wiring connects them to the `ChatHandlers`; neither knows the other's internals.
"""

import os
from dataclasses import dataclass
from typing import Any, ClassVar

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # read when gradio is imported: no network calls

import gradio as gr

from ui.handlers import RETRIEVAL_MODES, ChatHandlers
from ui.render import SOURCES_PLACEHOLDER
from ui.storage import UPLOAD_TYPES
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
    header: gr.HTML
    chatbot: gr.Chatbot
    box: gr.Textbox
    send: gr.Button
    clear: gr.Button
    sources: gr.HTML
    k_slider: gr.Slider
    mode_radio: gr.Radio
    am_drop: gr.Dropdown
    docs_table: gr.HTML
    files: gr.File
    add_btn: gr.Button
    remove_pick: gr.Dropdown
    remove_btn: gr.Button
    status: gr.HTML


def on_building_ui(h: ChatHandlers, settings: Any) -> Page:
    """Make the page's components (inside an open `gr.Blocks`): the Ask and Documents tabs."""
    conv = gr.State([])  # plain-text conversation, for follow-up questions
    turns = gr.State([])  # one record per answer: feedback and sources
    header = gr.HTML(h.header_html(), elem_id="pqa-header")
    with gr.Tabs():
        with gr.Tab("Ask", id="ask"), gr.Row(equal_height=False):
            with gr.Column(scale=7, min_width=420):
                chatbot = gr.Chatbot(
                    elem_id="pqa-chat", show_label=False, height=560, render_markdown=False,
                    sanitize_html=True, buttons=["copy"], layout="bubble",
                    feedback_options=("Like", "Dislike"), autoscroll=True,
                    examples=[{"text": q} for q in EXAMPLES],
                    placeholder=("<div class='pqa-empty'><div class='pqa-empty-title'>Ask about the "
                                 "Korea–Nvidia partnership</div><p>Answers are built only from the indexed "
                                 "documents. Pick an example or type a question below.</p></div>"),
                )
                with gr.Row():
                    box = gr.Textbox(elem_id="pqa-input", show_label=False, scale=8, lines=1, max_lines=4,
                                     placeholder="Ask a question, e.g. What chips will Nvidia supply?",
                                     autofocus=True, submit_btn=False)
                    send = gr.Button("Ask", variant="primary", scale=1, min_width=80, elem_id="pqa-send")
                    clear = gr.Button("New chat", variant="secondary", scale=1, min_width=110, elem_id="pqa-new")
            with gr.Column(scale=5, min_width=320):
                sources = gr.HTML(SOURCES_PLACEHOLDER, elem_id="pqa-sources")
                with gr.Accordion("Answer settings", open=False):
                    k_slider = gr.Slider(1, 20, value=min(max(h.default_k, 1), 20), step=1,
                                         label="Passages to search", elem_id="pqa-k")
                    mode_radio = gr.Radio(list(RETRIEVAL_MODES), value=settings.mode, label="Retrieval",
                                          info="hybrid = meaning + keywords", elem_id="pqa-mode")
                    am_drop = gr.Dropdown(h.answer_modes, value=h.default_answer_mode, label="Answer mode",
                                          interactive=len(h.answer_modes) > 1, elem_id="pqa-answer-mode")
        with gr.Tab("Documents", id="docs"):
            docs_table = gr.HTML(h.documents_html(), elem_id="pqa-docs")
            with gr.Row(equal_height=False):
                with gr.Column(scale=3):
                    files = gr.File(label="Upload PDF, TXT, MD, HTML or DOCX", file_count="multiple",
                                    file_types=list(UPLOAD_TYPES), type="filepath", elem_id="pqa-upload",
                                    height=140)
                    add_btn = gr.Button("Add to index", variant="primary", elem_id="pqa-add")
                with gr.Column(scale=2):
                    remove_pick = gr.Dropdown(choices=h.doc_choices(), value=None, label="Remove a document",
                                              elem_id="pqa-remove-pick")
                    remove_btn = gr.Button("Remove from index", variant="stop", elem_id="pqa-remove")
            status = gr.HTML("", elem_id="pqa-status")
    return Page(conv=conv, turns=turns, header=header, chatbot=chatbot, box=box, send=send, clear=clear,
                sources=sources, k_slider=k_slider, mode_radio=mode_radio, am_drop=am_drop, docs_table=docs_table,
                files=files, add_btn=add_btn, remove_pick=remove_pick, remove_btn=remove_btn, status=status)


def on_register_events(demo: gr.Blocks, h: ChatHandlers, p: Page) -> None:
    """Wire the page's events to the handlers (inside the open `demo`), and expose the `ask` API."""
    chat_in = [p.box, p.chatbot, p.conv, p.turns, p.k_slider, p.mode_radio, p.am_drop]
    chat_out = [p.box, p.chatbot, p.conv, p.turns, p.sources]
    private: dict[str, Any] = {"api_visibility": "private"}  # the page's own events; scripts use `ask`
    p.box.submit(h.respond, chat_in, chat_out, show_progress="hidden", **private)
    p.send.click(h.respond, chat_in, chat_out, show_progress="hidden", **private)
    p.chatbot.example_select(h.pick_example, None, p.box, queue=False, **private).then(
        h.respond, chat_in, chat_out, show_progress="hidden", **private)
    for event in (p.clear.click, p.chatbot.clear):
        event(h.new_chat, None, [p.chatbot, p.conv, p.turns, p.sources, p.box], queue=False, **private)
    p.chatbot.like(h.on_like, [p.turns], None, queue=False, **private)
    index_write: dict[str, Any] = {"concurrency_limit": 1, "concurrency_id": "index-write", **private}
    p.add_btn.click(h.add_files, [p.files], [p.status, p.docs_table, p.remove_pick, p.header, p.files], **index_write)
    p.remove_btn.click(h.remove_doc, [p.remove_pick], [p.status, p.docs_table, p.remove_pick, p.header], **index_write)
    demo.load(h.on_load, None, [p.header, p.docs_table, p.remove_pick], queue=False, **private)
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
