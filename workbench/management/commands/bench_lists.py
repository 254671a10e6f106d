"""Time the borrowing and lending lists (and detail pages) on a million requests each.

    createdb -h 127.0.0.1 -U postgres kauko_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/kauko_bench
    python manage.py migrate && python manage.py bench_lists

Fills a dedicated institution (code BENCHILL) with --partners partners, --patrons patrons,
--borrowing borrowing requests and --lending lending requests using PostgreSQL's COPY
(dependent rows first), then requests the first page of /borrowing/ and /lending/ through
the Django test client for five common filters each, and a sample of detail pages, printing
median and p95 milliseconds and the number of queries. Targets: list ≤ 150 ms median and
≤ 12 queries whatever the page size, detail ≤ 100 ms median. The data is kept, so a second
run only times (--refill starts again). PostgreSQL only: the figures mean nothing on SQLite.
"""

from __future__ import annotations

import datetime
import random
import statistics
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, models, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from fulfillment.models import (
    BibRecord,
    CirculationDesk,
    FulfillmentUnit,
    FulfillmentUnitRule,
    Holding,
    Item,
    ItemBarcode,
    Library,
    Location,
    TermsOfUse,
)
from ill.models import BorrowingRequest, HistoryEntry, LendingRequest
from ill.models.search import build_search_text
from kauko import roles
from kauko.models import Institution, StaffUser
from partners.models import Partner, WorkflowProfile
from patrons.models import Patron, PatronGroup

CODE = "BENCHILL"
TARGET_LIST_MS, TARGET_DETAIL_MS, TARGET_QUERIES = 150, 100, 12
BR, LR = BorrowingRequest.Status, LendingRequest.Status

# Most requests of a mature service are closed; the open ones are the daily work.
BORROWING_MIX = [(BR.COMPLETED, 880), (BR.CANCELLED_STAFF, 40), (BR.EXPIRED, 10),
                 (BR.CANCELLED_PATRON, 10), (BR.CREATED, 5), (BR.READY, 5), (BR.SENT, 15),
                 (BR.WILL_SUPPLY, 5), (BR.CONDITIONAL, 1), (BR.SHIPPED_PHYSICAL, 4),
                 (BR.RECEIVED, 2), (BR.LOANED, 15), (BR.RENEW_REQUESTED, 1),
                 (BR.RETURNED_BY_PATRON, 2), (BR.RETURNED_TO_PARTNER, 4),
                 (BR.WAITING_CANCEL, 1)]
LENDING_MIX = [(LR.COMPLETED, 800), (LR.REJECTED, 100), (LR.SHIPPED_DIGITAL, 40),
               (LR.CANCELLED, 10), (LR.EXPIRED, 10), (LR.PROCESSING, 5),
               (LR.LOCATE_FAILED, 3), (LR.WILL_SUPPLY, 3), (LR.CONDITIONAL, 1),
               (LR.SHIPPED_PHYSICAL, 10), (LR.RECEIVED, 12), (LR.RENEW_REQUESTED, 1),
               (LR.OVERDUE, 2), (LR.RETURNED, 3)]


def _statuses(mix, final, n, open_factor, rng):
    """n statuses drawn from the mix, the open (not final) ones scaled by open_factor: the
    size of the queues, not the table, decides what the queue counts cost."""
    weights = [w if status in final else w * open_factor for status, w in mix]
    return rng.choices([status for status, _w in mix], weights=weights, k=n)


class _Rows:
    """Column order and a row template for COPY, from the model's own fields, so a field
    added later gets its default without this command changing."""

    def __init__(self, model):
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields]
        self.columns = [f.column for f in self.fields]
        self.index = {f.attname: i for i, f in enumerate(self.fields)}
        now = timezone.now()
        self.template = [self._default(f, now) for f in self.fields]

    @staticmethod
    def _default(field, now):
        if isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add):
            return now
        if field.has_default():
            return field.get_default()
        if field.null:
            return None
        if isinstance(field, models.CharField | models.TextField | models.FileField):
            return ""
        return None  # the caller must set it (foreign keys, primary key)

    def row(self, **values) -> tuple:
        row = list(self.template)
        for name, value in values.items():
            row[self.index[name]] = value
        return tuple(row)

    def copy(self, rows) -> int:
        table = self.model._meta.db_table
        cols = ", ".join(f'"{c}"' for c in self.columns)
        n = 0
        with connection.cursor() as cursor:
            with cursor.cursor.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
            cursor.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                           f"(SELECT COALESCE(MAX(id), 1) FROM \"{table}\"))")
        return n


