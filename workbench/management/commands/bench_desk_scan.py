"""Time one desk scan against a big catalogue: median and p95 server time, and query counts.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/kauko_bench \\
        python manage.py migrate && python manage.py bench_desk_scan

Fills a dedicated institution (code BENCH) with --items items (each with an own barcode,
every fifth with an RFID tag too) and --loans open loans, using PostgreSQL's COPY, then times
--scans scans through the real service (`fulfillment.services.desk_scan_in`): ILL arrivals
(onto the hold shelf), returns of loaned items and unknown barcodes, in turn. The filled data
is kept, so a second run only times (use --refill to start again). PostgreSQL only: the
figures mean nothing on SQLite.
"""

from __future__ import annotations

import datetime
import statistics
import time

from celery import current_app as app  # the project's app (config.celery), which nothing imports
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from circulation import services
from circulation.models import DeskScan, Hold, Loan, Transit
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
from kauko import roles
from kauko.models import Institution, StaffUser

Patron = Hold._meta.get_field("patron").related_model
PatronGroup = Patron._meta.get_field("group").related_model

CODE = "BENCH"
PATRONS = 50_000


def _copy(model, rows, columns: list[str]) -> None:
    """COPY rows (tuples in `columns` order, primary key first) into the model's table.

    Every other NOT NULL column gets its field's default, so a field added to the model
    later does not break the benchmark (the table has no database defaults)."""
    table = model._meta.db_table
    rest = [field for field in model._meta.concrete_fields
            if field.column not in columns and not field.null and not field.primary_key]
    defaults = tuple(field.get_db_prep_save(field.get_default(), connection) for field in rest)
    cols = ", ".join(f'"{c}"' for c in [*columns, *(field.column for field in rest)])
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f'COPY "{table}" ({cols}) FROM STDIN') as copy:
            for row in rows:
                copy.write_row((*row, *defaults))
    with connection.cursor() as cursor:  # the sequence must pass the ids we wrote
        cursor.execute(f"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'id'), "
                       f"(SELECT COALESCE(MAX(id), 1) FROM \"{table}\"))")


def _next_id(model) -> int:
    last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
    return (last or 0) + 1


