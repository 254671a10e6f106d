"""The reports: each a function of the institution and a date range that aggregates in SQL
and answers a `Report` of plain values (columns, rows, what to chart), which the page, the
chart, the CSV and the XLSX all show alike.

Definitions (the README's "Statistics" section says the same):

- **Borrowing** counts *attempts*: one partner asked once (a rota entry with a time asked). A
  request that went through two partners is two attempts, one for each partner. An attempt
  belongs to the month (local time) it was *sent*, whenever it was answered, so a request sent
  on 31 January and supplied on 2 February is January's. *Filled*: the partner supplied it
  (shipped, sent the copy, or we received the item). *Unfilled*: the partner said no, or did
  not answer in time (the profile's expiry). *Cancelled*: the attempt was open when the
  request was cancelled; by whom is the history's cancel step (staff, patron or partner).
  *Fill rate*: filled / attempts.
- **Lending** counts requests partners sent us, in the month they arrived. *Filled*: shipped
  (physically or digitally). *Unfilled*: we rejected it, or it expired unanswered. *Cancelled*:
  the partner cancelled it (only partners cancel lending requests).
- **Time to supply** (supplied attempts sent in the range, per partner; hours): sent → the
  partner's first answer (accepted, will supply, conditional, no, shipped, or the item
  arriving), sent → shipped, shipped → received, received → arrived at the pickup desk, and
  the patron's whole wait: request created → available to the patron (at the desk, or the
  article delivered). Lending turnaround: arrived → shipped. Median and 90th percentile.
- **Loans**: the history's steps in the month: renewals asked, granted, refused (granted by
  the system: automatic), overdue, lost; and borrowed items received that month still not
  returned after the long-loan limit.
- **Articles**: copies delivered to patrons in the month, and how many the patron opened.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Case, Count, DateTimeField, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ill.models import BorrowingRequest, HistoryEntry, LendingRequest, RotaEntry, Source
from partners.models import Partner
from reports.sql import Seconds, grouped_percentiles

BR = BorrowingRequest
LR = LendingRequest
Outcome = RotaEntry.Outcome

LONG_LOAN_DAYS = 60

# What counts as the partner's first answer to a borrowing request it was sent.
PARTNER_ANSWERS = ("accept", "will_supply", "set_conditional", "reject", "ship_physically",
                   "ship_digitally", "receive", "cancel_by_partner")
SHIPPED = ("ship_physically", "ship_digitally")


@dataclass
class Column:
    key: str
    label: str
    kind: str = "int"  # text, date, int, percent, hours, money


@dataclass
class Report:
    slug: str
    title: str
    columns: list[Column]
    rows: list[dict]
    # What the chart draws: a bar per row labelled by `chart_label`, a series per key.
    chart_label: tuple[str, ...] = ()
    chart_series: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)

    def values(self) -> list[list]:
        """The rows as lists in column order: what the table, CSV and XLSX show."""
        return [[row.get(c.key) for c in self.columns] for row in self.rows]


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date  # inclusive

    @property
    def since(self) -> datetime.datetime:
        return timezone.make_aware(datetime.datetime.combine(self.start, datetime.time.min))

    @property
    def until(self) -> datetime.datetime:
        """The first moment after the period."""
        return timezone.make_aware(datetime.datetime.combine(
            self.end + datetime.timedelta(days=1), datetime.time.min))

    def range(self) -> tuple[datetime.datetime, datetime.datetime]:
        return self.since, self.until


def default_period(today: datetime.date | None = None) -> Period:
    """The last twelve whole months and this month so far."""
    today = today or timezone.localdate()
    start = today.replace(day=1)
    start = start.replace(year=start.year - 1)
    return Period(start, today)


def _month(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m") if value else ""


def _rate(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


def _hours(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 3600.0, 1)


def _first_history(*, link: str, outer: str, after: str | None = None, **filters):
    """The time of the first history row of the request `outer` points to (after the time
    `after` points to) matching `filters`."""
    rows = HistoryEntry.objects.filter(**{link: OuterRef(outer)}, **filters)
    if after:
        rows = rows.filter(at__gte=OuterRef(after))
    return Subquery(rows.order_by("at", "id").values("at")[:1], output_field=DateTimeField())


# --- borrowing and lending per partner and month ------------------------------------------------

BORROWING_DIMENSIONS = {
    "partner": ("partner__name", gettext_lazy("Partner")),
    "type": ("request__request_type", gettext_lazy("Request type")),
    "patron_group": ("request__patron__group__name", gettext_lazy("Patron group")),
    "region": ("partner__is_international", gettext_lazy("Domestic / international")),
}
LENDING_DIMENSIONS = {
    "partner": ("partner__name", gettext_lazy("Partner")),
    "type": ("service_type", gettext_lazy("Service type")),
    "region": ("partner__is_international", gettext_lazy("Domestic / international")),
}


def _dimension_label(by: str, value, types=BR.Type) -> str:
    if by == "region":
        return _("International") if value else _("Domestic")
    if by == "type":
        return str(dict(types.choices).get(value, value))
    return value or "—"


def borrowing_attempts(*, institution, period: Period):
    """The attempts a borrowing report counts: sent in the period, ours."""
    return RotaEntry.objects.filter(request__institution=institution,
                                     asked_at__gte=period.since, asked_at__lt=period.until)


def borrowing_by_month(*, institution, period: Period, by: str = "partner") -> Report:
    by = by if by in BORROWING_DIMENSIONS else "partner"
    dimension, dimension_label = BORROWING_DIMENSIONS[by]
    # Who cancelled: looked up in the history only for the few cancelled attempts.
    cancelled_to = Case(When(outcome=Outcome.CANCELLED, then=Subquery(
        HistoryEntry.objects.filter(borrowing_request=OuterRef("request_id"),
                                    at__gte=OuterRef("asked_at"),
                                    to_status__startswith="cancelled")
        .order_by("at", "id").values("to_status")[:1])), default=Value(""))
    cancelled = Q(outcome=Outcome.CANCELLED)
    rows = (borrowing_attempts(institution=institution, period=period)
            .annotate(month=TruncMonth("asked_at"), cancelled_to=cancelled_to)
            .values("month", dimension).order_by("month", dimension)
            .annotate(requests=Count("pk"),
                      filled=Count("pk", filter=Q(outcome=Outcome.SUPPLIED)),
                      unfilled=Count("pk", filter=Q(outcome=Outcome.REJECTED)),
                      cancelled_staff=Count("pk", filter=cancelled & Q(
                          cancelled_to=BR.Status.CANCELLED_STAFF)),
                      cancelled_patron=Count("pk", filter=cancelled & Q(
                          cancelled_to=BR.Status.CANCELLED_PATRON)),
                      cancelled_partner=Count("pk", filter=cancelled & Q(
                          cancelled_to=BR.Status.CANCELLED_PARTNER))))
    out = []
    for row in rows:
        cancelled_total = (row["cancelled_staff"] + row["cancelled_patron"]
                           + row["cancelled_partner"])
        out.append({
            "month": _month(row["month"]), "group": _dimension_label(by, row[dimension]),
            "requests": row["requests"], "filled": row["filled"], "unfilled": row["unfilled"],
            "cancelled": cancelled_total, "cancelled_staff": row["cancelled_staff"],
            "cancelled_patron": row["cancelled_patron"],
            "cancelled_partner": row["cancelled_partner"],
            "open": row["requests"] - row["filled"] - row["unfilled"] - cancelled_total,
            "fill_rate": _rate(row["filled"], row["requests"]),
        })
    return Report(
        slug="borrowing", title=_("Borrowing per month"),
        columns=[Column("month", _("Month"), "text"), Column("group", str(dimension_label),
                                                              "text"),
                 Column("requests", _("Requests sent")), Column("filled", _("Filled")),
                 Column("unfilled", _("Unfilled")), Column("cancelled", _("Cancelled")),
                 Column("cancelled_staff", _("Cancelled by staff")),
                 Column("cancelled_patron", _("Cancelled by patron")),
                 Column("cancelled_partner", _("Cancelled by partner")),
                 Column("open", _("Still open")),
                 Column("fill_rate", _("Fill rate %"), "percent")],
        rows=out, chart_label=("month", "group"),
        chart_series=("requests", "filled", "unfilled", "cancelled"),
        notes=[_("A request asked of two partners counts once for each, in the month it was "
                 "sent to that partner.")])


def lending_by_month(*, institution, period: Period, by: str = "partner") -> Report:
    by = by if by in LENDING_DIMENSIONS else "partner"
    dimension, dimension_label = LENDING_DIMENSIONS[by]
    rows = (LendingRequest.objects
            .filter(institution=institution, created_at__gte=period.since,
                    created_at__lt=period.until)
            .annotate(month=TruncMonth("created_at"))
            .values("month", dimension).order_by("month", dimension)
            .annotate(requests=Count("pk"),
                      filled=Count("pk", filter=Q(shipped_at__isnull=False)),
                      unfilled=Count("pk", filter=Q(status__in=(LR.S.REJECTED, LR.S.EXPIRED),
                                                    shipped_at__isnull=True)),
                      cancelled=Count("pk", filter=Q(status=LR.S.CANCELLED,
                                                     shipped_at__isnull=True))))
    out = [{
        "month": _month(row["month"]), "group": _dimension_label(by, row[dimension], LR.ServiceType),
        "requests": row["requests"], "filled": row["filled"], "unfilled": row["unfilled"],
        "cancelled": row["cancelled"],
        "open": row["requests"] - row["filled"] - row["unfilled"] - row["cancelled"],
        "fill_rate": _rate(row["filled"], row["requests"]),
    } for row in rows]
    return Report(
        slug="lending", title=_("Lending per month"),
        columns=[Column("month", _("Month"), "text"),
                 Column("group", str(dimension_label), "text"),
                 Column("requests", _("Requests received")), Column("filled", _("Filled")),
                 Column("unfilled", _("Unfilled")),
                 Column("cancelled", _("Cancelled by partner")),
                 Column("open", _("Still open")),
                 Column("fill_rate", _("Fill rate %"), "percent")],
        rows=out, chart_label=("month", "group"),
        chart_series=("requests", "filled", "unfilled", "cancelled"))


def unfilled_reasons(*, institution, period: Period, by: str = "") -> Report:
    """Why partners said no to us (borrowing) and why we said no (lending), per partner."""
    borrowing = (borrowing_attempts(institution=institution, period=period)
                 .filter(outcome=Outcome.REJECTED)
                 .values("partner__name", "reason").order_by("partner__name", "reason")
                 .annotate(n=Count("pk")))
    lending = (LendingRequest.objects
               .filter(institution=institution, created_at__gte=period.since,
                       created_at__lt=period.until,
                       status__in=(LR.S.REJECTED, LR.S.EXPIRED), shipped_at__isnull=True)
               .values("partner__name", "status", "unfilled_reason")
               .order_by("partner__name", "status", "unfilled_reason").annotate(n=Count("pk")))
    reasons = dict(LR.UnfilledReason.choices)
    rows = [{"side": _("Borrowing"), "partner": r["partner__name"],
             "reason": r["reason"] or _("No reason given"), "count": r["n"]} for r in borrowing]
    rows += [{"side": _("Lending"), "partner": r["partner__name"],
              "reason": str(_("Expired unanswered") if r["status"] == LR.S.EXPIRED
                            else reasons.get(r["unfilled_reason"]) or _("No reason given")),
              "count": r["n"]} for r in lending]
    return Report(
        slug="unfilled", title=_("Unfilled, by reason"),
        columns=[Column("side", _("Side"), "text"), Column("partner", _("Partner"), "text"),
                 Column("reason", _("Reason"), "text"), Column("count", _("Requests"))],
        rows=rows, chart_label=("side", "partner", "reason"), chart_series=("count",))


# --- time to supply -------------------------------------------------------------------------------

TIMES = (
    ("answer", gettext_lazy("Sent → partner's answer")),
    ("supply", gettext_lazy("Sent → shipped")),
    ("transit", gettext_lazy("Shipped → received")),
    ("desk", gettext_lazy("Received → at the desk")),
    ("wait", gettext_lazy("Patron's wait: created → available")),
)


def time_to_supply(*, institution, period: Period, by: str = "") -> Report:
    link = "borrowing_request"
    answer_at = _first_history(link=link, outer="request_id", after="asked_at",
                               action__in=PARTNER_ANSWERS, source__in=(
                                   Source.STAFF, Source.PARTNER))
    shipped_at = _first_history(link=link, outer="request_id", after="asked_at",
                                action__in=SHIPPED)
    desk_at = _first_history(link=link, outer="request_id", after="asked_at", action="at_desk")
    attempts = (borrowing_attempts(institution=institution, period=period)
                .filter(outcome=Outcome.SUPPLIED))
    measures = {
        "answer": Seconds(answer_at, F("asked_at")),
        "supply": Seconds(shipped_at, F("asked_at")),
        "transit": Seconds(F("request__received_at"), shipped_at),
        "desk": Seconds(desk_at, F("request__received_at")),
        "wait": Seconds(Coalesce(desk_at, F("request__delivered_at")),
                        F("request__created_at")),
    }
    borrowing = grouped_percentiles(attempts, group="partner__name", measures=measures)
    supplied = dict(attempts.values("partner__name").order_by("partner__name")
                    .annotate(n=Count("pk")).values_list("partner__name", "n"))
    lending = grouped_percentiles(
        LendingRequest.objects.filter(institution=institution, created_at__gte=period.since,
                                      created_at__lt=period.until, shipped_at__isnull=False),
        group="partner__name",
        measures={"turnaround": Seconds(F("shipped_at"), F("created_at"))})
    rows = []
    for partner in sorted(set(supplied) | set(lending), key=lambda p: p or ""):
        row = {"partner": partner}
        if partner in supplied:
            cells = borrowing[partner]
            row["supplied"] = supplied[partner]
            for key, _label in TIMES:
                row[f"{key}_median"] = _hours(cells[key][0.5])
                row[f"{key}_p90"] = _hours(cells[key][0.9])
        if partner in lending:
            cell = lending[partner]["turnaround"]
            row["lent"] = cell["n"]
            row["turnaround_median"] = _hours(cell[0.5])
            row["turnaround_p90"] = _hours(cell[0.9])
        rows.append(row)
    columns = [Column("partner", _("Partner"), "text"),
               Column("supplied", _("Supplied to us"))]
    for key, label in TIMES:
        columns += [Column(f"{key}_median", _("%(what)s, median h") % {"what": label}, "hours"),
                    Column(f"{key}_p90", _("%(what)s, 90%% h") % {"what": label}, "hours")]
    columns += [Column("lent", _("Shipped by us")),
                Column("turnaround_median", _("Our turnaround (arrived → shipped), median h"),
                       "hours"),
                Column("turnaround_p90", _("Our turnaround (arrived → shipped), 90% h"),
                       "hours")]
    return Report(slug="time-to-supply", title=_("Time to supply"), columns=columns, rows=rows,
                  chart_label=("partner",),
                  chart_series=("supply_median", "wait_median", "turnaround_median"),
                  notes=[_("Hours. Supplied attempts sent in the period; lending requests that "
                           "arrived in the period and were shipped.")])


# --- loans: renewals, overdue, lost, long loans ---------------------------------------------------

def _history_counts(*, institution, period: Period, link: str, counts: dict) -> dict:
    """{month: {name: count}} of history rows of one side in the period."""
    rows = (HistoryEntry.objects
            .filter(**{f"{link}__institution": institution}, at__gte=period.since,
                    at__lt=period.until)
            .annotate(month=TruncMonth("at")).values("month").order_by("month")
            .annotate(**{name: Count("pk", filter=q) for name, q in counts.items()}))
    return {_month(row["month"]): row for row in rows}


def loans(*, institution, period: Period, by: str = "") -> Report:
    system = Q(source=Source.SYSTEM)
    borrowing = _history_counts(institution=institution, period=period,
                                link="borrowing_request", counts={
        "b_asked": Q(action="request_renewal"),
        "b_granted": Q(action="renewal_granted") & ~system,
        "b_auto": Q(action="renewal_granted") & system,
        "b_refused": Q(action="renewal_refused"),
        "b_overdue": Q(action="mark_overdue"),
        "b_lost": Q(to_status=BR.S.LOST, action="report_lost"),
    })
    lending = _history_counts(institution=institution, period=period,
                              link="lending_request", counts={
        "l_asked": Q(action="renewal_asked"),
        "l_granted": Q(action="renew_yes") & ~system,
        "l_auto": Q(action="renew_yes") & system,
        "l_refused": Q(action="renew_no"),
        "l_overdue": Q(action="become_overdue"),
        "l_lost": Q(to_status=LR.S.LOST),
    })
    long_ago = timezone.now() - datetime.timedelta(days=LONG_LOAN_DAYS)
    long_loans = {
        _month(row["month"]): row["n"] for row in
        BorrowingRequest.objects.filter(
            institution=institution, received_at__gte=period.since,
            received_at__lt=min(period.until, long_ago), status__in=BR.HAS_ITEM)
        .annotate(month=TruncMonth("received_at")).values("month").order_by("month")
        .annotate(n=Count("pk"))
    }
    keys = ("b_asked", "b_granted", "b_auto", "b_refused", "b_overdue", "b_lost",
            "l_asked", "l_granted", "l_auto", "l_refused", "l_overdue", "l_lost")
    rows = []
    for month in sorted(set(borrowing) | set(lending) | set(long_loans)):
        row = {"month": month}
        found = {**borrowing.get(month, {}), **lending.get(month, {})}
        for key in keys:
            row[key] = found.get(key, 0)
        row["long"] = long_loans.get(month, 0)
        rows.append(row)
    columns = [Column("month", _("Month"), "text"),
               Column("b_asked", _("Borrowing: renewals asked")),
               Column("b_granted", _("Borrowing: renewals granted")),
               Column("b_auto", _("Borrowing: renewed automatically")),
               Column("b_refused", _("Borrowing: renewals refused")),
               Column("b_overdue", _("Borrowing: overdue")),
               Column("b_lost", _("Borrowing: lost")),
               Column("long", _("Borrowing: still here after %(days)s days")
                      % {"days": LONG_LOAN_DAYS}),
               Column("l_asked", _("Lending: renewals asked")),
               Column("l_granted", _("Lending: renewals granted")),
               Column("l_auto", _("Lending: renewed automatically")),
               Column("l_refused", _("Lending: renewals refused")),
               Column("l_overdue", _("Lending: overdue")),
               Column("l_lost", _("Lending: lost"))]
    return Report(slug="loans", title=_("Renewals, overdue, lost and long loans"),
                  columns=columns, rows=rows, chart_label=("month",),
                  chart_series=("b_asked", "b_granted", "l_asked", "l_granted", "long"),
                  notes=[_("Long loans: borrowed items received in the month and still here "
                           "(not returned to the partner) %(days)s days later.")
                         % {"days": LONG_LOAN_DAYS}])


# --- articles -------------------------------------------------------------------------------------

def articles(*, institution, period: Period, by: str = "") -> Report:
    rows = (BorrowingRequest.objects
            .filter(institution=institution, delivered_at__gte=period.since,
                    delivered_at__lt=period.until)
            .annotate(month=TruncMonth("delivered_at")).values("month").order_by("month")
            .annotate(delivered=Count("pk"),
                      opened=Count("pk", filter=Q(first_opened_at__isnull=False))))
    out = [{"month": _month(r["month"]), "delivered": r["delivered"], "opened": r["opened"],
            "opened_rate": _rate(r["opened"], r["delivered"])} for r in rows]
    return Report(slug="articles", title=_("Articles delivered and opened"),
                  columns=[Column("month", _("Month"), "text"),
                           Column("delivered", _("Delivered to patrons")),
                           Column("opened", _("Opened by the patron")),
                           Column("opened_rate", _("Opened %"), "percent")],
                  rows=out, chart_label=("month",), chart_series=("delivered", "opened"))


# --- the reports, by the slug in their URL ---------------------------------------------------------

@dataclass(frozen=True)
class ReportDefinition:
    slug: str
    title: str
    build: object  # (*, institution, period, by) -> Report
    dimensions: dict = field(default_factory=dict)


REPORTS = {d.slug: d for d in (
    ReportDefinition("borrowing", gettext_lazy("Borrowing per month"), borrowing_by_month,
                     BORROWING_DIMENSIONS),
    ReportDefinition("lending", gettext_lazy("Lending per month"), lending_by_month,
                     LENDING_DIMENSIONS),
    ReportDefinition("unfilled", gettext_lazy("Unfilled, by reason"), unfilled_reasons),
    ReportDefinition("time-to-supply", gettext_lazy("Time to supply"), time_to_supply),
    ReportDefinition("loans", gettext_lazy("Renewals, overdue, lost and long loans"), loans),
    ReportDefinition("articles", gettext_lazy("Articles delivered and opened"), articles),
)}


# --- inter-library billing ----------------------------------------------------------------------

def page_count(pages: str) -> int:
    """Pages in a citation's page range: "12-20" is 9, "5" is 1, "3-4, 10" is 3; unknown 0."""
    total = 0
    for part in re.split(r"[,;]", pages or ""):
        numbers = [int(n) for n in re.findall(r"\d+", part)][:2]
        if len(numbers) == 2 and numbers[1] >= numbers[0]:
            total += numbers[1] - numbers[0] + 1
        elif numbers:
            total += 1
    return total


