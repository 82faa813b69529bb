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
    documents_html,
    message_html,
    question_html,
    report_html,
    sources_html,
    sources_panel,
    streaming_html,
)
from ui.storage import append_feedback, discard_gradio_upload, feedback_record, safe_filename, store_upload, vote_of

log = logging.getLogger(__name__)

RETRIEVAL_MODES = ("hybrid", "dense", "keyword")


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
        try:
            modes = list(answerer.available_answer_modes()) or ["extractive"]
        except Exception as e:  # noqa: BLE001 -- a missing optional module must not keep the page from starting
            log.warning("answer modes unavailable (%s); offering extractive only", e)
            modes = ["extractive"]
        self.answer_modes = modes
        self.default_answer_mode = settings.answer_mode if settings.answer_mode in modes else modes[0]
        self.default_k = int(getattr(answerer, "k", None) or settings.k)

    # -- helpers -----------------------------------------------------------------------------
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

    def check(self, k: Any, mode: Any, answer_mode: Any) -> tuple[int | None, str | None, str | None]:
        """Per-call overrides, checked: (k or None, mode or None, answer_mode or None)."""
        try:
            k_val = None if k in (None, "", 0) else int(k)
        except (TypeError, ValueError):
            raise gr.Error(f"k must be a whole number, got {k!r}") from None
        if k_val is not None and not 1 <= k_val <= 50:
            raise gr.Error(f"k must be between 1 and 50, got {k_val}")
        mode = mode or None
        if mode is not None and mode not in RETRIEVAL_MODES:
            raise gr.Error(f"mode must be one of {', '.join(RETRIEVAL_MODES)}, got {mode!r}")
        answer_mode = answer_mode or None
        if answer_mode is not None and answer_mode not in self.answer_modes:
            raise gr.Error(f"answer mode must be one of {', '.join(self.answer_modes)}, got {answer_mode!r}")
        return k_val, mode, answer_mode

    # -- chat --------------------------------------------------------------------------------
    def respond(self, message: str, chat: list | None, conv: list | None, turns: list | None, k: Any = None,
                mode: Any = None, answer_mode: Any = None) -> Iterator[tuple]:
        """Stream one answer into the chat. Yields (textbox, chat, conversation, turns, sources).

        `conv` is the plain-text conversation passed to `Answerer.stream` so follow-ups
        work; `turns` holds one record per answer (for feedback and the sources panel).
        """
        skip = gr.skip()
        question = (message or "").strip()
        if not question:
            yield skip, skip, skip, skip, skip
            return
        k_val, mode_val, am = self.check(k, mode, answer_mode)
        chat, conv, turns = list(chat or []), list(conv or []), list(turns or [])
        turn_no = len(turns) + 1
        chat.append({"role": "user", "content": question_html(question)})
        chat.append({"role": "assistant", "content": streaming_html("")})
        yield "", list(chat), skip, skip, skip
        text, final = "", None
        try:
            for event in self.answerer.stream(question, conv, k=k_val, mode=mode_val, answer_mode=am):
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
        return [], [], [], SOURCES_PLACEHOLDER, ""

    def record_vote(self, turns: list | None, index: Any, liked: Any) -> dict | None:
        """Append the vote on chat message `index` to the feedback file; returns the record."""
        index = index[0] if isinstance(index, (list, tuple)) else index
        turn = next((t for t in (turns or []) if t.get("msg_index") == index), None)
        if turn is None:
            return None
        record = feedback_record(turn, vote_of(liked))
        append_feedback(self.feedback_path, record)
        return record

    def on_like(self, turns: list | None, data: gr.LikeData) -> None:
        if self.record_vote(turns, data.index, data.liked) is not None:
            gr.Info("Thanks, your feedback was recorded.")

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
        return self.header_html(), self.documents_html(), gr.update(choices=self.doc_choices(), value=None)

    def add_files(self, files: Any, progress: Any = gr.Progress()) -> tuple:  # noqa: B008 -- Gradio's idiom
        """Copy uploads into the upload folder under safe names, ingest them, refresh the index.

        Returns (status, documents table, remove choices, header, file input).
        """
        paths = [f if isinstance(f, (str, Path)) else getattr(f, "name", f) for f in (files or [])]
        if not paths:
            return message_html("Choose one or more files first.", "error"), gr.skip(), gr.skip(), gr.skip(), gr.skip()
        taken = {d["doc_id"] for d in self.retriever.documents()}
        stored: list[Path] = []
        names: dict[str, str] = {}
        for p in paths:
            dest = store_upload(p, self.upload_dir, taken)
            discard_gradio_upload(p)  # the upload folder holds partnerqa's copy; Gradio's would stay forever
            taken.add(dest.name)
            stored.append(dest)
            names[dest.name] = Path(str(p)).name
        progress(0.0, desc="Reading files")
        try:
            report = self.ingestor().ingest(
                [str(p) for p in stored], on_progress=lambda msg, frac: progress(min(max(frac, 0.0), 1.0), desc=msg))
        except Exception as e:
            for p in stored:
                p.unlink(missing_ok=True)
            log.exception("ingesting uploads failed")
            return (message_html(f"Could not add the files: {e}", "error"), gr.skip(), gr.skip(), gr.skip(),
                    gr.skip())
        kept = set(report.added) | set(report.updated) | set(report.unchanged)
        for p in stored:  # a rejected file is not kept in the upload folder
            if p.name not in kept:
                p.unlink(missing_ok=True)
        self.retriever.refresh()
        return (report_html(report, names), self.documents_html(), gr.update(choices=self.doc_choices(), value=None),
                self.header_html(), None)

    def remove_doc(self, doc_id: str | None) -> tuple:
        """Remove one document from the index (and its uploaded copy). Returns (status, table, choices, header)."""
        if not doc_id:
            return message_html("Choose a document to remove.", "error"), gr.skip(), gr.skip(), gr.skip()
        if doc_id not in {d["doc_id"] for d in self.retriever.documents()}:
            return message_html(f"{doc_id} is not in the index.", "error"), gr.skip(), gr.skip(), gr.skip()
        report = self.ingestor().remove([doc_id])
        if doc_id in report.removed and safe_filename(doc_id) == doc_id:
            (self.upload_dir / doc_id).unlink(missing_ok=True)  # only ever a file this page stored
        self.retriever.refresh()
        return (report_html(report), self.documents_html(), gr.update(choices=self.doc_choices(), value=None),
                self.header_html())
