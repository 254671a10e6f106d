"""Borrowing: the business rules behind every staff action.

Each service takes keyword arguments, goes through `ill.workflow` for status changes (row
lock, transition check, version, history), and leaves letters and messages to partners to
run after commit. Views, forms, tasks and (later) ISO 18626 messages only parse input and
call these.
"""

from __future__ import annotations

import datetime
import logging
import secrets
from decimal import Decimal

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format

from circulation.services import (
    TEMPORARY_RECORD_FIELDS,
    DeskError,
    end_of_day,
    hold_create,
    item_add_barcode,
    item_lock,
    item_set_status,
    loan_set_due,
    temporary_item_create,
    temporary_item_describe,
    temporary_item_place,
    temporary_item_recall,
    temporary_item_release,
    temporary_item_remove,
    temporary_item_retire,
    temporary_item_to_pickup,
    terms_renewal_refusal,
)
from fulfillment.models import (
    CirculationDesk,
    Item,
    ItemBarcode,
    Library,
    normalize_barcode,
)
from fulfillment.selectors import rs_library_for, terms_of_use_for
from ill.borrowing.automation import choose_rota, own_copy_words
from ill.borrowing.letters import patron_letter
from ill.borrowing.messages import borrowing_event, latest_attempt, new_attempt_id, tell_partner
from ill.borrowing.selectors import (
    current_attempt_id,
    library_use_only_condition,
    partner_let_go,
    retry_offered,
    temporary_item_rule_for,
)
from ill.models import BorrowingRequest, PurchaseRequest, RotaEntry, Source, next_number
from ill.outbox.services import partner_holds_request, partner_note_text, withdraw
from ill.workflow import (
    WorkflowError,
    change_state,
    flag,
    record,
    undo_state,
    update_fields,
)
from kauko.errors import DomainError
from kauko.i18n import gettext as _  # history notes read in each reader's language

logger = logging.getLogger(__name__)
BR = BorrowingRequest
ARTICLE_LINK_DAYS = 30


# --- creation ------------------------------------------------------------------------------




@transaction.atomic
def borrowing_request_create(
    *,
    institution,
    patron,
    request_type: str,
    citation: dict,
    user=None,
    source: str = Source.STAFF,
    rs_library: Library | None = None,
    pickup_desk: CirculationDesk | None = None,
    office_delivery: bool = False,
    delivery_address: str = "",
    needed_before: datetime.date | None = None,
    max_cost: Decimal | None = None,
    patron_fee: Decimal | None = None,
    note_to_partner: str = "",
    internal_note: str = "",
    partners=(),
) -> BorrowingRequest:
    if patron.institution_id != institution.pk:
        raise WorkflowError(_("That patron belongs to another institution."))
    if not (citation.get("title") or "").strip():
        raise WorkflowError(_("A request needs at least a title."))
    rs_library = rs_library or rs_library_for(institution=institution)
    if office_delivery and not rs_library.may_ship_to_office:
        raise WorkflowError(_("%(library)s does not deliver to office addresses: choose a "
                              "pickup desk.") % {"library": rs_library.name})
    if office_delivery:
        if not patron.group.may_use_office_delivery:
            raise WorkflowError(_("Office delivery is for staff patrons only (%(group)s "
                                  "may not use it).") % {"group": patron.group.name})
        delivery_address = delivery_address or patron.office_address
        if not delivery_address:
            raise WorkflowError(_("Office delivery needs an address: the patron has none."))
        pickup_desk = None
    else:
        pickup_desk = pickup_desk or patron.pickup_desk
        if pickup_desk is None:
            raise WorkflowError(_("Choose a pickup desk (the patron has no preferred one)."))
    unknown = set(citation) - set(BR.CITATION_FIELDS)
    if unknown:
        raise ValueError(f"unknown citation fields: {sorted(unknown)}")
    request = BorrowingRequest(
        institution=institution, patron=patron, rs_library=rs_library,
        request_type=request_type, pickup_desk=pickup_desk, office_delivery=office_delivery,
        delivery_address=delivery_address, needed_before=needed_before, max_cost=max_cost,
        patron_fee=patron_fee, note_to_partner=note_to_partner, internal_note=internal_note,
        created_by=user if user is not None and user.pk else None, source=source,
        number=next_number(institution=institution, name="borrowing", prefix="B"),
        **{k: (v or "").strip() for k, v in citation.items()},
    )
    choice = None
    if not partners:  # staff who chose partners chose; otherwise the rules do
        choice = choose_rota(request)
        partners = choice.partners
        request.rota_rule = choice.rule
        request.rota_rule_reason = choice.reason
        # Self-ownership first, when a rule routes the request (staff creating by hand
        # saw the same check on their form).
        own_copy = own_copy_words(request) if choice.rule is not None else ""
        if own_copy:
            request.needs_attention = True
            request.attention_reason = own_copy
        elif choice.auto_send and not partners:
            request.needs_attention = True
            request.attention_reason = _("No partner to ask: the rota is empty (%(why)s)") % {
                "why": choice.reason}
        request.auto_send = choice.auto_send and not own_copy and bool(partners)
    request.save()
    _set_rota(request, partners)
    if request.is_physical:
        _create_temporary_records(request)
    record(request=request, action="create", user=user, source=source,
           to_status=request.status, note=_("Created by %(who)s.") % {
               "who": Source(source).label})
    if choice is not None and choice.rule is not None:
        record(request=request, action="assign_rota", source=Source.SYSTEM,
               from_status=request.status, to_status=request.status, note=choice.reason)
    if request.needs_attention:
        record(request=request, action="flag", source=Source.SYSTEM,
               from_status=request.status, to_status=request.status,
               note=request.attention_reason)
    if request.auto_send:
        auto_send_later(request)
    return request


