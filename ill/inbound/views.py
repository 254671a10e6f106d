"""ISO 18626 over HTTP: the endpoint partners post to.

The endpoint has no session or CSRF (partners are systems, authenticated by their
credentials in `ill.inbound.endpoint`); everything it does lives in that module.
"""

from __future__ import annotations

from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from ill.inbound import endpoint as iso_inbound


def _token(request) -> str:
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return request.META.get("HTTP_X_ISO18626_TOKEN", "").strip()


def _plain(status: int, text: str) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


def _body(request, limit: int) -> bytes | None:
    """At most `limit + 1` bytes of the body; None when it cannot be read safely.

    Django's WSGI request reads only CONTENT_LENGTH bytes, and a chunked upload has none:
    it would look empty. A server that de-chunks the body and marks where it ends
    (`wsgi.input_terminated`: gunicorn, mod_wsgi, uWSGI) lets it be read to the end."""
    meta = request.META
    if (isinstance(request, WSGIRequest) and not meta.get("CONTENT_LENGTH")
            and "chunked" in meta.get("HTTP_TRANSFER_ENCODING", "").lower()):
        if not meta.get("wsgi.input_terminated"):
            return None
        stream, chunks, size = meta["wsgi.input"], [], 0
        while size <= limit:
            chunk = stream.read(limit + 1 - size)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    return request.read(limit + 1)


@csrf_exempt
@require_POST
def endpoint(request):
    limit = iso_inbound.max_bytes()
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:  # refuse before reading the body
        return _plain(413, f"Messages are limited to {limit} bytes.")
    body = _body(request, limit)
    if body is None:
        return _plain(411, "Send the message with a Content-Length header.")
    reply = iso_inbound.receive(body=body, content_type=request.META.get("CONTENT_TYPE", ""),
                                token=_token(request))
    return HttpResponse(reply.body, status=reply.status, content_type=reply.content_type)
