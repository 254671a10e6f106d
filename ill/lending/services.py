"""Lending: the business rules behind every staff action on a lending request.

Each service takes keyword arguments, changes the status through `ill.workflow` (row lock,
transition check, version, history) and moves our item inside that same transaction, with
the item row locked: the item's status and location always agree with the request's status.
What the partner is told goes through `tell_partner`, after commit: a letter to an e-mail
partner now, an ISO 18626 message later (the event names are the ISO steps of DOMAIN.md §5).
"""

from __future__ import annotations

import datetime
import mimetypes
import secrets
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from circulation.services import holds_waiting_for, item_lock, item_set_status
from fulfillment.models import Item, Library, normalize_barcode
from fulfillment.selectors import item_by_barcode, rs_library_for, terms_of_use_for
from ill.lending.locate import find_candidates, is_available
from ill.lending.messages import lending_event, tell_partner
from ill.models import LendingCandidate, LendingRequest, Source, next_number
from ill.outbox.services import partner_note_text
from ill.workflow import WorkflowError, change_state, record, update_fields
from kauko.formats import short_date
from kauko.i18n import gettext as _  # history notes read in each reader's language

LR = LendingRequest
DEFAULT_LOAN_DAYS = 28


# --- our item ---------------------------------------------------------------------------------


def _outgoing_location(request: LendingRequest):
    location = request.rs_library.outgoing_location
    if location is None:
        raise WorkflowError(_("The resource sharing library has no outgoing location: a "
                              "configuration admin must set one first."))
    return location


def _take_item(request: LendingRequest, item: Item) -> Item:
    """Our item joins the resource sharing process: status set, moved to the outgoing
    location until it comes back. The row is locked so a desk loan at the same moment
    cannot take it too."""
    outgoing = _outgoing_location(request)
    locked = item_lock(item_id=item.pk)
    if locked.institution_id != request.institution_id or locked.is_temporary:
        raise WorkflowError(_("Pick one of our own items."))
    if not is_available(locked):
        raise WorkflowError(_("That item is “%(status)s”: it cannot be lent now.")
                            % {"status": locked.get_status_display()})
    request.item = item_set_status(item=locked, status=Item.Status.RESOURCE_SHARING,
                                   location=outgoing)
    return request.item


def _release_item(request: LendingRequest, status: str = Item.Status.IN_PLACE) -> None:
    """Our item goes back to its permanent location (and, unless lost or damaged, on the
    shelf)."""
    if request.item_id is None:
        return
    locked = item_lock(item_id=request.item_id)
    if locked.status != Item.Status.RESOURCE_SHARING and status == Item.Status.IN_PLACE:
        return  # someone already put it elsewhere (e.g. declared it missing): leave it
    item_set_status(item=locked, status=status, location=locked.permanent_location)


def _check_scanned(request: LendingRequest, barcode: str) -> None:
    """The scanned barcode must be this request's item (any of its barcodes)."""
    if not normalize_barcode(barcode or ""):
        raise WorkflowError(_("Scan the item's barcode to confirm it is the right item."))
    if request.item_id is None:
        raise WorkflowError(_("No item is located for this request yet."))
    scanned = item_by_barcode(institution=request.institution, barcode=barcode)
    if scanned is None or scanned.pk != request.item_id:
        raise WorkflowError(_("Barcode %(barcode)s is not this request's item (%(expected)s). "
                              "Check that you have the right book.")
                            % {"barcode": normalize_barcode(barcode),
                               "expected": request.item.primary_barcode})


def default_due_date(request: LendingRequest, *, today: datetime.date | None = None
                     ) -> datetime.date:
    """The due date the lending terms of use give: those of the outgoing location, where
    our item waits while it is away."""
    today = today or timezone.localdate()
    days = DEFAULT_LOAN_DAYS
    if request.item_id:
        terms = terms_of_use_for(item=request.item, patron_group_code=None)
        if terms is not None:
            days = terms.loan_period_days
    return today + datetime.timedelta(days=days)