class Command(BaseCommand):
    help = "Fill PostgreSQL with many items and loans and time desk scans (median, p95)."

    def add_arguments(self, parser):
        parser.add_argument("--items", type=int, default=1_000_000)
        parser.add_argument("--loans", type=int, default=200_000)
        parser.add_argument("--scans", type=int, default=300)
        parser.add_argument("--refill", action="store_true",
                            help="Delete the BENCH institution's data and fill again.")
        parser.add_argument("--letters-inline", action="store_true",
                            help="Send letters in-process after each scan (the embedded "
                                 "set-up without a broker) instead of queueing them.")

    def handle(self, *args, items: int, loans: int, scans: int, refill: bool,
               letters_inline: bool, **options):
        if not letters_inline:
            # As in production with a broker: a scan only queues its letters (an in-memory
            # broker here); a worker renders and sends them.

            app.conf.task_always_eager = False
            app.conf.broker_url = "memory://"
        if connection.vendor != "postgresql":
            raise CommandError("bench_desk_scan needs PostgreSQL (set DATABASE_URL=postgres://"
                               "…): timing a million items on SQLite tells nothing.")
        if loans > items:
            raise CommandError("--loans cannot exceed --items.")
        inst = Institution.objects.filter(code=CODE).first()
        if inst is not None and refill:
            self.stdout.write("Deleting the previous bench data…")
            self._delete(inst)
            inst = None
        if inst is None:
            started = time.perf_counter()
            inst = self._fill(items=items, loans=loans)
            self.stdout.write(f"Filled in {time.perf_counter() - started:.0f} s.")
        world = self._world(inst)
        total_items = Item.objects.filter(institution=inst).count()
        open_loans = Loan.objects.filter(returned_at__isnull=True).count()
        self.stdout.write(f"{total_items:,} items, {open_loans:,} open loans in the database.")
        self._time(world, scans=scans)

    # --- filling ------------------------------------------------------------------------------

    def _world(self, inst):
        rs = Library.objects.get(institution=inst, code="RS")
        main = Library.objects.get(institution=inst, code="MAIN")
        return {
            "inst": inst, "rs": rs, "main": main,
            "desk": CirculationDesk.objects.select_related("library").get(
                institution=inst, code="MAIN-DESK"),
            "incoming": Location.objects.get(library=rs, code="ILL-IN"),
            "stacks": Location.objects.get(library=main, code="STACKS"),
            "user": StaffUser.objects.get(username="bench-desk"),
            "group": PatronGroup.objects.get(institution=inst, code="BENCH"),
        }

    @transaction.atomic
    def _setup(self):
        inst = Institution.objects.create(code=CODE, name="Benchmark University Library",
                                          agency_id_value="FI-BENCH", languages="en")
        terms = TermsOfUse.objects.create(institution=inst, name="Loan 28 days",
                                          loan_period_days=28, pickup_days=7)
        unit = FulfillmentUnit.objects.create(institution=inst, code="ALL", name="All")
        FulfillmentUnitRule.objects.create(institution=inst, fulfillment_unit=unit, position=1,
                                           name="Everyone", terms_of_use=terms)
        main = Library.objects.create(institution=inst, code="MAIN", name="Main library")
        rs = Library.objects.create(institution=inst, code="RS", name="RS office",
                                    is_rs_library=True)
        stacks = Location.objects.create(institution=inst, library=main, code="STACKS",
                                         name="Stacks", fulfillment_unit=unit)
        incoming = Location.objects.create(institution=inst, library=rs, code="ILL-IN",
                                           name="ILL incoming", fulfillment_unit=unit)
        rs.incoming_location = incoming
        rs.save()
        desk = CirculationDesk.objects.create(institution=inst, library=main, code="MAIN-DESK",
                                              name="Main desk")
        CirculationDesk.objects.create(institution=inst, library=rs, code="RS-DESK",
                                       name="RS desk", has_hold_shelf=False)
        PatronGroup.objects.create(institution=inst, code="BENCH", name="Bench", loan_limit=50)
        StaffUser.objects.filter(username="bench-desk").delete()

        roles.ensure_roles()
        user = StaffUser.objects.create_user(username="bench-desk", institution=inst,
                                             is_staff=True)
        from django.contrib.auth.models import Group

        user.groups.add(Group.objects.get(name=roles.CIRCULATION))
        return inst, stacks, desk, terms

    def _fill(self, *, items: int, loans: int):
        inst, stacks, desk, terms = self._setup()
        group = PatronGroup.objects.get(institution=inst, code="BENCH")
        now = timezone.now()
        today = timezone.localdate()
        i = inst.pk
        self.stdout.write(f"Writing {items:,} records, holdings, items and barcodes…")
        with transaction.atomic():
            bib0, hold0, item0 = _next_id(BibRecord), _next_id(Holding), _next_id(Item)
            _copy(BibRecord, ((bib0 + n, i, f"Bench title {n}", "Author, A.", "", "", "", "", "",
                               "", "", "book", False, now) for n in range(items)),
                  ["id", "institution_id", "title", "author", "isbn", "issn", "oclc_number",
                   "doi", "publisher", "year", "edition", "format", "hidden", "created_at"])
            _copy(Holding, ((hold0 + n, i, bib0 + n, stacks.pk, "") for n in range(items)),
                  ["id", "institution_id", "bib_id", "location_id", "call_number"])
            _copy(Item, ((item0 + n, i, hold0 + n, bib0 + n, stacks.pk, stacks.pk,
                          "loaned" if n < loans else "in_place", f"CN {n}", "", "", False, now)
                         for n in range(items)),
                  ["id", "institution_id", "holding_id", "bib_id", "permanent_location_id",
                   "location_id", "status", "call_number", "item_policy", "description",
                   "is_temporary", "status_changed_at"])
            barcode0 = _next_id(ItemBarcode)

            def barcodes():
                bid = barcode0
                for n in range(items):
                    yield (bid, i, item0 + n, f"BENCH{n:08d}", "own", now)
                    bid += 1
                    if n % 5 == 0:
                        yield (bid, i, item0 + n, f"E280BE{n:010X}", "rfid", now)
                        bid += 1

            _copy(ItemBarcode, barcodes(),
                  ["id", "institution_id", "item_id", "barcode", "kind", "added_at"])
            self.stdout.write(f"Writing {PATRONS:,} patrons and {loans:,} open loans…")
            patron0 = _next_id(Patron)
            expiry = today + datetime.timedelta(days=365)
            _copy(Patron, ((patron0 + n, i, group.pk, "Bench", f"Patron {n}", f"BP{n:07d}",
                            f"p{n}@bench.example.org", "", "en", None, None, "", expiry, "")
                           for n in range(PATRONS)),
                  ["id", "institution_id", "group_id", "first_name", "last_name", "barcode",
                   "email", "phone", "preferred_language", "home_library_id", "pickup_desk_id",
                   "office_address", "expiry_date", "notes"])
            loan0 = _next_id(Loan)
            due = now + datetime.timedelta(days=14)
            _copy(Loan, ((loan0 + n, i, patron0 + n % PATRONS, item0 + n, desk.pk, terms.pk,
                          now, due, 0, False, False, None, None, None, None, None, "", None)
                         for n in range(loans)),
                  ["id", "institution_id", "patron_id", "item_id", "desk_id", "terms_of_use_id",
                   "loaned_at", "due_at", "renewals", "is_ill", "self_service", "returned_at",
                   "returned_desk_id", "last_reminder_at", "last_overdue_notice_at",
                   "overridden_by_id", "override_reason", "renewal_requested_at"])
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        return inst

    def _delete(self, inst):
        with transaction.atomic(), connection.cursor() as cursor:
            for model in (DeskScan, Loan, Transit, Hold, ItemBarcode, Item,
                          Holding, BibRecord, Patron):
                cursor.execute(f'DELETE FROM "{model._meta.db_table}" WHERE institution_id = %s',
                               [inst.pk])
            StaffUser.objects.filter(username="bench-desk").delete()
            Library.objects.filter(institution=inst).update(incoming_location=None)
            for model in (CirculationDesk, Location):
                model.objects.filter(institution=inst).delete()
            Library.objects.filter(institution=inst).delete()
            FulfillmentUnitRule.objects.filter(institution=inst).delete()
            FulfillmentUnit.objects.filter(institution=inst).delete()
            TermsOfUse.objects.filter(institution=inst).delete()
            PatronGroup.objects.filter(institution=inst).delete()
            inst.delete()

    # --- timing -------------------------------------------------------------------------------

    def _ill_arrivals(self, world, count: int) -> list[str]:
        """ILL items in transit to the desk for a patron, as the RS office's receive leaves
        them; returns their barcodes."""
        inst, incoming = world["inst"], world["incoming"]
        patrons = list(Patron.objects.filter(institution=inst).order_by("pk")[:count])
        stamp = int(time.time())
        barcodes = []
        for n, patron in enumerate(patrons):
            bib = BibRecord.objects.create(institution=inst, title=f"ILL bench {n}", hidden=True)
            holding = Holding.objects.create(institution=inst, bib=bib, location=incoming)
            item = Item.objects.create(institution=inst, holding=holding, bib=bib,
                                       location=incoming, permanent_location=incoming,
                                       is_temporary=True)
            barcode = f"ILLB{stamp}{n:05d}"
            ItemBarcode.objects.create(institution=inst, item=item, barcode=barcode,
                                       kind=ItemBarcode.Kind.PARTNER)
            hold = Hold.objects.create(institution=inst, patron=patron, bib=bib, item=item,
                                       is_ill=True, pickup_desk=world["desk"])
            services.send_item_to_pickup(item=item, hold=hold, user=world["user"])
            barcodes.append(barcode)
        return barcodes

    def _time(self, world, *, scans: int) -> None:
        per_kind = max(1, scans // 3)
        arrivals = self._ill_arrivals(world, per_kind)
        loaned = list(Loan.objects.filter(institution=world["inst"], returned_at__isnull=True)
                      .order_by("?").values_list("item_id", flat=True)[:per_kind])
        returns = [ItemBarcode.objects.filter(item_id=item_id).values_list("barcode", flat=True)
                   .first() for item_id in loaned]
        unknown = [f"NOPE{n:06d}" for n in range(per_kind)]
        plan = [("ILL arrival → hold shelf", b) for b in arrivals] + \
               [("return of a loaned item", b) for b in returns] + \
               [("unknown barcode", b) for b in unknown]
        plan.sort(key=lambda entry: hash(entry[1]))  # interleave the kinds
        desk, user = world["desk"], world["user"]
        for _kind, barcode in plan[:5]:  # warm up connections and caches (not counted)
            services.desk_scan_in(desk=desk, barcode="WARMUP" + barcode, user=user)
        timings: dict[str, list[float]] = {}
        queries: dict[str, list[int]] = {}
        for kind, barcode in plan:
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                services.desk_scan_in(desk=desk, barcode=barcode, user=user)
                elapsed = (time.perf_counter() - started) * 1000
            timings.setdefault(kind, []).append(elapsed)
            queries.setdefault(kind, []).append(len(captured))
        every = [t for values in timings.values() for t in values]
        self.stdout.write("")
        self.stdout.write(f"{'scan':32} {'n':>5} {'median ms':>10} {'p95 ms':>8} {'queries':>8}")
        for kind in sorted(timings):
            self.stdout.write(self._line(kind, timings[kind], queries[kind]))
        self.stdout.write(self._line("all scans", every,
                                     [q for values in queries.values() for q in values]))

    @staticmethod
    def _line(kind, values, counts) -> str:
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
        return (f"{kind:32} {len(values):>5} {statistics.median(values):>10.1f} {p95:>8.1f} "
                f"{max(counts):>8}")
