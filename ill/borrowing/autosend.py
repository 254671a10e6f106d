"""Borrowing without a click: sending a located request to the first partner holding it, and
the timers that chase silent partners and conditions about to lapse.

Everything here runs from Celery tasks (`ill.borrowing.tasks`), after the request's creation
committed: locating asks partners' catalogues over the network, so it is never inside a
transaction; each step after it is its own short transaction through the services.
"""

from __future__ import annotations

import datetime
import logging

from django.db import transaction
from django.utils import formats, timezone

from ill.borrowing.automation import open_auto_requests
from ill.borrowing.letters import send_letter_later
from ill.borrowing.locate import locate_rota
from ill.borrowing.messages import borrowing_event
from ill.borrowing.services import borrowing_request_send
from ill.models import AutomationSettings, BorrowingRequest, RotaEntry, Source
from ill.workflow import flag, record, update_fields
from kauko.errors import DomainError
from kauko.i18n import gettext as _  # history notes read in each reader's language

logger = logging.getLogger(__name__)
BR = BorrowingRequest
SENDABLE = (BR.S.CREATED, BR.S.READY)


def _flag(request, reason: str) -> None:
    flag(request=request, reason=reason)
    record(request=request, action="flag", source=Source.SYSTEM, from_status=request.status,
           to_status=request.status, note=reason)


def borrowing_request_auto_send(*, request) -> BorrowingRequest:
    """Locate a new request in its partners' catalogues, then send it to the first partner
    left in the rota; after an Unfilled (Ready again), send it to the next one. A request
    that is not automatic, is flagged, or has moved on is left alone."""
    request = BR.objects.select_related("institution").get(pk=request.pk)
    if not request.auto_send or request.status not in SENDABLE:
        return request
    if request.status == BR.S.CREATED and request.needs_attention:
        return request  # a new request staff must look at first (own copy, empty rota)
    if request.status == BR.S.CREATED:
        try:
            located = locate_rota(request=request)  # the network: no transaction open
        except Exception:  # a catalogue that fails must not stop the request
            logger.exception("Locate failed for %s; the rota is asked as it stands.",
                             request.number)
        else:
            request = located if isinstance(located, BR) else request
        request = BR.objects.get(pk=request.pk)
        if request.status not in SENDABLE or request.needs_attention:
            return request
    if not request.rota.filter(outcome=RotaEntry.Outcome.PENDING).exists():
        _flag(request, _("No partner in the rota holds it: choose partners by hand, buy it or "
                         "cancel."))
        return request
    try:
        with transaction.atomic():
            return borrowing_request_send(request=request, user=None)
    except DomainError as exc:
        _flag(request, _("Could not be sent automatically: %(why)s") % {"why": exc.message})
        return BR.objects.get(pk=request.pk)


def auto_send_sweep(*, now: datetime.datetime | None = None) -> int:
    """Automatic requests the after-commit hand-over lost (broker down): send them now."""
    cutoff = (now or timezone.now()) - datetime.timedelta(minutes=2)
    done = 0
    for request in BR.objects.filter(open_auto_requests(), status__in=SENDABLE,
                                     needs_attention=False, status_changed_at__lt=cutoff):
        if borrowing_request_auto_send(request=request).status == BR.S.SENT:
            done += 1
    return done


# --- timers ------------------------------------------------------------------------------------


SILENT = (BR.S.SENT, BR.S.ACCEPTED, BR.S.WILL_SUPPLY)


def chase_silent_partner(*, request, now: datetime.datetime | None = None) -> str:
    """A partner past its average supply time without sending: an ISO 18626 partner is asked
    where the request stands (StatusRequest), an e-mail partner gets a reminder letter; on a
    later run the request is flagged. Returns what was done ("" nothing, "chased",
    "flagged")."""
    now = now or timezone.now()
    partner = request.partner
    entry = (request.rota.filter(outcome=RotaEntry.Outcome.ASKED, partner=partner,
                                 asked_at__isnull=False).order_by("-position").first())
    if partner is None or entry is None or request.status not in SILENT:
        return ""
    days = partner.average_supply_days or 0
    if entry.asked_at + datetime.timedelta(days=days) > now:
        return ""
    if entry.chased_at is None:
        def apply(r):
            RotaEntry.objects.filter(pk=entry.pk).update(chased_at=now)
            if partner.is_iso:
                borrowing_event(request=r, event="status_request")
            elif partner.email:
                send_letter_later(request=r, code="borrowing_reminder_to_partner",
                                  to=partner.email, language=partner.language)

        if partner.is_iso:
            note = _("%(partner)s has not supplied within its average %(days)s days: asked "
                     "where the request stands (StatusRequest).")
        else:
            note = _("%(partner)s has not supplied within its average %(days)s days: a "
                     "reminder letter was sent.")
        update_fields(request=request, action="status_request" if partner.is_iso
                      else "partner_reminder", source=Source.SYSTEM, apply=apply,
                      note=note % {"partner": partner.name, "days": days})
        return "chased"
    if request.needs_attention or entry.chased_at >= now:
        return ""
    _flag(request, _("%(partner)s is silent: nothing supplied in %(days)s days (its average "
                     "is %(avg)s), not even after we chased it on %(when)s. Ask again, or "
                     "cancel there and ask the next partner.") % {
        "partner": partner.name, "days": (now - entry.asked_at).days, "avg": days,
        "when": formats.date_format(timezone.localtime(entry.chased_at), "SHORT_DATE_FORMAT")})
    return "flagged"


def chase_silent_partners(*, now: datetime.datetime | None = None) -> int:
    now = now or timezone.now()
    off = set(AutomationSettings.objects.filter(chase_silent_partners=False)
              .values_list("institution_id", flat=True))
    done = 0
    rows = (BR.objects.filter(status__in=SILENT, partner__isnull=False)
            .exclude(institution_id__in=off).select_related("partner", "institution"))
    for request in rows.iterator():
        try:
            done += bool(chase_silent_partner(request=request, now=now))
        except DomainError as exc:
            logger.info("Silent-partner timer skipped %s: %s", request.number, exc.message)
    return done


def warn_condition_reply_by(*, today: datetime.date | None = None) -> int:
    """A partner's condition that must be answered by a date near or past: flagged."""
    today = today or timezone.localdate()
    done = 0
    for settings in AutomationSettings.objects.filter(condition_warn_days__isnull=False):
        horizon = today + datetime.timedelta(days=settings.condition_warn_days)
        for request in BR.objects.filter(institution_id=settings.institution_id,
                                         status=BR.S.CONDITIONAL,
                                         condition_reply_by__lte=horizon):
            reason = condition_words(request.condition_reply_by, today)
            if request.attention_reason != reason:
                _flag(request, reason)
                done += 1
    return done


def condition_words(reply_by: datetime.date, today: datetime.date) -> str:
    when = formats.date_format(reply_by, "SHORT_DATE_FORMAT")
    if reply_by < today:
        return _("The condition's reply-by date %(when)s has passed: answer it now or the "
                 "partner may drop the request.") % {"when": when}
    return _("Answer the condition by %(when)s.") % {"when": when}
