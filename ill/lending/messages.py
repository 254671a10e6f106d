"""What the partner is told at each lending step: a letter to an e-mail partner, an ISO
18626 message (we are the supplier) to the others. `tell_partner` picks the channel.

`lending_event` builds the supplying agency's message for a step and queues it in the
outbox (`ill.outbox.services.queue`) inside the step's transaction.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import translation

from ill import iso18626 as iso
from ill.lending.letters import letter_context
from ill.models import LendingRequest, OutboxMessage
from ill.outbox.services import queue
from ill.outbox.wire import agency_of, now_ms
from kauko.i18n import gettext as _  # history notes read in each reader's language
from kauko.letters import letter_language, queue_letter


def lending_iso_status(request) -> str:
    """The ISO status that says where our lending request stands."""
    S = type(request).Status
    return {
        S.CREATED: iso.Status.REQUEST_RECEIVED, S.LOCATE_FAILED: iso.Status.REQUEST_RECEIVED,
        S.PROCESSING: iso.Status.EXPECT_TO_SUPPLY, S.WILL_SUPPLY: iso.Status.WILL_SUPPLY,
        S.CONDITIONAL: iso.Status.WILL_SUPPLY, S.SHIPPED_PHYSICAL: iso.Status.LOANED,
        S.RECEIVED: iso.Status.LOANED, S.RENEW_REQUESTED: iso.Status.LOANED,
        S.RETURNED: iso.Status.LOANED, S.OVERDUE: iso.Status.OVERDUE,
        S.RECALLED: iso.Status.RECALLED, S.SHIPPED_DIGITAL: iso.Status.COPY_COMPLETED,
        S.COMPLETED: iso.Status.LOAN_COMPLETED, S.REJECTED: iso.Status.UNFILLED,
        S.EXPIRED: iso.Status.UNFILLED, S.CANCELLED: iso.Status.CANCELLED,
        S.LOST: iso.Status.COMPLETED_WITHOUT_RETURN,
        S.DAMAGED: iso.Status.COMPLETED_WITHOUT_RETURN,
    }.get(request.status, iso.Status.REQUEST_RECEIVED)


def _due(day) -> datetime.datetime | None:
    if not day:
        return None
    return datetime.datetime.combine(day, datetime.time(23, 59), tzinfo=datetime.UTC)


@dataclass
class _Sam:
    reason: str
    status: str
    answer: str | None = None


# Our events (the brief's names and the lending services' names, which differ a little).
LENDING_EVENTS = {
    "will_supply": _Sam(iso.ReasonForMessage.REQUEST_RESPONSE, iso.Status.WILL_SUPPLY),
    "expect_to_supply": _Sam(iso.ReasonForMessage.REQUEST_RESPONSE,
                             iso.Status.EXPECT_TO_SUPPLY),
    "conditional": _Sam(iso.ReasonForMessage.REQUEST_RESPONSE, iso.Status.WILL_SUPPLY),
    "unfilled": _Sam(iso.ReasonForMessage.REQUEST_RESPONSE, iso.Status.UNFILLED),
    "expired": _Sam(iso.ReasonForMessage.REQUEST_RESPONSE, iso.Status.UNFILLED),
    "retry_possible": _Sam(iso.ReasonForMessage.REQUEST_RESPONSE, iso.Status.RETRY_POSSIBLE),
    "loaned": _Sam(iso.ReasonForMessage.STATUS_CHANGE, iso.Status.LOANED),
    "shipped": _Sam(iso.ReasonForMessage.STATUS_CHANGE, iso.Status.LOANED),
    "copy_completed": _Sam(iso.ReasonForMessage.STATUS_CHANGE, iso.Status.COPY_COMPLETED),
    "shipped_digitally": _Sam(iso.ReasonForMessage.STATUS_CHANGE, iso.Status.COPY_COMPLETED),
    "renew_answer": _Sam(iso.ReasonForMessage.RENEW_RESPONSE, ""),
    "renewal_answer": _Sam(iso.ReasonForMessage.RENEW_RESPONSE, ""),
    "cancel_answer": _Sam(iso.ReasonForMessage.CANCEL_RESPONSE, ""),
    "overdue": _Sam(iso.ReasonForMessage.STATUS_CHANGE, iso.Status.OVERDUE),
    "recalled": _Sam(iso.ReasonForMessage.STATUS_CHANGE, iso.Status.RECALLED),
    "recall": _Sam(iso.ReasonForMessage.STATUS_CHANGE, iso.Status.RECALLED),
    "loan_completed": _Sam(iso.ReasonForMessage.STATUS_CHANGE, iso.Status.LOAN_COMPLETED),
    "checked_in": _Sam(iso.ReasonForMessage.STATUS_CHANGE, iso.Status.LOAN_COMPLETED),
    "notification": _Sam(iso.ReasonForMessage.NOTIFICATION, ""),
    "status_response": _Sam(iso.ReasonForMessage.STATUS_REQUEST_RESPONSE, ""),
}


def _answered_before(request) -> bool:
    return OutboxMessage.objects.filter(lending_request=request).exists()


def lending_event(*, request, event: str, user=None, **data) -> OutboxMessage | None:
    """Write the supplying-agency message for a lending step to the outbox (call inside the
    transaction). `LENDING_EVENTS` lists the events."""
    spec = LENDING_EVENTS[event]
    note = data.get("note") or data.get("message") or ""
    status = spec.status or lending_iso_status(request)
    reason = spec.reason
    answer = None
    if spec.reason == iso.ReasonForMessage.STATUS_CHANGE and not _answered_before(request):
        # The first thing we say about a request is its answer, whatever the step.
        reason = iso.ReasonForMessage.REQUEST_RESPONSE
    delivery = None
    retry = None
    reason_unfilled = reason_retry = None
    due = _due(data.get("due_date") or request.due_date)
    if event in ("renew_answer", "renewal_answer"):
        renewal = data.get("renewal") or {}
        yes = data.get("answer", renewal.get("answer")) in ("yes", "Y", True)
        answer = iso.YesNo.YES if yes else iso.YesNo.NO
        if yes:
            due = _due(data.get("new_due_date") or renewal.get("new_due_date") or request.due_date)
        status = lending_iso_status(request)
        if status not in (iso.Status.LOANED, iso.Status.OVERDUE, iso.Status.RECALLED):
            status = iso.Status.LOANED
    elif event == "cancel_answer":
        yes = data.get("answer") in ("yes", "Y", True)
        answer = iso.YesNo.YES if yes else iso.YesNo.NO
        status = iso.Status.CANCELLED if yes else lending_iso_status(request)
        if not yes and status == iso.Status.CANCELLED:
            status = iso.Status.WILL_SUPPLY
    elif event == "conditional":
        condition = data.get("condition") or request.condition_text
        # Both conventions at once: a loanCondition for peers that read it, and Alma's
        # "ACCEPT or REJECT" note for those that only read notes.
        delivery = iso.DeliveryInfo(date_sent=now_ms(), loan_conditions=[condition[:200]])
        note = "\n".join(n for n in (note, _("Condition: %(c)s. Please answer ACCEPT or REJECT.")
                                     % {"c": condition}) if n)
    elif event in ("unfilled", "expired"):
        reason_unfilled = request.unfilled_reason or data.get("reason_unfilled") or "Other"
        note = note or request.reason
    elif event == "retry_possible":
        reason_retry = data.get("reason_retry") or "NotFoundAsCited"
        costs = data.get("cost")
        retry = iso.RetryInfo(
            offered_costs=([iso.Costs(currency_code=data.get("currency") or "EUR",
                                      monetary_value=costs)]
                           if costs is not None else []),
            retry_after=data.get("retry_after"), retry_before=data.get("retry_before"))
    elif event in ("loaned", "shipped"):
        item = request.item
        barcode = data.get("item_id") or (item.primary_barcode if item else "")
        delivery = iso.DeliveryInfo(date_sent=now_ms(), item_ids=[barcode] if barcode else [])
    elif event in ("copy_completed", "shipped_digitally"):
        url = data.get("link") or data.get("url") or request.digital_url
        delivery = iso.DeliveryInfo(date_sent=now_ms(), url=url or None)
        if url and url not in note:
            note = "\n".join(n for n in (note, url) if n)
    if status in (iso.Status.LOAN_COMPLETED, iso.Status.UNFILLED, iso.Status.CANCELLED,
                  iso.Status.COPY_COMPLETED):
        due = None
    partner = request.partner
    body = iso.SupplyingAgencyMessage(
        header=iso.Header(supplying_agency_id=agency_of(request.institution),
                          requesting_agency_id=agency_of(partner),
                          requesting_agency_request_id=request.partner_request_id,
                          supplying_agency_request_id=request.number, timestamp=now_ms()),
        message_info=iso.MessageInfo(reason_for_message=reason, answer_yes_no=answer,
                                     note=note or None, reason_unfilled=reason_unfilled,
                                     reason_retry=reason_retry),
        status_info=iso.StatusInfo(status=status, due_date=due, last_change=now_ms()),
        retry_info=retry, delivery_info=delivery)
    return queue(request=request, partner=partner, body=body)


# What the partner hears at each step. E-mail partners get the letter; ISO 18626 partners
# will get the message in the comment (SAM = supplying agency message).
PARTNER_LETTERS = {
    "will_supply": "lending_will_supply",        # SAM RequestResponse WillSupply
    "conditional": "lending_conditional",        # SAM WillSupply + deliveryInfo/loanCondition
    "unfilled": "lending_unfilled",              # SAM RequestResponse Unfilled + reasonUnfilled
    "shipped": "lending_shipped",                # SAM StatusChange Loaned (+ dueDate, itemId)
    "shipped_digitally": "lending_shipped",      # SAM StatusChange CopyCompleted
    "renewal_answer": "lending_renewal_answer",  # SAM RenewResponse answerYesNo (+ dueDate)
    "cancel_answer": "lending_cancel_answer",    # SAM CancelResponse answerYesNo
    "overdue": "lending_overdue",                # SAM StatusChange Overdue
    "recall": "lending_recall",                  # SAM StatusChange Recalled
    "checked_in": "lending_checked_in",          # SAM StatusChange LoanCompleted
    "expired": "lending_unfilled",               # SAM RequestResponse Unfilled
}


def tell_partner(request: LendingRequest, event: str, user=None, attachments=(),
                 **data) -> None:
    """Tell the requesting partner about a step, in its channel, once the change commits.

    Call inside the state change's transaction, so nothing is sent for a change that did
    not happen."""
    partner = request.partner
    if partner.is_iso:
        lending_event(request=request, event=event, user=user, **data)
        return
    # Kept with the change and sent after commit, even if the broker is down then.
    with translation.override(letter_language(institution=request.institution,
                                              language=partner.language)):
        context = letter_context(request, **data)
    queue_letter(institution=request.institution, code=PARTNER_LETTERS[event],
                 to=partner.email, language=partner.language, context=context, about=request,
                 sent_by=user if getattr(user, "pk", None) else None,
                 attachments=list(attachments))
