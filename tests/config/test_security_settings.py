"""Production hardening: a Content-Security-Policy on every page (and templates with no
inline script it would block), HSTS and the other secure settings when DEBUG is off
(`check --deploy` clean with the README's production settings), and an API schema that only
logged-in staff can read."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def _policy(response) -> dict[str, str]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


def test_every_page_carries_a_content_security_policy(client, rs_staff):
    client.force_login(rs_staff)
    for url in (reverse("login"), reverse("home"), "/admin/"):
        policy = _policy(client.get(url))
        assert policy["script-src"] == "script-src 'self'"
        assert "'none'" in policy["object-src"]
        assert "frame-ancestors" in policy and "base-uri" in policy


def test_no_template_has_inline_script_the_policy_would_block():
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"\son[a-z]+\s*=", text) or re.search(r"<script(?![^>]*\ssrc=)[^>]*>",
                                                           text):
            offenders.append(str(path.relative_to(TEMPLATES)))
    assert offenders == []


def test_the_api_schema_needs_a_login(client, rs_staff):
    assert client.get("/api/schema/").status_code in (401, 403)
    client.force_login(rs_staff)
    assert client.get("/api/schema/").status_code == 200


PRODUCTION = {
    "DEBUG": "false", "SECRET_KEY": "x" * 20 + "-production-secret-key-of-fifty-chars-or-so",
    "ALLOWED_HOSTS": "kauko.example.org", "KAUKO_BASE_URL": "https://kauko.example.org",
    # As deploy/kauko.env has them.
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "true", "SECURE_HSTS_PRELOAD": "true",
}


def _in_production(code: str) -> subprocess.CompletedProcess:
    # Only the production settings: nothing from the test run (the browser tests set
    # DJANGO_ALLOW_ASYNC_UNSAFE, which check --deploy rightly warns about).
    env = {k: v for k, v in os.environ.items()
           if k not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS")
           and not k.startswith(("DJANGO_", "SECURE_", "KAUKO_"))}
    env.update(PRODUCTION, DJANGO_SETTINGS_MODULE="config.settings")
    return subprocess.run([sys.executable, "-c", code], cwd=settings.BASE_DIR, env=env,
                          capture_output=True, text=True, timeout=120)


def test_check_deploy_is_clean_with_the_production_settings():
    done = _in_production(
        "import django, sys; django.setup();"
        "from django.core.management import call_command;"
        "call_command('check', deploy=True, fail_level='WARNING')")
    assert done.returncode == 0, done.stderr[-3000:]


def test_production_answers_with_hsts_and_refuses_private_partner_endpoints():
    done = _in_production(
        "import django; django.setup();"
        "from django.conf import settings as s;"
        "from django.test import Client;"
        "r = Client().get('/login/', secure=True, HTTP_HOST='kauko.example.org');"
        "print(r.status_code, r.headers.get('Strict-Transport-Security'),"
        " s.KAUKO_ALLOW_PRIVATE_PARTNER_ENDPOINTS)")
    assert done.returncode == 0, done.stderr[-3000:]
    status, *hsts, allow = done.stdout.split()
    assert status == "200"
    assert " ".join(hsts).startswith("max-age=31536000")
    assert allow == "False"
