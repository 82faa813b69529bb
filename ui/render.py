"""The chat page's HTML: pure functions of an `Answer` (and of documents and reports).

Everything a document contributes to the page (titles, quotes, passages, file names)
goes through `html.escape`: the chat renders its messages as HTML with Markdown off,
and the sources and documents panels are HTML built here.
"""

import html
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ingest.provenance import byline

CONTEXT_CHARS = 150  # characters of surrounding passage shown on each side of a quote
RELATED_CHARS = 420  # characters shown of each related passage when the answer abstains
ECHO_CHARS = 160  # characters of a question repeated above its sources (the chat shows it whole)


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
    """Publisher · date · page: only what is known (never "unknown", no header notes)."""
    parts = byline(publisher, date).parts()
    if page:
        parts.append(f"p. {page}")
    return " · ".join(esc(p) for p in parts)


def _meta_div(cls: str, publisher: str, date: str, page: int | None) -> str:
    """The provenance line: a byline, never notes."""
    line = _meta_line(publisher, date, page)
    return f'<div class="{cls}">{line}</div>' if line else ""


def echo(question: str, limit: int = ECHO_CHARS) -> str:
    """The question as repeated above its sources: one line, at most `limit` characters."""
    text = " ".join(str(question or "").split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def open_button(doc_id: str, start: int | None = None, end: int | None = None, page: int | None = None) -> str:
    """A button that opens the document in the viewer at this quote (the page's script sends it)."""
    attrs = f'data-doc="{esc(doc_id)}"'
    if start is not None and end is not None:
        attrs += f' data-start="{int(start)}" data-end="{int(end)}"'
    if page:
        attrs += f' data-page="{int(page)}"'
    label = f"Open page {int(page)}" if page else "Open document"
    return f'<button type="button" class="pqa-open" {attrs}>{label}</button>'


def _link_line(url: str, doc_id: str, start: int | None = None, end: int | None = None,
               page: int | None = None) -> str:
    safe = _safe_url(url)
    where = f" · characters {start}–{end}" if start is not None and end is not None else ""
    file_part = (f'<span class="pqa-file">File: <code>{esc(doc_id)}</code>{where}</span>'
                 f"{open_button(doc_id, start, end, page)}")
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
    q = esc(echo(getattr(answer, "question", "")))
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
            f'{_columns_html(getattr(c, "context", ""))}'
            f'<blockquote class="pqa-passage">{passage}</blockquote>'
            f'<div class="pqa-src-link">{_link_line(c.url, c.doc_id, c.start, c.end, c.page)}</div></article>'
        )
    return f'<section class="pqa-turn" data-turn="{turn}"><div class="pqa-turn-q">{q}</div>{"".join(cards)}</section>'


