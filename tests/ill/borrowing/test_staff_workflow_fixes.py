"""What a librarian's walk-through found broken in the staff workflow (issue 12), each
shown by a test that failed before the fix."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from ill.borrowing import services as bs
from ill.borrowing.filters import QUEUES
from ill.lending import services as ls
from ill.lending.locate import find_candidates
from ill.models import BorrowingRequest, LendingRequest
from kauko.errors import DomainError
from kauko.models import StaffUser
from tests import factories as f

pytestmark = pytest.mark.django_db




def test_choosing_partners_on_a_request_saves_them_in_the_order_chosen(client, inst, setup, rs_staff):
    first = f.partner(inst, code="RDL", name="Royal Danish Library")
    second = f.partner(inst, code="NRL", name="National Repository")
    request = f.borrowing_request(inst, setup=setup)
    client.force_login(rs_staff)
    page = client.get(reverse("ill:borrowing_detail", args=[request.pk]))
    assert 'name="rota-partners"' in page.text  # one drop-down per place, same name

    response = client.post(reverse("ill:borrowing_action", args=[request.pk, "rota"]), {
        "rota-version": request.version, "rota-partners": [str(first.pk), "", str(second.pk)]})

    assert response.status_code == 302
    rota = list(BorrowingRequest.objects.get(pk=request.pk).rota.order_by("position")
                .values_list("partner__code", flat=True))
    assert rota == ["RDL", "NRL"]
    # Shown again in that order, ready to reorder.
    page = client.get(reverse("ill:borrowing_detail", args=[request.pk]))
    assert page.text.index(f'value="{first.pk}" selected') < page.text.index(
        f'value="{second.pk}" selected')


def test_the_create_form_keeps_the_order_the_partners_were_chosen_in(client, inst, setup, rs_staff):
    patron = f.patron(inst, barcode="P-1", pickup_desk=setup.desk)
    nrl = f.partner(inst, code="NRL", name="National Repository")
    rdl = f.partner(inst, code="RDL", name="Royal Danish Library")
    client.force_login(rs_staff)
    form = client.get(reverse("ill:borrowing_create")).text
    # A browser posts a multi-select in the list's order, whatever was clicked first: the
    # form offers one drop-down per place instead.
    assert 'class="ordered-choices"' in form and 'name="partners" multiple' not in form
    client.post(reverse("ill:borrowing_create"), {
        "request_type": "loan", "title": "Kalevala", "patron_barcode": patron.barcode,
        "partners": [str(rdl.pk), str(nrl.pk)]})
    request = BorrowingRequest.objects.get(title="Kalevala")
    assert list(request.rota.order_by("position").values_list("partner__code", flat=True)) \
        == ["RDL", "NRL"]


def _loaned_out(inst, setup, due):
    book = f.item(setup.stacks, title="Seitsemän veljestä", barcodes=("OTA100",))
    lent = f.lending_request(inst, setup=setup, partner_request_id="NRL-1",
                             citation={"title": "Seitsemän veljestä"})
    assert lent.item == book
    lent = ls.lending_request_ship(request=lent, barcode="OTA100", due_date=due)
    return ls.lending_request_renewal_asked(request=lent)


def test_a_granted_renewal_must_move_the_due_date_and_defaults_to_one_more_loan_period(inst, setup, rs_staff):
    due = timezone.localdate() + datetime.timedelta(days=40)
    lent = _loaned_out(inst, setup, due)

    assert ls.renewal_due_date(lent) > due
    with pytest.raises(DomainError, match="after the current one"):
        ls.lending_request_renewal_answer(request=lent, granted=True, new_due_date=due,
                                          user=rs_staff)
    assert LendingRequest.objects.get(pk=lent.pk).renewals == 0


def test_the_rejected_queue_is_named_for_what_it_holds():
    assert "locate_failed" not in QUEUES
    assert QUEUES["rejected"].statuses == (BorrowingRequest.S.REJECTED,)


def test_an_article_from_a_journal_we_hold_is_located_by_the_journal_title(inst, setup, rs_staff):
    journal = f.item(setup.stacks, title="Journal of Library Automation", barcodes=("J-1",))
    journal.bib.year = "1968"
    journal.bib.save()
    lent = f.lending_request(inst, setup=setup, service_type="copy", citation={
        "title": "Journal of Library Automation", "article_title": "On cataloguing",
        "article_author": "Doe, J.", "author": "Doe, J.", "year": "2024"})
    assert [c.item for c in find_candidates(lent)] == [journal]


def test_opening_a_lending_request_by_scanning_its_item_fills_the_check_in_barcode(client, inst, setup, rs_staff):
    due = timezone.localdate() + datetime.timedelta(days=20)
    lent = _loaned_out(inst, setup, due)
    lent = ls.lending_request_renewal_answer(request=lent, granted=False)
    lent = ls.lending_request_returned(request=lent)
    client.force_login(rs_staff)
    response = client.get(reverse("ill:lending_scan"), {"barcode": "ota100"}, follow=True)
    forms = {action.name: form for action, form in response.context["actions"]}
    assert forms["check_in"]["barcode"].value() == "ota100"
    # Opened any other way, the barcode still has to be scanned.
    page = client.get(reverse("ill:lending_detail", args=[lent.pk]))
    forms = {action.name: form for action, form in page.context["actions"]}
    assert not forms["check_in"]["barcode"].value()


def test_the_operator_is_shown_what_it_can_do_instead_of_a_bare_refusal(client):
    f.institution("OTA")
    operator = StaffUser.objects.create_superuser("operator", "op@example.org", "pw")
    client.force_login(operator)
    home = client.get(reverse("home"))
    assert home.status_code == 200 and reverse("admin:index") in home.text
    assert "OTA" in home.text
    refused = client.get(reverse("ill:borrowing_list"))
    assert refused.status_code == 403 and reverse("admin:index") in refused.text


def test_a_library_that_does_not_ship_to_partners_refuses_to_ship_our_item(inst, setup, rs_staff):
    setup.rs.may_ship_to_partners = False
    setup.rs.save()
    f.item(setup.stacks, title="Seitsemän veljestä", barcodes=("OTA100",))
    lent = f.lending_request(inst, setup=setup, citation={"title": "Seitsemän veljestä"})
    with pytest.raises(DomainError, match="does not ship to other libraries"):
        ls.lending_request_ship(request=lent, barcode="OTA100", user=rs_staff)
    assert LendingRequest.objects.get(pk=lent.pk).shipped_at is None


def test_a_library_that_does_not_deliver_to_offices_refuses_office_delivery(inst, setup, rs_staff):
    setup.rs.may_ship_to_office = False
    setup.rs.save()
    staff_group = f.patron_group(inst, "STAFF", may_use_office_delivery=True)
    patron = f.patron(inst, group=staff_group, office_address="Room A123",
                      pickup_desk=setup.desk)
    with pytest.raises(DomainError, match="does not deliver to office addresses"):
        f.borrowing_request(inst, setup=setup, patron_=patron, office_delivery=True)
    assert not BorrowingRequest.objects.exists()


def test_an_email_partner_is_written_to_when_its_item_is_lost(inst, setup, rs_staff, mailoutbox,
                                                            django_capture_on_commit_callbacks):
    partner = f.partner(inst, code="NRL", email="ill@nrl.example.org", language="en")
    request = f.borrowing_request(inst, setup=setup, partners=[partner])
    BorrowingRequest.objects.filter(pk=request.pk).update(status=BorrowingRequest.S.LOANED)
    with django_capture_on_commit_callbacks(execute=True):
        bs.borrowing_request_report(request=BorrowingRequest.objects.get(pk=request.pk),
                                    what="damaged", user=rs_staff, note="Water damage.")
    letter = mailoutbox[-1]
    assert letter.to == ["ill@nrl.example.org"] and "Damaged" in letter.subject
    assert "damaged while with us" in letter.body and "Water damage." in letter.body
