"""Our side of ISO 18626 coming in: one endpoint for the whole deployment.

`receive` takes the HTTP body and answers every protocol-level outcome with the matching
confirmation (HTTP 200): OK, or ERROR with the errorType that says what was wrong. Only a
body that is not XML of the right type or size gets a plain 4xx.

The recipient institution is found from the message's agency ids, the sender among that
institution's partners; when the partner has credentials, the message must carry them. A
request becomes a lending request; a requesting-agency message (RAM) moves a lending
request; a supplying-agency message (SAM) moves the borrowing request whose rota attempt
has its requestingAgencyRequestId. Everything goes through the same services staff use
(source=partner), so a message that does not fit the request's state is refused exactly
like a staff action would be — and answered ERROR, never "OK and ignored".

Every message is stored raw with its confirmation, in the same transaction as its effect.
The same message delivered twice (same recipient, sender, request id, kind, timestamp,
action/reason and status) changes nothing the second time and gets the stored confirmation.
"""

from __future__ import annotations

import datetime
import functools
import hashlib
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.utils.translation import gettext as _

from ill import iso18626 as iso
from ill.models import BorrowingRequest, IsoMessage, LendingRequest, RotaEntry, Source
from ill.outbox.wire import agency_text, first_url, summary_fields
from ill.workflow import WorkflowError, change_state, record
from kauko.db import insert
from kauko.models import Institution
from partners.models import Partner

BR = BorrowingRequest
LR = LendingRequest
ET = iso.ErrorType
PARTNER = Source.PARTNER
ACCEPTED_CONTENT_TYPES = {"application/xml", "text/xml"}


def max_bytes() -> int:
    return int(getattr(settings, "ISO18626_MAX_BYTES", 1024 * 1024))


@dataclass
class Reply:
    status: int
    body: bytes
    content_type: str = "application/xml; charset=utf-8"


class Refusal(Exception):
    """The message is answered ERROR with this errorType and explanation."""

    def __init__(self, error_type: str, error_value: str, flag=None):
        super().__init__(error_value)
        self.error_type = error_type
        self.error_value = error_value
        # (request, reason): staff must hear of it although the message is refused.
        self.flag = flag


def _plain(status: int, text: str) -> Reply:
    return Reply(status, text.encode("utf-8"), "text/plain; charset=utf-8")