AUTO_SEND_TASK = "ill.auto_send_borrowing_request"


def auto_send_later(request) -> None:
    """After commit, the auto-send task (`ill.borrowing.autosend`) locates and sends the
    request; a lost hand-over is picked up by the periodic sweep of the same task."""
    pk = request.pk

    def hand_over():
        try:
            current_app.tasks[AUTO_SEND_TASK].apply_async(args=[pk])
        except Exception:  # the broker being down must not break the request's commit
            logger.exception("Could not hand request %s to the auto-send task.", pk)

    transaction.on_commit(hand_over)


@transaction.atomic
def borrowing_hold_own_item(*, institution, patron, item: Item, user,
                            pickup_desk: CirculationDesk | None = None,
                            office_delivery: bool = False):
    """Our own collection has it: instead of a borrowing request, a hold on our item for
    the patron (the staff form's "place a hold on ours instead"). Returns the hold."""
    if patron.institution_id != institution.pk or item.institution_id != institution.pk \
            or item.is_temporary:
        raise WorkflowError(_("Pick one of our own items."))
    if office_delivery:
        if not patron.group.may_use_office_delivery or not patron.office_address:
            raise WorkflowError(_("Office delivery is for staff patrons with an office "
                                  "address."))
        pickup_desk = None
    else:
        pickup_desk = pickup_desk or patron.pickup_desk
        if pickup_desk is None:
            raise WorkflowError(_("Choose a pickup desk (the patron has no preferred one)."))
    return hold_create(institution=institution, patron=patron, item=item,
                       pickup_desk=pickup_desk, office_delivery=office_delivery,
                       delivery_address=patron.office_address if office_delivery else "",
                       note=_("Placed from the ILL request form by %(who)s.") % {
                           "who": user.get_username() if user is not None else "–"})


def _create_temporary_records(request: BorrowingRequest, *, patron_keeps=False) -> None:
    """A hidden record, holding and item in the incoming location, and a hold on it."""
    library = request.rs_library
    if library.incoming_location_id is None:
        raise WorkflowError(_("The resource sharing library has no incoming location: a "
                              "configuration admin must set one first."))
    item = temporary_item_create(
        institution=request.institution, location=library.incoming_location,
        description=request.number, record=_temporary_record(request),
        patron_keeps=patron_keeps)
    hold = hold_create(
        institution=request.institution, patron=request.patron, item=item, is_ill=True,
        pickup_desk=request.pickup_desk, office_delivery=request.office_delivery,
        delivery_address=request.delivery_address)
    request.temporary_item = item
    request.hold = hold
    if not patron_keeps:  # a paper copy's records come inside a state change, which saves
        request.save(update_fields=["temporary_item", "hold"])


def _temporary_record(request: BorrowingRequest) -> dict:
    return {name: getattr(request, name) for name in TEMPORARY_RECORD_FIELDS}


def _remove_temporary_records(request: BorrowingRequest) -> None:
    """Cancelling cleans up: the hold is cancelled, its transits end, the hidden record
    goes away."""
    if request.temporary_item_id:  # the hold is left to temporary_item_remove
        temporary_item_release(item_id=request.temporary_item_id, hold_id=None)
    if temporary_item_remove(item=request.temporary_item, hold=request.hold):
        request.temporary_item = None
        request.hold = None


# --- rota ------------------------------------------------------------------------------------


def _set_rota(request: BorrowingRequest, partners) -> None:
    seen = set()
    ordered = []
    for partner in partners:
        if partner.institution_id != request.institution_id:
            raise WorkflowError(_("%(partner)s is another institution's partner.")
                                % {"partner": partner})
        if not partner.active:
            raise WorkflowError(_("%(partner)s is not active.") % {"partner": partner})
        if partner.pk not in seen:
            seen.add(partner.pk)
            ordered.append(partner)
    request.rota.filter(outcome=RotaEntry.Outcome.PENDING).delete()
    start = (request.rota.order_by("-position").values_list("position", flat=True).first()
             or 0)
    RotaEntry.objects.bulk_create([
        RotaEntry(request=request, position=start + i, partner=p)
        for i, p in enumerate(ordered, start=1)
    ])
    if request.partner_id is None and ordered:
        request.partner = ordered[0]
        request.save(update_fields=["partner"])


def borrowing_request_set_rota(*, request, partners, user, version=None) -> BorrowingRequest:
    """Choose the partner(s) to ask, in order. Only before the request is sent."""
    if request.status not in BR.UNANSWERED:
        raise WorkflowError(_("The rota can be changed only before the request is sent."))

    def apply(r):
        r.partner = None
        _set_rota(r, partners)
        first = r.rota.filter(outcome=RotaEntry.Outcome.PENDING).first()
        r.partner = first.partner if first else None

    names = ", ".join(p.name for p in partners) or _("(none)")
    return update_fields(request=request, user=user, version=version, action="set_rota",
                         note=_("Rota: %(names)s") % {"names": names}, apply=apply)




def _next_pending(request) -> RotaEntry | None:
    return request.rota.filter(outcome=RotaEntry.Outcome.PENDING).order_by("position").first()


# --- sending and the partner's answers -------------------------------------------------------


