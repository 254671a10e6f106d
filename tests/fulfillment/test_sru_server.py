"""Kauko's catalogue over SRU: /sru/<code> answers searchRetrieve and explain (1.2 and 2.0)."""

from __future__ import annotations

import io

import pymarc
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from lxml import etree

from fulfillment import cql
from fulfillment.models import BibRecord, Holding, Item
from tests import factories as f

SRW = "http://www.loc.gov/zing/srw/"
SRU2 = "http://docs.oasis-open.org/ns/search-ws/sruResponse"
DIAG = "http://www.loc.gov/zing/srw/diagnostic/"


@pytest.fixture
def catalogue(inst):
    main = f.library(inst, "MAIN", name="Main Library")
    stacks = f.location(main, "STACKS")
    on_shelf = f.item(stacks, title="Seitsemän veljestä", barcodes=("S1",),
                      call_number="84.2 KIV")
    bib = on_shelf.bib
    bib.author, bib.isbn, bib.oclc_number = "Kivi, Aleksis", "978-951-0-12345-4", "ocm00012345"
    bib.save()
    Holding.objects.filter(bib=bib).update(call_number="84.2 KIV")
    loaned = f.item(stacks, title="Tuntematon sotilas", barcodes=("T1",),
                    status=Item.Status.LOANED)
    loaned.bib.author, loaned.bib.issn = "Linna, Väinö", "1234-5679"
    loaned.bib.save()
    hidden = f.item(stacks, title="Seitsemän veljestä (borrowed)", barcodes=("H1",))
    BibRecord.objects.filter(pk=hidden.bib_id).update(hidden=True)
    BibRecord.objects.create(institution=inst, title="Seitsemän veljestä, no holdings")
    return {"kivi": bib, "linna": loaned.bib}


def sru(client, code="OTA", **params):
    response = client.get(f"/sru/{code}", params)
    return response, etree.fromstring(response.content)


def count(root, ns=SRW) -> int:
    return int(root.findtext(f"{{{ns}}}numberOfRecords"))


def marc_records(root) -> list[pymarc.Record]:
    records = []
    for data in root.iter(f"{{{SRW}}}recordData", f"{{{SRU2}}}recordData"):
        xml = etree.tostring(data[0])
        records.extend(pymarc.parse_xml_to_array(io.BytesIO(xml)))
    return records


def diagnostic(root) -> str:
    return root.findtext(f".//{{{DIAG}}}uri") or ""


def test_an_isbn_search_finds_the_record_hyphens_and_isbn_10_aside(anonymous, catalogue):
    for isbn in ("9789510123454", "978-951-0-12345-4", "9510123455"):
        _response, root = sru(anonymous, version="1.2", operation="searchRetrieve",
                              query=f'bath.isbn="{isbn}"', recordSchema="marcxml")
        assert count(root) == 1, isbn
    [record] = marc_records(root)
    assert record["245"]["a"] == "Seitsemän veljestä"
    assert record["100"]["a"] == "Kivi, Aleksis"
    assert record["020"]["a"] == "978-951-0-12345-4"


def test_the_record_carries_holdings_and_availability_and_no_patron_data(
        anonymous, catalogue, patron_with_loan):
    _response, root = sru(anonymous, version="1.2", operation="searchRetrieve",
                          query='dc.title="tuntematon"')
    [record] = marc_records(root)
    ava = record["AVA"]
    assert (ava["a"], ava["b"], ava["q"], ava["c"], ava["e"], ava["f"], ava["g"]) == (
        "OTA", "MAIN", "Main Library", "STACKS", "unavailable", "1", "1")
    assert record["852"]["b"] == "MAIN"
    text = etree.tostring(root, encoding="unicode")
    assert patron_with_loan.last_name not in text and patron_with_loan.barcode not in text
    _response, root = sru(anonymous, query='rec.id="12345"')
    [record] = marc_records(root)
    assert record["AVA"]["e"] == "available"
    assert record["AVA"]["d"] == "84.2 KIV"
    assert record["035"]["a"] == "(OCoLC)ocm00012345"


@pytest.fixture
def patron_with_loan(inst):
    return f.patron(inst, last_name="Secretname", barcode="PATRON-777")


def test_issn_oclc_and_dc_identifier_find_by_identifier(anonymous, catalogue):
    for query in ('bath.issn="12345679"', 'bath.issn="1234-5679"', 'rec.id="(OCoLC)12345"', "rec.id=ocm00012345",
                  'dc.identifier="9789510123454"', 'dc.identifier="1234-5679"'):
        _response, root = sru(anonymous, query=query)
        assert count(root) == 1, query


def test_title_and_author_search_all_words_any_case_and_hidden_or_holdingless_are_not_found(
        anonymous, catalogue):
    _response, root = sru(anonymous, query='dc.title="SEITSEMän Veljestä" and dc.creator=KIVI')
    assert count(root) == 1
    _response, root = sru(anonymous, query='dc.title="seitsemän veljestä" and dc.creator=linna')
    assert count(root) == 0
    _response, root = sru(anonymous, query='cql.anywhere="linna tuntematon"')
    assert count(root) == 1
    _response, root = sru(anonymous, query="kivi or linna")
    assert count(root) == 2
    _response, root = sru(anonymous, query="(kivi or linna) not dc.title=tuntematon")
    assert count(root) == 1


