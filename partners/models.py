"""Partners (the libraries we borrow from and lend to) and their workflow profiles."""

from __future__ import annotations

import hmac
import secrets

from django.conf import settings
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from kauko.models import CODE_VALIDATOR, LANGUAGE_CHOICES, InstitutionScoped
from partners.validators import internal_endpoint_error

KEYED_PREFIX = "hmac-sha256$"
_KEY_SALT = "kauko.partners.inbound-credentials"


def _keyed_hash(secret: str, key: str | None = None) -> str:
    return KEYED_PREFIX + salted_hmac(_KEY_SALT, secret, secret=key,
                                      algorithm="sha256").hexdigest()


def _same(a: str, b: str) -> bool:
    # Digests of equal length: the comparison tells nothing of either value's length.
    return hmac.compare_digest(_keyed_hash(a), _keyed_hash(b))


def _check(secret: str, stored: str) -> bool:
    if not stored or not secret:
        # As long as a real check: whether credentials are set shows in no timing.
        hmac.compare_digest(_keyed_hash(secret or ""), _keyed_hash(""))
        return False
    if not stored.startswith(KEYED_PREFIX):
        return check_password(secret, stored)  # legacy PBKDF2 hash
    ok = False
    for key in (settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])):
        ok |= hmac.compare_digest(_keyed_hash(secret, key), stored)
    return ok


class WorkflowProfile(InstitutionScoped):
    """Which optional steps a request with a partner may use (Alma's workflow profiles)."""

    class Side(models.TextChoices):
        BORROWING = "borrowing", _("Borrowing")
        LENDING = "lending", _("Lending")

    name = models.CharField(_("name"), max_length=200)
    side = models.CharField(_("side"), max_length=10, choices=Side.choices)
    # Steps both sides may use.
    use_will_supply = models.BooleanField(
        _("will supply"), default=True,
        help_text=_("The lender says it will supply before it ships."))
    use_conditional = models.BooleanField(
        _("conditional"), default=True,
        help_text=_("The lender may set conditions (library use only, a cost…) that the "
                    "borrower accepts or rejects."))
    use_renew = models.BooleanField(_("renewals"), default=True)
    use_reject = models.BooleanField(
        _("reject / unfilled"), default=True, help_text=_("The lender may say no."))
    use_lost_damaged = models.BooleanField(_("lost / damaged communicated"), default=True)
    use_overdue = models.BooleanField(_("overdue"), default=True)
    use_recall = models.BooleanField(_("recall"), default=True)
    use_cancel_response = models.BooleanField(
        _("cancellation needs the lender's answer"), default=True,
        help_text=_("Borrowing: a cancel waits for the partner's yes or no once the request "
                    "was sent. Lending: we answer cancellations."))
    expire_after_days = models.PositiveSmallIntegerField(
        _("expire unanswered after (days)"), null=True, blank=True,
        help_text=_("Requests not answered within this many days expire. Empty: never."))
    # Lending side.
    auto_renew = models.BooleanField(
        _("automatic renewal"), default=False,
        help_text=_("Lending: answer renewals yes with the terms-of-use due date unless the "
                    "item has other holds."))
    send_checked_in = models.BooleanField(
        _("send checked-in message"), default=True,
        help_text=_("Lending: tell the borrower when the item is back (LoanCompleted)."))
    overdue_notice_resend_days = models.PositiveSmallIntegerField(
        _("resend overdue notice every (days)"), null=True, blank=True,
        help_text=_("Lending: remind the borrower of an overdue item at this interval."))
    # Borrowing side.
    send_received = models.BooleanField(
        _("send received message"), default=True,
        help_text=_("Borrowing: tell the lender when the item has arrived."))

    class Meta:
        verbose_name = _("workflow profile")
        verbose_name_plural = _("workflow profiles")
        ordering = ["side", "name"]

    def __str__(self):
        return f"{self.name} ({self.get_side_display()})"


