"""Issue 3: a librarian walks borrowing requests through the browser with an e-mail
partner: a physical loan from creation to completion (with the desk's scans), and an
article delivered to the patron."""

import datetime

import pytest
from django.core import mail

from ill.models import BorrowingRequest
from kauko import roles
from tests import factories as f

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
S = BorrowingRequest.Status


@pytest.fixture
def world(db):
    inst = f.institution("OTA", name="Otaniemi University Library")
    setup = f.rs_setup(inst)
    partner = f.partner(inst, code="NRL", name="National Repository Library",
                        email="ill@nrl.example.org", mail_delay_days=2)
    patron = f.patron(inst, group=f.patron_group(inst, "STUDENT", loan_limit=5),
                      barcode="CARD-1", first_name="Helmi", last_name="Mäkinen",
                      email="helmi@example.org", pickup_desk=setup.desk)
    user = f.staff(inst, roles.RESOURCE_SHARING, username="riikka")
    from django.contrib.auth.models import Group

    user.groups.add(Group.objects.get(name=roles.CIRCULATION))
    user.set_password("browser-pw-1")
    user.save()
    return setup, partner, patron


def _act(page, name: str, fields: dict | None = None):
    """Open an action on the detail page, fill its fields and submit it."""
    form = page.locator(f"form[data-action={name}]")
    summary = form.locator("summary")
    if summary.count() and not form.locator("details").get_attribute("open") == "":
        summary.click()
    for field, value in (fields or {}).items():
        form.locator(f"[name={name}-{field}]").fill(value)
    if form.get_attribute("data-confirm"):  # cannot be undone: the browser asks once
        page.once("dialog", lambda dialog: dialog.accept())
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    message = page.locator(".messages").inner_text()
    assert "not possible" not in message and "Someone else" not in message, message
    return message


def _status(page) -> str:
    return page.get_by_test_id("status").inner_text()


def _scan(page, value: str) -> str:
    page.keyboard.type(value)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    return page.locator("[data-testid=feedback]").inner_text()


def test_a_physical_request_from_creation_to_completion(page, live_server, world):
    setup, partner, patron = world
    login(page, live_server, "riikka", "browser-pw-1")

    page.goto(f"{live_server.url}/borrowing/new/")
    page.fill("[name=patron_barcode]", "CARD-1")
    page.fill("[name=title]", "Gödel, Escher, Bach")
    page.fill("[name=author]", "Hofstadter, Douglas")
    page.select_option("[name=partners]", [str(partner.pk)])
    with page.expect_navigation():
        page.get_by_role("button", name="Create request").click()
    assert _status(page) == "Created borrowing request"
    detail_url = page.url

    _act(page, "send")
    assert _status(page) == "Request sent to partner"
    assert mail.outbox[-1].to == ["ill@nrl.example.org"]

    today = datetime.date.today()
    partner_due = today + datetime.timedelta(days=30)
    _act(page, "shipped", {"due_date": partner_due.isoformat(), "barcode": "NRL-42"})
    assert _status(page) == "Shipped physically"

    _act(page, "receive", {"barcode": "E2801160600077"})
    assert _status(page) == "Physically received by library"
    patron_due = partner_due - datetime.timedelta(days=2)  # the partner's mail delay
    assert page.get_by_test_id("patron-due").inner_text() == patron_due.strftime("%Y-%m-%d")  # English short dates are ISO

    # The desk scans it in, loans it, takes it back; the RS office ships it back.
    page.goto(f"{live_server.url}/desk/{setup.desk.pk}/scan/")
    assert "Helmi Mäkinen" in _scan(page, "E2801160600077")
    page.goto(f"{live_server.url}/desk/{setup.desk.pk}/check-out/")
    page.keyboard.type("CARD-1")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=patron]")
    page.keyboard.type("E2801160600077")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector("text=Loaned")
    page.goto(detail_url)
    assert _status(page) == "Loaned item to patron"

    page.goto(f"{live_server.url}/desk/{setup.desk.pk}/check-in/")
    page.keyboard.type("E2801160600077")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.goto(f"{live_server.url}/desk/{setup.rs_desk.pk}/scan/")
    assert "National Repository Library" in _scan(page, "E2801160600077")
    page.goto(detail_url)
    assert _status(page) == "Returned item to partner"

    _act(page, "complete")
    assert _status(page) == "Request completed"
    history = page.get_by_test_id("history").inner_text()
    # Each step as staff read it, not its internal name.
    for step in ("send", "receive", "loan_to_patron", "return_by_patron", "return_to_partner",
                 "complete"):
        assert BorrowingRequest.action_label(step) in history
    assert "loan_to_patron" not in history


def test_an_article_is_delivered_to_the_patron(page, live_server, world):
    setup, partner, patron = world
    login(page, live_server, "riikka", "browser-pw-1")
    page.goto(f"{live_server.url}/borrowing/new/")
    page.fill("[name=patron_barcode]", "CARD-1")
    page.select_option("[name=request_type]", "article")
    page.fill("[name=title]", "Journal of Documentation")
    page.fill("[name=article_title]", "Resource sharing today")
    page.select_option("[name=partners]", [str(partner.pk)])
    with page.expect_navigation():
        page.get_by_role("button", name="Create request").click()
    _act(page, "send")
    _act(page, "shipped_digitally", {"url": "https://nrl.example.org/copies/9"})
    assert _status(page) == "Request completed"
    assert "Delivered to patron" in page.content()
    to_patron = [m for m in mail.outbox if m.to == ["helmi@example.org"]]
    assert len(to_patron) == 1
    request = BorrowingRequest.objects.get(article_title="Resource sharing today")
    assert request.download_token in to_patron[0].body
