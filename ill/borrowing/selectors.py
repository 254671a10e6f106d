from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Prefetch, Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from ill import iso18626 as iso
from ill.borrowing.filters import QUEUES
from ill.models import BorrowingRequest, HistoryEntry, IsoMessage, PurchaseRequest, RotaEntry
from partners.models import TemporaryItemRule


def borrowing_list(*, institution):
    """The list's rows, with what each row shows fetched in the same query."""
    return (
        BorrowingRequest.objects.filter(institution=institution)
        .select_related("patron", "partner", "assigned_to")
        .only("number", "title", "article_title", "author", "request_type", "status",
              "created_at", "patron_due_date", "needs_attention", "status_changed_at",
              "version", "source", "patron__first_name", "patron__last_name", "patron__barcode",
              "partner__name", "institution_id", "assigned_to__username",
              "assigned_to__first_name", "assigned_to__last_name")
    )


def queue_counts(*, institution) -> dict[str, int]:
    """How many requests wait in each queue, in one query.

    Queues hold the few requests that need work, so one grouped count over those rows stays
    fast however many requests the institution has (the indexes find them directly).
    """
    statuses = {status for queue in QUEUES.values() for status in queue.statuses}
    rows = (BorrowingRequest.objects.filter(institution=institution)
            .filter(Q(status__in=statuses) | Q(needs_attention=True))
            .values("status", "needs_attention").annotate(n=Count("pk")).order_by())
    counts = dict.fromkeys(QUEUES, 0)
    for row in rows:
        for key, queue in QUEUES.items():
            if queue.contains(row["status"], row["needs_attention"]):
                counts[key] += row["n"]
    return counts


def borrowing_detail(*, institution, pk):
    return (
        BorrowingRequest.objects.filter(institution=institution, pk=pk)
        .select_related("patron__group", "partner__borrowing_profile", "rs_library",
                        "pickup_desk", "assigned_to", "temporary_item__location__library",
                        "hold", "created_by")
        .prefetch_related(
            Prefetch("rota", queryset=RotaEntry.objects.select_related("partner")),
            Prefetch("history", queryset=HistoryEntry.objects.select_related("user")),
            "temporary_item__barcodes",
        )
        .first()
    )


def current_attempt_id(request: BorrowingRequest) -> str:
    entry = request.rota.filter(outcome=RotaEntry.Outcome.ASKED).order_by("-position").first()
    return entry.attempt_id if entry else ""


#: A partner's last word after which it holds no transaction to cancel (illmock forgets
#: the request then: a Cancel would be confirmed and ignored, never answered).
LET_GO = ("LoanCompleted", "CompletedWithoutReturn", "RetryPossible", "Unfilled",
          "Cancelled")


def partner_let_go(request) -> bool:
    """Whether the partner's latest message, since we last sent the request (a retry is a
    new one), closed its side of it."""
    messages = IsoMessage.objects.filter(borrowing_request=request)
    asked = (messages.filter(direction=IsoMessage.Direction.OUT, kind="request")
             .order_by("-id").values_list("id", flat=True).first())
    latest = (messages.filter(direction=IsoMessage.Direction.IN, id__gt=asked or 0)
              .order_by("-id").values_list("status", flat=True).first())
    return latest in LET_GO


def retry_offered(request) -> bool:
    """Whether the partner's latest word on the request is a RetryPossible: only then is a
    retry (a new request under a new id) something it asked for."""
    latest = (IsoMessage.objects.filter(borrowing_request=request,
                                        direction=IsoMessage.Direction.IN)
              .order_by("-id").values_list("status", flat=True).first())
    return latest == "RetryPossible"


# A lender's condition that keeps the item in the library (ISO 18626 loanCondition
# LibraryUseOnly / WatchLibraryUseOnly / SpecCollSupervReq, or said in words).
LIBRARY_USE_ONLY = re.compile(
    r"library\s*use\s*only|LibraryUseOnly|SpecCollSupervReq|in[- ]library use|reading room"
    r"|lukusali|kirjastok\w*\s+vain|vain\s+kirjasto|l\u00e4sesal", re.I)