def borrowing_request_edit(*, request, user, version=None, citation: dict, **fields):
    if request.is_final:
        raise WorkflowError(_("A closed request cannot be edited; reactivate it first."))
    allowed = {"needed_before", "max_cost", "patron_fee", "note_to_partner", "internal_note",
               "assigned_to"}
    if set(fields) - allowed or set(citation) - set(BR.CITATION_FIELDS):
        raise ValueError("unknown fields")

    def apply(r):
        for name, value in citation.items():
            setattr(r, name, (value or "").strip())
        for name, value in fields.items():
            setattr(r, name, value)
        if r.temporary_item_id:
            temporary_item_describe(item_id=r.temporary_item_id, record={
                name: getattr(r, name) for name in ("title", "author", "isbn", "issn", "year")})

    return update_fields(request=request, user=user, version=version, action="edit",
                         apply=apply, note=_("Request details edited."))


def borrowing_request_send(*, request, user, version=None) -> BorrowingRequest:
    entry = _next_pending(request)
    if entry is None:
        raise WorkflowError(_("There is no partner left to ask: add one to the rota first."))
    partner = entry.partner

    def apply(r):
        now = timezone.now()
        RotaEntry.objects.filter(pk=entry.pk).update(
            outcome=RotaEntry.Outcome.ASKED, asked_at=now,
            attempt_id=new_attempt_id(r, entry.position))
        r.partner = partner
        r.reason = ""
        r.needs_attention = False
        r.attention_reason = ""
        tell_partner(r, "request", user)

    return change_state(request=request, transition="send", user=user, version=version,
                        apply=apply, note=_("Sent to %(partner)s.") % {"partner": partner})


def borrowing_request_make_ready(*, request, user, version=None):
    return change_state(request=request, transition="make_ready", user=user, version=version)


def _answered(request, outcome, reason=""):
    RotaEntry.objects.filter(request=request, outcome=RotaEntry.Outcome.ASKED).update(
        outcome=outcome, reason=reason, answered_at=timezone.now())


def borrowing_request_will_supply(*, request, user=None, version=None, note="",
                                  source=Source.STAFF):
    return change_state(request=request, transition="will_supply", user=user, version=version,
                        note=note, source=source)


def borrowing_request_accepted(*, request, user=None, version=None, note="",
                               source=Source.STAFF):
    return change_state(request=request, transition="accept", user=user, version=version,
                        note=note, source=source)


def borrowing_request_conditional(*, request, condition: str, reply_by=None, user=None,
                                  version=None, source=Source.STAFF):
    if not condition.strip():
        raise WorkflowError(_("Say what the partner's condition is."))

    def apply(r):
        r.condition_text = condition.strip()
        r.condition_reply_by = reply_by
        r.needs_attention = True
        r.attention_reason = _("Answer the partner's condition.")

    return change_state(request=request, transition="set_conditional", user=user,
                        version=version, apply=apply, source=source,
                        note=_("Condition: %(c)s") % {"c": condition})


def borrowing_request_accept_conditions(*, request, user, version=None):
    def apply(r):
        r.needs_attention = False
        r.attention_reason = ""
        tell_partner(r, "conditions_accepted", user)

    return change_state(request=request, transition="accept_conditions", user=user,
                        version=version, apply=apply, note=_("Conditions accepted."))


def borrowing_request_rejected(*, request, reason: str, user=None, version=None,
                               source=Source.STAFF, action="reject"):
    """The partner said no (or we refused its conditions): on to the next partner."""
    if not reason.strip():
        raise WorkflowError(_("Give the partner's reason."))

    def apply(r):
        if action == "reject_conditions":
            tell_partner(r, "conditions_rejected", user)
        _answered(r, RotaEntry.Outcome.REJECTED, reason)
        r.reason = reason
        r.condition_text = ""
        nxt = _next_pending(r)
        if nxt is None:
            r.needs_attention = True
            r.attention_reason = _("End of rota: no partner left to ask.")
        else:
            r.partner = nxt.partner

    request = change_state(request=request, transition="reject", user=user, version=version,
                           apply=apply, source=source, action=action,
                           note=_("Rejected: %(reason)s") % {"reason": reason})
    nxt = _next_pending(request)
    if nxt is not None:
        # Straight on to the next partner: ready to be sent to it (staff check and send).
        request = change_state(
            request=request, transition="make_ready", user=user, source=Source.SYSTEM,
            note=_("Next partner in the rota: %(partner)s.") % {"partner": nxt.partner})
        if request.auto_send:  # also when staff record an e-mail partner's answer
            auto_send_later(request)
    return request


def borrowing_request_reject_conditions(*, request, user, version=None, reason=""):
    return borrowing_request_rejected(
        request=request, user=user, version=version, action="reject_conditions",
        reason=reason or _("We did not accept the partner's conditions."))


def _patron_due_date(request, partner_due: datetime.date | None) -> datetime.date | None:
    """Partner's due date minus the partner's mail delay, never later than the temporary
    item's terms of use allow (maximum total loan days from receipt)."""
    if partner_due is None:
        return None
    due = partner_due - datetime.timedelta(days=request.partner.mail_delay_days
                                           if request.partner_id else 0)
    terms = _terms(request)
    if terms is not None and terms.max_total_loan_days and request.received_at:
        limit = (timezone.localtime(request.received_at).date()
                 + datetime.timedelta(days=terms.max_total_loan_days))
        due = min(due, limit)
    return due


def _terms(request):
    item = request.temporary_item
    if item is None:
        return None
    return terms_of_use_for(item=item, patron_group_code=request.patron.group.code)


def borrowing_request_shipped(*, request, due_date=None, barcode="", user=None, version=None,
                              source=Source.STAFF, note=""):
    def apply(r):
        _answered(r, RotaEntry.Outcome.SUPPLIED)
        r.partner_due_date = due_date
        r.partner_item_barcode = normalize_barcode(barcode) if barcode else ""

    return change_state(request=request, transition="ship_physically", user=user,
                        version=version, apply=apply, source=source, note=note or (
                            _("Due at the partner %(date)s.") % {"date": due_date}
                            if due_date else ""))


