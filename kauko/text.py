"""Text as search compares it: lower case, accents gone, spaces collapsed.

The same folding is applied to what is stored (a request's `search_text`) and to what staff
type, in Python, so "godel" finds Gödel and "ÅNGSTRÖM" finds Ångström alike on PostgreSQL and
SQLite (no database function, so an index on the stored text serves every query).
"""

from __future__ import annotations

import re
import unicodedata

# Letters that do not decompose into a base letter and an accent.
_EXTRA = str.maketrans({"ø": "o", "æ": "ae", "œ": "oe", "ð": "d", "þ": "th", "ł": "l",
                        "đ": "d", "ı": "i"})
_IDENTIFIER = re.compile(r"[0-9][0-9xX-]{6,}[0-9xX]")


def fold(text: str) -> str:
    """`text` lower-cased (case-folded), without accents, its whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().translate(_EXTRA))
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(plain.translate(_EXTRA).split())


def compact_identifier(value: str) -> str:
    """An ISBN or ISSN as written without its hyphens ("978-0-306-40615-7" → "9780306406157");
    other text unchanged. Search stores and looks up this form too."""
    return value.replace("-", "").lower() if _IDENTIFIER.fullmatch(value) else value
