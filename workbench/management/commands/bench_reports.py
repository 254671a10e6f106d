"""Time every statistics report for a year's range on --count borrowing and --count lending
requests (default a million each).

    createdb -h 127.0.0.1 -U postgres kauko_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/kauko_bench
    python manage.py migrate && python manage.py bench_reports            # 1M + 1M
    python manage.py bench_reports --count 20000 --refill                 # a quick look

Fills a dedicated institution (code BENCHRPT) over three years: each borrowing request with
its rota (one partner, every fifth two: the first says no) and the history the reports read
(send, the answer, shipped, received, at the desk, renewals), each lending request with its
times; PostgreSQL by COPY, other databases by bulk inserts (fine for a few thousand rows, to
try the command). Then requests each report's page for the last twelve months through the
Django test client and prints the median and p95 milliseconds and the queries. Target: a
median of at most 1 s per report. The data is kept; --refill starts again.
"""

from __future__ import annotations

import datetime
import itertools
import random
import statistics
import time
from decimal import Decimal

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fulfillment.models import Library
from ill.models import BorrowingRequest, HistoryEntry, LendingRequest, RotaEntry
from kauko import roles
from kauko.models import Institution, StaffUser
from partners.models import Partner
from patrons.models import Patron, PatronGroup
from reports.selectors import REPORTS
from workbench.management.commands.bench_lists import _p95, _Rows

CODE = "BENCHRPT"
TARGET_MS = 1000
BR, LR = BorrowingRequest.Status, LendingRequest.Status
HOUR = datetime.timedelta(hours=1)
BATCH = 5000


