"""Periodic circulation jobs, called directly: reminders, overdue notices, hold shelf expiry,
auto-renewal of ILL loans."""

import datetime

import pytest
from django.utils import timezone

from circulation import services, tasks
from circulation.models import Hold, Loan
from circulation.services import desk_scan_in, loan_item

from .helpers import ill_item, make_patron, own_item

pytestmark = pytest.mark.django_db


def due_in(loan, days):
    Loan.objects.filter(pk=loan.pk).update(
        due_at=services.end_of_day(timezone.localdate() + datetime.timedelta(days=days)))


def sent_letters(code):
    from kauko.models import SentLetter

    return list(SentLetter.objects.filter(code=code))


def test_due_date_reminders_go_once_per_due_date(world, django_capture_on_commit_callbacks):
    patron = make_patron(world)
    soon = loan_item(desk=world.desk, patron=patron, item=own_item(world, barcodes=["A"]),
                     user=world.user)
    later = loan_item(desk=world.desk, patron=patron, item=own_item(world, barcodes=["B"]),
                      user=world.user)
    due_in(soon, 2)
    due_in(later, 20)
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.send_due_date_reminders() == 1
    assert tasks.send_due_date_reminders() == 0
    soon.refresh_from_db()
    assert soon.last_reminder_at is not None
    letters = sent_letters("due_date_reminder")
    assert [letter.to for letter in letters] == ["pat@example.org"]


def test_overdue_notices_repeat_weekly(world):
    patron = make_patron(world)
    loan = loan_item(desk=world.desk, patron=patron, item=own_item(world), user=world.user)
    due_in(loan, -1)
    assert tasks.send_overdue_notices() == 1
    assert tasks.send_overdue_notices() == 0
    assert tasks.send_overdue_notices(now=timezone.now() + datetime.timedelta(days=8)) == 1


def test_hold_shelf_expiry_expires_the_hold_tells_ill_and_the_item_is_pulled_back_to_rs(
        world, django_capture_on_commit_callbacks):
    patron = make_patron(world)
    item, hold = ill_item(world, patron)
    desk_scan_in(desk=world.desk, barcode="PART-1", user=world.user)
    hold.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        expired = tasks.expire_hold_shelf(today=hold.pickup_deadline + datetime.timedelta(1))
    assert expired == 1
    hold.refresh_from_db()
    assert hold.state == Hold.State.EXPIRED
    assert world.bridge.names()[-1] == "hold_shelf_expired"
    assert [letter.code for letter in sent_letters("hold_shelf_expired_notice")]
    assert list(tasks.items_to_pull(desk=world.desk)) == [item]

    result = desk_scan_in(desk=world.desk, barcode="PART-1", user=world.user)

    assert result.outcome == services.Outcome.TRANSIT_TO_RS
    assert list(tasks.items_to_pull(desk=world.desk)) == []


def test_a_hold_within_its_pickup_time_stays(world):
    patron = make_patron(world)
    ill_item(world, patron)
    desk_scan_in(desk=world.desk, barcode="PART-1", user=world.user)
    assert tasks.expire_hold_shelf() == 0


def test_staff_ill_loans_are_renewed_automatically_through_the_borrowing_request(world):
    staff = make_patron(world, group="STAFF")
    student = make_patron(world, group="STUDENT")
    loans = []
    for patron, barcode in ((staff, "S-1"), (student, "S-2")):
        item, _hold = ill_item(world, patron, barcodes=[barcode])
        desk_scan_in(desk=world.desk, barcode=barcode, user=world.user)
        loans.append(loan_item(desk=world.desk, patron=patron, item=item, user=world.user))
    for loan in loans:
        due_in(loan, 5)  # inside the 7-day window

    assert tasks.auto_renew_ill_loans() == 1
    renewals = [kw for name, kw in world.bridge.calls if name == "renew_ill_loan"]
    assert [kw["loan"].patron for kw in renewals] == [staff]
    assert renewals[0]["by_patron"] is False
    # Asked once per due date, not every night.
    assert tasks.auto_renew_ill_loans() == 0


def test_auto_renewal_waits_for_the_window(world):
    staff = make_patron(world, group="STAFF")
    item, _hold = ill_item(world, staff)
    desk_scan_in(desk=world.desk, barcode="PART-1", user=world.user)
    loan = loan_item(desk=world.desk, patron=staff, item=item, user=world.user)
    due_in(loan, 20)
    assert tasks.auto_renew_ill_loans() == 0


def test_the_arrival_notice_is_sent_to_the_patron(world, django_capture_on_commit_callbacks):
    patron = make_patron(world)
    ill_item(world, patron)
    with django_capture_on_commit_callbacks(execute=True):
        desk_scan_in(desk=world.desk, barcode="PART-1", user=world.user)
    letters = sent_letters("hold_arrival_notice")
    assert len(letters) == 1 and letters[0].to == "pat@example.org"


def test_the_jobs_are_scheduled_in_celery_beat(settings):
    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"circulation.send_due_date_reminders", "circulation.send_overdue_notices",
            "circulation.expire_hold_shelf", "circulation.auto_renew_ill_loans"} <= names
