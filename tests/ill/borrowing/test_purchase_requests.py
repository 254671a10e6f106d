"""Issue 12: purchase requests ILL turns over are listed for acquisitions staff (and in the
admin), with a CSV export."""

import csv
import io

import pytest
from django.urls import reverse

from ill.borrowing.services import borrowing_request_to_purchase
from ill.models import PurchaseRequest
from kauko import roles
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def acquisitions(inst):
    return f.staff(inst, roles.ACQUISITIONS)


@pytest.fixture
def purchase(inst, setup, rs_staff):
    r = f.borrowing_request(inst, setup=setup, citation={
        "title": "Kalevala", "author": "Lönnrot, Elias", "isbn": "9789510000000"})
    borrowing_request_to_purchase(request=r, user=rs_staff, note="Course book, buy 2")
    return PurchaseRequest.objects.get(borrowing_request=r)


def test_acquisitions_staff_see_the_purchase_requests_with_patron_and_request(
    client, acquisitions, purchase, other_inst
):
    f.borrowing_request(other_inst, citation={"title": "Not ours"})
    client.force_login(acquisitions)
    home = client.get(reverse("home"))
    assert reverse("ill:purchase_list") in home.text
    page = client.get(reverse("ill:purchase_list"))
    assert page.status_code == 200
    assert "Kalevala" in page.text and "Course book, buy 2" in page.text
    assert purchase.borrowing_request.number in page.text
    assert client.get(reverse("ill:borrowing_list")).status_code == 403


def test_the_purchase_list_exports_as_csv_and_filters_by_status(
    client, acquisitions, purchase, inst, setup, rs_staff
):
    r = f.borrowing_request(inst, setup=setup, citation={"title": "Ordered already"})
    borrowing_request_to_purchase(request=r, user=rs_staff)
    PurchaseRequest.objects.filter(borrowing_request=r).update(
        status=PurchaseRequest.Status.ORDERED)
    client.force_login(acquisitions)
    response = client.get(reverse("ill:purchase_list"), {"export": "csv", "status": "new"})
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Created", "Status", "Title"]
    assert [row[2] for row in rows[1:]] == ["Kalevala"]
    assert rows[1][3] == "Lönnrot, Elias" and rows[1][-1] == "Course book, buy 2"
    page = client.get(reverse("ill:purchase_list"), {"status": "ordered"})
    assert "Ordered already" in page.text and "Kalevala" not in page.text


def test_the_purchase_list_is_for_staff_who_may_see_it(client, anonymous, desk_staff,
                                                       other_staff, purchase):
    url = reverse("ill:purchase_list")
    assert anonymous.get(url).status_code == 302
    client.force_login(other_staff)
    assert "Kalevala" not in client.get(url).text  # another institution's
    client.force_login(desk_staff)
    assert client.post(url).status_code == 405


def test_the_admin_lists_purchase_requests_and_exports_them(client, acquisitions, purchase):
    client.force_login(acquisitions)
    url = reverse("admin:ill_purchaserequest_changelist")
    assert "Kalevala" in client.get(url).text
    response = client.post(url, {"action": "export_purchase_requests",
                                 "_selected_action": [purchase.pk]})
    assert response["Content-Type"].startswith("text/csv")
    assert "Kalevala" in response.content.decode()


def test_the_purchase_list_needs_a_few_queries_whatever_its_length(
    client, acquisitions, inst, setup, rs_staff, django_assert_max_num_queries
):
    for i in range(5):
        r = f.borrowing_request(inst, setup=setup, citation={"title": f"Buy {i}"})
        borrowing_request_to_purchase(request=r, user=rs_staff)
    client.force_login(acquisitions)
    with django_assert_max_num_queries(8):
        assert client.get(reverse("ill:purchase_list")).status_code == 200
