import pytest
from django.conf import settings

from kauko import roles
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_the_home_page_shows_the_staff_members_institution(client):
    inst = f.institution("OTA", name="Otaniemi University Library")
    f.institution("KAISA", name="Kaisaniemi University Library")
    client.force_login(f.staff(inst, roles.CIRCULATION))
    response = client.get("/")
    assert response.status_code == 200
    assert "Otaniemi University Library" in response.text
    assert "Kaisaniemi" not in response.text


def test_the_home_page_speaks_finnish_when_asked(client):
    inst = f.institution("OTA")
    client.force_login(f.staff(inst))
    client.post("/i18n/setlang/", {"language": "fi", "next": "/"})
    response = client.get("/")
    assert '<html lang="fi">' in response.text
    assert "Kirjaudu ulos" in response.text  # "Log out"


@pytest.mark.parametrize(("language", "one_library", "two_patrons"), [
    ("en", "1</span> library", "2</span> patrons"),
    ("fi", "1</span> kirjasto", "2</span> asiakasta"),  # partitive after a number above one
    ("sv", "1</span> bibliotek", "2</span> låntagare"),
])
def test_the_home_page_counters_agree_with_their_numbers(client, language, one_library,
                                                          two_patrons):
    inst = f.institution("OTA")
    f.library(inst)
    f.patron(inst), f.patron(inst)
    client.force_login(f.staff(inst))
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    text = client.get("/").text
    assert one_library in text and two_patrons in text
    assert "0</span>" in text  # no desks: the counter still shows its zero


def test_healthz_reports_the_database_and_the_broker(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok"
    if settings.CELERY_BROKER_URL:
        assert body["broker"] == "ok"
    else:
        assert body["broker"].startswith("not configured")


def test_healthz_says_error_when_the_broker_is_unreachable(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["broker"].startswith("error")


def test_roles_exist_with_the_permissions_their_work_needs():
    from django.contrib.auth.models import Group

    roles.ensure_roles()
    rs = Group.objects.get(name=roles.RESOURCE_SHARING)
    desk = Group.objects.get(name=roles.CIRCULATION)
    config = Group.objects.get(name=roles.CONFIGURATION)
    codenames = lambda g: set(g.permissions.values_list("codename", flat=True))  # noqa: E731
    assert {"view_partner", "add_itembarcode"} <= codenames(rs)
    assert "change_partner" not in codenames(rs)
    assert {"change_block", "change_item"} <= codenames(desk)
    assert "change_partner" not in codenames(desk)
    assert {"add_partner", "change_partner", "add_fulfillmentunit", "change_termsofuse"} \
        <= codenames(config)
    assert "delete_institution" not in codenames(config)
