"""Automation of borrowing: rota templates, the rules that choose them, and each
institution's automation settings (auto-send, timers).

A rule matches a request by its facts (type, format, patron group, pickup desk, identifiers);
the first active rule that matches, in order, chooses the template whose partners become the
request's rota. Partners of equal rank in a template share the work (load balancing).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from kauko.models import InstitutionScoped


class RotaTemplate(InstitutionScoped):
    """A named, ordered list of partners to ask in turn."""

    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("rota template")
        verbose_name_plural = _("rota templates")
        ordering = ["institution", "name"]
        constraints = [models.UniqueConstraint(fields=["institution", "name"],
                                               name="uniq_rota_template_name")]

    def __str__(self):
        return self.name


class RotaTemplateEntry(models.Model):
    """One partner in a template. Lower rank is asked first; partners of the same rank are
    ordered by how few requests each was sent this month (load balancing)."""

    template = models.ForeignKey(RotaTemplate, on_delete=models.CASCADE, related_name="entries")
    rank = models.PositiveSmallIntegerField(_("rank"), default=1)
    partner = models.ForeignKey("partners.Partner", on_delete=models.CASCADE, related_name="+",
                                verbose_name=_("partner"))

    class Meta:
        verbose_name = _("partner in the template")
        verbose_name_plural = _("partners in the template")
        ordering = ["template", "rank", "pk"]
        constraints = [models.UniqueConstraint(fields=["template", "partner"],
                                               name="uniq_rota_template_partner")]

    def __str__(self):
        return f"{self.rank}. {self.partner}"


class AssignmentRule(InstitutionScoped):
    """Which template a new borrowing request gets. Empty conditions match anything."""

    class Format(models.TextChoices):
        BOOK = "book", _("Book (has an ISBN)")
        SERIAL = "serial", _("Journal or serial (has an ISSN)")
        OTHER = "other", _("Other (neither ISBN nor ISSN)")

    class Scope(models.TextChoices):
        ANY = "", _("Any partner")
        DOMESTIC = "domestic", _("Domestic partners only")
        INTERNATIONAL = "international", _("International partners only")

    class Identifier(models.TextChoices):
        ISBN = "isbn", _("ISBN")
        ISSN = "issn", _("ISSN")
        OCLC = "oclc_number", _("OCLC number")
        DOI = "doi", _("DOI")
        PMID = "pmid", _("PMID")
        NONE = "none", _("No identifier at all")

    name = models.CharField(_("name"), max_length=200)
    position = models.PositiveSmallIntegerField(_("order"), default=1,
                                                help_text=_("Rules are tried in this order; "
                                                            "the first that matches wins."))
    active = models.BooleanField(_("active"), default=True)
    template = models.ForeignKey(RotaTemplate, on_delete=models.PROTECT, related_name="rules",
                                 verbose_name=_("rota template"))
    request_type = models.CharField(_("request type"), max_length=10, blank=True,
                                    choices=[("loan", _("Physical loan")),
                                             ("article", _("Article copy")),
                                             ("chapter", _("Chapter copy"))])
    format = models.CharField(_("format"), max_length=10, blank=True, choices=Format.choices)
    patron_group = models.ForeignKey("patrons.PatronGroup", on_delete=models.CASCADE,
                                     null=True, blank=True, related_name="+",
                                     verbose_name=_("patron group"))
    pickup_desk = models.ForeignKey("fulfillment.CirculationDesk", on_delete=models.CASCADE,
                                    null=True, blank=True, related_name="+",
                                    verbose_name=_("pickup desk"))
    office_delivery = models.BooleanField(_("office delivery only"), default=False)
    partner_scope = models.CharField(
        _("international or not"), max_length=15, blank=True, choices=Scope.choices,
        help_text=_("Keep only domestic or only international partners of the template."))
    identifier = models.CharField(_("identifier present"), max_length=12, blank=True,
                                  choices=Identifier.choices)
    auto_send = models.BooleanField(
        _("send automatically"), default=False,
        help_text=_("A request this rule routes is sent to the first partner holding it "
                    "without a click (also when the institution's setting is off)."))

    class Meta:
        verbose_name = _("rota assignment rule")
        verbose_name_plural = _("rota assignment rules")
        ordering = ["institution", "position", "pk"]

    def __str__(self):
        return self.name


class AutomationSettings(InstitutionScoped):
    """One institution's automation switches and timers (each periodic job reads its own)."""

    auto_send = models.BooleanField(
        _("send new requests automatically"), default=False,
        help_text=_("Requests that passed their checks and have a rota are sent to the first "
                    "partner without a click; after an Unfilled, on to the next."))
    chase_silent_partners = models.BooleanField(
        _("chase silent partners"), default=True,
        help_text=_("Past the partner's average supply time: ISO 18626 partners get a "
                    "status request, then the request is flagged; e-mail partners get a "
                    "reminder letter."))
    condition_warn_days = models.PositiveSmallIntegerField(
        _("warn of a condition's reply-by date (days before)"), null=True, blank=True,
        default=2, help_text=_("Empty: no warning."))
    lending_unanswered_days = models.PositiveSmallIntegerField(
        _("flag lending requests unanswered for (days)"), null=True, blank=True, default=3,
        help_text=_("Empty: no flag."))

    class Meta:
        verbose_name = _("automation settings")
        verbose_name_plural = _("automation settings")
        constraints = [models.UniqueConstraint(fields=["institution"],
                                               name="uniq_automation_settings")]

    def __str__(self):
        return str(_("Automation settings"))

    @classmethod
    def for_institution(cls, institution) -> AutomationSettings:
        found = cls.objects.filter(institution=institution).first()
        return found or cls(institution=institution)
