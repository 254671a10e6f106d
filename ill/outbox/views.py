"""Staff's outbox actions: send a failed or refused message again, or every message to its
partner that could not be delivered (after an outage longer than the retry ladder)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from ill.models import OutboxMessage
from ill.outbox import services as outbox
from kauko.access import require_perm, staff_institution
from kauko.errors import DomainError


@login_required
@require_POST
def resend(request, pk: int):
    institution = staff_institution(request)
    row = OutboxMessage.objects.filter(pk=pk, institution=institution).select_related(
        "borrowing_request", "lending_request").first()
    if row is None:
        raise Http404
    if row.borrowing_request_id:
        require_perm(request, "ill.change_borrowingrequest")
        back = reverse("ill:borrowing_detail", args=[row.borrowing_request_id])
    else:
        require_perm(request, "ill.change_lendingrequest")
        back = reverse("ill:lending_detail", args=[row.lending_request_id])
    try:
        outbox.resend(outbox=row, user=request.user)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The message will be sent again."))
    return HttpResponseRedirect(back)


@login_required
@require_POST
def resend_partner(request, pk: int):
    """Send again every failed message to the partner of outbox row `pk`: resource sharing
    staff of the row's institution only."""
    institution = staff_institution(request)
    row = OutboxMessage.objects.filter(pk=pk, institution=institution).select_related(
        "partner").first()
    if row is None:
        raise Http404
    require_perm(request, "ill.change_outboxmessage")
    resumed = outbox.resume_partner(partner=row.partner, user=request.user)
    if resumed:
        messages.success(request, ngettext(
            "The failed messages of %(n)s request to %(partner)s will be sent again.",
            "The failed messages of %(n)s requests to %(partner)s will be sent again.",
            resumed) % {"n": resumed, "partner": row.partner})
    else:
        messages.info(request, _("No message to %(partner)s is waiting to be sent again.") % {
            "partner": row.partner})
    if row.borrowing_request_id:
        return HttpResponseRedirect(reverse("ill:borrowing_detail",
                                            args=[row.borrowing_request_id]))
    return HttpResponseRedirect(reverse("ill:lending_detail", args=[row.lending_request_id]))
