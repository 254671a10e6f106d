from __future__ import annotations

from django.db.models import Count, Prefetch, Q

from fulfillment.models import Item
from ill.lending.filters import QUEUES
from ill.models import HistoryEntry, LendingCandidate, LendingRequest

LR = LendingRequest


def lending_list(*, institution):
    """The list's rows, with what each row shows fetched in the same query."""
    return (
        LendingRequest.objects.filter(institution=institution)
        .select_related("partner", "assigned_to")
        .only("number", "title", "article_title", "author", "service_type", "status",
              "created_at", "due_date", "needs_attention", "status_changed_at", "version",
              "partner_request_id", "pull_slip_printed_at", "item_id", "partner__name",
              "partner__code", "institution_id", "assigned_to__username",
              "assigned_to__first_name", "assigned_to__last_name")
    )


def queue_counts(*, institution) -> dict[str, int]:
    """How many requests wait in each queue, in one query over the few open rows that
    belong to any queue (the status index finds them directly)."""
    union = Q()
    for queue in QUEUES.values():
        union |= queue.q
    counts = (LendingRequest.objects.filter(institution=institution).filter(union)
              .aggregate(**{key: Count("pk", filter=queue.q) for key, queue in QUEUES.items()}))
    return {key: counts[key] or 0 for key in QUEUES}


def lending_detail(*, institution, pk):
    item_related = ("bib", "location__library", "permanent_location__library")
    return (
        LendingRequest.objects.filter(institution=institution, pk=pk)
        .select_related("partner__lending_profile", "rs_library__outgoing_location",
                        "assigned_to", "created_by",
                        *(f"item__{name}" for name in item_related))
        .prefetch_related(
            Prefetch("history", queryset=HistoryEntry.objects.select_related("user")),
            Prefetch("candidates", queryset=LendingCandidate.objects.select_related(
                *(f"item__{name}" for name in item_related)).prefetch_related(
                "item__barcodes")),
            "item__barcodes",
        )
        .first()
    )


def pick_list(*, institution, library=None, location=None, printed: str = "no"):
    """Our items to fetch from the shelves, in shelf order: library, location, call
    number. The item's permanent location is its shelf (its current one is outgoing)."""
    rows = (LendingRequest.objects
            .filter(institution=institution, status__in=LR.PICK_LIST, item__isnull=False)
            .select_related("partner", "item__bib", "item__permanent_location__library")
            # Only what the list shows: the sort carries every selected column.
            .only("number", "status", "pull_slip_printed_at", "created_at", "institution_id",
                  "cancel_requested_at",
                  "version", "partner__name", "item__call_number", "item__bib__title",
                  "item__permanent_location__name",
                  "item__permanent_location__library__name")
            .prefetch_related(Prefetch("item__barcodes"))
            .order_by("item__permanent_location__library__name",
                      "item__permanent_location__name", "item__call_number", "created_at"))
    if library is not None:
        rows = rows.filter(item__permanent_location__library=library)
    if location is not None:
        rows = rows.filter(item__permanent_location=location)
    if printed == "no":
        rows = rows.filter(pull_slip_printed_at__isnull=True)
    elif printed == "yes":
        rows = rows.filter(pull_slip_printed_at__isnull=False)
    return rows


def slip_requests(*, institution, ids):
    return (LendingRequest.objects.filter(institution=institution, pk__in=ids)
            .select_related("partner", "rs_library", "item__bib", "item__holding",
                            "item__permanent_location__library")
            .prefetch_related("item__barcodes")
            .order_by("item__permanent_location__library__name",
                      "item__permanent_location__name", "item__call_number", "pk"))


def open_request_for_item(*, institution, item: Item):
    return (LendingRequest.objects.filter(institution=institution, item=item)
            .exclude(status__in=LR.FINAL).order_by("-created_at").first())
