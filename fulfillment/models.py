"""Libraries, locations, desks, loan rules and the catalogue (Alma's fulfillment set-up).

Every record staff see carries its institution directly (not only through a parent) so that
one filter, `institution=request.user.institution`, scopes every list, detail page, admin
and API view the same way.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from kauko.models import CODE_VALIDATOR, InstitutionScoped


def parse_codes(value: str) -> list[str]:
    """Comma- or space-separated codes as an upper-case list ("staff, student" → two)."""
    return [code.strip().upper() for code in value.replace(",", " ").split() if code.strip()]










class Library(InstitutionScoped):
    code = models.CharField(_("code"), max_length=50, validators=[CODE_VALIDATOR])
    name = models.CharField(_("name"), max_length=200)
    address = models.TextField(_("postal address"), blank=True,
                               help_text=_("Printed on shipping and return slips."))
    is_rs_library = models.BooleanField(
        _("resource sharing library"), default=False,
        help_text=_("Handles borrowing and lending. Items it receives go in transit to the "
                    "pickup desk; items returned at a desk come back to it."),
    )
    incoming_location = models.ForeignKey(
        "fulfillment.Location", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("incoming location"),
        help_text=_("Where temporary items borrowed from partners live (its terms of use "
                    "govern ILL loans)."),
    )
    outgoing_location = models.ForeignKey(
        "fulfillment.Location", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("outgoing location"),
        help_text=_("Where own items on their way to partners are placed temporarily."),
    )
    may_ship_to_partners = models.BooleanField(
        _("may ship to other libraries"), default=True,
        help_text=_("Off: our items are not lent out physically (copies still are)."))
    may_ship_to_office = models.BooleanField(
        _("may deliver to office addresses"), default=True,
        help_text=_("Staff patrons may ask for delivery by internal mail."))
    other_desks_may_loan = models.BooleanField(
        _("other desks may loan and renew its items"), default=True)

    class Meta:
        verbose_name = _("library")
        verbose_name_plural = _("libraries")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "code"], name="uniq_library_code")
        ]

    def __str__(self):
        return self.name

    def clean(self):
        super().clean()
        if self.is_rs_library and self.pk:
            for name in ("incoming_location", "outgoing_location"):
                loc = getattr(self, name)
                if loc is not None and loc.library_id != self.pk:
                    raise ValidationError({name: _("Pick a location of this library.")})


class FulfillmentUnit(InstitutionScoped):
    code = models.CharField(_("code"), max_length=50, validators=[CODE_VALIDATOR])
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("fulfillment unit")
        verbose_name_plural = _("fulfillment units")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "code"], name="uniq_fu_code")
        ]

    def __str__(self):
        return self.name


class Location(InstitutionScoped):
    library = models.ForeignKey(Library, on_delete=models.PROTECT, related_name="locations",
                                verbose_name=_("library"))
    code = models.CharField(_("code"), max_length=50, validators=[CODE_VALIDATOR])
    name = models.CharField(_("name"), max_length=200)
    fulfillment_unit = models.ForeignKey(
        FulfillmentUnit, on_delete=models.PROTECT, null=True, blank=True,
        related_name="locations", verbose_name=_("fulfillment unit"),
        help_text=_("The loan rules of its items come from this unit."),
    )

    class Meta:
        verbose_name = _("location")
        verbose_name_plural = _("locations")
        ordering = ["library__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["library", "code"], name="uniq_location_code")
        ]

    def __str__(self):
        return f"{self.library.name} – {self.name}"


class CirculationDesk(InstitutionScoped):
    library = models.ForeignKey(Library, on_delete=models.PROTECT, related_name="desks",
                                verbose_name=_("library"))
    code = models.CharField(_("code"), max_length=50, validators=[CODE_VALIDATOR])
    name = models.CharField(_("name"), max_length=200)
    has_hold_shelf = models.BooleanField(_("has a hold shelf"), default=True)
    is_pickup_point = models.BooleanField(
        _("patrons may pick up here"), default=True,
        help_text=_("Offered to patrons as a pickup desk."))
    pickup_days = models.PositiveSmallIntegerField(
        _("pickup days"), default=7,
        help_text=_("Days an item waits on this hold shelf when its terms of use say nothing."),
    )

    class Meta:
        verbose_name = _("circulation desk")
        verbose_name_plural = _("circulation desks")
        ordering = ["library__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "code"], name="uniq_desk_code")
        ]

    def __str__(self):
        return self.name


class TermsOfUse(InstitutionScoped):
    """A set of loan policies. Fulfillment unit rules pick one per item and patron."""

    name = models.CharField(_("name"), max_length=200)
    loan_period_days = models.PositiveSmallIntegerField(_("loan period (days)"), default=28)
    renewable = models.BooleanField(_("renewable"), default=True)
    max_renewals = models.PositiveSmallIntegerField(
        _("maximum renewals"), null=True, blank=True,
        help_text=_("Empty: no limit on the count (the total loan days may still limit)."))
    max_total_loan_days = models.PositiveSmallIntegerField(
        _("maximum total loan days"), null=True, blank=True,
        help_text=_("Longest a loan may run from its first day, renewals included. Applies to "
                    "ILL loans too."))
    renewal_window_days = models.PositiveSmallIntegerField(
        _("renewal window (days)"), null=True, blank=True,
        help_text=_("Patrons may renew only when the due date is at most this many days away. "
                    "Empty: any time."))
    self_service_allowed = models.BooleanField(
        _("self-service loan and return allowed"), default=True)
    pickup_days = models.PositiveSmallIntegerField(
        _("hold shelf pickup days"), default=7,
        help_text=_("Days an item waits for the patron on the hold shelf."))
    auto_renew_patron_groups = models.CharField(
        _("auto-renew for patron groups"), max_length=200, blank=True,
        help_text=_("Codes of patron groups whose loans are renewed automatically, e.g. STAFF."))

    class Meta:
        verbose_name = _("terms of use")
        verbose_name_plural = _("terms of use")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def auto_renews_for(self, patron_group_code: str | None) -> bool:
        return bool(patron_group_code) and patron_group_code.upper() in parse_codes(
            self.auto_renew_patron_groups
        )


class FulfillmentUnitRule(InstitutionScoped):
    """Picks terms of use by conditions; the first matching rule in order wins."""

    fulfillment_unit = models.ForeignKey(
        FulfillmentUnit, on_delete=models.CASCADE, related_name="rules",
        verbose_name=_("fulfillment unit"))
    position = models.PositiveSmallIntegerField(
        _("order"), default=0, help_text=_("Rules are tried from the lowest number up."))
    name = models.CharField(_("name"), max_length=200)
    patron_group_codes = models.CharField(
        _("patron groups"), max_length=200, blank=True,
        help_text=_("Codes of the patron groups this rule is for, e.g. STAFF STUDENT. "
                    "Empty: any group."))
    item_policy_codes = models.CharField(
        _("item policies"), max_length=200, blank=True,
        help_text=_("Item policies this rule is for, e.g. ILL REFERENCE. Empty: any item."))
    terms_of_use = models.ForeignKey(
        TermsOfUse, on_delete=models.PROTECT, related_name="rules",
        verbose_name=_("terms of use"))

    class Meta:
        verbose_name = _("fulfillment unit rule")
        verbose_name_plural = _("fulfillment unit rules")
        ordering = ["fulfillment_unit", "position", "id"]

    def __str__(self):
        return self.name

    def matches(self, *, patron_group_code: str | None, item_policy: str | None) -> bool:
        groups = parse_codes(self.patron_group_codes)
        policies = parse_codes(self.item_policy_codes)
        if groups and (patron_group_code or "").upper() not in groups:
            return False
        if policies and (item_policy or "").upper() not in policies:
            return False
        return True


# --- Catalogue -------------------------------------------------------------------------


class BibRecord(InstitutionScoped):
    class Format(models.TextChoices):
        BOOK = "book", _("Book")
        JOURNAL = "journal", _("Journal")
        ARTICLE = "article", _("Article")
        CHAPTER = "chapter", _("Chapter")
        THESIS = "thesis", _("Thesis")
        MEDIA = "media", _("Audiovisual")
        OTHER = "other", _("Other")

    title = models.CharField(_("title"), max_length=500)
    author = models.CharField(_("author"), max_length=300, blank=True)
    isbn = models.CharField(_("ISBN"), max_length=20, blank=True, db_index=True)
    issn = models.CharField(_("ISSN"), max_length=20, blank=True, db_index=True)
    oclc_number = models.CharField(_("OCLC number"), max_length=30, blank=True, db_index=True)
    doi = models.CharField(_("DOI"), max_length=200, blank=True)
    publisher = models.CharField(_("publisher"), max_length=300, blank=True)
    year = models.CharField(_("year"), max_length=10, blank=True)
    edition = models.CharField(_("edition"), max_length=100, blank=True)
    format = models.CharField(_("format"), max_length=20, choices=Format.choices,
                              default=Format.BOOK)
    hidden = models.BooleanField(
        _("hidden (temporary record)"), default=False,
        help_text=_("Temporary records of borrowed items: never shown in patron searches."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("bibliographic record")
        verbose_name_plural = _("bibliographic records")
        ordering = ["title"]

    def __str__(self):
        return self.title


class Holding(InstitutionScoped):
    bib = models.ForeignKey(BibRecord, on_delete=models.CASCADE, related_name="holdings",
                            verbose_name=_("bibliographic record"))
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="holdings",
                                 verbose_name=_("location"))
    call_number = models.CharField(_("call number"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("holding")
        verbose_name_plural = _("holdings")

    def __str__(self):
        return f"{self.bib} @ {self.location}"


class Item(InstitutionScoped):
    class Status(models.TextChoices):
        IN_PLACE = "in_place", _("In place")
        LOANED = "loaned", _("Loaned")
        IN_TRANSIT = "in_transit", _("In transit")
        ON_HOLD_SHELF = "on_hold_shelf", _("On hold shelf")
        RESOURCE_SHARING = "resource_sharing", _("Resource sharing process")
        ILL_AWAITING = "ill_awaiting", _("Awaited from partner")
        WITH_PARTNER = "with_partner", _("Returned to partner")
        MISSING = "missing", _("Missing")
        LOST = "lost", _("Lost")
        DAMAGED = "damaged", _("Damaged")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    holding = models.ForeignKey(Holding, on_delete=models.CASCADE, related_name="items",
                                verbose_name=_("holding"))
    bib = models.ForeignKey(BibRecord, on_delete=models.CASCADE, related_name="items",
                            verbose_name=_("bibliographic record"))
    permanent_location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("permanent location"))
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="items",
        verbose_name=_("current location"),
        help_text=_("Differs from the permanent location while the item is temporarily "
                    "elsewhere, e.g. in the outgoing location while lent to a partner."))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices,
                              default=Status.IN_PLACE, db_index=True)
    call_number = models.CharField(_("call number"), max_length=100, blank=True)
    item_policy = models.CharField(
        _("item policy"), max_length=50, blank=True,
        help_text=_("Code that loan rules can test, e.g. ILL, REFERENCE, 14DAYS."))
    description = models.CharField(_("description"), max_length=200, blank=True,
                                   help_text=_("Volume, part or copy."))
    is_temporary = models.BooleanField(
        _("temporary ILL item"), default=False,
        help_text=_("Created for a borrowing request; removed when the request ends."))
    patron_keeps = models.BooleanField(
        _("the patron keeps it"), default=False,
        help_text=_("A paper copy: handing it over at the desk closes the hold; nothing comes "
                    "back."))
    not_for_loan_reason = models.CharField(
        _("not for home loan"), max_length=300, blank=True,
        help_text=_("Filled: the desk refuses a home loan and says this (e.g. the lending "
                    "library's condition: library use only)."))
    status_changed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("item")
        verbose_name_plural = _("items")
        permissions = [
            ("override_block", _("Can loan to a blocked, expired or at-limit patron")),
        ]

    def __str__(self):
        barcode = self.primary_barcode
        return f"{self.bib.title} [{barcode}]" if barcode else self.bib.title

    @property
    def primary_barcode(self) -> str:
        # Uses the prefetched barcodes when present, so lists do not query per row.
        barcodes = list(self.barcodes.all())
        for kind in (ItemBarcode.Kind.OWN, ItemBarcode.Kind.PARTNER, ItemBarcode.Kind.RFID):
            for barcode in barcodes:
                if barcode.kind == kind:
                    return barcode.barcode
        return ""

    def clean(self):
        super().clean()
        if self.holding_id and self.bib_id and self.holding.bib_id != self.bib_id:
            raise ValidationError({"holding": _("The holding is for another record.")})


def normalize_barcode(value: str) -> str:
    """Scanners add whitespace and some send lower-case hex for RFID tags."""
    return "".join(value.split()).upper()


class ItemBarcode(InstitutionScoped):
    """One of an item's barcodes. An item may carry several (its own, the lending
    partner's, an RFID tag id); any of them finds the item."""

    class Kind(models.TextChoices):
        OWN = "own", _("Own barcode")
        PARTNER = "partner", _("Partner's barcode")
        RFID = "rfid", _("RFID tag id")

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="barcodes",
                             verbose_name=_("item"))
    barcode = models.CharField(_("barcode"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.OWN)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("barcode")
        verbose_name_plural = _("barcodes")
        constraints = [
            models.UniqueConstraint(
                fields=["institution", "barcode"], name="uniq_barcode_per_institution"
            )
        ]

    def __str__(self):
        return self.barcode

    def save(self, *args, **kwargs):
        self.barcode = normalize_barcode(self.barcode)
        if not self.institution_id and self.item_id:
            self.institution_id = self.item.institution_id
        super().save(*args, **kwargs)

    def clean(self):
        super().clean()
        self.barcode = normalize_barcode(self.barcode)
        if not self.barcode:
            raise ValidationError({"barcode": _("A barcode cannot be empty.")})
        institution_id = self.institution_id or (self.item.institution_id if self.item_id
                                                 else None)
        clash = ItemBarcode.objects.filter(
            institution_id=institution_id, barcode=self.barcode
        ).exclude(pk=self.pk).select_related("item__bib").first()
        if clash:
            raise ValidationError({"barcode": _(
                "Barcode %(barcode)s is already on another item: %(item)s."
            ) % {"barcode": self.barcode, "item": clash.item.bib.title}})










