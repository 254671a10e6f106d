"""The partners API validates exactly as the admin does (the model's own checks, the unique
code, one partner per agency id whatever its case or spaces), and answers 409 for a partner
it cannot delete, never 500."""

import pytest
from django.urls import reverse

from kauko import roles
from partners.models import Partner
from tests import factories as f

pytestmark = pytest.mark.django_db

ISO = {"profile_type": "iso18626", "agency_id_type": "ISIL", "iso_version": "2021"}


@pytest.fixture
def api(client, config_admin):
    client.force_login(config_admin)
    return client


def _post(api, **data):
    return api.post("/api/partners/", data, content_type="application/json")


def _patch(api, partner, **data):
    return api.patch(f"/api/partners/{partner.pk}/", data, content_type="application/json")


def test_an_iso_partner_without_endpoint_or_agency_id_is_refused_with_reasons(api):
    response = _post(api, code="BAD", name="Bad", **ISO)
    assert response.status_code == 400
    assert set(response.json()) >= {"iso_endpoint_url", "agency_id_value"}
    assert not Partner.objects.filter(code="BAD").exists()


def test_an_email_partner_without_an_address_is_refused(api):
    response = _post(api, code="MAIL", name="Mail", profile_type="email")
    assert response.status_code == 400 and "email" in response.json()


def test_a_valid_iso_partner_is_created_in_the_own_institution(api, inst):
    response = _post(api, code="KAISA", name="Kaisa", agency_id_value="FI-KAISA",
                     iso_endpoint_url="https://kaisa.example.org/iso18626", **ISO)
    assert response.status_code == 201, response.json()
    assert Partner.objects.get(code="KAISA").institution == inst


@pytest.mark.parametrize("value", ["FI-KAISA", "fi-kaisa", " FI-KAISA "])
def test_another_partners_agency_id_is_refused_whatever_its_case_or_spaces(
    api, iso_partner, value
):
    response = _post(api, code="HIJACK", name="Aaa hijacker", agency_id_value=value,
                     iso_endpoint_url="https://evil.example.org/iso18626", **ISO)
    assert response.status_code == 400
    assert "agency_id_value" in response.json()
    assert not Partner.objects.filter(code="HIJACK").exists()


def test_a_partner_cannot_take_another_partners_agency_id_by_a_change(api, inst, iso_partner):
    other = f.partner(inst, code="OTHER", profile_type="iso18626", agency_id_type="ISIL",
                      agency_id_value="FI-OTHER", iso_endpoint_url="https://o.example.org/")
    response = _patch(api, other, agency_id_value="fi-kaisa")
    assert response.status_code == 400
    other.refresh_from_db()
    assert other.agency_id_value == "FI-OTHER"


def test_the_same_agency_id_in_another_institution_is_no_clash(api, other_inst, iso_partner):
    f.partner(other_inst, code="X", profile_type="iso18626", agency_id_type="ISIL",
              agency_id_value="FI-NEW", iso_endpoint_url="https://x.example.org/")
    response = _post(api, code="NEW", name="New", agency_id_value="FI-NEW",
                     iso_endpoint_url="https://new.example.org/iso18626", **ISO)
    assert response.status_code == 201, response.json()


def test_a_change_is_validated_as_the_whole_partner_it_makes(api, partner):
    response = _patch(api, partner, profile_type="iso18626")
    assert response.status_code == 400
    partner.refresh_from_db()
    assert partner.profile_type == "email"


def test_a_duplicate_code_is_refused_not_a_server_error(api, partner):
    response = _post(api, code=partner.code, name="Copy", profile_type="email",
                     email="copy@example.org")
    assert response.status_code == 400
    assert Partner.objects.filter(code=partner.code).count() == 1


def test_a_partner_with_requests_cannot_be_deleted_and_says_why(api, inst, partner):
    f.borrowing_request(inst, partners=[partner])
    response = api.delete(f"/api/partners/{partner.pk}/")
    assert response.status_code == 409
    assert "inactive" in response.json()["detail"]
    assert Partner.objects.filter(pk=partner.pk).exists()


def test_a_partner_nothing_refers_to_is_deleted(api, partner):
    assert api.delete(f"/api/partners/{partner.pk}/").status_code == 204
    assert not Partner.objects.filter(pk=partner.pk).exists()


def test_the_admin_refuses_another_partners_agency_id_in_another_case_too(client, inst,
                                                                          iso_partner):
    client.force_login(f.staff(inst, roles.CONFIGURATION))
    response = client.post(reverse("admin:partners_partner_add"), {
        "code": "HIJACK", "name": "Hijack", "active": "on", "profile_type": "iso18626",
        "agency_id_type": "isil", "agency_id_value": "fi-kaisa ",
        "iso_endpoint_url": "https://evil.example.org/iso18626", "iso_version": "2021",
        "language": "fi", "average_supply_days": 3, "mail_delay_days": 2})
    assert response.status_code == 200
    assert "agency_id_value" in response.context["adminform"].form.errors
    assert not Partner.objects.filter(code="HIJACK").exists()