def receive(*, body: bytes, content_type: str, token: str = "") -> Reply:
    """Answer one POSTed message."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type not in ACCEPTED_CONTENT_TYPES:
        return _plain(415, "ISO 18626 messages are posted as application/xml or text/xml.")
    limit = max_bytes()
    if len(body) > limit:
        return _plain(413, f"Messages are limited to {limit} bytes.")
    try:
        message = iso.parse(body, max_bytes=limit)
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
    IsoMessage.objects.create(
        direction=IsoMessage.Direction.IN, kind=exc.kind.value if exc.kind else "",
        version=exc.version.value if exc.version else "",
        requesting_agency_request_id=(header.requesting_agency_request_id or "")[:100]
        if header else "",
        timestamp=header.timestamp if header else None,
        raw=body.decode("utf-8", "replace"), confirmation_raw=confirmation.decode("utf-8"),
        confirmation_status="ERROR", error_type=exc.error_type.value,
        error_value=exc.error_value, summary=_("Unreadable message")[:300], http_status=200)


# --- routing ---------------------------------------------------------------------------------


def _sides(body):
    """(recipient agency id, sender agency id, we are the supplier)."""
    h = body.header
    if isinstance(body, iso.SupplyingAgencyMessage):
        return h.requesting_agency_id, h.supplying_agency_id, False
    return h.supplying_agency_id, h.requesting_agency_id, True


def idempotency_key(message: iso.Message, fields: dict | None = None) -> str:
    body = message.body
    recipient, sender, _supplier = _sides(body)
    h = body.header
    stamp = h.timestamp_as_sent or (h.timestamp.isoformat() if h.timestamp else "")
    fields = fields or summary_fields(body)
    what = fields["action"] or fields["reason_for_message"]
    parts = [agency_text(recipient).lower(), agency_text(sender).lower(),
             h.requesting_agency_request_id or "", body.kind.value, stamp, what,
             fields["status"]]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()


def _handle(message: iso.Message, token: str) -> Reply:
    body = message.body
    summary = summary_fields(body)
    key = idempotency_key(message, summary)
    recipient, sender, we_supply = _sides(body)
    stored = IsoMessage(
        direction=IsoMessage.Direction.IN, idempotency_key=key,
        version=message.version.value, sender=agency_text(sender)[:150],
        recipient=agency_text(recipient)[:150],
        requesting_agency_request_id=(body.header.requesting_agency_request_id or "")[:100],
        timestamp=body.header.timestamp, raw=message.raw.decode("utf-8", "replace"),
        http_status=200, **summary)
    try:
        try:
            with transaction.atomic():
                _dispatch(message, stored, recipient, sender, we_supply, token)
                # Stored last, in the same transaction as the effect: the unique key makes
                # a replay fail here and roll back whatever it did, even one that raced the
                # first delivery (it waited on the request's row lock meanwhile).
                _store(stored, message, iso.confirmation_for(message))
        except Refusal as refusal:
            # Whatever the message had begun to change went with the transaction above
            # (one transaction and no savepoint keeps the common case at the fewest round
            # trips); the message and its ERROR answer are kept in one of their own.
            with transaction.atomic():
                if refusal.flag is not None:
                    _flag(*refusal.flag)
                stored.error_type = str(refusal.error_type)
                stored.error_value = refusal.error_value
                _store(stored, message, iso.confirmation_for(
                    message, iso.MessageStatus.ERROR, refusal.error_type, refusal.error_value))
    except IntegrityError:
        # The same message again: answer what the first delivery was answered.
        replay = _stored_confirmation(key)
        if replay is None:
            raise
        return Reply(200, replay)
    return Reply(200, stored.confirmation_raw.encode("utf-8"))


def _store(stored: IsoMessage, message: iso.Message, confirmation) -> None:
    stored.confirmation_raw = iso.build(confirmation, message.version).decode("utf-8")
    stored.confirmation_status = str(confirmation.message_status)
    insert(stored)


def _stored_confirmation(key: str) -> bytes | None:
    raw = (IsoMessage.objects.filter(idempotency_key=key)
           .values_list("confirmation_raw", flat=True).first())
    return raw.encode("utf-8") if raw else None


def _dispatch(message, stored, recipient, sender, we_supply, token) -> None:
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
    try:
        if isinstance(body, iso.Request):
            _on_request(message, stored, institution, partner)
        elif isinstance(body, iso.RequestingAgencyMessage):
            _on_ram(body, stored, institution, partner)
        else:
            _on_sam(body, stored, institution, partner)
    except WorkflowError as exc:
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


@functools.lru_cache(maxsize=1024)
def _credentials_ok(partner_pk: int, stored_hashes: str, account_id: str, code: str,
                    token: str) -> bool:
    # Hash checks are deliberately slow; a partner sends many messages with the same
    # credentials, so a success is remembered for as long as its stored hashes stay the same.
    partner = Partner.objects.get(pk=partner_pk)
    return bool((token and partner.check_inbound_token(token))
                or (code and partner.check_inbound_security_code(account_id, code)))


def _authenticate(partner: Partner, body, token: str) -> None:
    if not partner.requires_authentication:
        return
    auth = getattr(body.header, "requesting_agency_authentication", None)
    account_id = (auth.account_id or "") if auth else ""
    code = (auth.security_code or "") if auth else ""
    hashes = f"{partner.inbound_security_code_hash}|{partner.inbound_token_hash}"
    if not _credentials_ok(partner.pk, hashes, account_id, code, token or ""):
        raise Refusal(ET.UNRECOGNISED_DATA_VALUE, _(
            "requestingAgencyAuthentication: missing or wrong credentials for %(id)s") % {
            "id": f"{partner.agency_id_type}:{partner.agency_id_value}"})


# The fields of a request the routing and the history need without another query.
ROUTING_FIELDS = ("id", "institution_id", "partner_id", "number", "status", "version",
                  "needs_attention", "attention_reason")
BORROWING_ROUTING_FIELDS = (*ROUTING_FIELDS, "request_type", "partner_due_date")


def _message_on(request, stored, note: str) -> None:
    record(request=request, action="partner_message", source=PARTNER,
           note=note or stored.summary, from_status=request.status, to_status=request.status)


def _flag(request, reason: str) -> None:
    type(request).objects.filter(pk=request.pk).update(
        needs_attention=True, attention_reason=reason[:300], version=F("version") + 1)


# --- lending: a partner asks us ------------------------------------------------------------------


def _address_text(address) -> str:
    if isinstance(address, iso.PhysicalAddress):
        return "\n".join(str(p) for p in (address.line1, address.line2, " ".join(
            str(p) for p in (address.postal_code, address.locality) if p), address.country)
            if p)
    if isinstance(address, iso.ElectronicAddress):
        return address.electronic_address_data
    return ""


def citation_from(bib: iso.BibliographicInfo, pub: iso.PublicationInfo | None) -> dict:
    ids = {str(i.code).upper(): i.identifier for i in bib.bibliographic_item_ids}
    records = {str(i.code).upper(): i.identifier for i in bib.bibliographic_record_ids}
    pub = pub or iso.PublicationInfo()
    citation = {
        "title": bib.title or bib.title_of_component or _("(no title given)"),
        "author": bib.author or "", "article_title": bib.title_of_component or "",
        "article_author": bib.author_of_component or "",
        "volume": "; ".join(bib.volumes), "issue": bib.issue or "",
        "pages": bib.pages_requested or "", "edition": bib.edition or "",
        "year": (pub.publication_date or "")[:20], "publisher": pub.publisher or "",
        "place_of_publication": pub.place_of_publication or "",
        "isbn": ids.get("ISBN", ""), "issn": ids.get("ISSN", ""),
        "oclc_number": records.get("OCLC", ""), "doi": records.get("DOI", ids.get("DOI", "")),
        "pmid": records.get("PMID", ""),
    }
    limits = {f.name: f.max_length for f in LR._meta.fields if f.name in citation}
    return {k: (v[:limits[k]] if limits.get(k) else v) for k, v in citation.items()}


def _on_request(message, stored, institution, partner) -> None:
    from ill.lending.services import lending_request_create

    body: iso.Request = message.body
    rid = body.header.requesting_agency_request_id or ""
    existing = LendingRequest.objects.filter(institution=institution, partner=partner,
                                             partner_request_id=rid).first()
    if existing is not None:
        stored.lending_request = existing
        raise Refusal(ET.UNRECOGNISED_DATA_VALUE, _(
            "requestingAgencyRequestId: %(id)s was received already (our request %(number)s)"
        ) % {"id": rid, "number": existing.number})
    info = body.service_info or iso.ServiceInfo()
    service_type = {iso.ServiceType.COPY: LR.ServiceType.COPY,
                    iso.ServiceType.COPY_OR_LOAN: LR.ServiceType.COPY_OR_LOAN}.get(
        info.service_type, LR.ServiceType.LOAN)
    delivery = body.requested_delivery_info[0] if body.requested_delivery_info else None
    costs = body.billing_info.maximum_costs if body.billing_info else None
    notes = [info.note or ""]
    if info.request_type == iso.RequestType.RETRY and info.requesting_agency_previous_request_id:
        notes.append(_("Retry of request %(id)s.") % {
            "id": info.requesting_agency_previous_request_id})
    request = lending_request_create(
        institution=institution, partner=partner, partner_request_id=rid,
        citation=citation_from(body.bibliographic_info, body.publication_info),
        service_type=service_type,
        needed_before=info.need_before_date.date() if info.need_before_date else None,
        requested_delivery=str(delivery.delivery_method or "")[:200] if delivery else "",
        delivery_address=_address_text(delivery.address) if delivery else "",
        max_cost=costs.monetary_value if costs else None,
        partner_note="\n".join(n for n in notes if n), source=PARTNER, locate=True)
    stored.lending_request = request


def _lending_for(institution, partner, rid: str) -> LendingRequest:
    # One plain query with the routing fields (as for supplier messages, see _attempt).
    fields = _in_model_order(LR, (*ROUTING_FIELDS, "partner_request_id"))
    sql = (f"SELECT {', '.join(fields)} FROM {LR._meta.db_table} WHERE institution_id = %s "
           f"AND partner_id = %s AND partner_request_id = %s LIMIT 1")
    with connection.cursor() as cursor:
        cursor.execute(sql, [institution.pk, partner.pk, rid])
        row = cursor.fetchone()
    if row is not None:
        return LR.from_db(connection.alias, fields, row)
    if LendingRequest.objects.filter(institution=institution, partner_request_id=rid).exists():
        raise Refusal(ET.UNRECOGNISED_DATA_VALUE, _(
            "requestingAgencyId: request %(id)s does not belong to %(agency)s") % {
            "id": rid, "agency": f"{partner.agency_id_type}:{partner.agency_id_value}"})
    raise Refusal(ET.UNRECOGNISED_DATA_VALUE, _(
        "requestingAgencyRequestId: %(id)s is not a request we know") % {"id": rid})


ACCEPT_NOTE = re.compile(r"^\s*(ACCEPT|#ReShareLoanConditionAgreeResponse#)", re.I)
REJECT_NOTE = re.compile(r"^\s*(REJECT|#ReShareLoanConditionRejectResponse#)", re.I)


def _on_ram(body: iso.RequestingAgencyMessage, stored, institution, partner) -> None:
    from ill.lending import services as ls
    from ill.outbox import services as iso_outbound

    request = _lending_for(institution, partner, body.header.requesting_agency_request_id)
    stored.lending_request = request
    note = body.note or ""
    action = body.action
    A = iso.Action
    if action == A.RECEIVED:
        ls.lending_request_partner_received(request=request, note=note, source=PARTNER)
    elif action == A.SHIPPED_RETURN:
        ls.lending_request_returned(request=request, note=note, source=PARTNER)
    elif action == A.RENEW:
        ls.lending_request_renewal_asked(request=request, note=note, source=PARTNER)
    elif action == A.CANCEL:
        if request.status == LR.S.CONDITIONAL:
            # Refusing our conditions is a cancel (DOMAIN.md §5); the request ends.
            request = ls.lending_request_condition_answer(request=request, accepted=False,
                                                          note=note, source=PARTNER)
            iso_outbound.lending_event(request=request, event="cancel_answer", answer="yes")
        elif request.status in (LR.S.CREATED, LR.S.LOCATE_FAILED):
            ls.lending_request_cancel_answer(request=request, cancelled=True, note=note,
                                             source=PARTNER)
        elif request.status in LR.BEFORE_SHIPPING:
            # Our item may be off the shelf already: staff say yes or no.
            _message_on(request, stored, _("The partner asks to cancel: %(note)s") % {
                "note": note or "–"})
            _flag(request, _("The partner asks to cancel: answer yes or no."))
        else:
            ls.lending_request_cancel_answer(
                request=request, cancelled=False, source=PARTNER,
                note=_("Already shipped: it cannot be cancelled any more."))
    elif action == A.NOTIFICATION:
        if request.status == LR.S.CONDITIONAL and ACCEPT_NOTE.match(note):
            ls.lending_request_condition_answer(request=request, accepted=True, note=note,
                                                source=PARTNER)
        elif request.status == LR.S.CONDITIONAL and REJECT_NOTE.match(note):
            request = ls.lending_request_condition_answer(request=request, accepted=False,
                                                          note=note, source=PARTNER)
        else:
            _message_on(request, stored, note)
    elif action == A.STATUS_REQUEST:
        _message_on(request, stored, _("The partner asked for the status."))
        iso_outbound.lending_event(request=request, event="status_response")
    elif action == A.LOST:
        ls.lending_request_report(request=request, what="lost", note=note, source=PARTNER)
    else:
        raise Refusal(ET.UNSUPPORTED_ACTION_TYPE, _(
            "action: %(action)s is not supported here") % {"action": action})


# --- borrowing: a partner answers us ---------------------------------------------------------------

CONDITION_NOTE = re.compile(r"#ReShareAddLoanCondition#|\bACCEPT\s+or\s+REJECT\b", re.I)
HARMLESS_LATE_STATUSES = {iso.Status.UNFILLED, iso.Status.CANCELLED, None}
HARMLESS_LATE_REASONS = {iso.ReasonForMessage.CANCEL_RESPONSE, iso.ReasonForMessage.NOTIFICATION,
                         iso.ReasonForMessage.STATUS_REQUEST_RESPONSE}
# A notification is a note and changes nothing, but when the status it carries says the
# partner is further along than we are (shipped, unfilled, finished), staff are told: Alma
# sometimes sends a real change with the wrong reasonForMessage, and it must not pass as OK.
NOTIFIED_AHEAD = {
    iso.Status.LOANED: BR.AT_PARTNER,
    iso.Status.COPY_COMPLETED: BR.AT_PARTNER,
    iso.Status.UNFILLED: BR.AT_PARTNER,
    iso.Status.CANCELLED: BR.AT_PARTNER,
    iso.Status.LOAN_COMPLETED: (*BR.AT_PARTNER, BR.S.SHIPPED_PHYSICAL, *BR.HAS_ITEM),
}


def _utc_date(value):
    # Dates travel as instants; the calendar day the partner wrote is the day meant.
    return value.astimezone(datetime.UTC).date() if value else None


def _on_sam(body: iso.SupplyingAgencyMessage, stored, institution, partner) -> None:
    rid = body.header.requesting_agency_request_id
    # Only what routing needs: most messages are notes, and the services that move the
    # request reload it under a row lock anyway.
    entry = _attempt(rid, institution)
    if entry is None:
        raise Refusal(ET.UNRECOGNISED_DATA_VALUE, _(
            "requestingAgencyRequestId: %(id)s is not a request of ours") % {"id": rid})
    request = entry.request
    stored.borrowing_request = request
    if entry.partner_id != partner.pk:
        raise Refusal(ET.UNRECOGNISED_DATA_VALUE, _(
            "supplyingAgencyId: request %(id)s was not sent to %(agency)s") % {
            "id": rid, "agency": f"{partner.agency_id_type}:{partner.agency_id_value}"})
    # The attempt the request is on: the partner's entry, still asked or supplied (each
    # partner appears once in a rota; a retry renames the same entry).
    current = entry.outcome in (RotaEntry.Outcome.ASKED, RotaEntry.Outcome.SUPPLIED) and \
        request.partner_id == entry.partner_id
    if not current:
        _late_answer(body, stored, request, rid)
        return
    _apply_sam(body, stored, request)


def _attempt(rid: str, institution) -> RotaEntry | None:
    """The rota entry sent under `rid`, with the routing fields of its request (others
    load on demand). One plain query: this runs for every supplier message."""
    # from_db() takes the values in the model's field order.
    entry_fields = _in_model_order(RotaEntry, ("id", "outcome", "partner_id", "attempt_id",
                                               "position", "request_id"))
    request_fields = _in_model_order(BR, BORROWING_ROUTING_FIELDS)
    columns = ", ".join([*(f"e.{c}" for c in entry_fields), *(f"r.{c}" for c in request_fields)])
    sql = (f"SELECT {columns} FROM {RotaEntry._meta.db_table} e "
           f"JOIN {BR._meta.db_table} r ON r.id = e.request_id "
           f"WHERE e.attempt_id = %s AND r.institution_id = %s LIMIT 1")
    with connection.cursor() as cursor:
        cursor.execute(sql, [rid, institution.pk])
        row = cursor.fetchone()
    if row is None:
        return None
    n = len(entry_fields)
    entry = RotaEntry.from_db(connection.alias, entry_fields, row[:n])
    entry.request = BR.from_db(connection.alias, request_fields, row[n:])
    return entry


def _in_model_order(model, attnames) -> tuple[str, ...]:
    wanted = set(attnames)
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname in wanted)


def _late_answer(body, stored, request, rid) -> None:
    """An answer to an earlier rota attempt: never applied to the current one."""
    status = body.status_info.status
    reason = body.message_info.reason_for_message
    if reason in HARMLESS_LATE_REASONS or status in HARMLESS_LATE_STATUSES:
        _message_on(request, stored, _("From an earlier attempt (%(id)s): %(what)s") % {
            "id": rid, "what": stored.summary})
        return
    raise Refusal(ET.UNRECOGNISED_DATA_VALUE, _(
        "requestingAgencyRequestId: %(id)s is an earlier attempt of request %(number)s, "
        "which has moved on; staff have been told") % {"id": rid, "number": request.number},
        flag=(request, _("An earlier partner sent “%(what)s” for attempt %(id)s: check it.")
              % {"what": stored.summary, "id": rid}))


def _condition_text(body) -> str:
    conditions = [str(c) for c in (body.delivery_info.loan_conditions
                                   if body.delivery_info else [])]
    note = (body.message_info.note or "").replace("#ReShareAddLoanCondition#", "").strip()
    return "; ".join(p for p in (", ".join(conditions), note) if p)


def _has_condition(body) -> bool:
    return bool((body.delivery_info and body.delivery_info.loan_conditions)
                or CONDITION_NOTE.search(body.message_info.note or ""))


def _apply_sam(body: iso.SupplyingAgencyMessage, stored, request) -> None:  # noqa: C901
    from ill.borrowing import services as bs

    info, status_info = body.message_info, body.status_info
    reason, status, note = info.reason_for_message, status_info.status, info.note or ""
    R, S, St = iso.ReasonForMessage, BR.S, iso.Status
    current = request.status

    def refuse(why):
        raise Refusal(ET.UNRECOGNISED_DATA_VALUE, why)

    if reason == R.RENEW_RESPONSE:
        if current != S.RENEW_REQUESTED:
            refuse(_("reasonForMessage: RenewResponse, but no renewal was asked for request "
                     "%(number)s") % {"number": request.number})
        yes = info.answer_yes_no == iso.YesNo.YES
        new_due = _utc_date(status_info.due_date)
        if yes and new_due is None:
            # Some peers (CrossLink's illmock) grant without a date: the old one stands.
            new_due = request.partner_due_date
            if new_due is None:
                refuse(_("dueDate: a renewal granted needs the new due date"))
            note = "\n".join(n for n in (note, _("No new due date was given.")) if n)
        bs.borrowing_request_renewal_answer(request=request, granted=yes, new_due_date=new_due,
                                            source=PARTNER, note=note)
        return
    if reason == R.CANCEL_RESPONSE:
        if current != S.WAITING_CANCEL:
            refuse(_("reasonForMessage: CancelResponse, but no cancel was asked for request "
                     "%(number)s") % {"number": request.number})
        yes = (info.answer_yes_no == iso.YesNo.YES
               or (info.answer_yes_no is None and status == St.CANCELLED))
        bs.borrowing_request_cancel_answer(request=request, cancelled=yes, source=PARTNER,
                                           note=note)
        return
    if reason == R.STATUS_REQUEST_RESPONSE or status in (St.HOLD_RETURN,
                                                          St.RELEASE_HOLD_RETURN):
        _message_on(request, stored, note)
        return
    if reason == R.NOTIFICATION or status is None:
        if _has_condition(body) and current in (S.SENT, S.ACCEPTED, S.WILL_SUPPLY):
            bs.borrowing_request_conditional(request=request, condition=_condition_text(body),
                                             source=PARTNER)
        else:
            _message_on(request, stored, note)
            if current in NOTIFIED_AHEAD.get(status, ()):
                _flag(request, _(
                    "The partner's message gives its status as %(status)s, which never came "
                    "as a status change: check the request with the partner.") % {
                    "status": status})
        return
    if status == St.REQUEST_RECEIVED:
        if current not in BR.AT_PARTNER:
            refuse(_("status: RequestReceived does not fit request %(number)s (%(status)s)")
                   % {"number": request.number, "status": request.get_status_display()})
        _message_on(request, stored, note)
    elif status == St.EXPECT_TO_SUPPLY:
        if current == S.SENT:
            bs.borrowing_request_accepted(request=request, note=note, source=PARTNER)
        elif current in (S.ACCEPTED, S.WILL_SUPPLY, S.CONDITIONAL):
            _message_on(request, stored, note)
        else:
            _does_not_fit(request, status)
    elif status == St.WILL_SUPPLY:
        if _has_condition(body):
            if current == S.CONDITIONAL:
                _message_on(request, stored, note)
            else:
                bs.borrowing_request_conditional(request=request,
                                                 condition=_condition_text(body),
                                                 source=PARTNER)
        elif current == S.WILL_SUPPLY:
            _message_on(request, stored, note)
        else:
            bs.borrowing_request_will_supply(request=request, note=note, source=PARTNER)
    elif status == St.RETRY_POSSIBLE:
        if current not in BR.AT_PARTNER:
            _does_not_fit(request, status)
        why = ", ".join(p for p in (str(info.reason_retry or ""), note) if p)
        _message_on(request, stored, _("Retry possible: %(why)s") % {"why": why})
        _flag(request, _("The partner offers a retry (%(why)s): retry or give up.") % {
            "why": why or "–"})
    elif status == St.UNFILLED:
        if current not in BR.AT_PARTNER:
            _does_not_fit(request, status)
        why = ": ".join(p for p in (str(info.reason_unfilled or ""), note) if p)
        request = bs.borrowing_request_rejected(
            request=request, reason=why or _("Unfilled"), source=PARTNER)
        _send_to_next(request)
    elif status == St.LOANED and not request.is_physical and current in BR.AT_PARTNER:
        # A copy "loaned" with its link (CrossLink's illmock does this): delivered.
        items = body.delivery_info.item_ids if body.delivery_info else []
        url = (body.delivery_info.url if body.delivery_info else None) or first_url(
            " ".join([*items, note]))
        if not url:
            refuse(_("status: Loaned for a copy, without a link to it"))
        bs.borrowing_request_shipped_digitally(request=request, url=url, source=PARTNER)
    elif status == St.LOANED:
        if current in BR.AT_PARTNER:
            items = body.delivery_info.item_ids if body.delivery_info else []
            bs.borrowing_request_shipped(request=request, due_date=_utc_date(
                status_info.due_date), barcode=items[0] if items else "", source=PARTNER,
                note=note)
        elif current in (S.SHIPPED_PHYSICAL, *BR.HAS_ITEM):
            _message_on(request, stored, note)
        else:
            _does_not_fit(request, status)
    elif status == St.COPY_COMPLETED:
        url = (body.delivery_info.url if body.delivery_info else None) or first_url(note)
        if not url:
            refuse(_("deliveryInfo/url: CopyCompleted without a link to the copy"))
        bs.borrowing_request_shipped_digitally(request=request, url=url, source=PARTNER)
    elif status == St.OVERDUE:
        if current == S.OVERDUE:
            _message_on(request, stored, note)
        elif current in (S.RECEIVED, S.RETURNED_BY_PATRON):
            # The item is here but not with a patron: parked for staff, who get it back.
            _message_on(request, stored, _("Overdue at the partner. %(note)s") % {
                "note": note})
            _flag(request, _("The partner says the item is overdue."))
        else:
            change_state(request=request, transition="mark_overdue", source=PARTNER,
                         note=note)
    elif status == St.RECALLED:
        due = _utc_date(status_info.due_date)

        def apply(r):
            if due:
                r.partner_due_date = due
                r.patron_due_date = bs._patron_due_date(r, due)
                bs._sync_loan_due_date(r)
            r.needs_attention = True
            r.attention_reason = _("Recalled by the partner: get the item back from the "
                                   "patron.")

        if current == S.RECALLED:
            _message_on(request, stored, note)
        else:
            change_state(request=request, transition="recall", source=PARTNER, note=note,
                         apply=apply)
    elif status in (St.LOAN_COMPLETED, St.COMPLETED_WITHOUT_RETURN):
        if current == S.COMPLETED:
            _message_on(request, stored, note)
        else:
            bs.borrowing_request_complete(request=request, source=PARTNER, note=note)
    elif status == St.CANCELLED:
        if current == S.WAITING_CANCEL:
            bs.borrowing_request_cancel_answer(request=request, cancelled=True,
                                               source=PARTNER, note=note)
        elif current in BR.AT_PARTNER:
            def cleanup(r):
                r.reason = note or _("Cancelled by the partner.")
                bs._remove_temporary_records(r)
                RotaEntry.objects.filter(request=r, outcome=RotaEntry.Outcome.ASKED).update(
                    outcome=RotaEntry.Outcome.CANCELLED)

            change_state(request=request, transition="cancel_by_partner", source=PARTNER,
                         note=note, apply=cleanup)
        else:
            _does_not_fit(request, status)
    else:
        refuse(_("status: %(status)s is not handled here") % {"status": status})


def _does_not_fit(request, status) -> None:
    raise Refusal(ET.UNRECOGNISED_DATA_VALUE, _(
        "status: %(status)s does not fit request %(number)s, which is “%(current)s”") % {
        "status": status, "number": request.number, "current": request.get_status_display()})


def _send_to_next(request) -> None:
    """Unfilled: straight on to the next partner in the rota, as Alma does."""
    from ill.borrowing.services import _next_pending, borrowing_request_send

    if request.status != BR.S.READY or _next_pending(request) is None:
        return
    try:
        with transaction.atomic():
            borrowing_request_send(request=request, user=None)
    except WorkflowError:
        pass  # staff send it by hand; the request is ready and says why
