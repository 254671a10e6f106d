"""A small SRU client: ask a catalogue whether it holds a citation.

SRU 1.2 or 2.0 searchRetrieve over HTTP GET; CQL by identifiers first (ISBN, ISSN, OCLC
number: each names an edition), then title and author; the records read as MARCXML with
pymarc. Holdings and availability come from Alma-style AVA fields ($b library, $c location,
$d call number, $e available/unavailable) or, failing those, 852 ($b library, $c location,
$h call number). Nothing here touches the database; every fault of the far side (timeout,
refused connection, HTTP error, SRU diagnostic, XML we cannot read) is an outcome with a
note, never an exception.
"""

from __future__ import annotations

import http.client
import io
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

import pymarc
from lxml import etree

HELD, NOT_HELD, NO_ANSWER, UNREADABLE = "held", "not_held", "no_answer", "unreadable"
MAX_RESPONSE_BYTES = 5 * 1024 * 1024
MAXIMUM_RECORDS = 5
USER_AGENT = "Kauko-SRU-locate/1"
_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)


@dataclass(frozen=True)
class Indexes:
    """CQL index names the far server understands; an empty one is not searched."""

    isbn: str = "bath.isbn"
    issn: str = "bath.issn"
    oclc: str = "rec.id"
    title: str = "dc.title"
    author: str = "dc.creator"


@dataclass(frozen=True)
class CitationKeys:
    isbn: str = ""
    issn: str = ""
    oclc_number: str = ""
    title: str = ""
    author: str = ""


@dataclass(frozen=True)
class HoldingInfo:
    library: str = ""
    location: str = ""
    call_number: str = ""
    available: bool | None = None


@dataclass(frozen=True)
class Answer:
    outcome: str
    note: str = ""
    available: bool | None = None
    query: str = ""
    hits: int = 0
    holdings: tuple[HoldingInfo, ...] = field(default_factory=tuple)


class _Unreadable(Exception):
    pass


class _NoAnswer(Exception):
    pass


def cql_term(value: str) -> str:
    """A CQL quoted string: quotes and backslashes escaped, masking characters literal."""
    value = " ".join(value.split())
    for char in ("\\", '"', "*", "?", "^"):
        value = value.replace(char, "\\" + char)
    return f'"{value}"'


def _identifier(value: str) -> str:
    return "".join(ch for ch in value if ch.isalnum()).upper()


def queries(*, keys: CitationKeys, indexes: Indexes) -> list[str]:
    """The CQL queries to try, in order: each identifier the citation has, then title
    (and author when known)."""
    found = []
    for index, value in ((indexes.isbn, keys.isbn), (indexes.issn, keys.issn),
                         (indexes.oclc, keys.oclc_number)):
        value = _identifier(value)
        if index and value:
            found.append(f"{index}={cql_term(value)}")
    if indexes.title and keys.title.strip():
        title = keys.title.split(":")[0].split(" / ")[0].strip() or keys.title
        query = f"{indexes.title}={cql_term(title)}"
        if indexes.author and keys.author.strip():
            # "Surname, Given" is searched by its surname: catalogues write the rest variously.
            author = keys.author.split(",")[0].strip() or keys.author
            query += f" and {indexes.author}={cql_term(author)}"
        found.append(query)
    return found


def search_url(*, base_url: str, version: str, query: str, record_schema: str,
               maximum_records: int = MAXIMUM_RECORDS) -> str:
    params = {"version": version, "operation": "searchRetrieve", "query": query,
              "maximumRecords": str(maximum_records), "recordSchema": record_schema}
    if version.startswith("2"):
        params["recordXMLEscaping"] = "xml"
    else:
        params["recordPacking"] = "xml"
    separator = "&" if "?" in base_url else "?"
    return base_url + separator + urllib.parse.urlencode(params)


def fetch(url: str, *, timeout: float) -> bytes:
    """One GET. Raises _NoAnswer for anything that is not an answer in time."""
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT,
                                                   "Accept": "application/xml, text/xml"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            body = response.read(MAX_RESPONSE_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise _NoAnswer(f"HTTP {exc.code}") from exc
    except TimeoutError as exc:
        raise _NoAnswer(f"no answer within {timeout:g} s") from exc
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, TimeoutError):
            raise _NoAnswer(f"no answer within {timeout:g} s") from exc
        raise _NoAnswer(f"could not connect: {reason}") from exc
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise _NoAnswer(f"could not connect: {exc}") from exc
    if len(body) > MAX_RESPONSE_BYTES:
        raise _Unreadable("answer too large")
    return body


def _local(tag) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _children(element, name: str) -> list:
    return [child for child in element if _local(child.tag) == name]


