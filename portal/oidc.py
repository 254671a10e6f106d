"""Campus single sign-on for patrons: OpenID Connect through mozilla-django-oidc.

Patrons are not Django users, so the library's backend is never put in
AUTHENTICATION_BACKENDS (it would log a staff session in). The portal reuses its pieces: the
request view (state, nonce, the redirect to the provider) and the backend's code exchange and
token checks, then maps one claim (`PORTAL_OIDC_CLAIM`, e.g. the university's user id) to a
patron of `PORTAL_OIDC_INSTITUTION` by card number or identifier, and signs them in under the
portal's own session key. Configured by environment variables (config/settings.py); without
them the campus sign-in is simply not offered.
"""

from __future__ import annotations

import logging

from django.conf import settings
from mozilla_django_oidc.auth import OIDCAuthenticationBackend
from mozilla_django_oidc.views import OIDCAuthenticationRequestView

from kauko.models import Institution
from patrons.models import Patron
from portal.selectors import patron_by_identifier

logger = logging.getLogger(__name__)


def oidc_enabled() -> bool:
    return bool(getattr(settings, "OIDC_OP_AUTHORIZATION_ENDPOINT", "")
                and getattr(settings, "OIDC_RP_CLIENT_ID", "")
                and getattr(settings, "PORTAL_OIDC_INSTITUTION", ""))


class PatronOIDCBackend(OIDCAuthenticationBackend):
    """Exchanges the code, checks the ID token (signature, nonce), reads the claims, and
    answers the patron they name (or None). Never creates anyone."""

    def get_or_create_user(self, access_token, id_token, payload) -> Patron | None:
        claims = self.get_userinfo(access_token, id_token, payload)
        claim = settings.PORTAL_OIDC_CLAIM
        value = claims.get(claim) or payload.get(claim)
        institution = Institution.objects.filter(code=settings.PORTAL_OIDC_INSTITUTION).first()
        if not value or institution is None:
            logger.info("OIDC sign-in without the %s claim or institution", claim)
            return None
        return patron_by_identifier(institution=institution, value=str(value))


class PatronOIDCStart(OIDCAuthenticationRequestView):
    """Sends the patron to the provider (state and nonce kept in the session)."""


def patron_from_callback(request) -> Patron | None:
    """The patron the provider's answer names: state checked against the session (and spent),
    then the code exchanged and the tokens verified. None on any failure."""
    state, code = request.GET.get("state"), request.GET.get("code")
    states = request.session.get("oidc_states") or {}
    entry = states.pop(state, None) if state else None
    request.session["oidc_states"] = states
    if request.GET.get("error") or not code or entry is None:
        return None
    try:
        return PatronOIDCBackend().authenticate(
            request, nonce=entry.get("nonce"), code_verifier=entry.get("code_verifier"))
    except Exception:  # the provider said no, or answered nonsense: sign-in fails, politely
        logger.warning("OIDC sign-in failed", exc_info=True)
        return None