def item_has_other_holds(request: LendingRequest) -> bool:
    """Our own patrons waiting for this title: then a renewal must not go automatically."""
    if request.item_id is None:
        return False
    return holds_waiting_for(institution_id=request.institution_id,
                             bib_id=request.item.bib_id)


# --- creation and locate ---------------------------------------------------------------------


@transaction.atomic
def lending_request_create(
    *,
    institution,
    partner,
    citation: dict,
    partner_request_id: str = "",
    service_type: str = LR.ServiceType.LOAN,
    needed_before: datetime.date | None = None,
    requested_delivery: str = "",
    delivery_address: str = "",
    max_cost: Decimal | None = None,
    partner_note: str = "",
    internal_note: str = "",
    user=None,
    source: str = Source.STAFF,
    rs_library: Library | None = None,
    locate: bool = True,
) -> LendingRequest:
    """A partner's request, entered by staff from its e-mail (or made from an ISO 18626
    `request`), then located in our catalogue at once."""
    if partner.institution_id != institution.pk:
        raise WorkflowError(_("%(partner)s is another institution's partner.")
                            % {"partner": partner})
    if not (citation.get("title") or "").strip():
        raise WorkflowError(_("A request needs at least a title."))
    unknown = set(citation) - set(LR.CITATION_FIELDS)
    if unknown:
        raise ValueError(f"unknown citation fields: {sorted(unknown)}")
    partner_request_id = (partner_request_id or "").strip()
    if partner_request_id:
        existing = LendingRequest.objects.filter(
            institution=institution, partner=partner,
            partner_request_id=partner_request_id).first()
        if existing is not None:
            raise WorkflowError(_("%(partner)s's request %(id)s is already here as "
                                  "%(number)s.") % {"partner": partner.name,
                                                    "id": partner_request_id,
                                                    "number": existing.number})
    request = LendingRequest(
        institution=institution, partner=partner, partner_request_id=partner_request_id,
        rs_library=rs_library or rs_library_for(institution=institution), service_type=service_type,
        needed_before=needed_before, requested_delivery=requested_delivery,
        delivery_address=delivery_address, max_cost=max_cost, partner_note=partner_note,
        internal_note=internal_note, source=source,
        created_by=user if user is not None and user.pk else None,
        number=next_number(institution=institution, name="lending", prefix="L"),
        **{k: (v or "").strip() for k, v in citation.items()},
    )
    try:
        with transaction.atomic():
            request.save()
    except IntegrityError:  # the same id created a moment ago by someone else
        raise WorkflowError(_("%(partner)s's request %(id)s is already here.")
                            % {"partner": partner.name, "id": partner_request_id}) from None
    record(request=request, action="create", user=user, source=source,
           to_status=request.status, note=_("Created by %(who)s.") % {
               "who": Source(source).label})
    if locate:
        request = lending_request_locate(request=request, user=user, source=Source.SYSTEM)
    return request


def _store_candidates(request: LendingRequest, candidates) -> None:
    LendingCandidate.objects.filter(request=request).exclude(
        matched_by=LendingCandidate.MatchedBy.STAFF).delete()
    known = set(LendingCandidate.objects.filter(request=request).values_list("item_id",
                                                                              flat=True))
    LendingCandidate.objects.bulk_create([
        LendingCandidate(request=request, item=c.item, matched_by=c.matched_by)
        for c in candidates if c.item.pk not in known])


