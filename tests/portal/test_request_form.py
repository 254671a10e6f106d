import pytest
from django.test import Client

from circulation.models import Hold
from ill.borrowing.checks import DUPLICATE, OWN_HOLDINGS, PATRON, intake_checks
from ill.models import BorrowingRequest, Source
from patrons.models import Block
from portal.models import PortalSettings
from portal.services import patron_set_pin
from tests import factories as f
from tests.portal.conftest import PIN

pytestmark = pytest.mark.django_db


def _post(client, setup, **data):
    form = {"request_type": "loan", "delivery": "pickup", "pickup_desk": setup.desk.pk, **data}
    return client.post("/my/request/", form)


def test_a_patron_asks_for_a_book_and_it_lands_created_in_the_rs_queue_from_the_patron(
        signed_in, patron, setup, rs_staff, client):
    response = _post(signed_in, setup, title="The Dispossessed", author="Le Guin, Ursula",
                     needed_before="2030-01-31", note="For my thesis")
    assert response.status_code == 302 and response["Location"] == "/my/"
    request = BorrowingRequest.objects.get(patron=patron)
    assert request.status == BorrowingRequest.S.CREATED
    assert request.source == Source.PATRON
    assert request.title == "The Dispossessed" and request.pickup_desk == setup.desk
    assert str(request.needed_before) == "2030-01-31"
    assert "For my thesis" in request.internal_note
    client.force_login(rs_staff)
    queue = client.get("/borrowing/?queue=ready").content.decode()
    assert request.number in queue and "Patron" in queue
    detail = client.get(f"/borrowing/{request.pk}/").content.decode()
    assert 'data-testid="source">Patron' in detail


def test_a_pasted_citation_is_kept_whole_and_read_into_fields(signed_in, patron, setup):
    text = ("Smith, J. (2019). Deep things. Journal of Stuff, 12(3), 45-67. "
            "https://doi.org/10.1234/abc.5678 ISSN 1234-567X")
    response = _post(signed_in, setup, request_type="article", citation_text=text,
                     title="Journal of Stuff", article_title="Deep things")
    assert response.status_code == 302
    request = BorrowingRequest.objects.get(patron=patron)
    assert request.citation_text == text
    assert (request.doi, request.issn, request.year, request.pages, request.volume,
            request.issue) == ("10.1234/abc.5678", "1234-567X", "2019", "45-67", "12", "3")
    assert request.request_type == "article"


def test_a_citation_given_only_as_text_still_makes_a_request(signed_in, patron, setup):
    response = _post(signed_in, setup, citation_text="Virtanen: Kirja. Otava 2005. "
                                                     "ISBN 978-951-1-12345-6")
    assert response.status_code == 302
    request = BorrowingRequest.objects.get(patron=patron)
    assert request.isbn == "9789511123456" and request.title.startswith("Virtanen: Kirja")


def test_a_request_without_title_or_citation_is_refused_with_the_field_said(signed_in,
                                                                            patron, setup):
    response = _post(signed_in, setup)
    assert response.status_code == 400
    assert "Give the title, or paste the citation" in response.content.decode()
    assert not BorrowingRequest.objects.exists()


def test_office_delivery_is_offered_only_where_the_patrons_group_allows_it(
        signed_in, patron, setup):
    assert "internal mail" not in signed_in.get("/my/request/").content.decode()
    response = _post(signed_in, setup, title="X", delivery="office")
    assert response.status_code == 400 and not BorrowingRequest.objects.exists()


def test_staff_patrons_ask_for_office_delivery(inst, setup):
    setup.rs.may_ship_to_office = True
    setup.rs.save()
    group = f.patron_group(inst, "STAFF", may_use_office_delivery=True)
    person = f.patron(inst, group=group, barcode="STAFF1", office_address="Room 1")
    patron_set_pin(patron=person, pin=PIN)
    client = Client()
    client.post("/my/sign-in/", {"institution": inst.pk, "card": "STAFF1", "pin": PIN})
    assert "internal mail" in client.get("/my/request/").content.decode()
    response = client.post("/my/request/", {"request_type": "loan", "title": "X",
                                            "delivery": "office"})
    assert response.status_code == 302
    request = BorrowingRequest.objects.get(patron=person)
    assert request.office_delivery and request.delivery_address == "Room 1"


