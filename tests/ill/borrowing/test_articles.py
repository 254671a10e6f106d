"""A copy shipped digitally goes straight to the patron, who is told automatically; staff
see that it was delivered and opened."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from ill.borrowing.services import borrowing_request_send, borrowing_request_shipped_digitally
from ill.models import BorrowingRequest
from kauko import roles
from tests import factories as f

S = BorrowingRequest.Status
pytestmark = pytest.mark.django_db


@pytest.fixture
def sent_article(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    inst = f.institution("OTA")
    staff = f.staff(inst, roles.RESOURCE_SHARING)
    request = f.borrowing_request(
        inst, request_type="article", partners=[f.partner(inst)],
        citation={"title": "Nature", "article_title": "A discovery", "year": "2020"})
    return borrowing_request_send(request=request, user=staff), staff


def test_an_uploaded_copy_is_delivered_to_the_patron_and_the_request_completes(
    client, sent_article, mailoutbox, django_capture_on_commit_callbacks
):
    request, staff = sent_article
    upload = SimpleUploadedFile("discovery.pdf", b"%PDF-1.4 article", "application/pdf")
    with django_capture_on_commit_callbacks(execute=True):
        request = borrowing_request_shipped_digitally(request=request, uploaded_file=upload,
                                                      user=staff)
    assert request.status == S.COMPLETED and request.delivered_at is not None
    patron_mail = [m for m in mailoutbox if m.to == [request.patron.email]]
    assert len(patron_mail) == 1
    link = reverse("ill:article_download", args=[request.download_token])
    assert link in patron_mail[0].body

    response = client.get(link)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 article"
    request.refresh_from_db()
    assert request.open_count == 1 and request.first_opened_at is not None
    assert request.history.filter(action="article_opened").count() == 1


def test_the_partners_link_is_passed_on_to_the_patron(client, sent_article):
    request, staff = sent_article
    request = borrowing_request_shipped_digitally(
        request=request, url="https://partner.example.org/copies/123", user=staff)
    response = client.get(reverse("ill:article_download", args=[request.download_token]))
    assert response.status_code == 302
    assert response["Location"] == "https://partner.example.org/copies/123"


def test_an_expired_link_no_longer_works(client, sent_article):
    request, staff = sent_article
    request = borrowing_request_shipped_digitally(request=request, url="https://x.example.org/",
                                                  user=staff)
    BorrowingRequest.objects.filter(pk=request.pk).update(
        download_expires_at=timezone.now() - datetime.timedelta(minutes=1))
    response = client.get(reverse("ill:article_download", args=[request.download_token]))
    assert response.status_code == 404
    request.refresh_from_db()
    assert request.open_count == 0


def test_an_unknown_token_finds_nothing(client, sent_article):
    assert client.get(reverse("ill:article_download", args=["nonsense"])).status_code == 404
