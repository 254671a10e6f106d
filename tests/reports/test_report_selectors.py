"""The reports' figures against the hand-counted quarter of tests/reports/conftest.py."""

import datetime

import pytest

from ill.borrowing.services import borrowing_request_send
from kauko import roles
from reports import selectors as s
from reports.sql import percentile
from tests import factories as f
from tests.reports.conftest import Clock, local

pytestmark = pytest.mark.django_db

QUARTER = s.Period(datetime.date(2026, 1, 1), datetime.date(2026, 3, 31))


def _rows(report, *keys):
    return [tuple(row[k] for k in keys) for row in report.rows]


def test_borrowing_per_partner_counts_each_partner_asked_in_the_month_it_was_sent(quarter):
    report = s.borrowing_by_month(institution=quarter.inst, period=QUARTER)
    assert _rows(report, "month", "group", "requests", "filled", "unfilled", "cancelled",
                 "open", "fill_rate") == [
        # R2 was sent on 31 January and shipped in February: January's.
        ("2026-01", "Alpha", 2, 2, 0, 0, 0, 100.0),
        # R3 went through two partners: Alpha said no, Beta supplied.
        ("2026-02", "Alpha", 1, 0, 1, 0, 0, 0.0),
        ("2026-02", "Beta", 2, 2, 0, 0, 0, 100.0),
        ("2026-03", "Alpha", 1, 0, 0, 1, 0, 0.0),
        ("2026-03", "Beta", 2, 0, 0, 1, 1, 0.0),
    ]


def test_borrowing_cancellations_say_who_cancelled(quarter):
    report = s.borrowing_by_month(institution=quarter.inst, period=QUARTER)
    march = {row["group"]: row for row in report.rows if row["month"] == "2026-03"}
    assert (march["Alpha"]["cancelled_staff"], march["Alpha"]["cancelled_partner"]) == (1, 0)
    assert (march["Beta"]["cancelled_staff"], march["Beta"]["cancelled_partner"]) == (0, 1)
    assert march["Alpha"]["cancelled_patron"] == march["Beta"]["cancelled_patron"] == 0


def test_borrowing_by_type_patron_group_and_region(quarter):
    by_type = s.borrowing_by_month(institution=quarter.inst, period=QUARTER, by="type")
    assert _rows(by_type, "month", "group", "requests", "filled") == [
        ("2026-01", "Physical loan", 2, 2),
        ("2026-02", "Article copy", 1, 1),
        ("2026-02", "Physical loan", 2, 1),
        ("2026-03", "Physical loan", 3, 0),
    ]
    by_group = s.borrowing_by_month(institution=quarter.inst, period=QUARTER,
                                    by="patron_group")
    assert ("2026-02", "STAFF", 2, 1) in _rows(by_group, "month", "group", "requests", "filled")
    assert ("2026-02", "STUDENT", 1, 1) in _rows(by_group, "month", "group", "requests",
                                                  "filled")
    by_region = s.borrowing_by_month(institution=quarter.inst, period=QUARTER, by="region")
    assert _rows(by_region, "month", "group", "requests") == [
        ("2026-01", "Domestic", 2), ("2026-02", "Domestic", 1),
        ("2026-02", "International", 2), ("2026-03", "Domestic", 1),
        ("2026-03", "International", 2)]


def test_the_range_is_inclusive_local_days(quarter):
    february = s.Period(datetime.date(2026, 2, 1), datetime.date(2026, 2, 28))
    report = s.borrowing_by_month(institution=quarter.inst, period=february)
    assert sum(r["requests"] for r in report.rows) == 3
    last_of_january = s.Period(datetime.date(2026, 1, 31), datetime.date(2026, 1, 31))
    assert _rows(s.borrowing_by_month(institution=quarter.inst, period=last_of_january),
                 "month", "requests") == [("2026-01", 1)]


def test_lending_per_partner_counts_requests_in_the_month_they_arrived(quarter):
    report = s.lending_by_month(institution=quarter.inst, period=QUARTER)
    assert _rows(report, "month", "group", "requests", "filled", "unfilled", "cancelled",
                 "open", "fill_rate") == [
        ("2026-01", "Alpha", 2, 1, 1, 0, 0, 50.0),
        # L3 arrived late on 28 February and was shipped in March: February's.
        ("2026-02", "Beta", 1, 1, 0, 0, 0, 100.0),
        ("2026-03", "Beta", 2, 0, 0, 1, 1, 0.0),
    ]


