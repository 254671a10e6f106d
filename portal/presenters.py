"""What a patron reads about their requests: status in plain language, a timeline, what they
can do now. Plain values for the templates (and the API's history summary)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from circulation.models import Hold
from ill.borrowing.automation import expected_arrival
from ill.borrowing.services import renewal_refusal
from ill.models import BorrowingRequest

BR = BorrowingRequest
S = BR.Status
CANCELLABLE = (S.CREATED, S.READY, S.REJECTED, S.SENT, S.ACCEPTED, S.WILL_SUPPLY,
               S.CONDITIONAL)


def _date(value) -> str:
    if value is None:
        return ""
    if hasattr(value, "tzinfo"):
        value = timezone.localtime(value).date()
    return formats.date_format(value, "SHORT_DATE_FORMAT")


def plain_status(r: BorrowingRequest) -> str:
    """The status as the patron would say it."""
    s = r.status
    if s in (S.CREATED, S.READY, S.REJECTED):
        return _("Asked: the library is finding a library that can supply it")
    if s in (S.SENT, S.ACCEPTED, S.WILL_SUPPLY, S.CONDITIONAL):
        return _("Asked from another library")
    if s == S.SHIPPED_PHYSICAL:
        return _("On its way to us")
    if s == S.SHIPPED_DIGITAL:
        return _("The copy is on its way")
    if s == S.RECEIVED:
        hold = r.hold
        if hold is not None and hold.state == Hold.State.ON_HOLD_SHELF:
            return _("Waiting for you at %(desk)s until %(date)s") % {
                "desk": hold.pickup_desk.name if hold.pickup_desk_id else "",
                "date": _date(hold.pickup_deadline)}
        return _("Arrived: on its way to your pickup desk")
    if s == S.RENEW_REQUESTED:
        return _("On loan to you; renewal asked, waiting for the lending library's answer")
    if s == S.RENEWAL_REFUSED:
        return _("On loan to you until %(date)s (the lending library did not renew it)") % {
            "date": _date(r.patron_due_date)}
    if s == S.OVERDUE:
        return _("Overdue since %(date)s: please return it") % {
            "date": _date(r.patron_due_date)}
    if s == S.RECALLED:
        return _("Recalled by the lending library: please return it by %(date)s") % {
            "date": _date(r.patron_due_date)}
    if s in BR.ON_LOAN:
        return _("On loan to you until %(date)s") % {"date": _date(r.patron_due_date)}
    if s in (S.RETURNED_BY_PATRON, S.RETURNED_TO_PARTNER):
        return _("Returned")
    if s in (S.LOST, S.DAMAGED):
        return _("Reported lost or damaged")
    if s == S.WAITING_CANCEL:
        return _("Cancelling: waiting for the lending library to confirm")
    if s == S.COMPLETED:
        return _("Delivered") if not r.is_physical else _("Returned")
    if s in (S.CANCELLED_PATRON, S.CANCELLED_STAFF, S.CANCELLED_PARTNER):
        return _("Cancelled")
    if s == S.EXPIRED:
        return _("No library could supply it")
    return r.get_status_display()


# History steps the patron cares about, by the status a change led to.
STEPS = {
    S.CREATED: _("Asked"),
    S.SENT: _("Sent to a lending library"),
    S.SHIPPED_PHYSICAL: _("On its way"),
    S.SHIPPED_DIGITAL: _("Copy sent"),
    S.RECEIVED: _("Arrived at the library"),
    S.LOANED: _("Loaned to you"),
    S.RENEWED: _("Renewed"),
    S.RENEWAL_REFUSED: _("Renewal refused"),
    S.RETURNED_BY_PATRON: _("Returned"),
    S.COMPLETED: _("Done"),
    S.CANCELLED_PATRON: _("Cancelled"),
    S.CANCELLED_STAFF: _("Cancelled"),
    S.CANCELLED_PARTNER: _("Cancelled"),
    S.EXPIRED: _("No library could supply it"),
}


def timeline(r: BorrowingRequest) -> list[dict]:
    seen, steps = set(), []
    for entry in r.history.all():  # prefetched, in order
        label = STEPS.get(entry.to_status)
        if label is None or (entry.to_status, entry.action) in seen:
            continue
        if entry.to_status == S.SENT and S.SENT in {s for s, _a in seen}:
            continue  # a second partner asked: one "sent" is enough for the patron
        seen.add((entry.to_status, entry.action))
        steps.append({"label": str(label), "date": _date(entry.at)})
    return steps


def request_card(r: BorrowingRequest, *, today=None) -> dict:
    """One request as the patron's page shows it."""
    today = today or timezone.localdate()
    renewable, renew_note = False, ""
    if r.status in BR.ON_LOAN:
        refusal = renewal_refusal(r, by_patron=True, today=today)
        renewable = refusal is None
        renew_note = refusal or ""
    download = ""
    if (r.download_token and r.download_expires_at and r.download_expires_at > timezone.now()
            and r.status in (S.COMPLETED, S.SHIPPED_DIGITAL)):
        download = settings.KAUKO_BASE_URL + reverse("ill:article_download",
                                                     args=[r.download_token])
    return {
        "pk": r.pk, "number": r.number,
        "title": r.article_title or r.title,
        "in_title": r.title if r.article_title else "",
        "type": r.get_request_type_display(),
        "status": plain_status(r),
        "timeline": timeline(r),
        "due": _date(r.patron_due_date) if r.status in BR.ON_LOAN else "",
        "on_loan": r.status in BR.ON_LOAN,
        "cancellable": r.status in CANCELLABLE,
        "renewable": renewable, "renew_note": renew_note,
        "download": download, "download_until": _date(r.download_expires_at) if download else "",
        "open": not r.is_final,
        "expected": _date(expected_arrival(r)),
    }
