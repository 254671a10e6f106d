"""The portal's requests go through the same automation as staff's: the rules choose the rota,
auto-send sends it after commit, and the patron sees when it should arrive."""

import datetime

import pytest
from django.utils import timezone

from ill.models import AssignmentRule, BorrowingRequest, RotaTemplate, RotaTemplateEntry

pytestmark = pytest.mark.django_db


def test_a_portal_request_is_routed_by_the_rules_and_sent_without_a_click(
        signed_in, patron, setup, partner, django_capture_on_commit_callbacks):
    partner.average_supply_days = 6
    partner.save()
    template = RotaTemplate.objects.create(institution=patron.institution, name="NRL first")
    RotaTemplateEntry.objects.create(template=template, partner=partner, rank=1)
    AssignmentRule.objects.create(institution=patron.institution, name="Loans", position=1,
                                  template=template, request_type="loan", auto_send=True)

    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post("/my/request/", {
            "request_type": "loan", "delivery": "pickup", "pickup_desk": setup.desk.pk,
            "title": "The Dispossessed", "author": "Le Guin, Ursula"})

    assert response.status_code == 302
    request = BorrowingRequest.objects.get(patron=patron)
    assert request.status == BorrowingRequest.S.SENT and request.partner == partner
    assert request.rota_rule.name == "Loans"
    page = signed_in.get("/my/").content.decode()
    expected = timezone.localdate() + datetime.timedelta(days=6)
    assert 'data-testid="expected"' in page
    assert expected.strftime("%Y") in page


def test_a_request_not_yet_sent_shows_no_expected_date(signed_in, patron, setup, partner):
    signed_in.post("/my/request/", {"request_type": "loan", "delivery": "pickup",
                                    "pickup_desk": setup.desk.pk, "title": "Solaris"})
    assert 'data-testid="expected"' not in signed_in.get("/my/").content.decode()
