"""Reports of an evaluation run: console table, summary.md, a self-contained report.html, run comparison.

Everything here works on the ``results.json`` shape (`eval.runner.EvalResult.to_dict`),
so a saved run can be re-rendered or compared without re-running it. The HTML report
has no scripts and no external assets: plots are inline SVG and every piece of text
from the data is escaped.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.results import LATENCY_KEYS, PER_QUESTION_KEYS

__all__ = [
    "Comparison",
    "MetricDelta",
    "compare_results",
    "failures",
    "format_comparison",
    "load_results",
    "render_html",
    "summary_markdown",
    "summary_table",
    "write_reports",
]

RATE_KEYS = PER_QUESTION_KEYS  # one list of metric names, the results format's
LOWER_IS_BETTER = frozenset({"wrong_abstention_rate", *LATENCY_KEYS})
CORRECT = frozenset({"correct", "correct_abstention"})
FAILURE_ORDER = ("wrong_answer", "wrong_abstention", "missed_abstention", "retrieval_miss")
FAILURE_TITLES = {
    "wrong_answer": "Wrong answer (answered, but no acceptable answer in the text)",
    "wrong_abstention": "Wrong abstention (abstained on an answerable question)",
    "missed_abstention": "Missed abstention (answered an unanswerable question)",
    "retrieval_miss": "Retrieval miss (no gold document in the top 5)",
}


# --------------------------------------------------------------------------- loading / writing


def load_results(path: str | Path) -> dict[str, Any]:
    """Read a ``results.json`` (or the folder that holds one).

    Raises:
        FileNotFoundError: If there is no such file.
        ValueError: If it is not a results file (no ``overall`` object or ``questions`` list).
    """
    path = Path(path)
    if path.is_dir():
        path = path / "results.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("overall"), dict)
        or not isinstance(data.get("questions"), list)
    ):
        # A bad data file is a ValueError for callers, whatever the JSON held.
        raise ValueError(f"{path}: not an eval results file (needs 'overall' and 'questions')")  # noqa: TRY004
    return data


def write_reports(data: Mapping[str, Any], out_dir: str | Path) -> dict[str, Path]:
    """Write ``results.json``, ``summary.md`` and ``report.html`` into `out_dir` (created).

    Returns:
        ``{"results": path, "summary": path, "html": path}``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {"results": out / "results.json", "summary": out / "summary.md", "html": out / "report.html"}
    paths["results"].write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    paths["summary"].write_text(summary_markdown(data), encoding="utf-8")
    paths["html"].write_text(render_html(data), encoding="utf-8")
    return paths


# --------------------------------------------------------------------------- formatting helpers


def _fmt(key: str, value: Any, scored: Mapping[str, int] | None = None) -> str:
    if value is None or (scored is not None and key in scored and not scored[key]):
        return "n/a"
    if key in LATENCY_KEYS:
        return f"{float(value):.1f}"
    return f"{float(value):.3f}"


