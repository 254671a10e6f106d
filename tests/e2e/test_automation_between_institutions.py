"""Automation end to end, over real HTTP (`live_server`): a request posted to OTA's intake API
is routed by a rule, located, sent to KAISA without a click, supplied, received and
completed; one nobody holds waits in the "needs attention" queue saying so; a silent partner
gets a StatusRequest and then the request is flagged.

Locate is real: OTA's KAISA partner has a "partner's Kauko" locate profile and KAISA's
catalogue is asked over SRU at this live server's /sru/KAISA.
"""

from __future__ import annotations

import datetime
import json
import urllib.request

import pytest
from django.utils import timezone

from circulation import services as desk
from ill.borrowing import autosend
from ill.borrowing.filters import QUEUES
from ill.lending import services as ls
from ill.models import (
    AssignmentRule,
    BorrowingRequest,
    IsoMessage,
    LendingRequest,
    RotaEntry,
    RotaTemplate,
    RotaTemplateEntry,
)
from kauko.models import Institution
from partners.models import LocateProfile, Partner
from patrons.models import Patron
from portal.services import api_client_create
from tests.e2e.conftest import wait_until
from tests.e2e.test_iso_between_institutions import desk_loan, fresh, no_errors, ship, status_is
from tests.ill.iso_world import make_world
from workbench.demo import DEMO_API_TOKEN, KAISA_ONLY, seed_demo

pytestmark = pytest.mark.django_db(transaction=True)
BS, LS = BorrowingRequest.Status, LendingRequest.Status


@pytest.fixture
def w(iso_live):
    world = make_world()
    url = f"{iso_live.url}/iso18626"
    Partner.objects.filter(profile_type=Partner.ProfileType.ISO18626).update(iso_endpoint_url=url)
    world.kaisa_at_ota.refresh_from_db()
    world.url = url
    template = RotaTemplate.objects.create(institution=world.ota, name="Helsinki first")
    RotaTemplateEntry.objects.create(template=template, partner=world.kaisa_at_ota, rank=1)
    AssignmentRule.objects.create(institution=world.ota, name="Loans", position=1,
                                  template=template, request_type="loan", auto_send=True)
    world.token = api_client_create(institution=world.ota, name="Discovery")[1]
    world.api = f"{iso_live.url}/api/borrowing-requests/"
    LocateProfile.objects.create(partner=world.kaisa_at_ota, kind=LocateProfile.Kind.KAUKO,
                                 sru_version="2.0", base_url=f"{iso_live.url}/sru/KAISA",
                                 timeout_seconds=10)
    return world


def post_to_intake_api(w, title: str) -> BorrowingRequest:
    body = json.dumps({"patron": w.patron.barcode, "type": "loan",
                       "pickup_desk": w.ota_setup.desk.code,
                       "citation": {"title": title}}).encode()
    call = urllib.request.Request(w.api, data=body, method="POST", headers={
        "Content-Type": "application/json", "Authorization": f"Bearer {w.token}"})
    with urllib.request.urlopen(call, timeout=30) as response:
        assert response.status == 201
        number = json.loads(response.read())["number"]
    return BorrowingRequest.objects.get(institution=w.ota, number=number)


def test_an_api_request_for_a_title_only_the_partner_holds_goes_there_without_a_click(w):
    br = post_to_intake_api(w, "Borrowed book")

    wait_until(lambda: LendingRequest.objects.filter(institution=w.kaisa).exists(),
               what="the lending request at KAISA")
    br = fresh(br)
    assert br.status == BS.SENT and br.partner == w.kaisa_at_ota
    assert br.rota_rule.name == "Loans" and br.auto_send
    assert "Loans" in br.rota_rule_reason
    assert not br.history.filter(user__isnull=False).exists()  # nobody clicked
    lr = LendingRequest.objects.get(institution=w.kaisa)
    assert lr.item == w.book

    ship(w, br, lr)
    item = desk_loan(w, br)
    desk.return_item(desk=w.ota_setup.desk, item=item, user=w.ota_desk)
    desk.desk_scan_in(desk=w.ota_setup.rs_desk, barcode="KAISA-0001", user=w.ota_staff)
    wait_until(status_is(lr, LS.RETURNED), what="returned at the lender")
    ls.lending_request_check_in(request=fresh(lr), barcode="KAISA-0001", user=w.kaisa_staff)
    wait_until(status_is(br, BS.COMPLETED), what="loan completed")
    no_errors()


def test_a_title_no_partner_holds_waits_in_the_attention_queue_saying_so(w):
    br = post_to_intake_api(w, "Nobody has this")
    # Auto-send locates after commit, in the worker: wait for its answer.
    wait_until(lambda: fresh(br).needs_attention, what="the request flagged")

    br = fresh(br)
    assert br.status == BS.CREATED
    assert br.needs_attention
    assert "No partner in the rota holds it" in br.attention_reason
    assert BorrowingRequest.objects.filter(QUEUES["attention"].q, pk=br.pk).exists()
    assert br.rota.get().outcome == RotaEntry.Outcome.SKIPPED
    assert not LendingRequest.objects.exists()


def test_a_silent_partner_gets_a_status_request_and_then_the_request_is_flagged(w):
    br = post_to_intake_api(w, "Borrowed book")
    wait_until(lambda: LendingRequest.objects.filter(institution=w.kaisa).exists(),
               what="the lending request at KAISA")
    days = w.kaisa_at_ota.average_supply_days
    RotaEntry.objects.filter(request=br).update(
        asked_at=timezone.now() - datetime.timedelta(days=days + 1))

    assert autosend.chase_silent_partners() == 1
    wait_until(lambda: IsoMessage.objects.filter(
        institution=w.kaisa, direction=IsoMessage.Direction.IN,
        action="StatusRequest").exists(), what="KAISA got the StatusRequest")
    assert not fresh(br).needs_attention

    assert autosend.chase_silent_partners(now=timezone.now() + datetime.timedelta(days=1)) == 1
    br = fresh(br)
    assert br.needs_attention and "is silent" in br.attention_reason
    no_errors()


def test_in_the_demo_an_ota_api_request_for_a_kaisa_only_title_arrives_at_kaisa_by_itself(
        iso_live):
    seed_demo()  # the demo's partners point at KAUKO_BASE_URL: this live server
    seed_demo()  # and seeding again changes nothing
    ota = Institution.objects.get(code="OTA")
    patron = Patron.objects.filter(institution=ota, pickup_desk__isnull=False,
                                   blocks__isnull=True).order_by("barcode").first()
    body = json.dumps({"patron": patron.barcode, "type": "loan",
                       "citation": {"title": KAISA_ONLY[0], "author": KAISA_ONLY[1]}}).encode()
    call = urllib.request.Request(f"{iso_live.url}/api/borrowing-requests/", data=body,
                                  method="POST", headers={
                                      "Content-Type": "application/json",
                                      "Authorization": f"Bearer {DEMO_API_TOKEN}"})
    with urllib.request.urlopen(call, timeout=30) as response:
        number = json.loads(response.read())["number"]

    br = BorrowingRequest.objects.get(institution=ota, number=number)
    wait_until(lambda: LendingRequest.objects.filter(
        institution__code="KAISA", title=KAISA_ONLY[0]).exists(), what="arrived at KAISA")
    br = fresh(br)
    assert br.status == BS.SENT and br.partner.code == "KAISA"
    assert br.rota_rule.name == "Everything else"
    lr = LendingRequest.objects.get(institution__code="KAISA", title=KAISA_ONLY[0])
    assert lr.item is not None and lr.item.barcodes.filter(barcode=KAISA_ONLY[3]).exists()
