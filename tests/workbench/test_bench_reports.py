"""The report benchmark runs end to end on a tiny scale, on SQLite too (bulk inserts instead
of COPY), and prints a line per report. No speed is asserted: see the README's figures."""

import io

import pytest
from django.core.management import call_command

from ill.models import BorrowingRequest, HistoryEntry, LendingRequest, RotaEntry
from reports.selectors import REPORTS

pytestmark = pytest.mark.django_db


def test_the_report_benchmark_fills_and_times_every_report_and_refills():
    out = io.StringIO()
    call_command("bench_reports", "--count", "60", "--partners", "8", "--runs", "1",
                 stdout=out)
    text = out.getvalue()
    for slug in REPORTS:
        assert f"  {slug} " in text
    assert BorrowingRequest.objects.filter(institution__code="BENCHRPT").count() == 60
    assert LendingRequest.objects.filter(institution__code="BENCHRPT").count() == 60
    # Every fifth request went through two partners.
    assert RotaEntry.objects.filter(request__institution__code="BENCHRPT").count() == 72
    assert HistoryEntry.objects.filter(action="at_desk").exists()

    call_command("bench_reports", "--count", "30", "--partners", "8", "--runs", "1",
                 "--refill", stdout=io.StringIO())
    assert BorrowingRequest.objects.filter(institution__code="BENCHRPT").count() == 30
