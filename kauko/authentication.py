"""API authentication (kept apart from viewsets: DRF imports it while loading itself)."""

from drf_spectacular.authentication import BasicScheme
from rest_framework.authentication import BasicAuthentication


class ThrottledBasicAuthentication(BasicAuthentication):
    """HTTP Basic auth whose attempts django-axes counts per account and address.

    Axes marks a lockout on the request it is given; DRF would hand it its own wrapper, so
    the mark never reached axes' middleware (which answers 429). Give it Django's request.
    """

    def authenticate_credentials(self, userid, password, request=None):
        return super().authenticate_credentials(userid, password,
                                                getattr(request, "_request", request))


class ThrottledBasicScheme(BasicScheme):
    """The OpenAPI schema describes it as the HTTP Basic auth it is."""

    target_class = "kauko.authentication.ThrottledBasicAuthentication"