def _charge(partner: Partner, *, items: int, pages: int) -> Decimal:
    if partner.agreement == Partner.Agreement.PER_ITEM and partner.price is not None:
        return partner.price * items
    if partner.agreement == Partner.Agreement.PER_PAGE and partner.price is not None:
        return partner.price * pages
    return Decimal("0.00")


def invoice(*, institution, partner: Partner, period: Period) -> dict:
    """The invoice to a partner for the period: each of our lending requests shipped to it in
    the period, charged as its agreement says (plain values for the page and the CSV)."""
    lines = []
    for r in (LendingRequest.objects
              .filter(institution=institution, partner=partner,
                      shipped_at__gte=period.since, shipped_at__lt=period.until)
              .order_by("shipped_at", "pk")
              .values("number", "partner_request_id", "title", "article_title", "pages",
                      "shipped_at")):
        pages = page_count(r["pages"])
        lines.append({
            "number": r["number"], "their_number": r["partner_request_id"],
            "title": r["article_title"] or r["title"],
            "shipped": timezone.localtime(r["shipped_at"]).date(), "pages": pages,
            "amount": _charge(partner, items=1, pages=pages),
        })
    return {
        "partner": partner.name, "address": partner.address, "currency": partner.currency,
        "agreement": str(dict(Partner.Agreement.choices).get(partner.agreement,
                                                             _("Not agreed"))),
        "price": partner.price, "lines": lines,
        "total": sum((line["amount"] for line in lines), Decimal("0.00")),
    }


