"""Access helpers every staff view starts with.

They answer 404 for another institution's objects (so URL guessing learns nothing) and 403
for a missing permission, before the view does anything else.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import Model, QuerySet
from django.shortcuts import get_object_or_404, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme


def staff_institution(request):
    """The institution of the logged-in staff member, or 403."""
    user = request.user
    if not user.is_authenticated or not user.is_active:
        raise PermissionDenied
    if user.institution_id is None:
        raise PermissionDenied("This account belongs to no institution.")
    return user.institution


def require_perm(request, *perms: str) -> None:
    if not request.user.has_perms(perms):
        raise PermissionDenied


def get_scoped_or_404(request, queryset: QuerySet | type[Model], *perms: str, **lookup):
    """One object of the user's institution, or 404; 403 without the permissions."""
    institution = staff_institution(request)
    require_perm(request, *perms)
    if not isinstance(queryset, QuerySet):
        queryset = queryset._default_manager.all()
    return get_object_or_404(queryset.filter(institution=institution), **lookup)


def next_url(request, fallback: str) -> str:
    """Where to go after a POST: the form's `next` when it is a page of this site (never
    another host, `//host`, a backslash trick or `javascript:`), else `fallback` (a URL
    name or path)."""
    url = request.POST.get("next", "")
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()},
                                               require_https=request.is_secure()):
        return url
    return resolve_url(fallback)
