"""build(): strictly one version, valid against that version's XSD, with documented mapping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from lxml import etree

from ill import iso18626 as iso

NS = {"ill": iso.NAMESPACE}
KINDS = list(iso.MessageKind)
VERSIONS = [iso.Version.V1_2, iso.Version.V2021]


def _xml(data: bytes) -> etree._Element:
    return etree.fromstring(data)


def _texts(data: bytes, xpath: str) -> list[str]:
    return [e.text or "" for e in _xml(data).xpath(xpath, namespaces=NS)]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("version", VERSIONS)
def test_every_richly_populated_message_kind_validates_against_its_versions_schema(
    assert_valid, full, portable, kind, version
):
    assert_valid(iso.build(full[kind], version), version)
    assert_valid(iso.build(portable[kind], version), version)


@pytest.mark.parametrize("version", VERSIONS)
def test_minimal_messages_of_every_kind_validate_too(assert_valid, version):
    header = iso.Header(
        supplying_agency_id=iso.AgencyId("ISIL", "S"),
        requesting_agency_id=iso.AgencyId("ISIL", "R"),
        requesting_agency_request_id="1",
        timestamp=datetime(2025, 1, 1, tzinfo=UTC),
    )
    confirmation_header = iso.ConfirmationHeader(
        timestamp=datetime(2025, 1, 1, tzinfo=UTC), message_status="OK"
    )
    messages = [
        iso.Request(header=header, service_info=iso.ServiceInfo(service_type="Loan")),
        iso.SupplyingAgencyMessage(
            header=header,
            message_info=iso.MessageInfo(reason_for_message="Notification"),
            status_info=iso.StatusInfo(
                status="WillSupply", last_change=datetime(2025, 1, 1, tzinfo=UTC)
            ),
        ),
        iso.RequestingAgencyMessage(header=header, action="Received"),
        iso.RequestConfirmation(confirmation_header=confirmation_header),
        iso.SupplyingAgencyMessageConfirmation(confirmation_header=confirmation_header),
        iso.RequestingAgencyMessageConfirmation(confirmation_header=confirmation_header),
    ]
    for message in messages:
        assert_valid(iso.build(message, version), version)


def test_a_2021_request_may_leave_the_supplier_out(assert_valid, portable):
    request = portable[iso.MessageKind.REQUEST]
    request.header.supplying_agency_id = None

    assert_valid(iso.build(request, "2021"), "2021")
    with pytest.raises(iso.BuildError, match="supplyingAgencyId is required"):
        iso.build(request, "1.2")


@pytest.mark.parametrize(
    "version, label", [(iso.Version.V1_2, "1.2"), (iso.Version.V2021, "2021-2")]
)
def test_the_root_has_the_ill_prefix_and_a_qualified_version_attribute(portable, version, label):
    data = iso.build(portable[iso.MessageKind.REQUEST], version)

    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<ill:ISO18626Message ')
    root = _xml(data)
    assert root.nsmap == {"ill": iso.NAMESPACE}
    assert root.get(f"{{{iso.NAMESPACE}}}version") == label
    assert root.get("version") is None
    assert b' ill:scheme="urn:isbn"' in data  # scheme attributes are qualified too


@pytest.mark.parametrize(
    "kind",
    [
        iso.MessageKind.REQUEST,
        iso.MessageKind.SUPPLYING_AGENCY_MESSAGE,
        iso.MessageKind.REQUESTING_AGENCY_MESSAGE,
    ],
)
def test_v1_2_headers_always_carry_a_multiple_item_request_id(portable, kind):
    data = iso.build(portable[kind], "1.2")

    assert _texts(data, "//ill:header/ill:multipleItemRequestId") == [""]


@pytest.mark.parametrize(
    "kind", [iso.MessageKind.SUPPLYING_AGENCY_MESSAGE, iso.MessageKind.REQUESTING_AGENCY_MESSAGE]
)
def test_2021_forbids_multiple_item_request_id_outside_the_request(portable, kind):
    message = portable[kind]
    message.header.multiple_item_request_id = "MULTI-1"

    assert _texts(iso.build(message, "2021"), "//ill:multipleItemRequestId") == []
    assert _texts(iso.build(message, "1.2"), "//ill:multipleItemRequestId") == ["MULTI-1"]


def test_a_2021_request_keeps_its_multiple_item_request_id_only_when_it_has_one(portable):
    request = portable[iso.MessageKind.REQUEST]
    assert _texts(iso.build(request, "2021"), "//ill:multipleItemRequestId") == []

    request.header.multiple_item_request_id = "MULTI-1"
    assert _texts(iso.build(request, "2021"), "//ill:multipleItemRequestId") == ["MULTI-1"]


def test_bibliographic_item_id_children_follow_each_versions_order(portable):
    request = portable[iso.MessageKind.REQUEST]

    def child_names(version: str) -> list[str]:
        item = _xml(iso.build(request, version)).find(".//ill:bibliographicItemId", NS)
        return [etree.QName(child).localname for child in item]

    assert child_names("1.2") == ["bibliographicItemIdentifier", "bibliographicItemIdentifierCode"]
    assert child_names("2021") == ["bibliographicItemIdentifierCode", "bibliographicItemIdentifier"]


def test_renamed_elements_get_each_versions_name(portable):
    request = portable[iso.MessageKind.REQUEST]
    sam = portable[iso.MessageKind.SUPPLYING_AGENCY_MESSAGE]

    v12 = iso.build(request, "1.2") + iso.build(sam, "1.2")
    v2021 = iso.build(request, "2021") + iso.build(sam, "2021")

    for old in (b"<ill:preferredFormat>", b"<ill:sentVia>", b"<ill:deliveredFormat>"):
        assert old in v12 and old not in v2021
    for new in (b"<ill:itemFormat>", b"<ill:deliveryMethod>"):
        assert new in v2021 and new not in v12


def test_retry_details_sit_in_message_info_for_v1_2_and_in_retry_info_for_2021(portable):
    sam = portable[iso.MessageKind.SUPPLYING_AGENCY_MESSAGE]

    v12 = iso.build(sam, "1.2")
    v2021 = iso.build(sam, "2021")

    assert _texts(v12, "//ill:messageInfo/ill:offeredCosts/ill:monetaryValue") == ["20.50"]
    assert _texts(v12, "//ill:messageInfo/ill:retryAfter") == ["2025-03-18T12:00:00Z"]
    assert _texts(v12, "//ill:retryInfo") == []
    assert _texts(v2021, "//ill:retryInfo/ill:offeredCosts/ill:monetaryValue") == ["20.50"]
    assert _texts(v2021, "//ill:retryInfo/ill:retryBefore") == ["2025-03-25T12:00:00Z"]
    assert _texts(v2021, "//ill:messageInfo/ill:offeredCosts") == []


def test_a_loan_condition_reaches_v1_2_in_delivery_info_and_the_rest_in_the_note(full):
    data = iso.build(full[iso.MessageKind.SUPPLYING_AGENCY_MESSAGE], "1.2")

    assert _texts(data, "//ill:deliveryInfo/ill:loanCondition") == ["LibraryUseOnly"]
    assert _texts(data, "//ill:deliveryInfo/ill:itemId") == ["HELKA-BARCODE-0001"]
    note = _texts(data, "//ill:messageInfo/ill:note")[0]
    assert note.startswith("Lähetetty postissa.\n")
    for line in (
        "[ISO 18626:2021 deliveryInfo/loanCondition: NoReproduction]",
        "[ISO 18626:2021 deliveryInfo/itemId: RFID-E2003412]",
        "[ISO 18626:2021 deliveryInfo/URL: https://helka.example/scan/77.pdf]",
        "[ISO 18626:2021 deliveryInfo/deliveryCosts: 1.5 EUR]",
        "[ISO 18626:2021 retryInfo/loanCondition: NoReproduction]",
        "[ISO 18626:2021 retryInfo/offeredCosts: 35 EUR]",
        "[ISO 18626:2021 shippingInfo/trackingId: JJFI6123456789]",
        "[ISO 18626:2021 shippingInfo/courierName: Posti]",
    ):
        assert line in note.splitlines()


def test_2021_only_request_content_reaches_v1_2_in_the_service_note(full):
    data = iso.build(full[iso.MessageKind.REQUEST], "1.2")

    note = _texts(data, "//ill:serviceInfo/ill:note")[0].splitlines()
    assert note[:2] == ["Asiakas noutaa Otaniemestä.", "Toinen rivi."]
    assert "[ISO 18626:2021 serviceInfo/loanCondition: NoReproduction]" in note
    assert "[ISO 18626:2021 serviceInfo/preferredEdition: MostRecentEdition]" in note
    assert "[ISO 18626:2021 bibliographicInfo/authorId: 0000 0001 2146 438X]" in note
    assert "[ISO 18626:2021 requestedDeliveryInfo[1]/courierName: Matkahuolto]" in note
    assert "[ISO 18626:2021 serviceInfo/requestSubType: SupplyingLibrarysChoice]" in note
    assert _texts(data, "//ill:volume") == ["2; 3"]
    assert len(_texts(data, "//ill:requestSubType")) == 3
    assert _texts(data, "//ill:consortialId") == []


def test_preferred_edition_maps_onto_v1_2s_any_edition(portable):
    request = portable[iso.MessageKind.REQUEST]
    request.service_info.any_edition = None
    request.service_info.preferred_edition = iso.PreferredEdition.THIS_EDITION

    data = iso.build(request, "1.2")

    assert _texts(data, "//ill:anyEdition") == ["N"]
    assert "preferredEdition" not in _texts(data, "//ill:serviceInfo/ill:note")[0]


def test_a_2021_only_action_reaches_a_v1_2_partner_as_a_notification(full, assert_valid):
    ram = full[iso.MessageKind.REQUESTING_AGENCY_MESSAGE]  # action Lost

    data = iso.build(ram, "1.2")

    assert _texts(data, "//ill:action") == ["Notification"]
    assert _texts(data, "//ill:note")[0].endswith("\n[ISO 18626:2021 action: Lost]")
    assert _texts(iso.build(ram, "2021"), "//ill:action") == ["Lost"]


@pytest.mark.parametrize("status", [iso.Status.HOLD_RETURN, iso.Status.RELEASE_HOLD_RETURN])
def test_a_2021_only_status_reaches_a_v1_2_partner_as_loaned_with_a_note(portable, status):
    sam = portable[iso.MessageKind.SUPPLYING_AGENCY_MESSAGE]
    sam.status_info.status = status

    data = iso.build(sam, "1.2")

    assert _texts(data, "//ill:status") == ["Loaned"]
    assert f"[ISO 18626:2021 statusInfo/status: {status}]" in _texts(data, "//ill:note")[0]


def test_a_confirmation_echoing_a_2021_only_action_omits_it_in_v1_2(full):
    confirmation = full[iso.MessageKind.REQUESTING_AGENCY_MESSAGE_CONFIRMATION]

    assert _texts(iso.build(confirmation, "1.2"), "//ill:action") == []
    assert _texts(iso.build(confirmation, "2021"), "//ill:action") == ["HoldReturn"]


def test_several_errors_fold_into_one_error_data_for_v1_2(full):
    confirmation = full[iso.MessageKind.REQUEST_CONFIRMATION]

    v12 = iso.build(confirmation, "1.2")

    assert _texts(v12, "//ill:errorType") == ["UnrecognisedDataValue"]
    assert _texts(v12, "//ill:errorValue") == ["status: 'X'; UnrecognisedDataElement"]
    assert len(_texts(iso.build(confirmation, "2021"), "//ill:errorData")) == 2


def test_a_region_keeps_its_scheme_in_v1_2_and_is_plain_text_in_2021(portable):
    sam = portable[iso.MessageKind.SUPPLYING_AGENCY_MESSAGE]
    sam.return_info.physical_address.region = iso.SchemeValue("FI-18", "urn:iso:3166-2")

    assert b'<ill:region ill:scheme="urn:iso:3166-2">FI-18</ill:region>' in iso.build(sam, "1.2")
    assert b"<ill:region>FI-18</ill:region>" in iso.build(sam, "2021")


def test_2021_sort_orders_are_never_negative(portable, assert_valid):
    request = portable[iso.MessageKind.REQUEST]
    request.supplier_info[0].sort_order = -1

    assert _texts(iso.build(request, "2021"), "//ill:supplierInfo/ill:sortOrder")[0] == "0"
    assert _texts(iso.build(request, "1.2"), "//ill:supplierInfo/ill:sortOrder")[0] == "-1"
    assert_valid(iso.build(request, "2021"), "2021")


def test_dates_are_written_in_utc_with_z(portable):
    ram = portable[iso.MessageKind.REQUESTING_AGENCY_MESSAGE]
    helsinki = timezone(timedelta(hours=2))
    ram.header.timestamp = datetime(2025, 3, 14, 11, 26, 53, 500000, tzinfo=helsinki)

    assert _texts(iso.build(ram, "1.2"), "//ill:timestamp") == ["2025-03-14T09:26:53.5Z"]

    ram.header.timestamp = datetime(2025, 3, 14, 9, 26, 53)  # naive: taken as UTC
    assert _texts(iso.build(ram, "2021"), "//ill:timestamp") == ["2025-03-14T09:26:53Z"]


def test_money_is_written_without_exponents(portable):
    request = portable[iso.MessageKind.REQUEST]
    request.billing_info.maximum_costs.monetary_value = Decimal("1.5E+3")

    assert _texts(iso.build(request, "1.2"), "//ill:monetaryValue") == ["1500"]


def test_plain_strings_are_accepted_wherever_a_scheme_value_is_expected(assert_valid):
    request = iso.Request(
        header=iso.Header(
            supplying_agency_id=iso.AgencyId("ISIL", "S"),
            requesting_agency_id=iso.AgencyId("ISIL", "R"),
            requesting_agency_request_id="1",
            timestamp=datetime(2025, 1, 1, tzinfo=UTC),
        ),
        service_info=iso.ServiceInfo(service_type="Copy", service_level="Rush"),
        billing_info=iso.BillingInfo(payment_method="Invoice"),
    )

    assert request.service_info.service_level == iso.SchemeValue("Rush")
    assert request.header.requesting_agency_id.type == iso.SchemeValue("ISIL")
    assert_valid(iso.build(request, "1.2"), "1.2")


def test_a_parsed_message_is_built_in_its_own_version_by_default(portable):
    message = iso.parse(iso.build(portable[iso.MessageKind.REQUESTING_AGENCY_MESSAGE], "2021"))

    assert iso.build(message) == iso.build(message.body, "2021")
    with pytest.raises(iso.BuildError, match="needs a version"):
        iso.build(message.body)


@pytest.mark.parametrize("label", ["2021-2", "2021-3", "v1_2_2017", iso.Version.V1_2])
def test_version_labels_are_understood(portable, label):
    assert iso.build(portable[iso.MessageKind.REQUEST], label)


def test_an_unknown_version_is_refused(portable):
    with pytest.raises(iso.BuildError, match="unknown ISO 18626 version"):
        iso.build(portable[iso.MessageKind.REQUEST], "3.0")


@pytest.mark.parametrize(
    "mutate, element",
    [
        (lambda m: setattr(m.header, "timestamp", None), "header/timestamp"),
        (lambda m: setattr(m.header, "requesting_agency_id", None), "requestingAgencyId"),
        (lambda m: setattr(m.header, "requesting_agency_request_id", None), "RequestId"),
        (lambda m: setattr(m.status_info, "status", None), "statusInfo/status"),
        (lambda m: setattr(m.status_info, "last_change", None), "statusInfo/lastChange"),
        (lambda m: setattr(m.delivery_info, "date_sent", None), "deliveryInfo/dateSent"),
        (lambda m: setattr(m.message_info, "reason_for_message", None), "reasonForMessage"),
    ],
)
def test_build_refuses_a_message_missing_a_required_element(portable, mutate, element):
    sam = portable[iso.MessageKind.SUPPLYING_AGENCY_MESSAGE]
    mutate(sam)

    for version in VERSIONS:
        with pytest.raises(iso.BuildError, match=element):
            iso.build(sam, version)


def test_build_refuses_a_request_without_service_type(portable):
    request = portable[iso.MessageKind.REQUEST]
    request.service_info.service_type = None

    with pytest.raises(iso.BuildError, match="serviceInfo/serviceType is required"):
        iso.build(request, "1.2")


def test_build_refuses_a_2021_request_without_service_info(portable, assert_valid):
    request = portable[iso.MessageKind.REQUEST]
    request.service_info = None

    assert_valid(iso.build(request, "1.2"), "1.2")  # optional in v1.2
    with pytest.raises(iso.BuildError, match="required in ISO 18626:2021"):
        iso.build(request, "2021")


def test_build_refuses_an_unknown_closed_code_value(portable):
    sam = portable[iso.MessageKind.SUPPLYING_AGENCY_MESSAGE]
    sam.status_info.status = "WeCouldLoan"

    with pytest.raises(iso.BuildError, match="'WeCouldLoan' is not one of"):
        iso.build(sam, "2021")


def test_build_refuses_text_that_xml_cannot_carry(portable):
    ram = portable[iso.MessageKind.REQUESTING_AGENCY_MESSAGE]
    ram.note = "bell \x07"

    with pytest.raises(iso.BuildError, match="cannot write"):
        iso.build(ram, "1.2")


def test_build_refuses_something_that_is_not_a_message():
    with pytest.raises(iso.BuildError, match="not an ISO 18626 message"):
        iso.build(iso.Header(), "1.2")


def test_the_same_message_always_gives_the_same_bytes(portable):
    for version in VERSIONS:
        for message in portable.values():
            assert iso.build(message, version) == iso.build(message, version)
