import pytest
from django.conf import settings
from django.core.management import call_command
from lxml import etree

from fulfillment.models import BibRecord
from partners.models import LocateProfile

pytestmark = pytest.mark.django_db


def test_the_demo_institutions_locate_each_other_at_their_own_sru(client):
    call_command("seed_demo")
    ota_sees_kaisa = LocateProfile.objects.get(partner__institution__code="OTA",
                                               partner__code="KAISA")
    kaisa_sees_ota = LocateProfile.objects.get(partner__institution__code="KAISA",
                                               partner__code="OTA")
    assert ota_sees_kaisa.kind == kaisa_sees_ota.kind == LocateProfile.Kind.KAUKO
    assert ota_sees_kaisa.base_url == f"{settings.KAUKO_BASE_URL}/sru/KAISA"
    assert kaisa_sees_ota.base_url == f"{settings.KAUKO_BASE_URL}/sru/OTA"
    bib = BibRecord.objects.filter(institution__code="KAISA", hidden=False,
                                   holdings__isnull=False).first()
    response = client.get("/sru/KAISA", {"query": f'dc.title="{bib.title}"'})
    root = etree.fromstring(response.content)
    assert int(root.findtext("{http://www.loc.gov/zing/srw/}numberOfRecords")) >= 1
