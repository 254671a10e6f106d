"""Issue 12, the librarian's walk-through: what a borrowing librarian expects of a request
from its creation to the desk (not for loan, temporary-item rules, assignment, …)."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from circulation import services as desk
from fulfillment.models import Item
from ill.borrowing.services import (
    borrowing_request_accept_conditions,
    borrowing_request_conditional,
    borrowing_request_receive,
    borrowing_request_send,
    borrowing_request_shipped,
)
from ill.models import BorrowingRequest
from partners.models import TemporaryItemRule
from tests import factories as f

S = BorrowingRequest.Status
pytestmark = pytest.mark.django_db


@pytest.fixture
def patron(inst, setup):
    return f.patron(inst, group=f.patron_group(inst, "STUDENT", loan_limit=5),
                    pickup_desk=setup.desk, email="p@example.org")


@pytest.fixture
def request_(inst, setup, partner, patron):
    return f.borrowing_request(inst, setup=setup, partners=[partner], patron_=patron)


def _fresh(r):
    return BorrowingRequest.objects.get(pk=r.pk)


def _item(r):
    return Item.objects.get(pk=_fresh(r).temporary_item_id)


def _shipped_with_condition(request_, rs_staff, condition):
    request_ = borrowing_request_send(request=request_, user=rs_staff)
    request_ = borrowing_request_conditional(request=request_, condition=condition,
                                             user=rs_staff)
    request_ = borrowing_request_accept_conditions(request=request_, user=rs_staff)
    return borrowing_request_shipped(
        request=request_, due_date=timezone.localdate() + datetime.timedelta(days=30),
        user=rs_staff)


# --- 1. Received – not for loan -------------------------------------------------------------


def test_an_accepted_library_use_only_condition_makes_the_desk_refuse_a_home_loan(
    request_, rs_staff, desk_staff, setup, patron
):
    request_ = _shipped_with_condition(request_, rs_staff, "Library use only")
    borrowing_request_receive(request=request_, barcode="NFL-1", user=rs_staff)
    assert "library use only" in _item(request_).not_for_loan_reason.lower()
    desk.desk_scan_in(desk=setup.desk, barcode="NFL-1", user=desk_staff)
    with pytest.raises(desk.DeskError, match="Not for home loan: Library use only"):
        desk.loan_item(desk=setup.desk, patron=patron, item=_item(request_), user=desk_staff)
    assert _fresh(request_).status == S.RECEIVED
    assert "not for loan" in _fresh(request_).history.get(action="receive").note


def test_a_condition_that_does_not_keep_the_item_in_the_library_leaves_it_loanable(
    request_, rs_staff, desk_staff, setup, patron
):
    request_ = _shipped_with_condition(request_, rs_staff, "No photocopying")
    borrowing_request_receive(request=request_, barcode="NFL-2", user=rs_staff)
    desk.desk_scan_in(desk=setup.desk, barcode="NFL-2", user=desk_staff)
    desk.loan_item(desk=setup.desk, patron=patron, item=_item(request_), user=desk_staff)
    assert _fresh(request_).status == S.LOANED


def test_staff_can_mark_an_item_not_for_loan_at_receive_and_the_page_says_so(
    client, request_, rs_staff
):
    request_ = borrowing_request_send(request=request_, user=rs_staff)
    client.force_login(rs_staff)
    page = client.get(reverse("ill:borrowing_detail", args=[request_.pk]))
    assert "Received – not for loan (library use only)" in page.text
    client.post(reverse("ill:borrowing_action", args=[request_.pk, "receive"]), {
        "receive-version": _fresh(request_).version, "receive-barcode": "NFL-3",
        "receive-not_for_loan": "on"})
    assert _fresh(request_).status == S.RECEIVED
    assert _item(request_).not_for_loan_reason == "library use only"
    page = client.get(reverse("ill:borrowing_detail", args=[request_.pk]))
    assert 'data-testid="not-for-loan"' in page.text


def test_the_receive_form_ticks_not_for_loan_when_the_accepted_condition_says_so(
    client, request_, rs_staff
):
    _shipped_with_condition(request_, rs_staff, "LibraryUseOnly")
    client.force_login(rs_staff)
    page = client.get(reverse("ill:borrowing_detail", args=[request_.pk]))
    box = re.search(r'<input[^>]*name="receive-not_for_loan"[^>]*>', page.text).group(0)
    assert "checked" in box


# --- 2. Temporary item rules ----------------------------------------------------------------


@pytest.fixture
def intl_terms(inst, setup):
    """The incoming unit's first rule: ILL-INTL items are desk-only, at most 20 days."""
    from fulfillment.models import FulfillmentUnitRule

    intl = f.terms(inst, "ILL international", loan_period_days=28, self_service_allowed=False,
                   max_total_loan_days=20)
    FulfillmentUnitRule.objects.create(
        institution=inst, fulfillment_unit=setup.incoming.fulfillment_unit, position=0,
        name="International: desk only", item_policy_codes="ILL-INTL", terms_of_use=intl)
    TemporaryItemRule.objects.create(
        institution=inst, position=1, name="International ILL: desk only",
        scope=TemporaryItemRule.Scope.INTERNATIONAL, item_policy="ILL-INTL")
    return intl


