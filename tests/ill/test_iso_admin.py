"""The ISO 18626 traffic log in the admin: own institution only, read only, found by id."""

import pytest
from django.urls import reverse

from ill.iso_models import IsoMessage, OutboxMessage
from kauko import roles
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def log():
    ota, kaisa = f.institution("OTA"), f.institution("KAISA")
    ota_partner = f.partner(ota, code="KAISA", name="Kaisa via ISO")
    f.partner(kaisa, code="OTA", name="Ota via ISO")
    br = f.borrowing_request(ota, partners=[ota_partner])
    mine = IsoMessage.objects.create(
        direction="out", institution=ota, partner=ota_partner, borrowing_request=br,
        kind="request", requesting_agency_request_id="OTA-B-1-1", summary="New request",
        raw="<ISO18626Message/>", confirmation_status="OK")
    theirs = IsoMessage.objects.create(
        direction="in", institution=kaisa, kind="request",
        requesting_agency_request_id="KAISA-SECRET-9", summary="Their request")
    OutboxMessage.objects.create(message=mine, institution=ota, partner=ota_partner,
                                 borrowing_request=br, chain=f"b:{br.pk}", sequence=1,
                                 url="http://127.0.0.1:9/iso18626", xml=mine.raw)
    return {"ota": ota, "mine": mine, "theirs": theirs, "br": br,
            "admin": f.staff(ota, roles.CONFIGURATION)}


def test_it_lists_the_own_institutions_messages_with_a_link_to_the_request(client, log):
    client.force_login(log["admin"])
    text = client.get(reverse("admin:ill_isomessage_changelist")).text
    assert "OTA-B-1-1" in text
    assert reverse("ill:borrowing_detail", args=[log["br"].pk]) in text
    assert "KAISA-SECRET-9" not in text and "Ota via ISO" not in text


def test_it_finds_a_message_by_the_partners_exact_request_id(client, log):
    client.force_login(log["admin"])
    url = reverse("admin:ill_isomessage_changelist")
    assert "OTA-B-1-1" in client.get(url, {"q": "OTA-B-1-1"}).text
    assert "OTA-B-1-1" not in client.get(url, {"q": "OTA-B"}).text  # whole ids only


def test_it_shows_a_message_read_only_and_never_another_institutions(client, log):
    client.force_login(log["admin"])
    own = client.get(reverse("admin:ill_isomessage_change", args=[log["mine"].pk]))
    assert own.status_code == 200 and "&lt;ISO18626Message/&gt;" in own.text
    assert 'name="_save"' not in own.text
    other = client.get(reverse("admin:ill_isomessage_change", args=[log["theirs"].pk]))
    assert other.status_code == 302  # the admin's "not found" for another institution's
    assert client.get(reverse("admin:ill_isomessage_add")).status_code == 403
    delete = reverse("admin:ill_isomessage_delete", args=[log["mine"].pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert IsoMessage.objects.filter(pk=log["mine"].pk).exists()


def test_the_outgoing_queue_is_listed_for_staff_of_any_role(client, log):
    client.force_login(f.staff(log["ota"], roles.CIRCULATION))
    response = client.get(reverse("admin:ill_outboxmessage_changelist"))
    assert response.status_code == 200
    assert f"b:{log['br'].pk}" in response.text