def lending_request_locate(*, request, user=None, version=None, source=Source.STAFF):
    """Match the citation against our catalogue. An available match is taken at once
    (the item goes to the outgoing location and on the pick list); without one the request
    is "locate failed" and staff locate by hand or reject."""
    if request.status not in (LR.S.CREATED, LR.S.LOCATE_FAILED):
        raise WorkflowError(_("An item is already located; choose another one instead."))
    candidates = find_candidates(request)
    _store_candidates(request, candidates)
    available = [c for c in candidates if c.available]
    for candidate in available:
        try:
            return change_state(
                request=request, transition="locate_item", user=user, version=version,
                source=source, apply=lambda r, c=candidate: _take_item(r, c.item),
                note=_("Located %(item)s (by %(how)s).") % {
                    "item": candidate.item,
                    "how": LendingCandidate.MatchedBy(candidate.matched_by).label})
        except WorkflowError:
            continue  # taken by someone else since the search: try the next one
    if not candidates:
        note = _("No match in our catalogue.")
    else:
        note = _("%(n)s matching items, none available.") % {"n": len(candidates)}
    if request.status == LR.S.CREATED:
        return change_state(request=request, transition="locate_failed", user=user,
                            version=version, source=source, note=note)
    record(request=request, action="locate", user=user, source=source, note=note,
           from_status=request.status, to_status=request.status)
    return request


def lending_request_choose_item(*, request, item: Item, user, version=None):
    """Staff locate by hand, or choose another of the candidates."""
    def apply(r):
        if r.item_id == item.pk:
            raise WorkflowError(_("That item is already the one chosen."))
        _release_item(r)
        _take_item(r, item)
        LendingCandidate.objects.get_or_create(
            request=r, item=item,
            defaults={"matched_by": LendingCandidate.MatchedBy.STAFF})

    note = _("Item chosen: %(item)s.") % {"item": item}
    if request.status in (LR.S.CREATED, LR.S.LOCATE_FAILED):
        return change_state(request=request, transition="locate_item", user=user,
                            version=version, apply=apply, note=note,
                            action="choose_item")
    if request.status not in (LR.S.PROCESSING, LR.S.WILL_SUPPLY, LR.S.CONDITIONAL):
        raise WorkflowError(_("The item can be changed only before it is shipped."))
    return update_fields(request=request, user=user, version=version, action="choose_item",
                         apply=apply, note=note)


# --- answering ---------------------------------------------------------------------------------


def lending_request_will_supply(*, request, user=None, version=None, note="",
                                source=Source.STAFF):
    def apply(r):
        tell_partner(r, "will_supply", user, message=note)

    return change_state(request=request, transition="supply", user=user, version=version,
                        apply=apply, note=note, source=source)


def lending_request_conditional(*, request, condition: str, reply_by=None, cost=None,
                                user=None, version=None, note="", source=Source.STAFF):
    condition = (condition or "").strip()
    if cost is not None:
        cost_text = _("Cost: %(cost)s") % {"cost": cost}
        condition = f"{condition}; {cost_text}" if condition else cost_text
    if not condition:
        raise WorkflowError(_("Say what the condition is."))

    def apply(r):
        r.condition_text = condition
        r.condition_cost = cost
        r.condition_reply_by = reply_by
        r.condition_answer = LR.ConditionAnswer.PENDING
        tell_partner(r, "conditional", user, message=note)

    return change_state(request=request, transition="offer_conditions", user=user,
                        version=version, apply=apply, source=source,
                        note=_("Condition: %(c)s") % {"c": condition})


def lending_request_condition_answer(*, request, accepted: bool, user=None, version=None,
                                     note="", source=Source.STAFF):
    """The borrower accepted (we go on as will supply) or refused (the request ends and
    the item goes back)."""
    def apply(r):
        r.condition_answer = (LR.ConditionAnswer.ACCEPTED if accepted
                              else LR.ConditionAnswer.REFUSED)
        if not accepted:
            r.reason = note or _("The borrower did not accept our conditions.")
            _release_item(r)

    return change_state(
        request=request, user=user, version=version, apply=apply, source=source,
        transition="conditions_accepted" if accepted else "conditions_refused",
        note=note or (_("The borrower accepted the condition.") if accepted
                      else _("The borrower refused the condition.")))


def lending_request_reject(*, request, reason_code: str, reason: str = "", user=None,
                           version=None, source=Source.STAFF):
    """We cannot supply: the reason goes to the partner, the item back to its shelf."""
    if reason_code not in LR.UnfilledReason.values:
        raise WorkflowError(_("Choose why we cannot supply."))
    text = (reason or "").strip() or str(LR.UnfilledReason(reason_code).label)

    def apply(r):
        r.unfilled_reason = reason_code
        r.reason = text
        _release_item(r)
        tell_partner(r, "unfilled", user)

    return change_state(request=request, transition="unfilled", user=user, version=version,
                        apply=apply, source=source,
                        note=_("Unfilled: %(reason)s") % {"reason": text})


