"""parse(): leniency towards real peers, version detection, and its error decisions."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ill import iso18626 as iso

HEADER_12 = """
    <header>
      <supplyingAgencyId><agencyIdType>ISIL</agencyIdType><agencyIdValue>SUP</agencyIdValue></supplyingAgencyId>
      <requestingAgencyId><agencyIdType>ISIL</agencyIdType><agencyIdValue>REQ</agencyIdValue></requestingAgencyId>
      <multipleItemRequestId/>
      <timestamp>2025-03-14T09:26:53Z</timestamp>
      <requestingAgencyRequestId>REQ-1</requestingAgencyRequestId>
    </header>"""

HEADER_2021 = HEADER_12.replace("<multipleItemRequestId/>", "")


def message(body: str, version: str | None = "1.2", root_extra: str = "") -> bytes:
    attribute = f' ill:version="{version}"' if version is not None else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<ISO18626Message xmlns="http://illtransactions.org/2013/iso18626" '
        f'xmlns:ill="http://illtransactions.org/2013/iso18626"{attribute}{root_extra}>'
        f"{body}</ISO18626Message>"
    ).encode()


def sam(
    status: str = "<status>Loaned</status>",
    reason: str = "StatusChange",
    header: str = HEADER_12,
    extra: str = "",
    last_change: str = "2025-03-14T09:00:00Z",
) -> str:
    return (
        f"<supplyingAgencyMessage>{header}"
        f"<messageInfo><reasonForMessage>{reason}</reasonForMessage></messageInfo>"
        f"<statusInfo>{status}<lastChange>{last_change}</lastChange></statusInfo>"
        f"{extra}</supplyingAgencyMessage>"
    )


def ram(action: str = "Received", header: str = HEADER_12, extra: str = "") -> str:
    body = f"{header}<action>{action}</action>{extra}"
    return f"<requestingAgencyMessage>{body}</requestingAgencyMessage>"


def raises(data: bytes, **kwargs) -> iso.Iso18626Error:
    with pytest.raises(iso.Iso18626Error) as caught:
        iso.parse(data, **kwargs)
    return caught.value


# --- leniency -------------------------------------------------------------------------


def test_alma_s_empty_status_in_a_notification_is_read_as_no_status_change():
    parsed = iso.parse(message(sam(status="<status></status>", reason="Notification")))

    assert parsed.body.status_info.status is None
    assert any("no status change" in w for w in parsed.warnings)


def test_a_missing_status_is_read_as_no_status_change_too():
    parsed = iso.parse(message(sam(status="", reason="Notification")))

    assert parsed.body.status_info.status is None


def test_go_s_zero_date_means_no_date():
    data = message(
        sam(
            status="<status>Loaned</status><dueDate>0001-01-01T00:00:00Z</dueDate>",
            last_change="0001-01-01T00:00:00Z",
        )
    )

    status_info = iso.parse(data).body.status_info

    assert status_info.due_date is None
    assert status_info.last_change is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2025-03-14T09:26:53Z", datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)),
        ("2025-03-14T11:26:53+02:00", datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)),
        ("2025-03-14T09:26:53.62959771Z", datetime(2025, 3, 14, 9, 26, 53, 629597, tzinfo=UTC)),
        ("2025-03-14T09:26:53.0Z", datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)),
        ("2025-03-14T09:26", datetime(2025, 3, 14, 9, 26, tzinfo=UTC)),
        ("2025-03-14", datetime(2025, 3, 14, tzinfo=UTC)),
        (" 2025-03-14 09:26:53z ", datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)),
    ],
)
def test_dates_are_read_leniently_and_normalised_to_utc(text, expected):
    parsed = iso.parse(message(sam(last_change=text)))

    assert parsed.body.status_info.last_change == expected


def test_a_date_without_a_time_zone_is_taken_as_utc_with_a_warning():
    parsed = iso.parse(message(sam(last_change="2025-03-14T09:26:53")))

    assert parsed.body.status_info.last_change == datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)
    assert any("UTC assumed" in w for w in parsed.warnings)


def test_elements_in_the_other_versions_order_are_read():
    shuffled_header = """
      <header>
        <requestingAgencyRequestId>REQ-1</requestingAgencyRequestId>
        <timestamp>2025-03-14T09:26:53Z</timestamp>
        <requestingAgencyId><agencyIdValue>REQ</agencyIdValue><agencyIdType>ISIL</agencyIdType></requestingAgencyId>
        <supplyingAgencyId><agencyIdType>ISIL</agencyIdType><agencyIdValue>SUP</agencyIdValue></supplyingAgencyId>
      </header>"""
    body = (
        "<requestingAgencyMessage><note>hi</note><action>Renew</action>"
        f"{shuffled_header}</requestingAgencyMessage>"
    )

    parsed = iso.parse(message(body))

    assert parsed.body.action is iso.Action.RENEW
    assert parsed.body.note == "hi"
    assert parsed.body.header.requesting_agency_id == iso.AgencyId("ISIL", "REQ")


def test_unknown_elements_are_ignored_with_a_warning():
    parsed = iso.parse(
        message(ram(extra="<shoeSize>44</shoeSize><x:ext xmlns:x='urn:x'>1</x:ext>"))
    )

    assert parsed.body.action is iso.Action.RECEIVED
    assert any("shoeSize" in w for w in parsed.warnings)
    assert any("urn:x" in w for w in parsed.warnings)


def test_a_duplicated_single_element_uses_the_first_with_a_warning():
    parsed = iso.parse(message(ram(extra="<note>first</note><note>second</note>")))

    assert parsed.body.note == "first"
    assert any("appears 2 times" in w for w in parsed.warnings)


def test_unknown_open_code_values_are_accepted_as_they_are():
    extra = (
        "<deliveryInfo><dateSent>2025-03-14T09:00:00Z</dateSent>"
        "<sentVia ill:scheme='urn:kauko'>Kyyditys</sentVia>"
        "<loanCondition>ReadingRoomOnlyOnTuesdays</loanCondition></deliveryInfo>"
    )
    parsed = iso.parse(message(sam(extra=extra)))

    delivery = parsed.body.delivery_info
    assert delivery.delivery_method == iso.SchemeValue("Kyyditys", "urn:kauko")
    assert delivery.loan_conditions == [iso.SchemeValue("ReadingRoomOnlyOnTuesdays")]
    assert parsed.warnings == []


def test_closed_codes_are_matched_case_insensitively_with_a_warning():
    parsed = iso.parse(message(sam(status="<status>loaned</status>", reason="statuschange")))

    assert parsed.body.status_info.status is iso.Status.LOANED
    assert parsed.body.message_info.reason_for_message is iso.ReasonForMessage.STATUS_CHANGE
    assert any("'loaned' read as 'Loaned'" in w for w in parsed.warnings)


def test_an_optional_structure_missing_its_own_required_part_is_dropped():
    extra = (
        "<deliveryInfo><dateSent>2025-03-14T09:00:00Z</dateSent>"
        "<deliveryCosts><monetaryValue>5</monetaryValue></deliveryCosts></deliveryInfo>"
    )
    parsed = iso.parse(message(sam(extra=extra)))

    assert parsed.body.delivery_info.delivery_costs == []
    assert any("deliveryCosts: ignored" in w for w in parsed.warnings)


def test_unqualified_version_and_scheme_attributes_are_accepted():
    data = (
        b'<ISO18626Message xmlns="http://illtransactions.org/2013/iso18626" version="1.2">'
        + ram(header=HEADER_12.replace("<agencyIdType>", '<agencyIdType scheme="urn:s">')).encode()
        + b"</ISO18626Message>"
    )

    parsed = iso.parse(data)

    assert parsed.declared_version == "1.2"
    assert parsed.body.header.supplying_agency_id.type == iso.SchemeValue("ISIL", "urn:s")


def test_a_string_input_is_accepted():
    assert iso.parse(message(ram()).decode()).body.action is iso.Action.RECEIVED


# --- version detection ----------------------------------------------------------------


@pytest.mark.parametrize(
    "label, header, expected",
    [
        ("1.2", HEADER_12, "1.2"),
        ("v1_2_2017", HEADER_12, "1.2"),
        ("1.0", HEADER_2021, "1.2"),  # 2014-era message: answered in v1.2
        ("2021-2", HEADER_2021, "2021"),
        ("2021-3", HEADER_2021, "2021"),  # Koha's label; no such XSD is public
        (None, HEADER_12, "1.2"),
        (None, HEADER_2021, "2021"),  # a RAM header without multipleItemRequestId
        ("2021-2", HEADER_12, "1.2"),  # structure beats the label
        ("gibberish", HEADER_12, "1.2"),
    ],
)
def test_the_version_is_detected_from_the_structure_before_the_label(label, header, expected):
    parsed = iso.parse(message(ram(header=header), version=label))

    assert parsed.version == expected
    assert parsed.declared_version == label


def test_a_label_contradicted_by_the_structure_is_reported():
    parsed = iso.parse(message(ram(header=HEADER_12), version="2021-2"))

    assert any("declared version '2021-2' but the structure is 1.2" in w for w in parsed.warnings)


@pytest.mark.parametrize(
    "body",
    [
        ram(action="Lost", header=HEADER_2021),
        sam(status="<status>HoldReturn</status>", header=HEADER_2021),
        sam(
            header=HEADER_2021,
            extra="<retryInfo><retryAfter>2025-04-01T00:00:00Z</retryAfter></retryInfo>",
        ),
        sam(header=HEADER_2021, extra="<shippingInfo><trackingId>JJ1</trackingId></shippingInfo>"),
        sam(
            header=HEADER_2021,
            extra="<deliveryInfo><dateSent>2025-03-14T09:00:00Z</dateSent><URL>u</URL></deliveryInfo>",
        ),
    ],
)
def test_2021_only_elements_and_values_reveal_a_2021_message(body):
    # Declared "1.2", so the structure alone makes it 2021.
    assert iso.parse(message(body, version="1.2")).version is iso.Version.V2021


def test_v1_2_retry_fields_in_message_info_reveal_v1_2_and_land_in_retry_info():
    body = sam(header=HEADER_2021, reason="RequestResponse").replace(
        "</reasonForMessage>",
        "</reasonForMessage><offeredCosts><currencyCode>EUR</currencyCode>"
        "<monetaryValue>12.5</monetaryValue></offeredCosts>"
        "<retryAfter>2025-04-01T00:00:00Z</retryAfter>",
    )

    parsed = iso.parse(message(body, version=None))

    assert parsed.version is iso.Version.V1_2
    assert parsed.body.retry_info.offered_costs[0].monetary_value == 12.5
    assert parsed.body.retry_info.retry_after == datetime(2025, 4, 1, tzinfo=UTC)


# --- errors ---------------------------------------------------------------------------


def test_an_unknown_action_is_an_unsupported_action_type():
    exc = raises(message(ram(action="Teleport")))

    assert exc.error_type is iso.ErrorType.UNSUPPORTED_ACTION_TYPE
    assert "'Teleport'" in exc.error_value and "action" in exc.error_value
    assert exc.action == "Teleport"


def test_an_empty_action_is_an_unsupported_action_type():
    assert raises(message(ram(action=""))).error_type is iso.ErrorType.UNSUPPORTED_ACTION_TYPE


def test_an_unknown_reason_for_message_is_an_unsupported_reason_for_message_type():
    exc = raises(message(sam(reason="JustSaying")))

    assert exc.error_type is iso.ErrorType.UNSUPPORTED_REASON_FOR_MESSAGE_TYPE
    assert "reasonForMessage" in exc.error_value and "'JustSaying'" in exc.error_value
    assert exc.reason_for_message == "JustSaying"
    assert exc.kind is iso.MessageKind.SUPPLYING_AGENCY_MESSAGE


def test_an_unknown_status_is_an_unrecognised_data_value():
    exc = raises(message(sam(status="<status>Teleported</status>")))

    assert exc.error_type is iso.ErrorType.UNRECOGNISED_DATA_VALUE
    assert "statusInfo/status" in exc.error_value and "'Teleported'" in exc.error_value
    assert exc.message.body.status_info.status == "Teleported"


def test_an_unsupported_action_is_reported_before_other_value_problems():
    exc = raises(
        message(
            ram(action="Teleport", extra="<note>x</note>").replace(
                "2025-03-14T09:26:53Z", "yesterday"
            )
        )
    )

    assert exc.error_type is iso.ErrorType.UNSUPPORTED_ACTION_TYPE
    assert "(and 1 more problem)" in exc.error_value


@pytest.mark.parametrize(
    "bad, element",
    [
        ("<dueDate>31.12.2025</dueDate>", "statusInfo/dueDate"),
        ("<dueDate>2025-02-30T00:00:00Z</dueDate>", "statusInfo/dueDate"),
        ("<dueDate>9999-12-31T23:59:59-01:00</dueDate>", "statusInfo/dueDate"),
    ],
)
def test_a_malformed_date_is_an_unrecognised_data_value_naming_the_element(bad, element):
    exc = raises(message(sam(status=f"<status>Loaned</status>{bad}")))

    assert exc.error_type is iso.ErrorType.UNRECOGNISED_DATA_VALUE
    assert element in exc.error_value


@pytest.mark.parametrize("amount", ["12,50", "NaN", "Infinity", "1E+999999", "lots"])
def test_a_malformed_amount_is_an_unrecognised_data_value(amount):
    extra = (
        "<deliveryInfo><dateSent>2025-03-14T09:00:00Z</dateSent><deliveryCosts>"
        f"<currencyCode>EUR</currencyCode><monetaryValue>{amount}</monetaryValue>"
        "</deliveryCosts></deliveryInfo>"
    )
    exc = raises(message(sam(extra=extra)))

    assert exc.error_type is iso.ErrorType.UNRECOGNISED_DATA_VALUE
    assert "deliveryCosts/monetaryValue" in exc.error_value


def test_an_empty_request_id_is_an_unrecognised_data_value():
    exc = raises(message(ram(header=HEADER_12.replace("REQ-1", ""))))

    assert exc.error_type is iso.ErrorType.UNRECOGNISED_DATA_VALUE
    assert "requestingAgencyRequestId is empty" in exc.error_value


def test_a_missing_header_is_a_badly_formed_message():
    exc = raises(
        message("<requestingAgencyMessage><action>Renew</action></requestingAgencyMessage>")
    )

    assert exc.error_type is iso.ErrorType.BADLY_FORMED_MESSAGE
    assert "requestingAgencyMessage/header is missing" in exc.error_value
    assert exc.action == "Renew"


def test_a_missing_request_id_is_badly_formed_but_keeps_the_rest_of_the_header():
    exc = raises(
        message(
            ram(
                header=HEADER_12.replace(
                    "<requestingAgencyRequestId>REQ-1</requestingAgencyRequestId>", ""
                )
            )
        )
    )

    assert exc.error_type is iso.ErrorType.BADLY_FORMED_MESSAGE
    assert "header/requestingAgencyRequestId" in exc.error_value
    assert exc.header.supplying_agency_id == iso.AgencyId("ISIL", "SUP")
    assert exc.header.timestamp == datetime(2025, 3, 14, 9, 26, 53, tzinfo=UTC)


def test_a_missing_reason_for_message_is_a_badly_formed_message():
    body = sam().replace("<reasonForMessage>StatusChange</reasonForMessage>", "")

    assert raises(message(body)).error_type is iso.ErrorType.BADLY_FORMED_MESSAGE


def test_an_unknown_message_kind_is_an_unrecognised_data_element():
    exc = raises(message("<interlibraryHug/>"))

    assert exc.error_type is iso.ErrorType.UNRECOGNISED_DATA_ELEMENT
    assert "interlibraryHug" in exc.error_value


def test_two_messages_in_one_document_are_badly_formed():
    exc = raises(message(ram() + ram()))

    assert exc.error_type is iso.ErrorType.BADLY_FORMED_MESSAGE
    assert "more than one" in exc.error_value


@pytest.mark.parametrize(
    "data, words",
    [
        (b"", "not well-formed"),
        (b"Hello, library!", "not well-formed"),
        (b"<ISO18626Message><request/>", "not well-formed"),
        (b"<ISO18626Message/>", "namespace"),
        (b'<ISO18626Message xmlns="urn:wrong"/>', "namespace"),
        (b'<x:request xmlns:x="http://illtransactions.org/2013/iso18626"/>', "root element"),
        (b"\xff\xfe\x00\x00garbage", "not well-formed"),
    ],
)
def test_anything_that_is_not_an_iso18626_document_is_badly_formed(data, words):
    exc = raises(data)

    assert exc.error_type is iso.ErrorType.BADLY_FORMED_MESSAGE
    assert words in exc.error_value
    assert exc.kind is None


def test_a_value_problem_is_only_a_warning_when_not_strict():
    parsed = iso.parse(message(ram(action="Teleport")), strict=False)

    assert parsed.body.action == "Teleport"
    assert any("'Teleport'" in w for w in parsed.warnings)


def test_the_error_reads_as_type_and_value():
    exc = raises(message(ram(action="Teleport")))

    assert str(exc).startswith("UnsupportedActionType: requestingAgencyMessage/action:")
    assert "UnsupportedActionType" in repr(exc)
