"""General text cleaning: normalise characters and drop web boilerplate.

Boilerplate is recognised by what it says, not by which file it is in: short lines
that invite the reader to subscribe, share or accept cookies, and trailing
"related articles" / "read more" sections with everything after them.
"""

from __future__ import annotations

import re
import unicodedata

# C0 and C1 controls (C1 comes from broken ToUnicode maps in PDFs and latin-1 fallbacks), DEL, non-characters.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Inline base64 payloads (data: URIs of images, fonts...) are bytes, not text; a few MB
# of them would otherwise become thousands of chunks of noise.
_DATA_URI = re.compile(r"data:[\w.+-]+/[\w.+-]+(?:;[\w.+-]+=[\w.+-]+)*;base64,(?:(?!data:)[A-Za-z0-9+/=]){200,}")
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


def fix_surrogates(text: str) -> str:
    """Join surrogate pairs into their characters and turn lone surrogates into U+FFFD.

    Lone surrogates come from JSON escapes (`"\\ud800"`), file names that are not UTF-8
    and some PDF fonts; they cannot be written as UTF-8, so they must not reach the index.
    """
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


# Characters that show nothing: whitespace, zero-width and joiner characters, bidi and other
# format controls, variation selectors, soft hyphens, Hangul fillers, tags.
_VISIBLE = re.compile(
    "[^\\s\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\U000e0000-\U000e0fff]"
)


def has_visible_text(text: str) -> bool:
    """True when `text` has at least one character that shows (not only zero-width or format ones)."""
    return _VISIBLE.search(text) is not None


def normalize(text: str) -> str:
    """NFC, no control characters, NULs or lone surrogates, one kind of line break, tidy spaces."""
    text = fix_surrogates(text)
    # Controls go before NFC: removing one can bring a base letter and a combining mark together.
    text = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = unicodedata.normalize("NFC", text)
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


# A numbered heading glued to the end of the line before it, as some HTML-to-text conversions
# leave a list item and the next "5. Heading" ("Seoul R&D center growth5. The visit was ...").
# A lower-case letter right before the number is what gives it away: "COVID19." or "2.5. " do not match.
_GLUED_NUMBER = re.compile(r"(?<=[a-z])(\d{1,2}\. )(?=[A-Z][a-z])")


def split_glued_numbering(text: str) -> str:
    """Put a numbered heading glued to the previous line back on a line of its own."""
    return _GLUED_NUMBER.sub(lambda m: "\n" + m.group(1), text)


def clean(text: str, *, boilerplate: bool = True) -> str:
    """`normalize` (inline base64 data removed), glued numbered headings split off, then
    `remove_boilerplate` unless told not to."""
    text = split_glued_numbering(normalize(_DATA_URI.sub(" ", text) if "base64," in text else text))
    return remove_boilerplate(text) if boilerplate else text