#: How long the partner may fetch a copy we uploaded.
COPY_LINK_DAYS = 30

#: ISO 18626 reasonRetry codes staff can choose from (the standard's open list).
RETRY_REASONS = ("NotFoundAsCited", "OnLoan", "CostExceedsMaxCost", "LoanCondition",
                 "AtBindery", "OnOrder", "MultiVolAvail", "ReqDelDateNotPossible",
                 "ReqDelMethodNotSupp", "ReqEditionNotPossible", "ReqFormatNotPossible",
                 "ReqServTypeNotPossible", "NotCurrentAvailableForILL")


def lending_request_offer_retry(*, request, reason_retry: str, note: str = "",
                                cost: Decimal | None = None, currency: str = "",
                                retry_after: datetime.datetime | None = None, user=None,
                                version=None, source=Source.STAFF):
    """We cannot supply it as asked but could otherwise: an ISO 18626 RetryPossible with
    the reason (and a cost, a date from which to ask again, a note). This request ends; the
    partner asks again with a new request (requestType Retry)."""
    if not request.partner.is_iso:
        raise WorkflowError(_("Only an ISO 18626 partner can be offered a retry."))
    if reason_retry not in RETRY_REASONS:
        raise WorkflowError(_("Choose why the partner may ask again."))
    currency = (currency or "EUR").strip().upper()
    if len(currency) != 3 or not currency.isalpha():
        raise WorkflowError(_("A currency is a three-letter ISO 4217 code, e.g. EUR."))
    if reason_retry == "CostExceedsMaxCost" and cost is None:
        raise WorkflowError(_("Say what it would cost."))
    text = (note or "").strip()

    def apply(r):
        r.unfilled_reason = LendingRequest.UnfilledReason.OTHER
        r.reason = ": ".join(p for p in (reason_retry, text) if p)
        _release_item(r)
        tell_partner(r, "retry_possible", user, reason_retry=reason_retry, note=text,
                     cost=cost, currency=currency, retry_after=retry_after)

    return change_state(request=request, transition="unfilled", user=user, version=version,
                        apply=apply, source=source, action="retry_possible",
                        note=_("Retry offered: %(reason)s") % {"reason": _retry_text(
                            reason_retry, text, cost, currency)})


def _retry_text(reason: str, note: str, cost, currency: str) -> str:
    parts = [reason]
    if cost is not None:
        parts.append(f"{cost} {currency}")
    if note:
        parts.append(note)
    return "; ".join(parts)


# --- shipping ----------------------------------------------------------------------------------


def lending_request_ship(*, request, barcode: str | None, due_date=None, user=None,
                         version=None, note="", source=Source.STAFF):
    """Our item leaves, with the due date the lending terms give unless staff changed it.
    It stays in the outgoing location, in the resource sharing process: the request, not a
    loan to a card standing for the partner, tracks it.

    `barcode` is what staff scanned to confirm the item; None only for a bulk shipment
    from the list, which the history then says was not scanned."""
    _refuse_while_cancel_asked(request)
    if not request.rs_library.may_ship_to_partners:
        raise WorkflowError(_("%(library)s does not ship to other libraries: supply a copy, "
                              "or answer that we cannot supply.")
                            % {"library": request.rs_library.name})
    if barcode is not None:
        _check_scanned(request, barcode)
    due = due_date or default_due_date(request)
    if due < timezone.localdate():
        raise WorkflowError(_("The due date is in the past."))

    def apply(r):
        r.due_date = due
        r.shipped_at = timezone.now()
        r.pull_slip_printed_at = r.pull_slip_printed_at or r.shipped_at
        tell_partner(r, "shipped", user, message=note)

    return change_state(request=request, transition="ship_loan", user=user, version=version,
                        apply=apply, source=source,
                        note=_("Shipped, due %(date)s.") % {"date": date_format(due, "SHORT_DATE_FORMAT")}
                        + ("" if barcode is not None else " " + _("(Bulk: not scanned.)")))