def test_sru_2_0_answers_in_its_own_namespace(anonymous, catalogue):
    _response, root = sru(anonymous, version="2.0", query="bath.isbn=9789510123454",
                          recordXMLEscaping="xml")
    assert root.tag == f"{{{SRU2}}}searchRetrieveResponse"
    assert count(root, SRU2) == 1
    assert marc_records(root)[0]["245"]["a"] == "Seitsemän veljestä"


def test_string_packing_escapes_the_record(anonymous, catalogue):
    _response, root = sru(anonymous, query="bath.isbn=9789510123454", recordPacking="string")
    data = root.find(f".//{{{SRW}}}recordData")
    assert len(data) == 0 and "<record" in data.text


@pytest.mark.parametrize(("query", "code"), [
    ('dc.title="unclosed', "10"), ("dc.title=", "10"), ("(kivi", "13"),
    ("dc.subject=history", "16"), ("dc.title > kivi", "19"), ("kivi prox linna", "37"),
    ("dc.title =/fuzzy kivi", "20"),
])
def test_bad_cql_gets_a_diagnostic_not_an_error(anonymous, catalogue, query, code):
    response, root = sru(anonymous, query=query)
    assert response.status_code == 200
    assert diagnostic(root) == f"info:srw/diagnostic/1/{code}"
    assert count(root) == 0


def test_other_refusals_are_diagnostics_too(anonymous, catalogue):
    for params, code in (({"query": "kivi", "recordSchema": "dc"}, "66"),
                         ({"query": "kivi", "maximumRecords": "many"}, "6"),
                         ({"query": "kivi", "startRecord": "9"}, "61"),
                         ({"operation": "scan", "scanClause": "kivi"}, "4"),
                         ({"operation": "searchRetrieve"}, "7"),
                         ({"version": "3.0", "query": "kivi"}, "5")):
        _response, root = sru(anonymous, **params)
        assert diagnostic(root) == f"info:srw/diagnostic/1/{code}", params


def test_maximum_records_is_capped_and_paged(anonymous, inst, monkeypatch):
    stacks = f.location(f.library(inst, "MAIN"))
    for n in range(4):
        f.item(stacks, title=f"Same title {n}", barcodes=(f"X{n}",))
    monkeypatch.setattr("fulfillment.sru.MAX_RECORDS", 3)
    _response, root = sru(anonymous, query="dc.title=same", maximumRecords="1000")
    assert count(root) == 4
    assert len(marc_records(root)) == 3
    assert root.findtext(f"{{{SRW}}}nextRecordPosition") == "4"
    _response, root = sru(anonymous, query="dc.title=same", startRecord="4")
    assert [r["245"]["a"] for r in marc_records(root)] == ["Same title 3"]
    _response, root = sru(anonymous, query="dc.title=same", maximumRecords="0")
    assert count(root) == 4 and marc_records(root) == []


def test_the_query_count_does_not_grow_with_the_records(anonymous, inst):
    stacks = f.location(f.library(inst, "MAIN"))
    f.item(stacks, title="Same 0", barcodes=("Y0",))
    with CaptureQueriesContext(connection) as one:
        sru(anonymous, query="dc.title=same")
    for n in range(1, 6):
        f.item(stacks, title=f"Same {n}", barcodes=(f"Y{n}",))
    with CaptureQueriesContext(connection) as six:
        _response, root = sru(anonymous, query="dc.title=same")
    assert count(root) == 6
    assert len(six) == len(one) <= 7


def test_each_institution_serves_only_its_own_catalogue(anonymous, catalogue, other_inst):
    stacks = f.location(f.library(other_inst, "K"))
    f.item(stacks, title="Kaisa only", barcodes=("K1",))
    _response, root = sru(anonymous, code="KAISA", query="kivi")
    assert count(root) == 0
    _response, root = sru(anonymous, code="KAISA", query="dc.title=kaisa")
    assert count(root) == 1
    _response, root = sru(anonymous, code="OTA", query="dc.title=kaisa")
    assert count(root) == 0
    response = anonymous.get("/sru", {"x-institution": "KAISA", "query": "dc.title=kaisa"})
    assert count(etree.fromstring(response.content)) == 1


def test_an_unknown_institution_is_a_404_with_a_diagnostic(anonymous, catalogue):
    response, root = sru(anonymous, code="NOPE", query="kivi")
    assert response.status_code == 404
    assert diagnostic(root) == "info:srw/diagnostic/1/235"
    assert anonymous.get("/sru").status_code == 404


def test_explain_names_the_indexes_and_the_cap(anonymous, catalogue):
    for params in ({}, {"operation": "explain", "version": "2.0"}):
        response, root = sru(anonymous, **params)
        assert response["Content-Type"].startswith("text/xml")
        text = etree.tostring(root, encoding="unicode")
        assert "explainResponse" in root.tag
        assert "isbn" in text and 'type="maximumRecords"' in text
        assert "OTA University Library" in text


def test_post_is_refused(anonymous, catalogue):
    assert anonymous.post("/sru/OTA", {"query": "kivi"}).status_code == 405


def test_the_cql_parser_reads_quotes_escapes_and_precedence():
    node = cql.parse(r'dc.title="a \"quoted\" title" and (kivi or dc.creator any "x y")')
    assert node.op == "and"
    assert node.left == cql.Clause("dc.title", "=", 'a "quoted" title')
    assert node.right.op == "or"
    assert node.right.right == cql.Clause("dc.creator", "any", "x y")
    assert cql.isbn_variants("0-306-40615-2") == {"0306406152", "9780306406157"}
    assert cql.oclc_number("(OCoLC)ocm00012345") == "12345"
