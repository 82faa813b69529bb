"""The Gradio chat staff use every day: streamed answers whose every sentence links to its source.

`build_app(answerer, settings)` returns the page; `serve(settings)` builds the index from
`seeds/` when none exists, loads the model and the index once, and serves the page.

Everything a document contributes to the page (titles, quotes, passages, file names)
goes through `html.escape`: the chat renders its messages as HTML with Markdown off,
and the sources and documents panels are HTML this module builds itself.
"""

import html
import ipaddress
import json
import logging
import os
import re
import sys
import threading
import time
import unicodedata
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # read when gradio is imported: no network calls

import gradio as gr

log = logging.getLogger(__name__)

EXAMPLES = (
    "What chips will Nvidia supply to Korea?",
    "What is an AI factory?",
    "What would the Seoul R&D center do?",
    "What is physical AI?",
)
UPLOAD_TYPES = (".pdf", ".txt", ".md", ".html", ".htm", ".docx")
RETRIEVAL_MODES = ("hybrid", "dense", "keyword")
CONTEXT_CHARS = 150  # characters of surrounding passage shown on each side of a quote
RELATED_CHARS = 420  # characters shown of each related passage when the answer abstains
MAX_NAME_CHARS = 120
CONCURRENCY = 4  # questions answered at once; ingestion runs one at a time

_WRITE_LOCK = threading.Lock()

# -- pure helpers: HTML ----------------------------------------------------------------------


def esc(value: Any) -> str:
    """`value` as text that HTML shows literally (quotes escaped too, so it is safe in attributes)."""
    return html.escape("" if value is None else str(value), quote=True)


def _safe_url(url: str) -> str | None:
    """The URL when it is plain http(s), else None (no javascript:, data:, relative links)."""
    url = (url or "").strip()
    return url if re.match(r"^https?://[^\s<>\"']+$", url, re.IGNORECASE) else None


def _multiline(text: str) -> str:
    """Escaped text whose line breaks show; a run of blank lines shows as one break."""
    return re.sub(r"\n\s*\n\s*", "\n", esc(text)).replace("\n", "<br>")


def passage_html(text: str, start: int, end: int, context: int = CONTEXT_CHARS) -> str:
    """`text[start:end]` in `<mark>`, inside about `context` characters either side; all escaped.

    The context is cut at whitespace so no word is split, and an ellipsis marks a cut.
    """
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    a = max(0, start - context)
    b = min(len(text), end + context)
    if a > 0:
        m = re.search(r"\s", text[a:start])
        a = a + m.end() if m else start
    if b < len(text):
        tail = text[end:b]
        cut = max(tail.rfind(" "), tail.rfind("\n"))
        b = end + cut if cut > 0 else end
    before, quote, after = text[a:start].lstrip(), text[start:end], text[end:b].rstrip()
    return (("… " if a > 0 else "") + _multiline(before) + "<mark>" + _multiline(quote) + "</mark>"
            + _multiline(after) + (" …" if b < len(text) else ""))


def _meta_line(publisher: str, date: str, page: int | None) -> str:
    date = "date unknown" if date.strip().lower() == "unknown" else date
    parts = [p.strip() for p in (publisher, date) if p and p.strip()]
    if page:
        parts.append(f"p. {page}")
    return " · ".join(esc(p) for p in parts)


def _meta_div(cls: str, publisher: str, date: str, page: int | None) -> str:
    """The provenance line, clamped by CSS; the full text is in its tooltip."""
    line = _meta_line(publisher, date, page)
    return f'<div class="{cls}" title="{line}">{line}</div>' if line else ""


def _link_line(url: str, doc_id: str, start: int | None = None, end: int | None = None) -> str:
    safe = _safe_url(url)
    where = f" · characters {start}–{end}" if start is not None and end is not None else ""
    file_part = f'<span class="pqa-file">File: <code>{esc(doc_id)}</code>{where}</span>'
    if safe:
        return (f'<a class="pqa-url" href="{esc(safe)}" target="_blank" rel="noopener noreferrer">{esc(safe)}</a>'
                f"{file_part}")
    return file_part