def lending_request_ship_digitally(*, request, url: str = "", uploaded_file=None, user=None,
                                   version=None, note="", source=Source.STAFF):
    if not url and uploaded_file is None:
        raise WorkflowError(_("Give the link or upload the file."))

    def apply(r):
        r.digital_url = url
        attachments = []
        link = url
        if uploaded_file is not None:
            r.digital_file.save(uploaded_file.name, uploaded_file, save=False)
            uploaded_file.seek(0)
            attachments.append((uploaded_file.name.rsplit("/", 1)[-1], uploaded_file.read(),
                                mimetypes.guess_type(uploaded_file.name)[0]
                                or "application/octet-stream"))
            if not url and r.partner.is_iso:
                # An ISO 18626 partner fetches the file from us, under an expiring link
                # (an e-mail partner gets it attached to the letter).
                r.download_token = secrets.token_urlsafe(32)
                r.download_expires_at = timezone.now() + datetime.timedelta(
                    days=COPY_LINK_DAYS)
                link = settings.KAUKO_BASE_URL + reverse("ill:lending_copy_download",
                                                         args=[r.download_token])
        r.shipped_at = timezone.now()
        _release_item(r)  # copied from our volume: it goes back on the shelf
        tell_partner(r, "shipped_digitally", user, attachments=attachments, link=link,
                     message=note)

    return change_state(request=request, transition="ship_copy", user=user, version=version,
                        apply=apply, source=source, note=url or _("File sent."))


def copy_fetched(*, token: str) -> LendingRequest | None:
    """The partner fetched the copy we uploaded: the request, or None when the link is
    unknown or expired. The first fetch goes in the history."""
    if not token:
        return None
    with transaction.atomic():
        request = (LendingRequest.objects.select_for_update()
                   .filter(download_token=token).first())
        if request is None or not request.digital_file:
            return None
        if request.download_expires_at and request.download_expires_at < timezone.now():
            return None
        if not request.history.filter(action="copy_fetched").exists():
            record(request=request, action="copy_fetched", source=Source.PARTNER,
                   note=_("The partner fetched the copy."))
    return request


def lending_request_partner_received(*, request, user=None, version=None, note="",
                                     source=Source.STAFF):
    return change_state(request=request, transition="partner_received", user=user,
                        version=version, note=note, source=source)


# --- renewals ----------------------------------------------------------------------------------


def renewal_due_date(request: LendingRequest, *, today=None) -> datetime.date:
    """What a yes gives by default (staff's form, the automatic renewal): one more loan
    period from the current due date (from today when there is none, or it has passed)."""
    today = today or timezone.localdate()
    start = max(request.due_date, today) if request.due_date else today
    return default_due_date(request, today=start)


def lending_request_renewal_asked(*, request, user=None, version=None, note="",
                                  source=Source.STAFF):
    """The borrower asks to renew. With automatic renewal in the partner's profile the
    answer goes at once, unless our own patrons are waiting for the title."""
    request = change_state(request=request, transition="renewal_asked", user=user,
                           version=version, note=note, source=source)
    return auto_renew(request=request) or request


def auto_renew(*, request) -> LendingRequest | None:
    profile = request.profile
    if (request.status != LR.S.RENEW_REQUESTED or profile is None or not profile.auto_renew
            or item_has_other_holds(request)):
        return None
    return lending_request_renewal_answer(
        request=request, granted=True, new_due_date=renewal_due_date(request),
        source=Source.SYSTEM, note=_("Renewed automatically (workflow profile)."))


