"""ISO 18626 over HTTP: the endpoint partners post to.

The endpoint has no session or CSRF (partners are systems, authenticated by their
credentials in `ill.inbound.endpoint`); everything it does lives in that module.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ill.inbound import endpoint as iso_inbound


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


