"""Loans and returns at the desk, blocks and limits, self-service rules, renewals."""

import datetime

import pytest
from django.utils import timezone

from circulation import services
from circulation.hooks import RenewOutcome
from circulation.models import Hold, Loan
from circulation.services import DeskError, PatronCannotBorrow, desk_scan_in, loan_item
from fulfillment.models import Item
from kauko import roles
from tests import factories as f

from .helpers import block, ill_item, make_patron, own_item

pytestmark = pytest.mark.django_db


def shelved(world, patron, **kw):
    item, hold = ill_item(world, patron, **kw)
    desk_scan_in(desk=world.desk, barcode=item.barcodes.first().barcode, user=world.user)
    return item, hold


def test_an_ill_loan_is_due_on_the_borrowing_requests_patron_due_date(world):
    patron = make_patron(world)
    item, hold = shelved(world, patron)
    world.bridge.due_at = timezone.make_aware(datetime.datetime(2027, 1, 15, 23, 59))

    loan = loan_item(desk=world.desk, patron=patron, item=item, user=world.user)

    assert loan.due_at == world.bridge.due_at and loan.is_ill
    hold.refresh_from_db()
    item.refresh_from_db()
    assert hold.state == Hold.State.LOANED and item.status == Item.Status.LOANED
    assert world.bridge.names()[-1] == "item_loaned"


def test_without_an_answer_from_ill_the_terms_of_use_give_the_due_date(world):
    patron = make_patron(world)
    item, _hold = shelved(world, patron)
    loan = loan_item(desk=world.desk, patron=patron, item=item, user=world.user)
    assert timezone.localtime(loan.due_at).date() == timezone.localdate() + datetime.timedelta(
        days=world.setup.terms.loan_period_days)


def test_a_blocked_patron_is_refused_with_every_reason(world):
    patron = make_patron(world, group="EXTERNAL",
                         expiry_date=timezone.localdate() - datetime.timedelta(days=1))
    block(patron)
    item, _hold = shelved(world, patron)
    with pytest.raises(PatronCannotBorrow) as refused:
        loan_item(desk=world.desk, patron=patron, item=item, user=world.user)
    codes = [p.code for p in refused.value.problems]
    assert codes == ["blocked", "expired"]
    assert "45.00" in refused.value.problems[0].message
    assert not Loan.objects.exists()


def test_the_loan_limit_is_respected(world):
    patron = make_patron(world, group="EXTERNAL")  # limit 2
    for n in range(2):
        loan_item(desk=world.desk, patron=patron, item=own_item(world, barcodes=[f"L{n}"]),
                  user=world.user)
    with pytest.raises(PatronCannotBorrow, match="cannot borrow") as refused:
        loan_item(desk=world.desk, patron=patron, item=own_item(world, barcodes=["L3"]),
                  user=world.user)
    assert refused.value.problems[0].code == "loan_limit"


def test_the_circulation_desk_role_may_override_a_block_and_the_loan_says_so(world):
    patron = make_patron(world)
    block(patron)
    item, _hold = shelved(world, patron)
    assert world.user.has_perm("fulfillment.override_block")
    loan = loan_item(desk=world.desk, patron=patron, item=item, user=world.user, override=True)
    assert loan.overridden_by == world.user and "Unpaid fees" in loan.override_reason


def test_staff_without_the_override_permission_cannot_override(world):
    patron = make_patron(world)
    block(patron)
    item, _hold = shelved(world, patron)
    config_admin = f.staff(world.inst, roles.CONFIGURATION)
    with pytest.raises(PatronCannotBorrow, match="override permission"):
        loan_item(desk=world.desk, patron=patron, item=item, user=config_admin, override=True)


def test_an_item_held_for_one_patron_cannot_be_loaned_to_another(world):
    patron, other = make_patron(world), make_patron(world, first_name="Other")
    item, _hold = shelved(world, patron)
    with pytest.raises(DeskError, match="on hold for another patron"):
        loan_item(desk=world.desk, patron=other, item=item, user=world.user)


def test_an_item_already_on_loan_must_be_checked_in_first(world):
    patron, other = make_patron(world), make_patron(world)
    item = own_item(world)
    loan_item(desk=world.desk, patron=patron, item=item, user=world.user)
    with pytest.raises(DeskError, match="check it in first"):
        loan_item(desk=world.desk, patron=other, item=item, user=world.user)


def test_check_in_of_an_item_not_on_loan_is_refused(world):
    with pytest.raises(DeskError, match="not on loan"):
        services.return_item(desk=world.desk, item=own_item(world), user=world.user)


def test_check_in_of_an_ill_loan_sends_it_back_to_the_rs_library(world):
    patron = make_patron(world)
    item, _hold = shelved(world, patron)
    loan_item(desk=world.desk, patron=patron, item=item, user=world.user)
    result = services.return_item(desk=world.desk, item=item, user=world.user)
    assert result.outcome == services.Outcome.RETURNED
    assert world.bridge.names()[-1] == "item_returned"


# --- self-service ----------------------------------------------------------------------------


def test_a_domestic_ill_item_may_be_loaned_and_returned_at_self_service(world):
    patron = make_patron(world)
    item, _hold = shelved(world, patron)
    loan = loan_item(desk=world.desk, patron=patron, item=item, user=world.user,
                     self_service=True)
    assert loan.self_service
    services.return_item(desk=world.desk, item=item, user=world.user, self_service=True)


