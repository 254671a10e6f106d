"""Locate profiles in the admin: editable by configuration staff, scoped through the partner."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from partners.models import LocateProfile
from tests import factories as f

pytestmark = pytest.mark.django_db


def _form(partner, **kw):
    return {"partner": partner.pk, "kind": "kauko", "base_url": "https://kaisa.example.org/sru/KAISA",
            "sru_version": "2.0", "timeout_seconds": 5, "record_schema": "marcxml",
            "isbn_index": "bath.isbn", "issn_index": "bath.issn", "oclc_index": "rec.id",
            "title_index": "dc.title", "author_index": "dc.creator", **kw}


def test_configuration_staff_give_their_partner_a_locate_profile(client, config_admin, iso_partner):
    client.force_login(config_admin)
    response = client.post(reverse("admin:partners_locateprofile_add"), _form(iso_partner))
    assert response.status_code == 302
    profile = iso_partner.locate_profile
    assert (profile.kind, profile.sru_version, profile.timeout_seconds) == ("kauko", "2.0", 5)
    assert profile.configured


def test_another_institutions_partner_can_be_neither_picked_nor_seen(
        client, config_admin, other_inst):
    theirs = f.partner(other_inst, code="THEIRS")
    LocateProfile.objects.create(partner=f.partner(other_inst, code="SEEN"), kind="sru",
                                 base_url="https://x.example.org/sru")
    client.force_login(config_admin)
    response = client.post(reverse("admin:partners_locateprofile_add"), _form(theirs))
    assert response.status_code == 200 and not LocateProfile.objects.filter(partner=theirs)
    listing = client.get(reverse("admin:partners_locateprofile_changelist")).content.decode()
    assert "SEEN" not in listing


def test_rs_staff_cannot_edit_locate_profiles(client, rs_staff, iso_partner):
    client.force_login(rs_staff)
    response = client.post(reverse("admin:partners_locateprofile_add"), _form(iso_partner))
    assert response.status_code == 403
    assert not LocateProfile.objects.exists()


def test_locating_by_sru_needs_an_address(iso_partner):
    with pytest.raises(ValidationError):
        LocateProfile(partner=iso_partner, kind="sru").full_clean()
    LocateProfile(partner=iso_partner, kind="none").full_clean()