def failures(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The question records whose outcome is not correct, grouped in `FAILURE_ORDER`."""
    rank = {name: i for i, name in enumerate(FAILURE_ORDER)}
    bad = [q for q in data.get("questions", []) if q.get("outcome") not in CORRECT]
    return sorted(bad, key=lambda q: rank.get(q.get("outcome", ""), len(rank)))


def _correct_share(kind: Mapping[str, Any]) -> float:
    outcomes = kind.get("outcomes", {})
    n = kind.get("counts", {}).get("questions", 0)
    return sum(v for k, v in outcomes.items() if k in CORRECT) / n if n else 0.0


def _short(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summary_table(data: Mapping[str, Any]) -> str:
    """A plain-text summary for the terminal: overall scores, by kind, outcomes."""
    overall, scored = data["overall"], data.get("scored", {})
    counts = data.get("counts", {})
    lines = [
        (
            f"{counts.get('questions', len(data.get('questions', [])))} questions "
            f"({counts.get('answerable', '?')} answerable, {counts.get('unanswerable', '?')} unanswerable)"
        ),
        "",
        f"{'metric':<26} {'value':>9} {'n':>5}",
        f"{'-' * 26} {'-' * 9} {'-' * 5}",
    ]
    for key in list(RATE_KEYS) + list(LATENCY_KEYS):
        if key in overall:
            n = scored.get(key, "")
            lines.append(f"{key:<26} {_fmt(key, overall[key], scored):>9} {n!s:>5}")
    by_kind = data.get("by_kind", {})
    if by_kind:
        cols = ("hit@5", "mrr@10", "accuracy", "token_f1", "abstention_recall", "wrong_abstention_rate")
        head = f"{'kind':<22} {'n':>4} {'correct':>8} " + " ".join(f"{c[:10]:>10}" for c in cols)
        lines += ["", head, "-" * len(head)]
        for kind, v in by_kind.items():
            row = f"{kind[:22]:<22} {v['counts']['questions']:>4} {_correct_share(v):>8.3f} "
            row += " ".join(f"{_fmt(c, v['overall'].get(c), v.get('scored')):>10}" for c in cols)
            lines.append(row)
    lines += by_language_table(data, markdown=False)
    outcomes = data.get("outcomes", {})
    if outcomes:
        lines += ["", "outcomes: " + ", ".join(f"{k} {v}" for k, v in outcomes.items())]
    return "\n".join(lines)


_LANG_COLS = ("hit@1", "hit@5", "mrr@10", "accuracy", "abstention_recall", "wrong_abstention_rate", "latency_p50_ms")


def by_language_table(data: Mapping[str, Any], *, markdown: bool) -> list[str]:
    """The scores per question language (``by_lang`` in results.json), as terminal or Markdown lines."""
    by_lang = data.get("by_lang", {})
    if not by_lang:
        return []
    if markdown:
        out = ["", "## By language", "", "| language | n | correct | " + " | ".join(_LANG_COLS) + " |",
               "|---|---:|---:|" + "---:|" * len(_LANG_COLS)]
        for lang, v in by_lang.items():
            cells = " | ".join(_fmt(c, v["overall"].get(c), v.get("scored")) for c in _LANG_COLS)
            out.append(f"| {_md(lang)} | {v['counts']['questions']} | {_correct_share(v):.3f} | {cells} |")
        return out
    head = f"{'language':<22} {'n':>4} {'correct':>8} " + " ".join(f"{c[:10]:>10}" for c in _LANG_COLS)
    out = ["", head, "-" * len(head)]
    for lang, v in by_lang.items():
        row = f"{lang[:22]:<22} {v['counts']['questions']:>4} {_correct_share(v):>8.3f} "
        out.append(row + " ".join(f"{_fmt(c, v['overall'].get(c), v.get('scored')):>10}" for c in _LANG_COLS))
    return out


# --------------------------------------------------------------------------- summary.md


def _md(text: Any) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _retrieved_md(q: Mapping[str, Any], limit: int = 5) -> str:
    gold = set(q.get("gold_docs", []))
    docs = q.get("retrieved", [])[:limit]
    return ", ".join(f"**{_md(d)}**" if d in gold else _md(d) for d in docs) or "(nothing)"


def summary_markdown(data: Mapping[str, Any]) -> str:
    """``summary.md``: the run's setup, the overall and per-kind tables, and the failures."""
    cfg, overall, scored = data.get("config", {}), data["overall"], data.get("scored", {})
    counts = data.get("counts", {})
    out = [
        f"# Evaluation: {_md(Path(str(cfg.get('set', 'question set'))).name)}",
        "",
        (
            f"- questions: {counts.get('questions')} ({counts.get('answerable')} answerable, "
            f"{counts.get('unanswerable')} unanswerable)"
        ),
        (
            f"- k {cfg.get('k')}, mode {cfg.get('mode')}, abstain threshold {cfg.get('abstain_threshold')}, "
            f"embedder {_md((cfg.get('embedder') or {}).get('name'))}"
        ),
        (
            f"- commit {cfg.get('git_commit') or 'unknown'}{' (uncommitted changes)' if cfg.get('git_dirty') else ''}, "
            f"started {cfg.get('started_at', '?')}"
        ),
        "",
        "## Overall",
        "",
        "| metric | value | n |",
        "|---|---:|---:|",
    ]
    for key in list(RATE_KEYS) + list(LATENCY_KEYS):
        if key in overall:
            out.append(f"| {key} | {_fmt(key, overall[key], scored)} | {scored.get(key, '')} |")
    by_kind = data.get("by_kind", {})
    if by_kind:
        cols = (
            "hit@5",
            "mrr@10",
            "accuracy",
            "token_f1",
            "citation_precision",
            "abstention_recall",
            "wrong_abstention_rate",
            "latency_p50_ms",
        )
        out += [
            "",
            "## By kind",
            "",
            "| kind | n | correct | " + " | ".join(cols) + " |",
            "|---|---:|---:|" + "---:|" * len(cols),
        ]
        for kind, v in by_kind.items():
            cells = " | ".join(_fmt(c, v["overall"].get(c), v.get("scored")) for c in cols)
            out.append(f"| {_md(kind)} | {v['counts']['questions']} | {_correct_share(v):.3f} | {cells} |")
    out += by_language_table(data, markdown=True)
    bad = failures(data)
    out += ["", f"## Failures ({len(bad)})", ""]
    if not bad:
        out.append("None.")
    else:
        out += [
            "| qid | kind | outcome | question | expected | answer | retrieved (gold in bold) |",
            "|---|---|---|---|---|---|---|",
        ]
        for q in bad:
            expected = " / ".join(q.get("answers", [])) or ("(abstain)" if not q.get("answerable") else "—")
            answer = "(abstained)" if q.get("abstained") else _short(q.get("answer", ""), 200)
            out.append(
                f"| {_md(q['qid'])} | {_md(q.get('kind', ''))} | {q.get('outcome')} | "
                f"{_md(q.get('question', ''))} | {_md(expected)} | {_md(answer)} | {_retrieved_md(q)} |"
            )
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- SVG plots


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


SERIES_COLOURS = ("#2b6cb0", "#38a169", "#d69e2e", "#805ad5")


def svg_bar_chart(groups: Sequence[str], series: Sequence[tuple[str, Sequence[float | None]]], title: str) -> str:
    """Grouped bars in [0, 1]: one group per label, one bar per series (None: no bar, "n/a")."""
    n_series = max(1, len(series))
    bar, gap, left, top, height = 22, 26, 44, 46, 220
    group_w = n_series * bar + gap
    width = max(left + max(1, len(groups)) * group_w + 20, left + len(series) * 150 + 20)
    total_h = top + height + 64
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total_h}" role="img" '
            f'aria-label="{_e(title)}">'
        ),
        f"<title>{_e(title)}</title>",
    ]
    for i, (name, _) in enumerate(series):  # legend
        x = left + i * 150
        parts.append(
            f'<rect x="{x}" y="8" width="12" height="12" fill="{SERIES_COLOURS[i % 4]}"/>'
            f'<text x="{x + 16}" y="19" font-size="12">{_e(name)}</text>'
        )
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):  # axis and grid
        y = top + height - t * height
        parts.append(
            f'<line x1="{left}" x2="{width - 10}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end">{t:.2f}</text>'
        )
    for g, label in enumerate(groups):
        gx = left + g * group_w + gap / 2
        for s, (name, values) in enumerate(series):
            v = values[g] if g < len(values) else None
            x = gx + s * bar
            if v is None:
                parts.append(
                    f'<text x="{x + bar / 2:.1f}" y="{top + height - 4}" font-size="9" '
                    f'text-anchor="middle" fill="#999">n/a</text>'
                )
                continue
            h = max(0.0, min(1.0, float(v))) * height
            parts.append(
                f'<rect x="{x:.1f}" y="{top + height - h:.1f}" width="{bar - 3}" height="{h:.1f}" '
                f'fill="{SERIES_COLOURS[s % 4]}"><title>{_e(label)} {_e(name)}: {float(v):.3f}</title></rect>'
                f'<text x="{x + (bar - 3) / 2:.1f}" y="{top + height - h - 3:.1f}" font-size="9" '
                f'text-anchor="middle">{float(v):.2f}</text>'
            )
        parts.append(
            f'<text x="{gx + n_series * bar / 2:.1f}" y="{top + height + 18}" font-size="12" '
            f'text-anchor="middle">{_e(label)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def svg_histogram(
    values: Sequence[float], title: str, *, bins: int = 20, markers: Sequence[tuple[str, float]] = ()
) -> str:
    """A histogram of `values` (ms) with labelled vertical markers (p50, p95)."""
    left, top, plot_w, height = 48, 30, 560, 180
    width, total_h = left + plot_w + 20, top + height + 50
    parts = [
        (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total_h}" role="img" '
            f'aria-label="{_e(title)}">'
        ),
        f"<title>{_e(title)}</title>",
        f'<text x="{left}" y="16" font-size="13">{_e(title)}</text>',
    ]
    if not values:
        parts.append(f'<text x="{left}" y="{top + 40}" font-size="12">no data</text></svg>')
        return "".join(parts)
    lo, hi = 0.0, max(float(v) for v in values)
    hi = hi if hi > lo else lo + 1.0
    step = (hi - lo) / bins
    counts = [0] * bins
    for v in values:
        counts[min(bins - 1, int((float(v) - lo) / step))] += 1
    peak = max(counts)
    bw = plot_w / bins
    for i, c in enumerate(counts):
        h = c / peak * height if peak else 0
        parts.append(
            f'<rect x="{left + i * bw:.1f}" y="{top + height - h:.1f}" width="{bw - 1:.1f}" '
            f'height="{h:.1f}" fill="#2b6cb0"><title>{lo + i * step:.0f}–{lo + (i + 1) * step:.0f} ms: '
            f"{c}</title></rect>"
        )
    parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{top + height}" y2="{top + height}" stroke="#333"/>')
    for t in range(6):
        x = left + t * plot_w / 5
        parts.append(
            f'<text x="{x:.1f}" y="{top + height + 16}" font-size="11" text-anchor="middle">'
            f"{lo + t * (hi - lo) / 5:.0f}</text>"
        )
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{top + height + 34}" font-size="11" text-anchor="middle">ms'
        f" (n = {len(values)}, tallest bar {peak})</text>"
    )
    for i, (name, value) in enumerate(markers):
        x = left + (float(value) - lo) / (hi - lo) * plot_w
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + height}" stroke="#c53030" '
            f'stroke-dasharray="4 3"/><text x="{x + 3:.1f}" y="{top + 12 + 12 * i}" font-size="11" '
            f'fill="#c53030">{_e(name)} {float(value):.0f}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


