"""ISO 18626 over HTTP: the endpoint partners post to, and staff's resend action.

The endpoint has no session or CSRF (partners are systems, authenticated by their
credentials in `ill.inbound.endpoint`); everything it does lives in that module.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ill.inbound import endpoint as iso_inbound
from ill.models import OutboxMessage
from ill.outbox import services as iso_outbound
from ill.workflow import WorkflowError
from kauko.access import require_perm, staff_institution


def _token(request) -> str:
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return request.META.get("HTTP_X_ISO18626_TOKEN", "").strip()


@csrf_exempt
@require_POST
def endpoint(request):
    limit = iso_inbound.max_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:  # refuse before reading the body
        return HttpResponse(f"Messages are limited to {limit} bytes.", status=413,
                            content_type="text/plain; charset=utf-8")
    body = request.read(limit + 1)
    reply = iso_inbound.receive(body=body, content_type=request.META.get("CONTENT_TYPE", ""),
                                token=_token(request))
    return HttpResponse(reply.body, status=reply.status, content_type=reply.content_type)


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
        iso_outbound.resend(outbox=row, user=request.user)
    except WorkflowError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The message will be sent again."))
    return HttpResponseRedirect(back)
