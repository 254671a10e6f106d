"""The inbound endpoint: HTTP-level refusals, every ERROR confirmation, authentication,
idempotency, and each supplying-agency message's effect on the borrowing request."""

import datetime
import itertools

import pytest
from django.urls import reverse
from django.utils import timezone

from ill import iso18626 as iso
from ill.borrowing import services as bs
from ill.models import BorrowingRequest, HistoryEntry, IsoMessage, LendingRequest
from ill.outbox import services as iso_outbound
from kauko.errors import DomainError
from partners.models import Partner
from tests import factories as f
from tests.ill.iso_world import ok_answer, post_in

pytestmark = pytest.mark.django_db
BS = BorrowingRequest.Status
ET = iso.ErrorType
_tick = itertools.count(1)


def stamp():
    # A distinct timestamp per message: the same one twice is a replay.
    return datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC) + datetime.timedelta(
        milliseconds=next(_tick))


def header(rid, supplier="FI-KAISA", requester="FI-OTA", **kw):
    return iso.Header(supplying_agency_id=iso.AgencyId("ISIL", supplier),
                      requesting_agency_id=iso.AgencyId("ISIL", requester),
                      requesting_agency_request_id=rid, timestamp=stamp(), **kw)


def sam(rid, status, reason=iso.ReasonForMessage.STATUS_CHANGE, *, supplier="FI-KAISA",
        answer=None, note=None, due=None, item_ids=(), url=None, conditions=(),
        version="1.2", reason_unfilled=None):
    delivery = None
    if item_ids or url or conditions:
        delivery = iso.DeliveryInfo(date_sent=stamp(), item_ids=list(item_ids), url=url,
                                    loan_conditions=list(conditions))
    body = iso.SupplyingAgencyMessage(
        header=header(rid, supplier=supplier),
        message_info=iso.MessageInfo(reason_for_message=reason, answer_yes_no=answer,
                                     note=note, reason_unfilled=reason_unfilled),
        status_info=iso.StatusInfo(status=status or "WillSupply", due_date=due,
                                   last_change=stamp()),
        delivery_info=delivery)
    data = iso.build(body, version)
    if status is None:  # Alma's empty status in notifications
        data = data.replace(b"<ill:status>WillSupply</ill:status>", b"<ill:status></ill:status>")
    return data


def ram(rid, action, *, requester="FI-OTA", note=None, auth=None, version="1.2"):
    body = iso.RequestingAgencyMessage(
        header=header(rid, requester=requester, requesting_agency_authentication=auth),
        action=action, note=note)
    return iso.build(body, version)


def request_msg(rid, *, requester="FI-OTA", supplier="FI-KAISA", auth=None, version="1.2"):
    body = iso.Request(
        header=header(rid, supplier=supplier, requester=requester,
                      requesting_agency_authentication=auth),
        bibliographic_info=iso.BibliographicInfo(title="Borrowed book", author="Writer, A."),
        service_info=iso.ServiceInfo(request_type=iso.RequestType.NEW,
                                     service_type=iso.ServiceType.LOAN))
    return iso.build(body, version)


def error_of(conf):
    assert conf.confirmation_header.message_status == "ERROR", conf
    return conf.error_data[0].error_type, conf.error_data[0].error_value


@pytest.fixture
def sent(world, wire, django_capture_on_commit_callbacks):
    """OTA's borrowing request, sent to KAISA (which only confirms)."""
    wire.answer = ok_answer
    with django_capture_on_commit_callbacks(execute=True):
        br = f.borrowing_request(world.ota, setup=world.ota_setup, patron_=world.patron,
                                 partners=[world.kaisa_at_ota])
        br = bs.borrowing_request_send(request=br, user=world.ota_staff)
    return br


def fresh(r):
    return type(r).objects.get(pk=r.pk)


def attempt_of(br, position=1):
    """The request id a borrowing request was sent to its partner under."""
    return br.rota.get(position=position).attempt_id


def loan_to_patron(br, w):
    """The desk's steps: scan in at the pickup desk, loan to the patron."""
    from circulation import services as desk
    from fulfillment.models import Item

    item = Item.objects.get(pk=br.temporary_item_id)
    barcode = item.barcodes.first().barcode
    desk.desk_scan_in(desk=w.ota_setup.desk, barcode=barcode, user=w.ota_desk)
    desk.loan_item(desk=w.ota_setup.desk, patron=w.patron, item=item, user=w.ota_desk)
    br = fresh(br)
    assert br.status == BS.LOANED
    return br