def _received_from(inst, setup, patron, rs_staff, partner, barcode):
    request_ = f.borrowing_request(inst, setup=setup, partners=[partner], patron_=patron)
    request_ = borrowing_request_send(request=request_, user=rs_staff)
    request_ = borrowing_request_shipped(
        request=request_, due_date=timezone.localdate() + datetime.timedelta(days=60),
        user=rs_staff)
    return borrowing_request_receive(request=request_, barcode=barcode, user=rs_staff)


def test_an_item_from_an_international_partner_gets_the_rules_item_policy_and_its_terms(
    inst, setup, patron, rs_staff, desk_staff, intl_terms
):
    abroad = f.partner(inst, code="RDL", is_international=True)
    request_ = _received_from(inst, setup, patron, rs_staff, abroad, "INTL-1")
    item = _item(request_)
    assert item.item_policy == "ILL-INTL"
    # The international terms' 20 days from receipt cap the patron due date.
    assert request_.patron_due_date == timezone.localdate() + datetime.timedelta(days=20)
    desk.desk_scan_in(desk=setup.desk, barcode="INTL-1", user=desk_staff)
    loan = desk.loan_item(desk=setup.desk, patron=patron, item=_item(request_),
                          user=desk_staff)
    assert loan.terms_of_use == intl_terms


def test_an_item_from_a_domestic_partner_matches_no_international_rule(
    inst, setup, patron, rs_staff, partner, intl_terms
):
    request_ = _received_from(inst, setup, patron, rs_staff, partner, "DOM-1")
    assert _item(request_).item_policy == ""
    assert request_.patron_due_date == timezone.localdate() + datetime.timedelta(days=60)


def test_a_rule_for_one_partner_and_format_places_the_item_in_its_location(
    inst, setup, patron, rs_staff, partner
):
    shelf = f.location(setup.rs, "ILL-SPECIAL", setup.incoming.fulfillment_unit)
    TemporaryItemRule.objects.create(institution=inst, name="Other format", partner=partner,
                                     formats="MEDIA", item_policy="AV")
    TemporaryItemRule.objects.create(institution=inst, position=2, name="NRL books",
                                     partner=partner, formats="book", location=shelf,
                                     item_policy="NRL")
    request_ = _received_from(inst, setup, patron, rs_staff, partner, "NRL-9")
    item = _item(request_)
    assert (item.location, item.permanent_location, item.item_policy) == (shelf, shelf, "NRL")
    assert item.holding.location == shelf


def test_a_configuration_admin_edits_temporary_item_rules_in_the_admin(
    client, inst, config_admin, rs_staff
):
    client.force_login(config_admin)
    url = reverse("admin:partners_temporaryitemrule_add")
    response = client.post(url, {"position": "1", "name": "Abroad", "scope": "international",
                                 "formats": "", "item_policy": "ILL-INTL"})
    assert response.status_code == 302
    rule = TemporaryItemRule.objects.get(name="Abroad")
    assert rule.institution == inst
    client.force_login(rs_staff)
    assert client.get(url).status_code == 403


# --- 3. Overdue and recall with e-mail partners ----------------------------------------------


def _loaned_request(inst, setup, patron, rs_staff, desk_staff, partner, barcode="LOAN-1"):
    request_ = _received_from(inst, setup, patron, rs_staff, partner, barcode)
    desk.desk_scan_in(desk=setup.desk, barcode=barcode, user=desk_staff)
    desk.loan_item(desk=setup.desk, patron=patron, item=_item(request_), user=desk_staff)
    return _fresh(request_)


def _act(client, request_, name, **data):
    return client.post(reverse("ill:borrowing_action", args=[request_.pk, name]), {
        f"{name}-version": _fresh(request_).version,
        **{f"{name}-{k}": v for k, v in data.items()}}, follow=True)


