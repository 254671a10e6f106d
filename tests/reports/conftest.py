"""A hand-counted quarter (January to March 2026, Helsinki time) of borrowing and lending at
OTA, driven through the real services with a clock, so the reports read what the services
really write. Another institution's requests in the same months must never be counted.

Borrowing (partners Alpha, domestic, and Beta, international):

| req | type    | group   | what happened (local time)                                        |
|-----|---------|---------|-------------------------------------------------------------------|
| R1  | loan    | STUDENT | created 10.1 09:00, sent Alpha 10.1 10:00, shipped 12.1 10:00,    |
|     |         |         | received 14.1 10:00, at the desk 14.1 16:00                        |
| R2  | loan    | STUDENT | created+sent Alpha 31.1 23:30, shipped 2.2 23:30, received 3.2 23:30 |
| R3  | loan    | STAFF   | created+sent Alpha 1.2 10:00, Alpha says no 2.2 10:00 (Not on       |
|     |         |         | shelf), sent Beta 3.2 10:00, shipped 4.2 10:00, received 6.2 10:00  |
| R4  | article | STUDENT | created 10.2 09:00, sent Beta 10.2 10:00, copy 11.2 10:00, opened    |
| R5  | loan    | STUDENT | sent Alpha 1.3 10:00, cancelled by staff (partner agreed) 2.3       |
| R6  | loan    | STUDENT | sent Beta 5.3 10:00, open                                          |
| R7  | loan    | STUDENT | sent Beta 6.3 10:00, Beta cancels 7.3 10:00                         |

Lending: L1 Alpha 5.1 10:00 shipped 6.1 10:00; L2 Alpha 20.1 rejected (Not held); L3 Beta
28.2 23:00 shipped 2.3 11:00; L4 Beta 3.3 cancelled by the partner; L5 Beta 4.3 open.
"""

from __future__ import annotations

import datetime
import zoneinfo
from types import SimpleNamespace

import pytest
from django.utils import timezone

from ill.borrowing import services as b
from ill.models import HistoryEntry, LendingRequest
from ill.workflow import record
from kauko import roles
from tests import factories as f

HELSINKI = zoneinfo.ZoneInfo("Europe/Helsinki")
LR = LendingRequest


def local(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=HELSINKI)


class Clock:
    """Runs a step as if it were `when`: services' timezone.now() answers `when`, and the
    history rows the step wrote are dated `when` (their default was bound at import)."""

    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch

    def at(self, when, func, **kwargs):
        self.monkeypatch.setattr(timezone, "now", lambda: when)
        last = HistoryEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
        result = func(**kwargs)
        HistoryEntry.objects.filter(id__gt=last).update(at=when)
        self.monkeypatch.undo()
        return result


