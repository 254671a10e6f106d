"""Issue 12: staff take a request or give it to a colleague; the lists show who has it and
"Assigned to me" finds one's own (borrowing and lending alike)."""

import pytest
from django.urls import reverse

from ill.models import BorrowingRequest, LendingRequest
from kauko import roles
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def colleague(inst):
    user = f.staff(inst, roles.RESOURCE_SHARING)
    user.first_name, user.last_name = "Kaisa", "Kollega"
    user.save()
    return user


@pytest.fixture
def request_(inst, setup, partner):
    return f.borrowing_request(inst, setup=setup, partners=[partner])


def _post(client, r, name, side="borrowing", **data):
    version = type(r).objects.get(pk=r.pk).version
    return client.post(reverse(f"ill:{side}_action", args=[r.pk, name]), {
        f"{name}-version": version, **{f"{name}-{k}": v for k, v in data.items()}},
        follow=True)


def test_staff_take_a_request_and_the_list_shows_it_as_theirs(client, request_, rs_staff,
                                                                inst, setup):
    other = f.borrowing_request(inst, setup=setup)
    client.force_login(rs_staff)
    _post(client, request_, "take")
    request_ = BorrowingRequest.objects.get(pk=request_.pk)
    assert request_.assigned_to == rs_staff
    assert request_.history.get(action="assign").note.startswith("Taken by")
    mine = client.get(reverse("ill:borrowing_list") + "?mine=true")
    assert request_.number in mine.text and other.number not in mine.text
    assert f'data-testid="assignee">{rs_staff.username}<' in mine.text
    page = client.get(reverse("ill:borrowing_detail", args=[request_.pk]))
    assert 'data-action="take"' not in page.text  # already theirs


def test_staff_give_a_request_to_a_colleague_and_back_to_nobody(client, request_, rs_staff,
                                                                 colleague):
    client.force_login(rs_staff)
    page = client.get(reverse("ill:borrowing_detail", args=[request_.pk]))
    assert "Kaisa Kollega" in page.text
    _post(client, request_, "assign", assignee=colleague.pk)
    request_ = BorrowingRequest.objects.get(pk=request_.pk)
    assert request_.assigned_to == colleague
    assert "Given to Kaisa Kollega" in request_.history.get(action="assign").note
    listed = client.get(reverse("ill:borrowing_list"))
    assert 'data-testid="assignee">Kaisa Kollega<' in listed.text
    _post(client, request_, "assign", assignee="")
    assert BorrowingRequest.objects.get(pk=request_.pk).assigned_to is None


def test_a_request_cannot_go_to_another_institutions_staff_or_to_the_desk(
    client, request_, rs_staff, other_staff, desk_staff
):
    client.force_login(rs_staff)
    for who in (other_staff, desk_staff):
        page = _post(client, request_, "assign", assignee=who.pk)
        assert "Select a valid choice" in page.text
    assert BorrowingRequest.objects.get(pk=request_.pk).assigned_to is None


def test_only_staff_who_work_requests_may_take_one(client, anonymous, request_, desk_staff,
                                                   other_staff):
    url = reverse("ill:borrowing_action", args=[request_.pk, "take"])
    assert anonymous.post(url).status_code == 302
    client.force_login(desk_staff)
    assert client.post(url, {"take-version": request_.version}).status_code == 403
    client.force_login(other_staff)
    assert client.post(url, {"take-version": request_.version}).status_code == 404
    assert BorrowingRequest.objects.get(pk=request_.pk).assigned_to is None


def test_the_assign_service_refuses_a_stranger(request_, rs_staff, other_staff):
    from ill.workflow import WorkflowError, assign

    with pytest.raises(WorkflowError, match="cannot work on"):
        assign(request=request_, assignee=other_staff, user=rs_staff)


def test_lending_requests_are_taken_and_listed_the_same_way(client, inst, setup, partner,
                                                            rs_staff):
    r = f.lending_request(inst, setup=setup, partner_=partner, user=rs_staff)
    other = f.lending_request(inst, setup=setup, partner_=partner, user=rs_staff)
    client.force_login(rs_staff)
    _post(client, r, "take", side="lending")
    assert LendingRequest.objects.get(pk=r.pk).assigned_to == rs_staff
    mine = client.get(reverse("ill:lending_list") + "?mine=true")
    assert r.number in mine.text and other.number not in mine.text


def test_the_list_shows_assignees_without_a_query_per_row(
    client, inst, setup, rs_staff, colleague, django_assert_max_num_queries
):
    for _ in range(6):
        r = f.borrowing_request(inst, setup=setup)
        BorrowingRequest.objects.filter(pk=r.pk).update(assigned_to=colleague)
    client.force_login(rs_staff)
    with django_assert_max_num_queries(12):
        page = client.get(reverse("ill:borrowing_list"))
    assert page.text.count("Kaisa Kollega") == 6
