"""The Gradio chat staff use every day: streamed answers whose every sentence links to its source.

`build_app(answerer, settings)` returns the page; `serve(settings)` builds the index from
`seeds/` when none exists, loads the model and the index once, and serves the page.

This module is the chat's public face; the work is in rooms of its own:

- `ui.render`: the HTML, pure functions of an `Answer` (every piece of document text escaped);
- `ui.storage`: file I/O: uploads copied under safe names, the feedback file;
- `ui.handlers`: `ChatHandlers`, the page's event handlers over one loaded Answerer;
- `ui.style`: the CSS, the <head> script and the theme;
- `ui.layout`: the components (`on_building_ui`), their wiring (`on_register_events`), `build_app`;
- `ui.server`: `serve`, password auth and the loopback check.
"""

from ui.handlers import RETRIEVAL_MODES, ChatHandlers
from ui.layout import CONCURRENCY, EXAMPLES, Page, PartnerQAApp, build_app, on_building_ui, on_register_events
from ui.render import (
    CONTEXT_CHARS,
    RELATED_CHARS,
    SOURCES_PLACEHOLDER,
    answer_html,
    answer_plain_text,
    documents_html,
    esc,
    message_html,
    passage_html,
    question_html,
    report_html,
    source_id,
    sources_html,
    sources_panel,
    streaming_html,
)
from ui.server import is_loopback, parse_auth, serve
from ui.storage import (
    MAX_NAME_CHARS,
    UPLOAD_TYPES,
    append_feedback,
    feedback_record,
    replace_upload,
    safe_filename,
    unique_name,
    vote_of,
)
from ui.style import CSS, HEAD

__all__ = [
    "CONCURRENCY",
    "CONTEXT_CHARS",
    "CSS",
    "EXAMPLES",
    "HEAD",
    "MAX_NAME_CHARS",
    "RELATED_CHARS",
    "RETRIEVAL_MODES",
    "SOURCES_PLACEHOLDER",
    "UPLOAD_TYPES",
    "ChatHandlers",
    "Page",
    "PartnerQAApp",
    "answer_html",
    "answer_plain_text",
    "append_feedback",
    "build_app",
    "documents_html",
    "esc",
    "feedback_record",
    "is_loopback",
    "message_html",
    "on_building_ui",
    "on_register_events",
    "parse_auth",
    "passage_html",
    "question_html",
    "replace_upload",
    "report_html",
    "safe_filename",
    "serve",
    "source_id",
    "sources_html",
    "sources_panel",
    "streaming_html",
    "unique_name",
    "vote_of",
]
