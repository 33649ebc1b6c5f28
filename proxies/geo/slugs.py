"""The `extract_parameter` rule for geo names: pure Python, no Django.

Gateway usernames embed locations as lower-case ASCII tokens separated by '-' (for example
`user-country-us-state-new_york`), so words inside one name are joined with '_' instead.
"""

import re
import unicodedata

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def extract_parameter(name: str) -> str:
    """'California' -> 'california', 'New York' -> 'new_york', 'São Paulo' -> 'sao_paulo'."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return _NON_ALNUM.sub("_", ascii_name.lower()).strip("_")
