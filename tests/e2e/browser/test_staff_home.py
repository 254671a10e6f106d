"""Issue 2: a staff member logs in and sees the home page of their institution."""

import pytest

from kauko import roles
from tests import factories as f

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_log_in_and_see_their_institutions_home_page(page, live_server, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    inst = f.institution("OTA", name="Otaniemi University Library")
    f.institution("KAISA", name="Kaisaniemi University Library")
    user = f.staff(inst, roles.RESOURCE_SHARING, username="riikka")
    user.set_password("browser-pw-1")
    user.save()

    login(page, live_server, "riikka", "browser-pw-1")

    assert page.url == f"{live_server.url}/"
    assert page.get_by_test_id("institution-name").inner_text() == \
        "Otaniemi University Library"
    assert "Kaisaniemi" not in page.content()
    nav = page.get_by_role("navigation", name="Main")
    assert nav.get_by_role("link", name="Borrowing").is_visible()

    with page.expect_navigation():
        page.select_option("#language-select", "fi")
    assert page.locator("html").get_attribute("lang") == "fi"
    assert page.get_by_role("button", name="Kirjaudu ulos").is_visible()
