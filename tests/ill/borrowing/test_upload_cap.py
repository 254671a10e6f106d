"""Uploads are capped (KAUKO_MAX_UPLOAD_BYTES) and the form says so: a file over the cap is
refused with the reason and nothing is stored; a request body far over it is answered 413
before it is read."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from ill.borrowing.services import borrowing_request_send
from ill.models import BorrowingRequest
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def article(settings, tmp_path, inst, rs_staff, partner):
    settings.MEDIA_ROOT = tmp_path
    settings.KAUKO_MAX_UPLOAD_BYTES = 2048
    request = f.borrowing_request(inst, request_type="article", partners=[partner],
                                  citation={"title": "Nature", "article_title": "A find"})
    return borrowing_request_send(request=request, user=rs_staff)


def _send_copy(client, r, content: bytes):
    return client.post(reverse("ill:borrowing_action", args=[r.pk, "shipped_digitally"]), {
        "shipped_digitally-version": r.version,
        "shipped_digitally-file": SimpleUploadedFile("copy.pdf", content, "application/pdf")})


def test_the_form_says_how_large_a_file_may_be(client, article, rs_staff):
    client.force_login(rs_staff)
    page = client.get(reverse("ill:borrowing_detail", args=[article.pk]))
    assert "At most 2.0\xa0KB." in page.text


def test_a_file_over_the_cap_is_refused_and_nothing_is_stored(client, article, rs_staff,
                                                             tmp_path):
    client.force_login(rs_staff)
    response = _send_copy(client, article, b"%PDF" + b"x" * 4096)
    assert response.status_code == 302
    page = client.get(response["Location"])
    assert "too large" in page.text
    fresh = BorrowingRequest.objects.get(pk=article.pk)
    assert fresh.status == article.status and not fresh.digital_file
    assert not any(p.is_file() for p in tmp_path.rglob("*"))


def test_a_file_under_the_cap_is_accepted(client, article, rs_staff):
    client.force_login(rs_staff)
    _send_copy(client, article, b"%PDF-1.4 small")
    assert BorrowingRequest.objects.get(pk=article.pk).digital_file


def test_a_body_far_over_the_cap_is_refused_before_it_is_read(client, article, rs_staff):
    client.force_login(rs_staff)
    response = _send_copy(client, article, b"x" * (2 * 1024 * 1024))
    assert response.status_code == 413
    assert BorrowingRequest.objects.get(pk=article.pk).status == article.status