def borrowing_request_shipped_digitally(*, request, url="", uploaded_file=None, user=None,
                                        version=None, source=Source.STAFF):
    """An article arrived: deliver it to the patron at once and complete the request."""
    if not url and uploaded_file is None:
        raise WorkflowError(_("Give the partner's link or upload the file."))

    def apply(r):
        _answered(r, RotaEntry.Outcome.SUPPLIED)
        r.digital_url = url
        if uploaded_file is not None:
            r.digital_file.save(uploaded_file.name, uploaded_file, save=False)

    request = change_state(request=request, transition="ship_digitally", user=user,
                           version=version, apply=apply, source=source)
    return borrowing_request_deliver_digitally(request=request, user=user)


def borrowing_request_deliver_digitally(*, request, user=None):
    def apply(r):
        r.download_token = secrets.token_urlsafe(32)
        r.download_expires_at = timezone.now() + datetime.timedelta(days=ARTICLE_LINK_DAYS)
        r.delivered_at = timezone.now()
        link = settings.KAUKO_BASE_URL + reverse("ill:article_download",
                                                 args=[r.download_token])
        patron_letter(r, "patron_article_delivery", user, link=link,
                       expires_at=r.download_expires_at)

    return change_state(request=request, transition="complete", user=user, apply=apply,
                        source=Source.SYSTEM, action="deliver_to_patron",
                        note=_("Delivered to the patron by e-mail; the link works for "
                               "%(days)s days.") % {"days": ARTICLE_LINK_DAYS})


def article_opened(*, token: str) -> BorrowingRequest | None:
    """The patron opened the download link: count it, or None when unknown or expired."""
    with transaction.atomic():
        request = (BorrowingRequest.objects.select_for_update()
                   .filter(download_token=token).first())  # two clicks at once count twice
        if request is None or not token:
            return None
        if request.download_expires_at and request.download_expires_at < timezone.now():
            return None
        request.open_count += 1
        if request.first_opened_at is None:
            request.first_opened_at = timezone.now()
            record(request=request, action="article_opened", source=Source.PATRON,
                   note=_("The patron opened the article."))
        request.save(update_fields=["open_count", "first_opened_at"])
    return request


# --- the item here -----------------------------------------------------------------------------


def borrowing_request_receive(*, request, barcode: str, user, version=None,
                              due_date=None, not_for_loan: bool | None = None
                              ) -> BorrowingRequest:
    """The RS office has the item: it gets the scanned barcode and goes in transit to the
    pickup desk (or to office delivery). `not_for_loan` (None: as the accepted lender
    condition says) marks it "Received – not for loan": the desk refuses a home loan."""
    value = normalize_barcode(barcode)
    if not value:
        raise WorkflowError(_("Scan or type the item's barcode."))
    item = request.temporary_item
    if item is None:
        raise WorkflowError(_("This request has no temporary item to receive."))
    clash = (ItemBarcode.objects.filter(institution=request.institution, barcode=value)
             .exclude(item=item).select_related("item__bib").first())
    if clash is not None:
        raise WorkflowError(_(
            "Barcode %(barcode)s is already on another item (%(title)s). Scan the item's "
            "other barcode or its RFID tag, or give it a new label."
        ) % {"barcode": value, "title": clash.item.bib.title})

    def apply(r):
        item_add_barcode(item=item, barcode=value)
        _apply_temporary_item_rule(r)
        r.received_at = timezone.now()
        if due_date is not None:
            r.partner_due_date = due_date
        r.patron_due_date = _patron_due_date(r, r.partner_due_date)
        _answered(r, RotaEntry.Outcome.SUPPLIED)
        _send_to_pickup(r, user, not_for_loan=reason)
        if r.profile is None or r.profile.send_received:
            tell_partner(r, "received", user)

    condition = library_use_only_condition(request)
    if not_for_loan is None:
        not_for_loan = bool(condition)
    reason = (condition or _("library use only")) if not_for_loan else ""
    note = _("Received with barcode %(b)s.") % {"b": value}
    if reason:
        note += " " + _("Received – not for loan: %(reason)s.") % {"reason": reason}
    return change_state(request=request, transition="receive", user=user, version=version,
                        apply=apply, note=note)


def borrowing_request_paper_copy_received(*, request, user, version=None
                                          ) -> BorrowingRequest:
    """An article or chapter came as a paper copy by post: it gets a temporary item whose
    barcode is the request number and a hold, and goes to the pickup desk or office like a
    loan. The patron keeps it: handing it over completes the request, nothing comes back."""
    if request.is_physical:
        raise WorkflowError(_("A loan is received with its barcode, not as a paper copy."))
    barcode = normalize_barcode(request.number)
    if ItemBarcode.objects.filter(institution=request.institution, barcode=barcode).exists():
        raise WorkflowError(_("Barcode %(barcode)s is already on another item.") % {
            "barcode": barcode})

    def apply(r):
        _answered(r, RotaEntry.Outcome.SUPPLIED)
        _create_temporary_records(r, patron_keeps=True)
        item_add_barcode(item=r.temporary_item, barcode=barcode, kind=ItemBarcode.Kind.OWN)
        r.received_at = timezone.now()
        _send_to_pickup(r, user)

    return change_state(request=request, transition="receive_copy", user=user,
                        version=version, apply=apply, note=_(
                            "Paper copy received by post: write %(barcode)s on it (or print "
                            "the hold slip) and send it on.") % {"barcode": barcode})


