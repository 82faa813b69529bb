"""Which language a text is written in, told by the Unicode script of its letters."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

#: What `detect_lang` returns for each script. Latin is reported as English: every Latin-script
#: text goes through the English channels (all-MiniLM-L6-v2 and the stemmed BM25 terms).
SCRIPT_LANG = {"hangul": "ko", "kana": "ja", "han": "zh", "cyrillic": "ru", "latin": "en"}
UNDETERMINED = "und"

# A Hangul syllable or a Han character carries about as much as two or three Latin letters:
# "엔비디아" is "Nvidia". Weighting them so, a Korean question that names "Vera Rubin" or "APEC"
# in Latin letters is still Korean.
_WEIGHT = {"hangul": 2.5, "han": 2.5, "kana": 1.5}


def script_of(ch: str) -> str | None:
    """The script of one letter: hangul, kana, han, cyrillic, latin, other; None for a non-letter."""
    if not ch.isalpha():
        return None
    o = ord(ch)
    if 0xAC00 <= o <= 0xD7A3 or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F or 0xA960 <= o <= 0xA97F \
            or 0xD7B0 <= o <= 0xD7FF:
        return "hangul"
    if 0x3040 <= o <= 0x30FF or 0x31F0 <= o <= 0x31FF or 0xFF66 <= o <= 0xFF9F:
        return "kana"
    if 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF or 0xF900 <= o <= 0xFAFF:
        return "han"
    if 0x0400 <= o <= 0x04FF:
        return "cyrillic"
    if o < 0x0250 or 0x1E00 <= o <= 0x1EFF or 0xFF21 <= o <= 0xFF5A:
        return "latin"
    return "other"


def script_counts(text: str) -> Counter[str]:
    """Letters of `text` by script (digits, punctuation and spaces are not counted)."""
    return Counter(s for s in map(script_of, text) if s is not None)


def detect_lang(text: str) -> str:
    """"ko", "ja", "zh", "ru", "en" (any Latin-script text), "other" (another script) or "und" (no letters).

    The script with the largest weighted share of the letters wins; Japanese is kana, or
    Han characters with any kana. Two characters are enough: "칩?" is Korean.
    """
    counts = script_counts(text)
    if not counts:
        return UNDETERMINED
    if counts.get("kana") and counts.get("han"):
        counts["kana"] += counts.pop("han")
    best = max(counts, key=lambda s: (counts[s] * _WEIGHT.get(s, 1.0), s == "latin"))
    return SCRIPT_LANG.get(best, "other")


def is_english(lang: str) -> bool:
    """True for what the English channels handle: Latin script, or nothing to tell from."""
    return lang in ("en", UNDETERMINED)


def language_counts(texts: Iterable[str]) -> dict[str, int]:
    """How many texts `detect_lang` gives each language (the index records this for its chunks).

    A text with no letter beyond Latin Extended counts as English without a letter-by-letter
    count, so 100,000 English chunks take a fraction of a second.
    """
    out: Counter[str] = Counter()
    for t in texts:
        out["en" if _BEYOND_LATIN.search(t) is None and _LETTER.search(t) else detect_lang(t)] += 1
    return dict(sorted(out.items()))


# Letters of other scripts (punctuation such as curly quotes and dashes, U+2000-2BFF, is not one).
_BEYOND_LATIN = re.compile("[\u0250-\u1dff\u1f00-\u1fff\u2c00-\ud7ff\uf900-\uff20\uff5b-\uffef]")
_LETTER = re.compile(r"[^\W\d_]")


_NON_LATIN_RUN = re.compile("[\u0250-\u1dff\u1f00-\u1fff\u2c00-\ud7ff\uf900-\uff20\uff5b-\uffef]+")


def latin_part(text: str) -> str:
    """`text` without its runs of other scripts when it is written in Latin script: what an English sentence
    says for a multilingual model to weigh against a question in another language. "Bae Kyung-hoon (Korean:
    배경훈; born 1976) is ..." -> "Bae Kyung-hoon (Korean: ; born 1976) is ...": e5 scores a sentence higher
    for sharing the question's script, whatever it says. A text mostly in another script is returned whole.
    """
    if _BEYOND_LATIN.search(text) is None or detect_lang(text) != "en":
        return text
    return _NON_LATIN_RUN.sub("", text)