@pytest.fixture
def quarter(monkeypatch, settings):
    settings.TIME_ZONE = "Europe/Helsinki"
    clock = Clock(monkeypatch)
    inst = f.institution("OTA")
    setup = f.rs_setup(inst)
    staff = f.staff(inst, roles.RESOURCE_SHARING)
    alpha = f.partner(inst, code="ALPHA", name="Alpha")
    beta = f.partner(inst, code="BETA", name="Beta", is_international=True)
    students = f.patron_group(inst, "STUDENT")
    staff_group = f.patron_group(inst, "STAFF")
    student = f.patron(inst, group=students, pickup_desk=setup.desk, email="s@example.org")
    employee = f.patron(inst, group=staff_group, pickup_desk=setup.desk, email="e@example.org")

    def create(when, partners, patron=student, request_type="loan"):
        return clock.at(when, f.borrowing_request, inst=inst, setup=setup, patron_=patron,
                        partners=partners, request_type=request_type, user=staff)

    def send(when, r):
        return clock.at(when, b.borrowing_request_send, request=r, user=staff)

    def ship(when, r):
        return clock.at(when, b.borrowing_request_shipped, request=r, user=staff,
                        due_date=(when + datetime.timedelta(days=30)).date())

    def receive(when, r, barcode):
        return clock.at(when, b.borrowing_request_receive, request=r, user=staff,
                        barcode=barcode)

    r1 = create(local(1, 10, 9), [alpha])
    r1 = send(local(1, 10), r1)
    r1 = ship(local(1, 12), r1)
    r1 = receive(local(1, 14), r1, "R1-BARCODE")
    clock.at(local(1, 14, 16), record, request=r1, action="at_desk", user=staff,
             from_status=r1.status, to_status=r1.status, note="Arrived at the desk.")

    r2 = create(local(1, 31, 23, 30), [alpha])
    r2 = send(local(1, 31, 23, 30), r2)
    r2 = ship(local(2, 2, 23, 30), r2)
    r2 = receive(local(2, 3, 23, 30), r2, "R2-BARCODE")

    r3 = create(local(2, 1), [alpha, beta], patron=employee)
    r3 = send(local(2, 1), r3)
    r3 = clock.at(local(2, 2), b.borrowing_request_rejected, request=r3, reason="Not on shelf",
                  user=staff)
    r3 = send(local(2, 3), r3)
    r3 = ship(local(2, 4), r3)
    r3 = receive(local(2, 6), r3, "R3-BARCODE")

    r4 = create(local(2, 10, 9), [beta], request_type="article")
    r4 = send(local(2, 10), r4)
    r4 = clock.at(local(2, 11), b.borrowing_request_shipped_digitally, request=r4, user=staff,
                  url="https://beta.example.org/copy.pdf")
    clock.at(local(2, 12), b.article_opened, token=r4.download_token)

    r5 = create(local(3, 1), [alpha])
    r5 = send(local(3, 1), r5)
    r5 = clock.at(local(3, 2), b.borrowing_request_cancel, request=r5, reason="Not needed",
                  user=staff)
    r5 = clock.at(local(3, 2, 12), b.borrowing_request_cancel_answer, request=r5,
                  cancelled=True, user=staff)

    r6 = send(local(3, 5), create(local(3, 5), [beta]))
    r7 = send(local(3, 6), create(local(3, 6), [beta]))
    r7 = clock.at(local(3, 7), b.borrowing_request_cancelled_by_partner, request=r7,
                  reason="Lost in the stacks")

    def lend(when, partner, **fields):
        request = clock.at(when, f.lending_request, inst=inst, setup=setup, partner_=partner,
                           user=staff)
        if fields:
            LendingRequest.objects.filter(pk=request.pk).update(**fields)
        return request

    lend(local(1, 5), alpha, shipped_at=local(1, 6), status=LR.S.COMPLETED)
    lend(local(1, 20), alpha, status=LR.S.REJECTED, unfilled_reason="NotHeld")
    lend(local(2, 28, 23), beta, shipped_at=local(3, 2, 11), status=LR.S.RECEIVED)
    lend(local(3, 3), beta, status=LR.S.CANCELLED)
    lend(local(3, 4), beta)

    # Another institution, the same months: never counted.
    other = f.institution("KAISA")
    other_setup = f.rs_setup(other)
    other_staff = f.staff(other, roles.RESOURCE_SHARING)
    other_partner = f.partner(other, code="ALPHA", name="Alpha")
    theirs = clock.at(local(1, 15), f.borrowing_request, inst=other, setup=other_setup,
                      partners=[other_partner], user=other_staff)
    clock.at(local(1, 15), b.borrowing_request_send, request=theirs, user=other_staff)
    clock.at(local(1, 15), f.lending_request, inst=other, setup=other_setup,
             partner_=other_partner, user=other_staff)

    return SimpleNamespace(inst=inst, staff=staff, alpha=alpha, beta=beta, other=other,
                           other_staff=other_staff, requests=(r1, r2, r3, r4, r5, r6, r7))
