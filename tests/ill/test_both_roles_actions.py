"""Both roles can do what the standard offers (issue 11, point 10): the requester asks for
a status, the supplier offers a retry, and a copy the lender uploads reaches the borrower
under an expiring link."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from ill import iso18626 as iso
from ill.borrowing import services as bs
from ill.lending import services as ls
from ill.models import BorrowingRequest, LendingRequest
from kauko.errors import DomainError
from tests import factories as f

pytestmark = pytest.mark.django_db
BS, LS = BorrowingRequest.Status, LendingRequest.Status


def fresh(r):
    return type(r).objects.get(pk=r.pk)


def sent(w, capture, **kw):
    with capture(execute=True):
        br = f.borrowing_request(w.ota, setup=w.ota_setup, patron_=w.patron,
                                 partners=[w.kaisa_at_ota], **kw)
        br = bs.borrowing_request_send(request=br, user=w.ota_staff)
    return br, LendingRequest.objects.get(institution=w.kaisa,
                                          partner_request_id__startswith=br.number)


def test_the_requester_asks_for_the_status_and_the_answer_lands_in_the_history(
        client, world, wire, django_capture_on_commit_callbacks):
    br, _lr = sent(world, django_capture_on_commit_callbacks)
    client.force_login(world.ota_staff)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("ill:borrowing_action", args=[br.pk, "status_request"]),
                               {"status_request-version": fresh(br).version})
    assert response.status_code == 302
    actions = [m.action for m in wire.messages() if isinstance(m, iso.RequestingAgencyMessage)]
    assert actions == ["StatusRequest"]
    # KAISA answered in-process (StatusRequestResponse): a note in OTA's history.
    assert fresh(br).history.filter(action="status_request").exists()
    assert fresh(br).history.filter(action="partner_message").exists()


def test_status_request_is_refused_for_an_e_mail_partner_and_a_closed_request(
        world, django_capture_on_commit_callbacks):
    partner = f.partner(world.ota, code="MAIL")
    br = f.borrowing_request(world.ota, setup=world.ota_setup, patron_=world.patron,
                             partners=[partner])
    br = bs.borrowing_request_send(request=br, user=world.ota_staff)
    with pytest.raises(DomainError):
        bs.borrowing_request_status_request(request=br, user=world.ota_staff)


@pytest.mark.parametrize("version", ["1.2", "2021"])
def test_the_supplier_offers_a_retry_with_a_cost_in_its_currency(
        client, world, wire, django_capture_on_commit_callbacks, version):
    world.kaisa_at_ota.iso_version = world.ota_at_kaisa.iso_version = version
    world.kaisa_at_ota.save()
    world.ota_at_kaisa.save()
    br, lr = sent(world, django_capture_on_commit_callbacks)
    client.force_login(world.kaisa_staff)
    page = client.get(reverse("ill:lending_detail", args=[lr.pk]))
    assert "retry_possible" in {a.name for a, _form in page.context["actions"]}
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("ill:lending_action", args=[lr.pk, "retry_possible"]), {
            "retry_possible-version": fresh(lr).version,
            "retry_possible-reason_retry": "CostExceedsMaxCost",
            "retry_possible-cost": "12.50", "retry_possible-currency": "sek",
            "retry_possible-retry_after": "", "retry_possible-note": "Colour scan"})
    assert fresh(lr).status == LS.REJECTED
    sam = wire.messages()[-1]
    assert sam.status_info.status == iso.Status.RETRY_POSSIBLE
    assert str(sam.message_info.reason_retry) == "CostExceedsMaxCost"
    assert [(str(c.currency_code), str(c.monetary_value)) for c in
            sam.retry_info.offered_costs] == [("SEK", "12.50")]
    br = fresh(br)
    assert br.needs_attention and "12.50 SEK" in br.attention_reason
    with django_capture_on_commit_callbacks(execute=True):
        bs.borrowing_request_retry(request=br, user=world.ota_staff, max_cost=12.5,
                                   currency="SEK")
    retry = LendingRequest.objects.filter(institution=world.kaisa).latest("pk")
    assert retry.pk != lr.pk and "Retry of request" in retry.partner_note


def test_offering_a_retry_needs_a_reason_an_iso_partner_and_a_cost_for_a_cost_reason(
        world, wire, django_capture_on_commit_callbacks):
    _br, lr = sent(world, django_capture_on_commit_callbacks)
    with pytest.raises(DomainError):
        ls.lending_request_offer_retry(request=lr, reason_retry="Whatever",
                                       user=world.kaisa_staff)
    with pytest.raises(DomainError):
        ls.lending_request_offer_retry(request=lr, reason_retry="CostExceedsMaxCost",
                                       user=world.kaisa_staff)
    mail = f.lending_request(world.kaisa, setup=world.kaisa_setup,
                             partner_=f.partner(world.kaisa, code="MAIL"))
    with pytest.raises(DomainError):
        ls.lending_request_offer_retry(request=mail, reason_retry="OnLoan",
                                       user=world.kaisa_staff)


def test_an_uploaded_copy_reaches_the_borrower_under_an_expiring_link(
        client, world, wire, django_capture_on_commit_callbacks, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    br, lr = sent(world, django_capture_on_commit_callbacks, request_type="article",
                  citation={"title": "Journal", "article_title": "An article"})
    with django_capture_on_commit_callbacks(execute=True):
        ls.lending_request_ship_digitally(
            request=fresh(lr), user=world.kaisa_staff,
            uploaded_file=SimpleUploadedFile("scan.pdf", b"%PDF-1.4 the copy"))
    lr = fresh(lr)
    sam = wire.messages()[-1]
    assert sam.status_info.status == iso.Status.COPY_COMPLETED
    link = reverse("ill:lending_copy_download", args=[lr.download_token])
    # 2021 carries it in deliveryInfo/url, v1.2 (no such element) in the note.
    assert (sam.delivery_info.url or "").endswith(link) or link in (sam.message_info.note or "")
    assert lr.download_expires_at > timezone.now() + datetime.timedelta(days=29)

    br = fresh(br)
    assert br.status == BS.COMPLETED and br.digital_url.endswith(link)  # delivered to patron
    response = client.get(link)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.4 the copy"
    assert lr.history.filter(action="copy_fetched").count() == 1

    type(lr).objects.filter(pk=lr.pk).update(
        download_expires_at=timezone.now() - datetime.timedelta(minutes=1))
    assert client.get(link).status_code == 404
    assert client.get(reverse("ill:lending_copy_download", args=["nope"])).status_code == 404
