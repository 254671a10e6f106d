"""The staff home as the RS office's start of the day: queues with counts and what is new
since the last look, requests needing attention, loans due back to partners this week, and a
fragment the page polls to refresh itself."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from ill.models import BorrowingRequest, LendingRequest
from tests import factories as f

pytestmark = pytest.mark.django_db
BR = BorrowingRequest


def _queue(html: str, testid: str, key: str) -> str:
    block = html.split(f'data-testid="{testid}"', 1)[1].split("</ul>", 1)[0]
    return re.sub(r"\s+", " ", block.split(f'data-queue="{key}"', 1)[1].split("</li>", 1)[0])


def test_rs_staff_see_each_queue_with_its_count(client, inst, setup, rs_staff, partner):
    f.borrowing_request(inst, setup=setup, partners=[partner])
    f.lending_request(inst, setup=setup, partner_=partner)
    client.force_login(rs_staff)
    html = client.get("/").text
    assert '<span class="figure">1</span>' in _queue(html, "borrowing-queues", "ready")
    assert "Borrowing queues" in html and "Lending queues" in html
    assert reverse("home_live") in html and "kauko/dashboard.js" in html
    assert "<script>" not in html  # nothing inline


def test_desk_staff_keep_the_plain_home(client, inst, desk_staff):
    client.force_login(desk_staff)
    html = client.get("/").text
    assert "Borrowing queues" not in html and "dashboard.js" not in html
    assert client.get(reverse("home_live")).status_code == 403


def test_the_fragment_needs_a_login(client):
    response = client.get(reverse("home_live"))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_new_counts_what_came_into_a_queue_since_the_last_look(client, inst, setup, rs_staff,
                                                               partner):
    client.force_login(rs_staff)
    first = client.get("/").text
    assert "new</span>" not in _queue(first, "borrowing-queues", "ready")
    assert "since your last look" not in first  # there was none
    f.borrowing_request(inst, setup=setup, partners=[partner])
    second = client.get("/").text
    assert "1 new" in _queue(second, "borrowing-queues", "ready")
    assert "since your last look" in second
    # The refreshes count from the same last look as the page.
    live = client.get(reverse("home_live")).text
    assert "1 new" in _queue(live, "borrowing-queues", "ready")
    third = client.get("/").text
    assert "new</span>" not in _queue(third, "borrowing-queues", "ready")


def test_needing_attention_lists_the_reason_and_only_our_requests(client, inst, setup, rs_staff,
                                                                  partner, other_inst):
    ours = f.borrowing_request(inst, setup=setup, partners=[partner])
    BR.objects.filter(pk=ours.pk).update(needs_attention=True,
                                         attention_reason="End of rota: no partner left.")
    theirs = f.borrowing_request(other_inst, partners=[f.partner(other_inst)])
    BR.objects.filter(pk=theirs.pk).update(needs_attention=True,
                                           attention_reason="Their own trouble.")
    client.force_login(rs_staff)
    html = client.get("/").text
    assert ours.number in html and "End of rota: no partner left." in html
    assert "Their own trouble." not in html


def test_loans_due_back_to_partners_this_week_are_listed(client, inst, setup, rs_staff,
                                                         partner):
    today = timezone.localdate()
    soon = f.borrowing_request(inst, setup=setup, partners=[partner])
    later = f.borrowing_request(inst, setup=setup, partners=[partner])
    BR.objects.filter(pk=soon.pk).update(status=BR.S.LOANED,
                                         partner_due_date=today + datetime.timedelta(days=3))
    BR.objects.filter(pk=later.pk).update(status=BR.S.LOANED,
                                          partner_due_date=today + datetime.timedelta(days=12))
    client.force_login(rs_staff)
    html = client.get("/").text
    table = html.split('data-testid="due-back"', 1)[1].split("</table>", 1)[0]
    assert soon.number in table and later.number not in table


def test_the_fragment_carries_the_newest_lending_request_for_the_page_to_compare(
        client, inst, setup, rs_staff, partner, django_assert_max_num_queries):
    client.force_login(rs_staff)
    client.get("/")
    before = client.get(reverse("home_live")).text
    assert 'data-newest-lending="0"' in before
    lending = f.lending_request(inst, setup=setup, partner_=partner)
    with django_assert_max_num_queries(17):
        after = client.get(reverse("home_live")).text
    assert f'data-newest-lending="{lending.pk}"' in after
    # Nothing in our catalogue matches it: it waits in Locate failed, new since the look.
    assert LendingRequest.objects.get(pk=lending.pk).status == LendingRequest.S.LOCATE_FAILED
    assert "1 new" in _queue(after, "lending-queues", "locate_failed")


def test_the_page_says_a_new_lending_request_arrived_since_the_last_look(
        client, inst, setup, rs_staff, partner):
    client.force_login(rs_staff)
    first = client.get("/").text
    assert re.search(r'data-testid="new-lending-notice"\s+hidden', first)
    f.lending_request(inst, setup=setup, partner_=partner)
    second = client.get("/").text
    assert not re.search(r'data-testid="new-lending-notice"\s+hidden', second)


def test_the_fragment_answers_only_get(client, rs_staff):
    client.force_login(rs_staff)
    assert client.post(reverse("home_live")).status_code == 405


def test_roles_without_ill_change_get_no_dashboard(client, inst, config_admin):
    client.force_login(config_admin)
    assert client.get(reverse("home_live")).status_code == 403


def test_the_dashboard_uses_few_queries(client, inst, setup, rs_staff, partner,
                                        django_assert_max_num_queries):
    for _ in range(3):
        f.borrowing_request(inst, setup=setup, partners=[partner])
    client.force_login(rs_staff)
    client.get("/")
    # Constant: the overview's five counts, the dashboard's thirteen, session and user.
    with django_assert_max_num_queries(27):
        assert client.get("/").status_code == 200


def _timer(html: str, key: str) -> str:
    block = html.split('data-testid="timers"', 1)[1].split("</ul>", 1)[0]
    return block.split(f'data-timer="{key}"', 1)[1].split("</li>", 1)[0]


def test_today_counts_what_the_night_will_expire_and_what_falls_due(client, inst, setup,
                                                                    rs_staff, partner):
    profile = f.workflow_profile(inst, expire_after_days=5)
    partner.borrowing_profile = profile
    partner.save()
    now = timezone.now()
    stale = f.borrowing_request(inst, setup=setup, partners=[partner])
    fresh = f.borrowing_request(inst, setup=setup, partners=[partner])
    BR.objects.filter(pk=stale.pk).update(status=BR.S.SENT, partner=partner,
                                          status_changed_at=now - datetime.timedelta(days=6))
    BR.objects.filter(pk=fresh.pk).update(status=BR.S.SENT, partner=partner,
                                          status_changed_at=now - datetime.timedelta(days=2))
    lent = f.lending_request(inst, setup=setup, partner_=partner)
    LendingRequest.objects.filter(pk=lent.pk).update(status=LendingRequest.S.RECEIVED,
                                                     due_date=timezone.localdate())
    client.force_login(rs_staff)
    html = client.get("/").text
    assert '<span class="figure">1</span>' in _timer(html, "borrowing_expire")
    assert '<span class="figure">1</span>' in _timer(html, "lending_due")
    assert '<span class="figure">0</span>' in _timer(html, "lending_conditions")