def test_unfilled_reasons_on_both_sides(quarter):
    report = s.unfilled_reasons(institution=quarter.inst, period=QUARTER)
    assert _rows(report, "side", "partner", "reason", "count") == [
        ("Borrowing", "Alpha", "Not on shelf", 1),
        ("Lending", "Alpha", "Not held", 1),
    ]


def test_time_to_supply_median_and_90th_percentile_per_partner(quarter):
    report = s.time_to_supply(institution=quarter.inst, period=QUARTER)
    rows = {row["partner"]: row for row in report.rows}
    alpha, beta = rows["Alpha"], rows["Beta"]
    assert alpha["supplied"] == 2
    assert (alpha["answer_median"], alpha["answer_p90"]) == (48.0, 48.0)
    assert (alpha["supply_median"], alpha["supply_p90"]) == (48.0, 48.0)
    # Shipped → received: R1 48 h, R2 24 h.
    assert (alpha["transit_median"], alpha["transit_p90"]) == (36.0, 45.6)
    assert (alpha["desk_median"], alpha["wait_median"]) == (6.0, 103.0)
    # Beta: R3's second attempt (sent 3.2, shipped 4.2) and R4 (the article).
    assert beta["supplied"] == 2
    assert (beta["answer_median"], beta["supply_median"]) == (24.0, 24.0)
    assert beta["transit_median"] == 48.0
    assert beta["wait_median"] == 25.0  # R4: created 10.2 09:00, delivered 11.2 10:00
    # Our lending turnaround: L1 24 h (Alpha), L3 28.2 23:00 → 2.3 11:00 = 36 h (Beta).
    assert alpha["turnaround_median"] == 24.0 and alpha["lent"] == 1
    assert beta["turnaround_median"] == 36.0


def test_articles_delivered_and_opened(quarter):
    report = s.articles(institution=quarter.inst, period=QUARTER)
    assert _rows(report, "month", "delivered", "opened", "opened_rate") == [
        ("2026-02", 1, 1, 100.0)]


def test_loans_count_long_loans_still_here(quarter):
    report = s.loans(institution=quarter.inst, period=QUARTER)
    by_month = {row["month"]: row for row in report.rows}
    # R1 (January) and R2, R3 (February) were received and are still here, long ago.
    assert by_month["2026-01"]["long"] == 1
    assert by_month["2026-02"]["long"] == 2
    assert all(row["b_asked"] == 0 for row in report.rows)


def test_another_institutions_requests_are_never_counted(quarter):
    theirs = s.borrowing_by_month(institution=quarter.other, period=QUARTER)
    assert _rows(theirs, "month", "group", "requests") == [("2026-01", "Alpha", 1)]
    ours = s.borrowing_by_month(institution=quarter.inst, period=QUARTER)
    assert sum(r["requests"] for r in ours.rows) == 8


def test_percentile_interpolates_like_postgresql():
    assert percentile([], 0.5) is None
    assert percentile([24.0, 48.0], 0.9) == pytest.approx(45.6)
    assert percentile([1, 2, 3, 4], 0.5) == 2.5


def test_a_month_is_the_local_month_not_utcs(monkeypatch, settings):
    """Sent at 00:30 on 1 February in Helsinki, which is still 31 January in UTC."""
    settings.TIME_ZONE = "Europe/Helsinki"
    clock = Clock(monkeypatch)
    inst = f.institution("OTA")
    setup = f.rs_setup(inst)
    staff = f.staff(inst, roles.RESOURCE_SHARING)
    request = clock.at(local(2, 1, 0, 30), f.borrowing_request, inst=inst, setup=setup,
                       partners=[f.partner(inst, code="ALPHA", name="Alpha")], user=staff)
    clock.at(local(2, 1, 0, 30), borrowing_request_send, request=request, user=staff)
    report = s.borrowing_by_month(institution=inst, period=QUARTER)
    assert _rows(report, "month", "requests") == [("2026-02", 1)]
