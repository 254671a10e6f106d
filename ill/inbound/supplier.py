"""ISO 18626 from a supplying partner (we borrow): a supplying-agency message (SAM) moves
the borrowing request whose rota attempt carries its requestingAgencyRequestId, always
through the borrowing services; a message that fits no step is refused (ERROR) and, where
staff must know, flags the request."""

from __future__ import annotations

import datetime
import re

from django.db import connection

from ill import iso18626 as iso
from ill.borrowing import services as bs
from ill.borrowing.selectors import offer_of
from ill.inbound.common import (
    ET,
    PARTNER,
    ROUTING_FIELDS,
    Refusal,
    in_model_order,
    message_on,
    row_lock,
)
from ill.models import BorrowingRequest, RotaEntry
from ill.outbox.wire import first_url
from ill.workflow import flag
from kauko.i18n import gettext as _  # history notes read in each reader's language

BR = BorrowingRequest


BORROWING_ROUTING_FIELDS = (*ROUTING_FIELDS, "request_type", "partner_due_date")


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


def on_sam(body: iso.SupplyingAgencyMessage, stored, institution, partner) -> None:
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
    load on demand). One plain query: this runs for every supplier message. The request's
    row stays locked for the message's transaction (see `row_lock`)."""
    # from_db() takes the values in the model's field order.
    entry_fields = in_model_order(RotaEntry, ("id", "outcome", "partner_id", "attempt_id",
                                               "position", "request_id"))
    request_fields = in_model_order(BR, BORROWING_ROUTING_FIELDS)
    columns = ", ".join([*(f"e.{c}" for c in entry_fields), *(f"r.{c}" for c in request_fields)])
    sql = (f"SELECT {columns} FROM {RotaEntry._meta.db_table} e "
           f"JOIN {BR._meta.db_table} r ON r.id = e.request_id "
           f"WHERE e.attempt_id = %s AND r.institution_id = %s LIMIT 1{row_lock('r')}")
    with connection.cursor() as cursor:
        cursor.execute(sql, [rid, institution.pk])
        row = cursor.fetchone()
    if row is None:
        return None
    n = len(entry_fields)
    entry = RotaEntry.from_db(connection.alias, entry_fields, row[:n])
    entry.request = BR.from_db(connection.alias, request_fields, row[n:])
    return entry