def billing(*, institution, period: Period, by: str = "") -> Report:
    """Per partner, what we lent it (shipped in the period) and borrowed from it (supplied
    to us in the period) under its agreement, and what each side owes."""
    partners = {p.pk: p for p in Partner.objects.for_institution(institution)}
    lent = dict(LendingRequest.objects
                .filter(institution=institution, shipped_at__gte=period.since,
                        shipped_at__lt=period.until)
                .values("partner").order_by("partner").annotate(n=Count("pk"))
                .values_list("partner", "n"))
    borrowed = dict(RotaEntry.objects
                    .filter(request__institution=institution, outcome=Outcome.SUPPLIED,
                            answered_at__gte=period.since, answered_at__lt=period.until)
                    .values("partner").order_by("partner").annotate(n=Count("pk"))
                    .values_list("partner", "n"))
    per_page = [pk for pk, p in partners.items() if p.agreement == Partner.Agreement.PER_PAGE]
    lent_pages: dict = {}
    borrowed_pages: dict = {}
    if per_page:
        for pk, pages in (LendingRequest.objects
                          .filter(institution=institution, partner__in=per_page,
                                  shipped_at__gte=period.since, shipped_at__lt=period.until)
                          .values_list("partner", "pages")):
            lent_pages[pk] = lent_pages.get(pk, 0) + page_count(pages)
        for pk, pages in (RotaEntry.objects
                          .filter(request__institution=institution, partner__in=per_page,
                                  outcome=Outcome.SUPPLIED, answered_at__gte=period.since,
                                  answered_at__lt=period.until)
                          .values_list("partner", "request__pages")):
            borrowed_pages[pk] = borrowed_pages.get(pk, 0) + page_count(pages)
    agreements = dict(Partner.Agreement.choices)
    rows = []
    for pk in sorted(set(lent) | set(borrowed), key=lambda k: partners[k].name):
        partner = partners[pk]
        rows.append({
            "partner_id": pk, "partner": partner.name,
            "agreement": str(agreements.get(partner.agreement, _("Not agreed"))),
            "price": partner.price, "currency": partner.currency,
            "lent": lent.get(pk, 0), "lent_pages": lent_pages.get(pk, 0),
            "to_invoice": _charge(partner, items=lent.get(pk, 0),
                                  pages=lent_pages.get(pk, 0)),
            "borrowed": borrowed.get(pk, 0), "borrowed_pages": borrowed_pages.get(pk, 0),
            "we_owe": _charge(partner, items=borrowed.get(pk, 0),
                              pages=borrowed_pages.get(pk, 0)),
        })
    return Report(
        slug="billing", title=_("Inter-library billing"),
        columns=[Column("partner", _("Partner"), "text"),
                 Column("agreement", _("Agreement"), "text"),
                 Column("price", _("Price"), "money"), Column("currency", _("Currency"), "text"),
                 Column("lent", _("Lent (shipped)")), Column("lent_pages", _("Pages lent")),
                 Column("to_invoice", _("To invoice"), "money"),
                 Column("borrowed", _("Borrowed (supplied to us)")),
                 Column("borrowed_pages", _("Pages borrowed")),
                 Column("we_owe", _("Charged to us"), "money")],
        rows=rows, chart_label=("partner",), chart_series=("lent", "borrowed"),
        notes=[_("Lent: our lending requests shipped in the period. Borrowed: partners' "
                 "supplies to us in the period. Pages count only for per-page agreements.")])