def source_id(turn: int, n: int) -> str:
    """The element id of source `n` of answer `turn`: what a `[n]` marker links to."""
    return f"src-{turn}-{n}"


def sources_html(answer: Any, document_text: Callable[[str], str], turn: int) -> str:
    """The sources of one answer: per citation its title, publisher, date, page, the quote
    highlighted in its passage, and the link or file it came from. An abstention shows
    "Not in the documents" and the closest passages as related reading."""
    q = esc(getattr(answer, "question", ""))
    if answer.abstained:
        cards = []
        for i, h in enumerate(answer.related, 1):
            meta = dict(h.metadata or {})
            excerpt = h.text if len(h.text) <= RELATED_CHARS else h.text[:RELATED_CHARS].rsplit(" ", 1)[0] + " …"
            cards.append(
                f'<article class="pqa-src pqa-related" id="rel-{turn}-{i}">'
                f'<div class="pqa-src-head"><span class="pqa-src-title">{esc(h.title or h.doc_id)}</span></div>'
                f'{_meta_div("pqa-src-meta", str(meta.get("publisher", "")), str(meta.get("date", "")), h.page)}'
                f'<blockquote class="pqa-passage">{_multiline(excerpt)}</blockquote>'
                f'<div class="pqa-src-link">{_link_line(str(meta.get("url", "")), h.doc_id)}</div></article>'
            )
        related = "".join(cards) or '<p class="pqa-muted">No passage came close.</p>'
        return (f'<section class="pqa-turn" data-turn="{turn}"><div class="pqa-turn-q">{q}</div>'
                '<div class="pqa-abstain-badge">Not in the documents</div>'
                '<p class="pqa-muted">The documents do not answer this. The closest passages, as related '
                f"reading (not an answer):</p>{related}</section>")
    cards = []
    for c in answer.citations:
        try:
            passage = passage_html(document_text(c.doc_id), c.start, c.end)
        except (KeyError, LookupError):  # the document was removed since the answer was given
            passage = f"<mark>{_multiline(c.quote)}</mark>"
        cards.append(
            f'<article class="pqa-src" id="{source_id(turn, c.n)}">'
            f'<div class="pqa-src-head"><span class="pqa-badge">{int(c.n)}</span>'
            f'<span class="pqa-src-title">{esc((c.title or c.doc_id).strip())}</span></div>'
            f'{_meta_div("pqa-src-meta", c.publisher, c.date, c.page)}'
            f'<blockquote class="pqa-passage">{passage}</blockquote>'
            f'<div class="pqa-src-link">{_link_line(c.url, c.doc_id, c.start, c.end)}</div></article>'
        )
    return f'<section class="pqa-turn" data-turn="{turn}"><div class="pqa-turn-q">{q}</div>{"".join(cards)}</section>'


SOURCES_PLACEHOLDER = (
    '<div class="pqa-empty"><div class="pqa-empty-title">Sources</div>'
    "<p>Each sentence of an answer ends with a marker such as <span class=\"pqa-cite-demo\">1</span>. "
    "Click it to see the exact sentence it came from, highlighted in its passage, with the document's "
    "title, publisher, date and link.</p></div>"
)


def sources_panel(turn_htmls: Sequence[str]) -> str:
    """The sources panel: the latest answer's sources, then earlier answers' folded away."""
    if not turn_htmls:
        return SOURCES_PLACEHOLDER
    latest, earlier = turn_htmls[-1], list(reversed(turn_htmls[:-1]))
    out = f'<div class="pqa-sources">{latest}'
    if earlier:
        out += ('<details class="pqa-earlier"><summary>Sources of earlier answers</summary>'
                + "".join(earlier) + "</details>")
    return out + "</div>"


