from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Count
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from config.celery import app
from config.selectors import institution_overview
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
    return render(request, "config/home.html", {
        "institution": institution,
        "overview": institution_overview(institution=institution),
    })


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
