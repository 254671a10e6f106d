"""Staff actions that exist only because of ISO 18626: a note to the partner, a retry.

(The status-changing steps live in `ill.services` and `ill.lending_services`; these add a
message to the conversation, through the same row lock and history.)
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from ill.models import BorrowingRequest, RotaEntry
from ill.outbox import services as iso_outbound
from ill.workflow import WorkflowError, update_fields


def send_partner_note(*, request, note: str, user=None, version=None):
    """A free-text message to the partner: a Notification on its request."""
    note = (note or "").strip()
    if not note:
        raise WorkflowError(_("Write the message first."))
    if request.partner is None or not request.partner.is_iso:
        raise WorkflowError(_("Messages go to ISO 18626 partners; write to this one by e-mail."))
    borrowing = isinstance(request, BorrowingRequest)

    def apply(r):
        if borrowing:
            iso_outbound.borrowing_event(request=r, event="notification", user=user, note=note)
        else:
            iso_outbound.lending_event(request=r, event="notification", user=user, note=note)

    return update_fields(request=request, user=user, version=version, action="partner_note",
                         apply=apply, note=note)


def borrowing_request_retry(*, request, user=None, version=None, note=""):
    """The partner said "retry possible": ask it again (requestType Retry) under a new id,
    so its answers to the old one are told apart."""
    if request.status not in BorrowingRequest.AT_PARTNER or not request.partner.is_iso:
        raise WorkflowError(_("Only a request waiting at an ISO 18626 partner can be retried."))
    entry = iso_outbound.latest_attempt(request)
    if entry is None:
        raise WorkflowError(_("This request was never sent."))

    def apply(r):
        previous = entry.attempt_id
        tries = RotaEntry.objects.filter(pk=entry.pk).values_list("attempt_id", flat=True)
        base = f"{r.number}-{entry.position}"
        count = 1 + (tries[0].count("-R") if tries else 0)
        new_id = f"{base}-R{count}"
        RotaEntry.objects.filter(pk=entry.pk).update(attempt_id=new_id,
                                                     outcome=RotaEntry.Outcome.ASKED)
        r.needs_attention = False
        r.attention_reason = ""
        iso_outbound.borrowing_event(request=r, event="retry", user=user, retry_of=previous,
                                     note=note)

    return update_fields(request=request, user=user, version=version, action="iso_retry",
                         apply=apply, note=note or _("Asked the partner again (retry)."))