def test_a_copy_needs_the_copyright_declaration_where_the_institution_has_one(
        signed_in, patron, setup, inst):
    PortalSettings.objects.create(institution=inst, copyright_declaration="For study only.")
    page = signed_in.get("/my/request/").content.decode()
    assert "For study only." in page
    refused = _post(signed_in, setup, request_type="article", title="J", article_title="A")
    assert refused.status_code == 400 and not BorrowingRequest.objects.exists()
    accepted = _post(signed_in, setup, request_type="article", title="J", article_title="A",
                     copyright_accepted="on")
    assert accepted.status_code == 302
    assert "copyright declaration" in BorrowingRequest.objects.get().internal_note
    # A loan is not a copy: no declaration needed.
    assert _post(signed_in, setup, title="Book").status_code == 302


# --- checks at intake ----------------------------------------------------------------------------


def test_our_own_available_copy_refuses_the_request_and_offers_a_hold(signed_in, patron,
                                                                     setup):
    item = f.item(setup.stacks, title="Dune: the novel", barcodes=("OWN1",))
    item.bib.isbn = "9780441013593"
    item.bib.save()
    response = _post(signed_in, setup, title="Something else", isbn="0441013597")
    text = response.content.decode()
    assert response.status_code == 400
    assert "Our library has a copy on the shelf" in text
    assert f"/my/hold/{item.pk}/" in text
    assert not BorrowingRequest.objects.exists()
    hold = signed_in.post(f"/my/hold/{item.pk}/")
    assert hold.status_code == 302
    assert Hold.objects.get(patron=patron, item=item).pickup_desk == setup.desk


def test_the_hold_offer_is_a_post_and_only_for_our_own_copies(signed_in, other_inst):
    theirs = f.item(f.location(f.library(other_inst)), title="Theirs", barcodes=("T1",))
    assert signed_in.get(f"/my/hold/{theirs.pk}/").status_code == 405
    signed_in.post(f"/my/hold/{theirs.pk}/")
    assert not Hold.objects.exists()


def test_with_the_warn_setting_our_own_copy_is_a_warning_the_patron_accepts(
        signed_in, patron, setup, inst):
    PortalSettings.objects.create(institution=inst, own_holdings="warn")
    f.item(setup.stacks, title="Dune", barcodes=("OWN1",))
    first = _post(signed_in, setup, title="Dune")
    assert first.status_code == 400 and "I have read this" in first.content.decode()
    assert not BorrowingRequest.objects.exists()
    second = _post(signed_in, setup, title="Dune", go_ahead="1")
    assert second.status_code == 302
    assert "Our library has a copy" in BorrowingRequest.objects.get().internal_note


def test_an_open_request_for_the_same_work_is_said_and_refused(signed_in, patron, setup):
    assert _post(signed_in, setup, title="The Dispossessed").status_code == 302
    again = _post(signed_in, setup, title="the dispossessed")
    assert again.status_code == 400
    assert "You already have an open request for this" in again.content.decode()
    assert BorrowingRequest.objects.count() == 1


def test_a_blocked_patron_hears_why_before_asking(signed_in, patron, setup):
    Block.objects.create(institution=patron.institution, patron=patron, reason="fines",
                         amount_owed=12)
    response = _post(signed_in, setup, title="Anything")
    assert response.status_code == 400
    assert "Your library account is blocked" in response.content.decode()
    assert not BorrowingRequest.objects.exists()


def test_an_expired_card_is_said_in_plain_words(signed_in, patron, setup):
    patron.expiry_date = "2000-01-01"
    patron.save()
    response = _post(signed_in, setup, title="Anything")
    assert "Your library card has expired" in response.content.decode()


def test_the_checks_module_gives_codes_and_refusals_by_setting(inst, setup, patron):
    f.item(setup.stacks, title="Dune", barcodes=("OWN1",))
    Block.objects.create(institution=inst, patron=patron, reason="fines")
    checks = intake_checks(institution=inst, patron=patron, citation={"title": "Dune"},
                           refuse=(PATRON,))
    assert [(c.code, c.refuses) for c in checks] == [(PATRON, True), (OWN_HOLDINGS, False)]
    assert DUPLICATE not in {c.code for c in checks}


def test_the_form_names_nothing_of_another_institution(signed_in, other_inst):
    f.desk(f.library(other_inst, "THEIRLIB"), "THEIRDESK", name="Their desk")
    assert "Their desk" not in signed_in.get("/my/request/").content.decode()
