"""Locate over SRU: the client against an SRU server we did not write (YAZ's yaz-ztest), the
answers we cannot use, and the rota service and staff action (the catalogue mocked only at
its one outbound call, `ill.borrowing.sru.fetch`)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time

import pytest
from django.urls import reverse

from ill.borrowing import sru
from ill.borrowing.locate import locate_in_partner, locate_rota
from ill.models import BorrowingRequest, HistoryEntry, RotaEntry
from kauko.errors import DomainError
from partners.models import LocateProfile
from tests import factories as f

Outcome = RotaEntry.LocateOutcome
YAZ_ZTEST = shutil.which("yaz-ztest")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ztest(tmp_path_factory):
    """YAZ's test server on a free loopback port; its SRU answers at http://.../Default.

    It makes up records: a bare numeric term gets that many hits, any other term a count
    from the term's hash (978000000110 gets none); the database "Slow" waits 3 s."""
    if YAZ_ZTEST is None:
        if os.environ.get("KAUKO_REQUIRE_YAZ") == "1":
            pytest.fail("KAUKO_REQUIRE_YAZ=1 but yaz-ztest is missing (apt-get install yaz).")
        pytest.skip("The SRU interoperability tests need YAZ's yaz-ztest (apt-get install yaz).")
    port = _free_port()
    log = tmp_path_factory.mktemp("ztest") / "ztest.log"
    process = subprocess.Popen([YAZ_ZTEST, "-l", str(log), f"tcp:127.0.0.1:{port}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.fail(f"yaz-ztest did not start: {log.read_text()}")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=5)


def profile(partner, url, **kw) -> LocateProfile:
    return LocateProfile.objects.create(partner=partner, kind=kw.pop("kind", "sru"),
                                        base_url=url, **kw)


def citation(**kw):
    return type("Citation", (), {"isbn": "", "issn": "", "oclc_number": "", "title": "",
                                 "author": "", **kw})()


# --- the client against yaz-ztest ---------------------------------------------------------


@pytest.mark.parametrize("version", ["1.2", "2.0"])
def test_yaz_ztest_holding_records_make_the_partner_a_holder(db, inst, ztest, version):
    partner = f.partner(inst)
    profile(partner, f"{ztest}/Default", sru_version=version)
    result = locate_in_partner(partner=partner, citation=citation(isbn="978-951-0-12345-4",
                                                                  title="Anything"))
    assert result.outcome == Outcome.HELD
    assert result.query == 'bath.isbn="9789510123454"'
    assert "record(s)" in result.note
    assert result.available is None  # ztest's records carry no holdings


def test_yaz_ztest_with_no_records_means_not_held(db, inst, ztest):
    partner = f.partner(inst)
    profile(partner, f"{ztest}/Default", title_index="")
    result = locate_in_partner(partner=partner, citation=citation(isbn="978000000110",
                                                                  title="Nothing"))
    assert result.outcome == Outcome.NOT_HELD
    assert result.skip


def test_a_catalogue_slower_than_its_timeout_is_no_answer_not_a_crash(db, inst, ztest):
    partner = f.partner(inst)
    profile(partner, f"{ztest}/Slow", timeout_seconds=1)
    started = time.monotonic()
    result = locate_in_partner(partner=partner, citation=citation(title="Slow book"))
    assert time.monotonic() - started < 2.5
    assert result.outcome == Outcome.NO_ANSWER
    assert "no answer within 1 s" in result.note
    assert not result.skip


def test_an_unknown_database_is_said_with_its_http_status(db, inst, ztest):
    partner = f.partner(inst)
    profile(partner, f"{ztest}/Nonexistent")
    result = locate_in_partner(partner=partner, citation=citation(title="Book"))
    assert (result.outcome, result.note) == (Outcome.NO_ANSWER, "HTTP 404")


# --- answers we cannot use ------------------------------------------------------------------


def test_a_closed_port_is_no_answer(db, inst):
    partner = f.partner(inst)
    profile(partner, f"http://127.0.0.1:{_free_port()}/sru", timeout_seconds=2)
    result = locate_in_partner(partner=partner, citation=citation(title="Book"))
    assert result.outcome == Outcome.NO_ANSWER
    assert result.note.startswith("could not connect")


@pytest.mark.parametrize(("body", "note"), [
    (b"<html><body>Oops</body>", "not XML"),
    (b"<html><body>Oops</body></html>", "not an SRU answer: <html>"),
    (b'<searchRetrieveResponse xmlns="http://www.loc.gov/zing/srw/"><numberOfRecords>many'
     b"</numberOfRecords></searchRetrieveResponse>", "numberOfRecords is not a number"),
    (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
     b'<searchRetrieveResponse><numberOfRecords>&e;</numberOfRecords>'
     b"</searchRetrieveResponse>", "numberOfRecords is not a number"),
])
def test_bad_xml_is_said_never_a_crash(db, inst, monkeypatch, body, note):
    partner = f.partner(inst)
    profile(partner, "http://catalogue.example.org/sru")
    monkeypatch.setattr(sru, "fetch", lambda url, timeout: body)
    result = locate_in_partner(partner=partner, citation=citation(title="Book"))
    assert result.outcome == Outcome.UNREADABLE
    assert result.note.startswith(note)
    assert not result.skip


def test_a_catalogue_refusing_every_query_is_unreadable_with_its_diagnostics(
        db, inst, monkeypatch):
    partner = f.partner(inst)
    profile(partner, "http://catalogue.example.org/sru")
    body = (b'<zs:searchRetrieveResponse xmlns:zs="http://www.loc.gov/zing/srw/">'
            b"<zs:numberOfRecords>0</zs:numberOfRecords><zs:diagnostics>"
            b'<d:diagnostic xmlns:d="http://www.loc.gov/zing/srw/diagnostic/">'
            b"<d:uri>info:srw/diagnostic/1/16</d:uri><d:details>bath.isbn</d:details>"
            b"<d:message>Unsupported index</d:message></d:diagnostic></zs:diagnostics>"
            b"</zs:searchRetrieveResponse>")
    monkeypatch.setattr(sru, "fetch", lambda url, timeout: body)
    result = locate_in_partner(partner=partner, citation=citation(isbn="9510123455",
                                                                  title="Book"))
    assert result.outcome == Outcome.UNREADABLE
    assert "Unsupported index (bath.isbn)" in result.note


def test_identifiers_are_tried_first_then_title_and_surname(db, inst, monkeypatch):
    partner = f.partner(inst)
    profile(partner, "http://catalogue.example.org/sru?x-info=1")
    asked = []
    empty = (b'<searchRetrieveResponse xmlns="http://www.loc.gov/zing/srw/">'
             b"<numberOfRecords>0</numberOfRecords></searchRetrieveResponse>")

    def fetch(url, timeout):
        asked.append(url)
        return empty

    monkeypatch.setattr(sru, "fetch", fetch)
    result = locate_in_partner(partner=partner, citation=citation(
        isbn="951-0-12345-5", issn="1234-5679", oclc_number="(OCoLC)123",
        title='Seven "brothers": a novel', author="Kivi, Aleksis"))
    assert result.outcome == Outcome.NOT_HELD
    assert sru.queries(keys=sru.CitationKeys(
        isbn="951-0-12345-5", issn="1234-5679", oclc_number="(OCoLC)123",
        title='Seven "brothers": a novel', author="Kivi, Aleksis"), indexes=sru.Indexes()) == [
        'bath.isbn="9510123455"', 'bath.issn="12345679"', 'rec.id="OCOLC123"',
        r'dc.title="Seven \"brothers\"" and dc.creator="Kivi"']
    assert len(asked) == 4
    assert asked[0].startswith("http://catalogue.example.org/sru?x-info=1&version=1.2&")


def test_a_partner_without_a_profile_is_not_configured(db, inst):
    result = locate_in_partner(partner=f.partner(inst), citation=citation(title="Book"))
    assert result.outcome == Outcome.NOT_CONFIGURED


# --- the rota ---------------------------------------------------------------------------------


HELD_BODY = (b'<searchRetrieveResponse xmlns="http://www.loc.gov/zing/srw/">'
             b"<numberOfRecords>1</numberOfRecords><records><record><recordData>"
             b'<record xmlns="http://www.loc.gov/MARC21/slim"><leader>00000nam a2200000 4500'
             b'</leader><datafield tag="245" ind1="0" ind2="0"><subfield code="a">Book'
             b'</subfield></datafield><datafield tag="AVA" ind1=" " ind2=" ">'
             b'<subfield code="b">MAIN</subfield><subfield code="c">Stacks</subfield>'
             b'<subfield code="d">84.2</subfield><subfield code="e">available</subfield>'
             b"</datafield></record></recordData></record></records>"
             b"</searchRetrieveResponse>")
EMPTY_BODY = (b'<searchRetrieveResponse xmlns="http://www.loc.gov/zing/srw/">'
              b"<numberOfRecords>0</numberOfRecords></searchRetrieveResponse>")


@pytest.fixture
def rota(inst, setup, monkeypatch):
    """Four partners: one without the title, one holding it, one silent, one unprofiled."""
    lacks, holds, silent, plain = (f.partner(inst, code=c) for c in ("LACKS", "HOLDS",
                                                                       "SILENT", "PLAIN"))
    for partner in (lacks, holds, silent):
        profile(partner, f"http://{partner.code.lower()}.example.org/sru")
    request = f.borrowing_request(inst, setup=setup, partners=[lacks, holds, silent, plain])

    def fetch(url, timeout):
        if url.startswith("http://lacks."):
            return EMPTY_BODY
        if url.startswith("http://holds."):
            return HELD_BODY
        raise sru._NoAnswer("no answer within 10 s")

    monkeypatch.setattr(sru, "fetch", fetch)
    return request


def test_locating_skips_those_without_it_and_keeps_the_rest_in_order(rota):
    results = locate_rota(request=rota)
    assert [r.outcome for r in results] == [Outcome.NOT_HELD, Outcome.HELD, Outcome.NO_ANSWER,
                                            Outcome.NOT_CONFIGURED]
    entries = list(rota.rota.order_by("position"))
    assert [(e.partner.code, e.outcome, e.locate_outcome) for e in entries] == [
        ("LACKS", "skipped", "not_held"), ("HOLDS", "pending", "held"),
        ("SILENT", "pending", "no_answer"), ("PLAIN", "pending", "not_configured")]
    assert entries[0].reason == "Not in the partner's catalogue."
    assert entries[1].locate_note.endswith("; available")
    assert results[1].holdings == (sru.HoldingInfo("MAIN", "Stacks", "84.2", True),)
    assert entries[2].locate_note == "no answer within 10 s"
    assert all(e.located_at for e in entries)
    rota.refresh_from_db()
    assert rota.partner.code == "HOLDS"
    entry = HistoryEntry.objects.get(borrowing_request=rota, action="locate")
    assert entry.source == "system" and entry.user is None
    assert "LACKS: Does not hold it" in entry.note and "SILENT: No answer in time" in entry.note


def test_an_entry_already_asked_is_not_located_again(rota):
    RotaEntry.objects.filter(request=rota, partner__code="LACKS").update(outcome="rejected")
    results = locate_rota(request=rota)
    assert len(results) == 3
    assert rota.rota.get(partner__code="LACKS").locate_outcome == ""


def test_a_sent_request_is_not_located(rota, rs_staff):
    BorrowingRequest.objects.filter(pk=rota.pk).update(status="sent")
    rota.refresh_from_db()
    with pytest.raises(DomainError):
        locate_rota(request=rota, user=rs_staff)
    assert not rota.rota.exclude(locate_outcome="").exists()


def test_a_rota_with_nobody_left_is_refused(inst, setup):
    request = f.borrowing_request(inst, setup=setup)
    with pytest.raises(DomainError, match="no partner left"):
        locate_rota(request=request)


# --- the staff action ---------------------------------------------------------------------------


def _url(request):
    return reverse("ill:borrowing_action", args=[request.pk, "locate"])


def test_staff_locate_from_the_request_page(client, rota, rs_staff):
    client.force_login(rs_staff)
    detail = client.get(reverse("ill:borrowing_detail", args=[rota.pk]))
    assert "Locate in partners" in detail.content.decode()
    response = client.post(_url(rota), {"locate-version": rota.version})
    assert response.status_code == 302
    entry = HistoryEntry.objects.get(borrowing_request=rota, action="locate")
    assert entry.user == rs_staff and entry.source == "staff"
    assert rota.rota.get(partner__code="LACKS").outcome == "skipped"
    page = client.get(reverse("ill:borrowing_detail", args=[rota.pk])).content.decode()
    assert "Does not hold it" in page and "No answer in time" in page


def test_staff_locate_with_a_stale_version_changes_nothing(client, rota, rs_staff):
    client.force_login(rs_staff)
    client.post(_url(rota), {"locate-version": rota.version - 1})
    assert not rota.rota.exclude(locate_outcome="").exists()
    assert not HistoryEntry.objects.filter(borrowing_request=rota, action="locate").exists()


@pytest.mark.parametrize("who", ["anonymous", "desk_staff", "other_staff"])
def test_others_cannot_locate(client, rota, request, who):
    if who != "anonymous":
        client.force_login(request.getfixturevalue(who))
    response = client.post(_url(rota), {"locate-version": rota.version})
    assert response.status_code in (302, 403, 404)
    if who == "anonymous":
        assert "/login/" in response["Location"]
    else:
        assert response.status_code == (403 if who == "desk_staff" else 404)
    assert not rota.rota.exclude(locate_outcome="").exists()


def test_locate_by_get_is_refused(client, rota, rs_staff):
    client.force_login(rs_staff)
    assert client.get(_url(rota)).status_code == 405
    assert not rota.rota.exclude(locate_outcome="").exists()


def test_locate_in_the_wrong_state_says_so(client, rota, rs_staff):
    BorrowingRequest.objects.filter(pk=rota.pk).update(status="sent")
    client.force_login(rs_staff)
    response = client.post(_url(rota), {"locate-version": rota.version}, follow=True)
    assert "is not possible now" in response.content.decode()
    assert not rota.rota.exclude(locate_outcome="").exists()
