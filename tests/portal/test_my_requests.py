import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from circulation import services as desk
from fulfillment.models import Item
from ill.borrowing.services import (
    borrowing_request_receive,
    borrowing_request_send,
    borrowing_request_shipped,
)
from ill.models import BorrowingRequest, Source
from tests import factories as f

S = BorrowingRequest.Status
pytestmark = pytest.mark.django_db


@pytest.fixture
def asked(inst, setup, patron, partner, rs_staff):
    return f.borrowing_request(inst, setup=setup, patron_=patron, partners=[partner],
                               user=rs_staff, citation={"title": "Solaris"})


def _on_loan(request, setup, patron, rs_staff, desk_staff, *, partner_due_days):
    request = borrowing_request_send(request=request, user=rs_staff)
    due = timezone.localdate() + datetime.timedelta(days=partner_due_days)
    request = borrowing_request_shipped(request=request, due_date=due, user=rs_staff)
    request = borrowing_request_receive(request=request, barcode="R-1", user=rs_staff)
    desk.desk_scan_in(desk=setup.desk, barcode="R-1", user=desk_staff)
    desk.loan_item(desk=setup.desk, patron=patron,
                   item=Item.objects.get(pk=request.temporary_item_id), user=desk_staff)
    return BorrowingRequest.objects.get(pk=request.pk)


def test_the_patron_sees_each_request_with_its_status_in_plain_words(signed_in, asked):
    page = signed_in.get("/my/").content.decode()
    assert "Solaris" in page and asked.number in page
    assert "Asked: the library is finding a library that can supply it" in page
    assert "Asked:" in page  # the timeline's first step


def test_the_patron_sees_only_their_own_requests(signed_in, inst, setup, rs_staff):
    someone = f.patron(inst, barcode="OTHER", pickup_desk=setup.desk)
    f.borrowing_request(inst, setup=setup, patron_=someone, citation={"title": "Not yours"})
    assert "Not yours" not in signed_in.get("/my/").content.decode()


def test_the_page_costs_the_same_queries_for_one_request_or_many(signed_in, inst, setup,
                                                                  patron, partner):
    f.borrowing_request(inst, setup=setup, patron_=patron, citation={"title": "One"})
    with CaptureQueriesContext(connection) as one:
        signed_in.get("/my/")
    for n in range(5):
        f.borrowing_request(inst, setup=setup, patron_=patron, citation={"title": f"T{n}"})
    with CaptureQueriesContext(connection) as six:
        signed_in.get("/my/")
    assert len(six) == len(one)


def test_the_patron_cancels_a_request_not_yet_shipped(signed_in, asked):
    response = signed_in.post(f"/my/requests/{asked.pk}/cancel/")
    assert response.status_code == 302
    asked.refresh_from_db()
    assert asked.status == S.CANCELLED_PATRON
    assert asked.history.last().source == Source.PATRON
    assert "Cancelled" in signed_in.get("/my/").content.decode()


def test_a_shipped_request_cannot_be_cancelled_by_the_patron(signed_in, asked, rs_staff):
    request = borrowing_request_send(request=asked, user=rs_staff)
    borrowing_request_shipped(request=request, due_date=timezone.localdate(), user=rs_staff)
    page = signed_in.get("/my/").content.decode()
    assert "Cancel this request" not in page and "On its way to us" in page
    signed_in.post(f"/my/requests/{asked.pk}/cancel/")
    assert BorrowingRequest.objects.get(pk=asked.pk).status == S.SHIPPED_PHYSICAL


def test_cancelling_is_a_post_and_only_of_ones_own_request(signed_in, inst, setup, asked,
                                                           anonymous):
    assert signed_in.get(f"/my/requests/{asked.pk}/cancel/").status_code == 405
    someone = f.patron(inst, barcode="OTHER", pickup_desk=setup.desk)
    theirs = f.borrowing_request(inst, setup=setup, patron_=someone)
    assert signed_in.post(f"/my/requests/{theirs.pk}/cancel/").status_code == 404
    assert anonymous.post(f"/my/requests/{asked.pk}/cancel/").status_code == 302
    assert BorrowingRequest.objects.get(pk=asked.pk).status == S.CREATED


def test_an_ill_loan_shows_its_due_date_and_when_renewal_opens(signed_in, asked, setup,
                                                               patron, rs_staff, desk_staff):
    request = _on_loan(asked, setup, patron, rs_staff, desk_staff, partner_due_days=30)
    page = signed_in.get("/my/").content.decode()
    assert "On loan to you until" in page
    assert "Renewal opens on" in page
    assert 'data-testid="renew"' not in page
    signed_in.post(f"/my/requests/{request.pk}/renew/")
    assert BorrowingRequest.objects.get(pk=request.pk).status == S.LOANED


def test_inside_the_window_the_patron_renews_and_the_partner_is_asked(
        signed_in, asked, setup, patron, partner, rs_staff, desk_staff, mailoutbox,
        django_capture_on_commit_callbacks):
    request = _on_loan(asked, setup, patron, rs_staff, desk_staff, partner_due_days=5)
    assert 'data-testid="renew"' in signed_in.get("/my/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(f"/my/requests/{request.pk}/renew/")
    assert response.status_code == 302
    request.refresh_from_db()
    assert request.status == S.RENEW_REQUESTED
    assert request.history.last().source == Source.PATRON
    assert [m for m in mailoutbox if m.to == [partner.email]]  # the letter to the partner
    assert "waiting for the lending library" in signed_in.get("/my/").content.decode()


def test_a_delivered_article_can_be_downloaded_until_its_link_expires(signed_in, asked):
    BorrowingRequest.objects.filter(pk=asked.pk).update(
        status=S.COMPLETED, request_type="article", download_token="tok123",
        download_expires_at=timezone.now() + datetime.timedelta(days=3),
        delivered_at=timezone.now())
    assert "/a/tok123/" in signed_in.get("/my/").content.decode()
    BorrowingRequest.objects.filter(pk=asked.pk).update(
        download_expires_at=timezone.now() - datetime.timedelta(days=1))
    assert "/a/tok123/" not in signed_in.get("/my/").content.decode()
