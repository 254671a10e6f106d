"""A partner's ISO 18626 endpoint may not point at this server or the internal network (we
post to it and show staff its answers) unless the deployment allows it
(KAUKO_ALLOW_PRIVATE_PARTNER_ENDPOINTS: the demo and the tests, whose partners live on
127.0.0.1). Checked wherever a partner is validated: the admin and the API."""

import socket

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from partners.models import Partner

pytestmark = pytest.mark.django_db

INTERNAL = ["http://127.0.0.1:8000/iso18626", "http://localhost/iso18626",
            "http://LOCALHOST./iso18626", "http://10.1.2.3/iso18626",
            "http://192.168.0.1/iso18626", "http://172.16.0.1/iso18626",
            "http://[::1]/iso18626", "http://169.254.169.254/latest/meta-data/",
            "http://0.0.0.0/iso18626", "http://[fc00::1]/iso18626",
            "http://[::ffff:127.0.0.1]/iso18626", "http://intranet.example.org/iso18626"]


@pytest.fixture(autouse=True)
def _dns(monkeypatch):
    """intranet.example.org resolves inside, partner.example.org outside, the rest nowhere."""
    real = socket.getaddrinfo
    answers = {"intranet.example.org": "10.0.0.5", "partner.example.org": "93.184.216.34",
               "localhost": "127.0.0.1", "localhost.": "127.0.0.1"}

    def fake(host, *args, **kwargs):
        if host.lower() in answers:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (answers[host.lower()], 0))]
        if host.replace(".", "").isdigit() or ":" in host:
            return real(host, *args, **kwargs)
        raise socket.gaierror("no such name")

    monkeypatch.setattr(socket, "getaddrinfo", fake)


@pytest.fixture
def refusing(settings):
    settings.KAUKO_ALLOW_PRIVATE_PARTNER_ENDPOINTS = False


def _partner(inst, url):
    return Partner(institution=inst, code="P", name="P", profile_type="iso18626",
                   agency_id_type="ISIL", agency_id_value="FI-P", iso_version="2021",
                   iso_endpoint_url=url)


@pytest.mark.parametrize("url", INTERNAL)
def test_an_internal_endpoint_is_refused(inst, refusing, url):
    with pytest.raises(ValidationError) as refused:
        _partner(inst, url).full_clean()
    assert "iso_endpoint_url" in refused.value.message_dict


@pytest.mark.parametrize("url", ["https://93.184.216.34/iso18626",
                                 "https://partner.example.org/iso18626",
                                 "https://not-resolvable.example.org/iso18626"])
def test_a_public_endpoint_is_accepted(inst, refusing, url):
    _partner(inst, url).full_clean()


def test_a_deployment_that_allows_it_may_point_partners_at_itself(inst, settings):
    settings.KAUKO_ALLOW_PRIVATE_PARTNER_ENDPOINTS = True
    _partner(inst, "http://127.0.0.1:8000/iso18626").full_clean()


def test_the_api_refuses_an_internal_endpoint(client, config_admin, refusing):
    client.force_login(config_admin)
    response = client.post("/api/partners/", {
        "code": "P", "name": "P", "profile_type": "iso18626", "agency_id_type": "ISIL",
        "agency_id_value": "FI-P", "iso_version": "2021",
        "iso_endpoint_url": "http://169.254.169.254/latest/meta-data/"},
        content_type="application/json")
    assert response.status_code == 400 and "iso_endpoint_url" in response.json()


def test_the_admin_refuses_an_internal_endpoint(client, config_admin, refusing):
    client.force_login(config_admin)
    response = client.post(reverse("admin:partners_partner_add"), {
        "code": "P", "name": "P", "active": "on", "profile_type": "iso18626",
        "agency_id_type": "ISIL", "agency_id_value": "FI-P",
        "iso_endpoint_url": "http://10.1.2.3/iso18626", "iso_version": "2021",
        "language": "fi", "average_supply_days": 3, "mail_delay_days": 2})
    assert response.status_code == 200
    assert "iso_endpoint_url" in response.context["adminform"].form.errors
    assert not Partner.objects.filter(code="P").exists()