# --- HTTP level -----------------------------------------------------------------------------


def test_http_refusals(client, settings, world):
    url = "/iso18626"
    assert client.get(url).status_code == 405
    assert client.post(url, b"<x/>", content_type="text/plain").status_code == 415
    assert client.post(url, b"not xml", content_type="application/xml").status_code == 400
    settings.ISO18626_MAX_BYTES = 100
    response = client.post(url, b"<a>" + b"x" * 200 + b"</a>", content_type="text/xml")
    assert response.status_code == 413
    # Answered before the staff middleware, but the host is still checked (ALLOWED_HOSTS).
    response = client.post(url, b"<x/>", content_type="application/xml",
                           HTTP_HOST="attacker.example")
    assert response.status_code == 400


def test_the_endpoint_answers_in_english_without_cookies_whatever_the_partner_asks(
        client, world):
    response = client.post("/iso18626", ram("X-1", "Notification", requester="FI-NOBODY"),
                           content_type="application/xml", HTTP_ACCEPT_LANGUAGE="fi")
    assert response.status_code == 200
    _kind, value = error_of(iso.parse(response.content).body)
    assert "is not a partner of" in value  # the deployment's English, not negotiated
    assert not response.cookies and "Content-Language" not in response.headers


def test_a_message_we_cannot_read_gets_badly_formed(xsd, world):
    data = request_msg("R-1").replace(b"<ill:title>Borrowed book</ill:title>", b"")
    broken = data.replace(b"<ill:timestamp>", b"<ill:nothing>").replace(
        b"</ill:timestamp>", b"</ill:nothing>")
    reply, conf = post_in(broken, schemas=xsd)
    assert reply.status == 200
    assert error_of(conf)[0] == ET.BADLY_FORMED_MESSAGE
    assert IsoMessage.objects.filter(confirmation_status="ERROR").count() == 1


def test_unknown_recipient_and_unknown_sender(xsd, world):
    _r, conf = post_in(request_msg("R-1", supplier="FI-NOBODY"), schemas=xsd)
    kind, value = error_of(conf)
    assert kind == ET.UNRECOGNISED_DATA_VALUE and "supplyingAgencyId" in value
    _r, conf = post_in(request_msg("R-1", requester="FI-STRANGER"), schemas=xsd)
    kind, value = error_of(conf)
    assert kind == ET.UNRECOGNISED_DATA_VALUE and "requestingAgencyId" in value
    assert not LendingRequest.objects.exists()


def test_a_new_request_then_its_duplicate(xsd, world):
    _r, conf = post_in(request_msg("R-1"), schemas=xsd)
    assert conf.is_ok
    lr = LendingRequest.objects.get()
    assert lr.institution == world.kaisa and lr.status == LendingRequest.Status.PROCESSING
    _r, conf = post_in(request_msg("R-1"), schemas=xsd)  # a new timestamp: not a replay
    kind, value = error_of(conf)
    assert kind == ET.UNRECOGNISED_DATA_VALUE and lr.number in value
    assert LendingRequest.objects.count() == 1


def test_unknown_request_ids(xsd, world, sent):
    _r, conf = post_in(sam("NOPE-1", iso.Status.WILL_SUPPLY), schemas=xsd)
    assert "requestingAgencyRequestId" in error_of(conf)[1]
    _r, conf = post_in(ram("NOPE-2", iso.Action.RENEW), schemas=xsd)
    assert "requestingAgencyRequestId" in error_of(conf)[1]


def test_unsupported_action_and_reason(xsd, world):
    post_in(request_msg("R-1"), schemas=xsd)
    bad_action = ram("R-1", iso.Action.RENEW).replace(b">Renew<", b">WeCancelThis<")
    _r, conf = post_in(bad_action, schemas=xsd)
    assert error_of(conf)[0] == ET.UNSUPPORTED_ACTION_TYPE
    _r, conf = post_in(ram("R-1", iso.Action.SHIPPED_FORWARD), schemas=xsd)
    assert error_of(conf)[0] == ET.UNSUPPORTED_ACTION_TYPE
    assert conf.action == "ShippedForward"