def lending_request_renewal_answer(*, request, granted: bool, new_due_date=None, user=None,
                                   version=None, note="", source=Source.STAFF):
    if granted:
        if new_due_date is None:
            raise WorkflowError(_("Give the new due date."))
        if new_due_date < timezone.localdate():
            raise WorkflowError(_("The new due date is in the past."))
        if request.due_date and new_due_date <= request.due_date:
            # A "renewal" to the same date extends nothing, yet the borrower's patron would
            # be told it as their new due date.
            raise WorkflowError(_(
                "A renewal needs a due date after the current one (%(date)s).")
                % {"date": date_format(request.due_date, "SHORT_DATE_FORMAT")})

    def apply(r):
        if granted:
            r.renewals += 1
            r.due_date = new_due_date
        tell_partner(r, "renewal_answer", user, message=note if source != Source.SYSTEM
                     else "", renewal={"answer": "yes" if granted else "no",
                                       "new_due_date": new_due_date if granted else None})

    return change_state(
        request=request, transition="renew_yes" if granted else "renew_no", user=user,
        version=version, apply=apply, source=source,
        note=note or (_("Renewed until %(date)s.") % {"date": date_format(new_due_date, "SHORT_DATE_FORMAT")}
                      if granted else _("Renewal refused.")))


# --- cancelling --------------------------------------------------------------------------------


def lending_request_cancel_answer(*, request, cancelled: bool, user=None, version=None,
                                  note="", source=Source.STAFF):
    """The partner asked to cancel: yes ends the request (the item goes back), no leaves
    it as it is. Either way the partner hears the answer."""
    if cancelled:
        def apply(r):
            r.reason = note or _("Cancelled at the partner's request.")
            r.cancel_requested_at = None
            _release_item(r)
            tell_partner(r, "cancel_answer", user, answer="yes", message=note)

        return change_state(request=request, transition="cancel_yes", user=user,
                            version=version, apply=apply, source=source,
                            note=note or _("Cancelled at the partner's request."))
    if request.is_final:
        raise WorkflowError(_("The request is closed already."))
    return update_fields(
        request=request, user=user, version=version, action="cancel_refused", source=source,
        note=note or _("We did not agree to cancel."),
        apply=lambda r: _cancel_refused(r, user, note))


def _cancel_refused(r, user, note) -> None:
    if r.cancel_requested_at and r.needs_attention:  # the flag asked for this answer
        r.needs_attention, r.attention_reason = False, ""
    r.cancel_requested_at = None
    tell_partner(r, "cancel_answer", user, answer="no", message=note)


def lending_request_cancel_asked(*, request, note="", source=Source.PARTNER):
    """The partner asks to cancel while our item may already be off the shelf: staff
    answer yes or no. Until then the request is flagged, marked on the pick list, and
    shipping it is refused."""
    def apply(r):
        r.cancel_requested_at = timezone.now()
        r.needs_attention = True
        r.attention_reason = _("The partner asks to cancel: answer yes or no.")

    return update_fields(request=request, action="partner_message", source=source,
                         apply=apply, note=_("The partner asks to cancel: %(note)s") % {
                             "note": note or "–"})


def _refuse_while_cancel_asked(request) -> None:
    if request.cancel_requested_at:
        raise WorkflowError(_("The partner asked to cancel request %(number)s: answer that "
                              "first (Cancel at the partner's request, or refuse).")
                            % {"number": request.number})


# --- while away and back home ---------------------------------------------------------------


def lending_request_overdue_notice(*, request, user=None, version=None, note="",
                                   source=Source.STAFF):
    """Tell the borrower our item is overdue: the first notice moves the request to
    overdue, later ones are reminders."""
    if request.due_date is None or request.due_date >= timezone.localdate():
        raise WorkflowError(_("The item is not overdue yet."))

    def apply(r):
        r.last_overdue_notice_at = timezone.now()
        tell_partner(r, "overdue", user, message=note)

    if request.status == LR.S.OVERDUE:
        return update_fields(request=request, user=user, version=version, source=source,
                             action="overdue_notice", apply=apply,
                             note=note or _("Overdue notice sent again."))
    return change_state(request=request, transition="become_overdue", user=user,
                        version=version, apply=apply, source=source,
                        note=note or _("Overdue since %(date)s.")
                        % {"date": short_date(request.due_date)})