def test_staff_record_that_an_email_partner_says_its_item_is_overdue(
    client, inst, setup, patron, rs_staff, desk_staff, partner
):
    request_ = _loaned_request(inst, setup, patron, rs_staff, desk_staff, partner)
    client.force_login(rs_staff)
    page = client.get(reverse("ill:borrowing_detail", args=[request_.pk]))
    assert 'data-action="partner_overdue"' in page.text
    _act(client, request_, "partner_overdue", note="Their letter of 3 Dec")
    request_ = _fresh(request_)
    assert request_.status == S.OVERDUE
    entry = request_.history.get(action="mark_overdue")
    assert entry.source == "staff" and entry.note == "Their letter of 3 Dec"


def test_staff_record_an_email_partners_recall_with_its_new_due_date(
    client, inst, setup, patron, rs_staff, desk_staff, partner
):
    from circulation.models import Loan

    request_ = _loaned_request(inst, setup, patron, rs_staff, desk_staff, partner)
    back_by = timezone.localdate() + datetime.timedelta(days=10)
    client.force_login(rs_staff)
    _act(client, request_, "partner_recall", new_due_date=back_by.isoformat())
    request_ = _fresh(request_)
    assert request_.status == S.RECALLED and request_.needs_attention
    assert request_.partner_due_date == back_by
    loan = Loan.objects.get(item_id=request_.temporary_item_id, returned_at__isnull=True)
    assert timezone.localtime(loan.due_at).date() == request_.patron_due_date == back_by


def test_an_iso_partners_overdue_and_recall_come_as_messages_not_staff_actions(
    client, inst, setup, patron, rs_staff, desk_staff, iso_partner, other_staff
):
    request_ = _loaned_request(inst, setup, patron, rs_staff, desk_staff, iso_partner)
    client.force_login(rs_staff)
    page = client.get(reverse("ill:borrowing_detail", args=[request_.pk]))
    assert 'data-action="partner_overdue"' not in page.text
    assert 'data-action="partner_recall"' not in page.text
    _act(client, request_, "partner_recall")
    assert _fresh(request_).status == S.LOANED
    client.force_login(other_staff)
    assert _act(client, request_, "partner_overdue").status_code == 404


def test_the_partner_actions_need_a_post_and_a_login(client, anonymous, inst, setup, patron,
                                                     rs_staff, desk_staff, partner):
    request_ = _loaned_request(inst, setup, patron, rs_staff, desk_staff, partner)
    url = reverse("ill:borrowing_action", args=[request_.pk, "partner_overdue"])
    assert anonymous.post(url).status_code == 302
    client.force_login(rs_staff)
    assert client.get(url).status_code == 405
    client.force_login(desk_staff)
    assert client.post(url).status_code == 403
    assert _fresh(request_).status == S.LOANED


# --- 6. A refused automatic renewal ---------------------------------------------------------


def test_a_refused_automatic_renewal_flags_the_request_and_tells_the_staff_patron(
    inst, setup, rs_staff, desk_staff, mailoutbox, django_capture_on_commit_callbacks
):
    from circulation import tasks

    no_renewals = f.partner(inst, code="NORENEW", borrowing_profile=f.workflow_profile(
        inst, use_renew=False))
    staff_patron = f.patron(inst, group=f.patron_group(inst, "STAFF", loan_limit=50),
                            pickup_desk=setup.desk, email="staff@example.org")
    request_ = f.borrowing_request(inst, setup=setup, partners=[no_renewals],
                                   patron_=staff_patron)
    request_ = borrowing_request_send(request=request_, user=rs_staff)
    request_ = borrowing_request_shipped(
        request=request_, due_date=timezone.localdate() + datetime.timedelta(days=3),
        user=rs_staff)
    borrowing_request_receive(request=request_, barcode="AUTO-1", user=rs_staff)
    desk.desk_scan_in(desk=setup.desk, barcode="AUTO-1", user=desk_staff)
    desk.loan_item(desk=setup.desk, patron=staff_patron, item=_item(request_), user=desk_staff)
    mailoutbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.auto_renew_ill_loans() == 0
    request_ = _fresh(request_)
    assert request_.status == S.LOANED
    assert request_.needs_attention
    assert request_.attention_reason.startswith("Automatic renewal refused")
    assert request_.history.filter(action="auto_renewal_refused").exists()
    letters = [m for m in mailoutbox if m.to == ["staff@example.org"]]
    assert len(letters) == 1 and "NORENEW does not take renewals" in letters[0].body

    with django_capture_on_commit_callbacks(execute=True):
        tasks.auto_renew_ill_loans()  # the next night: not told again for this due date
    assert len([m for m in mailoutbox if m.to == ["staff@example.org"]]) == 1


# --- 7. A paper copy by post ----------------------------------------------------------------

ARTICLE = {"title": "Journal of Documentation", "article_title": "Resource sharing",
           "issn": "0022-0418", "year": "2005", "pages": "201-219"}


