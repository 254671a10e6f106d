"""The mock peer behaves as CrossLink's illmock does (../shared/iso18626/ILLMOCK.md).

Two mock peers talk to each other over HTTP: one as the requester, one as the supplier.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from ill import iso18626 as iso
from workbench.mockpeer import MockPeer

St, R, A = iso.Status, iso.ReasonForMessage, iso.Action
SUP = iso.AgencyId("ISIL", "SUP")


@pytest.fixture
def pair():
    requester = MockPeer(delay=0.01, agency=("ISIL", "REQ")).start()
    supplier = MockPeer(delay=0.01, agency=("ISIL", "SUP"), peer_url=requester.url).start()
    requester.peer_url = supplier.url
    yield requester, supplier
    requester.stop()
    supplier.stop()


def sams(peer, rid=None):
    with peer.lock:
        return [b for d, b in peer.bodies if d == "in"
                and isinstance(b, iso.SupplyingAgencyMessage)
                and (rid is None or b.header.requesting_agency_request_id == rid)]


def rams(peer):
    with peer.lock:
        return [str(b.action) for d, b in peer.bodies
                if d == "in" and isinstance(b, iso.RequestingAgencyMessage)]


def ask(requester, scenario, note="", **kw):
    return requester.send_request(supplier=SUP, title="A book", record_id=scenario,
                                  note=note, **kw)


def done(requester, rid):
    return requester.wait_for(lambda p: p.requester_state(rid).done)


def test_a_loan_without_a_delivery_address_is_sent_by_url_with_gos_zero_date(pair):
    requester, supplier = pair
    rid = ask(requester, "LOANED")
    assert done(requester, rid)
    loaned = sams(requester)[0]
    assert loaned.status_info.status == St.LOANED
    assert loaned.message_info.reason_for_message == R.REQUEST_RESPONSE
    assert str(loaned.delivery_info.delivery_method) == "URL"
    assert loaned.delivery_info.item_ids == ["http://example.com/123456789"]
    assert str(loaned.delivery_info.item_format) == "PDF"
    assert loaned.delivery_info.date_sent is None  # Go's zero time reads as "no date"
    assert rams(supplier) == ["Received", "ShippedReturn"]
    assert [s.status_info.status for s in sams(requester)] == [St.LOANED, St.LOAN_COMPLETED]


def test_a_physical_address_ranked_first_makes_it_a_mail_delivery(pair):
    requester, supplier = pair
    header = iso.Header(supplying_agency_id=SUP, requesting_agency_id=iso.AgencyId("ISIL", "X"),
                        requesting_agency_request_id="MAIL-1",
                        timestamp=datetime.datetime.now(datetime.UTC))
    body = iso.Request(
        header=header, bibliographic_info=iso.BibliographicInfo(supplier_unique_record_id="LOANED"),
        service_info=iso.ServiceInfo(service_type="Loan"),
        requested_delivery_info=[
            iso.RequestedDeliveryInfo(sort_order=2, address=iso.ElectronicAddress(
                electronic_address_type="Email", electronic_address_data="ill@example.org")),
            iso.RequestedDeliveryInfo(sort_order=1, address=iso.PhysicalAddress(
                line1="Library street 1", locality="Oulu"))])
    status, _body, _ctype = supplier.handle(iso.build(body, "1.2"))
    assert status == 200
    assert supplier.wait_for(lambda p: any(isinstance(b, iso.SupplyingAgencyMessage)
                                           for d, b in p.bodies if d == "out"))
    sam = next(b for d, b in supplier.bodies if d == "out")
    assert str(sam.delivery_info.delivery_method) == "Mail"
    assert sam.delivery_info.item_ids == ["123456789"]
    assert str(sam.delivery_info.item_format) == "Printed"


@pytest.mark.parametrize("service_type, status", [("Loan", St.LOAN_COMPLETED),
                                                  ("Copy", St.COPY_COMPLETED)])
def test_completed_is_the_first_and_only_message_and_a_copy_has_no_delivery_info(
        pair, service_type, status):
    requester, supplier = pair
    rid = ask(requester, "COMPLETED", service_type=service_type)
    assert done(requester, rid)
    [only] = sams(requester)
    assert only.status_info.status == status
    assert only.message_info.reason_for_message == R.REQUEST_RESPONSE
    assert only.delivery_info is None
    assert not supplier.supplied  # forgotten


@pytest.mark.parametrize("scenario, check", [
    ("RETRY:COST_LOANED", lambda s: (
        str(s.message_info.reason_retry) == "CostExceedsMaxCost"
        and str(s.message_info.reason_unfilled) == "CostExceedsMaxCost"
        and [(str(c.currency_code), c.monetary_value) for c in s.retry_info.offered_costs]
        == [("USD", Decimal(35))])),
    ("RETRY:ONLOAN_LOANED", lambda s: (
        str(s.message_info.reason_retry) == "OnLoan" and s.retry_info.retry_after is not None)),
    ("RETRY:COND_LOANED", lambda s: (
        str(s.message_info.reason_retry) == "LoanCondition"
        and [str(c) for c in s.delivery_info.loan_conditions] == ["NoReproduction"])),
    ("RETRY:NOTFOUNDASCITED_LOANED", lambda s: (
        str(s.message_info.reason_retry) == "NotFoundAsCited"
        and s.delivery_info.item_ids == ["123456789"] and not s.delivery_info.loan_conditions)),
])
def test_a_retry_offer_says_what_illmock_says_and_the_retry_runs_the_rest(
        pair, scenario, check):
    requester, supplier = pair
    rid = ask(requester, scenario)
    assert done(requester, rid)
    offer = sams(requester, rid)[0]
    assert offer.status_info.status == St.RETRY_POSSIBLE and check(offer)
    state = requester.requester_state(rid)
    assert len(state.ids) == 2  # the retry went under a new id
    assert [s.status_info.status for s in sams(requester, state.ids[1])] == [
        St.LOANED, St.LOAN_COMPLETED]
    retry = next(b for d, b in supplier.bodies if d == "in" and isinstance(b, iso.Request)
                 and b.header.requesting_agency_request_id == state.ids[1])
    assert retry.service_info.request_type == iso.RequestType.RETRY
    assert retry.service_info.requesting_agency_previous_request_id == rid
    if scenario.startswith("RETRY:COST"):
        assert retry.billing_info.maximum_costs.monetary_value == 35


def test_retrykeepid_and_retrybibid_flags(pair):
    requester, supplier = pair
    kept = ask(requester, "RETRY:ONLOAN_UNFILLED", note="#RETRYKEEPID#")
    assert done(requester, kept)
    assert requester.requester_state(kept).ids == [kept]
    other = ask(requester, "RETRY:ONLOAN", note="#RETRYBIBID:WILLSUPPLY_UNFILLED#")
    assert done(requester, other)
    new_id = requester.requester_state(other).ids[1]
    assert [s.status_info.status for s in sams(requester, new_id)] == [
        St.WILL_SUPPLY, St.UNFILLED]


def test_renew_response_has_no_due_date_and_renew_flag_returns_without_waiting(pair):
    requester, supplier = pair
    rid = ask(requester, "LOANED_OVERDUE", note="#RENEW#")
    assert done(requester, rid)
    statuses = [(s.message_info.reason_for_message, s.status_info.status)
                for s in sams(requester)]
    assert statuses[:2] == [(R.REQUEST_RESPONSE, St.LOANED), (R.STATUS_CHANGE, St.OVERDUE)]
    renewed = next(s for s in sams(requester)
                   if s.message_info.reason_for_message == R.RENEW_RESPONSE)
    assert renewed.message_info.answer_yes_no == "Y" and renewed.status_info.due_date is None
    assert rams(supplier) == ["Received", "Renew", "ShippedReturn"]


def test_recall_flag_holds_the_item_until_recalled(pair):
    requester, supplier = pair
    rid = ask(requester, "LOANED_RECALLED", note="#RECALL#")
    assert done(requester, rid)
    assert [s.status_info.status for s in sams(requester)] == [
        St.LOANED, St.RECALLED, St.LOAN_COMPLETED]
    assert rams(supplier) == ["Received", "ShippedReturn"]
    # Without a recall, #RECALL# keeps the item: no ShippedReturn.
    held = ask(requester, "LOANED", note="#RECALL#")
    assert requester.wait_for(lambda p: "Received" in p.requester_state(held).actions)
    assert not requester.wait_for(lambda p: p.requester_state(held).done, timeout=0.5)


def test_cancel_flag_cancels_on_the_first_answer(pair):
    requester, supplier = pair
    # illmock's timing: the Cancel goes a tenth of the delay after WillSupply, the next
    # status a whole delay after; give a busy machine room to keep that order.
    requester.delay = supplier.delay = 0.5
    rid = ask(requester, "WILLSUPPLY_LOANED", note="#CANCEL#")
    assert done(requester, rid)
    assert rams(supplier)[0] == "Cancel"
    answer = next(s for s in sams(requester)
                  if s.message_info.reason_for_message == R.CANCEL_RESPONSE)
    assert answer.message_info.answer_yes_no == "Y" and answer.status_info.status == St.CANCELLED


def _header(rid, supplier="SUP"):
    return iso.Header(supplying_agency_id=iso.AgencyId("ISIL", supplier),
                      requesting_agency_id=iso.AgencyId("ISIL", "REQ"),
                      requesting_agency_request_id=rid,
                      timestamp=datetime.datetime.now(datetime.UTC))


def test_a_ram_for_an_unknown_transaction_is_confirmed_ok_with_its_action_and_ignored(pair):
    _requester, supplier = pair
    status, body, _ = supplier.handle(iso.build(iso.RequestingAgencyMessage(
        header=_header("NOBODY"), action=A.CANCEL), "1.2"))
    answer = iso.parse(body)
    assert status == 200 and answer.body.is_ok and answer.body.action == A.CANCEL
    assert not supplier.wait_for(lambda p: any(d == "out" for d, _b in p.bodies), timeout=0.3)


def test_a_sam_for_an_id_it_never_asked_is_an_error(pair):
    requester, _supplier = pair
    _status, body, _ = requester.handle(iso.build(iso.SupplyingAgencyMessage(
        header=_header("NOBODY"), message_info=iso.MessageInfo(reason_for_message=R.STATUS_CHANGE),
        status_info=iso.StatusInfo(status=St.LOANED,
                                   last_change=datetime.datetime.now(datetime.UTC))), "1.2"))
    answer = iso.parse(body)
    assert not answer.body.is_ok
    assert answer.body.error_data[0].error_value == "non-existing RequestingAgencyRequestId"


def test_a_duplicate_in_progress_id_and_a_missing_id_are_errors(pair):
    _requester, supplier = pair

    def post(header):
        body = iso.Request(header=header,
                           bibliographic_info=iso.BibliographicInfo(
                               supplier_unique_record_id="WILLSUPPLY"),
                           service_info=iso.ServiceInfo(service_type="Loan"))
        return iso.parse(supplier.handle(iso.build(body, "1.2"))[1]).body

    assert post(_header("DUP-1")).is_ok
    again = post(_header("DUP-1"))
    assert not again.is_ok
    assert again.error_data[0].error_value == "RequestingAgencyRequestId already exists"
    assert str(again.error_data[0].error_type) == "UnrecognisedDataValue"
    assert not post(_header("", )).is_ok


def test_the_requester_stops_when_the_confirmation_does_not_echo_the_action(pair, monkeypatch):
    requester, supplier = pair
    original = iso.confirmation_for

    def no_action(message, *args, **kwargs):
        conf = original(message, *args, **kwargs)
        if hasattr(conf, "action"):
            conf.action = None
        return conf

    monkeypatch.setattr(iso, "confirmation_for", no_action)
    rid = ask(requester, "LOANED")
    assert requester.wait_for(lambda p: any("did not receive action" in t for _d, t in p.log))
    assert rams(supplier) == ["Received"]
    assert not requester.requester_state(rid).done


def test_the_benchmark_s_peer_confirms_any_sam():
    peer = MockPeer(delay=0.01, confirm_any_sam=True)
    try:
        _status, body, _ = peer.handle(iso.build(iso.SupplyingAgencyMessage(
            header=_header("BENCH-1"),
            message_info=iso.MessageInfo(reason_for_message=R.NOTIFICATION, note="out 1"),
            status_info=iso.StatusInfo(status=St.LOANED,
                                       last_change=datetime.datetime.now(datetime.UTC))),
            "1.2"))
        assert iso.parse(body).body.is_ok
    finally:
        peer.server.server_close()
