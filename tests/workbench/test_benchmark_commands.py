"""The benchmark commands run from end to end (on a tiny scale) and print their figures.

No figure is asserted: speed is judged from the printed figures of full-size runs (README),
never by timed asserts. These tests keep the commands themselves working, as a reader of
the README will run them. They need PostgreSQL, as the commands do; CI has it.
"""

import io
import os

import pytest
from django.core.management import call_command
from django.db import connection

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not os.environ.get("DATABASE_URL", "").startswith("postgres"),
                       reason="the benchmarks need PostgreSQL (CI sets DATABASE_URL)"),
]


def _run(name, *args) -> str:
    assert connection.vendor == "postgresql"
    out = io.StringIO()
    call_command(name, *args, stdout=out)
    return out.getvalue()


def test_the_desk_scan_benchmark_runs():
    out = _run("bench_desk_scan", "--items", "300", "--loans", "60", "--scans", "10")
    assert "median" in out


def test_the_list_benchmark_runs():
    out = _run("bench_lists", "--borrowing", "300", "--lending", "300", "--partners", "10",
               "--patrons", "40", "--runs", "2")
    assert "median" in out


def test_the_iso18626_benchmark_posts_every_message_and_has_them_all_confirmed():
    out = _run("bench_iso18626", "--requests", "4", "--messages", "40", "--outbound", "20")
    assert "Inbound: 40 messages in" in out and "0 not OK" in out
    if os.environ.get("CELERY_BROKER_URL"):
        assert "Outbound: 20 of 20 messages delivered to the mock peer by one solo worker" in out
    else:
        assert "Outbound: skipped" in out


def test_the_list_benchmark_says_what_it_needs_instead_of_crashing():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="at least 8"):
        _run("bench_lists", "--partners", "3")