def _write(model, rows) -> int:
    """COPY on PostgreSQL, batched inserts elsewhere; ids follow the table's highest."""
    table = _Rows(model)
    first = (model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    ids = itertools.count(first)
    rows = ({"id": next(ids), **values} if "id" not in values else values for values in rows)
    if connection.vendor == "postgresql":
        return table.copy(table.row(**values) for values in rows)
    # The rows carry their own times: keep auto_now(_add) from overwriting them.
    stamped = [f for f in model._meta.concrete_fields if getattr(f, "auto_now", False)
               or getattr(f, "auto_now_add", False)]
    saved = [(f, f.auto_now, f.auto_now_add) for f in stamped]
    for f in stamped:
        f.auto_now = f.auto_now_add = False
    try:
        n, batch = 0, []
        for values in rows:
            batch.append(model(**dict(zip(table.index, table.row(**values), strict=True))))
            if len(batch) >= BATCH:
                model.objects.bulk_create(batch)
                n, batch = n + len(batch), []
        model.objects.bulk_create(batch)
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add
    return n + len(batch)


def _sent(created, two: bool, answer: int):
    """When the attempt that counts was sent: an hour after creation, or after the first
    partner's no (answer hours) and two more hours."""
    return created + HOUR + ((answer + 2) * HOUR if two else datetime.timedelta())


class Command(BaseCommand):
    help = "Fill --count borrowing and lending requests with history and time each report."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=1_000_000,
                            help="borrowing requests, and as many lending requests")
        parser.add_argument("--partners", type=int, default=50)
        parser.add_argument("--runs", type=int, default=7, help="timed requests per report")
        parser.add_argument("--refill", action="store_true",
                            help="Delete the BENCHRPT institution's data and fill again.")

    def handle(self, *args, **options):
        self.opts = options
        self.rng = random.Random(16)
        inst = Institution.objects.filter(code=CODE).first()
        if inst is not None and options["refill"]:
            self._delete(inst)
            inst = None
        if inst is None:
            started = time.perf_counter()
            inst = self._fill()
            self.stdout.write(f"Filled in {time.perf_counter() - started:.0f} s.")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE ill_borrowingrequest; ANALYZE ill_lendingrequest; "
                               "ANALYZE ill_rotaentry; ANALYZE ill_historyentry")
        self._time(inst)

    def _delete(self, inst):
        self.stdout.write("Deleting the previous bench data…")
        HistoryEntry.objects.filter(borrowing_request__institution=inst).delete()
        HistoryEntry.objects.filter(lending_request__institution=inst).delete()
        RotaEntry.objects.filter(request__institution=inst).delete()
        for model in (LendingRequest, BorrowingRequest, Patron, Partner, PatronGroup, Library):
            model.objects.filter(institution=inst)._raw_delete(connection.alias)  # noqa: SLF001
        StaffUser.objects.filter(institution=inst).delete()
        with connection.cursor() as cursor:
            cursor.execute("UPDATE fulfillment_library SET incoming_location_id = NULL, "
                           "outgoing_location_id = NULL WHERE institution_id = %s", [inst.pk])
        inst.delete()

    @transaction.atomic
    def _fill(self):
        o, rng = self.opts, self.rng
        n = o["count"]
        inst = Institution.objects.create(code=CODE, name="Report benchmark library",
                                          agency_id_value="FI-BENCHRPT")
        rs = Library.objects.create(institution=inst, code="RS", name="Resource sharing",
                                    is_rs_library=True)
        groups = [PatronGroup.objects.create(institution=inst, code=c, name=c)
                  for c in ("STUDENT", "STAFF", "EXTERNAL")]
        partners = Partner.objects.bulk_create([
            Partner(institution=inst, code=f"R{i:03d}", name=f"Report partner {i:03d}",
                    email=f"ill{i}@rpt{i}.example.org", is_international=i % 5 == 0,
                    agreement=("free", "reciprocal", "per_item", "per_page")[i % 4],
                    price=(None, None, Decimal("10.00"), Decimal("0.20"))[i % 4])
            for i in range(o["partners"])])
        patrons = Patron.objects.bulk_create([
            Patron(institution=inst, group=groups[i % 3], barcode=f"RP{i:06d}",
                   first_name=f"F{i}", last_name=f"L{i}") for i in range(min(n, 2000))])
        user = StaffUser.objects.create_user(username="bench-reports", password="bench",
                                             institution=inst, is_staff=True)
        roles.ensure_roles()
        user.groups.add(Group.objects.get(name=roles.RESOURCE_SHARING))

        now = timezone.now()
        span = 3 * 365 * 24 * 3600
        b_first = (BorrowingRequest.objects.order_by("-pk").values_list("pk", flat=True)
                   .first() or 0) + 1
        l_first = (LendingRequest.objects.order_by("-pk").values_list("pk", flat=True)
                   .first() or 0) + 1
        types = ["loan"] * 6 + ["article"] * 3 + ["chapter"]
        plan = []  # (created, status, type, two partners?, supplied?, hours...)
        for i in range(n):
            created = now - datetime.timedelta(seconds=span * (n - i) / n)
            outcome = rng.choices(("supplied", "rejected", "cancelled", "open"),
                                  weights=(80, 10, 6, 4))[0]
            plan.append((created, outcome, types[i % len(types)], i % 5 == 0,
                         rng.randrange(2, 96), rng.randrange(12, 120), rng.randrange(1, 48)))

        def borrowing():
            for i, (created, outcome, kind, two, answer, ship, transit) in enumerate(plan):
                sent = _sent(created, two, answer)
                received = (sent + (ship + transit) * HOUR
                            if outcome == "supplied" and kind == "loan" else None)
                status = {"supplied": BR.COMPLETED, "rejected": BR.EXPIRED,
                          "cancelled": BR.CANCELLED_STAFF, "open": BR.SENT}[outcome]
                yield dict(id=b_first + i, institution_id=inst.pk, number=f"{CODE}-B-{i:07d}",
                           request_type=kind, patron_id=patrons[i % len(patrons)].pk,
                           rs_library_id=rs.pk, status=status, title=f"Title {i % 5000}",
                           partner_id=partners[i % len(partners)].pk, pages="1-12",
                           received_at=received,
                           delivered_at=(sent + ship * HOUR if outcome == "supplied"
                                         and kind != "loan" else None),
                           created_at=created, updated_at=created, status_changed_at=created)

        self.stdout.write(f"Writing {n:,} borrowing requests…")
        _write(BorrowingRequest, borrowing())

        def rota():
            for i, (created, outcome, _kind, two, answer, ship, _t) in enumerate(plan):
                asked, position = _sent(created, two, answer), 1
                if two:
                    yield dict(request_id=b_first + i, position=1,
                               partner_id=partners[(i + 1) % len(partners)].pk,
                               outcome="rejected", reason="Not on shelf",
                               asked_at=created + HOUR, answered_at=created + (1 + answer) * HOUR)
                    position = 2
                result = {"supplied": "supplied", "rejected": "rejected",
                          "cancelled": "cancelled", "open": "asked"}[outcome]
                yield dict(request_id=b_first + i, position=position,
                           partner_id=partners[i % len(partners)].pk, outcome=result,
                           asked_at=asked,
                           answered_at=(asked + ship * HOUR if outcome in ("supplied",
                                                                            "rejected")
                                        else None))

        self.stdout.write("Writing their rotas…")
        _write(RotaEntry, rota())

        def history():
            for i, (created, outcome, kind, two, answer, ship, transit) in enumerate(plan):
                pk = b_first + i
                sent = _sent(created, two, answer)
                steps = [("create", "", "created", created)]
                if two:
                    steps += [("send", "created", "sent", created + HOUR),
                              ("reject", "sent", "rejected", created + (1 + answer) * HOUR)]
                steps.append(("send", "ready", "sent", sent))
                if outcome == "supplied":
                    shipped = "ship_physically" if kind == "loan" else "ship_digitally"
                    steps.append((shipped, "sent", "shipped", sent + ship * HOUR))
                    if kind == "loan":
                        steps += [("receive", "shipped", "received",
                                   sent + (ship + transit) * HOUR),
                                  ("at_desk", "received", "received",
                                   sent + (ship + transit + 5) * HOUR)]
                        if i % 4 == 0:
                            steps.append(("request_renewal", "loaned", "renew_requested",
                                          sent + (ship + transit + 600) * HOUR))
                elif outcome == "rejected":
                    steps.append(("reject", "sent", "rejected", sent + ship * HOUR))
                elif outcome == "cancelled":
                    steps.append(("cancel_by_staff", "sent", "cancelled_staff",
                                  sent + 5 * HOUR))
                for action, before, after, at in steps:
                    yield dict(borrowing_request_id=pk, action=action, from_status=before,
                               to_status=after, at=at, source="staff")

        self.stdout.write("Writing their history…")
        _write(HistoryEntry, history())

        def lending():
            for i in range(n):
                created = now - datetime.timedelta(seconds=span * (n - i) / n)
                shipped = rng.random() < 0.8
                yield dict(id=l_first + i, institution_id=inst.pk, number=f"{CODE}-L-{i:07d}",
                           partner_id=partners[i % len(partners)].pk,
                           partner_request_id=f"P-{i:07d}", rs_library_id=rs.pk,
                           status=LR.COMPLETED if shipped else LR.REJECTED,
                           unfilled_reason="" if shipped else "NotOnShelf",
                           title=f"Lent {i % 5000}", pages="5-9",
                           shipped_at=(created + rng.randrange(2, 72) * HOUR if shipped
                                       else None),
                           created_at=created, updated_at=created, status_changed_at=created)

        self.stdout.write(f"Writing {n:,} lending requests…")
        _write(LendingRequest, lending())
        return inst

    def _time(self, inst):
        client = Client()
        client.force_login(StaffUser.objects.get(username="bench-reports"))
        today = timezone.localdate()
        year = {"start": (today - datetime.timedelta(days=365)).isoformat(),
                "end": today.isoformat()}
        borrowing = BorrowingRequest.objects.filter(institution=inst).count()
        lending = LendingRequest.objects.filter(institution=inst).count()
        self.stdout.write(f"{borrowing:,} borrowing and {lending:,} lending requests in {CODE} "
                          f"({connection.vendor}); each report for {year['start']} – "
                          f"{year['end']}:")
        for slug in REPORTS:
            url = reverse("reports:report", args=[slug])
            client.get(url, year)  # warm
            queries = []

            def count(execute, sql, params, many, context, queries=queries):
                queries.append(sql)
                return execute(sql, params, many, context)

            with connection.execute_wrapper(count):
                response = client.get(url, year)
            assert response.status_code == 200, (slug, response.status_code)
            times = []
            for _ in range(self.opts["runs"]):
                started = time.perf_counter()
                client.get(url, year)
                times.append(time.perf_counter() - started)
            median = statistics.median(times)
            ok = "ok" if median * 1000 <= TARGET_MS else "MISSED"
            self.stdout.write(f"  {slug:<16} median {median * 1000:>8.1f} ms  "
                              f"p95 {_p95(times) * 1000:>8.1f} ms  {len(queries):>2} queries  "
                              f"{ok}")