def _cite_links(numbers: Iterable[int], turn: int, titles: Mapping[int, str]) -> str:
    return "".join(
        f'<a class="pqa-cite" href="#{source_id(turn, n)}" title="Source {n}: {esc(titles.get(n, ""))}">[{n}]</a>'
        for n in numbers
    )


def answer_html(answer: Any, turn: int) -> str:
    """The chat message of a finished answer: escaped sentences, each followed by links to its sources.

    A hidden plain-text copy (answer, then sources) is what the chat's copy button copies.
    """
    if answer.abstained:
        body = ('<div class="pqa-abstain-badge">Not in the documents</div>'
                f'<p>{_multiline(answer.text)}</p>'
                '<div class="pqa-foot">The closest passages are listed under Sources as related reading.</div>')
        return f'<div class="pqa-answer pqa-abstained">{body}{_copy_block(answer)}</div>'
    titles = {c.n: c.title for c in answer.citations}
    if answer.sentences:
        parts = []
        for s in answer.sentences:
            cls = "" if getattr(s, "supported", True) else ' class="pqa-unsupported" title="No source supports this"'
            parts.append(f"<span{cls}>{_multiline(s.text)}</span> {_cite_links(s.citations, turn, titles)}")
        text = " ".join(parts)
    else:
        known = set(titles)
        text = re.sub(r"\[(\d+)\]", lambda m: _cite_links([int(m.group(1))], turn, titles)
                      if int(m.group(1)) in known else m.group(0), _multiline(answer.text))
    n = len(answer.citations)
    secs = float(dict(answer.timings or {}).get("total_ms", 0.0)) / 1000
    foot = f'{n} source{"s" if n != 1 else ""} · {esc(answer.mode)} · {secs:.1f} s'
    return (f'<div class="pqa-answer"><p>{text}</p><div class="pqa-foot">{foot}</div>'
            f"{_copy_block(answer)}</div>")


def answer_plain_text(answer: Any) -> str:
    """The answer as plain text with its numbered sources: what "copy" puts on the clipboard."""
    lines = [answer.text]
    if answer.citations:
        lines.append("")
        lines.append("Sources:")
        for c in answer.citations:
            meta = ", ".join(x for x in (c.publisher, c.date, f"p. {c.page}" if c.page else "") if x)
            where = c.url or c.doc_id
            lines.append(f"[{c.n}] {c.title}{' (' + meta + ')' if meta else ''}: \u201c{c.quote}\u201d {where}")
    return "\n".join(lines)


def _copy_block(answer: Any) -> str:
    return f'<span class="pqa-copytext">{esc(answer_plain_text(answer))}</span>'


def streaming_html(text: str) -> str:
    """The chat message while an answer streams in: the text so far, escaped."""
    if not text:
        return '<div class="pqa-answer pqa-pending"><p>Searching the documents…</p></div>'
    return f'<div class="pqa-answer pqa-pending"><p>{_multiline(text)}</p></div>'


def question_html(question: str) -> str:
    return f'<div class="pqa-question">{_multiline(question)}</div>'


def _short_time(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).astimezone(UTC).strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return str(iso or "")


def documents_html(docs: Sequence[Mapping[str, Any]]) -> str:
    """The documents table: title (linked when it has a URL), file, pages, chunks, added at."""
    if not docs:
        return '<div class="pqa-empty"><p>The index is empty. Upload documents below.</p></div>'
    rows = []
    for d in docs:
        title = esc(str(d.get("title") or d.get("doc_id")).strip())
        url = _safe_url(str(d.get("url") or ""))
        if url:
            title = f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{title}</a>'
        sub = _meta_div("pqa-doc-sub", str(d.get("publisher") or ""), str(d.get("date") or ""), None)
        rows.append(
            f'<tr data-doc="{esc(d.get("doc_id"))}"><td><div class="pqa-doc-title">{title}</div>'
            f'{sub}</td><td><code>{esc(d.get("doc_id"))}</code></td>'
            f'<td class="num">{esc(d.get("pages") or "–")}</td><td class="num">{esc(d.get("chunks"))}</td>'
            f"<td class=\"when\">{esc(_short_time(str(d.get('added_at') or '')))}</td></tr>"
        )
    return ('<table class="pqa-docs"><thead><tr><th>Title</th><th>File</th><th class="num">Pages</th>'
            '<th class="num">Chunks</th><th class="when">Added (UTC)</th></tr></thead><tbody>' + "".join(rows) + "</tbody></table>")


