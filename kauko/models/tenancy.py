"""Tenancy: the institutions of a deployment, their staff, and the base of every record
that belongs to one institution.

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

CODE_VALIDATOR = RegexValidator(
    r"^[A-Za-z0-9_.:-]+$", _("Use letters, digits and . _ : - only, no spaces.")
)


LANGUAGE_CHOICES = [("en", _("English")), ("fi", _("Finnish")), ("sv", _("Swedish"))]


def _validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


class InstitutionScopedQuerySet(models.QuerySet):
    def for_institution(self, institution):
        return self.filter(institution=institution)


class InstitutionScoped(models.Model):
    """Base for every record that belongs to one institution."""

    institution = models.ForeignKey(
        "kauko.Institution", on_delete=models.CASCADE, related_name="+",
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