def test_unsupported_reason(xsd, world, sent):
    rid = attempt_of(sent)
    data = sam(rid, iso.Status.WILL_SUPPLY).replace(b">StatusChange<", b">Gossip<")
    _r, conf = post_in(data, schemas=xsd)
    assert error_of(conf)[0] == ET.UNSUPPORTED_REASON_FOR_MESSAGE_TYPE


def test_bad_values(xsd, world, sent):
    rid = attempt_of(sent)
    data = sam(rid, iso.Status.WILL_SUPPLY).replace(b">WillSupply<", b">WeCouldLoan<")
    _r, conf = post_in(data, schemas=xsd)
    assert error_of(conf)[0] == ET.UNRECOGNISED_DATA_VALUE
    assert fresh(sent).status == BS.SENT


def test_confirmation_echoes_and_answers_in_the_senders_version(xsd, world, sent):
    rid = attempt_of(sent)
    data = sam(rid, iso.Status.EXPECT_TO_SUPPLY, iso.ReasonForMessage.REQUEST_RESPONSE,
               version="2021")
    message = iso.parse(data)
    reply, conf = post_in(data, schemas=xsd)
    assert b'ill:version="2021-2"' in reply.body
    assert conf.reason_for_message == "RequestResponse"
    assert conf.confirmation_header.timestamp_received == message.body.header.timestamp
    assert conf.confirmation_header.requesting_agency_request_id == rid
    assert conf.is_ok, conf.error_data
    assert fresh(sent).status == BS.ACCEPTED
    post_in(request_msg("R-9"), schemas=xsd)
    _r, conf = post_in(ram("R-9", iso.Action.NOTIFICATION, note="hello"), schemas=xsd)
    assert conf.is_ok and conf.action == "Notification"


def test_a_status_that_does_not_fit_is_refused_changes_nothing_and_tells_staff(
        xsd, world, sent):
    # (Issue 11: a refused message is never forgotten; the request is flagged with why. A
    # LoanCompleted as the first answer is no longer refused: see the test after this.)
    rid = attempt_of(sent)
    _r, conf = post_in(sam(rid, iso.Status.RECALLED), schemas=xsd)
    kind, value = error_of(conf)
    assert kind == ET.UNRECOGNISED_DATA_VALUE
    _r, conf = post_in(sam(rid, iso.Status.LOANED, iso.ReasonForMessage.RENEW_RESPONSE,
                           answer="Y", due=stamp()), schemas=xsd)
    assert "RenewResponse" in error_of(conf)[1]
    _r, conf = post_in(sam(rid, iso.Status.OVERDUE), schemas=xsd)
    assert error_of(conf)[0] == ET.UNRECOGNISED_DATA_VALUE
    request = fresh(sent)
    assert request.status == BS.SENT and request.needs_attention
    assert "refused a message" in request.attention_reason and "Overdue" in request.attention_reason


def test_a_loan_completed_as_the_first_answer_is_taken_and_flagged(xsd, world, sent):
    _r, conf = post_in(sam(attempt_of(sent), iso.Status.LOAN_COMPLETED,
                           iso.ReasonForMessage.REQUEST_RESPONSE), schemas=xsd)
    assert conf.confirmation_header.message_status == "OK"
    request = fresh(sent)
    assert request.status == BS.SENT and request.needs_attention
    assert "closed the request (LoanCompleted)" in request.attention_reason
    assert request.history.filter(action="partner_message").exists()


def test_wrong_sender_for_an_existing_request(xsd, world, sent):
    other = f.partner(world.ota, code="HELKA", profile_type="iso18626", agency_id_value="FI-HELKA",
                      iso_endpoint_url="http://helka.test/iso")
    assert other.is_iso
    rid = attempt_of(sent)
    _r, conf = post_in(sam(rid, iso.Status.WILL_SUPPLY, supplier="FI-HELKA"), schemas=xsd)
    kind, value = error_of(conf)
    assert kind == ET.UNRECOGNISED_DATA_VALUE and "supplyingAgencyId" in value
    assert fresh(sent).status == BS.SENT


def test_a_replay_changes_nothing_and_gets_the_same_confirmation(xsd, world, sent):
    rid = attempt_of(sent)
    data = sam(rid, iso.Status.WILL_SUPPLY, iso.ReasonForMessage.REQUEST_RESPONSE)
    first, _c = post_in(data, schemas=xsd)
    after_first = fresh(sent)
    history = HistoryEntry.objects.filter(borrowing_request=sent).count()
    second, _c = post_in(data, schemas=xsd)
    assert second.body == first.body
    assert fresh(sent).version == after_first.version
    assert HistoryEntry.objects.filter(borrowing_request=sent).count() == history
    assert IsoMessage.objects.filter(direction="in", borrowing_request=sent).count() == 1