def borrowing_request_copy_handed_over(*, request, user=None, desk_name: str = ""):
    """The desk handed the paper copy to the patron (or sent it by internal mail): done."""
    return change_state(request=request, transition="hand_over_copy", user=user,
                        note=_("Handed to the patron at %(desk)s.") % {"desk": desk_name}
                        if desk_name else "")


def _apply_temporary_item_rule(request) -> None:
    """The temporary item rule for the partner that supplied it gives the item its location
    and item policy, so fulfillment rules keyed on the policy pick its terms of use."""
    rule = temporary_item_rule_for(request)
    if rule is not None:
        request.temporary_item = temporary_item_place(
            item_id=request.temporary_item_id, location=rule.location,
            item_policy=rule.item_policy)


def _send_to_pickup(request, user, not_for_loan: str = "") -> None:
    try:
        temporary_item_to_pickup(
            item_id=request.temporary_item_id, hold_id=request.hold_id, user=user,
            desk_pickup_only=bool(request.partner and request.partner.is_international),
            not_for_loan=not_for_loan)
    except DeskError as exc:
        raise WorkflowError(exc.message) from exc


def borrowing_request_return_to_partner(*, request, user=None, version=None,
                                        source=Source.STAFF):
    def apply(r):
        # Also straight after receiving: the hold and the transit to the desk end.
        _release_desk(r, _("Returned to the partner."))
        if r.temporary_item_id:
            item_set_status(item=item_lock(item_id=r.temporary_item_id),
                            status=Item.Status.WITH_PARTNER)
        tell_partner(r, "shipped_return", user)

    return change_state(request=request, transition="return_to_partner", user=user,
                        version=version, apply=apply, source=source)


def borrowing_request_complete(*, request, user=None, version=None, source=Source.STAFF,
                               note=""):
    def apply(r):
        _retire_temporary_item(r)

    return change_state(request=request, transition="complete", user=user, version=version,
                        apply=apply, source=source, note=note)


def _retire_temporary_item(request) -> None:
    """The borrowed item is gone for good: hide it from every shelf and list."""
    _release_desk(request, _("The request is completed."))
    if request.temporary_item_id:
        temporary_item_retire(item_id=request.temporary_item_id)


def _release_desk(request, note: str) -> None:
    """The request is done with the desk: its hold closes and its transits end."""
    if request.temporary_item_id or request.hold_id:
        temporary_item_release(item_id=request.temporary_item_id, hold_id=request.hold_id,
                               note=note)


def borrowing_request_reactivate(*, request, user, version=None, note=""):
    return change_state(request=request, transition="reactivate", user=user, version=version,
                        note=note or _("Reactivated."))


def borrowing_request_report(*, request, what: str, user, version=None, note=""):
    if what not in ("lost", "damaged"):
        raise ValueError(what)

    def apply(r):
        item = None
        _release_desk(r, _("The item is lost.") if what == "lost" else _("The item is damaged."))
        if r.temporary_item_id:
            item = item_set_status(item=item_lock(item_id=r.temporary_item_id),
                                   status=Item.Status.LOST if what == "lost"
                                   else Item.Status.DAMAGED)
        # The partner owns the item: it hears of it in its channel.
        tell_partner(r, what, user, what=what, message=note,
                     item={"barcode": item.primary_barcode if item else "",
                           "title": r.title})

    return change_state(request=request, transition=f"report_{what}", user=user,
                        version=version, apply=apply, note=note)


# --- renewals ----------------------------------------------------------------------------------


def renewal_refusal(request, *, by_patron: bool, today=None) -> str | None:
    """Why a renewal may not be asked for now, or None when it may."""
    today = today or timezone.localdate()
    if request.status not in (BR.S.LOANED, BR.S.RENEWED, BR.S.RENEWAL_REFUSED, BR.S.OVERDUE):
        return _("Only an item on loan can be renewed (this request is “%(status)s”).") % {
            "status": request.get_status_display()}
    if not request.uses("renew"):
        return _("%(partner)s does not take renewals.") % {"partner": request.partner}
    received = timezone.localtime(request.received_at).date() if request.received_at else None
    return terms_renewal_refusal(_terms(request), renewals=request.renewals, started=received,
                                 due=request.patron_due_date, by_patron=by_patron, today=today)


def borrowing_request_request_renewal(*, request, user=None, version=None, by_patron=False,
                                      source=Source.STAFF):
    refusal = renewal_refusal(request, by_patron=by_patron)
    if refusal:
        raise WorkflowError(refusal)

    def apply(r):
        tell_partner(r, "renew", user)

    return change_state(request=request, transition="request_renewal", user=user,
                        version=version, apply=apply, source=source)


def borrowing_request_renewal_answer(*, request, granted: bool, new_due_date=None, user=None,
                                     version=None, source=Source.STAFF, note=""):
    if granted and new_due_date is None:
        raise WorkflowError(_("Give the new due date the partner granted."))

    def apply(r):
        if granted:
            r.renewals += 1
            r.partner_due_date = new_due_date
            r.patron_due_date = _patron_due_date(r, new_due_date)
            _sync_loan_due_date(r)
        patron_letter(r, "patron_renewal_result", user, renewal={
            "answer": "yes" if granted else "no",
            "new_due_date": r.patron_due_date})

    request = change_state(
        request=request, transition="renewal_granted" if granted else "renewal_refused",
        user=user, version=version, apply=apply, source=source, note=note)
    return request


