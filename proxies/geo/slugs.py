"""The `extract_parameter` rule for geo names: pure Python, no Django.

Gateway usernames embed locations as lower-case ASCII tokens separated by '-' (for example
`user-country-us-state-new_york`), so words inside one name are joined with '_' instead.
"""

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^a-z0-9]+")
# Letters that Unicode does not decompose into an ASCII base letter plus accents; without this
# table they would vanish ("Łódzkie" -> "odzkie").  Apostrophes join their neighbours' words.
_TRANSLITERATE = str.maketrans(
    {
        "ł": "l", "Ł": "l", "ß": "ss", "ẞ": "ss", "ə": "e", "Ə": "e", "đ": "d", "Đ": "d",
        "ð": "d", "Ð": "d", "ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe",
        "þ": "th", "Þ": "th", "\u0131": "i", "ħ": "h", "Ħ": "h", "ŧ": "t", "Ŧ": "t", "ŋ": "ng",
        "\u2019": "'", "\u2018": "'", "\u02bb": "'", "\u02bc": "'", "`": "'",
    }
)  # fmt: skip


def extract_parameter(name: str) -> str:
    """'California' -> 'california', 'New York' -> 'new_york', 'São Paulo' -> 'sao_paulo'."""
    folded = unicodedata.normalize("NFKD", name.translate(_TRANSLITERATE))
    ascii_name = folded.encode("ascii", "ignore").decode("ascii")
    return _NON_ALNUM.sub("_", ascii_name.lower()).strip("_")