# --- authentication ---------------------------------------------------------------------------


@pytest.fixture
def guarded(world):
    partner = world.ota_at_kaisa
    partner.inbound_account_id = "ota"
    partner.set_inbound_security_code("s3cret")
    partner.set_inbound_token("tok-123")
    partner.save()
    return partner


def test_credentials_are_required_when_set(xsd, world, guarded):
    Auth = iso.RequestingAgencyAuthentication
    _r, conf = post_in(request_msg("A-1"), schemas=xsd)
    assert "requestingAgencyAuthentication" in error_of(conf)[1]
    _r, conf = post_in(request_msg("A-2", auth=Auth(account_id="ota", security_code="nope")),
                       schemas=xsd)
    assert conf.message_status == "ERROR"
    _r, conf = post_in(request_msg("A-3", auth=Auth(account_id="other",
                                                    security_code="s3cret")), schemas=xsd)
    assert conf.message_status == "ERROR"
    _r, conf = post_in(request_msg("A-4"), token="wrong", schemas=xsd)
    assert conf.message_status == "ERROR"
    assert not LendingRequest.objects.exists()
    _r, conf = post_in(request_msg("A-5", auth=Auth(account_id="ota", security_code="s3cret")),
                       schemas=xsd)
    assert conf.is_ok
    _r, conf = post_in(request_msg("A-6"), token="tok-123", schemas=xsd)
    assert conf.is_ok
    assert LendingRequest.objects.count() == 2


def test_bearer_token_through_the_view(client, world, guarded):
    data = request_msg("T-1")
    response = client.post("/iso18626", data, content_type="application/xml",
                           HTTP_AUTHORIZATION="Bearer tok-123")
    assert response.status_code == 200 and b"<ill:messageStatus>OK<" in response.content
    data = request_msg("T-2")
    response = client.post("/iso18626", data, content_type="application/xml")
    assert b"<ill:messageStatus>ERROR<" in response.content


# --- each supplying-agency message on the borrowing request --------------------------------------


def _to(state, br, w):
    """Drive a sent request to `state` by the partner's messages and staff steps."""
    rid = attempt_of(br)
    due = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=20)
    if state == BS.SENT:
        return br
    if state in (BS.WILL_SUPPLY, BS.CONDITIONAL):
        post_in(sam(rid, iso.Status.WILL_SUPPLY, iso.ReasonForMessage.REQUEST_RESPONSE,
                    conditions=["LibraryUseOnly"] if state == BS.CONDITIONAL else []))
        return fresh(br)
    post_in(sam(rid, iso.Status.LOANED, due=due, item_ids=["K-1"]))
    br = fresh(br)
    if state == BS.SHIPPED_PHYSICAL:
        return br
    br = bs.borrowing_request_receive(request=br, barcode="K-1", user=w.ota_staff)
    assert state == BS.RECEIVED
    return br