def borrowing_request_auto_renewal_refused(*, request, reason: str) -> None:
    """The automatic renewal of a staff patron's ILL loan was refused (window, maximum, the
    partner's profile…): staff see a flag, the patron gets a letter with the due date."""
    text = _("Automatic renewal refused: %(reason)s") % {"reason": reason}
    flag(request=request, reason=text)
    record(request=request, action="auto_renewal_refused", source=Source.SYSTEM,
           from_status=request.status, to_status=request.status, note=text)
    patron_letter(request, "patron_auto_renewal_refused", None, message=reason)


def _sync_loan_due_date(request) -> None:
    """The patron's ILL loan is due when the borrowing request says (after a renewal)."""
    if request.temporary_item_id and request.patron_due_date:
        # The desk checks the ILL maximum on the loan's own renewal count: keep it in step.
        loan_set_due(item_id=request.temporary_item_id, renewals=request.renewals,
                     due_at=end_of_day(request.patron_due_date))


# --- cancelling --------------------------------------------------------------------------------


def borrowing_request_cancel(*, request, reason: str, user, version=None,
                             notify_patron: bool = False, by_patron: bool = False,
                             source=Source.STAFF):
    """Cancel. Once a partner has the request (and its profile says so) we must ask it
    first: the request waits for its answer."""
    if not reason.strip():
        raise WorkflowError(_("Give a reason for cancelling."))
    at_iso_partner = (request.status in BR.AT_PARTNER and request.partner_id
                      and request.partner.is_iso)
    never_taken = at_iso_partner and not partner_holds_request(
        request=request, attempt_id=current_attempt_id(request))
    # The partner closed its side (LoanCompleted before sending, a RetryPossible): nothing
    # there to cancel either.
    let_go = at_iso_partner and not never_taken and partner_let_go(request)
    if (request.status in BR.AT_PARTNER and request.uses("cancel_response") and not never_taken
            and not let_go):
        def ask(r):
            r.reason = reason
            tell_partner(r, "cancel", user)
            if notify_patron:
                patron_letter(r, "patron_cancellation_notice", user)

        return change_state(request=request, transition="ask_to_cancel", user=user,
                            version=version, apply=ask, note=reason, source=source)

    def apply(r):
        r.reason = reason
        if never_taken or let_go:
            # The partner refused, never got or closed our request: nothing to ask it to
            # cancel, and what still waits in the outbox must not reach it after we closed.
            withdraw(request=r)
        elif r.previous_status in BR.AT_PARTNER:
            tell_partner(r, "cancel", user)
        RotaEntry.objects.filter(request=r, outcome__in=[
            RotaEntry.Outcome.PENDING, RotaEntry.Outcome.ASKED]).update(
            outcome=RotaEntry.Outcome.CANCELLED)
        _remove_temporary_records(r)
        if notify_patron:
            patron_letter(r, "patron_cancellation_notice", user)

    return change_state(request=request,
                        transition="cancel_by_patron" if by_patron else "cancel_by_staff",
                        user=user, version=version, apply=apply, source=source,
                        note=_("%(reason)s (The partner never took the request: "
                               "cancelled at once.)") % {"reason": reason} if never_taken
                        else _("%(reason)s (The partner had closed the request: cancelled "
                               "at once.)") % {"reason": reason} if let_go else reason)


def borrowing_request_cancel_answer(*, request, cancelled: bool, user=None, version=None,
                                    source=Source.STAFF, note=""):
    def apply(r):
        if cancelled:
            _remove_temporary_records(r)
            RotaEntry.objects.filter(request=r, outcome__in=[
                RotaEntry.Outcome.PENDING, RotaEntry.Outcome.ASKED]).update(
                outcome=RotaEntry.Outcome.CANCELLED)

    return change_state(request=request,
                        transition="cancel_by_staff" if cancelled else "cancel_refused",
                        user=user, version=version, apply=apply, source=source,
                        action="cancel_confirmed" if cancelled else "cancel_refused",
                        note=note or (_("The partner agreed to cancel.") if cancelled
                                      else _("The partner would not cancel.")))


# --- other ways to fill the need ----------------------------------------------------------------


def borrowing_request_fill_from_collection(*, request, item: Item, user, version=None):
    """Found in our own collection: a hold on our item for the patron, request closed."""
    if item.institution_id != request.institution_id or item.is_temporary:
        raise WorkflowError(_("Pick one of our own items."))

    def apply(r):
        hold_create(institution=r.institution, patron=r.patron, item=item,
                    pickup_desk=r.pickup_desk, office_delivery=r.office_delivery,
                    delivery_address=r.delivery_address,
                    note=_("From ILL request %(n)s") % {"n": r.number})
        _remove_temporary_records(r)

    return change_state(request=request, transition="close_fulfilled_otherwise", user=user,
                        version=version, apply=apply, action="fill_from_collection",
                        note=_("Found in our collection: hold placed on %(item)s.")
                        % {"item": item})


def borrowing_request_to_purchase(*, request, user, version=None, note="",
                                  notify_patron=False):
    def apply(r):
        PurchaseRequest.objects.create(
            institution=r.institution, borrowing_request=r, patron=r.patron, note=note,
            created_by=user, **{f: getattr(r, f) for f in BR.CITATION_FIELDS})
        _remove_temporary_records(r)
        if notify_patron:
            patron_letter(r, "patron_purchase_notice", user)

    return change_state(request=request, transition="close_fulfilled_otherwise", user=user,
                        version=version, apply=apply, action="purchase_request",
                        note=note or _("Turned into a purchase request."))


PATRON_QUERY_TYPES = ("patron_query", "patron_query_freely_available", "patron_query_more_info")


