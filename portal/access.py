"""Who the patron is: the portal's own session key, never Django's staff login.

A signed-in patron is `request.session[PATRON_SESSION_KEY]` (the patron's id). Staff pages
look at `request.user`, which stays anonymous for a patron, so a patron reaches nothing of
the staff site; and signing out here leaves a staff login in the same browser alone.
"""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlencode

from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from patrons.models import Patron

PATRON_SESSION_KEY = "kauko_patron_id"


def sign_in(request, patron: Patron) -> None:
    request.session.cycle_key()  # no session fixation
    request.session[PATRON_SESSION_KEY] = patron.pk


def sign_out(request) -> None:
    request.session.pop(PATRON_SESSION_KEY, None)
    request.session.cycle_key()


def current_patron(request) -> Patron | None:
    if not hasattr(request, "_portal_patron"):
        pk = request.session.get(PATRON_SESSION_KEY)
        request._portal_patron = (
            Patron.objects.select_related("group", "institution", "pickup_desk")
            .filter(pk=pk).first() if pk else None)
    return request._portal_patron


def safe_next(request, value: str | None, default: str) -> str:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()},
                                                 require_https=request.is_secure()):
        return value
    return default


def patron_required(view):
    """The view runs for a signed-in patron (passed as `patron`); others go to sign-in and
    come back to the same page (with its query, so an OpenURL survives)."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        patron = current_patron(request)
        if patron is None:
            return redirect(reverse("portal:sign_in") + "?" + urlencode(
                {"next": request.get_full_path()}))
        return view(request, *args, patron=patron, **kwargs)

    return wrapper
