"""Issue 4: a librarian answers lending requests from an e-mail partner in the browser: one
from creation by e-mail to check-in (will supply, pull slip, ship with a scan, renew, check
in), and one rejected with a reason. Our item's status and location are checked at each
step."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone

from fulfillment.models import Item
from ill.models import LendingRequest
from kauko import roles
from tests import factories as f

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
S = LendingRequest.Status


@pytest.fixture
def world(db):
    inst = f.institution("OTA", name="Otaniemi University Library")
    setup = f.rs_setup(inst)
    partner = f.partner(inst, code="NRL", name="National Repository Library",
                        email="ill@nrl.example.org")
    book = f.item(setup.stacks, title="Seitsemän veljestä", barcodes=("OTA000123",),
                  call_number="KIV 1")
    book.bib.isbn, book.bib.author = "9789510096578", "Kivi, Aleksis"
    book.bib.save()
    user = f.staff(inst, roles.RESOURCE_SHARING, username="lasse")
    user.set_password("browser-pw-2")
    user.save()
    return setup, partner, book


def _act(page, name: str, fields: dict | None = None, selects: dict | None = None):
    """Open an action on the detail page, fill its fields and submit it."""
    form = page.locator(f"form[data-action={name}]")
    details = form.locator("details")
    if details.count() and details.get_attribute("open") is None:
        form.locator("summary").click()
    for field, value in (fields or {}).items():
        form.locator(f"[name={name}-{field}]").fill(value)
    for field, value in (selects or {}).items():
        form.locator(f"[name={name}-{field}]").select_option(value)
    if form.get_attribute("data-confirm"):  # cannot be undone: the browser asks once
        page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    message = page.locator(".messages").inner_text()
    assert "not possible" not in message and "Someone else" not in message, message
    return message


def _status(page) -> str:
    return page.get_by_test_id("status").inner_text()


def _where(book):
    book.refresh_from_db()
    return book.status, book.location_id


def _create(page, live_server, partner, request_id: str):
    page.goto(f"{live_server.url}/lending/new/")
    page.select_option("[name=partner]", str(partner.pk))
    page.fill("[name=partner_request_id]", request_id)
    page.fill("[name=title]", "Seitsemän veljestä")
    page.fill("[name=isbn]", "978-951-0-09657-8")
    page.fill("[name=partner_note]", "For a seminar")
    with page.expect_navigation():
        page.get_by_role("button", name="Create and locate").click()


def test_a_loan_from_the_partners_email_to_check_in(page, live_server, world):
    setup, partner, book = world
    login(page, live_server, "lasse", "browser-pw-2")
    _create(page, live_server, partner, "NRL-B-2026-000311")
    assert _status(page) == "Being processed"
    assert "OTA000123" in page.get_by_test_id("item").inner_text()
    assert _where(book) == (Item.Status.RESOURCE_SHARING, setup.outgoing.pk)
    detail_url = page.url

    # The pick list shows it; printing pull slips marks them printed.
    page.goto(f"{live_server.url}/lending/pick-list/")
    assert "OTA000123" in page.get_by_test_id("pick-list").inner_text()
    with page.expect_navigation():
        page.get_by_role("button", name="Print pull slips").click()
    assert page.locator("svg.barcode").count() == 1
    number = LendingRequest.objects.get().number
    # Scanning the slip's barcode (a scanner types the number) opens the request.
    page.goto(f"{live_server.url}/lending/")
    page.fill("#scan", number)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == detail_url

    _act(page, "will_supply", {"note": "Fragile binding"})
    assert _status(page) == "Will supply"

    message = _act(page, "ship", {"barcode": "WRONG-ONE"})
    assert "not this request's item" in message
    assert _status(page) == "Will supply"
    _act(page, "ship", {"barcode": "ota000123"})
    assert _status(page) == "Shipped physically"
    assert _where(book) == (Item.Status.RESOURCE_SHARING, setup.outgoing.pk)
    due = LendingRequest.objects.get().due_date
    assert due == timezone.localdate() + datetime.timedelta(days=28)

    _act(page, "renewal_asked")
    assert _status(page) == "Renew requested"
    new_due = due + datetime.timedelta(days=21)
    _act(page, "renewal_answer", {"new_due_date": new_due.isoformat()})
    assert _status(page) == "Received by partner"
    assert page.get_by_test_id("due").inner_text() == new_due.strftime("%Y-%m-%d")  # English short dates are ISO

    _act(page, "check_in", {"barcode": "OTA000123"})
    assert _status(page) == "Completed"
    assert _where(book) == (Item.Status.IN_PLACE, setup.stacks.pk)
    subjects = [m.to for m in mail.outbox]
    assert subjects and all(to == ["ill@nrl.example.org"] for to in subjects)
    assert len(mail.outbox) == 4  # will supply, shipped, renewal answer, checked in


def test_a_request_rejected_with_a_reason(page, live_server, world):
    setup, partner, book = world
    login(page, live_server, "lasse", "browser-pw-2")
    _create(page, live_server, partner, "NRL-B-2026-000312")
    assert _status(page) == "Being processed"
    _act(page, "reject", {"reason": "Missing from the shelf at the moment"},
         selects={"reason_code": "NotOnShelf"})
    assert _status(page) == "Rejected (unfilled)"
    assert "Missing from the shelf" in page.content()
    assert _where(book) == (Item.Status.IN_PLACE, setup.stacks.pk)
    assert "Missing from the shelf" in mail.outbox[-1].body