@pytest.mark.parametrize("start,message,expected", [
    (BS.SENT, dict(status="ExpectToSupply", reason="RequestResponse"), BS.ACCEPTED),
    (BS.SENT, dict(status="WillSupply", reason="RequestResponse"), BS.WILL_SUPPLY),
    (BS.SENT, dict(status="WillSupply", reason="RequestResponse",
                   conditions=["LibraryUseOnly"]), BS.CONDITIONAL),
    (BS.SENT, dict(status=None, reason="Notification",
                   note="Library use only. Please answer ACCEPT or REJECT"), BS.CONDITIONAL),
    (BS.SENT, dict(status="WillSupply", reason="Notification",
                   note="#ReShareAddLoanCondition# Library use only"), BS.CONDITIONAL),
    (BS.SENT, dict(status="Loaned", reason="RequestResponse", item_ids=["K-1"]),
     BS.SHIPPED_PHYSICAL),
    (BS.WILL_SUPPLY, dict(status="Loaned", item_ids=["K-1"]), BS.SHIPPED_PHYSICAL),
    (BS.SENT, dict(status="Unfilled", reason="RequestResponse", reason_unfilled="NotHeld"),
     BS.REJECTED),  # end of the rota: staff decide
    (BS.SENT, dict(status="Cancelled"), BS.CANCELLED_PARTNER),
    (BS.SENT, dict(status="RequestReceived", reason="RequestResponse"), BS.SENT),
    (BS.RECEIVED, dict(status="Overdue"), BS.RECEIVED),  # parked: flagged for staff
    (BS.RECEIVED, dict(status="Recalled"), BS.RECALLED),
    (BS.SENT, dict(status="RetryPossible", reason="RequestResponse"), BS.SENT),
])
def test_each_sam_moves_the_borrowing_request(xsd, world, sent, start, message, expected):
    br = _to(start, sent, world)
    assert br.status == start
    rid = attempt_of(br)
    kwargs = dict(message)
    status, reason = kwargs.pop("status"), kwargs.pop("reason", "StatusChange")
    _r, conf = post_in(sam(rid, status, reason, **kwargs), schemas=xsd)
    assert conf.is_ok, conf.error_data
    br = fresh(br)
    assert br.status == expected
    if status == "Overdue":
        assert br.needs_attention
    if status == "RetryPossible":
        assert br.needs_attention and "retry" in br.attention_reason
    if status == "Loaned":
        assert br.partner_item_barcode == "K-1"


def test_renew_cancel_and_completion_answers(xsd, world, sent):
    w = world
    rid = attempt_of(sent)
    br = _to(BS.RECEIVED, sent, w)
    br = loan_to_patron(br, w)
    br = bs.borrowing_request_request_renewal(request=BorrowingRequest.objects.get(pk=br.pk),
                                              user=w.ota_staff)
    assert br.status == BS.RENEW_REQUESTED
    # Within the 84 days ILL loans may run, so a second renewal may be asked.
    new_due_day = timezone.localdate() + datetime.timedelta(days=40)
    new_due = datetime.datetime.combine(new_due_day, datetime.time(23, 59), tzinfo=datetime.UTC)
    _r, conf = post_in(sam(rid, "Loaned", "RenewResponse", answer="Y", due=new_due),
                       schemas=xsd)
    assert conf.is_ok
    br = fresh(br)
    assert br.status == BS.RENEWED and br.partner_due_date == new_due_day
    br = bs.borrowing_request_request_renewal(request=br, user=w.ota_staff)
    _r, conf = post_in(sam(rid, "Loaned", "RenewResponse", answer="N"), schemas=xsd)
    assert fresh(br).status == BS.RENEWAL_REFUSED
    br = bs.borrowing_request_return_to_partner(request=fresh(br), user=w.ota_staff)
    _r, conf = post_in(sam(rid, "LoanCompleted"), schemas=xsd)
    assert conf.is_ok and fresh(br).status == BS.COMPLETED


def test_cancel_responses(xsd, world, wire, django_capture_on_commit_callbacks):
    w = world
    wire.answer = ok_answer
    results = []
    for answer in ("Y", "N"):
        with django_capture_on_commit_callbacks(execute=True):
            br = f.borrowing_request(w.ota, setup=w.ota_setup, patron_=w.patron,
                                     partners=[w.kaisa_at_ota])
            br = bs.borrowing_request_send(request=br, user=w.ota_staff)
        # (Once the partner has the request: before that a cancel is immediate.)
        with django_capture_on_commit_callbacks(execute=True):
            br = bs.borrowing_request_cancel(request=br, reason="Not needed", user=w.ota_staff)
        assert br.status == BS.WAITING_CANCEL
        assert iso.parse(wire.sent[-1][1]).body.action == "Cancel"
        _r, conf = post_in(sam(attempt_of(br), "Cancelled" if answer == "Y" else "WillSupply",
                               "CancelResponse", answer=answer), schemas=xsd)
        assert conf.is_ok
        results.append(fresh(br).status)
    assert results == [BS.CANCELLED_STAFF, BS.SENT]


def test_copy_completed_delivers_the_article(xsd, world, wire, django_capture_on_commit_callbacks):
    w = world
    wire.answer = ok_answer
    with django_capture_on_commit_callbacks(execute=True):
        br = f.borrowing_request(w.ota, setup=w.ota_setup, patron_=w.patron,
                                 request_type="article", partners=[w.kaisa_at_ota],
                                 citation={"title": "J. Doc.", "article_title": "On ILL"})
        br = bs.borrowing_request_send(request=br, user=w.ota_staff)
    request = iso.parse(wire.sent[-1][1]).body
    assert request.service_info.service_type == "Copy"
    _r, conf = post_in(sam(attempt_of(br), "CopyCompleted",
                           note="Here: https://kaisa.example/copy/1.pdf"), schemas=xsd)
    assert conf.is_ok
    br = fresh(br)
    assert br.status == BS.COMPLETED and br.digital_url == "https://kaisa.example/copy/1.pdf"


