"""The ISO 18626 traffic log in the admin: own institution only, read only, found by id."""

import pytest
from django.urls import reverse

from ill.models import IsoMessage, OutboxMessage
from kauko import roles
from tests import factories as f

pytestmark = pytest.mark.django_db
QUERIES = 8  # the same for 1 row or 100: session, user, permissions, partners to filter by, count, the page


@pytest.fixture
def log():
    ota, kaisa = f.institution("OTA"), f.institution("KAISA")
    ota_partner = f.partner(ota, code="KAISA", name="Kaisa via ISO", profile_type="iso18626")
    f.partner(kaisa, code="OTA", name="Ota via ISO", profile_type="iso18626")
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
    assert "OTA-B-1-1" in client.get(url, {"kind": "request"}).text
    assert "OTA-B-1-1" not in client.get(url, {"kind": "supplyingAgencyMessage"}).text
    partner = log["mine"].partner
    assert f"?partner={partner.pk}" in client.get(url).text  # offered as a filter
    assert "OTA-B-1-1" in client.get(url, {"partner": partner.pk}).text
    assert "OTA-B-1-1" not in client.get(url, {"partner": partner.pk + 1000}).text


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


def test_the_log_shows_the_newest_message_first_in_a_fixed_number_of_queries(
        client, log, django_assert_max_num_queries):
    for i in range(30):  # each row links to its request and names its partner
        IsoMessage.objects.create(direction="in", institution=log["ota"], kind="request",
                                  requesting_agency_request_id=f"OTA-OLD-{i}",
                                  partner=log["mine"].partner, borrowing_request=log["br"])
    IsoMessage.objects.create(direction="in", institution=log["ota"], kind="request",
                              requesting_agency_request_id="OTA-LAST")
    client.force_login(log["admin"])
    with django_assert_max_num_queries(QUERIES):
        text = client.get(reverse("admin:ill_isomessage_changelist")).text
    assert text.index("OTA-LAST") < text.index("OTA-OLD-29") < text.index("OTA-OLD-0")


def test_the_deployments_operator_sees_every_institutions_traffic(client, log):
    from kauko.models import StaffUser

    client.force_login(StaffUser.objects.create_superuser(username="operator", password="x"))
    text = client.get(reverse("admin:ill_isomessage_changelist")).text
    assert "OTA-B-1-1" in text and "KAISA-SECRET-9" in text
    assert "Ota via ISO" in text and "Kaisa via ISO" in text  # partners of both to filter by
