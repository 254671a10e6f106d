"""What the partner is told at each borrowing step: a letter to an e-mail partner, an ISO
18626 message (we are the requester) to the others.

`tell_partner` picks the channel. `borrowing_event` builds the requesting agency's message
for a step and queues it in the outbox (`ill.outbox.services.queue`) inside the step's
transaction.
"""

from __future__ import annotations

import datetime
import re
import secrets

from django.conf import settings
from django.urls import reverse

from ill import iso18626 as iso
from ill.borrowing.letters import send_letter_later
from ill.models import BorrowingRequest, IsoMessage, OutboxMessage, RotaEntry
from ill.outbox.services import queue
from ill.outbox.wire import agency_of, now_ms
from kauko.i18n import gettext as _  # history notes read in each reader's language


def new_attempt_id(request, position: int, retry: int = 0) -> str:
    """The requestingAgencyRequestId a partner knows one attempt by: our number and the rota
    position (readable for staff on both sides), then a random part, so that no one can
    work out another request's id from one they have seen (a partner's message for a
    request is found by this id alone)."""
    again = f"-R{retry}" if retry else ""
    return f"{request.number}-{position}{again}-{secrets.token_hex(6)}"


def latest_attempt(request) -> RotaEntry | None:
    """The rota entry of the attempt the partner knows the request by (any outcome)."""
    return (request.rota.exclude(attempt_id="").filter(partner_id=request.partner_id)
            .order_by("-position").first())


def _requester_header(request, attempt_id: str) -> iso.Header:
    partner = request.partner
    auth = None
    if partner.outbound_account_id or partner.outbound_security_code:
        auth = iso.RequestingAgencyAuthentication(
            account_id=partner.outbound_account_id or None,
            security_code=partner.outbound_security_code or None)
    return iso.Header(supplying_agency_id=agency_of(partner),
                      requesting_agency_id=agency_of(request.institution),
                      requesting_agency_request_id=attempt_id, timestamp=now_ms(),
                      requesting_agency_authentication=auth)


POSTAL_LINE = re.compile(r"^(?:[A-Z]{1,3}-)?(?P<code>\d{3,6}(?:\s?\d{2})?)\s+(?P<town>\S.*)$")