def test_a_late_answer_from_an_earlier_attempt_is_not_applied(
        xsd, world, wire, django_capture_on_commit_callbacks):
    w = world
    helka = f.partner(w.ota, code="HELKA", profile_type="iso18626", agency_id_value="FI-HELKA",
                      iso_endpoint_url="http://helka.test/iso")
    wire.answer = ok_answer
    with django_capture_on_commit_callbacks(execute=True):
        br = f.borrowing_request(w.ota, setup=w.ota_setup, patron_=w.patron,
                                 partners=[w.kaisa_at_ota, helka])
        br = bs.borrowing_request_send(request=br, user=w.ota_staff)
        first = attempt_of(br)
        _r, conf = post_in(sam(first, "Unfilled", "RequestResponse", reason_unfilled="NotHeld"),
                           schemas=xsd)
    assert conf.is_ok
    br = fresh(br)
    # Straight on to the next partner, under a new id.
    assert br.status == BS.SENT and br.partner == helka
    second = attempt_of(br, 2)
    assert iso.parse(wire.sent[-1][1]).body.header.requesting_agency_request_id == second
    # KAISA changes its mind and ships: recognised as the earlier attempt, not applied.
    _r, conf = post_in(sam(first, "Loaned", item_ids=["K-9"]), schemas=xsd)
    kind, value = error_of(conf)
    assert "earlier attempt" in value
    br = fresh(br)
    assert br.status == BS.SENT and br.partner_item_barcode == ""
    assert br.needs_attention
    # A harmless late notification is recorded, OK.
    _r, conf = post_in(sam(first, None, "Notification", note="sorry"), schemas=xsd)
    assert conf.is_ok
    # The new partner's answer applies.
    _r, conf = post_in(sam(second, "WillSupply", "RequestResponse", supplier="FI-HELKA"),
                       schemas=xsd)
    assert conf.is_ok and fresh(br).status == BS.WILL_SUPPLY
    assert timezone.now()


def test_a_requesting_agency_message_from_the_wrong_partner(xsd, world):
    f.partner(world.kaisa, code="HELKA", profile_type="iso18626", agency_id_value="FI-HELKA",
              iso_endpoint_url="http://helka.test/iso")
    post_in(request_msg("R-7"), schemas=xsd)
    _r, conf = post_in(ram("R-7", iso.Action.CANCEL, requester="FI-HELKA"), schemas=xsd)
    kind, value = error_of(conf)
    assert kind == ET.UNRECOGNISED_DATA_VALUE and "does not belong" in value
    assert not LendingRequest.objects.get().needs_attention


@pytest.mark.parametrize("start,status,flagged", [
    (BS.SENT, "Loaned", True),           # shipped, but it never came as a status change
    (BS.WILL_SUPPLY, "Unfilled", True),
    (BS.RECEIVED, "LoanCompleted", True),  # the item is still here
    (BS.SENT, "RequestReceived", False),  # what we know already
    (BS.SHIPPED_PHYSICAL, "Loaned", False),
    (BS.SENT, None, False),               # Alma's empty status: just a note
])
def test_a_notification_is_a_note_but_a_status_ahead_of_ours_is_shown_to_staff(
        xsd, world, sent, start, status, flagged):
    br = _to(start, sent, world)
    _r, conf = post_in(sam(attempt_of(br), status, "Notification", note="FYI"), schemas=xsd)
    assert conf.is_ok
    br = fresh(br)
    assert br.status == start  # a notification never moves the request
    assert br.history.filter(action="partner_message", note="FYI").exists()
    assert br.needs_attention is flagged
    if flagged:
        assert status in br.attention_reason