def _columns_html(context: str) -> str:
    """A table row's column headers ("Three Months Ended / April 1, 2023"), shown above its passage."""
    return f'<div class="pqa-columns">Columns: {esc(context)}</div>' if context else ""


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
    notes = _notes_html(answer)
    if answer.abstained:
        body = ('<div class="pqa-abstain-badge">Not in the documents</div>'
                f'<p>{_multiline(answer.text)}</p>{notes}'
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
    short = getattr(answer, "short", "")
    lead = f'<p class="pqa-short"><strong>{esc(short)}</strong></p>' if short else ""
    return (f'<div class="pqa-answer">{lead}<p>{text}</p>{notes}<div class="pqa-foot">{foot}</div>'
            f"{_copy_block(answer)}</div>")


def _notes_html(answer: Any) -> str:
    """What shaped the search: the documents the question named, the merged follow-up query."""
    out = []
    notice = getattr(answer, "notice", "")
    if notice:
        out.append(f'<div class="pqa-note pqa-notice" lang="{esc(getattr(answer, "lang", ""))}">{esc(notice)}</div>')
    scope = getattr(answer, "scope", None)
    if scope:
        out.append(f'<div class="pqa-note pqa-scope">Only in: {esc(scope.get("description", ""))} '
                   f'({esc(", ".join(scope.get("doc_ids", [])))})</div>')
    searched = getattr(answer, "searched_for", "")
    if searched:
        out.append(f'<div class="pqa-note pqa-searched">Searched for: {esc(searched)}</div>')
    return "".join(out)


def answer_plain_text(answer: Any) -> str:
    """The answer as plain text with its numbered sources: what "copy" puts on the clipboard."""
    short = getattr(answer, "short", "")
    lines = ([short, ""] if short else []) + [answer.text]
    if answer.citations:
        lines.append("")
        lines.append("Sources:")
        for c in answer.citations:
            meta = ", ".join([*byline(c.publisher, c.date).parts(), *([f"p. {c.page}"] if c.page else [])])
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
    """The documents table: title (linked when it has a URL) with its byline, file, pages, chunks,
    added at, and per-row actions (edit details, remove) that the page's script sends to the server.
    On a narrow screen each row shows as a card (see the CSS)."""
    if not docs:
        return '<div class="pqa-empty"><p>The index is empty. Upload documents below.</p></div>'
    rows = []
    for d in docs:
        doc_id = esc(d.get("doc_id"))
        title = esc(str(d.get("title") or d.get("doc_id")).strip())
        url = _safe_url(str(d.get("url") or ""))
        if url:
            title = f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer">{title}</a>'
        sub = _meta_div("pqa-doc-sub", str(d.get("publisher") or ""), str(d.get("date") or ""), None)
        rows.append(
            f'<tr data-doc="{doc_id}"><td class="pqa-doc-main"><div class="pqa-doc-title">{title}</div>{sub}</td>'
            f'<td class="pqa-doc-file"><code>{doc_id}</code></td>'
            f'<td class="num" data-label="Pages">{esc(d.get("pages") or "–")}</td>'
            f'<td class="num" data-label="Chunks">{esc(d.get("chunks"))}</td>'
            f'<td class="when" data-label="Added">{esc(_short_time(str(d.get("added_at") or "")))}</td>'
            f'<td class="pqa-doc-actions"><button type="button" class="pqa-row-btn" data-action="edit" '
            f'data-doc="{doc_id}">Edit details</button><button type="button" class="pqa-row-btn pqa-danger" '
            f'data-action="remove" data-doc="{doc_id}">Remove…</button></td></tr>'
        )
    return ('<table class="pqa-docs"><thead><tr><th>Title</th><th>File</th><th class="num">Pages</th>'
            '<th class="num">Chunks</th><th class="when">Added (UTC)</th><th><span class="pqa-sr">Actions</span></th>'
            '</tr></thead><tbody>' + "".join(rows) + "</tbody></table>"
            '<p class="pqa-doc-none pqa-muted" hidden>No document matches the search.</p>')


def document_view_html(title: str, text: str, start: int | None = None, end: int | None = None,
                       page: int | None = None, image: str = "") -> str:
    """The viewer: a PDF page as an image with the quote boxed (`image` a data: URI), or the whole
    text of a document with the quote in `<mark id="pqa-view-mark">` (the script scrolls to it)."""
    head = (f'<div class="pqa-view-head"><span class="pqa-view-title">{esc(title)}</span>'
            f'{f"<span class=pqa-muted> · page {int(page)}</span>" if page else ""}'
            '<button type="button" class="pqa-view-close">Close</button></div>')
    if image:
        return (f'<div class="pqa-view" data-kind="page">{head}'
                f'<img class="pqa-view-page" alt="Page {int(page or 0)} of {esc(title)}, the quote boxed" '
                f'src="{esc(image)}"></div>')
    if start is None or end is None:
        body = _multiline(text)
    else:
        start = max(0, min(start, len(text)))
        end = max(start, min(end, len(text)))
        body = (_multiline(text[:start]) + '<mark id="pqa-view-mark">' + _multiline(text[start:end]) + "</mark>"
                + _multiline(text[end:]))
    return f'<div class="pqa-view" data-kind="text">{head}<div class="pqa-view-text">{body}</div></div>'


def chat_markdown(title: str, turns: Sequence[Mapping[str, Any]]) -> str:
    """A conversation as Markdown: each question, its answer, and its numbered sources with quotes."""
    out = [f"# {title or 'partnerqa chat'}", ""]
    for t in turns:
        out += [f"## {t.get('question', '')}", "", str(t.get("answer", "")), ""]
        cits = list(t.get("citations") or [])
        if cits:
            out.append("Sources:")
            for c in cits:
                meta = ", ".join([*byline(c.get("publisher"), c.get("date")).parts(),
                                  *([f"p. {c['page']}"] if c.get("page") else [])])
                where = c.get("url") or c.get("doc_id", "")
                out.append(f"- [{c.get('n')}] {c.get('title', '')}{' (' + meta + ')' if meta else ''}: "
                           f"\u201c{c.get('quote', '')}\u201d {where}")
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def report_html(report: Any, names: Mapping[str, str] | None = None) -> str:
    """What an ingest or removal did, for the documents panel; skipped files show why."""
    names = dict(names or {})

    def label(doc_id: str) -> str:
        orig = names.get(doc_id)
        return esc(doc_id) if not orig or orig == doc_id else f"{esc(orig)} (stored as {esc(doc_id)})"

    items = []
    for verb, ids in (("Added", report.added), ("Updated (replaces the earlier upload of this name)", report.updated),
                      ("Removed", report.removed), ("Unchanged (same content as indexed)", report.unchanged)):
        items += [f'<li class="pqa-ok"><b>{verb}:</b> {label(i)}</li>' for i in ids]
    items += [f'<li class="pqa-bad"><b>Rejected:</b> {label(n)} — {esc(why)}</li>' for n, why in report.skipped]
    items += [f'<li class="pqa-warn"><b>Warning:</b> {label(n)} — {esc(why)}</li>' for n, why in report.warnings]
    head = (f"The index now holds {int(report.total_docs)} documents, {int(report.total_chunks)} passages"
            f" ({float(report.seconds):.1f} s).")
    return f'<div class="pqa-report"><div>{esc(head)}</div><ul>{"".join(items)}</ul></div>'


def message_html(text: str, kind: str = "info") -> str:
    return f'<div class="pqa-report pqa-{esc(kind)}">{esc(text)}</div>'
