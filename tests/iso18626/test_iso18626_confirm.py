"""confirmation_for / error_confirmation_for: the synchronous answer to every message."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ill import iso18626 as iso

NOW = datetime(2025, 3, 14, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "kind, confirmation_class",
    [
        (iso.MessageKind.REQUEST, iso.RequestConfirmation),
        (iso.MessageKind.SUPPLYING_AGENCY_MESSAGE, iso.SupplyingAgencyMessageConfirmation),
        (iso.MessageKind.REQUESTING_AGENCY_MESSAGE, iso.RequestingAgencyMessageConfirmation),
    ],
)
def test_each_message_is_answered_by_its_own_confirmation(
    portable, assert_valid, kind, confirmation_class
):
    message = iso.parse(iso.build(portable[kind], "1.2"))

    confirmation = iso.confirmation_for(message, timestamp=NOW)

    assert type(confirmation) is confirmation_class
    assert confirmation.is_ok and confirmation.error_data == []
    header = confirmation.confirmation_header
    sent = message.body.header
    # The same ids as in the message, not swapped.
    assert header.supplying_agency_id == sent.supplying_agency_id
    assert header.requesting_agency_id == sent.requesting_agency_id
    assert header.requesting_agency_request_id == sent.requesting_agency_request_id
    assert header.timestamp_received == sent.timestamp
    assert header.timestamp == NOW
    for version in ("1.2", "2021"):
        assert_valid(iso.build(confirmation, version), version)


def test_a_requesting_agency_message_confirmation_echoes_the_action(portable):
    confirmation = iso.confirmation_for(portable[iso.MessageKind.REQUESTING_AGENCY_MESSAGE])

    assert confirmation.action is iso.Action.RENEW


def test_a_supplying_agency_message_confirmation_echoes_the_reason_for_message(portable):
    confirmation = iso.confirmation_for(portable[iso.MessageKind.SUPPLYING_AGENCY_MESSAGE])

    assert confirmation.reason_for_message is iso.ReasonForMessage.STATUS_CHANGE


def test_an_error_confirmation_carries_the_error(portable, assert_valid):
    confirmation = iso.confirmation_for(
        portable[iso.MessageKind.REQUEST],
        "ERROR",
        iso.ErrorType.UNRECOGNISED_DATA_VALUE,
        "requestingAgencyRequestId: already exists",
    )

    assert confirmation.message_status is iso.MessageStatus.ERROR
    assert confirmation.error_data == [
        iso.ErrorData(
            error_type=iso.ErrorType.UNRECOGNISED_DATA_VALUE,
            error_value="requestingAgencyRequestId: already exists",
        )
    ]
    assert_valid(iso.build(confirmation, "2021"), "2021")


def test_the_default_timestamp_is_now_in_utc_to_the_millisecond(portable):
    before = datetime.now(UTC)
    header = iso.confirmation_for(portable[iso.MessageKind.REQUEST]).confirmation_header

    assert header.timestamp.tzinfo is UTC
    assert header.timestamp.microsecond % 1000 == 0
    assert abs((header.timestamp - before).total_seconds()) < 5


def test_the_v1_2_multiple_item_request_id_is_echoed(samples):
    message = iso.parse(samples["oclc-circill-toolkit/RequestSample1.xml"])

    confirmation = iso.confirmation_for(message)

    assert confirmation.confirmation_header.multiple_item_request_id == "What is this?"
    assert b"<ill:multipleItemRequestId>What is this?<" in iso.build(confirmation, "1.2")
    assert b"multipleItemRequestId" not in iso.build(confirmation, "2021")


def test_an_error_confirmation_needs_an_error_type(portable):
    with pytest.raises(ValueError, match="error_type"):
        iso.confirmation_for(portable[iso.MessageKind.REQUEST], "ERROR")


def test_a_confirmation_is_not_itself_confirmed(portable):
    with pytest.raises(ValueError, match="not itself confirmed"):
        iso.confirmation_for(portable[iso.MessageKind.REQUEST_CONFIRMATION])


def test_the_invalid_action_sample_gets_an_error_confirmation_echoing_its_header(
    samples, assert_valid
):
    with pytest.raises(iso.Iso18626Error) as caught:
        iso.parse(samples["crosslink/reqmsg-invalid-action.xml"])

    confirmation = iso.error_confirmation_for(caught.value, timestamp=NOW)

    assert isinstance(confirmation, iso.RequestingAgencyMessageConfirmation)
    assert confirmation.message_status is iso.MessageStatus.ERROR
    assert confirmation.error_data[0].error_type is iso.ErrorType.UNSUPPORTED_ACTION_TYPE
    assert "WeCancelThisMessage" in confirmation.error_data[0].error_value
    assert confirmation.action is None  # an unknown action cannot be echoed validly
    header = confirmation.confirmation_header
    assert header.supplying_agency_id == iso.AgencyId("ISIL", "SLNP_TWO_A")
    assert header.requesting_agency_id == iso.AgencyId("ISIL", "SLNP_ONE")
    assert header.requesting_agency_request_id == "reqid"
    assert header.timestamp_received == datetime(2024, 12, 12, 20, 12, 0, 629597, tzinfo=UTC)
    built = iso.build(confirmation, caught.value.version)
    # Echoed byte for byte, nanoseconds included.
    assert b"<ill:timestampReceived>2024-12-12T20:12:00.62959771Z<" in built
    assert_valid(built, "1.2")


def test_the_invalid_status_sample_gets_an_error_confirmation_echoing_its_reason(
    samples, assert_valid
):
    with pytest.raises(iso.Iso18626Error) as caught:
        iso.parse(samples["crosslink/supmsg-invalid-status.xml"])

    confirmation = iso.error_confirmation_for(caught.value)

    assert isinstance(confirmation, iso.SupplyingAgencyMessageConfirmation)
    assert confirmation.reason_for_message is iso.ReasonForMessage.STATUS_CHANGE
    assert confirmation.error_data[0].error_type is iso.ErrorType.UNRECOGNISED_DATA_VALUE
    assert_valid(iso.build(confirmation, "1.2"), "1.2")


def test_a_structurally_broken_message_is_confirmed_from_its_partial_header(assert_valid):
    data = b"""<ill:ISO18626Message xmlns:ill="http://illtransactions.org/2013/iso18626"
        ill:version="2021-2"><ill:supplyingAgencyMessage><ill:header>
        <ill:supplyingAgencyId><ill:agencyIdType>ISIL</ill:agencyIdType>
          <ill:agencyIdValue>SUP</ill:agencyIdValue></ill:supplyingAgencyId>
        <ill:requestingAgencyId><ill:agencyIdType>ISIL</ill:agencyIdType>
          <ill:agencyIdValue>REQ</ill:agencyIdValue></ill:requestingAgencyId>
        <ill:requestingAgencyRequestId>R-9</ill:requestingAgencyRequestId>
        </ill:header><ill:messageInfo><ill:reasonForMessage>RenewResponse</ill:reasonForMessage>
        </ill:messageInfo></ill:supplyingAgencyMessage></ill:ISO18626Message>"""
    with pytest.raises(iso.Iso18626Error) as caught:
        iso.parse(data)
    exc = caught.value
    assert exc.error_type is iso.ErrorType.BADLY_FORMED_MESSAGE
    assert "header/timestamp" in exc.error_value

    confirmation = iso.error_confirmation_for(exc, timestamp=NOW)
    built = iso.build(confirmation, exc.version)

    assert exc.version is iso.Version.V2021
    assert confirmation.reason_for_message is iso.ReasonForMessage.RENEW_RESPONSE
    assert confirmation.confirmation_header.requesting_agency_request_id == "R-9"
    assert confirmation.confirmation_header.timestamp_received is None
    assert b"<ill:timestampReceived>0001-01-01T00:00:00Z</ill:timestampReceived>" in built
    assert_valid(built, "2021")


def test_a_go_zero_timestamp_is_echoed_back_as_the_zero_date(assert_valid):
    data = b"""<ISO18626Message xmlns="http://illtransactions.org/2013/iso18626"
        xmlns:ill="http://illtransactions.org/2013/iso18626" ill:version="1.2">
        <requestingAgencyMessage><header>
        <supplyingAgencyId><agencyIdType>ISIL</agencyIdType><agencyIdValue>S</agencyIdValue></supplyingAgencyId>
        <requestingAgencyId><agencyIdType>ISIL</agencyIdType><agencyIdValue>R</agencyIdValue></requestingAgencyId>
        <multipleItemRequestId/><timestamp>0001-01-01T00:00:00Z</timestamp>
        <requestingAgencyRequestId>R-1</requestingAgencyRequestId></header>
        <action>StatusRequest</action></requestingAgencyMessage></ISO18626Message>"""
    message = iso.parse(data)
    assert message.body.header.timestamp is None

    built = iso.build(iso.confirmation_for(message, timestamp=NOW), message.version)

    assert b"<ill:timestampReceived>0001-01-01T00:00:00Z</ill:timestampReceived>" in built
    assert_valid(built, "1.2")


@pytest.mark.parametrize(
    "data",
    [
        b"not xml at all",
        b'<ISO18626Message xmlns="http://illtransactions.org/2013/iso18626"/>',
        b'<ISO18626Message xmlns="http://illtransactions.org/2013/iso18626">'
        b"<requestConfirmation/></ISO18626Message>",
    ],
)
def test_there_is_no_error_confirmation_when_there_is_no_message_to_confirm(data):
    with pytest.raises(iso.Iso18626Error) as caught:
        iso.parse(data)

    assert iso.error_confirmation_for(caught.value) is None


@pytest.mark.parametrize(
    "sent, echoed",
    [
        ("2025-03-14T11:26:53.123456789+02:00", "2025-03-14T11:26:53.123456789+02:00"),
        ("2025-03-14T09:26:53Z", "2025-03-14T09:26:53Z"),
        # Not xs:dateTime, though parse() read it: echoed in the normal form instead.
        ("2025-03-14 09:26:53", "2025-03-14T09:26:53Z"),
    ],
)
def test_the_timestamp_received_echoes_the_timestamp_as_it_was_sent(
    portable, assert_valid, sent, echoed
):
    data = iso.build(portable[iso.MessageKind.REQUESTING_AGENCY_MESSAGE], "1.2")
    data = data.replace(b"2025-03-14T09:26:53.589Z", sent.encode())
    confirmation = iso.confirmation_for(iso.parse(data), timestamp=NOW)

    built = iso.build(confirmation, "1.2")

    assert f"<ill:timestampReceived>{echoed}</ill:timestampReceived>".encode() in built
    assert_valid(built, "1.2")


def test_a_changed_timestamp_received_is_not_overridden_by_the_text_as_sent(portable):
    data = iso.build(portable[iso.MessageKind.REQUEST], "1.2")
    confirmation = iso.confirmation_for(iso.parse(data), timestamp=NOW)
    confirmation.confirmation_header.timestamp_received = NOW

    assert b"<ill:timestampReceived>2025-03-14T10:00:00Z<" in iso.build(confirmation, "1.2")
