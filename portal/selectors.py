"""What the portal and the API look up: patrons by any identifier, institutions to sign in to."""

from __future__ import annotations

from django.db.models import Prefetch, Q

from ill.models import BorrowingRequest, HistoryEntry
from kauko.models import Institution
from patrons.models import Patron


def patron_by_identifier(*, institution, value: str) -> Patron | None:
    """The institution's patron with this card number or other identifier (case and
    surrounding spaces aside), or None."""
    value = (value or "").strip()
    if not value:
        return None
    return (Patron.objects.filter(institution=institution)
            .filter(Q(barcode__iexact=value) | Q(identifiers__value__iexact=value))
            .select_related("group", "pickup_desk", "institution").distinct().first())


def portal_institutions():
    return Institution.objects.order_by("name")


def patron_requests(*, patron, limit: int = 100):
    """The patron's borrowing requests, newest first, with what their cards show."""
    return (BorrowingRequest.objects.filter(patron=patron)
            .select_related("hold__pickup_desk", "partner__borrowing_profile",
                            "temporary_item", "patron__group")
            .prefetch_related(Prefetch("history", queryset=HistoryEntry.objects.only(
                "at", "to_status", "action", "borrowing_request_id")), "rota")
            .order_by("-created_at")[:limit])


def patron_request(*, patron, pk):
    return (BorrowingRequest.objects.filter(patron=patron, pk=pk)
            .select_related("partner__borrowing_profile", "temporary_item", "patron__group")
            .first())
