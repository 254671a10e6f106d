"""Kauko's own catalogue over SRU (1.2 and 2.0): searchRetrieve and explain.

Records are MARCXML built with pymarc from the institution's bibliographic records, with
holdings and availability and nothing about patrons: per holding an 852 ($a institution,
$b library code, $c location, $h call number) and an Alma-style AVA ($a institution, $b
library code, $q library name, $c location, $j location code, $d call number, $e
available / unavailable, $f items, $g items not on the shelf). Another Kauko locates here,
and so can any SRU client. Bad queries get SRU diagnostics, never an error page.
"""

from __future__ import annotations

from dataclasses import dataclass

import pymarc
from lxml import etree

from fulfillment import cql
from fulfillment.models import BibRecord
from fulfillment.selectors import catalogue_records, item_on_shelf

DEFAULT_RECORDS = 10
MAX_RECORDS = 50
SCHEMAS = {"marcxml", "marc21", "info:srw/schema/1/marcxml-v1.1",
           "info:srw/schema/1/marcxml-1.1", "marc21xml", "marcxml-1.1"}
SCHEMA_ID = "info:srw/schema/1/marcxml-v1.1"
MARC_NS = "http://www.loc.gov/MARC21/slim"

NAMESPACES = {
    "1.2": ("http://www.loc.gov/zing/srw/", "http://www.loc.gov/zing/srw/diagnostic/"),
    "2.0": ("http://docs.oasis-open.org/ns/search-ws/sruResponse",
            "http://docs.oasis-open.org/ns/search-ws/diagnostic"),
}
ZEEREX_NS = "http://explain.z3950.org/dtd/2.0/"


@dataclass(frozen=True)
class Diagnostic:
    code: int
    message: str
    details: str = ""


class _Refused(Exception):
    def __init__(self, diagnostic: Diagnostic):
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def version_of(params) -> str:
    """"2.0" when asked for (or for SRU 2.0's queryType); 1.2 otherwise. 1.1 is read as 1.2."""
    version = (params.get("version") or "").strip()
    if version.startswith("2"):
        return "2.0"
    if not version and params.get("queryType"):
        return "2.0"
    return "1.2"


def respond(*, institution, params, base_url: str) -> bytes:
    """The whole SRU answer (XML bytes) to one request's parameters."""
    version = version_of(params)
    requested = (params.get("version") or "").strip()
    operation = (params.get("operation") or "").strip()
    try:
        if requested and requested not in ("1.1", "1.2", "2.0"):
            raise _Refused(Diagnostic(5, "Unsupported version", requested))
        if not operation:
            operation = "searchRetrieve" if params.get("query") else "explain"
        if operation == "explain":
            return _explain(institution=institution, version=version, base_url=base_url)
        if operation != "searchRetrieve":
            raise _Refused(Diagnostic(4, "Unsupported operation", operation))
        return _search(institution=institution, version=version, params=params)
    except _Refused as refused:
        return _diagnostic_response(version=version, diagnostic=refused.diagnostic)


