from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app
from config.selectors import dashboard, institution_overview
from kauko.access import staff_institution
from kauko.models import Institution


@login_required
def home(request):
    user = request.user
    if user.is_superuser and user.institution_id is None:
        # The deployment's operator belongs to no institution: its work is the admin.
        return render(request, "config/operator_home.html", {
            "institutions": [{"name": i.name, "code": i.code, "staff": i.staff_count}
                             for i in Institution.objects.annotate(staff_count=Count("staff"))
                             .order_by("name")],
        })
    institution = staff_institution(request)
    context = {"institution": institution,
               "overview": institution_overview(institution=institution)}
    if _is_rs_office(request.user):
        # "New" means new since the user's previous look at this page; the refreshes in
        # between (home_live) count from the same moment.
        request.session[PREVIOUS_LOOK] = request.session.get(LAST_LOOK)
        request.session[LAST_LOOK] = timezone.now().isoformat()
        context["dashboard"] = _dashboard(request, institution)
    return render(request, "config/home.html", context)


# The RS office's dashboard: the session remembers when the user last opened the home page.
LAST_LOOK = "dashboard_last_look"
PREVIOUS_LOOK = "dashboard_previous_look"
DASHBOARD_REFRESH_SECONDS = 60


def _is_rs_office(user) -> bool:
    return user.has_perms(("ill.change_borrowingrequest", "ill.change_lendingrequest"))


def _dashboard(request, institution) -> dict:
    previous = request.session.get(PREVIOUS_LOOK)
    previous = datetime.datetime.fromisoformat(previous) if previous else None
    # On a first look ever, the refreshes count from the page's own load.
    loaded = request.session.get(LAST_LOOK)
    since = previous or (datetime.datetime.fromisoformat(loaded) if loaded else None)
    return {**dashboard(institution=institution, since=since),
            "since": previous, "refresh_seconds": DASHBOARD_REFRESH_SECONDS}


@login_required
@never_cache
@require_GET
def home_live(request):
    """The dashboard's part that refreshes itself (polled by static/kauko/dashboard.js)."""
    institution = staff_institution(request)
    if not _is_rs_office(request.user):
        raise PermissionDenied
    return render(request, "config/_dashboard.html",
                  {"dashboard": _dashboard(request, institution)})


def _database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # Any failure is the answer, not a crash.
        return f"error: {exc.__class__.__name__}"
    return "ok"


def _broker_state() -> str:
    if not settings.CELERY_BROKER_URL:
        return "not configured (tasks run in-process)"

    try:
        with app.connection_for_write(url=settings.CELERY_BROKER_URL) as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return f"error: {exc.__class__.__name__}"
    return "ok"


@never_cache
@require_GET
def healthz(request):
    database = _database_state()
    broker = _broker_state()
    healthy = database == "ok" and not broker.startswith("error")
    return JsonResponse(
        {"status": "ok" if healthy else "error", "database": database, "broker": broker},
        status=200 if healthy else 503,
    )


# --- logging in (throttled by django-axes: AXES_* in settings) ---------------------------------


def _throttle() -> dict:
    return {"failure_limit": settings.AXES_FAILURE_LIMIT,
            "cooloff_minutes": int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)}


class LoginView(auth_views.LoginView):
    """Django's login page, saying beforehand how logins are throttled."""

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **_throttle()}


def login_locked_out(request, original_response=None, credentials=None):
    """What a locked-out login gets (AXES_LOCKOUT_CALLABLE): 429 and why."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _(
            "Too many failed logins: try again in %(minutes)s minutes.") % {
            "minutes": _throttle()["cooloff_minutes"]}}, status=429)
    return render(request, "registration/locked_out.html", _throttle(), status=429)
