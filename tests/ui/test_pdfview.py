"""A PDF page rendered with the cited quote boxed (pypdfium2, the `pdfview` extra)."""

import io
import sys

import pytest
from support import make_pdf

QUOTE = "The Gumi plant will package 12,000 wafers a month from March 2026."


def _yellow(png: bytes) -> int:
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    return sum(1 for r, g, b in img.getdata() if r > 230 and g > 200 and b < 190)


def test_render_page_boxes_the_quote(tmp_path):
    pytest.importorskip("pypdfium2", reason="the pdfview extra is not installed")
    from ui.pdfview import render_page

    pdf = make_pdf(tmp_path / "plan.pdf", ["Cover page of the plan.", f"Operations. {QUOTE} Other text follows."])
    png, found = render_page(pdf, 2, QUOTE)
    assert png.startswith(b"\x89PNG") and found and _yellow(png) > 500
    png1, found1 = render_page(pdf, 1, QUOTE)  # not on page 1: the page, nothing boxed
    assert not found1 and _yellow(png1) == 0
    with pytest.raises(ValueError, match="page must be between 1 and 2"):
        render_page(pdf, 3)


def test_missing_pypdfium2_names_the_extra(tmp_path, monkeypatch):
    from ui.pdfview import render_page

    monkeypatch.setitem(sys.modules, "pypdfium2", None)
    with pytest.raises(ImportError, match=r"partnerqa\[pdfview\]"):
        render_page(tmp_path / "x.pdf", 1)
