"""Patrons, their groups and blocks."""

from __future__ import annotations

import datetime

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fulfillment.models import CirculationDesk, Library
from kauko.models import CODE_VALIDATOR, LANGUAGE_CHOICES, InstitutionScoped


class PatronGroup(InstitutionScoped):
    code = models.CharField(
        _("code"), max_length=50, validators=[CODE_VALIDATOR],
        help_text=_("Upper-case code that loan rules refer to, e.g. STAFF."))
    name = models.CharField(_("name"), max_length=200)
    loan_limit = models.PositiveSmallIntegerField(
        _("loan limit"), null=True, blank=True,
        help_text=_("Most items a patron of this group may have on loan at once. Empty: no "
                    "limit."))
    may_use_office_delivery = models.BooleanField(
        _("may ask for office delivery"), default=False,
        help_text=_("Staff may have items delivered to their office by internal mail."))

    class Meta:
        verbose_name = _("patron group")
        verbose_name_plural = _("patron groups")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "code"], name="uniq_patron_group")
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        self.code = self.code.upper()
        super().save(*args, **kwargs)


class Patron(InstitutionScoped):
    group = models.ForeignKey(PatronGroup, on_delete=models.PROTECT, related_name="patrons",
                              verbose_name=_("patron group"))
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)
    barcode = models.CharField(_("library card barcode"), max_length=100)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    preferred_language = models.CharField(_("preferred language"), max_length=5,
                                          choices=LANGUAGE_CHOICES, default="fi")
    home_library = models.ForeignKey(Library, on_delete=models.PROTECT, null=True, blank=True,
                                     related_name="+", verbose_name=_("home library"))
    pickup_desk = models.ForeignKey(
        CirculationDesk, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("preferred pickup desk"))
    office_address = models.TextField(
        _("office delivery address"), blank=True,
        help_text=_("Internal mail address for office delivery (staff)."))
    expiry_date = models.DateField(_("expiry date"), null=True, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("patron")
        verbose_name_plural = _("patrons")
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "barcode"], name="uniq_patron_barcode")
        ]

    def __str__(self):
        return f"{self.last_name}, {self.first_name}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def is_expired(self, on: datetime.date | None = None) -> bool:
        on = on or timezone.localdate()
        return self.expiry_date is not None and self.expiry_date < on

    def active_blocks(self, on: datetime.date | None = None):
        on = on or timezone.localdate()
        return [b for b in self.blocks.all() if b.is_active(on)]


class PatronIdentifier(InstitutionScoped):
    """Other identifiers a patron is known by (university id, national id, e-mail login)."""

    patron = models.ForeignKey(Patron, on_delete=models.CASCADE, related_name="identifiers")
    kind = models.CharField(_("kind"), max_length=50, help_text=_("e.g. university id"))
    value = models.CharField(_("value"), max_length=200)

    class Meta:
        verbose_name = _("patron identifier")
        verbose_name_plural = _("patron identifiers")
        constraints = [
            models.UniqueConstraint(fields=["institution", "kind", "value"],
                                    name="uniq_patron_identifier")
        ]

    def __str__(self):
        return f"{self.kind}: {self.value}"


class Block(InstitutionScoped):
    class Reason(models.TextChoices):
        FINES = "fines", _("Unpaid fees")
        OVERDUE = "overdue", _("Overdue items")
        LOST = "lost", _("Lost item")
        MANUAL = "manual", _("Set by staff")
        OTHER = "other", _("Other")

    patron = models.ForeignKey(Patron, on_delete=models.CASCADE, related_name="blocks",
                               verbose_name=_("patron"))
    reason = models.CharField(_("reason"), max_length=20, choices=Reason.choices)
    note = models.CharField(_("note"), max_length=300, blank=True,
                            help_text=_("Shown to desk staff when the block stops a loan."))
    amount_owed = models.DecimalField(_("amount owed"), max_digits=8, decimal_places=2,
                                      null=True, blank=True)
    until = models.DateField(_("until"), null=True, blank=True,
                             help_text=_("Empty: until staff remove it."))
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("block")
        verbose_name_plural = _("blocks")
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_reason_display()}: {self.patron}"

    def is_active(self, on: datetime.date | None = None) -> bool:
        on = on or timezone.localdate()
        return self.until is None or self.until >= on