class Partner(InstitutionScoped):
    class Agreement(models.TextChoices):
        FREE = "free", _("Free")
        RECIPROCAL = "reciprocal", _("Reciprocal (no charge either way)")
        PER_ITEM = "per_item", _("Price per item")
        PER_PAGE = "per_page", _("Price per page")

    class ProfileType(models.TextChoices):
        EMAIL = "email", _("E-mail")
        ISO18626 = "iso18626", _("ISO 18626")

    class IsoVersion(models.TextChoices):
        V1_2 = "1.2", _("1.2 (2017: CrossLink, ReShare, OCLC, Alma)")
        V2021 = "2021", _("2021 (Koha)")

    code = models.CharField(_("code"), max_length=50, validators=[CODE_VALIDATOR])
    name = models.CharField(_("name"), max_length=200)
    active = models.BooleanField(_("active"), default=True)
    profile_type = models.CharField(_("profile type"), max_length=10,
                                    choices=ProfileType.choices, default=ProfileType.EMAIL)
    agency_id_type = models.CharField(
        _("agency id type"), max_length=20, default="ISIL",
        help_text=_("ISO 18626 agencyIdType, e.g. ISIL, OCLC, RESHARE."))
    agency_id_value = models.CharField(
        _("agency id"), max_length=100, blank=True,
        help_text=_("The partner's agency id, e.g. FI-XYZ. Required for ISO 18626 partners: "
                    "incoming messages are matched to the partner by it."))
    iso_endpoint_url = models.URLField(
        _("ISO 18626 endpoint"), blank=True,
        help_text=_("Where our messages to this partner are posted."))
    iso_version = models.CharField(
        _("ISO 18626 schema version"), max_length=5, choices=IsoVersion.choices,
        default=IsoVersion.V1_2, help_text=_("Messages to the partner are built in this version."))
    email = models.EmailField(_("e-mail"), blank=True)
    language = models.CharField(_("letter language"), max_length=5, choices=LANGUAGE_CHOICES,
                                default="en")
    borrowing_profile = models.ForeignKey(
        WorkflowProfile, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        limit_choices_to={"side": WorkflowProfile.Side.BORROWING},
        verbose_name=_("borrowing workflow profile"),
        help_text=_("Steps our borrowing requests to this partner may use."))
    lending_profile = models.ForeignKey(
        WorkflowProfile, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        limit_choices_to={"side": WorkflowProfile.Side.LENDING},
        verbose_name=_("lending workflow profile"),
        help_text=_("Steps our lending requests from this partner may use."))
    average_supply_days = models.PositiveSmallIntegerField(_("average supply time (days)"),
                                                           default=7)
    mail_delay_days = models.PositiveSmallIntegerField(
        _("mail delay (days)"), default=0,
        help_text=_("Patron due date = partner's due date minus this many days."))
    is_international = models.BooleanField(
        _("international"), default=False,
        help_text=_("Items from international partners are loaned at the desk only."))
    address = models.TextField(_("shipping address"), blank=True,
                               help_text=_("Where we ship our items to this library (printed "
                                           "on shipping slips)."))
    return_address = models.TextField(
        _("returns address"), blank=True,
        help_text=_("Where we return this library's items (printed on return slips). Empty: "
                    "the shipping address."))
    billing_address = models.TextField(_("billing address"), blank=True,
                                       help_text=_("Where invoices for lending go."))
    inbound_account_id = models.CharField(
        _("inbound account id"), max_length=100, blank=True,
        help_text=_("requestingAgencyAuthentication accountId the partner must send."))
    inbound_security_code_hash = models.CharField(max_length=200, blank=True, editable=False)
    inbound_token_hash = models.CharField(max_length=200, blank=True, editable=False)
    # Credentials we present to the partner; it checks them, so they are kept as given.
    outbound_account_id = models.CharField(
        _("our account id at the partner"), max_length=100, blank=True)
    outbound_security_code = models.CharField(
        _("our security code at the partner"), max_length=200, blank=True)
    outbound_token = models.CharField(
        _("our HTTP token at the partner"), max_length=200, blank=True,
        help_text=_("Sent as an Authorization: Bearer header."))
    notes = models.TextField(_("notes"), blank=True)
    # Inter-library billing: what the partner's agreement says we charge for what we lend it
    # (and it charges us for what it lends us).
    agreement = models.CharField(
        _("billing agreement"), max_length=12, choices=Agreement.choices, blank=True,
        help_text=_("Free and reciprocal partners are not invoiced; empty: not agreed yet."))
    price = models.DecimalField(
        _("price"), max_digits=8, decimal_places=2, null=True, blank=True,
        help_text=_("Per item or per page, as the agreement says."))
    currency = models.CharField(_("currency"), max_length=3, default="EUR", blank=True,
                                help_text=_("ISO 4217 code, e.g. EUR, SEK, USD."))

    class Meta:
        verbose_name = _("partner")
        verbose_name_plural = _("partners")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["institution", "code"], name="uniq_partner_code"),
        ]
        indexes = [models.Index(fields=["agency_id_type", "agency_id_value"])]

    def __str__(self):
        return self.name

    @property
    def return_to_address(self) -> str:
        """Where its items go back to: the returns address, else the shipping address."""
        return self.return_address or self.address

    @property
    def is_iso(self) -> bool:
        return self.profile_type == self.ProfileType.ISO18626

    def clean(self):
        super().clean()
        errors = {}
        if self.is_iso:
            if not self.agency_id_value:
                errors["agency_id_value"] = _("ISO 18626 partners need an agency id.")
            if not self.iso_endpoint_url:
                errors["iso_endpoint_url"] = _("ISO 18626 partners need an endpoint URL.")
        elif not self.email:
            errors["email"] = _("E-mail partners need an e-mail address.")
        internal = internal_endpoint_error(self.iso_endpoint_url)
        if internal:
            errors["iso_endpoint_url"] = internal
        for name, side in (("borrowing_profile", WorkflowProfile.Side.BORROWING),
                           ("lending_profile", WorkflowProfile.Side.LENDING)):
            profile = getattr(self, name)
            if profile is not None and profile.side != side:
                errors[name] = _("Pick a %(side)s profile.") % {"side": side.label.lower()}
        self.agency_id_value = (self.agency_id_value or "").strip()
        if self.agency_id_value and self.institution_id:
            # Inbound messages find their sender ignoring case and spaces: a second partner
            # with the same id in another case would take the first one's messages.
            clash = Partner.objects.filter(
                institution_id=self.institution_id, agency_id_type__iexact=self.agency_id_type,
                agency_id_value__iexact=self.agency_id_value,
            ).exclude(pk=self.pk)
            if clash.exists():
                errors["agency_id_value"] = _("Another partner already has this agency id.")
        self.currency = (self.currency or "EUR").strip().upper()
        if self.agreement in (self.Agreement.PER_ITEM, self.Agreement.PER_PAGE) \
                and self.price is None:
            errors["price"] = _("Give the price the agreement charges.")
        if errors:
            raise ValidationError(errors)

    # Inbound credentials are stored as keyed hashes (HMAC-SHA256 under a key derived from
    # SECRET_KEY): we only ever compare them. Unlike a password hash this costs microseconds,
    # so a wrong token is refused cheaply; the secrets are long and random (see
    # new_inbound_credentials), so a slow hash would add nothing. Hashes made by an earlier
    # version (PBKDF2) are still accepted and replaced on their first success.
    @property
    def requires_authentication(self) -> bool:
        return bool(self.inbound_security_code_hash or self.inbound_token_hash)

    @property
    def lacks_inbound_credentials(self) -> bool:
        """An ISO 18626 partner whose messages we would take without credentials."""
        return self.is_iso and not self.requires_authentication

    def set_inbound_security_code(self, code: str) -> None:
        self.inbound_security_code_hash = _keyed_hash(code) if code else ""

    def set_inbound_token(self, token: str) -> None:
        self.inbound_token_hash = _keyed_hash(token) if token else ""

    def check_inbound_security_code(self, account_id: str, code: str) -> bool:
        """Constant time: a right account id with a wrong code takes as long as a wrong one."""
        account_ok = _same(account_id or "", self.inbound_account_id or "")
        return _check(code, self.inbound_security_code_hash) & account_ok

    def check_inbound_token(self, token: str) -> bool:
        return _check(token, self.inbound_token_hash)

    @property
    def has_legacy_credentials(self) -> bool:
        """Hashes from before keyed hashing: slow to check, replaced on their first use."""
        return any(h and not h.startswith(KEYED_PREFIX)
                   for h in (self.inbound_security_code_hash, self.inbound_token_hash))

    def new_inbound_credentials(self) -> dict[str, str]:
        """Give the partner fresh credentials; returns them in clear, the only time they
        are ever seen (they are stored hashed). The caller saves the partner."""
        if not self.inbound_account_id:
            self.inbound_account_id = (self.agency_id_value or self.code or "partner")[:100]
        code, token = self.generate_secret(), self.generate_secret()
        self.set_inbound_security_code(code)
        self.set_inbound_token(token)
        return {"account_id": self.inbound_account_id, "security_code": code, "token": token}

    @staticmethod
    def generate_secret() -> str:
        return secrets.token_urlsafe(24)