def test_a_copy_loaned_by_e_mail_without_a_link_waits_for_staff_to_deliver_the_copy(
        xsd, world, wire, django_capture_on_commit_callbacks):
    wire.answer = ok_answer
    with django_capture_on_commit_callbacks(execute=True):
        br = f.borrowing_request(world.ota, setup=world.ota_setup, patron_=world.patron,
                                 partners=[world.kaisa_at_ota], request_type="article",
                                 citation={"title": "Journal", "article_title": "An article"})
        br = bs.borrowing_request_send(request=br, user=world.ota_staff)
    # illmock, asked to deliver to our e-mail address: Loaned, sentVia Email, itemId 123456789.
    _r, conf = post_in(sam(attempt_of(br), iso.Status.LOANED,
                           iso.ReasonForMessage.REQUEST_RESPONSE, item_ids=["123456789"]),
                       schemas=xsd)
    assert conf.confirmation_header.message_status == "OK"
    br = fresh(br)
    assert br.status == BS.SHIPPED_DIGITAL and br.needs_attention
    assert "without a link" in br.attention_reason


def test_a_copy_completed_without_a_link_waits_for_staff_to_deliver_the_copy(
        xsd, world, wire, client, django_capture_on_commit_callbacks, mailoutbox):
    wire.answer = ok_answer
    with django_capture_on_commit_callbacks(execute=True):
        br = f.borrowing_request(world.ota, setup=world.ota_setup, patron_=world.patron,
                                 partners=[world.kaisa_at_ota], request_type="article",
                                 citation={"title": "Journal", "article_title": "An article"})
        br = bs.borrowing_request_send(request=br, user=world.ota_staff)
    # CrossLink's illmock sends CopyCompleted with no deliveryInfo at all.
    _r, conf = post_in(sam(attempt_of(br), iso.Status.COPY_COMPLETED,
                           iso.ReasonForMessage.REQUEST_RESPONSE), schemas=xsd)
    assert conf.confirmation_header.message_status == "OK"
    br = fresh(br)
    assert br.status == BS.SHIPPED_DIGITAL and br.needs_attention
    assert "without a link" in br.attention_reason

    client.force_login(world.ota_staff)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("ill:borrowing_action", args=[br.pk, "copy_arrived"]), {
            "copy_arrived-version": br.version,
            "copy_arrived-url": "https://kaisa.example.org/copies/1.pdf"})
    br = fresh(br)
    assert br.status == BS.COMPLETED and not br.needs_attention
    assert br.digital_url == "https://kaisa.example.org/copies/1.pdf"
    assert any("An article" in m.body or br.number in m.body for m in mailoutbox)


def _cancel(br, w, cb):
    with cb(execute=True):
        return bs.borrowing_request_cancel(request=fresh(br), reason="Not needed",
                                           user=w.ota_staff)


def test_cancelling_a_request_the_partner_refused_is_immediate(
        xsd, world, wire, django_capture_on_commit_callbacks):
    w = world

    def refuse(url, data):
        message = iso.parse(data)
        return iso_outbound.PostResult(200, iso.build(iso.confirmation_for(
            message, iso.MessageStatus.ERROR, ET.UNRECOGNISED_DATA_VALUE, "MOCK ERROR"),
            message.version))

    wire.answer = refuse
    with django_capture_on_commit_callbacks(execute=True):
        br = f.borrowing_request(w.ota, setup=w.ota_setup, patron_=w.patron,
                                 partners=[w.kaisa_at_ota])
        br = bs.borrowing_request_send(request=br, user=w.ota_staff)
    sent_before = len(wire.sent)
    br = _cancel(br, w, django_capture_on_commit_callbacks)
    assert br.status == BS.CANCELLED_STAFF  # no Cancel waits for an answer never coming
    assert len(wire.sent) == sent_before
    assert br.history.filter(note__contains="never took the request").exists()


def test_a_request_queued_behind_server_errors_is_withdrawn_when_cancelled(
        xsd, world, wire, django_capture_on_commit_callbacks):
    from ill.models import OutboxMessage

    w = world
    wire.answer = lambda url, data: iso_outbound.PostResult(500, b"")
    with django_capture_on_commit_callbacks(execute=True):
        br = f.borrowing_request(w.ota, setup=w.ota_setup, patron_=w.patron,
                                 partners=[w.kaisa_at_ota])
        br = bs.borrowing_request_send(request=br, user=w.ota_staff)
    br = _cancel(br, w, django_capture_on_commit_callbacks)
    assert br.status == BS.CANCELLED_STAFF
    row = OutboxMessage.objects.get(borrowing_request=br)
    assert row.state == OutboxMessage.State.WITHDRAWN
    wire.answer = ok_answer  # the partner is back: still nothing goes
    OutboxMessage.objects.update(next_attempt_at=timezone.now())
    tried = len(wire.sent)
    iso_outbound.sweep()
    assert len(wire.sent) == tried


