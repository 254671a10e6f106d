import pytest
from django.apps import apps
from django.core.management import call_command
from django.http import HttpRequest

from fulfillment.models import Item, Library
from kauko.models import Institution, StaffUser
from partners.models import Partner
from patrons.models import Patron

pytestmark = pytest.mark.django_db


def _counts():
    return {model._meta.label: model.objects.count()
            for app in ("fulfillment", "partners", "patrons")
            for model in apps.get_app_config(app).get_models()}


def test_seed_demo_builds_two_institutions_that_are_iso_partners_of_each_other(capsys):
    call_command("seed_demo")
    ota, kaisa = Institution.objects.get(code="OTA"), Institution.objects.get(code="KAISA")
    ota_sees_kaisa = Partner.objects.get(institution=ota, agency_id_value="FI-KAISA")
    kaisa_sees_ota = Partner.objects.get(institution=kaisa, agency_id_value="FI-OTA")
    assert ota_sees_kaisa.is_iso and kaisa_sees_ota.is_iso
    assert ota_sees_kaisa.iso_endpoint_url.endswith("/iso18626")
    assert Partner.objects.filter(institution=ota, profile_type="email").exists()
    assert Library.objects.get(institution=ota, is_rs_library=True).incoming_location
    assert Item.objects.filter(institution=ota).count() >= 200
    multi = [i for i in Item.objects.filter(institution=ota).prefetch_related("barcodes")
             if len(i.barcodes.all()) > 1]
    assert multi, "some demo items carry several barcodes"
    assert Patron.objects.filter(institution=ota, blocks__isnull=False).exists()
    output = capsys.readouterr().out
    assert "ota-rs" in output and "kaisa-desk" in output and "kauko-demo" in output


def test_seed_demo_is_idempotent():
    call_command("seed_demo")
    first = _counts()
    call_command("seed_demo")
    assert _counts() == first


def test_the_printed_logins_work(client):
    call_command("seed_demo")
    # django-axes counts logins per address: give it a request, as a browser would.
    assert client.login(request=HttpRequest(), username="ota-rs", password="kauko-demo")
    response = client.get("/")
    assert response.status_code == 200
    assert "Otaniemi University Library" in response.text
    assert StaffUser.objects.get(username="kaisa-admin").groups.filter(
        name="Configuration admin").exists()


def test_the_demo_institutions_talk_to_each_other_with_credentials():
    call_command("seed_demo")
    ota, kaisa = Institution.objects.get(code="OTA"), Institution.objects.get(code="KAISA")
    ota_sees_kaisa = Partner.objects.get(institution=ota, code="KAISA")
    kaisa_sees_ota = Partner.objects.get(institution=kaisa, code="OTA")
    assert not ota_sees_kaisa.lacks_inbound_credentials
    assert not kaisa_sees_ota.lacks_inbound_credentials
    # What OTA presents is what KAISA expects of OTA, and the other way round.
    assert kaisa_sees_ota.check_inbound_token(ota_sees_kaisa.outbound_token)
    assert kaisa_sees_ota.check_inbound_security_code(
        ota_sees_kaisa.outbound_account_id, ota_sees_kaisa.outbound_security_code)
    assert ota_sees_kaisa.check_inbound_token(kaisa_sees_ota.outbound_token)
    assert not ota_sees_kaisa.check_inbound_token(ota_sees_kaisa.outbound_token)