class TemporaryItemRule(InstitutionScoped):
    """Alma's temporary item creation rule: which location and item policy a borrowed item
    gets, by partner, international or domestic, and format. The first matching rule in
    order wins; none: the RS library's incoming location and no item policy. Fulfillment
    unit rules keyed on the item policy then pick the item's terms of use."""

    class Scope(models.TextChoices):
        ANY = "", _("Any partner")
        INTERNATIONAL = "international", _("International partners")
        DOMESTIC = "domestic", _("Domestic partners")

    position = models.PositiveSmallIntegerField(
        _("order"), default=0, help_text=_("Rules are tried from the lowest number up."))
    name = models.CharField(_("name"), max_length=200)
    partner = models.ForeignKey(
        Partner, on_delete=models.CASCADE, null=True, blank=True, related_name="+",
        verbose_name=_("partner"), help_text=_("Empty: any partner."))
    scope = models.CharField(_("international or domestic"), max_length=15,
                             choices=Scope.choices, default=Scope.ANY, blank=True)
    formats = models.CharField(
        _("formats"), max_length=200, blank=True,
        help_text=_("Record formats this rule is for, e.g. BOOK MEDIA. Empty: any format."))
    location = models.ForeignKey(
        "fulfillment.Location", on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("location"),
        help_text=_("Empty: the resource sharing library's incoming location."))
    item_policy = models.CharField(
        _("item policy"), max_length=50, blank=True,
        help_text=_("Given to the temporary item, e.g. ILL-INTL; fulfillment unit rules "
                    "keyed on it pick the terms of use."))

    class Meta:
        verbose_name = _("temporary item rule")
        verbose_name_plural = _("temporary item rules")
        ordering = ["position", "id"]

    def __str__(self):
        return self.name

    def matches(self, *, partner: Partner | None, record_format: str) -> bool:
        if self.partner_id and (partner is None or partner.pk != self.partner_id):
            return False
        if self.scope and partner is None:
            return False
        if self.scope == self.Scope.INTERNATIONAL and not partner.is_international:
            return False
        if self.scope == self.Scope.DOMESTIC and partner.is_international:
            return False
        formats = [c.strip().upper() for c in self.formats.replace(",", " ").split()]
        return not formats or (record_format or "").upper() in formats