def report_html(report: Any, names: Mapping[str, str] | None = None) -> str:
    """What an ingest or removal did, for the documents panel; skipped files show why."""
    names = dict(names or {})

    def label(doc_id: str) -> str:
        orig = names.get(doc_id)
        return esc(doc_id) if not orig or orig == doc_id else f"{esc(orig)} (stored as {esc(doc_id)})"

    items = []
    for verb, ids in (("Added", report.added), ("Updated", report.updated), ("Removed", report.removed),
                      ("Already indexed, unchanged", report.unchanged)):
        items += [f'<li class="pqa-ok"><b>{verb}:</b> {label(i)}</li>' for i in ids]
    items += [f'<li class="pqa-bad"><b>Rejected:</b> {label(n)} — {esc(why)}</li>' for n, why in report.skipped]
    items += [f'<li class="pqa-warn"><b>Warning:</b> {label(n)} — {esc(why)}</li>' for n, why in report.warnings]
    head = (f"The index now holds {int(report.total_docs)} documents, {int(report.total_chunks)} passages"
            f" ({float(report.seconds):.1f} s).")
    return f'<div class="pqa-report"><div>{esc(head)}</div><ul>{"".join(items)}</ul></div>'


def message_html(text: str, kind: str = "info") -> str:
    return f'<div class="pqa-report pqa-{esc(kind)}">{esc(text)}</div>'


# -- pure helpers: uploads and feedback ------------------------------------------------------

_UNSAFE_CHARS = re.compile(r"[^\w.\-]+", re.UNICODE)


def safe_filename(name: str, default: str = "upload") -> str:
    """A plain file name from an uploaded one: its last path part only, letters, digits,
    `.`, `-` and `_` (others become `_`), no leading dot or dash, at most 120 characters."""
    base = unicodedata.normalize("NFC", str(name or "")).replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(ch for ch in base if unicodedata.category(ch)[0] != "C")
    base = _UNSAFE_CHARS.sub("_", base.strip())
    base = re.sub(r"\.{2,}", ".", re.sub(r"_{2,}", "_", base)).strip("._- ")
    stem, dot, suffix = base.rpartition(".")
    if not dot:
        stem, suffix = base, ""
    suffix = suffix[:10].lower()
    stem = stem.strip("._- ")[: MAX_NAME_CHARS - len(suffix) - 1] or default
    return f"{stem}.{suffix}" if suffix else stem


def unique_name(name: str, taken: Collection[str]) -> str:
    """`name`, or `stem-2.ext`, `stem-3.ext`, ... : the first not in `taken`."""
    if name not in taken:
        return name
    p = Path(name)
    i = 2
    while f"{p.stem}-{i}{p.suffix}" in taken:
        i += 1
    return f"{p.stem}-{i}{p.suffix}"


def store_upload(src: str | Path, upload_dir: Path, taken: Collection[str] = ()) -> Path:
    """Copy an uploaded file into `upload_dir` under a sanitised, unused name; returns the copy.

    Never overwrites: a name that exists on disk or is in `taken` (e.g. the doc ids
    already indexed) gets a numeric suffix, and the copy is created exclusively.
    """
    upload_dir.mkdir(parents=True, exist_ok=True)
    want = safe_filename(Path(str(src)).name)
    avoid = set(taken)
    while True:
        name = unique_name(want, avoid | {p.name for p in upload_dir.iterdir()})
        dest = upload_dir / name
        try:
            with open(src, "rb") as fin, open(dest, "xb") as fout:
                while block := fin.read(1 << 20):
                    fout.write(block)
            return dest
        except FileExistsError:  # another writer took the name between the check and the open
            avoid.add(name)