def lending_request_recall(*, request, new_due_date=None, user=None, version=None, note="",
                           source=Source.STAFF):
    def apply(r):
        if new_due_date is not None:
            r.due_date = new_due_date
        tell_partner(r, "recall", user, message=note)

    return change_state(request=request, transition="recall_item", user=user,
                        version=version, apply=apply, source=source, note=note)


def lending_request_returned(*, request, user=None, version=None, note="",
                             source=Source.STAFF):
    """The borrower says it has sent our item back (ISO ShippedReturn)."""
    def apply(r):
        r.returned_at = timezone.now()

    return change_state(request=request, transition="partner_returned", user=user,
                        version=version, apply=apply, note=note, source=source)


def lending_request_check_in(*, request, barcode: str, user=None, version=None, note="",
                             source=Source.STAFF):
    """Our item is back: scanned, it returns to its permanent location and shelf status,
    and the request completes."""
    _check_scanned(request, barcode)

    def apply(r):
        r.checked_in_at = timezone.now()
        r.returned_at = r.returned_at or r.checked_in_at
        _release_item(r)
        profile = r.profile
        if profile is None or profile.send_checked_in:
            tell_partner(r, "checked_in", user)

    return change_state(request=request, transition="check_in", user=user, version=version,
                        apply=apply, source=source, note=note or _("Checked in."))


def lending_request_report(*, request, what: str, user=None, version=None, note="",
                           source=Source.STAFF):
    """The borrower lost or damaged our item. It is written off as such at home: it no
    longer waits in the outgoing location."""
    if what not in ("lost", "damaged"):
        raise ValueError(what)

    def apply(r):
        _release_item(r, status=Item.Status.LOST if what == "lost" else Item.Status.DAMAGED)

    return change_state(request=request, transition=f"declare_{what}", user=user,
                        version=version, apply=apply, source=source, note=note)


def lending_request_expire(*, request, user=None, source=Source.SYSTEM, note=""):
    def apply(r):
        r.reason = note or _("Not answered in time.")
        _release_item(r)
        tell_partner(r, "expired", user)

    return change_state(request=request, transition="expire", user=user, apply=apply,
                        source=source, note=note or _("Not answered in time."))


# --- pick list -------------------------------------------------------------------------------


def lending_pull_slips_printed(*, requests, user) -> list[LendingRequest]:
    """Mark pull slips printed (each request's history says so)."""
    done = []
    for r in requests:
        if r.status not in LR.PICK_LIST or r.item_id is None:
            continue

        def apply(locked):
            locked.pull_slip_printed_at = timezone.now()

        done.append(update_fields(request=r, user=user, action="pull_slip_printed",
                                  apply=apply, note=_("Pull slip printed.")))
    return done


def lending_request_partner_note(*, request, note: str, user=None, version=None):
    """A free-text message to the partner (ISO 18626 only): a Notification on its request."""
    note = partner_note_text(request=request, note=note)
    return update_fields(
        request=request, user=user, version=version, action="partner_note", note=note,
        apply=lambda r: lending_event(request=r, event="notification", user=user, note=note))


# --- ISO 18626: what only a partner's message asks for ------------------------------------------


def lending_request_cancelled_during_conditions(*, request, note="", source=Source.PARTNER):
    """The borrower asked to cancel while our conditions waited for its answer: that is a
    refusal of the conditions (DOMAIN.md §5), the request ends and the partner hears yes."""
    with transaction.atomic():
        request = lending_request_condition_answer(request=request, accepted=False, note=note,
                                                   source=source)
        lending_event(request=request, event="cancel_answer", answer="yes")
    return request


def lending_request_status_asked(*, request, note=""):
    """The partner asked where its request stands: noted on the request and answered."""
    with transaction.atomic():
        record(request=request, action="partner_message", source=Source.PARTNER,
               note=note or _("The partner asked for the status."),
               from_status=request.status, to_status=request.status)
        lending_event(request=request, event="status_response")
    return request
