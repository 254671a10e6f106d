"""Read-side questions about circulation set-up and the catalogue."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from fulfillment.cql import annotate_identifiers
from fulfillment.models import (
    BibRecord,
    FulfillmentUnitRule,
    Holding,
    Item,
    ItemBarcode,
    Library,
    TermsOfUse,
    normalize_barcode,
)
from kauko.errors import DomainError


def terms_of_use_for(*, item: Item, patron_group_code: str | None) -> TermsOfUse | None:
    """Which terms of use apply to this item for a patron of this group.

    The item's current location names the fulfillment unit (a temporary ILL item lives in
    the RS library's incoming location, so the incoming location's unit decides); the
    unit's rules are tried in order and the first whose conditions match wins. None when
    the location has no unit or no rule matches.
    """
    unit_id = item.location.fulfillment_unit_id
    if unit_id is None:
        return None
    rules = FulfillmentUnitRule.objects.filter(fulfillment_unit_id=unit_id).select_related(
        "terms_of_use"
    )
    for rule in rules:
        if rule.matches(patron_group_code=patron_group_code, item_policy=item.item_policy):
            return rule.terms_of_use
    return None


def items_by_barcode(*, institution, barcode: str) -> QuerySet[Item]:
    """Every item of the institution that carries this barcode (own, partner's or RFID).

    Barcodes are unique per institution, so this is at most one item; callers still get a
    queryset so a scan screen can say "unknown" and never guess.
    """
    value = normalize_barcode(barcode)
    if not value:
        return Item.objects.none()
    item_ids = ItemBarcode.objects.filter(institution=institution, barcode=value).values(
        "item_id"
    )
    return (
        Item.objects.filter(institution=institution, pk__in=item_ids)
        .select_related("bib", "location__library", "permanent_location__library")
        .prefetch_related("barcodes")
        .order_by("pk")
    )


def item_by_barcode(*, institution, barcode: str) -> Item | None:
    return items_by_barcode(institution=institution, barcode=barcode).first()


def rs_library_for(*, institution) -> Library:
    """The institution's resource sharing library, or a refusal that says what to set up."""
    library = Library.objects.filter(institution=institution, is_rs_library=True).first()
    if library is None:
        raise DomainError(_("This institution has no resource sharing library yet: a "
                            "configuration admin must flag one first."))
    return library


# --- The catalogue as others search it (SRU) --------------------------------------------


def item_on_shelf(item: Item) -> bool:
    """On the shelf at home and free to lend: in place, in its permanent location, not a
    temporary ILL item."""
    return (item.status == Item.Status.IN_PLACE and not item.is_temporary
            and item.location_id == item.permanent_location_id)


def catalogue_records(*, institution, condition: Q) -> QuerySet[BibRecord]:
    """The institution's own records that have holdings and match `condition` (built by
    fulfillment.cql over the normalised identifiers), with holdings, locations, libraries
    and items fetched in four queries whatever the page size. Temporary records of borrowed
    items are never shown."""
    items = Item.objects.filter(is_temporary=False).only(
        "id", "holding_id", "status", "is_temporary", "location_id", "permanent_location_id",
        "call_number")
    return (
        annotate_identifiers(BibRecord.objects.filter(institution=institution, hidden=False))
        .filter(condition)
        .filter(Exists(Holding.objects.filter(bib=OuterRef("pk"))))
        .prefetch_related(
            Prefetch("holdings", queryset=Holding.objects.select_related("location__library")
                     .order_by("location__library__code", "location__code", "pk")),
            Prefetch("holdings__items", queryset=items),
        )
        .order_by("title", "pk")
    )
