"""Issue 12 in the browser: the own-collection warning on the staff form with its one-click
hold on our copy, and the printed slips (the hold slip offered at receive, pull slips with
the shelf)."""

import pytest

from circulation.models import Hold
from ill.borrowing.services import borrowing_request_send
from ill.models import BorrowingRequest
from kauko import roles
from tests import factories as f

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world(db):
    inst = f.institution("OTA", name="Otaniemi University Library")
    setup = f.rs_setup(inst)
    partner = f.partner(inst, code="NRL", name="National Repository Library",
                        email="ill@nrl.example.org", address="PO Box 1710\nKuopio")
    patron = f.patron(inst, group=f.patron_group(inst, "STUDENT", loan_limit=5),
                      barcode="CARD-1", first_name="Helmi", last_name="Mäkinen",
                      email="helmi@example.org", pickup_desk=setup.desk)
    kalevala = f.item(setup.stacks, title="Kalevala", barcodes=("OTA-K1",),
                      call_number="894.541 KAL")
    kalevala.bib.isbn = "9789511234567"
    kalevala.bib.save()
    user = f.staff(inst, roles.RESOURCE_SHARING, username="riikka")
    user.set_password("browser-pw-12")
    user.save()
    return inst, setup, partner, patron, kalevala


def test_the_form_warns_of_our_own_copy_and_holds_it_in_one_click(page, live_server, world):
    inst, setup, partner, patron, kalevala = world
    login(page, live_server, "riikka", "browser-pw-12")
    page.goto(f"{live_server.url}/borrowing/new/")
    page.fill("[name=patron_barcode]", "CARD-1")
    page.fill("[name=title]", "Kalevala")
    page.fill("[name=isbn]", "978-951-123456-7")
    with page.expect_navigation():
        page.get_by_role("button", name="Create request").click()
    own = page.get_by_test_id("own-copies")
    assert "894.541 KAL" in own.inner_text() and "available" in own.inner_text()
    assert not BorrowingRequest.objects.exists()
    with page.expect_navigation():
        own.get_by_role("button", name="Place a hold on ours instead").click()
    assert "a hold on our copy" in page.locator(".messages").inner_text()
    assert Hold.objects.get(patron=patron).item_id == kalevala.pk
    assert not BorrowingRequest.objects.exists()


def test_the_hold_slip_is_offered_at_receive_and_pull_slips_say_the_shelf(
    page, live_server, world
):
    inst, setup, partner, patron, kalevala = world
    rs_staff = f.staff(inst, roles.RESOURCE_SHARING)
    request_ = f.borrowing_request(inst, setup=setup, partners=[partner], patron_=patron)
    borrowing_request_send(request=request_, user=rs_staff)
    login(page, live_server, "riikka", "browser-pw-12")
    page.goto(f"{live_server.url}/borrowing/{request_.pk}/")
    form = page.locator("form[data-action=receive]")
    form.locator("[name=receive-barcode]").fill("HS-77")
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    with page.context.expect_page() as opened:
        page.get_by_test_id("hold-slip").click()
    slip = opened.value
    slip.wait_for_load_state()
    text = slip.locator(".slip-sheet").inner_text()
    assert "Helmi Mäkinen" in text and request_.number in text and setup.desk.name in text
    assert slip.locator(".slip-sheet svg").count() == 1  # the barcode to scan

    lending = f.lending_request(inst, setup=setup, partner_=partner, user=rs_staff,
                                citation={"title": "Kalevala", "isbn": "9789511234567"})
    page.goto(f"{live_server.url}/lending/pull-slips/print/?ids={lending.pk}")
    pull = page.locator(".slip-sheet").inner_text()
    assert "894.541 KAL" in pull and setup.stacks.name in pull
