"""Our side of ISO 18626 coming in: one endpoint for the whole deployment.

`receive` takes the HTTP body and answers every protocol-level outcome with the matching
confirmation (HTTP 200): OK, or ERROR with the errorType that says what was wrong. Only a
body that is not XML of the right type or size gets a plain 4xx.

The recipient institution is found from the message's agency ids, the sender among that
institution's partners; when the partner has credentials, the message must carry them. A
request becomes a lending request; a requesting-agency message (RAM) moves a lending
request; a supplying-agency message (SAM) moves the borrowing request whose rota attempt
has its requestingAgencyRequestId. This module checks, parses, routes, authenticates, keeps
replays idempotent, stores and answers; `requester` (Request, RAM → lending services) and
`supplier` (SAM → borrowing services) say what each message means. Everything goes through the same services staff use
(source=partner), so a message that does not fit the request's state is refused exactly
like a staff action would be — and answered ERROR, never "OK and ignored".

Every message is stored raw with its confirmation, in the same transaction as its effect.
The same message delivered twice (same recipient and sender, authenticated, same content
to the last element) changes nothing the second time and gets the stored confirmation; a
copy without the sender's credentials is refused, and never makes the real one a replay.
"""

from __future__ import annotations

import codecs
import dataclasses
import datetime
import hashlib
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models.signals import post_delete, post_save
from django.utils import timezone

from ill import iso18626 as iso
from ill.inbound import requester, supplier
from ill.inbound.common import ET, Refusal
from ill.models import IsoMessage, LendingRequest
from ill.outbox.wire import agency_text, mask_credentials, summary_fields
from ill.workflow import flag
from kauko.db import insert
from kauko.errors import DomainError
from kauko.i18n import gettext as _  # history notes read in each reader's language
from kauko.models import Institution
from partners.models import KEYED_PREFIX, Partner

ACCEPTED_CONTENT_TYPES = {"application/xml", "text/xml"}

# The longest request id a partner may give: what our lending requests and the message log
# keep (longer ids could not be stored whole, so they could not be matched again).
MAX_REQUEST_ID = min(IsoMessage._meta.get_field("requesting_agency_request_id").max_length,
                     LendingRequest._meta.get_field("partner_request_id").max_length)


def max_bytes() -> int:
    return int(getattr(settings, "ISO18626_MAX_BYTES", 1024 * 1024))


def max_elements() -> int:
    return int(getattr(settings, "ISO18626_MAX_ELEMENTS", iso.DEFAULT_MAX_ELEMENTS))


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/xml; charset=utf-8"




def _plain(status: int, text: str) -> Reply:
    return Reply(status, text.encode("utf-8"), "text/plain; charset=utf-8")


# How XML says its encoding (XML 1.0 appendix F): a byte-order mark, the pattern of "<?"
# in a wide encoding, else the declaration (UTF-8 when there is none).
_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))
_WIDE = ((b"<\0\0\0", "utf-32-le"), (b"\0\0\0<", "utf-32-be"), (b"<\0?\0", "utf-16-le"),
         (b"\0<\0?", "utf-16-be"))
_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]{1,40})["']""")


def xml_text(data: bytes) -> str:
    """The message as text for storing: decoded in its own encoding (a UTF-16 message read
    as UTF-8 is full of NUL characters, which PostgreSQL cannot store), never with a NUL,
    and with its credentials masked."""
    encoding = next((enc for bom, enc in _BOMS if data.startswith(bom)), None) or next(
        (enc for start, enc in _WIDE if data.startswith(start)), None)
    if encoding is None:
        declared = _DECLARED.match(data[:200])
        encoding = declared.group(1).decode("ascii") if declared else "utf-8"
    try:
        text = data.decode(encoding, "replace")
    except LookupError:
        text = data.decode("utf-8", "replace")
    return mask_credentials(text.replace("\0", "\ufffd"))


