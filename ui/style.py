"""The chat page's look: its CSS, the script in its <head> (citation clicks, copy) and its theme."""

from typing import Any

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
.pqa-answer .pqa-short { margin: 0 0 6px; font-size: 1.05rem; }
.pqa-note { margin-top: 6px; font-size: 0.8rem; color: var(--body-text-color-subdued); }
.pqa-columns { margin: 4px 0; font-size: 0.8rem; color: var(--body-text-color-subdued); }
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
button.pqa-open, button.pqa-row-btn, button.pqa-view-close { font: inherit; font-size: 0.78rem; cursor: pointer;
  padding: 1px 8px; border-radius: 6px; border: 1px solid var(--border-color-primary);
  background: var(--background-fill-secondary); color: var(--body-text-color); }
button.pqa-open:hover, button.pqa-row-btn:hover { border-color: var(--color-accent); }
button.pqa-row-btn { margin: 2px 4px 2px 0; white-space: nowrap; }
button.pqa-row-btn.pqa-danger { color: #b91c1c; }
.pqa-sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
.pqa-view { border: 1px solid var(--color-accent); border-radius: 10px; padding: 8px 10px; margin-bottom: 10px; }
.pqa-view-head { display: flex; gap: 8px; align-items: baseline; margin-bottom: 6px; }
.pqa-view-title { font-weight: 600; }
.pqa-view-head .pqa-view-close { margin-left: auto; }
.pqa-view-text { max-height: 420px; overflow-y: auto; font-size: 0.88rem; line-height: 1.55; }
.pqa-view-text mark { background: #fde68a; color: #111827; }
img.pqa-view-page { width: 100%; height: auto; border: 1px solid var(--border-color-primary); }
.pqa-fb-ok { padding: 6px 10px; font-size: 0.9rem; color: #166534; }
.pqa-fb-ok.pqa-error { color: #b91c1c; }
.pqa-confirm-text { padding: 8px 10px; color: #b91c1c; font-size: 0.9rem; }
.pqa-report.pqa-ok { color: #166534; }
table.pqa-docs .pqa-doc-actions { text-align: right; white-space: nowrap; }
table.pqa-docs tr[hidden], .pqa-doc-none[hidden] { display: none !important; }
/* The feedback table scrolls inside itself; its columns never widen the page. */
#pqa-fb-table { max-width: calc(100vw - 64px); min-width: 0; overflow-x: auto; }
/* A phone: the settings and sources under the chat, each document a card, nothing wider than the screen. */
@media (max-width: 640px) {
  .gradio-container { padding: 0 6px !important; }
  #pqa-header .pqa-tagline { display: none; }
  #pqa-header .pqa-stats { margin-left: 0; }
  table.pqa-docs, table.pqa-docs tbody, table.pqa-docs tr, table.pqa-docs td { display: block; width: 100%; }
  table.pqa-docs thead { display: none; }
  table.pqa-docs tr { border: 1px solid var(--border-color-primary) !important; border-radius: 10px;
    padding: 6px 8px; margin-bottom: 8px; }
  table.pqa-docs td { border: 0 !important; padding: 2px 0; text-align: left !important; white-space: normal; }
  table.pqa-docs td.num, table.pqa-docs td.when { display: inline-block; width: auto; margin-right: 12px;
    font-size: 0.8rem; color: var(--body-text-color-subdued); }
  table.pqa-docs td[data-label]::before { content: attr(data-label) ": "; }
  table.pqa-docs td.pqa-doc-file code { word-break: break-all; }
  table.pqa-docs .pqa-doc-actions { text-align: left; white-space: normal; }
  #pqa-input-row { flex-wrap: wrap; }
  #pqa-input-row > * { min-width: 0 !important; }
  #pqa-input-row > .form:has(#pqa-input) { flex: 1 1 100% !important; }
}
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
  // Send a request to the server through a hidden textbox (its change event runs the handler).
  function send(id, value) {
    var box = document.querySelector('#' + id + ' textarea, #' + id + ' input');
    if (!box) return;
    box.value = value + '|' + Date.now();
    box.dispatchEvent(new Event('input', {bubbles: true}));
  }
  function filterDocs() {
    var q = document.querySelector('#pqa-doc-search textarea, #pqa-doc-search input');
    var words = ((q && q.value) || '').toLowerCase().split(/\\s+/).filter(Boolean);
    var rows = document.querySelectorAll('#pqa-docs tbody tr'), shown = 0;
    rows.forEach(function (r) {
      var text = r.textContent.toLowerCase();
      var ok = words.every(function (w) { return text.indexOf(w) >= 0; });
      r.hidden = !ok; if (ok) shown++;
    });
    var none = document.querySelector('#pqa-docs .pqa-doc-none'); if (none) none.hidden = shown > 0 || !rows.length;
  }
  document.addEventListener('input', function (e) {
    if (e.target && e.target.closest && e.target.closest('#pqa-doc-search')) filterDocs();
  }, true);
  new MutationObserver(function (muts) {
    muts.forEach(function (m) {
      m.addedNodes.forEach(function (n) {
        if (!n.querySelector) return;
        if (n.querySelector('table.pqa-docs') || (n.matches && n.matches('table.pqa-docs'))) filterDocs();
        var v = (n.matches && n.matches('.pqa-view')) ? n : n.querySelector('.pqa-view');
        if (v) {
          v.scrollIntoView({block: 'start'});
          var mk = v.querySelector('#pqa-view-mark');
          if (mk) { var box = v.querySelector('.pqa-view-text'); box.scrollTop = mk.offsetTop - box.offsetTop - 40; }
        }
      });
    });
  }).observe(document.documentElement, {subtree: true, childList: true});
  document.addEventListener('click', function (e) {
    var t = e.target; if (!t || !t.closest) return;
    var o = t.closest('button.pqa-open');
    if (o) {
      e.preventDefault();
      send('pqa-view-req', [o.dataset.doc, o.dataset.start || '', o.dataset.end || '', o.dataset.page || ''].join('|'));
      return;
    }
    var r = t.closest('button.pqa-row-btn');
    if (r) { e.preventDefault(); send('pqa-row-req', r.dataset.action + '|' + r.dataset.doc); return; }
    var c = t.closest('button.pqa-view-close');
    if (c) { e.preventDefault(); var v = c.closest('.pqa-view'); if (v) v.remove(); return; }
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


def theme() -> Any:
    """The page's Gradio theme: system fonts only, so nothing is fetched."""
    import gradio as gr

    system_sans = ["Inter", "ui-sans-serif", "system-ui", "-apple-system", "Segoe UI", "Roboto", "Helvetica Neue",
                   "Arial", "sans-serif"]  # plain strings: system fonts, nothing fetched
    system_mono = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "monospace"]
    return gr.themes.Default(primary_hue="blue", secondary_hue="slate", neutral_hue="slate",
                             font=system_sans, font_mono=system_mono, radius_size="md")
