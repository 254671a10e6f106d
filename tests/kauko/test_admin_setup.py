"""A configuration admin sets up a new partner and a new fulfillment unit in the admin,
without touching code."""

import pytest
from django.urls import reverse

from fulfillment.models import FulfillmentUnit, Location
from fulfillment.selectors import terms_of_use_for
from kauko import roles
from partners.models import Partner
from tests import factories as f

pytestmark = pytest.mark.django_db


def _inline(prefix, rows, initial=0):
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(initial),
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"{prefix}-{i}-{key}"] = value
    return data




def test_a_configuration_admin_sets_up_an_iso_partner_with_hashed_credentials(client, inst):
    profile = f.workflow_profile(inst, name="Full borrowing")
    lending = f.workflow_profile(inst, side="lending", name="Full lending")
    client.force_login(f.staff(inst, roles.CONFIGURATION))
    response = client.post(reverse("admin:partners_partner_add"), {
        "code": "KAISA", "name": "Kaisaniemi", "active": "on", "profile_type": "iso18626",
        "agency_id_type": "ISIL", "agency_id_value": "FI-KAISA",
        "iso_endpoint_url": "https://kaisa.example.org/iso18626", "iso_version": "2021",
        "language": "fi", "borrowing_profile": profile.pk, "lending_profile": lending.pk,
        "average_supply_days": 3, "mail_delay_days": 2,
        "inbound_account_id": "kaisa", "new_security_code": "s3cret-code",
    })
    assert response.status_code == 302, response.context["adminform"].form.errors
    partner = Partner.objects.get(code="KAISA")
    assert partner.institution == inst
    assert partner.is_iso and partner.iso_version == "2021"
    assert "s3cret-code" not in partner.inbound_security_code_hash
    assert partner.check_inbound_security_code("kaisa", "s3cret-code")
    assert not partner.check_inbound_security_code("kaisa", "wrong")
    assert not partner.check_inbound_security_code("someone-else", "s3cret-code")


def test_an_iso_partner_without_endpoint_or_agency_id_is_refused_with_reasons(client, inst):
    client.force_login(f.staff(inst, roles.CONFIGURATION))
    response = client.post(reverse("admin:partners_partner_add"), {
        "code": "BAD", "name": "Bad", "active": "on", "profile_type": "iso18626",
        "agency_id_type": "ISIL", "iso_version": "1.2", "language": "fi",
        "average_supply_days": 3, "mail_delay_days": 2,
    })
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "iso_endpoint_url" in errors and "agency_id_value" in errors
    assert not Partner.objects.filter(code="BAD").exists()


def test_a_configuration_admin_sets_up_a_fulfillment_unit_with_rules_and_locations(
    client, inst
):
    lib = f.library(inst)
    stacks = f.location(lib, "STACKS")
    terms = f.terms(inst, "Short loan 7 days", loan_period_days=7)
    client.force_login(f.staff(inst, roles.CONFIGURATION))
    data = {"code": "SHORT", "name": "Short loan", "description": ""}
    data |= _inline("rules", [{"position": "1", "name": "Everyone",
                               "patron_group_codes": "", "item_policy_codes": "",
                               "terms_of_use": terms.pk}])
    data |= _inline("locations", [{"library": lib.pk, "code": "SHELF7", "name": "7-day shelf"}])
    response = client.post(reverse("admin:fulfillment_fulfillmentunit_add"), data)
    assert response.status_code == 302, response.content[:3000]
    unit = FulfillmentUnit.objects.get(code="SHORT")
    assert unit.institution == inst
    new_location = Location.objects.get(code="SHELF7")
    assert new_location.institution == inst and new_location.fulfillment_unit == unit
    assert unit.rules.get().institution == inst
    # The new unit governs items at once.
    stacks.fulfillment_unit = unit
    stacks.save()
    assert terms_of_use_for(item=f.item(stacks), patron_group_code="STUDENT") == terms


def test_resource_sharing_staff_cannot_change_partners_in_the_admin(client, inst):
    partner = f.partner(inst, name="Original")
    client.force_login(f.staff(inst, roles.RESOURCE_SHARING))
    url = reverse("admin:partners_partner_change", args=[partner.pk])
    assert client.get(reverse("admin:partners_partner_add")).status_code == 403
    response = client.post(url, {"code": partner.code, "name": "Changed"})
    assert response.status_code == 403
    partner.refresh_from_db()
    assert partner.name == "Original"
