"""The portal's business rules: PINs, sign-in (PIN or one-time link).

Requests themselves are made by `ill.borrowing.services.borrowing_request_create`; the
portal only parses the patron's input, runs the intake checks and calls it.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation

from circulation.models import Hold
from circulation.services import hold_create
from fulfillment.models import Item
from ill.borrowing.services import borrowing_request_cancel, borrowing_request_request_renewal
from ill.models import BorrowingRequest, Source
from kauko.errors import DomainError
from kauko.i18n import gettext as _  # history notes read in each reader's language
from patrons.models import Patron
from portal.models import ApiClient, PatronPin, SignInLink
from portal.presenters import CANCELLABLE
from portal.selectors import patron_by_identifier

SIGN_IN_LINK_MINUTES = 30
MIN_PIN_LENGTH = 4


class SignInError(DomainError):
    pass


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def patron_set_pin(*, patron: Patron, pin: str) -> PatronPin:
    pin = (pin or "").strip()
    if len(pin) < MIN_PIN_LENGTH or not pin.isdigit():
        raise DomainError(_("A PIN is at least %(n)s digits.") % {"n": MIN_PIN_LENGTH})
    record, _created = PatronPin.objects.get_or_create(
        patron=patron, defaults={"institution_id": patron.institution_id})
    record.set_pin(pin)
    record.save()
    return record


def patron_sign_in(*, institution, card: str, pin: str) -> Patron:
    """The patron whose card and PIN these are; refuses in words that say nothing about
    which of the two was wrong. A wrong PIN counts (and is kept: the refusal is raised
    after the count is committed); MAX_PIN_FAILURES in a row lock the PIN."""
    refused = SignInError(_("That card number and PIN do not match. Check them and try "
                            "again, or ask for a sign-in link by e-mail."))
    patron = patron_by_identifier(institution=institution, value=card)
    if patron is None:
        raise refused
    with transaction.atomic():
        record = PatronPin.objects.select_for_update().filter(patron=patron).first()
        if record is None:
            raise refused
        if record.locked:
            raise SignInError(_("Too many wrong PINs: ask for a sign-in link by e-mail, or "
                                "ask library staff to set a new PIN."))
        matches = record.check_pin(pin)
        if matches:
            record.failures = 0
            record.last_sign_in = timezone.now()
        else:
            record.failures += 1
        record.save(update_fields=["failures", "last_sign_in"])
    if not matches:
        raise refused
    return patron


def sign_in_link_send(*, institution, card: str) -> bool:
    """E-mails a one-time sign-in link to the patron with this card, when there is one with
    an e-mail address. Returns whether a link was sent (the page does not tell)."""
    patron = patron_by_identifier(institution=institution, value=card)
    if patron is None or not patron.email:
        return False
    token = secrets.token_urlsafe(32)
    now = timezone.now()
    SignInLink.objects.create(
        institution=institution, patron=patron, token_hash=_hash_token(token),
        created_at=now, expires_at=now + datetime.timedelta(minutes=SIGN_IN_LINK_MINUTES))
    url = settings.KAUKO_BASE_URL + reverse("portal:sign_in_link_use", args=[token])
    with translation.override(patron.preferred_language):
        subject = _("Your sign-in link to %(library)s") % {"library": institution.name}
        body = render_to_string("portal/email/sign_in_link.txt", {
            "name": patron.first_name, "url": url, "minutes": SIGN_IN_LINK_MINUTES,
            "library": institution.name})
    transaction.on_commit(lambda: send_mail(subject, body, None, [patron.email]))
    return True


@transaction.atomic
def sign_in_link_use(*, token: str) -> Patron:
    link = (SignInLink.objects.select_for_update().select_related("patron")
            .filter(token_hash=_hash_token(token or "")).first())
    if link is None or link.used_at is not None or link.expires_at < timezone.now():
        raise SignInError(_("This sign-in link has expired or was already used. Ask for a "
                            "new one."))
    link.used_at = timezone.now()
    link.save(update_fields=["used_at"])
    PatronPin.objects.filter(patron=link.patron).update(failures=0)
    return link.patron


def patron_hold_own_copy(*, patron: Patron, item_id: int, pickup_desk=None) -> Hold:
    """A hold on our own copy, offered when the intake check found one on the shelf."""
    item = Item.objects.filter(institution_id=patron.institution_id, pk=item_id,
                               is_temporary=False).select_related("bib").first()
    if item is None or item.status != Item.Status.IN_PLACE:
        raise DomainError(_("That copy is no longer on the shelf. Ask for it from another "
                            "library instead."))
    if Hold.objects.filter(patron=patron, bib=item.bib, state__in=Hold.ACTIVE_STATES).exists():
        raise DomainError(_("You already have a hold on this title."))
    desk = pickup_desk or patron.pickup_desk
    if desk is None:
        raise DomainError(_("Choose where you pick it up."))
    return hold_create(institution=patron.institution, patron=patron, item=item,
                       pickup_desk=desk, note=_("Placed by the patron in the portal."))


def patron_request_cancel(*, patron: Patron, request: BorrowingRequest) -> BorrowingRequest:
    """The patron no longer needs it: cancelled while nothing has been shipped (once a
    partner has it, the partner is asked first, as when staff cancel)."""
    if request.patron_id != patron.pk:
        raise DomainError(_("That is not your request."))
    if request.status not in CANCELLABLE:
        raise DomainError(_("It has already been sent to us, so it can no longer be "
                            "cancelled. Please contact the library."))
    return borrowing_request_cancel(request=request, reason=_("Cancelled by the patron."),
                                    user=None, by_patron=True, source=Source.PATRON)


def patron_request_renew(*, patron: Patron, request: BorrowingRequest) -> BorrowingRequest:
    """Asks the lending library for a renewal (ISO Renew, or a letter to an e-mail partner),
    only inside the renewal window."""
    if request.patron_id != patron.pk:
        raise DomainError(_("That is not your request."))
    return borrowing_request_request_renewal(request=request, by_patron=True,
                                             source=Source.PATRON)


# --- API clients ---------------------------------------------------------------------------------

API_TOKEN_PREFIX = "kauko_"


def hash_api_token(token: str) -> str:
    return _hash_token(token)


def api_client_create(*, institution, name: str, scopes: str = "requests:write requests:read",
                      token: str | None = None) -> tuple[ApiClient, str]:
    """A new API client and its token (shown once: only the hash is kept). `token` only
    for the demo, which prints a known one."""
    token = token or API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient.objects.create(institution=institution, name=name, scopes=scopes,
                                      token_hash=_hash_token(token), token_prefix=token[:12])
    return client, token


def api_client_new_token(*, client: ApiClient) -> str:
    token = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    client.token_hash, client.token_prefix = _hash_token(token), token[:12]
    client.save(update_fields=["token_hash", "token_prefix"])
    return token


def api_client_authenticate(*, token: str) -> ApiClient | None:
    """The active client this token belongs to (its last use noted), or None."""
    client = (ApiClient.objects.select_related("institution")
              .filter(token_hash=_hash_token(token or ""), revoked_at__isnull=True).first())
    if client is not None:
        now = timezone.now()
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now
    return client
