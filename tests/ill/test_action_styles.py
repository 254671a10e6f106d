"""Issue 12: destructive actions look destructive and come last; only what cannot be undone
is confirmed; an action that asks nothing is one click (no opener with the same label)."""

import re

import pytest
from django.urls import reverse

from ill.borrowing.services import borrowing_request_send
from tests import factories as f

pytestmark = pytest.mark.django_db


def _forms(html: str) -> dict[str, str]:
    return {m.group(1): m.group(0) for m in re.finditer(
        r'<form[^>]*data-action="([a-z_]+)".*?</form>', html, re.S)}


@pytest.fixture
def page_html(client, inst, setup, partner, rs_staff):
    request_ = borrowing_request_send(
        request=f.borrowing_request(inst, setup=setup, partners=[partner]), user=rs_staff)
    client.force_login(rs_staff)
    return client.get(reverse("ill:borrowing_detail", args=[request_.pk])).text


def test_cancelling_looks_destructive_comes_last_and_is_not_confirmed(page_html):
    forms = _forms(page_html)
    cancel = forms["cancel"]
    assert "destructive" in cancel and "danger-outline" in cancel
    assert "data-confirm" not in cancel  # a cancelled request can be reactivated
    assert list(forms)[-1] == "cancel"


def test_an_action_that_asks_nothing_is_one_click(page_html):
    take = _forms(page_html)["take"]
    assert "<summary" not in take
    assert take.count('type="submit"') == 1


def test_an_action_that_needs_input_opens_its_fields_then_does_it(page_html):
    cancel = _forms(page_html)["cancel"]
    summary = re.search(r"<summary[^>]*>(.*?)</summary>", cancel).group(1)
    button = re.search(r'<button type="submit"[^>]*>(.*?)</button>', cancel).group(1)
    assert summary != button


def test_reporting_a_loan_lost_is_confirmed_because_it_cannot_be_undone(
    client, inst, setup, partner, rs_staff
):
    from ill.borrowing.services import borrowing_request_receive

    request_ = borrowing_request_send(
        request=f.borrowing_request(inst, setup=setup, partners=[partner]), user=rs_staff)
    borrowing_request_receive(request=request_, barcode="LOST-1", user=rs_staff)
    client.force_login(rs_staff)
    html = client.get(reverse("ill:borrowing_detail", args=[request_.pk])).text
    lost = _forms(html)["lost"]
    assert "cannot be undone" in lost and 'class="danger"' in lost
    assert "confirm.js" in html
