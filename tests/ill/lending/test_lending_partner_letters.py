"""Issue 12: overdue and recall reach an e-mail partner as letters from the staff actions."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from ill.lending import services as ls
from ill.models import LendingRequest
from tests import factories as f

S = LendingRequest.Status
pytestmark = pytest.mark.django_db


@pytest.fixture
def shipped(inst, setup, partner, rs_staff):
    f.item(setup.stacks, title="Kalevala", barcodes=("OTA-K1",))
    r = f.lending_request(inst, setup=setup, partner_=partner, user=rs_staff,
                          citation={"title": "Kalevala"})
    return ls.lending_request_ship(request=r, barcode="OTA-K1", user=rs_staff)


def _act(client, r, name, **data):
    version = LendingRequest.objects.get(pk=r.pk).version
    return client.post(reverse("ill:lending_action", args=[r.pk, name]), {
        f"{name}-version": version, **{f"{name}-{k}": v for k, v in data.items()}})


def test_recalling_from_an_email_partner_sends_it_the_recall_letter(
    client, shipped, rs_staff, partner, django_capture_on_commit_callbacks
):
    client.force_login(rs_staff)
    back_by = timezone.localdate() + datetime.timedelta(days=7)
    with django_capture_on_commit_callbacks(execute=True):
        _act(client, shipped, "recall", new_due_date=back_by.isoformat(), note="Needed here")
    assert LendingRequest.objects.get(pk=shipped.pk).status == S.RECALLED
    assert mail.outbox[-1].to == [partner.email]
    assert "Needed here" in mail.outbox[-1].body


def test_an_overdue_notice_to_an_email_partner_is_a_letter(
    client, shipped, rs_staff, partner, django_capture_on_commit_callbacks
):
    LendingRequest.objects.filter(pk=shipped.pk).update(
        due_date=timezone.localdate() - datetime.timedelta(days=1))
    client.force_login(rs_staff)
    with django_capture_on_commit_callbacks(execute=True):
        _act(client, shipped, "overdue_notice", note="Please return")
    assert LendingRequest.objects.get(pk=shipped.pk).status == S.OVERDUE
    assert mail.outbox[-1].to == [partner.email]