def _next_id(model) -> int:
    return (model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 1)


def _p95(values) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


class Command(BaseCommand):
    help = "Fill PostgreSQL with 1M borrowing and 1M lending requests and time the lists."

    def add_arguments(self, parser):
        parser.add_argument("--borrowing", type=int, default=1_000_000)
        parser.add_argument("--lending", type=int, default=1_000_000)
        parser.add_argument("--partners", type=int, default=50)
        parser.add_argument("--patrons", type=int, default=50_000)
        parser.add_argument("--runs", type=int, default=25, help="timed requests per case")
        parser.add_argument(
            "--open-factor", type=float, default=0.1,
            help="Scale of the open (unfinished) requests in the mix. 1 means 5.5%% of lending "
                 "and 12%% of borrowing requests open (tens of thousands: a stress case); the "
                 "default 0.1 gives thousands, still more than a big library has at once.")
        parser.add_argument("--refill", action="store_true",
                            help="Delete the BENCHILL institution's data and fill again.")

    def handle(self, *args, **options):
        if connection.vendor != "postgresql":
            raise CommandError(
                "bench_lists needs PostgreSQL (set DATABASE_URL=postgres://…): timings on "
                f"{connection.vendor} say nothing about production, and filling it with two "
                "million rows would take ages.")
        if options["partners"] < 8:
            raise CommandError("--partners must be at least 8: the eighth is the one the "
                               "partner filter is timed with.")
        # Production settings for the timed part: with DEBUG on, every query is logged and
        # the figures would measure that too.
        settings.DEBUG = False
        self.opts = options
        self.rng = random.Random(4)
        inst = Institution.objects.filter(code=CODE).first()
        if inst is not None and options["refill"]:
            self._delete(inst)
            inst = None
        if inst is None:
            started = time.perf_counter()
            inst = self._fill()
            self.stdout.write(f"Filled in {time.perf_counter() - started:.0f} s.")
        self._report_sizes(inst)
        self._time(inst)

    # --- filling ---------------------------------------------------------------------------

    def _delete(self, inst):
        """Everything the fill made, children first, in plain SQL (the ORM would load two
        million rows to cascade)."""
        self.stdout.write("Deleting the previous bench data…")
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM ill_historyentry WHERE borrowing_request_id IN (SELECT id FROM "
                "ill_borrowingrequest WHERE institution_id = %s) OR lending_request_id IN "
                "(SELECT id FROM ill_lendingrequest WHERE institution_id = %s)",
                [inst.pk, inst.pk])
            cursor.execute("UPDATE fulfillment_library SET incoming_location_id = NULL, "
                           "outgoing_location_id = NULL WHERE institution_id = %s", [inst.pk])
            for model in (LendingRequest, BorrowingRequest, ItemBarcode, Item, Holding,
                          BibRecord, Patron, Partner, WorkflowProfile, CirculationDesk,
                          Location, Library, FulfillmentUnitRule, FulfillmentUnit, TermsOfUse,
                          PatronGroup):
                cursor.execute(f'DELETE FROM "{model._meta.db_table}" WHERE institution_id = %s',
                               [inst.pk])
        StaffUser.objects.filter(institution=inst).delete()
        inst.delete()

    @transaction.atomic
    def _fill(self):
        o = self.opts
        self.stdout.write("Building the institution, partners and patrons…")
        inst = Institution.objects.create(code=CODE, name="Benchmark University Library",
                                          agency_id_value="FI-BENCHILL")
        terms = TermsOfUse.objects.create(institution=inst, name="ILL 28")
        fu = FulfillmentUnit.objects.create(institution=inst, code="ILL", name="ILL")
        FulfillmentUnitRule.objects.create(institution=inst, fulfillment_unit=fu, name="all",
                                           terms_of_use=terms)
        rs = Library.objects.create(institution=inst, code="RS", name="Resource sharing",
                                    is_rs_library=True)
        incoming = Location.objects.create(institution=inst, library=rs, code="IN",
                                           name="Incoming", fulfillment_unit=fu)
        outgoing = Location.objects.create(institution=inst, library=rs, code="OUT",
                                           name="Outgoing", fulfillment_unit=fu)
        rs.incoming_location, rs.outgoing_location = incoming, outgoing
        rs.save()
        main = Library.objects.create(institution=inst, code="MAIN", name="Main library")
        stacks = Location.objects.create(institution=inst, library=main, code="STACKS",
                                         name="Stacks", fulfillment_unit=fu)
        desk = CirculationDesk.objects.create(institution=inst, library=main, code="DESK",
                                              name="Main desk")
        group = PatronGroup.objects.create(institution=inst, code="STUDENT", name="Students")
        b_profile = WorkflowProfile.objects.create(institution=inst, name="Borrowing",
                                                   side=WorkflowProfile.Side.BORROWING)
        l_profile = WorkflowProfile.objects.create(institution=inst, name="Lending",
                                                   side=WorkflowProfile.Side.LENDING)
        partners = Partner.objects.bulk_create([
            Partner(institution=inst, code=f"P{i:03d}", name=f"Partner library {i:03d}",
                    email=f"ill{i}@partner{i}.example.org", borrowing_profile=b_profile,
                    lending_profile=l_profile, address=f"Partner street {i}")
            for i in range(o["partners"])])
        partner_ids = [p.pk for p in partners]

        patron_rows = _Rows(Patron)
        first = _next_id(Patron)
        patron_rows.copy(patron_rows.row(
            id=first + i, institution_id=inst.pk, group_id=group.pk,
            barcode=f"BP{i:07d}", first_name=f"First{i % 997}", last_name=f"Last{i % 4999}",
            pickup_desk_id=desk.pk) for i in range(o["patrons"]))
        patron_ids = range(first, first + o["patrons"])

        # A few hundred items for the open lending requests (pick list, items away).
        bib = BibRecord.objects.create(institution=inst, title="Benchmark title")
        holding = Holding.objects.create(institution=inst, bib=bib, location=stacks)
        items = Item.objects.bulk_create([
            Item(institution=inst, holding=holding, bib=bib, location=outgoing,
                 permanent_location=stacks, status=Item.Status.RESOURCE_SHARING,
                 call_number=f"BEN {i:04d}") for i in range(500)])
        ItemBarcode.objects.bulk_create([
            ItemBarcode(institution=inst, item=item, barcode=f"BI{item.pk}") for item in items])

        now = timezone.now()
        span = 3 * 365 * 24 * 3600
        rng = self.rng

        def created(i, n):
            # Oldest first, with jitter: like real intake over three years.
            return now - datetime.timedelta(seconds=span * (n - i) / n + rng.random() * 60)

        self.stdout.write(f"Copying {o['borrowing']:,} borrowing requests…")
        rows = _Rows(BorrowingRequest)
        statuses = _statuses(BORROWING_MIX, BorrowingRequest.FINAL, o["borrowing"],
                             o["open_factor"], rng)
        first = _next_id(BorrowingRequest)
        today = timezone.localdate()
        types = ["loan"] * 6 + ["article"] * 3 + ["chapter"]

        def title(i, side):
            # One request in 10,000 is about Gödel: the search's "a hit" case.
            return f"Über Gödel {i}" if i % 10_000 == 0 else f"{side} title {i % 50_000}"

        def borrowing():
            n = o["borrowing"]
            for i in range(n):
                status = statuses[i]
                at = created(i, n)
                on_loan = status in BorrowingRequest.ON_LOAN
                p = i % len(patron_ids)
                number, name = f"{CODE}-B-{i:07d}", title(i, "Borrowed")
                search_text = build_search_text([
                    number, name, f"Author {i % 7919}", f"First{p % 997}", f"Last{p % 4999}",
                    f"BP{p:07d}"])
                yield rows.row(search_text=search_text,
                    id=first + i, institution_id=inst.pk, number=number,
                    request_type=types[i % len(types)], patron_id=patron_ids[i % len(
                        patron_ids)], rs_library_id=rs.pk, status=status,
                    title=name, author=f"Author {i % 7919}",
                    partner_id=partner_ids[i % len(partner_ids)], pickup_desk_id=desk.pk,
                    patron_due_date=(today + datetime.timedelta(days=rng.randrange(-20, 40))
                                     if on_loan else None),
                    needs_attention=rng.random() < 0.001, created_at=at, updated_at=at,
                    status_changed_at=at)

        rows.copy(borrowing())

        self.stdout.write(f"Copying {o['lending']:,} lending requests…")
        rows = _Rows(LendingRequest)
        statuses = _statuses(LENDING_MIX, LendingRequest.FINAL, o["lending"],
                             o["open_factor"], rng)
        first = _next_id(LendingRequest)
        with_item = set(LendingRequest.ITEM_OUT)
        services = ["loan"] * 7 + ["copy"] * 2 + ["copy_or_loan"]

        def lending():
            n = o["lending"]
            for i in range(n):
                status = statuses[i]
                at = created(i, n)
                away = status in LendingRequest.AWAY
                number, name = f"{CODE}-L-{i:07d}", title(i, "Lent")
                search_text = build_search_text([number, name, f"Author {i % 7919}",
                                                 f"P-{i:07d}"])
                yield rows.row(
                    search_text=search_text,
                    id=first + i, institution_id=inst.pk, number=number,
                    partner_id=partner_ids[i % len(partner_ids)],
                    partner_request_id=f"P-{i:07d}", rs_library_id=rs.pk, status=status,
                    service_type=services[i % len(services)],
                    title=name, author=f"Author {i % 7919}",
                    item_id=items[i % len(items)].pk if status in with_item else None,
                    due_date=(today + datetime.timedelta(days=rng.randrange(-10, 40))
                              if away else None),
                    created_at=at, updated_at=at, status_changed_at=at)

        rows.copy(lending())

        user = StaffUser.objects.create_user(username="bench-rs", password="bench",
                                             institution=inst, is_staff=True)
        roles.ensure_roles()
        from django.contrib.auth.models import Group

        user.groups.add(Group.objects.get(name=roles.RESOURCE_SHARING))
        self.stdout.write("Adding history to a sample of requests and analysing…")
        for model, link in ((BorrowingRequest, "borrowing_request"),
                            (LendingRequest, "lending_request")):
            sample = list(model.objects.filter(institution=inst).order_by("-created_at")
                          .values_list("pk", "status")[:50])
            HistoryEntry.objects.bulk_create([
                HistoryEntry(**{f"{link}_id": pk}, action=action, user=user, from_status="",
                             to_status=status, note="bench")
                for pk, status in sample for action in ("create", "send", "answer", "ship")])
        return inst

    def _report_sizes(self, inst):
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE ill_borrowingrequest; ANALYZE ill_lendingrequest; "
                           "ANALYZE ill_historyentry")
        b = BorrowingRequest.objects.filter(institution=inst).count()
        lend = LendingRequest.objects.filter(institution=inst).count()
        b_open = BorrowingRequest.objects.filter(institution=inst).exclude(
            status__in=BorrowingRequest.FINAL).count()
        l_open = LendingRequest.objects.filter(institution=inst).exclude(
            status__in=LendingRequest.FINAL).count()
        self.stdout.write(f"{b:,} borrowing ({b_open:,} open) and {lend:,} lending "
                          f"({l_open:,} open) requests in {CODE}.")

    # --- timing --------------------------------------------------------------------------

    def _measure(self, client, url, params=None):
        for _ in range(2):  # warm: connection, template and query plan caches
            client.get(url, params or {})
        queries = []

        def count(execute, sql, params, many, context):
            queries.append(sql)
            return execute(sql, params, many, context)

        # Counted at the cursor: the query log depends on DEBUG, which is off here.
        with connection.execute_wrapper(count):
            response = client.get(url, params or {})
        if response.status_code != 200:
            raise CommandError(f"{url} {params} answered {response.status_code}")
        times = []
        for _ in range(self.opts["runs"]):
            started = time.perf_counter()
            client.get(url, params or {})
            times.append(time.perf_counter() - started)
        return statistics.median(times), _p95(times), len(queries)

    def _line(self, label, median, p95, queries, target_ms):
        ok = median * 1000 <= target_ms and (queries <= TARGET_QUERIES)
        self.stdout.write(f"  {label:<48} median {_ms(median):>7} ms  p95 {_ms(p95):>7} ms  "
                          f"{queries:>2} queries  {'ok' if ok else 'MISSED'}")

    def _time(self, inst):
        client = Client()
        user = StaffUser.objects.get(username="bench-rs")
        client.force_login(user)
        partner = Partner.objects.filter(institution=inst).order_by("code")[7]
        cases = {
            "ill:borrowing_list": [
                ("all", {}), ("queue: ready to be sent", {"queue": "ready"}),
                ("status: request sent", {"status": BR.SENT}),
                ("partner", {"partner": partner.pk}),
                ("overdue", {"overdue": "true"}),
                ("all, 200 a page", {"size": 200}),
            ],
            "ill:lending_list": [
                ("all", {}), ("queue: new", {"queue": "new"}),
                ("queue: overdue", {"queue": "overdue"}),
                ("partner", {"partner": partner.pk}),
                ("status: shipped physically", {"status": LR.SHIPPED_PHYSICAL}),
                ("all, 200 a page", {"size": 200}),
            ],
        }
        # Search (issue 17): a hit, a miss, an exact number, a patron's name, a barcode.
        newest_b = BorrowingRequest.objects.filter(institution=inst).order_by(
            "-created_at").values_list("number", "patron__first_name", "patron__last_name",
                                       "patron__barcode").first()
        newest_l = LendingRequest.objects.filter(institution=inst).order_by(
            "-created_at").values_list("number", "partner_request_id").first()
        lent_item = LendingRequest.objects.filter(institution=inst, item__isnull=False).first()
        item_barcode = (ItemBarcode.objects.filter(item_id=lent_item.item_id)
                        .values_list("barcode", flat=True).first() if lent_item else "none")
        cases["ill:borrowing_list"] += [
            ("search: a hit (godel)", {"q": "godel"}),
            ("search: a miss (zzyzx)", {"q": "zzyzx"}),
            ("search: a number", {"q": newest_b[0].lower()}),
            ("search: a patron's name", {"q": f"{newest_b[1]} {newest_b[2]}"}),
            ("search: a patron's card", {"q": newest_b[3]}),
        ]
        cases["ill:lending_list"] += [
            ("search: a hit (godel)", {"q": "godel"}),
            ("search: a miss (zzyzx)", {"q": "zzyzx"}),
            ("search: a number", {"q": newest_l[0]}),
            ("search: the partner's request id", {"q": newest_l[1]}),
            ("search: an item barcode", {"q": item_barcode}),
        ]
        for name, filters in cases.items():
            self.stdout.write(f"{reverse(name)} (first page)")
            for label, params in filters:
                self._line(label, *self._measure(client, reverse(name), params),
                           TARGET_LIST_MS)
        self.stdout.write("Detail pages (the newest 20 of each, median over all)")
        for name, model in (("ill:borrowing_detail", BorrowingRequest),
                            ("ill:lending_detail", LendingRequest)):
            pks = list(model.objects.filter(institution=inst).order_by("-created_at")
                       .values_list("pk", flat=True)[:20])
            medians, p95s, counts = [], [], []
            for pk in pks:
                median, p95, queries = self._measure(client, reverse(name, args=[pk]))
                medians.append(median)
                p95s.append(p95)
                counts.append(queries)
            self._line(reverse(name, args=[0]).replace("/0/", "/<pk>/"),
                       statistics.median(medians), max(p95s), max(counts), TARGET_DETAIL_MS)
        self.stdout.write("Pick list")
        self._line(reverse("ill:lending_pick_list"),
                   *self._measure(client, reverse("ill:lending_pick_list")), TARGET_LIST_MS)
