"""A citation pasted as free text, read into fields where it can be (identifiers, year,
pages, volume and issue). The text itself is always kept whole as `citation_text`."""

from __future__ import annotations

import re

DOI = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>]+)", re.I)
PMID = re.compile(r"\bPMID:?\s*(\d{1,9})\b", re.I)
ISBN = re.compile(r"\bISBN(?:-1[03])?:?\s*((?:97[89][\s-]?)?(?:\d[\s-]?){9}[\dXx])\b")
BARE_ISBN13 = re.compile(r"\b(97[89](?:[\s-]?\d){10})\b")
ISSN = re.compile(r"\b(?:e?ISSN:?\s*)?(\d{4}-\d{3}[\dXx])\b")
YEAR = re.compile(r"(?<![\d.])(1[5-9]\d\d|20\d\d)(?![\d-])")
PAGES = re.compile(r"\b(?:pp?\.|pages?|s\.|ss\.)\s*(\d+\s*[-–]\s*\d+|\d+)", re.I)
PAGE_RANGE = re.compile(r"[:,]\s*(\d+\s*[-–]\s*\d+)\b")
VOLUME = re.compile(r"\b(?:vol\.?|volume|vsk\.?|årg\.?)\s*(\d+)", re.I)
VOLUME_ISSUE = re.compile(r"\b(\d{1,4})\s*\((\d{1,4}(?:[-/]\d{1,4})?)\)")
ISSUE = re.compile(r"\b(?:no\.?|nr\.?|issue|n:o)\s*(\d+)", re.I)


def _clean(value: str) -> str:
    return re.sub(r"[\s-]", "", value).upper()


def parse_citation(text: str) -> dict[str, str]:
    """The fields found in a pasted citation (only those found; the caller keeps the text)."""
    text = text or ""
    found: dict[str, str] = {}
    if m := DOI.search(text):
        found["doi"] = m.group(1).rstrip(".,;)")
    if m := PMID.search(text):
        found["pmid"] = m.group(1)
    if m := ISBN.search(text) or BARE_ISBN13.search(text):
        found["isbn"] = _clean(m.group(1))
    if m := ISSN.search(text):
        found["issn"] = m.group(1).upper()
    without_ids = DOI.sub(" ", ISSN.sub(" ", ISBN.sub(" ", text)))
    if m := YEAR.search(without_ids):
        found["year"] = m.group(1)
    if m := PAGES.search(without_ids) or PAGE_RANGE.search(without_ids):
        found["pages"] = re.sub(r"\s*[-–]\s*", "-", m.group(1))
    if m := VOLUME_ISSUE.search(without_ids):
        found["volume"], found["issue"] = m.group(1), m.group(2)
    else:
        if m := VOLUME.search(without_ids):
            found["volume"] = m.group(1)
        if m := ISSUE.search(without_ids):
            found["issue"] = m.group(1)
    return found