def test_a_paper_copy_by_post_goes_to_the_pickup_desk_and_the_patron_keeps_it(
    client, inst, setup, patron, rs_staff, desk_staff, partner, mailoutbox,
    django_capture_on_commit_callbacks
):
    from circulation.models import Loan

    request_ = f.borrowing_request(inst, setup=setup, partners=[partner], patron_=patron,
                                   request_type="article", citation=ARTICLE)
    assert request_.temporary_item is None
    request_ = borrowing_request_send(request=request_, user=rs_staff)
    client.force_login(rs_staff)
    page = client.get(reverse("ill:borrowing_detail", args=[request_.pk]))
    assert 'data-action="paper_copy"' in page.text
    _act(client, request_, "paper_copy")
    request_ = _fresh(request_)
    assert request_.status == S.RECEIVED
    item = _item(request_)
    assert item.patron_keeps and item.primary_barcode == request_.number
    assert item.status == Item.Status.IN_TRANSIT

    with django_capture_on_commit_callbacks(execute=True):
        shelved = desk.desk_scan_in(desk=setup.desk, barcode=request_.number,
                                    user=desk_staff)
    assert shelved.outcome == desk.Outcome.ON_HOLD_SHELF
    assert [m for m in mailoutbox if m.to == [patron.email]]  # the arrival notice

    desk.loan_item(desk=setup.desk, patron=patron, item=_item(request_), user=desk_staff)
    request_ = _fresh(request_)
    assert request_.status == S.COMPLETED
    assert _item(request_).status == Item.Status.WITHDRAWN
    assert not Loan.objects.filter(patron=patron, returned_at__isnull=True).exists()
    assert request_.history.filter(action="hand_over_copy").exists()


def test_a_paper_copy_for_office_delivery_goes_by_internal_mail_and_completes(
    inst, setup, rs_staff, partner
):
    staff_group = f.patron_group(inst, "STAFF", loan_limit=50, may_use_office_delivery=True)
    staff_patron = f.patron(inst, group=staff_group, office_address="Room 101, Main building",
                            email="s@example.org")
    request_ = f.borrowing_request(inst, setup=setup, partners=[partner], patron_=staff_patron,
                                   request_type="article", citation=ARTICLE,
                                   office_delivery=True)
    request_ = borrowing_request_send(request=request_, user=rs_staff)
    from ill.borrowing.services import borrowing_request_paper_copy_received

    request_ = borrowing_request_paper_copy_received(request=request_, user=rs_staff)
    result = desk.desk_scan_in(desk=setup.rs_desk, barcode=request_.number, user=rs_staff)
    assert result.outcome == desk.Outcome.OFFICE_DELIVERY
    assert "Room 101" in result.message and "to keep" in " ".join(result.details)
    assert _fresh(request_).status == S.COMPLETED


def test_a_loan_is_not_received_as_a_paper_copy(client, request_, rs_staff):
    from ill.borrowing.services import borrowing_request_paper_copy_received
    from kauko.errors import DomainError

    request_ = borrowing_request_send(request=request_, user=rs_staff)
    client.force_login(rs_staff)
    page = client.get(reverse("ill:borrowing_detail", args=[request_.pk]))
    assert 'data-action="paper_copy"' not in page.text
    with pytest.raises(DomainError):
        borrowing_request_paper_copy_received(request=request_, user=rs_staff)
    assert _fresh(request_).status == S.SENT


# --- 8. Office delivery: the slip's address and the patron's letter ---------------------------


def test_office_delivery_prints_the_internal_mail_address_and_tells_the_patron(
    inst, setup, rs_staff, partner, mailoutbox, django_capture_on_commit_callbacks
):
    staff_group = f.patron_group(inst, "STAFF", loan_limit=50, may_use_office_delivery=True)
    staff_patron = f.patron(inst, group=staff_group, office_address="Room 101, Main building",
                            email="s@example.org")
    request_ = f.borrowing_request(inst, setup=setup, partners=[partner], patron_=staff_patron,
                                   office_delivery=True)
    request_ = borrowing_request_send(request=request_, user=rs_staff)
    borrowing_request_receive(request=request_, barcode="OFF-1", user=rs_staff)
    with django_capture_on_commit_callbacks(execute=True):
        result = desk.desk_scan_in(desk=setup.rs_desk, barcode="OFF-1", user=rs_staff)
    assert result.outcome == desk.Outcome.OFFICE_DELIVERY
    assert "Room 101, Main building" in result.slip_html
    assert "s@example.org" in " ".join(result.details)
    letters = [m for m in mailoutbox if m.to == ["s@example.org"]]
    assert len(letters) == 1
    assert "sisäpostissa" in letters[0].body  # the patron reads Finnish by default
    assert "Room 101, Main building" in letters[0].body
