"""Issue 16: the RS office's home refreshes itself and says when a new lending request has
arrived, without a reload."""

import pytest

from config import views as config_views
from kauko import roles
from tests import factories as f

from .conftest import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_home_page_says_a_new_lending_request_arrived_without_a_reload(
        page, live_server, settings, monkeypatch):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    monkeypatch.setattr(config_views, "DASHBOARD_REFRESH_SECONDS", 1)
    inst = f.institution("OTA")
    setup = f.rs_setup(inst)
    partner = f.partner(inst, code="NRL", name="National Repository")
    user = f.staff(inst, roles.RESOURCE_SHARING, username="riikka")
    user.set_password("browser-pw-16")
    user.save()
    login(page, live_server, "riikka", "browser-pw-16")

    notice = page.get_by_test_id("new-lending-notice")
    assert notice.is_hidden()
    queue = page.locator("[data-testid=lending-queues] [data-queue=locate_failed] .figure")
    assert queue.inner_text() == "0"
    page.evaluate("window.__same_page = true")

    f.lending_request(inst, setup=setup, partner_=partner)

    notice.wait_for(state="visible")
    assert "new lending request has arrived" in notice.inner_text()
    page.wait_for_function(
        "() => document.querySelector("
        "'[data-testid=lending-queues] [data-queue=locate_failed] .figure').textContent === '1'")
    assert page.evaluate("window.__same_page") is True  # no reload happened
