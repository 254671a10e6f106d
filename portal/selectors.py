"""What the portal and the API look up: patrons by any identifier, institutions to sign in to."""

from __future__ import annotations

from django.db.models import Q

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