def postal_address(text: str) -> iso.PhysicalAddress | None:
    """A library's postal address (free text, one part a line) as ISO 18626 parts: the
    first line is the street, the line with the postal code gives code and town, the rest
    (building, country) goes to line2."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not lines:
        return None
    code = town = ""
    rest = []
    for line in lines[1:]:
        match = POSTAL_LINE.match(line)
        if match and not code:
            code, town = match["code"], match["town"]
        else:
            rest.append(line)
    return iso.PhysicalAddress(line1=lines[0], line2=", ".join(rest) or None,
                               postal_code=code or None, locality=town or None)


def _email(address: str) -> iso.ElectronicAddress:
    return iso.ElectronicAddress(electronic_address_type="Email",
                                 electronic_address_data=address)


def requested_delivery(request: BorrowingRequest) -> list[iso.RequestedDeliveryInfo]:
    """Where the partner should deliver, best first: the RS library's postal address for a
    loan; our e-mail address for a copy (then the postal address, for a paper copy)."""
    postal = postal_address(request.rs_library.address if request.rs_library_id else "")
    email = request.institution.email
    places = []
    if request.is_physical:
        if postal:
            places.append((postal, "Mail"))
    else:
        if email:
            places.append((_email(email), "Email"))
        if postal:
            places.append((postal, "Mail"))
    return [iso.RequestedDeliveryInfo(sort_order=n, address=address, delivery_method=method)
            for n, (address, method) in enumerate(places, start=1)]


def requesting_agency_info(request: BorrowingRequest) -> iso.RequestingAgencyInfo:
    """Who asks: the RS library (and institution), its postal and e-mail addresses and
    the address our ISO 18626 messages are answered at."""
    library = request.rs_library if request.rs_library_id else None
    institution = request.institution
    name = library.name if library else institution.name
    if library and institution.name and institution.name not in name:
        name = f"{name}, {institution.name}"
    addresses: list[iso.Address] = []
    postal = postal_address(library.address if library else "")
    if postal:
        addresses.append(postal)
    if institution.email:
        addresses.append(_email(institution.email))
    addresses.append(iso.ElectronicAddress(
        electronic_address_type="URL",
        electronic_address_data=settings.KAUKO_BASE_URL + reverse("iso18626")))
    return iso.RequestingAgencyInfo(name=name, addresses=addresses)


def build_request(request: BorrowingRequest, attempt_id: str, *, retry_of: str = "",
                  note: str = "", record_id: str = "") -> iso.Request:
    item_ids = [iso.BibliographicItemId(code=code, identifier=value)
                for code, value in (("ISBN", request.isbn), ("ISSN", request.issn)) if value]
    record_ids = [iso.BibliographicRecordId(code=code, identifier=value)
                  for code, value in (("OCLC", request.oclc_number), ("DOI", request.doi),
                                      ("PMID", request.pmid)) if value]
    copy = not request.is_physical
    notes = [n for n in (request.note_to_partner, note) if n]
    return iso.Request(
        header=_requester_header(request, attempt_id),
        bibliographic_info=iso.BibliographicInfo(
            supplier_unique_record_id=record_id or None, title=request.title,
            author=request.author or None,
            edition=request.edition or None,
            title_of_component=request.article_title or None,
            author_of_component=request.article_author or None,
            volumes=[request.volume] if request.volume else [],
            issue=request.issue or None, pages_requested=request.pages or None,
            bibliographic_item_ids=item_ids, bibliographic_record_ids=record_ids),
        publication_info=iso.PublicationInfo(
            publisher=request.publisher or None, publication_date=request.year or None,
            place_of_publication=request.place_of_publication or None),
        service_info=iso.ServiceInfo(
            request_type=iso.RequestType.RETRY if retry_of else iso.RequestType.NEW,
            requesting_agency_previous_request_id=retry_of or None,
            service_type=iso.ServiceType.COPY if copy else iso.ServiceType.LOAN,
            need_before_date=(datetime.datetime.combine(
                request.needed_before, datetime.time(12), tzinfo=datetime.UTC)
                if request.needed_before else None),
            note="\n".join(notes) or None),
        requested_delivery_info=requested_delivery(request),
        requesting_agency_info=requesting_agency_info(request),
        billing_info=(iso.BillingInfo(maximum_costs=iso.Costs(
            currency_code=request.max_cost_currency or "EUR",
            monetary_value=request.max_cost))
            if request.max_cost is not None else None),
    )



# Alma and ReShare answer conditions with notes rather than a message of their own.
ALMA_ACCEPT = "ACCEPT"


ALMA_REJECT = "REJECT"


RESHARE_CONDITION = "#ReShareAddLoanCondition#"


RESHARE_AGREE = "#ReShareLoanConditionAgreeResponse#"


def _reshare_conditions(request) -> bool:
    return IsoMessage.objects.filter(borrowing_request=request, direction=IsoMessage.Direction.IN,
                                     note__contains=RESHARE_CONDITION).exists()


def borrowing_event(*, request, event: str, user=None, **data) -> OutboxMessage | None:
    """Write the message for a borrowing step to the outbox (call inside the transaction).

    Events: request, retry, renew, cancel, shipped_return, received, conditions_accepted,
    conditions_rejected, notification (data: note=...), status_request.
    """
    partner = request.partner
    note = data.get("note") or data.get("message") or ""
    if event in ("request", "retry"):
        entry = (request.rota.filter(outcome=RotaEntry.Outcome.ASKED, partner=partner)
                 .order_by("-position").first())
        if entry is None:
            raise ValueError("no asked rota entry to send the request as")
        body = build_request(request, entry.attempt_id, retry_of=data.get("retry_of", ""),
                             note=note, record_id=data.get("record_id", ""))
        return queue(request=request, partner=partner, body=body)
    entry = latest_attempt(request)
    attempt_id = entry.attempt_id if entry else request.number
    if event == "conditions_accepted":
        action = iso.Action.NOTIFICATION
        note = RESHARE_AGREE if _reshare_conditions(request) else ALMA_ACCEPT
    else:
        action = {
            "renew": iso.Action.RENEW,
            "cancel": iso.Action.CANCEL,
            "conditions_rejected": iso.Action.CANCEL,
            "shipped_return": iso.Action.SHIPPED_RETURN,
            "received": iso.Action.RECEIVED,
            "notification": iso.Action.NOTIFICATION,
            "status_request": iso.Action.STATUS_REQUEST,
            # 2021 has Lost (the builder sends it to 1.2 partners as a Notification); no
            # version has Damaged, so that is a Notification that says it.
            "lost": iso.Action.LOST,
            "damaged": iso.Action.NOTIFICATION,
        }[event]
        if event in ("lost", "damaged"):
            said = (_("Your item was lost while with us.") if event == "lost"
                    else _("Your item was damaged while with us."))
            note = "\n".join(n for n in (said, note) if n)
        if event == "cancel" and not note:
            note = request.reason
    body = iso.RequestingAgencyMessage(header=_requester_header(request, attempt_id),
                                       action=action, note=note or None)
    return queue(request=request, partner=partner, body=body)


# What the partner is told at each borrowing step. E-mail partners get a letter (None: the
# step needs no letter); ISO 18626 partners get the matching message through the outbox.
PARTNER_LETTERS = {
    "request": "borrowing_request_to_partner",
    "renew": "borrowing_renewal_request",
    "cancel": "borrowing_cancel_to_partner",
    "shipped_return": "borrowing_return_to_partner",
    "lost": "borrowing_lost_to_partner",
    "damaged": "borrowing_lost_to_partner",
    "received": None,
    "conditions_accepted": None,
    "conditions_rejected": None,
}


def tell_partner(request, event: str, user=None, **data) -> None:
    """Tell the request's partner about a step, in the partner's channel.

    Call inside the state change's transaction: an ISO 18626 message is written to the
    outbox in that same transaction (and posted after commit); a letter is sent after
    commit. Either way nothing is sent for a change that did not happen.
    """
    partner = request.partner
    if partner is None:
        return
    if partner.is_iso:
        borrowing_event(request=request, event=event, user=user, **data)
        return
    code = PARTNER_LETTERS[event]
    if code:
        send_letter_later(request=request, code=code, to=partner.email,
                          language=partner.language, user=user, **data)