class LocateProfile(models.Model):
    """How we ask a partner's catalogue whether it holds what we want to borrow.

    SRU (1.2 or 2.0) against any catalogue that speaks it, or "the partner's Kauko", which
    is SRU at that Kauko's `/sru/<institution code>` address. The indexes are the CQL
    index names the partner's server understands; the defaults are the common ones.
    """

    class Kind(models.TextChoices):
        NONE = "none", _("Not located")
        SRU = "sru", _("SRU")
        KAUKO = "kauko", _("The partner's Kauko (SRU)")

    class SruVersion(models.TextChoices):
        V1_2 = "1.2", "1.2"
        V2_0 = "2.0", "2.0"

    partner = models.OneToOneField(Partner, on_delete=models.CASCADE,
                                   related_name="locate_profile", verbose_name=_("partner"))
    kind = models.CharField(_("locate by"), max_length=10, choices=Kind.choices,
                            default=Kind.NONE)
    base_url = models.URLField(
        _("SRU address"), blank=True,
        help_text=_("The partner's SRU base URL, e.g. https://kauko.example.org/sru/KAISA."))
    sru_version = models.CharField(_("SRU version"), max_length=3, choices=SruVersion.choices,
                                   default=SruVersion.V1_2)
    timeout_seconds = models.PositiveSmallIntegerField(
        _("timeout (seconds)"), default=10,
        help_text=_("A catalogue that does not answer in time is kept in the rota, and said."))
    record_schema = models.CharField(_("record schema"), max_length=50, default="marcxml")
    isbn_index = models.CharField(_("ISBN index"), max_length=50, blank=True,
                                  default="bath.isbn")
    issn_index = models.CharField(_("ISSN index"), max_length=50, blank=True,
                                  default="bath.issn")
    oclc_index = models.CharField(_("OCLC number index"), max_length=50, blank=True,
                                  default="rec.id")
    title_index = models.CharField(_("title index"), max_length=50, blank=True,
                                   default="dc.title")
    author_index = models.CharField(_("author index"), max_length=50, blank=True,
                                    default="dc.creator")

    class Meta:
        verbose_name = _("locate profile")
        verbose_name_plural = _("locate profiles")

    def __str__(self):
        return f"{self.partner}: {self.get_kind_display()}"

    @property
    def configured(self) -> bool:
        return self.kind != self.Kind.NONE and bool(self.base_url)

    def clean(self):
        super().clean()
        if self.kind != self.Kind.NONE and not self.base_url:
            raise ValidationError({"base_url": _("Locating needs the partner's SRU address.")})