def feedback_record(turn: Mapping[str, Any], vote: str, *, now: datetime | None = None) -> dict[str, Any]:
    """One line of the feedback file: the question, answer, citations and the vote."""
    return {
        "timestamp": (now or datetime.now(UTC)).isoformat(timespec="seconds"),
        "vote": vote,
        "question": turn.get("question", ""),
        "answer": turn.get("answer", ""),
        "citations": list(turn.get("citations", [])),
        "abstained": bool(turn.get("abstained", False)),
        "mode": turn.get("mode", ""),
        "k": turn.get("k"),
        "retrieval_mode": turn.get("retrieval_mode", ""),
    }


def append_feedback(path: Path, record: Mapping[str, Any]) -> None:
    """Append one JSON line to the feedback file (created with its folder if missing)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _WRITE_LOCK, open(path, "a", encoding="utf-8") as fh:
        fh.write(line)


def vote_of(liked: Any) -> str:
    """Gradio's like payload as "up", "down" or "cleared"."""
    if liked is True or str(liked).lower() in ("like", "up", "true"):
        return "up"
    if liked is False or str(liked).lower() in ("dislike", "down", "false"):
        return "down"
    return "cleared"


# -- page ------------------------------------------------------------------------------------

CSS = """
.gradio-container { max-width: 1360px !important; margin: 0 auto !important; }
#pqa-header { padding: 4px 2px 10px; border-bottom: 1px solid var(--border-color-primary); margin-bottom: 6px; }
#pqa-header .pqa-brand { display: flex; align-items: baseline; gap: 12px; flex-wrap: wrap; }
#pqa-header h1 { font-size: 1.45rem; font-weight: 700; margin: 0; letter-spacing: -0.01em; }
#pqa-header .pqa-tagline { color: var(--body-text-color-subdued); font-size: 0.95rem; }
#pqa-header .pqa-stats { margin-left: auto; font-size: 0.85rem; color: var(--body-text-color-subdued);
  white-space: nowrap; }
#pqa-new, #pqa-send { white-space: nowrap; }
.pqa-answer p, .pqa-question { margin: 0; line-height: 1.6; }
.pqa-answer .pqa-foot { margin-top: 8px; font-size: 0.78rem; color: var(--body-text-color-subdued); }
.pqa-answer.pqa-pending p { color: var(--body-text-color-subdued); }
.pqa-copytext { display: none !important; }
a.pqa-cite { display: inline-block; font-size: 0.72em; font-weight: 600; line-height: 1.35; padding: 0 5px;
  margin: 0 1px; border-radius: 8px; vertical-align: 0.35em; text-decoration: none !important;
  background: var(--color-accent-soft); color: var(--color-accent) !important; border: 1px solid var(--color-accent); }
a.pqa-cite:hover { background: var(--color-accent); color: white !important; }
.pqa-unsupported { text-decoration: underline dotted; }
.pqa-abstain-badge { display: inline-block; font-size: 0.78rem; font-weight: 700; letter-spacing: 0.02em;
  text-transform: uppercase; color: #92400e; background: #fef3c7; border: 1px solid #f59e0b; border-radius: 6px;
  padding: 1px 8px; margin-bottom: 6px; }
#pqa-sources { max-height: 620px; overflow-y: auto !important; padding-right: 6px; }
.pqa-empty { color: var(--body-text-color-subdued); padding: 14px 4px; font-size: 0.92rem; line-height: 1.55; }
#pqa-chat .pqa-empty { text-align: center; max-width: 520px; margin: 0 auto; }
#pqa-sources .pqa-empty { border: 1px dashed var(--border-color-primary); border-radius: 10px; padding: 14px 16px; }
.pqa-empty-title { font-weight: 700; font-size: 1rem; color: var(--body-text-color); margin-bottom: 6px; }
.pqa-cite-demo { display: inline-block; font-size: 0.75em; font-weight: 600; padding: 0 5px; border-radius: 8px;
  background: var(--color-accent-soft); color: var(--color-accent); border: 1px solid var(--color-accent); }
.pqa-turn-q { font-weight: 600; font-size: 0.95rem; margin: 2px 0 10px; color: var(--body-text-color); }
.pqa-turn-q::before { content: "Sources for: "; font-weight: 400; color: var(--body-text-color-subdued); }
.pqa-src { border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 10px 12px; margin: 0 0 10px;
  background: var(--block-background-fill); transition: box-shadow .25s, border-color .25s; scroll-margin: 16px; }
.pqa-src.pqa-active { border-color: var(--color-accent); box-shadow: 0 0 0 3px var(--color-accent-soft); }
.pqa-src.pqa-flash { animation: pqa-flash 1.4s ease-out; }
@keyframes pqa-flash { 0% { box-shadow: 0 0 0 6px rgba(245, 158, 11, .55); } 100% { box-shadow: 0 0 0 3px var(--color-accent-soft); } }
.pqa-src-head { display: flex; align-items: flex-start; gap: 8px; }
.pqa-badge { flex: none; min-width: 22px; height: 22px; border-radius: 11px; background: var(--color-accent); color: white;
  font-size: 0.75rem; font-weight: 700; display: inline-flex; align-items: center; justify-content: center; }
.pqa-src-title { font-weight: 600; line-height: 1.35; }
.pqa-src-meta, .pqa-doc-sub { font-size: 0.8rem; color: var(--body-text-color-subdued); overflow: hidden;
  display: -webkit-box; -webkit-line-clamp: 2; -webkit-box-orient: vertical; }
.pqa-src-meta { margin: 2px 0 0 30px; }
.pqa-related .pqa-src-meta { margin-left: 0; }
.pqa-passage { margin: 8px 0 0 !important; padding: 8px 10px !important; border-top: 0 !important; border-bottom: 0 !important;
  border-right: 0 !important; border-left: 3px solid var(--border-color-primary);
  background: var(--background-fill-secondary); border-radius: 0 6px 6px 0; font-size: 0.88rem; line-height: 1.55;
  color: var(--body-text-color); }
.pqa-passage mark { background: #fde68a; color: #111827; padding: 1px 2px; border-radius: 3px; }
.pqa-src-link { font-size: 0.78rem; margin-top: 6px; color: var(--body-text-color-subdued);
  display: flex; flex-wrap: wrap; gap: 4px 12px; word-break: break-all; }
.pqa-src-link code, .pqa-docs code { font-size: 0.78rem; }
.pqa-earlier { margin-top: 14px; border-top: 1px solid var(--border-color-primary); padding-top: 8px; }
.pqa-earlier summary { cursor: pointer; color: var(--body-text-color-subdued); font-size: 0.88rem; margin-bottom: 8px; }
.pqa-muted { color: var(--body-text-color-subdued); font-size: 0.88rem; }
table.pqa-docs { width: 100%; border-collapse: collapse; font-size: 0.9rem; border: 0 !important; margin: 0 !important; }
table.pqa-docs tr, table.pqa-docs th, table.pqa-docs td { border-left: 0 !important; border-right: 0 !important;
  border-top: 0 !important; }
table.pqa-docs tr { border-bottom: 0 !important; }
.pqa-docs a, .pqa-src a { padding: 0 !important; }
.pqa-doc-title a { color: var(--body-text-color) !important; text-decoration: none !important; }
.pqa-doc-title a:hover { text-decoration: underline !important; }
.pqa-doc-title a::after { content: " ↗"; font-weight: 400; color: var(--body-text-color-subdued); }
table.pqa-docs th { text-align: left; font-weight: 600; color: var(--body-text-color-subdued); font-size: 0.8rem;
  text-transform: uppercase; letter-spacing: 0.03em; border-bottom: 1px solid var(--border-color-primary); padding: 6px 8px; }
table.pqa-docs td { border-bottom: 1px solid var(--border-color-primary); padding: 8px; vertical-align: top; }
table.pqa-docs .num, table.pqa-docs .when { text-align: right; white-space: nowrap; }
table.pqa-docs .when { color: var(--body-text-color-subdued); font-size: 0.82rem; }
.pqa-doc-title { font-weight: 600; }
.pqa-report { font-size: 0.9rem; line-height: 1.5; }
.pqa-report ul { margin: 6px 0 0; padding-left: 18px; }
.pqa-report .pqa-bad, .pqa-report.pqa-error { color: #b91c1c; }
.pqa-report .pqa-warn { color: #92400e; }
#pqa-input textarea { font-size: 1rem; }
"""

