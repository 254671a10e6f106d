"""Staff of one institution can neither read nor change another's objects, whatever URL
they guess: staff views, the admin and the API."""

import pytest
from django.urls import reverse

from kauko import roles
from partners.models import Partner
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    ota, kaisa = f.institution("OTA"), f.institution("KAISA")
    ota_loc = f.location(f.library(ota))
    kaisa_loc = f.location(f.library(kaisa))
    return {
        "ota": ota, "kaisa": kaisa,
        "ota_item": f.item(ota_loc, title="Otaniemi book", barcodes=["SAME-1"]),
        "kaisa_item": f.item(kaisa_loc, title="Kaisaniemi book", barcodes=["SAME-1", "K-2"]),
        "ota_partner": f.partner(ota, code="NRL", name="Ota's NRL"),
        "kaisa_partner": f.partner(kaisa, code="NRL", name="Kaisa's NRL"),
        "ota_rs": f.staff(ota, roles.RESOURCE_SHARING),
        "ota_admin": f.staff(ota, roles.CONFIGURATION),
    }


def test_the_item_page_of_another_institution_is_not_found(client, world):
    client.force_login(world["ota_rs"])
    own = client.get(reverse("fulfillment:item_detail", args=[world["ota_item"].pk]))
    theirs = client.get(reverse("fulfillment:item_detail", args=[world["kaisa_item"].pk]))
    assert own.status_code == 200
    assert theirs.status_code == 404


def test_a_search_never_shows_another_institutions_items(client, world):
    client.force_login(world["ota_rs"])
    by_barcode = client.get(reverse("fulfillment:item_search"), {"q": "SAME-1"})
    assert "Otaniemi book" in by_barcode.text
    assert "Kaisaniemi book" not in by_barcode.text
    by_their_barcode = client.get(reverse("fulfillment:item_search"), {"q": "K-2"})
    assert "Kaisaniemi book" not in by_their_barcode.text
    by_title = client.get(reverse("fulfillment:item_search"), {"q": "book"})
    assert "Otaniemi book" in by_title.text
    assert "Kaisaniemi book" not in by_title.text


def test_anonymous_visitors_are_sent_to_log_in(client, world):
    response = client.get(reverse("fulfillment:item_detail", args=[world["ota_item"].pk]))
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_staff_without_the_view_permission_are_refused(client, world):
    nobody = f.staff(world["ota"], role=None)
    client.force_login(nobody)
    response = client.get(reverse("fulfillment:item_detail", args=[world["ota_item"].pk]))
    assert response.status_code == 403


def test_an_account_without_an_institution_sees_no_staff_pages(client, world):
    from kauko.models import StaffUser

    loose = StaffUser.objects.create_user(username="loose", password="x")
    client.force_login(loose)
    assert client.get(reverse("home")).status_code == 403


def test_the_admin_lists_only_the_own_institutions_partners(client, world):
    client.force_login(world["ota_admin"])
    response = client.get(reverse("admin:partners_partner_changelist"))
    assert response.status_code == 200
    assert "Ota&#x27;s NRL" in response.text
    assert "Kaisa&#x27;s NRL" not in response.text


def test_the_admin_will_not_open_another_institutions_partner(client, world):
    client.force_login(world["ota_admin"])
    url = reverse("admin:partners_partner_change", args=[world["kaisa_partner"].pk])
    response = client.get(url)
    # Django's admin answers "does not exist" with a redirect to the admin index.
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_the_admin_will_not_change_another_institutions_partner(client, world):
    client.force_login(world["ota_admin"])
    url = reverse("admin:partners_partner_change", args=[world["kaisa_partner"].pk])
    client.post(url, {"code": "HACKED", "name": "Hacked", "profile_type": "email",
                      "email": "x@example.org", "agency_id_type": "ISIL",
                      "iso_version": "1.2", "language": "en", "average_supply_days": 1,
                      "mail_delay_days": 0})
    world["kaisa_partner"].refresh_from_db()
    assert world["kaisa_partner"].name == "Kaisa's NRL"


def test_the_admin_will_not_delete_another_institutions_item(client, world):
    admin_user = f.staff(world["ota"], roles.RESOURCE_SHARING)
    client.force_login(admin_user)
    url = reverse("admin:fulfillment_item_delete", args=[world["kaisa_item"].pk])
    client.post(url, {"post": "yes"})
    assert type(world["kaisa_item"]).objects.filter(pk=world["kaisa_item"].pk).exists()


def test_admin_forms_offer_only_the_own_institutions_records_to_pick(client, world):
    f.workflow_profile(world["ota"], name="Ota borrowing")
    f.workflow_profile(world["kaisa"], name="Kaisa borrowing")
    client.force_login(world["ota_admin"])
    response = client.get(reverse("admin:partners_partner_add"))
    assert "Ota borrowing" in response.text
    assert "Kaisa borrowing" not in response.text


def test_the_admin_refuses_a_forged_choice_from_another_institution(client, world):
    theirs = f.workflow_profile(world["kaisa"], name="Kaisa borrowing")
    client.force_login(world["ota_admin"])
    response = client.post(reverse("admin:partners_partner_add"), {
        "code": "NEW", "name": "New partner", "active": "on", "profile_type": "email",
        "email": "new@example.org", "agency_id_type": "ISIL", "iso_version": "1.2",
        "language": "en", "average_supply_days": 3, "mail_delay_days": 1,
        "borrowing_profile": theirs.pk,
    })
    assert response.status_code == 200  # the form comes back with an error
    assert not Partner.objects.filter(code="NEW").exists()


def test_the_api_lists_only_the_own_institutions_items(client, world):
    client.force_login(world["ota_rs"])
    response = client.get("/api/items/")
    titles = [row["title"] for row in response.json()["results"]]
    assert titles == ["Otaniemi book"]


def test_the_api_does_not_find_another_institutions_item_by_id_or_barcode(client, world):
    client.force_login(world["ota_rs"])
    assert client.get(f"/api/items/{world['kaisa_item'].pk}/").status_code == 404
    by_barcode = client.get("/api/items/", {"barcode": "K-2"}).json()
    assert by_barcode["results"] == []


def test_the_api_will_not_change_another_institutions_partner(client, world):
    client.force_login(world["ota_admin"])
    response = client.patch(f"/api/partners/{world['kaisa_partner'].pk}/",
                            {"name": "Hacked"}, content_type="application/json")
    assert response.status_code == 404
    world["kaisa_partner"].refresh_from_db()
    assert world["kaisa_partner"].name == "Kaisa's NRL"


def test_the_api_creates_partners_in_the_own_institution(client, world):
    client.force_login(world["ota_admin"])
    response = client.post("/api/partners/", {
        "code": "API", "name": "Via API", "profile_type": "email", "email": "a@example.org",
    }, content_type="application/json")
    assert response.status_code == 201, response.content
    assert Partner.objects.get(code="API").institution == world["ota"]


def test_the_api_refuses_anonymous_callers(client, world):
    assert client.get("/api/items/").status_code in (401, 403)