def test_a_retry_is_offered_only_after_the_partner_offers_one(client, xsd, world, sent):
    client.force_login(world.ota_staff)

    def offered():
        page = client.get(reverse("ill:borrowing_detail", args=[sent.pk]))
        return "retry" in {a.name for a, _form in page.context["actions"]}

    post_in(sam(attempt_of(sent), iso.Status.OVERDUE), schemas=xsd)  # refused: flagged
    assert fresh(sent).needs_attention and not offered()
    with pytest.raises(DomainError, match="not offered a retry"):
        bs.borrowing_request_retry(request=fresh(sent), user=world.ota_staff)
    post_in(sam(attempt_of(sent), iso.Status.RETRY_POSSIBLE,
                iso.ReasonForMessage.REQUEST_RESPONSE), schemas=xsd)
    assert offered()


def test_a_lost_loan_is_told_to_the_partner_in_its_version(
        xsd, world, wire, django_capture_on_commit_callbacks):
    w = world
    wire.answer = ok_answer
    for version, action in (("2021", "Lost"), ("1.2", "Notification")):
        Partner.objects.filter(pk=w.kaisa_at_ota.pk).update(iso_version=version)
        with django_capture_on_commit_callbacks(execute=True):
            br = f.borrowing_request(w.ota, setup=w.ota_setup, patron_=w.patron,
                                     partners=[w.kaisa_at_ota])
            br = bs.borrowing_request_send(request=br, user=w.ota_staff)
        BorrowingRequest.objects.filter(pk=br.pk).update(status=BS.LOANED)
        with django_capture_on_commit_callbacks(execute=True):
            bs.borrowing_request_report(request=fresh(br), what="lost", user=w.ota_staff)
        last = wire.messages()[-1]
        assert last.action == action and "lost while with us" in last.note


def test_a_link_in_item_id_is_not_taken_for_the_partners_barcode(xsd, world, sent):
    _r, conf = post_in(sam(attempt_of(sent), iso.Status.LOANED,
                           iso.ReasonForMessage.REQUEST_RESPONSE, due=stamp(),
                           item_ids=["http://example.com/123456789"]), schemas=xsd)
    assert conf.confirmation_header.message_status == "OK"
    request = fresh(sent)
    assert request.status == BS.SHIPPED_PHYSICAL
    assert request.partner_item_barcode == ""  # before this, HTTP://EXAMPLE.COM/123456789


def test_cancelling_after_the_partner_closed_its_side_is_immediate_but_not_after_a_retry(
        xsd, world, wire, sent, django_capture_on_commit_callbacks):
    # illmock's COMPLETED scenario: LoanCompleted as the only answer, then it forgets us.
    post_in(sam(attempt_of(sent), iso.Status.LOAN_COMPLETED,
                iso.ReasonForMessage.REQUEST_RESPONSE), schemas=xsd)
    before = len(wire.sent)
    with django_capture_on_commit_callbacks(execute=True):
        br = bs.borrowing_request_cancel(request=fresh(sent), reason="Not needed",
                                         user=world.ota_staff)
    assert br.status == BS.CANCELLED_STAFF and len(wire.sent) == before  # no Cancel sent

    other = f.borrowing_request(world.ota, setup=world.ota_setup, patron_=world.patron,
                                partners=[world.kaisa_at_ota])
    with django_capture_on_commit_callbacks(execute=True):
        other = bs.borrowing_request_send(request=other, user=world.ota_staff)
    post_in(sam(attempt_of(other), iso.Status.RETRY_POSSIBLE,
                iso.ReasonForMessage.REQUEST_RESPONSE), schemas=xsd)
    with django_capture_on_commit_callbacks(execute=True):
        bs.borrowing_request_retry(request=fresh(other), user=world.ota_staff)
    # The partner took the retry: it is asked to cancel it.
    with django_capture_on_commit_callbacks(execute=True):
        other = bs.borrowing_request_cancel(request=fresh(other), reason="Not needed",
                                            user=world.ota_staff)
    assert other.status == BS.WAITING_CANCEL
    assert wire.messages()[-1].action == iso.Action.CANCEL
