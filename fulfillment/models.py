"""Institutions, libraries, locations, desks, loan rules and the catalogue.

Every record staff see carries its institution directly (not only through a parent) so that
one filter, `institution=request.user.institution`, scopes every list, detail page, admin
and API view the same way.
"""

from __future__ import annotations

import zoneinfo

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, transition

CODE_VALIDATOR = RegexValidator(
    r"^[A-Za-z0-9_.:-]+$", _("Use letters, digits and . _ : - only, no spaces.")
)

LANGUAGE_CHOICES = [("en", _("English")), ("fi", _("Finnish")), ("sv", _("Swedish"))]


def _validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


def parse_codes(value: str) -> list[str]:
    """Comma- or space-separated codes as an upper-case list ("staff, student" → two)."""
    return [code.strip().upper() for code in value.replace(",", " ").split() if code.strip()]


class InstitutionScopedQuerySet(models.QuerySet):
    def for_institution(self, institution):
        return self.filter(institution=institution)


class InstitutionScoped(models.Model):
    """Base for every record that belongs to one institution."""

    institution = models.ForeignKey(
        "fulfillment.Institution", on_delete=models.CASCADE, related_name="+",
        verbose_name=_("institution"),
    )

    objects = InstitutionScopedQuerySet.as_manager()

    class Meta:
        abstract = True

    def clean(self):
        super().clean()
        # A child must never point at another institution's parent: check every FK whose
        # target is itself institution-scoped.
        for field in self._meta.concrete_fields:
            if not isinstance(field, models.ForeignKey) or field.name == "institution":
                continue
            target = getattr(self, field.name, None)
            target_institution_id = getattr(target, "institution_id", None)
            if (
                target is not None
                and target_institution_id is not None
                and self.institution_id is not None
                and target_institution_id != self.institution_id
            ):
                raise ValidationError(
                    {field.name: _("This belongs to another institution.")}
                )


class Institution(models.Model):
    class AgencyIdType(models.TextChoices):
        ISIL = "ISIL", "ISIL"
        OCLC = "OCLC", "OCLC"
        DNUC = "DNUC", "DNUC"
        ICOLC = "ICOLC", "ICOLC"
        OTHER = "OTHER", _("Other (free text)")

    name = models.CharField(_("name"), max_length=200)
    code = models.CharField(
        _("code"), max_length=50, unique=True, validators=[CODE_VALIDATOR],
        help_text=_("Short code used in request numbers, e.g. AALTO."),
    )
    agency_id_type = models.CharField(
        _("agency id type"), max_length=20, default="ISIL",
        help_text=_("Scheme of the agency id partners use for this institution (ISO 18626 "
                    "agencyIdType), usually ISIL."),
    )
    agency_id_value = models.CharField(
        _("agency id"), max_length=100,
        help_text=_("This institution's agency id in that scheme, e.g. FI-AALTO."),
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, default="Europe/Helsinki", validators=[_validate_time_zone]
    )
    languages = models.CharField(
        _("languages"), max_length=50, default="fi,sv,en",
        help_text=_("Languages of letters and the patron's pages, comma separated, the first "
                    "being the default (en, fi, sv)."),
    )
    email = models.EmailField(_("resource sharing e-mail"), blank=True,
                              help_text=_("Sender and reply address of letters."))

    class Meta:
        verbose_name = _("institution")
        verbose_name_plural = _("institutions")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency_id_type", "agency_id_value"], name="uniq_institution_agency_id"
            )
        ]

    def __str__(self):
        return self.name

    @property
    def language_list(self) -> list[str]:
        return [lang.strip() for lang in self.languages.split(",") if lang.strip()]

    @property
    def default_language(self) -> str:
        langs = self.language_list
        return langs[0] if langs else "en"

    def clean(self):
        allowed = {code for code, _label in LANGUAGE_CHOICES}
        unknown = [lang for lang in self.language_list if lang not in allowed]
        if unknown:
            raise ValidationError({"languages": _("Unknown language: %(langs)s") % {
                "langs": ", ".join(unknown)}})


class StaffUser(AbstractUser):
    """A staff member. Staff belong to exactly one institution and see only its data;
    superusers without an institution run the deployment itself."""

    institution = models.ForeignKey(
        Institution, on_delete=models.PROTECT, null=True, blank=True, related_name="staff",
        verbose_name=_("institution"),
        help_text=_("The institution whose data this person sees and changes."),
    )

    class Meta(AbstractUser.Meta):
        verbose_name = _("staff user")
        verbose_name_plural = _("staff users")
        swappable = "AUTH_USER_MODEL"


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
        _("may ship to other libraries"), default=True)
    may_ship_to_office = models.BooleanField(
        _("may deliver to office addresses"), default=True,
        help_text=_("Staff patrons may ask for delivery by internal mail."))
    other_desks_may_loan = models.BooleanField(
        _("other desks may loan and renew its items"), default=True)
    has_own_hold_shelf = models.BooleanField(
        _("has its own hold shelf"), default=False,
        help_text=_("Off: received items always go in transit to a desk's hold shelf."))

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


