"""OpenURL in: a citation from a discovery system (Primo VE, Finna, Google Scholar…) read into
the request form's fields.

Both dialects are read as the discovery systems send them: 1.0 KEV (`url_ver=Z39.88-2004`,
`rft.*` keys, `rft_id=info:doi/…`, `info:pmid/…`, `urn:ISBN:…`) and 0.1 (`genre`, `title`,
`atitle`, `issn`, `isbn`, `aulast`, `date`, `volume`, `issue`, `spage`, `sid`, `id=doi:…`).
Unknown keys are ignored; a malformed value is dropped, never an error.
"""

from __future__ import annotations

import re

from ill.models import BorrowingRequest

ARTICLE_GENRES = {"article", "preprint", "conference", "proceeding", "journal", "issue",
                  "contribution"}
CHAPTER_GENRES = {"bookitem", "chapter"}
MAX_LENGTHS = {f.name: f.max_length for f in BorrowingRequest._meta.concrete_fields
               if f.name in BorrowingRequest.CITATION_FIELDS and f.max_length}


def _first(params, *keys) -> str:
    for key in keys:
        values = params.getlist(key) if hasattr(params, "getlist") else [params.get(key)]
        for value in values:
            if isinstance(value, str) and value.strip():
                return " ".join(value.split())
    return ""


def _ids(params) -> dict[str, str]:
    """DOI, PMID, ISBN and OCLC number from rft_id / id / pid, in any of their spellings."""
    found: dict[str, str] = {}
    values = []
    for key in ("rft_id", "id", "pid"):
        values += params.getlist(key) if hasattr(params, "getlist") else [params.get(key)]
    for value in values:
        if not isinstance(value, str):
            continue
        value = value.strip()
        patterns = (("doi", r"^(?:info:doi/|doi:|https?://(?:dx\.)?doi\.org/)(10\..+)$"),
                    ("pmid", r"^(?:info:pmid/|pmid:)(\d+)$"),
                    ("isbn", r"^urn:isbn:([\dXx-]+)$"),
                    ("oclc_number", r"^info:oclcnum/(\d+)$"))
        for field, pattern in patterns:
            m = re.match(pattern, value, re.I)
            if m and field not in found:
                found[field] = m.group(1)
    return found


def _author(params, prefix: str) -> str:
    au = _first(params, f"{prefix}au")
    if au:
        return au
    last = _first(params, f"{prefix}aulast")
    first = _first(params, f"{prefix}aufirst", f"{prefix}auinit")
    return f"{last}, {first}" if last and first else last


def parse_openurl(params) -> dict[str, str]:
    """The request form's fields (and `request_type`) an OpenURL names."""
    kev = _first(params, "url_ver") == "Z39.88-2004" or any(
        str(k).startswith("rft") for k in params.keys())
    p = "rft." if kev else ""
    genre = _first(params, f"{p}genre").lower()
    fmt = _first(params, "rft_val_fmt").lower()
    atitle = _first(params, f"{p}atitle")
    if genre in CHAPTER_GENRES:
        kind = "chapter"
    elif genre in ARTICLE_GENRES or (not genre and fmt.endswith(":journal")):
        kind = "article" if atitle or genre != "journal" else "loan"
    else:
        kind = "chapter" if atitle and (genre == "book" or fmt.endswith(":book")) else "loan"
    if kind == "article":
        title = _first(params, f"{p}jtitle", f"{p}title", f"{p}stitle")
    else:
        title = _first(params, f"{p}btitle", f"{p}title", f"{p}jtitle")
    author = _author(params, p)
    spage, epage = _first(params, f"{p}spage"), _first(params, f"{p}epage")
    pages = _first(params, f"{p}pages") or (f"{spage}-{epage}" if spage and epage else spage)
    year = re.search(r"\b(1[5-9]\d\d|20\d\d)\b", _first(params, f"{p}date"))
    fields = {
        "request_type": kind,
        "title": title,
        "article_title": atitle if kind != "loan" else "",
        "author": author if kind == "loan" or kind == "chapter" and not atitle else "",
        "article_author": author if kind != "loan" and atitle else "",
        "year": year.group(1) if year else "",
        "volume": _first(params, f"{p}volume"),
        "issue": _first(params, f"{p}issue"),
        "pages": pages,
        "edition": _first(params, f"{p}edition"),
        "publisher": _first(params, f"{p}pub", f"{p}publisher"),
        "isbn": re.sub(r"[^\dXx]", "", _first(params, f"{p}isbn")).upper(),
        "issn": _first(params, f"{p}issn", f"{p}eissn"),
        "doi": _first(params, f"{p}doi"),
        "pmid": _first(params, f"{p}pmid"),
    }
    for field, value in _ids(params).items():
        if not fields.get(field):
            fields[field] = re.sub(r"[^\dXx]", "", value).upper() if field == "isbn" else value
    if fields["issn"] and not re.fullmatch(r"\d{4}-?\d{3}[\dXx]", fields["issn"]):
        fields["issn"] = ""
    return {k: v[:MAX_LENGTHS.get(k, 500)] for k, v in fields.items() if v}
