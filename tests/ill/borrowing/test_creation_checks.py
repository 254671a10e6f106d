"""Issue 12: before a request is created, staff see our own copies (with a one-click hold
instead), the patron's open request for the same work, and what keeps the patron from
borrowing; the request page says the same (ill/borrowing/checks.py)."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from circulation.models import Hold
from ill.borrowing.checks import creation_checks
from ill.models import BorrowingRequest
from patrons.models import Block
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def patron(inst, setup):
    return f.patron(inst, barcode="CARD-1", pickup_desk=setup.desk, first_name="Maija",
                    group=f.patron_group(inst, "STUDENT", loan_limit=5))


@pytest.fixture
def kalevala(setup):
    """Two copies on our shelf, one of them out."""
    on_shelf = f.item(setup.stacks, title="Kalevala", barcodes=("OTA-K1",),
                      call_number="894.541 KAL")
    on_shelf.bib.isbn, on_shelf.bib.author = "9789511234567", "Lönnrot, Elias"
    on_shelf.bib.save()
    from fulfillment.models import Item

    out = Item.objects.create(institution=on_shelf.institution, holding=on_shelf.holding,
                              bib=on_shelf.bib, location=setup.stacks,
                              permanent_location=setup.stacks, status=Item.Status.LOANED)
    return on_shelf, out


FORM = {"patron_barcode": "CARD-1", "request_type": "loan", "title": "Kalevala",
        "author": "Lönnrot, Elias", "isbn": "978-951-123456-7"}


def test_the_checks_find_our_copies_by_identifier_with_their_availability(inst, patron,
                                                                         kalevala):
    checks = creation_checks(institution=inst, patron=patron,
                             citation={"title": "Kalevala", "isbn": "9789511234567"})
    assert [(c.barcode, c.available, c.matched_by) for c in checks.own_copies] == [
        ("OTA-K1", True, "identifier"), ("", False, "identifier")]
    assert checks.own_copies[0].call_number == "894.541 KAL"


def test_without_identifiers_the_title_and_author_find_our_copies(inst, patron, kalevala):
    checks = creation_checks(institution=inst, patron=patron,
                             citation={"title": "kalevala", "author": "Lönnrot"})
    assert {c.matched_by for c in checks.own_copies} == {"title"}
    assert not creation_checks(institution=inst, patron=patron,
                               citation={"title": "Kanteletar"}).any


def test_the_form_shows_our_copies_before_it_creates_the_request(client, rs_staff, patron,
                                                                 kalevala):
    client.force_login(rs_staff)
    response = client.post(reverse("ill:borrowing_create"), FORM)
    assert response.status_code == 200
    assert 'data-testid="own-copies"' in response.text and "894.541 KAL" in response.text
    assert not BorrowingRequest.objects.exists()
    response = client.post(reverse("ill:borrowing_create"), {**FORM, "checked": "1"})
    assert response.status_code == 302
    assert BorrowingRequest.objects.count() == 1


def test_one_click_places_a_hold_on_our_copy_instead_of_a_request(client, rs_staff, patron,
                                                                  kalevala, setup):
    on_shelf, _out = kalevala
    client.force_login(rs_staff)
    response = client.post(reverse("ill:borrowing_create"),
                           {**FORM, "checked": "1", "hold_instead": str(on_shelf.pk)},
                           follow=True)
    assert "a hold on our copy" in response.text
    assert not BorrowingRequest.objects.exists()
    hold = Hold.objects.get(patron=patron)
    assert hold.item == on_shelf and hold.pickup_desk == setup.desk and not hold.is_ill


def test_a_hold_instead_cannot_take_another_institutions_item(client, rs_staff, patron,
                                                              other_inst):
    theirs = f.item(f.rs_setup(other_inst).stacks, title="Kalevala", barcodes=("K-1",))
    client.force_login(rs_staff)
    response = client.post(reverse("ill:borrowing_create"),
                           {**FORM, "hold_instead": str(theirs.pk)})
    assert response.status_code == 404
    assert not Hold.objects.exists()


def test_the_request_page_offers_a_hold_on_our_copy_in_one_click(client, rs_staff, patron,
                                                                 kalevala, inst, setup):
    on_shelf, _out = kalevala
    request_ = f.borrowing_request(inst, setup=setup, patron_=patron,
                                   citation={"title": "Kalevala", "isbn": "9789511234567"})
    client.force_login(rs_staff)
    page = client.get(reverse("ill:borrowing_detail", args=[request_.pk]))
    assert 'data-testid="hold-instead"' in page.text
    client.post(reverse("ill:borrowing_action", args=[request_.pk, "own_collection"]), {
        "own_collection-version": request_.version, "own_collection-barcode": "OTA-K1"})
    assert BorrowingRequest.objects.get(pk=request_.pk).status == \
        BorrowingRequest.Status.COMPLETED
    assert Hold.objects.filter(patron=patron, item=on_shelf).exists()


def test_an_open_request_of_the_same_patron_for_the_same_work_is_warned_of(
    client, rs_staff, patron, inst, setup
):
    first = f.borrowing_request(inst, setup=setup, patron_=patron,
                                citation={"title": "Gödel, Escher, Bach",
                                          "isbn": "0465026567"})
    client.force_login(rs_staff)
    response = client.post(reverse("ill:borrowing_create"), {
        **FORM, "title": "Gödel, Escher, Bach : an eternal golden braid", "author": "",
        "isbn": "9780465026562"})
    assert 'data-testid="duplicates"' in response.text and first.number in response.text
    other_patron = f.patron(inst, pickup_desk=setup.desk)
    assert not creation_checks(institution=inst, patron=other_patron, citation={
        "title": "Gödel, Escher, Bach"}).duplicates


def test_another_article_of_the_same_journal_is_not_a_duplicate(inst, setup, patron):
    f.borrowing_request(inst, setup=setup, patron_=patron, request_type="article",
                        citation={"title": "Nature", "article_title": "One", "issn": "0028-0836"})
    checks = creation_checks(institution=inst, patron=patron, citation={
        "title": "Nature", "article_title": "Two", "issn": "0028-0836"})
    assert not checks.duplicates
    checks = creation_checks(institution=inst, patron=patron, citation={
        "title": "Nature", "article_title": "One", "issn": "00280836"})
    assert len(checks.duplicates) == 1


def test_a_blocked_or_expired_patron_is_said_on_the_form_and_the_request_page(
    client, rs_staff, patron, inst, setup
):
    Block.objects.create(institution=inst, patron=patron, reason=Block.Reason.FINES,
                         note="Unpaid fees 45 €")
    patron.expiry_date = timezone.localdate() - datetime.timedelta(days=1)
    patron.save()
    client.force_login(rs_staff)
    response = client.post(reverse("ill:borrowing_create"), {**FORM, "title": "Kanteletar",
                                                             "isbn": ""})
    assert 'data-testid="patron-problems"' in response.text
    assert "expired" in response.text.lower()
    response = client.post(reverse("ill:borrowing_create"), {
        **FORM, "title": "Kanteletar", "isbn": "", "checked": "1"})
    created = BorrowingRequest.objects.get()
    page = client.get(reverse("ill:borrowing_detail", args=[created.pk]))
    assert 'data-testid="patron-problems"' in page.text