def borrowing_request_query_patron(*, request, letter_code: str, message: str, user,
                                   link: str = ""):
    if letter_code not in PATRON_QUERY_TYPES:
        raise WorkflowError(_("Unknown query type."))
    if not request.patron.email:
        raise WorkflowError(_("The patron has no e-mail address."))
    with transaction.atomic():
        patron_letter(request, letter_code, user, message=message, link=link)
        record(request=request, action="query_patron", user=user,
               note=message, from_status=request.status, to_status=request.status)


# --- ISO 18626 only: a note to the partner, a retry ----------------------------------------------


def borrowing_request_partner_note(*, request, note: str, user=None, version=None):
    """A free-text message to the partner: a Notification on its request."""
    note = partner_note_text(request=request, note=note)
    return update_fields(
        request=request, user=user, version=version, action="partner_note", note=note,
        apply=lambda r: borrowing_event(request=r, event="notification", user=user, note=note))


def borrowing_request_status_request(*, request, user=None, version=None):
    """Ask the partner where the request stands (ISO 18626 StatusRequest); its answer, a
    StatusRequestResponse, lands in the history."""
    if not (request.partner_id and request.partner.is_iso) or latest_attempt(request) is None:
        raise WorkflowError(_("Only a request sent to an ISO 18626 partner can be asked "
                              "about."))
    if request.is_final:
        raise WorkflowError(_("The request is closed: there is nothing to ask."))
    return update_fields(
        request=request, user=user, version=version, action="status_request",
        note=_("Asked the partner for the request's status."),
        apply=lambda r: borrowing_event(request=r, event="status_request", user=user))


def borrowing_request_retry(*, request, user=None, version=None, note="",
                            max_cost: Decimal | None = None, currency: str = "",
                            item_id: str = ""):
    """The partner said "retry possible": ask it again (requestType Retry) under a new id,
    so its answers to the old one are told apart. `max_cost` (in `currency`, default the
    request's) raises what we pay, e.g. to the cost the partner offered; `item_id` is the
    partner's id of what to send (its suggestion when the citation was not found)."""
    currency = (currency or "").strip().upper()
    if currency and (len(currency) != 3 or not currency.isalpha()):
        raise WorkflowError(_("A currency is a three-letter ISO 4217 code, e.g. EUR."))
    if request.status not in BorrowingRequest.AT_PARTNER or not request.partner.is_iso:
        raise WorkflowError(_("Only a request waiting at an ISO 18626 partner can be retried."))
    if not retry_offered(request):
        raise WorkflowError(_("The partner has not offered a retry (RetryPossible)."))
    entry = latest_attempt(request)
    if entry is None:
        raise WorkflowError(_("This request was never sent."))

    def apply(r):
        previous = entry.attempt_id
        tries = RotaEntry.objects.filter(pk=entry.pk).values_list("attempt_id", flat=True)
        count = 1 + (tries[0].count("-R") if tries else 0)
        new_id = new_attempt_id(r, entry.position, retry=count)
        RotaEntry.objects.filter(pk=entry.pk).update(attempt_id=new_id,
                                                     outcome=RotaEntry.Outcome.ASKED)
        r.needs_attention = False
        r.attention_reason = ""
        if max_cost is not None:
            r.max_cost = max_cost
        if currency:
            r.max_cost_currency = currency
        borrowing_event(request=r, event="retry", user=user, retry_of=previous, note=note,
                        record_id=item_id.strip())

    return update_fields(request=request, user=user, version=version, action="iso_retry",
                         apply=apply, note=note or _("Asked the partner again (retry)."))


# --- steps a partner's message or a desk event causes ------------------------------------------


def borrowing_request_overdue(*, request, user=None, version=None, source=Source.PARTNER,
                              note=""):
    """The partner says its item is overdue (its message, or staff recording its letter)."""
    return change_state(request=request, transition="mark_overdue", user=user, source=source,
                        version=version, note=note or _("The partner says it is overdue."))


def borrowing_request_recalled(*, request, new_due_date=None, user=None, version=None,
                               source=Source.PARTNER, note=""):
    """The partner wants its item back early, by `new_due_date` when it gives one; staff
    must get it back from the patron."""
    def apply(r):
        if new_due_date:
            r.partner_due_date = new_due_date
            r.patron_due_date = _patron_due_date(r, new_due_date)
            _sync_loan_due_date(r)
        r.needs_attention = True
        off_shelf = bool(r.temporary_item_id) and temporary_item_recall(
            item_id=r.temporary_item_id, hold_id=r.hold_id,
            note=_("Recalled by the partner (request %(number)s): back to the resource "
                   "sharing office.") % {"number": r.number})
        r.attention_reason = (
            _("Recalled by the partner: the pickup desk sends the item back to the RS "
              "office; return it to the partner when it comes.") if off_shelf
            else _("Recalled by the partner: get the item back from the patron."))

    return change_state(request=request, transition="recall", user=user, source=source,
                        version=version, apply=apply, note=note or (
                            _("The partner recalled it, return by %(date)s.") % {
                                "date": date_format(new_due_date, "SHORT_DATE_FORMAT")} if new_due_date
                            else _("The partner recalled it.")))


def borrowing_request_cancelled_by_partner(*, request, reason="", user=None,
                                           source=Source.PARTNER):
    """The partner cancelled the request before supplying it."""
    def apply(r):
        r.reason = reason or _("Cancelled by the partner.")
        _remove_temporary_records(r)
        RotaEntry.objects.filter(request=r, outcome=RotaEntry.Outcome.ASKED).update(
            outcome=RotaEntry.Outcome.CANCELLED)

    return change_state(request=request, transition="cancel_by_partner", user=user,
                        source=source, note=reason, apply=apply)


