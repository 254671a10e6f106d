"""The Content-Security-Policy blocks nothing Kauko itself does: no page logs a violation,
and the behaviours that were inline handlers (language switch, letter template defaults)
still work from the static scripts."""

import pytest

from kauko import roles
from tests import factories as f

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pages_meet_the_content_security_policy(page, live_server, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    inst = f.institution("OTA", name="Otaniemi University Library")
    user = f.staff(inst, roles.CONFIGURATION, username="aino")
    user.set_password("browser-pw-1")
    user.save()
    violations = []
    page.on("console", lambda message: violations.append(message.text)
            if "Content Security Policy" in message.text else None)

    login(page, live_server, "aino", "browser-pw-1")
    for path in ("/", "/admin/", "/admin/kauko/lettertemplate/letter-types/",
                 "/admin/kauko/lettertemplate/letter-types/hold_slip/en/preview/"):
        page.goto(f"{live_server.url}{path}")
    page.goto(f"{live_server.url}/admin/kauko/lettertemplate/add/")
    page.select_option("#id_language", "en")
    with page.expect_navigation():
        page.select_option("#id_code", "hold_slip")
    assert "code=hold_slip" in page.url
    assert page.input_value("#id_subject") != ""

    assert violations == []