def _descendants(element, name: str) -> list:
    return [el for el in element.iter() if _local(el.tag) == name]


@dataclass(frozen=True)
class SearchResponse:
    hits: int
    records: tuple[pymarc.Record, ...]
    diagnostics: tuple[str, ...]


def parse_response(body: bytes) -> SearchResponse:
    """Read a searchRetrieveResponse of SRU 1.2 or 2.0 (namespaces are not relied on)."""
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise _Unreadable(f"not XML: {exc}") from exc
    if _local(root.tag) != "searchRetrieveResponse":
        diagnostics = _diagnostics(root)
        if diagnostics:
            return SearchResponse(hits=0, records=(), diagnostics=diagnostics)
        raise _Unreadable(f"not an SRU answer: <{_local(root.tag)}>")
    counts = _children(root, "numberOfRecords")
    try:
        hits = int((counts[0].text or "").strip()) if counts else 0
    except ValueError as exc:
        raise _Unreadable("numberOfRecords is not a number") from exc
    records = []
    for data in _descendants(root, "recordData"):
        for marc in data:
            if _local(marc.tag) == "record":
                records.extend(_marc(marc))
    return SearchResponse(hits=hits, records=tuple(records), diagnostics=_diagnostics(root))


def _diagnostics(root) -> tuple[str, ...]:
    found = []
    for diagnostic in _descendants(root, "diagnostic"):
        parts = {_local(child.tag): (child.text or "").strip() for child in diagnostic}
        uri = parts.get("uri", "")
        text = parts.get("message") or uri.rsplit("/", 1)[-1]
        if parts.get("details"):
            text += f" ({parts['details']})"
        found.append(text or "diagnostic")
    return tuple(found)


def _marc(element) -> list[pymarc.Record]:
    """One MARCXML record through pymarc (namespace or none). A leader not of 24
    characters, common enough in the wild, is padded or cut rather than losing the record."""
    for leader in element:
        if _local(leader.tag) == "leader":
            leader.text = (leader.text or "").ljust(24)[:24]
    xml = etree.tostring(element)
    try:
        return [r for r in pymarc.parse_xml_to_array(io.BytesIO(xml), strict=False) if r]
    except Exception:  # noqa: BLE001 - pymarc raises many kinds for a bad record
        return []


def holdings_of(record: pymarc.Record) -> list[HoldingInfo]:
    found = []
    for ava in record.get_fields("AVA"):
        status = (ava.get("e") or "").strip().lower()
        found.append(HoldingInfo(
            library=ava.get("q") or ava.get("b") or "", location=ava.get("c") or "",
            call_number=ava.get("d") or "",
            available=True if status == "available" else False if status else None))
    if not found:
        for f852 in record.get_fields("852"):
            found.append(HoldingInfo(library=f852.get("b") or f852.get("a") or "",
                                     location=f852.get("c") or "",
                                     call_number=f852.get("h") or ""))
    return found


def locate(*, base_url: str, version: str, timeout: float, record_schema: str,
           indexes: Indexes, keys: CitationKeys) -> Answer:
    """Try the queries in order; the first with hits says "held"."""
    tried = queries(keys=keys, indexes=indexes)
    if not tried:
        return Answer(outcome=UNREADABLE, note="nothing to search by")
    diagnostics: list[str] = []
    clean_miss = False
    for query in tried:
        url = search_url(base_url=base_url, version=version, query=query,
                         record_schema=record_schema)
        try:
            response = parse_response(fetch(url, timeout=timeout))
        except _NoAnswer as exc:
            return Answer(outcome=NO_ANSWER, note=str(exc), query=query)
        except _Unreadable as exc:
            return Answer(outcome=UNREADABLE, note=str(exc), query=query)
        if response.hits > 0:
            holdings = tuple(h for record in response.records for h in holdings_of(record))
            states = [h.available for h in holdings if h.available is not None]
            available = any(states) if states else None
            note = f"{response.hits} record(s) for {query}"
            if available is True:
                note += "; available"
            elif available is False:
                note += "; no copy available now"
            return Answer(outcome=HELD, note=note, available=available, query=query,
                          hits=response.hits, holdings=holdings)
        if response.diagnostics:
            diagnostics.append(f"{query}: {'; '.join(response.diagnostics)}")
        else:
            clean_miss = True
    if clean_miss:
        return Answer(outcome=NOT_HELD, note=f"no records for {' / '.join(tried)}",
                      query=tried[-1])
    return Answer(outcome=UNREADABLE, note="refused: " + " | ".join(diagnostics),
                  query=tried[-1])
