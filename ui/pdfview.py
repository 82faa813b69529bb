"""A PDF page as a PNG with the cited quote boxed: what "Open page" shows for a PDF citation.

pypdfium2 (the `pdfview` extra; a wheel with PDFium inside, nothing fetched at run time)
renders the page and finds the quote's characters on it. Without it, the viewer shows the
document's text with the quote marked instead.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

WIDTH_PX = 900  # rendered page width: legible on a desktop, scaled down on a phone
PNG_COMPRESS = 1  # zlib level: measured faster than 6 and no larger for rendered pages (README, "Open page")


def _pdfium():
    try:
        import pypdfium2
    except ImportError as e:
        raise ImportError("showing PDF pages needs pypdfium2: pip install 'partnerqa[pdfview]'") from e
    return pypdfium2


def _needles(quote: str) -> list[str]:
    """The quote, then shorter pieces of it: PDF text differs from extracted text in spacing and hyphens."""
    words = re.sub(r"\s+", " ", quote).strip().split(" ")
    out = [" ".join(words)]
    for n in (12, 8, 5):
        if len(words) > n:
            out.append(" ".join(words[:n]))
    return [w for w in out if len(w) >= 4]


def render_page(path: str | Path, page: int, quote: str = "", width: int = WIDTH_PX) -> tuple[bytes, bool]:
    """Page `page` (from 1) of the PDF at `path` as PNG bytes, `quote` boxed where it is found.

    Returns (png, whether the quote was found and boxed).

    Raises:
        ImportError: pypdfium2 is not installed (names the extra).
        ValueError: `page` is not a page of the file.
    """
    pdfium = _pdfium()
    from PIL import ImageDraw

    pdf = pdfium.PdfDocument(str(path))
    try:
        if not 1 <= page <= len(pdf):
            raise ValueError(f"page must be between 1 and {len(pdf)}, got {page}")
        pg = pdf[page - 1]
        w_pt, h_pt = pg.get_size()
        scale = width / w_pt
        image = pg.render(scale=scale).to_pil().convert("RGB")
        boxes: list[tuple[float, float, float, float]] = []
        if quote:
            tp = pg.get_textpage()
            for needle in _needles(quote):
                found = tp.search(needle, match_case=False).get_next()
                if found:
                    start, count = found
                    if needle != _needles(quote)[0]:  # a piece: box through to the quote's length
                        count = min(len(quote), tp.count_chars() - start)
                    boxes = [tp.get_rect(i) for i in range(tp.count_rects(start, count))]
                    break
        if boxes:
            overlay = image.copy()
            draw = ImageDraw.Draw(overlay)
            for left, bottom, right, top in boxes:
                draw.rectangle([left * scale - 2, (h_pt - top) * scale - 2, right * scale + 2,
                                (h_pt - bottom) * scale + 2], fill=(253, 224, 71))
            from PIL import Image

            image = Image.blend(image, overlay, 0.45)
            draw = ImageDraw.Draw(image)
            for left, bottom, right, top in boxes:
                draw.rectangle([left * scale - 2, (h_pt - top) * scale - 2, right * scale + 2,
                                (h_pt - bottom) * scale + 2], outline=(217, 119, 6), width=2)
        buf = io.BytesIO()
        image.save(buf, format="PNG", compress_level=PNG_COMPRESS)
        return buf.getvalue(), bool(boxes)
    finally:
        pdf.close()


def _measure(runs: int = 10) -> None:
    """`python -m ui.pdfview`: time and size of a rendered page at three widths (needs fpdf2)."""
    import statistics
    import tempfile
    import time

    from fpdf import FPDF

    quote = "The Gumi plant will package 12,000 wafers a month from March 2026."
    body = " ".join(f"Sentence {i} of the operations report fills the page with ordinary text." for i in range(40))
    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for text in (body, f"{body} {quote} {body}"):
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "measure.pdf"
        pdf.output(str(path))
        for width in (600, 900, 1200):
            times = []
            for _ in range(runs):
                t0 = time.perf_counter()
                png, found = render_page(path, 2, quote, width=width)
                times.append(time.perf_counter() - t0)
            print(f"width {width} px: median {statistics.median(times) * 1000:.0f} ms, "
                  f"PNG {len(png) / 1024:.0f} KB, quote boxed: {found}")


if __name__ == "__main__":
    _measure()
