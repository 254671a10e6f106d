"""Lending's digital shipping is capped like every upload, and its form says so."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ill.models import LendingRequest
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_a_copy_over_the_cap_is_not_shipped(client, settings, tmp_path, inst, setup, partner,
                                           rs_staff):
    settings.MEDIA_ROOT = tmp_path
    settings.KAUKO_MAX_UPLOAD_BYTES = 2048
    lent = f.lending_request(inst, setup=setup, partner_=partner, service_type="copy",
                             citation={"title": "Nature", "article_title": "A find"})
    client.force_login(rs_staff)
    page = client.get(reverse("ill:lending_detail", args=[lent.pk]))
    assert "At most 2.0\xa0KB." in page.text
    client.post(reverse("ill:lending_action", args=[lent.pk, "ship_digitally"]), {
        "ship_digitally-version": lent.version,
        "ship_digitally-file": SimpleUploadedFile("c.pdf", b"x" * 4096, "application/pdf")})
    fresh = LendingRequest.objects.get(pk=lent.pk)
    assert fresh.status == lent.status and not fresh.digital_file
