"""The chat page's event handlers: answering, feedback and the documents panel, over one Answerer."""

import logging
import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # read when gradio is imported: no network calls

import gradio as gr

from ui.render import (
    SOURCES_PLACEHOLDER,
    answer_html,
    chat_markdown,
    document_view_html,
    documents_html,
    esc,
    message_html,
    question_html,
    report_html,
    sources_html,
    sources_panel,
    streaming_html,
)
from ui.storage import (
    append_feedback,
    discard_gradio_upload,
    drop_backup,
    feedback_csv,
    feedback_record,
    feedback_rows,
    read_feedback,
    replace_upload,
    restore_upload,
    safe_filename,
    vote_of,
)

log = logging.getLogger(__name__)

RETRIEVAL_MODES = ("hybrid", "dense", "keyword")
PAGE_K_MAX = 20  # the page's "Passages to search" slider; the `ask` API allows up to 50
API_K_MAX = 50
MAX_QUESTION_CHARS = 2000  # a longer question is refused with this limit named
MAX_CHATS = 30  # conversations kept in the browser per user (the oldest go first)


class OnlyDocs:
    """A retriever that searches only `doc_ids` (the CLI's `--doc`), for one question.

    Every `search`/`search_batch` gets a `doc_id` filter; a filter the caller passes (a scope
    the question names) is narrowed to these documents. Everything else is the wrapped retriever's.
    """

    def __init__(self, retriever: Any, doc_ids: list[str]) -> None:
        self._inner = retriever
        self._ids = list(doc_ids)

    def _filters(self, filters: Mapping[str, Any] | None) -> dict[str, Any]:
        out = dict(filters or {})
        want = out.get("doc_id")
        if want is not None:
            want = [want] if isinstance(want, str) else list(want)
            out["doc_id"] = [d for d in want if d in self._ids]
        else:
            out["doc_id"] = list(self._ids)
        return out

    def search(self, query: str, k: int | None = None, *, mode: str | None = None,
               filters: Mapping[str, Any] | None = None) -> list:
        return self._inner.search(query, k, mode=mode, filters=self._filters(filters))

    def search_batch(self, queries: Any, k: int | None = None, *, mode: str | None = None,
                     filters: Mapping[str, Any] | None = None) -> list:
        return self._inner.search_batch(queries, k, mode=mode, filters=self._filters(filters))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