def _late_answer(body, stored, request, rid) -> None:
    """An answer to an earlier rota attempt: never applied to the current one."""
    status = body.status_info.status
    reason = body.message_info.reason_for_message
    if reason in HARMLESS_LATE_REASONS or status in HARMLESS_LATE_STATUSES:
        message_on(request, stored, _("From an earlier attempt (%(id)s): %(what)s") % {
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
        message_on(request, stored, note)
        return
    if reason == R.NOTIFICATION or status is None:
        if _has_condition(body) and current in (S.SENT, S.ACCEPTED, S.WILL_SUPPLY):
            bs.borrowing_request_conditional(request=request, condition=_condition_text(body),
                                             source=PARTNER)
        else:
            message_on(request, stored, note)
            if current in NOTIFIED_AHEAD.get(status, ()):
                flag(request=request, reason=_(
                    "The partner's message gives its status as %(status)s, which never came "
                    "as a status change: check the request with the partner.") % {
                    "status": status})
        return
    if status == St.REQUEST_RECEIVED:
        if current not in BR.AT_PARTNER:
            refuse(_("status: RequestReceived does not fit request %(number)s (%(status)s)")
                   % {"number": request.number, "status": request.get_status_display()})
        message_on(request, stored, note)
    elif status == St.EXPECT_TO_SUPPLY:
        if current == S.SENT:
            bs.borrowing_request_accepted(request=request, note=note, source=PARTNER)
        elif current in (S.ACCEPTED, S.WILL_SUPPLY, S.CONDITIONAL):
            message_on(request, stored, note)
        else:
            _does_not_fit(request, status)
    elif status == St.WILL_SUPPLY:
        if _has_condition(body):
            if current == S.CONDITIONAL:
                message_on(request, stored, note)
            else:
                bs.borrowing_request_conditional(request=request,
                                                 condition=_condition_text(body),
                                                 source=PARTNER)
        elif current == S.WILL_SUPPLY:
            message_on(request, stored, note)
        else:
            bs.borrowing_request_will_supply(request=request, note=note, source=PARTNER)
    elif status == St.RETRY_POSSIBLE:
        if current not in BR.AT_PARTNER:
            _does_not_fit(request, status)
        why = offer_of(body).describe()
        message_on(request, stored, _("Retry possible: %(why)s") % {"why": why})
        flag(request=request, reason=_("The partner offers a retry (%(why)s): retry or give up.") % {
            "why": why})
    elif status == St.UNFILLED:
        if current not in BR.AT_PARTNER:
            _does_not_fit(request, status)
        why = ": ".join(p for p in (str(info.reason_unfilled or ""), note) if p)
        request = bs.borrowing_request_rejected(
            request=request, reason=why or _("Unfilled"), source=PARTNER)
        bs.borrowing_request_send_to_next(request=request)
    elif status == St.LOANED and not request.is_physical and current in BR.AT_PARTNER:
        # A copy "loaned" with its link (CrossLink's illmock does this): delivered.
        items = body.delivery_info.item_ids if body.delivery_info else []
        url = (body.delivery_info.url if body.delivery_info else None) or first_url(
            " ".join([*items, note]))
        if url:
            bs.borrowing_request_shipped_digitally(request=request, url=url, source=PARTNER)
        else:
            # Sent by e-mail or post (illmock, asked to deliver to our e-mail address).
            method = str(body.delivery_info.delivery_method or "") if body.delivery_info else ""
            bs.borrowing_request_copy_sent_without_link(request=request, note=" ".join(
                p for p in (method and _("Sent by %(method)s.") % {"method": method}, note)
                if p))
    elif status == St.LOANED:
        if current in BR.AT_PARTNER:
            items = body.delivery_info.item_ids if body.delivery_info else []
            # An itemId that is a link (illmock sends http://example.com/123456789 for a
            # request without a delivery address) is not the item's barcode.
            barcode = next((i for i in items if not first_url(i)), "")
            bs.borrowing_request_shipped(request=request, due_date=_utc_date(
                status_info.due_date), barcode=barcode, source=PARTNER, note=note)
        elif current in (S.SHIPPED_PHYSICAL, *BR.HAS_ITEM):
            message_on(request, stored, note)
        else:
            _does_not_fit(request, status)
    elif status == St.COPY_COMPLETED:
        url = (body.delivery_info.url if body.delivery_info else None) or first_url(note)
        if url:
            bs.borrowing_request_shipped_digitally(request=request, url=url, source=PARTNER)
        elif current in BR.AT_PARTNER:
            # The copy comes by e-mail or post (CrossLink's illmock sends no deliveryInfo).
            bs.borrowing_request_copy_sent_without_link(request=request, note=note)
        else:
            _does_not_fit(request, status)
    elif status == St.OVERDUE:
        if current == S.OVERDUE:
            message_on(request, stored, note)
        elif current in (S.RECEIVED, S.RETURNED_BY_PATRON):
            # The item is here but not with a patron: parked for staff, who get it back.
            message_on(request, stored, _("Overdue at the partner. %(note)s") % {
                "note": note})
            flag(request=request, reason=_("The partner says the item is overdue."))
        else:
            bs.borrowing_request_overdue(request=request, source=PARTNER, note=note)
    elif status == St.RECALLED:
        if current == S.RECALLED:
            message_on(request, stored, note)
        else:
            bs.borrowing_request_recalled(request=request, source=PARTNER, note=note,
                                          new_due_date=_utc_date(status_info.due_date))
    elif status in (St.LOAN_COMPLETED, St.COMPLETED_WITHOUT_RETURN):
        if current == S.COMPLETED:
            message_on(request, stored, note)
        elif current in BR.AT_PARTNER:
            # Its first and only answer (illmock's COMPLETED scenario): nothing came.
            bs.borrowing_request_closed_by_partner(request=request, status=str(status),
                                                   note=note)
        else:
            bs.borrowing_request_complete(request=request, source=PARTNER, note=note)
    elif status == St.CANCELLED:
        if current == S.WAITING_CANCEL:
            bs.borrowing_request_cancel_answer(request=request, cancelled=True,
                                               source=PARTNER, note=note)
        elif current in BR.AT_PARTNER:
            bs.borrowing_request_cancelled_by_partner(request=request, reason=note,
                                                      source=PARTNER)
        else:
            _does_not_fit(request, status)
    else:
        refuse(_("status: %(status)s is not handled here") % {"status": status})


def _does_not_fit(request, status) -> None:
    raise Refusal(ET.UNRECOGNISED_DATA_VALUE, _(
        "status: %(status)s does not fit request %(number)s, which is “%(current)s”") % {
        "status": status, "number": request.number, "current": request.get_status_display()})
