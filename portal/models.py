"""What the patron portal and the intake API keep: patrons' PINs and one-time sign-in links,
each institution's portal settings, API clients and the answers kept for Idempotency-Keys.

Patrons are not staff users: they sign in with their card and a PIN (or a link), and the
portal keeps them under its own session key, so nothing of the staff site knows them.
"""

from __future__ import annotations

from django.contrib.auth.hashers import check_password, make_password
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kauko.models import InstitutionScoped

MAX_PIN_FAILURES = 5


class PortalSettings(models.Model):
    """Per institution: what the intake checks do and what patrons declare."""

    class OwnHoldings(models.TextChoices):
        REFUSE = "refuse", _("Refuse, and offer a hold on our copy")
        WARN = "warn", _("Allow, with a warning")

    class Answer(models.TextChoices):
        REFUSE = "refuse", _("Refuse")
        WARN = "warn", _("Allow, with a warning")

    institution = models.OneToOneField("kauko.Institution", on_delete=models.CASCADE,
                                       related_name="portal_settings",
                                       verbose_name=_("institution"))
    own_holdings = models.CharField(
        _("when our own collection has an available copy"), max_length=10,
        choices=OwnHoldings.choices, default=OwnHoldings.REFUSE)
    duplicate = models.CharField(
        _("when the patron already has an open request for the same work"), max_length=10,
        choices=Answer.choices, default=Answer.REFUSE)
    patron_problems = models.CharField(
        _("when the patron is blocked, expired or at the loan limit"), max_length=10,
        choices=Answer.choices, default=Answer.REFUSE)
    copyright_declaration = models.TextField(
        _("copyright declaration for copies"), blank=True,
        help_text=_("Patrons must accept this text before asking for an article or chapter "
                    "copy. Empty: no declaration."))

    class Meta:
        verbose_name = _("portal settings")
        verbose_name_plural = _("portal settings")

    def __str__(self):
        return str(self.institution)

    def refusing_checks(self) -> tuple[str, ...]:
        """The intake check codes (ill.borrowing.checks) that stop a request here."""
        answers = {"own_holdings": self.own_holdings, "duplicate": self.duplicate,
                   "patron": self.patron_problems}
        return tuple(code for code, answer in answers.items() if answer == "refuse")

    @classmethod
    def for_institution(cls, institution) -> PortalSettings:
        """The institution's settings (the defaults while nobody has saved any)."""
        found = cls.objects.filter(institution=institution).first()
        return found or cls(institution=institution)


class PatronPin(InstitutionScoped):
    """A patron's PIN for the portal, stored hashed like a password."""

    patron = models.OneToOneField("patrons.Patron", on_delete=models.CASCADE,
                                  related_name="portal_pin", verbose_name=_("patron"))
    pin_hash = models.CharField(max_length=128, editable=False)
    changed_at = models.DateTimeField(_("PIN set"), default=timezone.now)
    failures = models.PositiveSmallIntegerField(_("failed sign-ins in a row"), default=0)
    last_sign_in = models.DateTimeField(_("last sign-in"), null=True, blank=True)

    class Meta:
        verbose_name = _("patron PIN")
        verbose_name_plural = _("patron PINs")

    def __str__(self):
        return str(self.patron)

    def set_pin(self, pin: str) -> None:
        self.pin_hash = make_password(pin)
        self.changed_at = timezone.now()
        self.failures = 0

    def check_pin(self, pin: str) -> bool:
        return bool(self.pin_hash) and check_password(pin, self.pin_hash)

    @property
    def locked(self) -> bool:
        return self.failures >= MAX_PIN_FAILURES


class SignInLink(InstitutionScoped):
    """A one-time sign-in link sent to the patron's e-mail; only its hash is kept."""

    patron = models.ForeignKey("patrons.Patron", on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("sign-in link")
        verbose_name_plural = _("sign-in links")


class ApiClient(InstitutionScoped):
    """An outside system (a library's own request form, a discovery layer) that creates and
    reads borrowing requests through the intake API with `Authorization: Bearer <token>`.
    The token is shown once, when the client is added; only its hash is kept."""

    class Scope(models.TextChoices):
        WRITE = "requests:write", _("Create borrowing requests")
        READ = "requests:read", _("Read borrowing requests")

    name = models.CharField(_("name"), max_length=200)
    scopes = models.CharField(
        _("scopes"), max_length=200, default="requests:write requests:read",
        help_text=_("Space-separated: requests:write (create), requests:read (read)."))
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    token_prefix = models.CharField(_("token starts with"), max_length=12, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)

    class Meta:
        verbose_name = _("API client")
        verbose_name_plural = _("API clients")
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def scope_set(self) -> set[str]:
        return set(self.scopes.split())

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class IdempotencyRecord(models.Model):
    """The first answer to a POST with an Idempotency-Key, given again to a retry."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    body_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "key"],
                                               name="uniq_idempotency_key")]

    def __str__(self):
        return self.key
