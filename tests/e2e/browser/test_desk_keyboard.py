"""One ILL item's whole trip across the desk, keyboard only: scanned in from the RS office
onto the hold shelf, loaned, returned, and sent back to the RS library (return to partner)."""

import pytest

from circulation.models import Hold, Loan
from fulfillment.models import Item
from tests.circulation.helpers import desk_world, ill_item, make_patron

from .conftest import login, wait_for_focus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "desk-browser-pw-1"




def scan(page, value: str) -> str:
    """Type a barcode as a scanner does (the field has focus) and read the feedback."""
    wait_for_focus(page, ".scan-field")
    page.keyboard.type(value)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    return page.locator("[data-testid=feedback]").inner_text()


def test_an_ill_item_goes_from_arrival_to_return_to_partner_with_the_keyboard_only(
        page, live_server, bridge):
    world = desk_world(bridge, username="deskbrowser", password=PASSWORD)
    patron = make_patron(world, barcode="CARD-77", first_name="Helmi", last_name="Mäkinen")
    item, hold = ill_item(world, patron, barcodes=[("PART-77", "partner"),
                                                   ("E28011606000AB", "rfid")])
    login(page, live_server, "deskbrowser", PASSWORD)

    # 1. The item arrives from the RS office: scanned by its RFID tag, it goes on the shelf.
    page.goto(f"{live_server.url}/desk/{world.desk.pk}/scan/")
    feedback = scan(page, "E28011606000AB")
    assert "OK" in feedback and "On the hold shelf for Helmi Mäkinen" in feedback
    assert page.evaluate("document.activeElement.id") == "barcode"  # focus stays

    # 2. Helmi comes for it: check-out (Alt+O), her card, then the item.
    with page.expect_navigation():
        page.keyboard.press("Alt+O")
    assert "/check-out/" in page.url
    wait_for_focus(page, "#patron")
    page.keyboard.type("CARD-77")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector("[data-testid=patron]")
    wait_for_focus(page, "#barcode")
    page.keyboard.type("PART-77")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_selector("text=Loaned: Borrowed book")
    assert Loan.objects.get(item=item, returned_at__isnull=True).patron == patron

    # 3. She returns it: check-in (Alt+I) says it goes back to the RS library.
    with page.expect_navigation():
        page.keyboard.press("Alt+I")
    feedback = scan(page, "PART-77")
    assert "in transit to RS" in feedback

    # 4. At the RS office's desk the scan says: return to partner, print the return slip.
    page.goto(f"{live_server.url}/desk/{world.rs_desk.pk}/scan/")
    feedback = scan(page, "part-77")
    assert "Return to partner National Repository Library" in feedback
    assert "ACTION NEEDED" in feedback
    assert page.locator("[data-testid=print-slip]").count() == 1

    hold.refresh_from_db()
    item.refresh_from_db()
    assert hold.state == Hold.State.LOANED
    assert item.location == world.setup.incoming and item.status == Item.Status.IN_PLACE
    assert bridge.names() == ["item_arrived_at_desk", "loan_due_date", "item_loaned",
                              "item_returned", "item_back_at_rs_library"]


def test_an_unknown_barcode_is_announced_and_the_field_keeps_focus(page, live_server, bridge):
    world = desk_world(bridge, username="deskbrowser2", password=PASSWORD)
    login(page, live_server, "deskbrowser2", PASSWORD)
    page.goto(f"{live_server.url}/desk/{world.desk.pk}/scan/")
    feedback = scan(page, "NO-SUCH-THING")
    assert "STOP" in feedback and "Unknown barcode NO-SUCH-THING" in feedback
    assert page.locator("[data-testid=feedback]").get_attribute("aria-live") == "assertive"
    assert page.evaluate("document.activeElement.id") == "barcode"
