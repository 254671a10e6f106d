"""Logins are throttled per account and address (django-axes), on the login page, the
admin's and the API's Basic auth: after AXES_FAILURE_LIMIT wrong passwords even the right
one is refused for a while, and the login page says so beforehand."""

import base64

import pytest
from django.urls import reverse

from kauko import roles
from tests import factories as f

pytestmark = pytest.mark.django_db

PASSWORD = "pw-for-tests-only"  # tests.factories.staff's


@pytest.fixture
def user(inst):
    return f.staff(inst, roles.RESOURCE_SHARING, username="ota-rs")


def _login(client, username, password, address="10.0.0.1", url=None):
    return client.post(url or reverse("login"), {"username": username, "password": password},
                       REMOTE_ADDR=address)


def _basic(client, username, password, address="10.0.0.1"):
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return client.get("/api/partners/", HTTP_AUTHORIZATION=f"Basic {token}",
                      REMOTE_ADDR=address)


def test_the_login_page_says_logins_are_throttled(client, settings):
    page = client.get(reverse("login"))
    assert f"After {settings.AXES_FAILURE_LIMIT} wrong passwords" in page.text


def test_a_correct_password_logs_in(client, user):
    response = _login(client, "ota-rs", PASSWORD)
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_after_too_many_wrong_passwords_even_the_right_one_is_refused(client, settings, user):
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _login(client, "ota-rs", "wrong").status_code == 200
    assert _login(client, "ota-rs", "wrong").status_code == 429
    locked = _login(client, "ota-rs", PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.text
    assert "_auth_user_id" not in client.session


def test_the_lock_is_per_account_and_address(client, settings, inst, user):
    f.staff(inst, roles.RESOURCE_SHARING, username="ota-desk")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "ota-rs", "wrong")
    # The same account from another address, and another account from the same address.
    assert _login(client, "ota-rs", PASSWORD, address="10.0.0.2").status_code == 302
    client.logout()
    assert _login(client, "ota-desk", PASSWORD).status_code == 302


def test_the_admin_login_is_throttled_too(client, settings, user):
    url = reverse("admin:login")
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "ota-rs", "wrong", url=url)
    assert _login(client, "ota-rs", PASSWORD, url=url).status_code == 429


def test_api_basic_auth_is_throttled(client, settings, user):
    assert _basic(client, "ota-rs", PASSWORD).status_code == 200
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _basic(client, "ota-rs", "wrong").status_code in (401, 403)
    assert _basic(client, "ota-rs", "wrong").status_code == 429
    assert _basic(client, "ota-rs", PASSWORD).status_code == 429
