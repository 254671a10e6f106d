"""Partners' systems post ISO 18626 messages to one URL, many a second. They carry no session,
cookie, CSRF token or language choice, so the staff-facing middleware below this one has
nothing to do for them, yet it cost about a tenth of each message's CPU: the endpoint is
answered here, before it. (Security middleware runs first, as for every request.)
"""

from __future__ import annotations

from ill.inbound import views as iso_views

PARTNER_PATH = "/iso18626"


class PartnerEndpointMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path_info == PARTNER_PATH:
            request.get_host()  # ALLOWED_HOSTS still applies (400 otherwise), as for all
            return iso_views.endpoint(request)
        return self.get_response(request)