def library_use_only_condition(request) -> str:
    """The accepted lender condition that keeps the item from home loan, or "" (what the
    temporary item's "not for home loan" says at receive)."""
    text = (request.condition_text or "").strip()
    return text if text and LIBRARY_USE_ONLY.search(text) else ""


def temporary_item_rule_for(request) -> TemporaryItemRule | None:
    """The first temporary item rule (in order) that matches the request's current partner
    and its temporary record's format, or None."""
    item = request.temporary_item
    record_format = item.bib.format if item is not None else ""
    rules = (TemporaryItemRule.objects.filter(institution_id=request.institution_id)
             .select_related("location"))
    for rule in rules:
        if rule.matches(partner=request.partner, record_format=record_format):
            return rule
    return None


def purchase_requests(*, institution, status: str = ""):
    """The purchase requests ILL turned over to acquisitions, newest first, with what the
    list and its export show fetched in the same query."""
    rows = (PurchaseRequest.objects.filter(institution=institution)
            .select_related("patron", "created_by", "borrowing_request")
            .order_by("-created_at", "-id"))
    return rows.filter(status=status) if status else rows


@dataclass(frozen=True)
class RetryOffer:
    """What a partner's RetryPossible offers, as plain values for the page and the form."""

    reason: str = ""
    note: str = ""
    costs: list = field(default_factory=list)  # [(Decimal, currency code)]
    conditions: list = field(default_factory=list)
    retry_after: datetime.datetime | None = None
    retry_before: datetime.datetime | None = None
    item_ids: list = field(default_factory=list)
    service_type: str = ""

    @property
    def cost(self) -> tuple[Decimal, str] | None:
        return self.costs[0] if self.costs else None

    def parts(self) -> list[tuple[str, str]]:
        """(label, value) of each thing offered, in words and local formats."""
        def when(value):
            return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")

        parts = []
        if self.reason:
            parts.append((_("Reason"), self.reason))
        for value, currency in self.costs:
            parts.append((_("Cost"), f"{formats.number_format(value, 2)} {currency}"))
        if self.conditions:
            parts.append((_("Condition"), ", ".join(self.conditions)))
        if self.retry_after:
            parts.append((_("Retry after"), when(self.retry_after)))
        if self.retry_before:
            parts.append((_("Retry before"), when(self.retry_before)))
        if self.item_ids:
            parts.append((_("Suggested item id"), ", ".join(self.item_ids)))
        if self.service_type:
            parts.append((_("Service type"), self.service_type))
        if self.note:
            parts.append((_("Note"), self.note))
        return parts

    def describe(self) -> str:
        return "; ".join(f"{label}: {value}" for label, value in self.parts()) or "–"


def offer_of(body: iso.SupplyingAgencyMessage) -> RetryOffer:
    """The offer a RetryPossible message makes (v1.2 and 2021 alike)."""
    retry, delivery = body.retry_info, body.delivery_info
    conditions = [str(c) for c in (retry.loan_conditions if retry else [])]
    conditions += [str(c) for c in (delivery.loan_conditions if delivery else [])
                   if str(c) not in conditions]
    return RetryOffer(
        reason=str(body.message_info.reason_retry or ""),
        note=body.message_info.note or "",
        costs=[(c.monetary_value, str(c.currency_code)) for c in
               (retry.offered_costs if retry else [])],
        conditions=conditions,
        retry_after=retry.retry_after if retry else None,
        retry_before=retry.retry_before if retry else None,
        item_ids=list(delivery.item_ids) if delivery else [],
        service_type=str(retry.service_type or "") if retry else "")


def retry_offer(request) -> RetryOffer | None:
    """The partner's standing retry offer: its latest message, when that is a
    RetryPossible (read back from the message as it came)."""
    latest = (IsoMessage.objects.filter(borrowing_request=request,
                                        direction=IsoMessage.Direction.IN)
              .order_by("-id").values_list("status", "raw").first())
    if latest is None or latest[0] != "RetryPossible":
        return None
    try:
        body = iso.parse(latest[1].encode("utf-8"), strict=False).body
    except iso.Iso18626Error:
        return RetryOffer()
    if not isinstance(body, iso.SupplyingAgencyMessage):
        return RetryOffer()
    return offer_of(body)
