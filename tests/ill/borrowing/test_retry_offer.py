"""A partner's retry offer is readable and prefills the retry (issue 11, point 9)."""

import datetime
from decimal import Decimal

import pytest
from django.urls import reverse

from ill import iso18626 as iso
from ill.borrowing import services as bs
from ill.borrowing.forms import RetryForm
from ill.models import BorrowingRequest
from kauko.errors import DomainError
from tests import factories as f
from tests.ill.iso_world import ok_answer, post_in

pytestmark = pytest.mark.django_db
NOW = datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.UTC)


@pytest.fixture
def sent(world, wire, django_capture_on_commit_callbacks):
    wire.answer = ok_answer
    with django_capture_on_commit_callbacks(execute=True):
        br = f.borrowing_request(world.ota, setup=world.ota_setup, patron_=world.patron,
                                 partners=[world.kaisa_at_ota], max_cost=Decimal("20"))
        br = bs.borrowing_request_send(request=br, user=world.ota_staff)
    return br


def offer(br, *, reason, costs=(), retry_after=None, item_ids=(), conditions=(),
          version="1.2", at=NOW):
    delivery = None
    if item_ids or conditions:
        delivery = iso.DeliveryInfo(date_sent=NOW, item_ids=list(item_ids),
                                    loan_conditions=list(conditions))
    body = iso.SupplyingAgencyMessage(
        header=iso.Header(supplying_agency_id=iso.AgencyId("ISIL", "FI-KAISA"),
                          requesting_agency_id=iso.AgencyId("ISIL", "FI-OTA"),
                          requesting_agency_request_id=br.rota.get(position=1).attempt_id,
                          timestamp=at),
        message_info=iso.MessageInfo(reason_for_message="RequestResponse", reason_retry=reason),
        status_info=iso.StatusInfo(status="RetryPossible", last_change=NOW),
        retry_info=iso.RetryInfo(
            offered_costs=[iso.Costs(currency_code=c, monetary_value=Decimal(v))
                           for v, c in costs], retry_after=retry_after)
        if costs or retry_after else None,
        delivery_info=delivery)
    return iso.build(body, version)


def fresh(r):
    return BorrowingRequest.objects.get(pk=r.pk)


@pytest.mark.parametrize("version", ["1.2", "2021"])
def test_a_cost_offer_shows_its_currency_and_the_retry_asks_in_it(
        client, xsd, world, wire, sent, django_capture_on_commit_callbacks, version):
    _r, conf = post_in(offer(sent, reason="CostExceedsMaxCost", costs=[("35", "USD")],
                             version=version), schemas=xsd)
    assert conf.is_ok
    assert "35.00 USD" in fresh(sent).attention_reason
    client.force_login(world.ota_staff)
    page = client.get(reverse("ill:borrowing_detail", args=[sent.pk]))
    assert dict(page.context["retry_offer"])["Cost"] == "35.00 USD"
    assert b'data-testid="retry-offer"' in page.content
    form = dict((a.name, form) for a, form in page.context["actions"])["retry"]
    assert form.initial["max_cost"] == Decimal("35") and form.initial["currency"] == "USD"

    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("ill:borrowing_action", args=[sent.pk, "retry"]), {
            "retry-version": fresh(sent).version, "retry-max_cost": "35",
            "retry-currency": "usd", "retry-note": "", "retry-item_id": ""})
    br = fresh(sent)
    assert (br.max_cost, br.max_cost_currency) == (Decimal("35"), "USD")
    retry = wire.messages()[-1]
    assert retry.service_info.request_type == iso.RequestType.RETRY
    assert str(retry.billing_info.maximum_costs.currency_code) == "USD"
    assert retry.billing_info.maximum_costs.monetary_value == Decimal("35")


def test_a_not_found_as_cited_offer_suggests_the_item_and_the_retry_asks_for_it(
        xsd, world, wire, sent, django_capture_on_commit_callbacks):
    post_in(offer(sent, reason="NotFoundAsCited", item_ids=["123456789"]), schemas=xsd)
    assert "Suggested item id: 123456789" in fresh(sent).attention_reason
    form = RetryForm(initial={"version": 1}, request_obj=fresh(sent), prefix="retry")
    assert form.initial["item_id"] == "123456789"
    with django_capture_on_commit_callbacks(execute=True):
        bs.borrowing_request_retry(request=fresh(sent), user=world.ota_staff,
                                   item_id="123456789")
    retry = wire.messages()[-1]
    assert retry.bibliographic_info.supplier_unique_record_id == "123456789"
    assert fresh(sent).max_cost_currency == "EUR"  # untouched


def test_a_condition_and_a_retry_after_are_shown_and_the_condition_prefills_the_note(
        xsd, world, sent):
    post_in(offer(sent, reason="LoanCondition", conditions=["NoReproduction"]), schemas=xsd)
    reason = fresh(sent).attention_reason
    assert "LoanCondition" in reason and "Condition: NoReproduction" in reason
    form = RetryForm(initial={"version": 1}, request_obj=fresh(sent), prefix="retry")
    assert "NoReproduction" in form.initial["note"]
    post_in(offer(sent, reason="OnLoan", retry_after=NOW,
                  at=NOW + datetime.timedelta(minutes=1)), schemas=xsd)
    assert "Retry after" in fresh(sent).attention_reason


def test_a_retry_with_a_bad_currency_is_refused(xsd, world, sent):
    post_in(offer(sent, reason="CostExceedsMaxCost", costs=[("35", "USD")]), schemas=xsd)
    with pytest.raises(DomainError, match="ISO 4217"):
        bs.borrowing_request_retry(request=fresh(sent), user=world.ota_staff, currency="US")


def test_without_an_offer_the_page_shows_none(client, world, sent):
    client.force_login(world.ota_staff)
    page = client.get(reverse("ill:borrowing_detail", args=[sent.pk]))
    assert page.context["retry_offer"] == []
    assert fresh(sent).max_cost_currency == "EUR"
