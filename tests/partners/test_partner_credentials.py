"""Partners' inbound credentials (issue 13, points 5 and 11): given by default to ISO 18626
partners, flagged where missing, kept as keyed hashes and compared in constant time."""

import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from kauko import roles
from partners import models as partner_models
from partners.models import KEYED_PREFIX, Partner
from tests import factories as f

pytestmark = pytest.mark.django_db

ADD = {"code": "HELKA", "name": "Helka", "active": "on", "profile_type": "iso18626",
       "agency_id_type": "ISIL", "agency_id_value": "FI-HELKA",
       "iso_endpoint_url": "https://helka.example.org/iso18626", "iso_version": "1.2",
       "language": "fi", "average_supply_days": 3, "mail_delay_days": 2}


def _messages(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def admin(client, config_admin):
    client.force_login(config_admin)
    return client


def test_a_new_iso_partner_gets_credentials_shown_once(admin):
    response = admin.post(reverse("admin:partners_partner_add"), ADD)
    assert response.status_code == 302, response.context["adminform"].form.errors
    partner = Partner.objects.get(code="HELKA")
    assert partner.requires_authentication and partner.inbound_account_id == "FI-HELKA"
    [shown] = [m for m in _messages(response) if "give them to the partner now" in m]
    code = re.search(r"securityCode (\S+),", shown).group(1)
    token = re.search(r"Bearer\) (\S+)\.$", shown).group(1)
    assert partner.check_inbound_security_code("FI-HELKA", code)
    assert partner.check_inbound_token(token)
    assert token not in partner.inbound_token_hash


def test_a_new_iso_partner_with_its_own_code_keeps_it(admin):
    response = admin.post(reverse("admin:partners_partner_add"),
                          {**ADD, "inbound_account_id": "helka", "new_security_code": "agreed"})
    assert response.status_code == 302
    partner = Partner.objects.get(code="HELKA")
    assert partner.check_inbound_security_code("helka", "agreed")
    assert not partner.inbound_token_hash
    assert not any("give them to the partner now" in m for m in _messages(response))


def test_an_email_partner_gets_no_credentials(admin):
    response = admin.post(reverse("admin:partners_partner_add"), {
        **ADD, "profile_type": "email", "email": "ill@helka.example.org"})
    assert response.status_code == 302
    assert not Partner.objects.get(code="HELKA").requires_authentication


def test_a_partner_without_credentials_is_flagged_in_the_list_and_on_its_page(
        admin, iso_partner, partner, inst):
    guarded = f.partner(inst, code="TRE", profile_type="iso18626", agency_id_value="FI-TRE",
                        iso_endpoint_url="http://tre.test/iso")
    guarded.new_inbound_credentials()
    guarded.save()
    url = reverse("admin:partners_partner_changelist")
    response = admin.get(url)
    [warning] = [m for m in _messages(response) if "without credentials" in m]
    assert iso_partner.name in warning and guarded.name not in warning
    assert partner.name not in warning  # an e-mail partner has no ISO credentials
    response = admin.get(url, {"credentials": "missing"})
    assert list(response.context["cl"].result_list) == [iso_partner]
    response = admin.get(url, {"credentials": "set"})
    assert list(response.context["cl"].result_list) == [guarded]
    response = admin.get(reverse("admin:partners_partner_change", args=[iso_partner.pk]))
    assert any("has no inbound credentials" in m for m in _messages(response))
    response = admin.get(reverse("admin:partners_partner_change", args=[guarded.pk]))
    assert not any("has no inbound credentials" in m for m in _messages(response))


def test_credentials_can_be_generated_for_an_existing_partner(admin, iso_partner):
    data = {**ADD, "code": "KAISA", "name": iso_partner.name, "agency_id_value": "FI-KAISA",
            "generate_credentials": "on"}
    response = admin.post(reverse("admin:partners_partner_change", args=[iso_partner.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    iso_partner.refresh_from_db()
    assert not iso_partner.lacks_inbound_credentials


def test_another_institutions_unguarded_partners_are_not_named(client, other_inst, iso_partner):
    client.force_login(f.staff(other_inst, roles.CONFIGURATION))
    response = client.get(reverse("admin:partners_partner_changelist"))
    assert not any(iso_partner.name in m for m in _messages(response))


# --- 11. cheap, constant-time checks ------------------------------------------------------------


@pytest.fixture
def guarded(iso_partner):
    iso_partner.inbound_account_id = "kaisa"
    iso_partner.set_inbound_security_code("the-code")
    iso_partner.set_inbound_token("the-token")
    iso_partner.save()
    return iso_partner


def test_credentials_are_kept_as_keyed_hashes_and_checked_without_a_password_hash(
        guarded, monkeypatch):
    assert guarded.inbound_token_hash.startswith(KEYED_PREFIX)
    assert "the-token" not in guarded.inbound_token_hash

    def no_password_hashing(*args, **kwargs):
        raise AssertionError("a password hash costs about 0.5 s per wrong token")

    monkeypatch.setattr("partners.models.check_password", no_password_hashing)
    assert guarded.check_inbound_token("the-token")
    assert not guarded.check_inbound_token("a-guess")
    assert guarded.check_inbound_security_code("kaisa", "the-code")
    assert not guarded.check_inbound_security_code("kaisa", "a-guess")


def test_a_right_account_id_costs_the_same_work_as_a_wrong_one(guarded, monkeypatch):
    real = partner_models._keyed_hash
    calls = []

    def counting(*args, **kwargs):
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr("partners.models._keyed_hash", counting)
    work = {}
    for account in ("kaisa", "someone-else", ""):
        calls.clear()
        assert not guarded.check_inbound_security_code(account, "a-guess")
        work[account] = len(calls)
    assert work["kaisa"] == work["someone-else"] == work[""] > 0


def test_the_key_can_be_rotated_with_secret_key_fallbacks(guarded, settings):
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-for-this-test-only-" + "x" * 20
    assert guarded.check_inbound_token("the-token")
    assert not guarded.check_inbound_token("a-guess")
