"""General text cleaning: normalise characters and drop web boilerplate.

Boilerplate is recognised by what it says, not by which file it is in: short lines
that invite the reader to subscribe, share or accept cookies, and trailing
"related articles" / "read more" sections with everything after them.
"""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANKS = re.compile(r"\n{3,}")

# Short lines that are calls to action rather than content.
_CTA = re.compile(
    r"\b(subscribe|unsubscribe|sign[ -]?up|newsletter|in your inbox|no spam|cookie(s)? (policy|settings)|"
    r"accept (all )?cookies|share (this|on)|follow us|all rights reserved|advertisement|"
    r"click here|log ?in to|create an account|download (our|the) app)\b",
    re.IGNORECASE,
)
_CTA_MAX_LEN = 160

# Headings that open a trailing list of links to other pages.
_TRAILER = re.compile(
    r"^\W*(related (articles|posts|stories|news|reading)|read (more|next)|more (from|stories|news)|"
    r"you (may|might) also like|recommended( for you| reading)?|popular (now|posts|stories)|trending( now)?|"
    r"see also|latest (news|stories))\W*$",
    re.IGNORECASE,
)
_TRAILER_MIN_POSITION = 0.5


def normalize(text: str) -> str:
    """NFC, no control characters or NULs, one kind of line break, tidy spaces."""
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL.sub("", text)
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANKS.sub("\n\n", text).strip()


def remove_boilerplate(text: str) -> str:
    """Drop call-to-action lines and a trailing related-links section."""
    lines = text.split("\n")
    total = max(1, len(text))
    kept: list[str] = []
    position = 0
    for line in lines:
        if _TRAILER.match(line) and position / total >= _TRAILER_MIN_POSITION:
            break
        position += len(line) + 1
        if len(line) <= _CTA_MAX_LEN and _CTA.search(line):
            continue
        kept.append(line)
    return _BLANKS.sub("\n\n", "\n".join(kept)).strip()


def clean(text: str, *, boilerplate: bool = True) -> str:
    """`normalize`, then `remove_boilerplate` unless told not to."""
    text = normalize(text)
    return remove_boilerplate(text) if boilerplate else text