def receive(*, body: bytes, content_type: str, token: str = "") -> Reply:
    """Answer one POSTed message."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type not in ACCEPTED_CONTENT_TYPES:
        return _plain(415, "ISO 18626 messages are posted as application/xml or text/xml.")
    limit = max_bytes()
    if len(body) > limit:
        return _plain(413, f"Messages are limited to {limit} bytes.")
    elements = max_elements()
    if iso.exceeds_element_limit(body, elements):
        # Refused before it is read: each element costs Python time.
        return _plain(413, f"Messages are limited to {elements} elements.")
    try:
        message = iso.parse(body, max_bytes=limit, max_elements=elements)
    except iso.Iso18626Error as exc:
        confirmation = iso.error_confirmation_for(exc)
        if confirmation is None:
            return _plain(400, f"Not an ISO 18626 message: {exc.error_value}")
        data = iso.build(confirmation, exc.version or iso.Version.V1_2)
        _store_unreadable(exc, body, data)
        return Reply(200, data)
    if message.kind.is_confirmation:
        return _plain(400, "A confirmation answers a message in the HTTP response; it is "
                           "not posted on its own.")
    return _handle(message, token)


def _store_unreadable(exc: iso.Iso18626Error, body: bytes, confirmation: bytes) -> None:
    header = exc.header if isinstance(exc.header, iso.Header) else None
    stored = IsoMessage(
        direction=IsoMessage.Direction.IN, kind=exc.kind.value if exc.kind else "",
        version=exc.version.value if exc.version else "",
        requesting_agency_request_id=(header.requesting_agency_request_id or "")[:100]
        if header else "",
        timestamp=header.timestamp if header else None,
        raw=xml_text(body[:unattributed_keep_chars() * 4]),
        confirmation_raw=confirmation.decode("utf-8"),
        confirmation_status="ERROR", error_type=exc.error_type.value,
        error_value=exc.error_value, summary=_("Unreadable message")[:300], http_status=200)
    if _keep_unattributed(stored):
        insert(stored)


# --- what strangers post ----------------------------------------------------------------------
# A message no partner is known to have sent (unknown recipient or sender, wrong or missing
# credentials, unreadable) is kept for staff to see, but cut short, and only so many an hour:
# anyone can post, and nobody may fill the database. `ill.inbound.services.iso_traffic_prune`
# deletes them after ISO18626_UNATTRIBUTED_RETENTION_DAYS.


def unattributed_keep_chars() -> int:
    return int(getattr(settings, "ISO18626_UNATTRIBUTED_KEEP_CHARS", 2000))


def unattributed_per_hour() -> int:
    return int(getattr(settings, "ISO18626_UNATTRIBUTED_PER_HOUR", 200))


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + " […]"


def _keep_unattributed(stored: IsoMessage) -> bool:
    """Cut the message short; False when this hour's share is used up (then it is only
    answered)."""
    limit = unattributed_keep_chars()
    for name in ("raw", "confirmation_raw", "note", "error_value"):
        setattr(stored, name, _cut(getattr(stored, name), limit))
    stored.raw = mask_credentials(stored.raw)  # (a cut may leave a value open: hidden)
    since = timezone.now() - datetime.timedelta(hours=1)
    recent = IsoMessage.objects.filter(direction=IsoMessage.Direction.IN,
                                       idempotency_key__isnull=True, created_at__gte=since)
    return recent.count() < unattributed_per_hour()


# --- routing ---------------------------------------------------------------------------------


def _sides(body):
    """(recipient agency id, sender agency id, we are the supplier)."""
    h = body.header
    if isinstance(body, iso.SupplyingAgencyMessage):
        return h.requesting_agency_id, h.supplying_agency_id, False
    return h.supplying_agency_id, h.requesting_agency_id, True


def idempotency_key(message: iso.Message) -> str:
    """What makes a delivery the same message: its sender and recipient and its whole
    content (every element but the credentials, and the timestamp exactly as written)."""
    body = message.body
    recipient, sender, _supplier = _sides(body)
    header = dataclasses.replace(body.header, requesting_agency_authentication=None)
    content = repr(dataclasses.replace(body, header=header))
    parts = [agency_text(recipient).lower(), agency_text(sender).lower(),
             body.header.timestamp_as_sent or "", content]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def _handle(message: iso.Message, token: str) -> Reply:
    body = message.body
    summary = summary_fields(body)
    key = idempotency_key(message)
    for attempt in range(2):
        try:
            return _handle_once(message, token, key, summary)
        except Throttled:
            return _plain(429, "Too many messages with wrong credentials lately: try again "
                               "later.")
        except IntegrityError:
            # The same message again: answer what the first delivery was answered.
            replay = _stored_confirmation(key)
            if replay is not None:
                return Reply(200, replay)
            # Else a message about the same request committed first (its row lock was
            # waited for, or the database has none): once more, now that it is there.
            if attempt:
                return _plain(503, "Another message about this request was handled at the "
                                   "same moment: send this one again.")
    raise AssertionError("unreachable")


def _handle_once(message: iso.Message, token: str, key: str, summary: dict) -> Reply:
    body = message.body
    recipient, sender, we_supply = _sides(body)
    # The key is claimed only once the sender is authenticated (in _dispatch): a copy
    # without credentials, refused, must not make the real message look like a replay.
    stored = IsoMessage(
        direction=IsoMessage.Direction.IN, idempotency_key=None,
        version=message.version.value, sender=agency_text(sender)[:150],
        recipient=agency_text(recipient)[:150],
        requesting_agency_request_id=(body.header.requesting_agency_request_id or "")[:100],
        timestamp=body.header.timestamp, raw=xml_text(message.raw),
        http_status=200, **summary)
    try:
        with transaction.atomic():
            _dispatch(message, stored, recipient, sender, we_supply, token, key)
            # Stored last, in the same transaction as the effect: the unique key makes
            # a replay fail here and roll back whatever it did, even one that raced the
            # first delivery (it waited on the request's row lock meanwhile).
            answer = _store(stored, message, iso.confirmation_for(message))
    except Refusal as refusal:
        # Whatever the message had begun to change went with the transaction above
        # (one transaction and no savepoint keeps the common case at the fewest round
        # trips); the message and its ERROR answer are kept in one of their own.
        with transaction.atomic():
            # A partner's message is never refused and forgotten: the request it was
            # about is flagged with why (the conversation shows the message itself).
            request, reason = refusal.flag or (
                stored.borrowing_request or stored.lending_request,
                _("We refused a message from the partner (%(what)s): %(why)s") % {
                    "what": stored.summary, "why": refusal.error_value})
            if request is not None:
                flag(request=request, reason=reason)
            stored.error_type = str(refusal.error_type)
            stored.error_value = refusal.error_value
            answer = _store(stored, message, iso.confirmation_for(
                message, iso.MessageStatus.ERROR, refusal.error_type, refusal.error_value),
                authenticated=stored.idempotency_key is not None)
    return Reply(200, answer)


def _store(stored: IsoMessage, message: iso.Message, confirmation, *,
           authenticated: bool = True) -> bytes:
    """Store the message with its confirmation; returns the confirmation to answer."""
    data = iso.build(confirmation, message.version)
    stored.confirmation_raw = data.decode("utf-8")
    stored.confirmation_status = str(confirmation.message_status)
    if authenticated or _keep_unattributed(stored):
        insert(stored)
    return data


def _stored_confirmation(key: str) -> bytes | None:
    raw = (IsoMessage.objects.filter(idempotency_key=key)
           .values_list("confirmation_raw", flat=True).first())
    return raw.encode("utf-8") if raw else None


def _dispatch(message, stored, recipient, sender, we_supply, token, key) -> None:
    body = message.body
    recipient_element = "supplyingAgencyId" if we_supply else "requestingAgencyId"
    sender_element = "requestingAgencyId" if we_supply else "supplyingAgencyId"
    institution = _institution(recipient)
    if institution is None:
        raise Refusal(ET.UNRECOGNISED_DATA_VALUE, _(
            "%(element)s: %(id)s is not an agency served here") % {
            "element": recipient_element, "id": agency_text(recipient)})
    stored.institution = institution
    partner = _partner(institution, sender)
    if partner is None:
        raise Refusal(ET.UNRECOGNISED_DATA_VALUE, _(
            "%(element)s: %(id)s is not a partner of %(agency)s") % {
            "element": sender_element, "id": agency_text(sender),
            "agency": agency_text(recipient)})
    stored.partner = partner
    _authenticate(partner, body, token)
    stored.idempotency_key = key
    rid = body.header.requesting_agency_request_id or ""
    if len(rid) > MAX_REQUEST_ID:
        raise Refusal(ET.UNRECOGNISED_DATA_VALUE, _(
            "requestingAgencyRequestId: longer than %(max)s characters") % {
            "max": MAX_REQUEST_ID})
    try:
        if isinstance(body, iso.Request):
            requester.on_request(message, stored, institution, partner)
        elif isinstance(body, iso.RequestingAgencyMessage):
            requester.on_ram(body, stored, institution, partner)
        else:
            supplier.on_sam(body, stored, institution, partner)
    except DomainError as exc:
        raise Refusal(ET.UNRECOGNISED_DATA_VALUE, _(
            "%(what)s does not fit the request now: %(why)s") % {
            "what": stored.summary, "why": exc.message}) from None


# Every message looks up its institution and partner; these rows seldom change, so each
# process remembers them briefly (a partner edit takes effect within LOOKUP_SECONDS).
LOOKUP_SECONDS = 5.0
_lookups: dict[tuple, tuple[float, object]] = {}


def _cached(key: tuple, load):
    now = time.monotonic()
    hit = _lookups.get(key)
    if hit is not None and hit[0] > now:
        return hit[1]
    value = load()
    if len(_lookups) > 1000:
        _lookups.clear()
    _lookups[key] = (now + LOOKUP_SECONDS, value)
    return value


def forget_lookups(**_kwargs) -> None:
    _lookups.clear()


# A saved (or new) partner or institution is seen at once by this process.
for _model in (Institution, Partner):
    post_save.connect(forget_lookups, sender=_model, dispatch_uid=f"iso18626-{_model.__name__}")
    post_delete.connect(forget_lookups, sender=_model,
                        dispatch_uid=f"iso18626-del-{_model.__name__}")


def _institution(agency: iso.AgencyId | None) -> Institution | None:
    if agency is None:
        return None
    kind, value = str(agency.type), agency.value.strip()
    return _cached(("i", kind.lower(), value.lower()), lambda: Institution.objects.filter(
        agency_id_type__iexact=kind, agency_id_value__iexact=value).first())


def _partner(institution, agency: iso.AgencyId | None) -> Partner | None:
    if agency is None:
        return None
    kind, value = str(agency.type), agency.value.strip()
    return _cached(("p", institution.pk, kind.lower(), value.lower()),
                   lambda: Partner.objects.filter(
                       institution=institution, active=True,
                       profile_type=Partner.ProfileType.ISO18626,
                       agency_id_type__iexact=kind, agency_id_value__iexact=value).first())


class Throttled(Exception):
    """Too many failed authentications for this partner lately: answered 429, not stored."""


def _auth_failure_key(partner: Partner) -> str:
    return f"iso18626:auth-failures:{partner.pk}"


def auth_failure_limit() -> tuple[int, int]:
    """(failures, seconds): more failed authentications than this for one partner within
    the window are refused at once, unstored (the cache is per process unless CACHES
    points at a shared one)."""
    return (int(getattr(settings, "ISO18626_AUTH_FAILURES", 20)),
            int(getattr(settings, "ISO18626_AUTH_FAILURE_WINDOW_SECONDS", 60)))


def _authenticate(partner: Partner, body, token: str) -> None:
    """Credentials are compared as keyed hashes in constant time (microseconds, see
    `Partner.check_inbound_token`): a wrong one costs no password hash, and the answer takes
    as long whether the account id was right or not."""
    if not partner.requires_authentication:
        return
    auth = getattr(body.header, "requesting_agency_authentication", None)
    account_id = (auth.account_id or "") if auth else ""
    code = (auth.security_code or "") if auth else ""
    limit, window = auth_failure_limit()
    key = _auth_failure_key(partner)
    over_limit = (cache.get(key) or 0) >= limit
    if over_limit and partner.has_legacy_credentials:
        raise Throttled  # an old (slow) hash is not checked at all while under attack
    token_ok = partner.check_inbound_token(token or "")
    code_ok = partner.check_inbound_security_code(account_id, code)
    if token_ok or code_ok:
        if partner.has_legacy_credentials:
            _upgrade_legacy_hashes(partner, token if token_ok else "", code if code_ok else "")
        return
    if over_limit:
        raise Throttled
    if not cache.add(key, 1, timeout=window):
        try:
            cache.incr(key)
        except ValueError:  # expired in between
            cache.add(key, 1, timeout=window)
    raise Refusal(ET.UNRECOGNISED_DATA_VALUE, _(
        "requestingAgencyAuthentication: missing or wrong credentials for %(id)s") % {
        "id": f"{partner.agency_id_type}:{partner.agency_id_value}"})


def _upgrade_legacy_hashes(partner: Partner, token: str, code: str) -> None:
    """A credential checked right against an old PBKDF2 hash is stored as a keyed hash."""
    fresh = Partner.objects.get(pk=partner.pk)
    if token and not fresh.inbound_token_hash.startswith(KEYED_PREFIX):
        fresh.set_inbound_token(token)
    if code and not fresh.inbound_security_code_hash.startswith(KEYED_PREFIX):
        fresh.set_inbound_security_code(code)
    fresh.save(update_fields=["inbound_token_hash", "inbound_security_code_hash"])