def borrowing_request_send_to_next(*, request) -> BorrowingRequest:
    """After an Unfilled: straight on to the next partner in the rota, as Alma does.

    When that cannot be done now, the request stays ready (and says why) for staff to send
    by hand; the refusal is not the partner's business."""
    if request.status != BR.S.READY or _next_pending(request) is None:
        return request
    try:
        with transaction.atomic():
            return borrowing_request_send(request=request, user=None)
    except DomainError:
        return request


def borrowing_request_loaned_to_patron(*, request, user=None, desk_name: str = ""):
    """The desk loaned the request's temporary item to the patron."""
    if request.status not in (BR.S.RECEIVED, BR.S.RETURNED_BY_PATRON):
        raise DeskError(_(
            "Request %(number)s is “%(status)s”: its item cannot be loaned now."
        ) % {"number": request.number, "status": request.get_status_display()})
    return change_state(request=request, transition="loan_to_patron", user=user,
                        note=_("Loaned at %(desk)s.") % {"desk": desk_name
                                                        or _("self-service")})


def borrowing_request_returned_by_patron(*, request, user=None, desk_name: str = ""):
    """The patron returned the request's temporary item at a desk (or self-service).
    Nothing happens for a request whose item is not on loan."""
    if request.status not in BR.ON_LOAN:
        return request
    return change_state(request=request, transition="return_by_patron", user=user,
                        note=_("Returned at %(desk)s.") % {"desk": desk_name
                                                          or _("self-service")})


# What undoing a desk scan with this outcome takes back: (the status the scan moved the
# request to, the transition it took).
UNDOABLE_SCANS = {"loaned": ("loaned", "loan_to_patron"),
                  "returned": ("returned_by_patron", "return_by_patron"),
                  "returned_to_partner": ("returned_to_partner", "return_to_partner")}


def borrowing_request_undo_scan(*, request, outcome: str, user=None):
    """Staff undid the desk scan with this outcome: put the request back where the scan
    found it, if (and only if) that scan was the request's last step."""
    last = request.history.exclude(action__in=["at_desk"]).order_by("-at", "-id").first()
    expected = UNDOABLE_SCANS.get(outcome)
    if expected is None or last is None or last.to_status != expected[0]:
        return request
    return undo_state(request=request, to_status=last.from_status, user=user,
                      action="undo_scan", note=_("Desk scan undone."))


def borrowing_request_not_picked_up(*, request):
    """The patron did not pick the item up in time; it goes back to the RS office."""
    flag(request=request, reason=_("Not picked up in time: return it to the partner."))
    return record(request=request, action="hold_shelf_expired", source=Source.SYSTEM,
                  from_status=request.status, to_status=request.status,
                  note=_("The patron did not pick it up; it goes back to the RS office."))


def borrowing_request_unanswered(*, request, days: int):
    """The partner left our request unanswered for `days` days (the borrowing profile's
    "expire unanswered after"): the next partner in the rota is asked; with none left the
    request expires. Both steps are in the history, by the system."""
    reason = _("No answer within %(days)s days.") % {"days": days}
    if _next_pending(request) is not None:
        request = borrowing_request_rejected(request=request, reason=reason,
                                             source=Source.SYSTEM)
        return borrowing_request_send_to_next(request=request)

    def apply(r):
        _answered(r, RotaEntry.Outcome.REJECTED, reason)
        r.reason = reason
        _remove_temporary_records(r)
        withdraw(request=r)

    return change_state(request=request, transition="expire", source=Source.SYSTEM,
                        apply=apply, note=_("Expired: %(reason)s No partner left to ask.")
                        % {"reason": reason})


def borrowing_request_copy_sent_without_link(*, request, note="", source=Source.PARTNER):
    """The partner says the copy is done but gave no link to it (it comes by e-mail or
    post): the request waits as shipped digitally, flagged, for staff to deliver the copy
    when it arrives (`borrowing_request_copy_arrived`)."""
    def apply(r):
        _answered(r, RotaEntry.Outcome.SUPPLIED)
        r.needs_attention = True
        r.attention_reason = _("The partner sent the copy without a link (by e-mail or "
                               "post?): deliver it to the patron when it arrives.")

    return change_state(request=request, transition="ship_digitally", source=source,
                        apply=apply, note=note or _("Copy sent; no link was given."))


def borrowing_request_copy_arrived(*, request, url="", uploaded_file=None, user,
                                   version=None):
    """The copy the partner sent without a link came another way: staff give its link or
    file, and it is delivered to the patron (which completes the request)."""
    if request.status != BR.S.SHIPPED_DIGITAL or request.delivered_at:
        raise WorkflowError(_("Only a copy the partner sent without a link waits for this."))
    if not url and uploaded_file is None:
        raise WorkflowError(_("Give the copy's link or upload the file."))

    def apply(r):
        r.digital_url = url
        if uploaded_file is not None:
            r.digital_file.save(uploaded_file.name, uploaded_file, save=False)

    request = update_fields(request=request, user=user, version=version, apply=apply,
                            action="copy_arrived", note=_("The copy arrived."))
    return borrowing_request_deliver_digitally(request=request, user=user)


def borrowing_request_closed_by_partner(*, request, status: str, note="",
                                        source=Source.PARTNER):
    """The partner says it closed the request (LoanCompleted, CompletedWithoutReturn)
    before sending anything. Nothing can be applied (no item came), so the message is
    kept and staff are told what to do."""
    reason = _("The partner closed the request (%(status)s) before sending anything: check "
               "with the partner, then ask another partner or cancel.") % {"status": status}

    def apply(r):
        r.needs_attention = True
        r.attention_reason = reason

    return update_fields(request=request, action="partner_message", source=source,
                         apply=apply, note=note or reason)
