"""A needs-attention flag ends with what it flags (issue 11, point 3): a closed request
drops its flag and never shows in the queue; staff can dismiss a flag with a reason; the
lending list shows what a partner's message parked for staff."""

import pytest
from django.urls import reverse

from ill.borrowing import selectors as borrowing_selectors
from ill.borrowing import services as bs
from ill.lending import selectors as lending_selectors
from ill.models import BorrowingRequest, LendingRequest
from ill.workflow import dismiss_attention, flag
from kauko.errors import DomainError
from tests import factories as f

pytestmark = pytest.mark.django_db




def _fresh(r):
    return type(r).objects.get(pk=r.pk)


def test_a_closed_request_drops_its_flag_and_leaves_the_attention_queue(inst, setup, rs_staff):
    partner = f.partner(inst, code="NRL")
    request = f.borrowing_request(inst, setup=setup, partners=[partner])
    request = bs.borrowing_request_send(request=request, user=rs_staff)
    flag(request=request, reason="The partner refused the message")
    assert borrowing_selectors.queue_counts(institution=inst)["attention"] == 1

    bs.borrowing_request_cancel(request=_fresh(request), reason="Not needed", user=rs_staff,
                                notify_patron=False)
    closed = _fresh(request)
    if closed.status == BorrowingRequest.S.WAITING_CANCEL:  # an e-mail partner's answer
        closed = bs.borrowing_request_cancel_answer(request=closed, cancelled=True,
                                                    user=rs_staff)
    assert closed.is_final and not closed.needs_attention
    assert closed.history.filter(action="attention_cleared",
                                 note__contains="refused the message").exists()
    assert borrowing_selectors.queue_counts(institution=inst)["attention"] == 0


def test_a_flag_on_a_request_closed_before_this_rule_stays_out_of_the_queue(inst, setup, rs_staff):
    request = f.borrowing_request(inst, setup=setup)
    BorrowingRequest.objects.filter(pk=request.pk).update(
        status=BorrowingRequest.S.COMPLETED, needs_attention=True, attention_reason="old")
    assert borrowing_selectors.queue_counts(institution=inst)["attention"] == 0


def test_staff_dismiss_a_flag_with_a_reason_kept_in_the_history(client, inst, setup, rs_staff):
    request = f.borrowing_request(inst, setup=setup)
    flag(request=request, reason="End of rota")
    request = _fresh(request)
    client.force_login(rs_staff)
    page = client.get(reverse("ill:borrowing_detail", args=[request.pk]))
    assert "dismiss_attention" in {a.name for a, _form in page.context["actions"]}

    empty = client.post(reverse("ill:borrowing_action", args=[request.pk, "dismiss_attention"]),
                        {"dismiss_attention-version": request.version,
                         "dismiss_attention-reason": ""})
    assert empty.status_code == 302 and _fresh(request).needs_attention
    client.post(reverse("ill:borrowing_action", args=[request.pk, "dismiss_attention"]),
                {"dismiss_attention-version": request.version,
                 "dismiss_attention-reason": "Asked the patron; a purchase instead"})
    request = _fresh(request)
    assert not request.needs_attention
    assert request.history.filter(action="attention_dismissed",
                                  note__contains="a purchase instead").exists()
    page = client.get(reverse("ill:borrowing_detail", args=[request.pk]))
    assert "dismiss_attention" not in {a.name for a, _form in page.context["actions"]}


def test_dismissing_needs_a_reason_and_a_flag(inst, setup, rs_staff):
    request = f.borrowing_request(inst, setup=setup)
    with pytest.raises(DomainError, match="not flagged"):
        dismiss_attention(request=request, reason="why", user=rs_staff)
    flag(request=request, reason="x")
    with pytest.raises(DomainError, match="Say why"):
        dismiss_attention(request=_fresh(request), reason=" ", user=rs_staff)


def test_the_lending_list_has_an_attention_queue_and_tag(client, inst, setup, rs_staff):
    lent = f.lending_request(inst, setup=setup)
    flag(request=lent, reason="The partner asks to cancel: answer yes or no.")
    assert lending_selectors.queue_counts(institution=inst)["attention"] == 1
    client.force_login(rs_staff)
    page = client.get(reverse("ill:lending_list"), {"queue": "attention"})
    assert lent.number in page.text and 'class="tag warn"' in page.text
    LendingRequest.objects.filter(pk=lent.pk).update(status=LendingRequest.S.CANCELLED)
    assert lending_selectors.queue_counts(institution=inst)["attention"] == 0


def test_another_institutions_staff_cannot_dismiss_a_flag(client, inst, setup, other_staff):
    request = f.borrowing_request(inst, setup=setup)
    flag(request=request, reason="End of rota")
    client.force_login(other_staff)
    response = client.post(
        reverse("ill:borrowing_action", args=[request.pk, "dismiss_attention"]),
        {"dismiss_attention-version": _fresh(request).version,
         "dismiss_attention-reason": "not mine"})
    assert response.status_code == 404 and _fresh(request).needs_attention


def test_a_copy_cannot_be_delivered_by_hand_before_the_partner_sent_it(inst, setup, rs_staff):
    request = f.borrowing_request(inst, setup=setup, request_type="article",
                                  citation={"title": "Journal", "article_title": "Part"})
    with pytest.raises(DomainError, match="without a link waits"):
        bs.borrowing_request_copy_arrived(request=request, url="https://x.example/1.pdf",
                                          user=rs_staff)