# --- Circulation: holds, transit, loans ---------------------------------------------------
#
# Patrons live in the `patrons` app, which builds on this one; these rows point at them by
# the string reference "patrons.Patron" and this app never imports `patrons`.


class Hold(ConcurrentTransitionMixin, InstitutionScoped):
    """A patron's request for an item, up to the moment it is loaned (or given up)."""

    class State(models.TextChoices):
        WAITING = "waiting", _("Waiting for item")
        IN_TRANSIT = "in_transit", _("In transit")
        ON_HOLD_SHELF = "on_hold_shelf", _("On hold shelf")
        LOANED = "loaned", _("Loaned")
        EXPIRED = "expired", _("Expired")
        CANCELLED = "cancelled", _("Cancelled")

    ACTIVE_STATES = (State.WAITING, State.IN_TRANSIT, State.ON_HOLD_SHELF)

    patron = models.ForeignKey("patrons.Patron", on_delete=models.PROTECT, related_name="holds",
                               verbose_name=_("patron"))
    bib = models.ForeignKey(BibRecord, on_delete=models.CASCADE, related_name="holds",
                            verbose_name=_("bibliographic record"))
    item = models.ForeignKey(Item, on_delete=models.CASCADE, null=True, blank=True,
                             related_name="holds", verbose_name=_("item"))
    pickup_desk = models.ForeignKey(
        CirculationDesk, on_delete=models.PROTECT, null=True, blank=True, related_name="holds",
        verbose_name=_("pickup desk"))
    office_delivery = models.BooleanField(
        _("office delivery"), default=False,
        help_text=_("Delivered by internal mail instead of waiting on a hold shelf."))
    delivery_address = models.TextField(_("delivery address"), blank=True)
    state = FSMField(_("state"), max_length=20, choices=State.choices, default=State.WAITING,
                     protected=True, db_index=True)
    is_ill = models.BooleanField(_("for an ILL item"), default=False)
    desk_pickup_only = models.BooleanField(
        _("desk pickup only"), default=False,
        help_text=_("No self-service loan (e.g. items from international partners)."))
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    shelved_at = models.DateTimeField(_("on hold shelf since"), null=True, blank=True)
    shelf_desk = models.ForeignKey(
        CirculationDesk, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("on the hold shelf of"),
        help_text=_("The desk whose hold shelf has the item (usually the pickup desk; for "
                    "office delivery stopped by a block, the desk that kept it)."))
    pickup_deadline = models.DateField(_("pickup by"), null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("holds")
        ordering = ["created_at"]
        indexes = [models.Index(fields=["institution", "state", "pickup_desk"])]

    def __str__(self):
        return f"{self.bib} → {self.patron}"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE_STATES

    @transition(field=state, source=State.WAITING, target=State.IN_TRANSIT)
    def send_in_transit(self):
        pass

    @transition(field=state, source=[State.WAITING, State.IN_TRANSIT], target=State.ON_HOLD_SHELF)
    def put_on_shelf(self):
        pass

    @transition(field=state, source=[State.ON_HOLD_SHELF, State.IN_TRANSIT, State.WAITING],
                target=State.LOANED)
    def mark_loaned(self):
        pass

    @transition(field=state, source=State.ON_HOLD_SHELF, target=State.EXPIRED)
    def expire(self):
        pass

    @transition(field=state, source=[State.WAITING, State.IN_TRANSIT, State.ON_HOLD_SHELF],
                target=State.CANCELLED)
    def cancel(self):
        pass

    @transition(field=state, source=[State.IN_TRANSIT, State.ON_HOLD_SHELF, State.LOANED],
                target=State.WAITING)
    def reopen(self):
        """Undo of a scan: the item is back where it was before."""


class Transit(InstitutionScoped):
    """An item on its way between libraries or desks. Open while `ended_at` is empty."""

    class Reason(models.TextChoices):
        HOLD = "hold", _("For a patron's hold")
        RETURN_HOME = "return_home", _("Back to its home location")
        RETURN_TO_RS = "return_to_rs", _("Back to the resource sharing office")
        OFFICE_DELIVERY = "office_delivery", _("Office delivery by internal mail")

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="transits",
                             verbose_name=_("item"))
    from_library = models.ForeignKey(Library, on_delete=models.PROTECT, related_name="+",
                                     verbose_name=_("from"))
    to_library = models.ForeignKey(Library, on_delete=models.PROTECT, null=True, blank=True,
                                   related_name="+", verbose_name=_("to library"))
    to_desk = models.ForeignKey(CirculationDesk, on_delete=models.PROTECT, null=True,
                                blank=True, related_name="+", verbose_name=_("to desk"))
    to_address = models.TextField(_("to address"), blank=True)
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    hold = models.ForeignKey(Hold, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="transits")
    started_at = models.DateTimeField(_("since"), auto_now_add=True)
    ended_at = models.DateTimeField(_("arrived"), null=True, blank=True)

    class Meta:
        verbose_name = _("transit")
        verbose_name_plural = _("transits")
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(fields=["item"], condition=models.Q(ended_at__isnull=True),
                                    name="one_open_transit_per_item"),
        ]

    def __str__(self):
        return f"{self.item} → {self.to_desk or self.to_library or self.to_address}"


