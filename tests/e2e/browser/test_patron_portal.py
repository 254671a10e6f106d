"""Issue 14: a demo patron comes in from discovery through an OpenURL for an article, signs
in, finds the form prefilled, asks, sees the request in My requests, and later renews an ILL
loan inside the renewal window, on a phone-sized screen. Every portal page passes axe-core
(WCAG 2.1 A and AA rules) with no violations."""

import datetime

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone

from circulation import services as desk
from fulfillment.models import CirculationDesk, Item
from ill.borrowing.services import (
    borrowing_request_create,
    borrowing_request_receive,
    borrowing_request_send,
    borrowing_request_shipped,
)
from ill.models import BorrowingRequest
from kauko.models import Institution, StaffUser
from partners.models import Partner
from patrons.models import Patron
from workbench.demo import DEMO_PIN, seed_demo

from .conftest import TIMEOUT_MS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OPENURL = (
    "/openurl?url_ver=Z39.88-2004&ctx_ver=Z39.88-2004&rfr_id=info:sid/primo.exlibrisgroup.com"
    "&rft_val_fmt=info:ofi/fmt:kev:mtx:journal&rft.genre=article"
    "&rft.atitle=Deep%20learning&rft.jtitle=Nature&rft.aulast=LeCun&rft.aufirst=Yann"
    "&rft.date=2015&rft.volume=521&rft.issue=7553&rft.spage=436&rft.epage=444"
    "&rft.issn=0028-0836&rft_id=info:doi/10.1038/nature14539&unknown.key=%%%"
)
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a",
                                                     "wcag21aa"]},
               "resultTypes": ["violations"]}
AXE = Axe()


def assert_accessible(page):
    results = AXE.run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, (page.url, results.generate_snapshot(),
                                           [n["html"] for v in results.response["violations"]
                                            for n in v["nodes"]][:5])


@pytest.fixture
def phone(browser):
    context = browser.new_context(locale="en-GB", viewport={"width": 390, "height": 844},
                                  is_mobile=True, has_touch=True)
    context.set_default_timeout(TIMEOUT_MS)
    tab = context.new_page()
    yield tab
    context.close()


def _ill_loan_due_in(days: int, patron) -> BorrowingRequest:
    """An ILL loan of the patron from the e-mail partner NRL, due in `days`."""
    inst = patron.institution
    rs = StaffUser.objects.get(username="ota-rs")
    desk_staff = StaffUser.objects.get(username="ota-desk")
    partner = Partner.objects.get(institution=inst, code="NRL")
    request = borrowing_request_create(
        institution=inst, patron=patron, request_type="loan", partners=[partner], user=rs,
        citation={"title": "Kalevala", "author": "Lönnrot, Elias"})
    request = borrowing_request_send(request=request, user=rs)
    request = borrowing_request_shipped(
        request=request, user=rs,
        due_date=timezone.localdate() + datetime.timedelta(days=days + partner.mail_delay_days))
    request = borrowing_request_receive(request=request, barcode="E2E-PORTAL-1", user=rs)
    main_desk = CirculationDesk.objects.get(institution=inst, code="MAIN-DESK")
    desk.desk_scan_in(desk=main_desk, barcode="E2E-PORTAL-1", user=desk_staff)
    desk.loan_item(desk=main_desk, patron=patron, user=desk_staff,
                   item=Item.objects.get(pk=request.temporary_item_id))
    return BorrowingRequest.objects.get(pk=request.pk)


def test_a_demo_patron_comes_from_discovery_asks_for_an_article_and_renews_a_loan(
        phone, live_server, settings):
    settings.KAUKO_BASE_URL = live_server.url
    seed_demo()
    ota = Institution.objects.get(code="OTA")
    patron = Patron.objects.get(institution=ota, barcode="OTA-P0003")
    page = phone

    # From Primo: the OpenURL sends a stranger to sign in first.
    page.goto(live_server.url + OPENURL)
    assert "/my/sign-in/" in page.url
    assert_accessible(page)
    page.locator("#id_institution").select_option(label=ota.name)
    page.get_by_label("Library card number").fill("OTA-P0003")
    page.locator("#id_pin").fill(DEMO_PIN)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()

    # The form, prefilled from the OpenURL.
    assert "/my/request/" in page.url
    assert page.get_by_label("A copy of an article").is_checked()
    assert page.get_by_label("Title of the article or chapter").input_value() == "Deep learning"
    assert page.get_by_label("Title of the book or journal").input_value() == "Nature"
    assert page.get_by_label("DOI").input_value() == "10.1038/nature14539"
    assert page.get_by_label("Pages").input_value() == "436-444"
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Send the request").click()

    # My requests: the new one, in plain words.
    assert page.url.endswith("/my/")
    request = BorrowingRequest.objects.get(patron=patron, article_title="Deep learning")
    card = page.get_by_test_id(f"request-{request.number}")
    # The demo's OTA sends new requests by itself (README "Automation"): already asked.
    assert request.auto_send and request.rota_rule.name == "Article copies"
    assert "Asked from another library" in card.get_by_test_id("status").inner_text()
    assert card.get_by_test_id("expected").is_visible()
    assert_accessible(page)

    # Later: an ILL loan, due in five days, inside the seven-day renewal window.
    loan = _ill_loan_due_in(5, patron)
    page.reload()
    card = page.get_by_test_id(f"request-{loan.number}")
    assert "On loan to you until" in card.get_by_test_id("status").inner_text()
    with page.expect_navigation():
        card.get_by_role("button", name="Renew").click()
    card = page.get_by_test_id(f"request-{loan.number}")
    assert "renewal asked" in card.get_by_test_id("status").inner_text()
    assert BorrowingRequest.objects.get(pk=loan.pk).status == BorrowingRequest.S.RENEW_REQUESTED
    assert_accessible(page)

    # The other portal pages pass too.
    page.goto(live_server.url + "/my/request/")
    page.get_by_role("button", name="Send the request").click()  # empty: errors said
    page.wait_for_selector(".field-error")
    assert_accessible(page)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign out").click()
    assert_accessible(page)
    page.goto(live_server.url + "/my/sign-in/link/")
    assert_accessible(page)