def test_an_international_ill_item_is_desk_only_at_self_service(world):
    patron = make_patron(world)
    item, _hold = shelved(world, patron, desk_pickup_only=True)
    with pytest.raises(DeskError, match="Desk pickup only"):
        loan_item(desk=world.desk, patron=patron, item=item, user=world.user,
                  self_service=True)
    loan_item(desk=world.desk, patron=patron, item=item, user=world.user)
    with pytest.raises(DeskError, match="at the desk"):
        services.return_item(desk=world.desk, item=item, user=world.user, self_service=True)


def test_terms_of_use_can_forbid_self_service(world):
    world.setup.terms.self_service_allowed = False
    world.setup.terms.save()
    patron = make_patron(world)
    item, _hold = shelved(world, patron)
    with pytest.raises(DeskError, match="self-service"):
        loan_item(desk=world.desk, patron=patron, item=item, user=world.user,
                  self_service=True)


def test_a_blocked_patron_cannot_override_at_self_service(world):
    patron = make_patron(world)
    block(patron)
    item, _hold = shelved(world, patron)
    with pytest.raises(PatronCannotBorrow):
        loan_item(desk=world.desk, patron=patron, item=item, user=world.user,
                  self_service=True, override=True)


# --- renewals --------------------------------------------------------------------------------


def ill_loan(world, patron, due_in_days=3):
    item, _hold = shelved(world, patron)
    world.bridge.due_at = services.end_of_day(
        timezone.localdate() + datetime.timedelta(days=due_in_days))
    return loan_item(desk=world.desk, patron=patron, item=item, user=world.user)


def test_an_ill_renewal_goes_through_the_borrowing_request(world):
    patron = make_patron(world)
    loan = ill_loan(world, patron, due_in_days=3)
    outcome = services.renew_loan(loan=loan, user=None, by_patron=True)
    assert outcome.state == RenewOutcome.REQUESTED
    assert world.bridge.calls[-1] == ("renew_ill_loan", {"loan": loan, "by_patron": True})
    loan.refresh_from_db()
    assert loan.renewals == 0 and loan.renewal_requested_at is not None
    assert loan.due_at == world.bridge.due_at  # moves only when the partner answers


def test_an_ill_renewal_granted_at_once_moves_the_due_date(world):
    patron = make_patron(world)
    loan = ill_loan(world, patron)
    new_due = services.end_of_day(timezone.localdate() + datetime.timedelta(days=30))
    world.bridge.renew_answer = RenewOutcome(RenewOutcome.GRANTED, "ok", new_due_at=new_due)
    services.renew_loan(loan=loan, user=world.user)
    loan.refresh_from_db()
    assert loan.due_at == new_due and loan.renewals == 1


def test_a_patron_renewal_outside_the_window_is_refused_with_the_date_it_opens(world):
    patron = make_patron(world)
    loan = ill_loan(world, patron, due_in_days=20)  # window: 7 days
    opens = timezone.localdate() + datetime.timedelta(days=13)
    with pytest.raises(DeskError, match="Renewal opens on") as refused:
        services.renew_loan(loan=loan, user=None, by_patron=True)
    assert opens.strftime("%m/%d/%Y") in refused.value.message or \
        opens.strftime("%d.%m.%Y") in refused.value.message or str(opens.day) in \
        refused.value.message
    assert "renew_ill_loan" not in world.bridge.names()


def test_an_ill_renewal_past_the_maximum_count_is_refused(world):
    patron = make_patron(world)
    loan = ill_loan(world, patron)
    Loan.objects.filter(pk=loan.pk).update(renewals=world.setup.terms.max_renewals)
    with pytest.raises(DeskError, match="the most"):
        services.renew_loan(loan=loan, user=world.user)


def test_an_ill_renewal_past_the_maximum_loan_days_is_refused(world):
    patron = make_patron(world)
    loan = ill_loan(world, patron, due_in_days=3)
    Loan.objects.filter(pk=loan.pk).update(
        loaned_at=timezone.now() - datetime.timedelta(days=world.setup.terms.max_total_loan_days))
    with pytest.raises(DeskError, match="longest time"):
        services.renew_loan(loan=loan, user=world.user)


def test_an_ordinary_renewal_extends_by_the_loan_period(world):
    patron = make_patron(world)
    loan = loan_item(desk=world.desk, patron=patron, item=own_item(world), user=world.user)
    old_due = loan.due_at
    services.renew_loan(loan=loan, user=world.user)
    loan.refresh_from_db()
    assert loan.renewals == 1 and loan.due_at > old_due
    assert "renew_ill_loan" not in world.bridge.names()


def test_ill_loans_running_long_are_listed_with_their_limit(world, client):
    from django.urls import reverse

    patron = make_patron(world)
    loan = ill_loan(world, patron, due_in_days=3)
    assert services.long_running_ill_loans(institution=world.inst) == []
    Loan.objects.filter(pk=loan.pk).update(
        loaned_at=timezone.now() - datetime.timedelta(days=90))
    rows = services.long_running_ill_loans(institution=world.inst)
    assert [row.loan for row in rows] == [loan] and rows[0].at_limit
    client.force_login(world.user)
    page = client.get(reverse("desk:long_ill_loans"))
    assert "Borrowed book" in page.content.decode()
