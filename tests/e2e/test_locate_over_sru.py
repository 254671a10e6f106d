"""Two Kauko institutions locate each other over real HTTP: OTA's rota asks KAISA's /sru
(a "partner's Kauko" profile) and its own /sru through a plain SRU profile, in SRU 1.2 and
2.0, and the answers land on the rota entries."""

from __future__ import annotations

import pytest

from fulfillment.models import Item
from ill.borrowing.locate import locate_in_partner, locate_rota
from ill.models import RotaEntry
from partners.models import LocateProfile, Partner
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)
Outcome = RotaEntry.LocateOutcome


@pytest.fixture
def two_catalogues(live_server):
    ota, kaisa = f.institution("OTA"), f.institution("KAISA")
    stacks = f.location(f.library(kaisa, "KAISA-MAIN", name="Kaisa House"))
    shelf = f.item(stacks, title="Only at Kaisa: a history", barcodes=("K1",),
                   call_number="90 ONL")
    shelf.bib.author, shelf.bib.isbn = "Virtanen, Ville", "978-952-10-0000-0"
    shelf.bib.save()
    loaned = f.item(stacks, title="Out on loan at Kaisa", barcodes=("K2",),
                    status=Item.Status.LOANED)
    loaned.bib.isbn = "9789521000017"
    loaned.bib.save()
    f.item(f.location(f.library(ota, "OTA-MAIN")), title="Only at Ota", barcodes=("O1",))
    kaisa_partner = f.partner(ota, code="KAISA", profile_type=Partner.ProfileType.ISO18626,
                              agency_id_value="FI-KAISA", iso_endpoint_url="http://kaisa/iso")
    LocateProfile.objects.create(partner=kaisa_partner, kind=LocateProfile.Kind.KAUKO,
                                 base_url=f"{live_server.url}/sru/KAISA", sru_version="2.0")
    ota_self = f.partner(ota, code="OTASELF")
    LocateProfile.objects.create(partner=ota_self, kind=LocateProfile.Kind.SRU,
                                 base_url=f"{live_server.url}/sru?x-institution=OTA")
    return {"ota": ota, "kaisa": kaisa, "kaisa_partner": kaisa_partner, "ota_self": ota_self}


def test_a_title_only_the_partner_holds_is_located_there_and_skipped_elsewhere(two_catalogues):
    ota = two_catalogues["ota"]
    setup = f.rs_setup(ota)
    request = f.borrowing_request(
        ota, setup=setup, partners=[two_catalogues["ota_self"], two_catalogues["kaisa_partner"]],
        citation={"title": "Only at Kaisa", "author": "Virtanen, V.", "isbn": "9789521000000"})
    results = locate_rota(request=request)
    assert [r.outcome for r in results] == [Outcome.NOT_HELD, Outcome.HELD]
    held = results[1]
    assert held.available is True
    assert held.holdings[0].library == "Kaisa House"
    assert held.holdings[0].call_number == "90 ONL"
    entries = {e.partner.code: e for e in request.rota.all()}
    assert entries["OTASELF"].outcome == RotaEntry.Outcome.SKIPPED
    assert entries["KAISA"].outcome == RotaEntry.Outcome.PENDING
    request.refresh_from_db()
    assert request.partner.code == "KAISA"


def test_title_and_author_find_it_when_the_isbn_is_another_editions(two_catalogues):
    result = locate_in_partner(partner=two_catalogues["kaisa_partner"], citation=type(
        "C", (), {"isbn": "9780000000002", "issn": "", "oclc_number": "",
                  "title": "Only at Kaisa: a history", "author": "Virtanen, Ville"})())
    assert result.outcome == Outcome.HELD
    assert result.query == 'dc.title="Only at Kaisa" and dc.creator="Virtanen"'


def test_a_copy_on_loan_is_held_but_not_available(two_catalogues):
    result = locate_in_partner(partner=two_catalogues["kaisa_partner"], citation=type(
        "C", (), {"isbn": "978-952-10-0001-7", "issn": "", "oclc_number": "", "title": "x",
                  "author": ""})())
    assert (result.outcome, result.available) == (Outcome.HELD, False)
    assert result.note.endswith("no copy available now")


def test_an_unknown_institution_code_is_no_answer(two_catalogues, live_server):
    partner = two_catalogues["kaisa_partner"]
    partner.locate_profile.base_url = f"{live_server.url}/sru/NOWHERE"
    partner.locate_profile.save()
    result = locate_in_partner(partner=partner, citation=type(
        "C", (), {"isbn": "", "issn": "", "oclc_number": "", "title": "x", "author": ""})())
    assert (result.outcome, result.note) == (Outcome.NO_ANSWER, "HTTP 404")