def patron_fees(*, institution, period: Period, by: str = "") -> Report:
    """Fees recorded on borrowing requests created in the period (recorded, not charged)."""
    requests = (BorrowingRequest.objects
                .filter(institution=institution, created_at__gte=period.since,
                        created_at__lt=period.until, patron_fee__isnull=False)
                .order_by("created_at", "pk")
                .values("number", "created_at", "patron__first_name", "patron__last_name",
                        "title", "status", "patron_fee"))
    statuses = dict(BR.Status.choices)
    rows = [{"number": r["number"], "created": timezone.localtime(r["created_at"]).date(),
             "patron": f"{r['patron__last_name']}, {r['patron__first_name']}", "title": r["title"],
             "status": str(statuses.get(r["status"], r["status"])), "fee": r["patron_fee"]}
            for r in requests]
    return Report(
        slug="patron-fees", title=_("Patron fees"),
        columns=[Column("number", _("Request"), "text"), Column("created", _("Created"), "date"),
                 Column("patron", _("Patron"), "text"), Column("title", _("Title"), "text"),
                 Column("status", _("Status"), "text"), Column("fee", _("Fee"), "money")],
        rows=rows, chart_label=("number",), chart_series=("fee",),
        notes=[_("Fees recorded on requests created in the period. Kauko records them; "
                 "charging is the library's payment system's.")])


REPORTS.update({d.slug: d for d in (
    ReportDefinition("billing", gettext_lazy("Inter-library billing"), billing),
    ReportDefinition("patron-fees", gettext_lazy("Patron fees"), patron_fees),
)})