# --------------------------------------------------------------------------- report.html

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:2em auto;max-width:1150px;color:#1a202c;padding:0 1em}
table{border-collapse:collapse;margin:.5em 0 1.5em}td,th{border:1px solid #cbd5e0;padding:.25em .5em;font-size:14px}
th{background:#edf2f7;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
.fail{border:1px solid #e2e8f0;border-left:4px solid #c53030;padding:.5em 1em;margin:.6em 0;border-radius:4px}
.meta{color:#4a5568;font-size:13px}.gold{font-weight:bold;color:#276749}code{font-size:13px}
blockquote{margin:.3em 0;padding:.2em .8em;border-left:3px solid #cbd5e0;color:#2d3748;font-size:13px}
"""


def _config_rows(cfg: Mapping[str, Any]) -> str:
    emb = cfg.get("embedder") or {}
    rows = [
        ("set", cfg.get("set")),
        ("corpus", cfg.get("corpus")),
        ("index", cfg.get("index")),
        ("k / mode", f"{cfg.get('k')} / {cfg.get('mode')}"),
        ("abstain threshold", cfg.get("abstain_threshold")),
        ("answer mode", cfg.get("answer_mode")),
        ("embedder", f"{emb.get('name')} ({emb.get('fingerprint')})"),
        ("chunker", json.dumps(cfg.get("chunker"), sort_keys=True) if cfg.get("chunker") is not None else None),
        ("support judge", json.dumps(cfg.get("support_judge")) if cfg.get("support_judge") else None),
        ("git commit", f"{cfg.get('git_commit')}{' (uncommitted changes)' if cfg.get('git_dirty') else ''}"),
        ("started", cfg.get("started_at")),
        ("eval seconds", cfg.get("eval_seconds")),
    ]
    return "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in rows if v is not None)


def _failure_html(q: Mapping[str, Any]) -> str:
    gold = set(q.get("gold_docs", []))
    retrieved = (
        ", ".join(f'<span class="gold">{_e(d)} ✓</span>' if d in gold else _e(d) for d in q.get("retrieved", []))
        or "(nothing)"
    )
    expected = " / ".join(q.get("answers", [])) or ("(should abstain)" if not q.get("answerable") else "—")
    parts = [
        '<div class="fail">',
        (
            f'<p><b>{_e(q.get("qid"))}</b> <span class="meta">[{_e(q.get("kind"))}; {_e(q.get("outcome"))}; '
            f"confidence {float(q.get('confidence') or 0):.3f}]</span><br>{_e(q.get('question'))}</p>"
        ),
        f'<p class="meta">expected: {_e(expected)}; gold docs: {_e(", ".join(q.get("gold_docs", [])) or "—")}</p>',
        f"<p>answer: {'<i>(abstained)</i> ' if q.get('abstained') else ''}{_e(q.get('answer', ''))}</p>",
        f'<p class="meta">retrieved: {retrieved}</p>',
    ]
    passages = q.get("passages", [])
    if passages:
        parts.append(f'<details><summary class="meta">top {len(passages)} passages</summary>')
        for p in passages:
            cls = ' class="gold"' if p.get("doc_id") in gold else ""
            parts.append(
                f'<p class="meta"><span{cls}>{_e(p.get("doc_id"))}</span> '
                f"[{_e(p.get('start'))}:{_e(p.get('end'))}] score {_e(p.get('score'))}</p>"
                f"<blockquote>{_e(p.get('text', ''))}</blockquote>"
            )
        parts.append("</details>")
    parts.append("</div>")
    return "".join(parts)


def reliability_bins(questions: Sequence[Mapping[str, Any]], bins: int = 10) -> list[dict[str, float]]:
    """Answered questions binned by the answerer's confidence: mean confidence, share answered right.

    An answered unanswerable question counts as wrong. Abstentions are left out: no answer was
    shown, so there is nothing to be right or wrong about.
    """
    out = []
    answered = [q for q in questions if not q.get("abstained")]
    for b in range(bins):
        lo, hi = b / bins, (b + 1) / bins
        sel = [q for q in answered
               if lo <= float(q.get("confidence") or 0.0) < hi or (b == bins - 1 and float(q.get("confidence") or 0) >= hi)]
        if sel:
            right = sum(1 for q in sel if q.get("outcome") == "correct")
            out.append({"lo": lo, "hi": hi, "n": len(sel),
                        "predicted": sum(float(q.get("confidence") or 0.0) for q in sel) / len(sel),
                        "observed": right / len(sel)})
    return out


def svg_reliability(rows: Sequence[Mapping[str, float]], title: str) -> str:
    """A reliability diagram: observed accuracy against mean confidence per bin, with the diagonal."""
    left, top, size = 48, 30, 220
    width, total_h = left + size + 160, top + size + 50
    parts = [
        (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{total_h}" role="img" '
        f'aria-label="{_e(title)}">'),
        f"<title>{_e(title)}</title>",
        f'<text x="{left}" y="16" font-size="13">{_e(title)}</text>',
        f'<rect x="{left}" y="{top}" width="{size}" height="{size}" fill="none" stroke="#999"/>',
        f'<line x1="{left}" y1="{top + size}" x2="{left + size}" y2="{top}" stroke="#bbb" stroke-dasharray="4 3"/>',
        f'<text x="{left}" y="{top + size + 16}" font-size="11">0</text>',
        f'<text x="{left + size - 8}" y="{top + size + 16}" font-size="11">1</text>',
        f'<text x="{left + size / 2 - 40}" y="{top + size + 32}" font-size="11">confidence</text>',
        f'<text x="{left - 40}" y="{top + 10}" font-size="11">right</text>',
    ]
    if not rows:
        parts.append(f'<text x="{left + 10}" y="{top + 40}" font-size="12">no answered questions</text></svg>')
        return "".join(parts)
    peak = max(r["n"] for r in rows)
    for r in rows:
        x = left + r["predicted"] * size
        y = top + (1 - r["observed"]) * size
        radius = 3 + 6 * (r["n"] / peak) ** 0.5
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{radius:.1f}" fill="#2b6cb0" fill-opacity="0.7">'
                     f'<title>{r["lo"]:.1f}–{r["hi"]:.1f}: {r["n"]} answered, confidence {r["predicted"]:.2f}, '
                     f'right {r["observed"]:.2f}</title></circle>')
    parts.append(f'<text x="{left + size + 12}" y="{top + 20}" font-size="11">dot size: questions</text></svg>')
    return "".join(parts)


def render_html(data: Mapping[str, Any]) -> str:
    """``report.html``: one self-contained page (inline CSS and SVG, no scripts, all text escaped)."""
    cfg, overall, scored = data.get("config", {}), data["overall"], data.get("scored", {})
    counts = data.get("counts", {})
    questions = data.get("questions", [])
    title = f"partnerqa eval: {Path(str(cfg.get('set', 'run'))).name}"
    overall_rows = "".join(
        f'<tr><td>{_e(k)}</td><td class="num">{_e(_fmt(k, overall[k], scored))}</td>'
        f'<td class="num">{_e(scored.get(k, ""))}</td></tr>'
        for k in list(RATE_KEYS) + list(LATENCY_KEYS)
        if k in overall
    )
    by_kind = data.get("by_kind", {})
    kinds = list(by_kind)
    chart = svg_bar_chart(
        kinds,
        [
            ("correct (outcome)", [_correct_share(by_kind[k]) for k in kinds]),
            ("hit@5", [_scored(by_kind[k], "hit@5") for k in kinds]),
            ("token F1", [_scored(by_kind[k], "token_f1") for k in kinds]),
            ("abstained (share)", [_abstained_share(by_kind[k]) for k in kinds]),
        ],
        "Score by question kind",
    )
    kind_cols = (
        "hit@5",
        "mrr@10",
        "accuracy",
        "token_f1",
        "citation_precision",
        "citation_recall",
        "abstention_recall",
        "wrong_abstention_rate",
        "latency_p50_ms",
    )
    kind_rows = "".join(
        f'<tr><td>{_e(k)}</td><td class="num">{v["counts"]["questions"]}</td>'
        f'<td class="num">{_correct_share(v):.3f}</td>'
        + "".join(f'<td class="num">{_e(_fmt(c, v["overall"].get(c), v.get("scored")))}</td>' for c in kind_cols)
        + "</tr>"
        for k, v in by_kind.items()
    )
    total = [float(q.get("total_ms", 0.0)) for q in questions]
    retrieve = [float(q.get("retrieve_ms", 0.0)) for q in questions]
    hist_total = svg_histogram(
        total,
        "End-to-end latency per question",
        markers=[("p50", overall.get("latency_p50_ms", 0.0)), ("p95", overall.get("latency_p95_ms", 0.0))],
    )
    hist_retrieve = svg_histogram(
        retrieve,
        "Retrieval latency per question",
        markers=[
            ("p50", overall.get("retrieval_latency_p50_ms", 0.0)),
            ("p95", overall.get("retrieval_latency_p95_ms", 0.0)),
        ],
    )
    calibration = svg_reliability(reliability_bins(questions), "Calibration: confidence vs answered right")
    bad = failures(data)
    fail_html: list[str] = []
    for name in list(FAILURE_ORDER) + sorted({q.get("outcome", "") for q in bad} - set(FAILURE_ORDER)):
        group = [q for q in bad if q.get("outcome") == name]
        if group:
            fail_html.append(f"<h3>{_e(FAILURE_TITLES.get(name, name))}: {len(group)}</h3>")
            fail_html.extend(_failure_html(q) for q in group)
    outcomes = ", ".join(f"{_e(k)} {_e(v)}" for k, v in data.get("outcomes", {}).items())
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{_CSS}</style></head>
<body>
<h1>{_e(title)}</h1>
<p>{_e(counts.get("questions"))} questions ({_e(counts.get("answerable"))} answerable,
{_e(counts.get("unanswerable"))} unanswerable). Outcomes: {outcomes}.</p>
<table>{_config_rows(cfg)}</table>
<h2>Overall</h2>
<table><tr><th>metric</th><th>value</th><th>n</th></tr>{overall_rows}</table>
<p class="meta">Retrieval metrics use the ranked, de-duplicated documents of the retrieved passages; answer
metrics the answer text without [n] markers (an abstention scores 0 on an answerable question); citation
metrics use a lexical + embedding support judge, not an NLI model.</p>
<h2>By question kind</h2>
{chart}
<div style="overflow-x:auto"><table><tr><th>kind</th><th>n</th><th>correct</th>
{"".join(f"<th>{_e(c)}</th>" for c in kind_cols)}</tr>
{kind_rows}</table></div>
<h2>Latency</h2>
{hist_total}
{hist_retrieve}
<h2>Calibration</h2>
<p class="meta">Answered questions grouped by the answerer's confidence: a well calibrated answerer puts
each dot on the diagonal. Abstentions are left out.</p>
{calibration}
<h2>Failures ({len(bad)})</h2>
{"".join(fail_html) or "<p>None.</p>"}
<h2>All questions</h2>
<details><summary>{len(questions)} questions</summary>
<table><tr><th>qid</th><th>kind</th><th>outcome</th><th>question</th><th>answer</th><th>total ms</th></tr>
{"".join(_question_row(q) for q in questions)}</table></details>
</body></html>
"""


def _question_row(q: Mapping[str, Any]) -> str:
    answer = "(abstained)" if q.get("abstained") else _short(q.get("answer", ""), 160)
    return (
        f"<tr><td>{_e(q.get('qid'))}</td><td>{_e(q.get('kind'))}</td><td>{_e(q.get('outcome'))}</td>"
        f"<td>{_e(q.get('question'))}</td><td>{_e(answer)}</td>"
        f'<td class="num">{float(q.get("total_ms") or 0):.0f}</td></tr>'
    )


def _abstained_share(kind: Mapping[str, Any]) -> float:
    outcomes = kind.get("outcomes", {})
    n = kind.get("counts", {}).get("questions", 0)
    abstained = outcomes.get("wrong_abstention", 0) + outcomes.get("correct_abstention", 0)
    return abstained / n if n else 0.0


def _scored(kind: Mapping[str, Any], key: str) -> float | None:
    if not kind.get("scored", {}).get(key):
        return None
    return kind["overall"].get(key)


# --------------------------------------------------------------------------- comparison


@dataclass(frozen=True)
class MetricDelta:
    """One overall metric in two runs. `better` is None when unchanged or not comparable."""

    key: str
    a: float | None
    b: float | None
    delta: float | None
    better: bool | None


@dataclass(frozen=True)
class Comparison:
    """What changed from run A to run B.

    Attributes:
        metrics: Overall metric deltas (B - A).
        correct_to_wrong: qids correct in A, not in B (with B's outcome).
        wrong_to_correct: qids not correct in A, correct in B.
        outcome_changes: qids whose outcome label changed, as ``(qid, a_outcome, b_outcome)``.
        started_abstaining: qids answered in A, abstained in B.
        stopped_abstaining: qids abstained in A, answered in B.
        retrieval_lost: qids with a gold doc in the top 5 in A but not in B.
        retrieval_gained: the reverse.
        only_in_a: qids missing from B.
        only_in_b: qids missing from A.
    """

    metrics: tuple[MetricDelta, ...]
    correct_to_wrong: tuple[tuple[str, str], ...]
    wrong_to_correct: tuple[tuple[str, str], ...]
    outcome_changes: tuple[tuple[str, str, str], ...]
    started_abstaining: tuple[str, ...]
    stopped_abstaining: tuple[str, ...]
    retrieval_lost: tuple[str, ...]
    retrieval_gained: tuple[str, ...]
    only_in_a: tuple[str, ...]
    only_in_b: tuple[str, ...]


def _is_correct(q: Mapping[str, Any]) -> bool:
    if "correct" in q:
        return bool(q["correct"])
    return q.get("outcome") in CORRECT


def _hit5(q: Mapping[str, Any]) -> float | None:
    return (q.get("scores") or {}).get("hit@5")


def compare_results(a: Mapping[str, Any], b: Mapping[str, Any]) -> Comparison:
    """Compare two runs (``results.json`` dicts) overall and question by question (matched by qid)."""
    deltas = []
    oa, ob = a.get("overall", {}), b.get("overall", {})
    for key in list(RATE_KEYS) + list(LATENCY_KEYS) + sorted((set(oa) | set(ob)) - set(RATE_KEYS) - set(LATENCY_KEYS)):
        va, vb = oa.get(key), ob.get(key)
        if va is None and vb is None:
            continue
        num = isinstance(va, (int, float)) and isinstance(vb, (int, float))
        delta = float(vb) - float(va) if num else None
        better = None
        if delta is not None and not math.isclose(delta, 0.0, abs_tol=1e-9):
            better = (delta < 0) if key in LOWER_IS_BETTER else (delta > 0)
        deltas.append(MetricDelta(key, va, vb, delta, better))
    qa = {q["qid"]: q for q in a.get("questions", [])}
    qb = {q["qid"]: q for q in b.get("questions", [])}
    both = [qid for qid in qa if qid in qb]
    return Comparison(
        metrics=tuple(deltas),
        correct_to_wrong=tuple(
            (i, str(qb[i].get("outcome", ""))) for i in both if _is_correct(qa[i]) and not _is_correct(qb[i])
        ),
        wrong_to_correct=tuple(
            (i, str(qa[i].get("outcome", ""))) for i in both if not _is_correct(qa[i]) and _is_correct(qb[i])
        ),
        outcome_changes=tuple(
            (i, str(qa[i].get("outcome", "")), str(qb[i].get("outcome", "")))
            for i in both
            if qa[i].get("outcome") != qb[i].get("outcome")
        ),
        started_abstaining=tuple(i for i in both if not qa[i].get("abstained") and qb[i].get("abstained")),
        stopped_abstaining=tuple(i for i in both if qa[i].get("abstained") and not qb[i].get("abstained")),
        retrieval_lost=tuple(i for i in both if _hit5(qa[i]) == 1.0 and _hit5(qb[i]) == 0.0),
        retrieval_gained=tuple(i for i in both if _hit5(qa[i]) == 0.0 and _hit5(qb[i]) == 1.0),
        only_in_a=tuple(i for i in qa if i not in qb),
        only_in_b=tuple(i for i in qb if i not in qa),
    )


def format_comparison(c: Comparison, names: tuple[str, str] = ("A", "B")) -> str:
    """The comparison as text: metric deltas, then the questions that flipped."""
    lines = [
        f"A = {names[0]}",
        f"B = {names[1]}",
        "",
        f"{'metric':<26} {'A':>9} {'B':>9} {'B-A':>9}",
        f"{'-' * 26} {'-' * 9} {'-' * 9} {'-' * 9}",
    ]
    for d in c.metrics:
        mark = {True: "  better", False: "  worse", None: ""}[d.better]
        delta = (
            f"{d.delta:+.3f}"
            if d.delta is not None and d.key not in LATENCY_KEYS
            else (f"{d.delta:+.1f}" if d.delta is not None else "n/a")
        )
        lines.append(f"{d.key:<26} {_fmt(d.key, d.a):>9} {_fmt(d.key, d.b):>9} {delta:>9}{mark}")

    def block(title: str, items: Sequence[str]) -> None:
        lines.extend(["", f"{title} ({len(items)}):"])
        lines.extend(f"  {item}" for item in items)
        if not items:
            lines.append("  none")

    block("correct -> wrong", [f"{qid} (now {o})" for qid, o in c.correct_to_wrong])
    block("wrong -> correct", [f"{qid} (was {o})" for qid, o in c.wrong_to_correct])
    block("started abstaining", list(c.started_abstaining))
    block("stopped abstaining", list(c.stopped_abstaining))
    block(
        "other outcome changes",
        [
            f"{qid}: {oa} -> {ob}"
            for qid, oa, ob in c.outcome_changes
            if qid not in {q for q, _ in c.correct_to_wrong + c.wrong_to_correct}
        ],
    )
    block("gold doc lost from top 5", list(c.retrieval_lost))
    block("gold doc gained in top 5", list(c.retrieval_gained))
    if c.only_in_a or c.only_in_b:
        block("only in A", list(c.only_in_a))
        block("only in B", list(c.only_in_b))
    return "\n".join(lines)