HEAD = """
<script>
(function () {
  if (window.__pqa) return; window.__pqa = true;
  function show(el) {
    var d = el.closest('details'); if (d) d.open = true;
    document.querySelectorAll('.pqa-src.pqa-active').forEach(function (x) { x.classList.remove('pqa-active'); });
    el.classList.add('pqa-active'); el.classList.remove('pqa-flash'); void el.offsetWidth; el.classList.add('pqa-flash');
    el.scrollIntoView({behavior: 'smooth', block: 'nearest'});
  }
  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) return navigator.clipboard.writeText(text);
    var ta = document.createElement('textarea'); ta.value = text; ta.style.position = 'fixed'; ta.style.left = '-9999px';
    document.body.appendChild(ta); ta.select();
    try { document.execCommand('copy'); } finally { ta.remove(); }
    return Promise.resolve();
  }
  document.addEventListener('click', function (e) {
    var t = e.target; if (!t || !t.closest) return;
    var a = t.closest('a.pqa-cite');
    if (a) {
      var el = document.getElementById((a.getAttribute('href') || '').replace(/^#/, ''));
      e.preventDefault(); e.stopPropagation();
      if (el) show(el);
      return;
    }
    // The chat's copy button copies the answer as plain text with its sources, not its HTML.
    var b = t.closest('#pqa-chat button');
    if (b && /copy/i.test((b.getAttribute('aria-label') || '') + ' ' + (b.getAttribute('title') || ''))) {
      // The buttons follow their message inside the conversation; find that message.
      var m = b.closest('.message-buttons'); m = m && m.previousElementSibling;
      while (m && !(m.querySelector && m.querySelector('.pqa-answer, .pqa-question'))) m = m.previousElementSibling;
      if (m) {
        var src = m.querySelector('.pqa-copytext');
        var text = src ? src.textContent : m.querySelector('.pqa-answer, .pqa-question').innerText;
        e.preventDefault(); e.stopImmediatePropagation();
        copyText(text).then(function () {
          b.setAttribute('data-pqa-copied', '1'); setTimeout(function () { b.removeAttribute('data-pqa-copied'); }, 1500);
        });
      }
    }
  }, true);
})();
</script>
"""