class Loan(InstitutionScoped):
    patron = models.ForeignKey("patrons.Patron", on_delete=models.PROTECT, related_name="loans",
                               verbose_name=_("patron"))
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="loans",
                             verbose_name=_("item"))
    desk = models.ForeignKey(CirculationDesk, on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+", verbose_name=_("loaned at"))
    terms_of_use = models.ForeignKey(TermsOfUse, on_delete=models.PROTECT, null=True,
                                     blank=True, related_name="+",
                                     verbose_name=_("terms of use"))
    loaned_at = models.DateTimeField(_("loan date"), auto_now_add=True)
    due_at = models.DateTimeField(_("due"), db_index=True)
    renewals = models.PositiveSmallIntegerField(_("renewals"), default=0)
    is_ill = models.BooleanField(_("ILL loan"), default=False)
    self_service = models.BooleanField(_("self-service"), default=False)
    returned_at = models.DateTimeField(_("returned"), null=True, blank=True)
    returned_desk = models.ForeignKey(CirculationDesk, on_delete=models.PROTECT, null=True,
                                      blank=True, related_name="+",
                                      verbose_name=_("returned at"))
    last_reminder_at = models.DateTimeField(null=True, blank=True)
    last_overdue_notice_at = models.DateTimeField(null=True, blank=True)
    overridden_by = models.ForeignKey(
        "fulfillment.StaffUser", on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("block overridden by"))
    override_reason = models.CharField(
        _("what was overridden"), max_length=300, blank=True,
        help_text=_("The blocks or limits staff overrode to make this loan."))
    renewal_requested_at = models.DateTimeField(
        _("renewal asked"), null=True, blank=True,
        help_text=_("Last time a renewal of this ILL loan was sent to the partner."))

    class Meta:
        verbose_name = _("loan")
        verbose_name_plural = _("loans")
        ordering = ["-loaned_at"]
        constraints = [
            models.UniqueConstraint(fields=["item"], condition=models.Q(returned_at__isnull=True),
                                    name="one_open_loan_per_item"),
        ]
        indexes = [
            models.Index(fields=["institution", "patron"], condition=models.Q(
                returned_at__isnull=True), name="open_loans_by_patron"),
        ]

    def __str__(self):
        return f"{self.item} → {self.patron}"

    @property
    def is_open(self) -> bool:
        return self.returned_at is None


class DeskScan(InstitutionScoped):
    """One scan at a circulation desk: what was scanned, what the desk decided and said, and
    what undoing it would restore. Kept so the recent-scans list and undo survive reloads."""

    class Level(models.TextChoices):
        OK = "ok", _("OK")
        ACTION = "action", _("Action needed")
        STOP = "stop", _("Stop")

    desk = models.ForeignKey(CirculationDesk, on_delete=models.CASCADE, related_name="scans",
                             verbose_name=_("desk"))
    user = models.ForeignKey("fulfillment.StaffUser", on_delete=models.SET_NULL, null=True,
                             blank=True, related_name="+", verbose_name=_("staff member"))
    barcode = models.CharField(_("scanned"), max_length=200)
    item = models.ForeignKey(Item, on_delete=models.SET_NULL, null=True, blank=True,
                             related_name="+", verbose_name=_("item"))
    outcome = models.CharField(_("outcome"), max_length=30)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    message = models.CharField(_("message"), max_length=500)
    details = models.JSONField(_("details"), default=list, blank=True)
    slip_html = models.TextField(_("slip"), blank=True)
    undo = models.JSONField(default=dict, blank=True,
                            help_text=_("What undoing this scan restores."))
    undone_at = models.DateTimeField(_("undone"), null=True, blank=True)
    created_at = models.DateTimeField(_("scanned at"), auto_now_add=True)

    class Meta:
        verbose_name = _("desk scan")
        verbose_name_plural = _("desk scans")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["desk", "-created_at"], name="desk_scan_recent")]

    def __str__(self):
        return f"{self.barcode}: {self.message}"

    @property
    def is_undoable(self) -> bool:
        return bool(self.undo) and self.undone_at is None