class ChatHandlers:
    """The page's event handlers over one loaded Answerer; `build_app` wires them to components.

    Args:
        answerer: A loaded `rag.Answerer`: `stream`, `answer`, `retriever` (documents,
            document_text, refresh) and `embedder` (reused for uploads: one model in memory).
        settings: The `Settings`: upload_dir, feedback, mode, answer_mode, k.
    """

    def __init__(self, answerer: Any, settings: Any) -> None:
        self.answerer = answerer
        self.settings = settings
        self.retriever = answerer.retriever
        self.upload_dir = Path(settings.upload_dir)
        self.feedback_path = Path(settings.feedback)
        self._ingestor: Any = None
        self._scratch: Path | None = None
        try:
            modes = list(answerer.available_answer_modes()) or ["extractive"]
        except Exception as e:  # noqa: BLE001 -- a missing optional module must not keep the page from starting
            log.warning("answer modes unavailable (%s); offering extractive only", e)
            modes = ["extractive"]
        self.answer_modes = modes
        self.default_answer_mode = settings.answer_mode if settings.answer_mode in modes else modes[0]
        self.default_k = int(getattr(answerer, "k", None) or settings.k)

    # -- helpers -----------------------------------------------------------------------------
    def scratch(self) -> Path:
        """One temporary folder per page for the files it offers to download (exports, CSV)."""
        if self._scratch is None:
            import tempfile

            self._scratch = Path(tempfile.mkdtemp(prefix="partnerqa-ui-"))
        return self._scratch

    def ingestor(self) -> Any:
        if self._ingestor is None:
            from ingest.pipeline import Ingestor

            embedder = getattr(self.answerer, "embedder", None) or self.retriever.embedder
            self._ingestor = Ingestor.from_settings(self.settings, embedder=embedder)
        return self._ingestor

    def header_html(self) -> str:
        docs = self.retriever.documents()
        n_chunks = sum(int(d.get("chunks") or 0) for d in docs)
        return ('<div class="pqa-brand"><h1>partnerqa</h1><span class="pqa-tagline">Answers from the Korea–Nvidia '
                "partnership documents, every sentence linked to its source</span>"
                f'<span class="pqa-stats">{len(docs)} documents · {n_chunks} passages</span></div>')

    def documents_html(self) -> str:
        return documents_html(self.retriever.documents())

    def doc_choices(self) -> list[tuple[str, str]]:
        return [(f"{d.get('title') or d['doc_id']}  ({d['doc_id']})", d["doc_id"]) for d in self.retriever.documents()]

    def check(self, k: Any, mode: Any, answer_mode: Any, k_max: int = API_K_MAX
              ) -> tuple[int | None, str | None, str | None]:
        """Per-call overrides, checked: (k or None, mode or None, answer_mode or None)."""
        try:
            k_val = None if k in (None, "", 0) else int(k)
        except (TypeError, ValueError):
            raise gr.Error(f"k must be a whole number, got {k!r}") from None
        if k_val is not None and not 1 <= k_val <= k_max:
            raise gr.Error(f"Passages to search (k) must be between 1 and {k_max}, got {k_val}")
        mode = mode or None
        if mode is not None and mode not in RETRIEVAL_MODES:
            raise gr.Error(f"mode must be one of {', '.join(RETRIEVAL_MODES)}, got {mode!r}")
        answer_mode = answer_mode or None
        if answer_mode is not None and answer_mode not in self.answer_modes:
            raise gr.Error(f"answer mode must be one of {', '.join(self.answer_modes)}, got {answer_mode!r}")
        return k_val, mode, answer_mode

    # -- chat --------------------------------------------------------------------------------
    def answerer_for(self, only: Any) -> Any:
        """The Answerer, or a copy of it that searches only the documents in `only` (ids in the index)."""
        ids = [d for d in (only or []) if isinstance(d, str)]
        if not ids:
            return self.answerer
        known = {d["doc_id"] for d in self.retriever.documents()}
        gone = [d for d in ids if d not in known]
        if gone:
            raise gr.Error(f"Not in the index any more: {', '.join(gone)}. Update 'Ask only these documents'.")
        import copy

        scoped = copy.copy(self.answerer)  # shares the models; only its retriever differs
        scoped.retriever = OnlyDocs(self.answerer.retriever, ids)
        return scoped

    def respond(self, message: str, chat: list | None, conv: list | None, turns: list | None, k: Any = None,
                mode: Any = None, answer_mode: Any = None, only: Any = None) -> Iterator[tuple]:
        """Stream one answer into the chat. Yields (textbox, chat, conversation, turns, sources).

        `conv` is the plain-text conversation passed to `Answerer.stream` so follow-ups
        work; `turns` holds one record per answer (for feedback and the sources panel).
        """
        skip = gr.skip()
        question = (message or "").strip()
        if not question:
            yield skip, skip, skip, skip, skip
            return
        if len(question) > MAX_QUESTION_CHARS:
            raise gr.Error(f"Questions are limited to {MAX_QUESTION_CHARS:,} characters; this one has "
                           f"{len(question):,}. Shorten it and ask again.")
        k_val, mode_val, am = self.check(k, mode, answer_mode, PAGE_K_MAX)
        answerer = self.answerer_for(only)
        chat, conv, turns = list(chat or []), list(conv or []), list(turns or [])
        turn_no = len(turns) + 1
        chat.append({"role": "user", "content": question_html(question)})
        chat.append({"role": "assistant", "content": streaming_html("")})
        yield "", list(chat), skip, skip, skip
        text, final = "", None
        try:
            for event in answerer.stream(question, conv, k=k_val, mode=mode_val, answer_mode=am):
                if event.delta:
                    text += event.delta
                    chat[-1] = {"role": "assistant", "content": streaming_html(text)}
                    yield skip, list(chat), skip, skip, skip
                if event.answer is not None:
                    final = event.answer
        except Exception as e:  # shown in the chat; the page keeps working
            from ingest.errors import PartnerQAError

            if not isinstance(e, PartnerQAError):
                log.exception("answering %r failed", question)
            why = str(e) if isinstance(e, PartnerQAError) else "an internal error (details are in the server log)"
            chat[-1] = {"role": "assistant", "content": message_html(f"Could not answer: {why}", "error")}
            yield skip, list(chat), skip, skip, skip
            return
        if final is None:
            chat[-1] = {"role": "assistant", "content": message_html("Could not answer: no answer came back.", "error")}
            yield skip, list(chat), skip, skip, skip
            return
        chat[-1] = {"role": "assistant", "content": answer_html(final, turn_no)}
        conv += [{"role": "user", "content": question}, {"role": "assistant", "content": final.text}]
        turns.append({
            "turn": turn_no, "msg_index": len(chat) - 1, "question": question, "answer": final.text,
            "citations": [c.to_dict() for c in final.citations], "abstained": bool(final.abstained),
            "mode": final.mode, "k": k_val or self.default_k, "retrieval_mode": mode_val or self.settings.mode,
            "sources_html": sources_html(final, self.retriever.document_text, turn_no),
        })
        yield skip, chat, conv, turns, sources_panel([t["sources_html"] for t in turns])

    def new_chat(self) -> tuple:
        """Outputs: chatbot, conversation, turns, sources, textbox, chat id, feedback panel."""
        return [], [], [], SOURCES_PLACEHOLDER, "", "", gr.update(visible=False)

    def stopped(self, chat: list | None) -> list:
        """After Stop: the half-streamed answer is marked as stopped (nothing is saved for it)."""
        chat = list(chat or [])
        if chat and chat[-1].get("role") == "assistant" and "pqa-pending" in str(chat[-1].get("content", "")):
            chat[-1] = {"role": "assistant", "content": message_html("Stopped.", "info")}
        return chat

    def take_back(self, chat: list | None, conv: list | None, turns: list | None) -> tuple[list, list, list, str]:
        """The last question and its answer taken out of the chat: (chat, conv, turns, that question)."""
        chat, conv, turns = list(chat or []), list(conv or []), list(turns or [])
        last_user = max((i for i, m in enumerate(chat) if m.get("role") == "user"), default=None)
        if last_user is None:
            return chat, conv, turns, ""
        if turns and turns[-1].get("msg_index", -1) > last_user:
            question = str(turns.pop().get("question", ""))
            conv = conv[:-2]
        else:  # the answer failed or was stopped: nothing was recorded for it
            import html as _html
            import re as _re

            question = _html.unescape(_re.sub(r"<br>", "\n", _re.sub(r"<(?!br>)[^>]+>", "", str(
                chat[last_user].get("content", "")))))
        return chat[:last_user], conv, turns, question

    def edit_last(self, chat: list | None, conv: list | None, turns: list | None) -> tuple:
        """Undo: the last question goes back into the box to be edited. Outputs: box, chat, conv, turns, sources."""
        chat, conv, turns, question = self.take_back(chat, conv, turns)
        return question, chat, conv, turns, sources_panel([t["sources_html"] for t in turns])

    def retry(self, chat: list | None, conv: list | None, turns: list | None, k: Any = None, mode: Any = None,
              answer_mode: Any = None, only: Any = None) -> Iterator[tuple]:
        """Ask the last question again (same outputs as `respond`)."""
        chat, conv, turns, question = self.take_back(chat, conv, turns)
        yield from self.respond(question, chat, conv, turns, k, mode, answer_mode, only)

    # -- conversations kept in the browser ----------------------------------------------------
    @staticmethod
    def user_of(request: gr.Request | None) -> str:
        return str(getattr(request, "username", None) or "")

    @staticmethod
    def _chats(store: Any, user: str) -> list[dict]:
        users = store.get("users") if isinstance(store, dict) else None
        chats = (users or {}).get(user) if isinstance(users, dict) else None
        return [c for c in chats if isinstance(c, dict) and c.get("id")] if isinstance(chats, list) else []

    @staticmethod
    def _with_chats(store: Any, user: str, chats: list[dict]) -> dict:
        users = dict(store.get("users") or {}) if isinstance(store, dict) else {}
        users[user] = chats[-MAX_CHATS:]
        return {"users": users}

    @staticmethod
    def chat_choices(chats: list[dict]) -> list[tuple[str, str]]:
        return [(f"{c.get('title') or 'Chat'}  ·  {str(c.get('updated', ''))[:16].replace('T', ' ')}", c["id"])
                for c in reversed(chats)]

    def save_chat(self, store: Any, chat_id: str, chat: list | None, conv: list | None, turns: list | None,
                  request: gr.Request) -> tuple:
        """Keep the conversation in the browser (per user). Outputs: store, chat id, chats list."""
        if not turns:
            return gr.skip(), gr.skip(), gr.skip()
        from datetime import UTC, datetime
        from uuid import uuid4

        user = self.user_of(request)
        chats = self._chats(store, user)
        now = datetime.now(UTC).isoformat(timespec="seconds")
        old = next((c for c in chats if c["id"] == chat_id), None)
        chat_id = chat_id or uuid4().hex[:12]
        record = {"id": chat_id, "title": (old or {}).get("title") or _title_of(turns[0].get("question", "")),
                  "created": (old or {}).get("created") or now, "updated": now,
                  "chat": list(chat or []), "conv": list(conv or []), "turns": list(turns)}
        chats = [c for c in chats if c["id"] != chat_id] + [record]
        store = self._with_chats(store, user, chats)
        chats = self._chats(store, user)
        return store, chat_id, gr.update(choices=self.chat_choices(chats), value=chat_id)

    def open_chat(self, store: Any, chat_id: str | None, current: str | None, request: gr.Request) -> tuple:
        """Outputs: chatbot, conversation, turns, sources, chat id, rename box.

        The list fires on every blur, even when nothing was picked: the chat already open (`current`) is left
        alone, so an answer being written or a name being typed is never replaced by the stored copy."""
        rec = next((c for c in self._chats(store, self.user_of(request)) if c["id"] == chat_id), None)
        if rec is None or (current and chat_id == current):
            return (gr.skip(),) * 6
        turns = [t for t in rec.get("turns", []) if isinstance(t, dict)]
        return (rec.get("chat", []), rec.get("conv", []), turns, sources_panel([t.get("sources_html", "")
                                                                                 for t in turns]),
                rec["id"], rec.get("title", ""))

    def restore(self, store: Any, request: gr.Request) -> tuple:
        """On page load: the chats list, and the latest chat reopened. Outputs: chats list + `open_chat`'s."""
        chats = self._chats(store, self.user_of(request))
        latest = chats[-1]["id"] if chats else None
        pick = gr.update(choices=self.chat_choices(chats), value=latest)
        if latest is None:
            return (pick, *(gr.skip(),) * 6)
        return (pick, *self.open_chat(store, latest, None, request))

    def rename_chat(self, store: Any, chat_id: str, title: str, request: gr.Request) -> tuple:
        """Outputs: store, chats list."""
        user, title = self.user_of(request), " ".join(str(title or "").split())[:80]
        chats = self._chats(store, user)
        if not chat_id or not any(c["id"] == chat_id for c in chats):
            raise gr.Error("Ask a question first, then name the chat.")
        if not title:
            raise gr.Error("Type a name first.")
        chats = [{**c, "title": title} if c["id"] == chat_id else c for c in chats]
        return self._with_chats(store, user, chats), gr.update(choices=self.chat_choices(chats), value=chat_id)

    def delete_chat(self, store: Any, chat_id: str, request: gr.Request) -> tuple:
        """Outputs: store, chats list, then `new_chat`'s outputs."""
        user = self.user_of(request)
        chats = [c for c in self._chats(store, user) if c["id"] != chat_id]
        return (self._with_chats(store, user, chats), gr.update(choices=self.chat_choices(chats), value=None),
                *self.new_chat())

    def export_chat(self, store: Any, chat_id: str, turns: list | None, request: gr.Request) -> str | None:
        """The conversation as a Markdown file (question, answer, sources with quotes); its path."""
        if not turns:
            raise gr.Error("Nothing to export yet: ask a question first.")
        rec = next((c for c in self._chats(store, self.user_of(request)) if c["id"] == chat_id), None)
        title = (rec or {}).get("title") or _title_of(turns[0].get("question", ""))
        folder = self.scratch() / safe_filename(chat_id or "unsaved", "unsaved")  # one file per chat, rewritten
        folder.mkdir(exist_ok=True)
        for old in folder.glob("*.md"):
            old.unlink(missing_ok=True)
        path = folder / f"{safe_filename(title, 'chat')[:60].rsplit('.', 1)[0] or 'chat'}.md"
        path.write_text(chat_markdown(title, turns), encoding="utf-8")
        return str(path)

    # -- feedback ----------------------------------------------------------------------------
    def record_vote(self, turns: list | None, index: Any, liked: Any, comment: str = "", user: str = ""
                    ) -> dict | None:
        """Append the vote on chat message `index` to the feedback file; returns the record."""
        index = index[0] if isinstance(index, (list, tuple)) else index
        turn = next((t for t in (turns or []) if t.get("msg_index") == index), None)
        if turn is None:
            return None
        record = feedback_record(turn, vote_of(liked), comment=comment, user=user)
        append_feedback(self.feedback_path, record)
        return record

    def on_like(self, turns: list | None, data: gr.LikeData, request: gr.Request) -> tuple:
        """Record the vote and show it was recorded, with a box for an optional comment.

        Outputs: feedback panel, its note, comment box, the voted message (state).
        """
        rec = self.record_vote(turns, data.index, data.liked, user=self.user_of(request))
        if rec is None or rec["vote"] == "cleared":
            return gr.update(visible=False), "", "", None
        index = data.index[0] if isinstance(data.index, (list, tuple)) else data.index
        word = "helpful" if rec["vote"] == "up" else "not helpful"
        note = (f'<div class="pqa-fb-ok" role="status">Thanks — recorded that answer {esc(index // 2 + 1)} was '
                f"{word}. Add a comment below if you like (optional).</div>")
        return gr.update(visible=True), note, "", {"index": index, "vote": rec["vote"]}

    def send_comment(self, turns: list | None, target: dict | None, comment: str, request: gr.Request) -> tuple:
        """Store the comment with its vote. Outputs: note, comment box."""
        comment = " ".join(str(comment or "").split())
        if not target or not comment:
            return '<div class="pqa-fb-ok pqa-error" role="status">Type a comment first.</div>', gr.skip()
        rec = self.record_vote(turns, target["index"], target["vote"], comment, self.user_of(request))
        if rec is None:
            return '<div class="pqa-fb-ok pqa-error" role="status">That answer is no longer in this chat.</div>', ""
        return '<div class="pqa-fb-ok" role="status">Thanks — your comment was recorded.</div>', ""

    def can_see_feedback(self, request: gr.Request | None) -> bool:
        """Logged-in users see the Feedback view; so does everyone when the server has no login
        (then every visitor can already change the index)."""
        return bool(self.user_of(request)) or not getattr(self.settings, "auth", "")

    def feedback_view(self, request: gr.Request) -> tuple:
        """Outputs: the feedback table, the CSV file to download, the Feedback tab."""
        if not self.can_see_feedback(request):
            return gr.skip(), gr.skip(), gr.update(visible=False)
        records = read_feedback(self.feedback_path)
        path = self.scratch() / "partnerqa-feedback.csv"  # rewritten each time; Gradio serves a copy
        path.write_text(feedback_csv(records), encoding="utf-8")
        return feedback_rows(records), str(path), gr.update(visible=True)

    @staticmethod
    def pick_example(data: gr.SelectData) -> str:
        value = data.value
        return value.get("text", "") if isinstance(value, Mapping) else str(value or "")

    def ask(self, question: str, k: int | None = None, mode: str | None = None,
            answer_mode: str | None = None) -> tuple[str, dict]:
        """Answer a question from the documents.

        Args:
            question: The question.
            k: Passages to retrieve (default: the server's).
            mode: Retrieval mode: hybrid, dense or keyword.
            answer_mode: extractive, or a configured generative mode.

        Returns:
            The answer text with its [n] markers, and the sources: `rag.Answer.to_dict()`
            with "citations" (n, doc_id, title, page, start, end, quote, publisher, date, url),
            "abstained" and "related".
        """
        question = (question or "").strip()
        if not question:
            raise gr.Error("question must not be empty")
        k_val, mode_val, am = self.check(k, mode, answer_mode)
        from ingest.errors import PartnerQAError

        try:
            ans = self.answerer.answer(question, k=k_val, mode=mode_val, answer_mode=am)
        except PartnerQAError as e:
            raise gr.Error(str(e)) from None
        return ans.text, ans.to_dict()

    # -- documents ---------------------------------------------------------------------------
    def on_load(self) -> tuple:
        try:
            self.retriever.refresh()  # another process (the CLI) may have changed the index
        except Exception as e:  # noqa: BLE001 -- a bad new generation must not break the page; the old serves on
            log.warning("index refresh failed: %s", e)
        return (self.header_html(), self.documents_html(), gr.update(choices=self.doc_choices(), value=None),
                self.only_choices(None))

    def only_choices(self, current: Any) -> Any:
        """The "Ask only these documents" picker with the index's documents (keeping those still there)."""
        choices = self.doc_choices()
        ids = {v for _, v in choices}
        return gr.update(choices=choices, value=[d for d in (current or []) if d in ids])

    def _doc(self, doc_id: str | None) -> dict | None:
        return next((d for d in self.retriever.documents() if d["doc_id"] == doc_id), None)

    def pick_doc(self, doc_id: str | None, shown: str | None = None) -> tuple:
        """A document chosen: its details into the edit fields. Outputs: title, publisher, date, url, confirm panel,
        the document shown.

        The picker fires on every blur, even when nothing was picked: the document already shown (`shown`) is
        left alone, so details being edited are never replaced by the stored ones."""
        if doc_id and doc_id == shown:
            return (gr.skip(),) * 6
        d = self._doc(doc_id)
        if d is None:
            return "", "", "", "", gr.update(visible=False), ""
        return (str(d.get("title") or ""), str(d.get("publisher") or ""), str(d.get("date") or ""),
                str(d.get("url") or ""), gr.update(visible=False), str(doc_id))

    def row_action(self, payload: str) -> tuple:
        """A row's "Edit details" or "Remove…" button (sent by the page's script as "action|doc id|nonce").

        Outputs: picker, title, publisher, date, url, confirm panel, confirm text, details panel, the document
        shown.
        """
        action, _, rest = str(payload or "").partition("|")
        doc_id = rest.rsplit("|", 1)[0]
        d = self._doc(doc_id)
        if d is None:
            return (gr.skip(),) * 9
        fields = self.pick_doc(doc_id)[:4]
        if action == "remove":
            return (gr.update(value=doc_id), *fields, gr.update(visible=True), self.confirm_text(doc_id),
                    gr.update(open=True), doc_id)
        return (gr.update(value=doc_id), *fields, gr.update(visible=False), "", gr.update(open=True), doc_id)

    def confirm_text(self, doc_id: str) -> str:
        d = self._doc(doc_id) or {}
        upload = (self.upload_dir / doc_id) if safe_filename(doc_id) == doc_id else None
        extra = " and deletes its uploaded file" if upload is not None and upload.is_file() else ""
        return (f'<div class="pqa-confirm-text" role="alert">Remove <b>{esc(d.get("title") or doc_id)}</b> '
                f"(<code>{esc(doc_id)}</code>)? It will no longer be used in answers{extra}. "
                "This cannot be undone.</div>")

    def ask_remove(self, doc_id: str | None) -> tuple:
        """The Remove button: ask first. Outputs: confirm panel, confirm text, status."""
        if not doc_id or self._doc(doc_id) is None:
            return gr.update(visible=False), "", message_html("Choose a document to remove.", "error")
        return gr.update(visible=True), self.confirm_text(doc_id), ""

    def save_details(self, doc_id: str | None, title: str, publisher: str, date: str, url: str) -> tuple:
        """Store the document's title, publisher, date and URL in the index (kept across re-ingests).

        Outputs: status, documents table, picker, header.
        """
        if not doc_id or self._doc(doc_id) is None:
            return message_html("Choose a document first.", "error"), gr.skip(), gr.skip(), gr.skip()
        from ingest.provenance import edit_provenance

        try:
            edit_provenance(self.ingestor(), doc_id,
                            {"title": title, "publisher": publisher, "date": date, "url": url})
        except ValueError as e:
            return message_html(f"Not saved: {e}", "error"), gr.skip(), gr.skip(), gr.skip()
        self.retriever.refresh()
        return (message_html(f"Saved the details of {doc_id}; every citation uses them from now on.", "ok"),
                self.documents_html(), gr.update(choices=self.doc_choices(), value=doc_id), self.header_html())

    def add_files(self, files: Any, progress: Any = gr.Progress()) -> tuple:  # noqa: B008 -- Gradio's idiom
        """Copy uploads into the upload folder under safe names, ingest them, refresh the index.

        A file whose name was uploaded before replaces that upload: the document is updated
        (or reported unchanged when its content is the same), never duplicated. A name that a
        document from elsewhere (seeds/, the command line) holds gets a `-2` suffix instead.

        Returns (status, documents table, remove choices, header, file input).
        """
        paths = [f if isinstance(f, (str, Path)) else getattr(f, "name", f) for f in (files or [])]
        if not paths:
            return message_html("Choose one or more files first.", "error"), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        stored: dict[str, tuple[Path, Path | None]] = {}
        names: dict[str, str] = {}
        up = self.upload_dir.resolve() if self.upload_dir.exists() else self.upload_dir.absolute()
        elsewhere = {k for k, d in self.retriever.snapshot.docs.items()
                     if Path(getattr(d, "source", "") or "/").resolve() != up}
        for p in paths:
            dest, backup = replace_upload(p, self.upload_dir, elsewhere)
            discard_gradio_upload(p)  # the upload folder holds partnerqa's copy; Gradio's would stay forever
            if dest.name in stored:  # the same name twice in one batch: the last one wins
                drop_backup(backup)
                backup = stored[dest.name][1]
            stored[dest.name] = (dest, backup)
            names[dest.name] = Path(str(p)).name
        progress(0.0, desc="Reading files")
        try:
            report = self.ingestor().ingest(
                [str(d) for d, _ in stored.values()],
                on_progress=lambda msg, frac: progress(min(max(frac, 0.0), 1.0), desc=msg))
        except Exception as e:
            for dest, backup in stored.values():
                restore_upload(dest, backup)
            log.exception("ingesting uploads failed")
            return (message_html(f"Could not add the files: {e}", "error"), gr.skip(), gr.skip(), gr.skip(),
                    gr.skip())
        kept = set(report.added) | set(report.updated) | set(report.unchanged)
        for name, (dest, backup) in stored.items():
            if name in kept:
                drop_backup(backup)
            else:  # rejected: the upload folder keeps what the index keeps
                restore_upload(dest, backup)
        self.retriever.refresh()
        return (report_html(report, names), self.documents_html(), gr.update(choices=self.doc_choices(), value=None),
                self.header_html(), None)

    def remove_doc(self, doc_id: str | None) -> tuple:
        """Remove one document from the index and its uploaded copy from disk.

        Returns (status, table, choices, header, confirm panel).
        """
        hide = gr.update(visible=False)
        if not doc_id:
            return message_html("Choose a document to remove.", "error"), gr.skip(), gr.skip(), gr.skip(), hide
        if doc_id not in {d["doc_id"] for d in self.retriever.documents()}:
            return message_html(f"{doc_id} is not in the index.", "error"), gr.skip(), gr.skip(), gr.skip(), hide
        report = self.ingestor().remove([doc_id])
        if doc_id in report.removed and safe_filename(doc_id) == doc_id:
            (self.upload_dir / doc_id).unlink(missing_ok=True)  # only ever a file this page stored
        self.retriever.refresh()
        return (report_html(report), self.documents_html(), gr.update(choices=self.doc_choices(), value=None),
                self.header_html(), hide)

    # -- the document viewer -----------------------------------------------------------------
    def source_file(self, doc_id: str) -> Path | None:
        """The file a document was ingested from, when it is still there (inside its source folder)."""
        rec = self.retriever.snapshot.docs.get(doc_id)
        root = getattr(rec, "source", "") if rec is not None else ""
        if not root:
            return None
        root_real = Path(root).resolve()
        path = (root_real / doc_id).resolve()
        return path if path.is_relative_to(root_real) and path.is_file() else None

    def open_view(self, payload: str) -> str:
        """The viewer for "doc id|start|end|page|nonce" (sent by a source card's Open button)."""
        parts = str(payload or "").split("|")
        if len(parts) < 4:
            return ""
        doc_id = parts[0]

        def num(x: str) -> int | None:
            return int(x) if x.strip().isdigit() else None

        start, end, page = num(parts[1]), num(parts[2]), num(parts[3])
        try:
            text = self.retriever.document_text(doc_id)
        except (KeyError, LookupError):
            return message_html(f"{doc_id} is no longer in the index.", "error")
        title = (self._doc(doc_id) or {}).get("title") or doc_id
        if page and doc_id.lower().endswith(".pdf"):
            path = self.source_file(doc_id)
            if path is not None:
                try:
                    import base64

                    from ui.pdfview import render_page

                    quote = text[start:end] if start is not None and end is not None else ""
                    png, _ = render_page(path, page, quote)
                    uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
                    return document_view_html(title, text, start, end, page, image=uri)
                except ImportError as e:
                    log.info("%s; showing the text instead", e)
                except Exception as e:  # noqa: BLE001 -- a page that will not render: show the text
                    log.warning("rendering page %s of %s failed: %s", page, doc_id, e)
        return document_view_html(title, text, start, end, page)


def _title_of(question: str) -> str:
    text = " ".join(str(question or "").split())
    return text if len(text) <= 60 else text[:59].rstrip() + "…"