def _theme() -> Any:
    system_sans = ["Inter", "ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue",
                   "Arial", "sans-serif"]  # plain strings: system fonts, nothing fetched
    system_mono = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]
    return gr.themes.Default(primary_hue="blue", secondary_hue="slate", neutral_hue="slate",
                             font=system_sans, font_mono=system_mono, radius_size="md")


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

        chat_in = [box, chatbot, conv, turns, k_slider, mode_radio, am_drop]
        chat_out = [box, chatbot, conv, turns, sources]
        private: dict[str, Any] = {"api_visibility": "private"}  # the page's own events; scripts use `ask`
        box.submit(h.respond, chat_in, chat_out, show_progress="hidden", **private)
        send.click(h.respond, chat_in, chat_out, show_progress="hidden", **private)
        chatbot.example_select(h.pick_example, None, box, queue=False, **private).then(
            h.respond, chat_in, chat_out, show_progress="hidden", **private)
        for event in (clear.click, chatbot.clear):
            event(h.new_chat, None, [chatbot, conv, turns, sources, box], queue=False, **private)
        chatbot.like(h.on_like, [turns], None, queue=False, **private)
        index_write: dict[str, Any] = {"concurrency_limit": 1, "concurrency_id": "index-write", **private}
        add_btn.click(h.add_files, [files], [status, docs_table, remove_pick, header, files], **index_write)
        remove_btn.click(h.remove_doc, [remove_pick], [status, docs_table, remove_pick, header], **index_write)
        demo.load(h.on_load, None, [header, docs_table, remove_pick], queue=False, **private)
        gr.api(h.ask, api_name="ask")

    demo.queue(default_concurrency_limit=CONCURRENCY)
    demo.launch_defaults = {
        "theme": _theme(), "css": CSS, "head": HEAD, "ssr_mode": False, "footer_links": ["api"],
        "max_file_size": int(float(settings.max_file_mb) * 1024 * 1024), "show_error": False,
    }
    return demo