def _int_param(params, name: str, default: int, minimum: int) -> int:
    raw = (params.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise _Refused(Diagnostic(6, "Unsupported parameter value", name)) from exc
    if value < minimum:
        raise _Refused(Diagnostic(6, "Unsupported parameter value", name))
    return value


def _search(*, institution, version: str, params) -> bytes:
    query = params.get("query") or ""
    if not query.strip():
        raise _Refused(Diagnostic(7, "Mandatory parameter not supplied", "query"))
    schema = (params.get("recordSchema") or "marcxml").strip()
    if schema.lower() not in SCHEMAS:
        raise _Refused(Diagnostic(66, "Unknown schema for retrieval", schema))
    packing = (params.get("recordXMLEscaping") if version == "2.0"
               else params.get("recordPacking")) or "xml"
    if packing not in ("xml", "string"):
        raise _Refused(Diagnostic(71, "Unsupported record packing", packing))
    maximum = min(_int_param(params, "maximumRecords", DEFAULT_RECORDS, 0), MAX_RECORDS)
    start = _int_param(params, "startRecord", 1, 1)
    try:
        condition = cql.to_q(cql.parse(query))
    except cql.CQLError as exc:
        raise _Refused(Diagnostic(exc.code, exc.message, exc.details)) from exc
    records = catalogue_records(institution=institution, condition=condition)
    total = records.count()
    if total and start > total:
        raise _Refused(Diagnostic(61, "First record position out of range", str(start)))
    page = list(records[start - 1:start - 1 + maximum]) if maximum else []

    ns, _diag_ns = NAMESPACES[version]
    root = etree.Element(f"{{{ns}}}searchRetrieveResponse", nsmap={"zs": ns})
    if version == "1.2":
        etree.SubElement(root, f"{{{ns}}}version").text = "1.2"
    etree.SubElement(root, f"{{{ns}}}numberOfRecords").text = str(total)
    if page:
        container = etree.SubElement(root, f"{{{ns}}}records")
        for position, bib in enumerate(page, start=start):
            record = etree.SubElement(container, f"{{{ns}}}record")
            etree.SubElement(record, f"{{{ns}}}recordSchema").text = SCHEMA_ID
            etree.SubElement(
                record, f"{{{ns}}}{'recordXMLEscaping' if version == '2.0' else 'recordPacking'}"
            ).text = packing
            data = etree.SubElement(record, f"{{{ns}}}recordData")
            marc = marc_xml(bib, institution=institution)
            if packing == "string":
                data.text = marc.decode()
            else:
                data.append(etree.fromstring(marc))
            etree.SubElement(record, f"{{{ns}}}recordPosition").text = str(position)
    if total > start - 1 + len(page) and page:
        etree.SubElement(root, f"{{{ns}}}nextRecordPosition").text = str(start + len(page))
    echoed = etree.SubElement(root, f"{{{ns}}}echoedSearchRetrieveRequest")
    if version == "1.2":
        etree.SubElement(echoed, f"{{{ns}}}version").text = "1.2"
    etree.SubElement(echoed, f"{{{ns}}}query").text = query
    etree.SubElement(echoed, f"{{{ns}}}maximumRecords").text = str(maximum)
    etree.SubElement(echoed, f"{{{ns}}}recordSchema").text = schema
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def marc_record(bib: BibRecord, *, institution) -> pymarc.Record:
    """The record as MARC 21: bibliographic fields, then one 852 and one AVA per holding.
    Uses the prefetched holdings and items (no query per record)."""
    record = pymarc.Record(force_utf8=True, leader="     nam a22     4i 4500")
    record.add_field(pymarc.Field(tag="001", data=f"{institution.code}-{bib.pk}"))
    record.add_field(pymarc.Field(tag="003", data=institution.code))

    def add(tag, subfields, indicators=(" ", " ")):
        subs = [pymarc.Subfield(code=c, value=v) for c, v in subfields if v]
        if subs:
            record.add_field(pymarc.Field(tag=tag, indicators=pymarc.Indicators(*indicators),
                                          subfields=subs))

    add("020", [("a", bib.isbn)])
    add("022", [("a", bib.issn)])
    add("024", [("a", bib.doi), ("2", "doi" if bib.doi else "")], ("7", " "))
    add("035", [("a", f"(OCoLC){bib.oclc_number}" if bib.oclc_number else "")])
    add("100", [("a", bib.author)], ("1", " "))
    add("245", [("a", bib.title)], ("1" if bib.author else "0", "0"))
    add("250", [("a", bib.edition)])
    add("264", [("b", bib.publisher), ("c", bib.year)], (" ", "1"))
    for holding in bib.holdings.all():
        location, library = holding.location, holding.location.library
        items = list(holding.items.all())
        on_shelf = sum(1 for item in items if item_on_shelf(item))
        # The holding's call number, else its items' (some catalogues keep it per item).
        call_number = holding.call_number or next(
            (item.call_number for item in items if item.call_number), "")
        add("852", [("a", institution.code), ("b", library.code), ("c", location.name),
                    ("h", call_number)], ("8", " "))
        add("AVA", [("a", institution.code), ("b", library.code), ("q", library.name),
                    ("c", location.name), ("j", location.code), ("d", call_number),
                    ("e", "available" if on_shelf else "unavailable"),
                    ("f", str(len(items))), ("g", str(len(items) - on_shelf))])
    return record


def marc_xml(bib: BibRecord, *, institution) -> bytes:
    return pymarc.record_to_xml(marc_record(bib, institution=institution), namespace=True)


def _diagnostic_response(*, version: str, diagnostic: Diagnostic) -> bytes:
    ns, diag_ns = NAMESPACES[version]
    root = etree.Element(f"{{{ns}}}searchRetrieveResponse", nsmap={"zs": ns, "diag": diag_ns})
    if version == "1.2":
        etree.SubElement(root, f"{{{ns}}}version").text = "1.2"
    etree.SubElement(root, f"{{{ns}}}numberOfRecords").text = "0"
    container = etree.SubElement(root, f"{{{ns}}}diagnostics")
    diag = etree.SubElement(container, f"{{{diag_ns}}}diagnostic")
    etree.SubElement(diag, f"{{{diag_ns}}}uri").text = f"info:srw/diagnostic/1/{diagnostic.code}"
    if diagnostic.details:
        etree.SubElement(diag, f"{{{diag_ns}}}details").text = diagnostic.details
    etree.SubElement(diag, f"{{{diag_ns}}}message").text = diagnostic.message
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


INDEX_TITLES = [
    ("bath", "isbn", "ISBN"), ("bath", "issn", "ISSN"), ("rec", "id", "OCLC number"),
    ("dc", "identifier", "Any identifier (ISBN, ISSN, OCLC number, DOI)"),
    ("dc", "title", "Title"), ("dc", "creator", "Author"),
    ("cql", "anywhere", "Title, author, publisher and identifiers"),
]


def _explain(*, institution, version: str, base_url: str) -> bytes:
    ns, _diag = NAMESPACES[version]
    root = etree.Element(f"{{{ns}}}explainResponse", nsmap={"zs": ns})
    if version == "1.2":
        etree.SubElement(root, f"{{{ns}}}version").text = "1.2"
    record = etree.SubElement(root, f"{{{ns}}}record")
    etree.SubElement(record, f"{{{ns}}}recordSchema").text = "http://explain.z3950.org/dtd/2.0/"
    etree.SubElement(
        record, f"{{{ns}}}{'recordXMLEscaping' if version == '2.0' else 'recordPacking'}"
    ).text = "xml"
    data = etree.SubElement(record, f"{{{ns}}}recordData")
    z = ZEEREX_NS
    explain = etree.SubElement(data, f"{{{z}}}explain", nsmap={None: z})
    server = etree.SubElement(explain, f"{{{z}}}serverInfo", protocol="SRU",
                              version=version)
    etree.SubElement(server, f"{{{z}}}host").text = base_url
    etree.SubElement(server, f"{{{z}}}database").text = institution.code
    info = etree.SubElement(explain, f"{{{z}}}databaseInfo")
    etree.SubElement(info, f"{{{z}}}title").text = f"{institution.name} ({institution.code})"
    etree.SubElement(info, f"{{{z}}}description").text = (
        "Bibliographic records with holdings and availability (AVA, 852). No patron data.")
    index_info = etree.SubElement(explain, f"{{{z}}}indexInfo")
    for prefix, identifier in (("dc", "info:srw/cql-context-set/1/dc-v1.1"),
                               ("bath", "http://zing.z3950.org/cql/bath/2.0/"),
                               ("rec", "info:srw/cql-context-set/2/rec-1.1"),
                               ("cql", "info:srw/cql-context-set/1/cql-v1.2")):
        etree.SubElement(index_info, f"{{{z}}}set", name=prefix, identifier=identifier)
    for prefix, name, title in INDEX_TITLES:
        index = etree.SubElement(index_info, f"{{{z}}}index", search="true")
        etree.SubElement(index, f"{{{z}}}title").text = title
        mapping = etree.SubElement(index, f"{{{z}}}map")
        etree.SubElement(mapping, f"{{{z}}}name", set=prefix).text = name
    schema_info = etree.SubElement(explain, f"{{{z}}}schemaInfo")
    schema = etree.SubElement(schema_info, f"{{{z}}}schema", identifier=SCHEMA_ID,
                              name="marcxml")
    etree.SubElement(schema, f"{{{z}}}title").text = "MARCXML"
    config = etree.SubElement(explain, f"{{{z}}}configInfo")
    etree.SubElement(config, f"{{{z}}}default", type="numberOfRecords").text = str(
        DEFAULT_RECORDS)
    etree.SubElement(config, f"{{{z}}}setting", type="maximumRecords").text = str(MAX_RECORDS)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


def not_found(*, version: str, code: str) -> bytes:
    """No institution has this code: SRU's "unknown database" as a diagnostic."""
    return _diagnostic_response(version=version, diagnostic=Diagnostic(
        235, "Database does not exist", code or "x-institution"))
