"""Names the documents themselves give in two scripts: "Bae Kyung-hoon (Korean: 배경훈; born 1976)".

A Korean question writes a person's or company's name in Hangul while the English sources write it
in Latin letters. Many sources (Wikipedia above all) give the native spelling in brackets after the
Latin one; `name_aliases` collects those pairs so that a question naming "배경훈" is known to name
"Bae Kyung-hoon": its words match the English sentence, and the name is not taken for an answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_HANGUL_RUN = r"[\uac00-\ud7a3](?:[\uac00-\ud7a3 ]{0,30}[\uac00-\ud7a3])?"
_LATIN_NAME = r"[A-Z][\w.’'&-]*(?:[ ][A-Z][\w.’'&-]*){0,4}"
# "Latin Name (Korean: 한글" or "Latin Name (한글" (an optional "Korean:"/"Hangul:"-style label).
_PAIR = re.compile(rf"({_LATIN_NAME})\s*\((?:[A-Za-z]{{2,12}}\s*:\s*)?({_HANGUL_RUN})\s*[;,)]")
MIN_HANGUL = 2  # one syllable would match inside too many Korean words


def name_aliases(texts: Iterable[str]) -> dict[str, str]:
    """Hangul spelling -> Latin spelling, from every "Latin (Hangul)" pair in `texts`.

    The first pair wins when a Hangul spelling is given twice.
    """
    out: dict[str, str] = {}
    for text in texts:
        if "(" not in text:
            continue
        for m in _PAIR.finditer(text):
            latin, hangul = m.group(1).strip(), m.group(2).strip()
            if len(hangul.replace(" ", "")) >= MIN_HANGUL:
                out.setdefault(hangul, latin)
    return out


def aliases_in(question: str, aliases: dict[str, str]) -> list[str]:
    """The Latin spellings of the Hangul names `question` holds (particles may follow them: "배경훈은")."""
    return [latin for hangul, latin in aliases.items() if hangul in question]