# -- serving ---------------------------------------------------------------------------------


def parse_auth(auth: str) -> tuple[str, str] | None:
    """`"user:password"` as a tuple for `launch(auth=...)`; None when empty."""
    if not auth:
        return None
    from ingest.errors import ConfigError

    user, sep, password = auth.partition(":")
    if not sep or not user or not password:
        raise ConfigError("auth must look like user:password")
    return user, password


def is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(settings: Any, host: str = "127.0.0.1", port: int = 7860, seeds: Path = Path("seeds")) -> int:
    """Serve the chat until interrupted; build the index from `seeds` first if none exists.

    The model and the index are loaded once and shared by every user. Prints the time
    from start to ready.
    """
    t0 = time.perf_counter()
    from ingest.embedder import configure_threads

    configure_threads(getattr(settings, "threads", 0))  # before anything imports torch
    from ingest.embedder import SentenceTransformerEmbedder
    from ingest.errors import IndexNotFoundError
    from ingest.store import exists

    auth = parse_auth(settings.auth)
    embedder = SentenceTransformerEmbedder(settings.model or None, batch_size=settings.batch_size,
                                           threads=settings.threads)
    if not exists(settings.index):
        seeds = Path(seeds)
        if not seeds.exists():
            raise IndexNotFoundError(f"no index at {settings.index} and no seeds folder at {seeds} to build it from")
        from ingest.pipeline import Ingestor

        print(f"partnerqa: no index at {settings.index}; building it from {seeds}/ ...", file=sys.stderr, flush=True)
        last = [""]

        def note(msg: str, frac: float) -> None:
            if msg != last[0]:
                last[0] = msg
                print(f"  [{frac * 100:5.1f}%] {msg}", file=sys.stderr, flush=True)

        report = Ingestor.from_settings(settings, embedder=embedder).ingest([seeds], progress=sys.stderr.isatty(),
                                                                             on_progress=note)
        print(report.summary(), file=sys.stderr, flush=True)
    from rag import Answerer

    answerer = Answerer.load(settings=settings, embedder=embedder)
    # Load the model while the page is built, so the first question waits for nothing.
    warm = threading.Thread(target=getattr(answerer, "warm_up", lambda: None), name="partnerqa-warm-up", daemon=True)
    warm.start()
    if not is_loopback(host) and auth is None:
        print(f"partnerqa: warning: serving on {host} without a password; anyone who can reach this machine can "
              "read and change the index (set PARTNERQA_AUTH=user:password)", file=sys.stderr, flush=True)
    app = build_app(answerer, settings)
    app.launch(server_name=host, server_port=port, auth=auth, prevent_thread_lock=True, quiet=True,
               inbrowser=False, share=False)
    warm.join()
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    n_docs = len(answerer.retriever.documents())
    print(f"partnerqa: ready in {time.perf_counter() - t0:.1f} s at http://{shown}:{port} "
          f"({n_docs} documents, index {settings.index})", flush=True)
    try:
        app.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        app.close()
    return 0
