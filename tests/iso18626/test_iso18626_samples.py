"""The public sample messages in ../shared/iso18626/samples: the outside oracle."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from ill import iso18626 as iso

SAMPLE_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "iso18626" / "samples"
SAMPLE_NAMES = sorted(f"{p.parent.name}/{p.name}" for p in SAMPLE_DIR.glob("*/*.xml")) or [
    "(no samples found)"
]

NEGATIVE_VECTORS = {
    "crosslink/msg-invalid.xml": iso.ErrorType.BADLY_FORMED_MESSAGE,
    "crosslink/reqmsg-invalid-action.xml": iso.ErrorType.UNSUPPORTED_ACTION_TYPE,
    "crosslink/supmsg-invalid-status.xml": iso.ErrorType.UNRECOGNISED_DATA_VALUE,
}
VALID_NAMES = [name for name in SAMPLE_NAMES if name not in NEGATIVE_VECTORS]


def _sample(samples: dict[str, bytes], name: str) -> bytes:
    if name not in samples:
        pytest.skip(f"../shared/iso18626 sample {name} not found")
    return samples[name]


def test_all_thirty_two_public_samples_are_present(samples):
    assert len(samples) == 32
    assert set(NEGATIVE_VECTORS) <= set(samples)


@pytest.mark.parametrize("name", VALID_NAMES)
def test_every_valid_sample_parses_into_a_typed_message(samples, name):
    message = iso.parse(_sample(samples, name))

    assert isinstance(message.body, iso.messages.BODY_CLASSES[message.kind])
    assert message.version is iso.Version.V1_2  # every sample speaks v1.2 (or the 2014 form)
    assert message.raw == samples[name]
    assert message.warnings == []


@pytest.mark.parametrize("name, error_type", sorted(NEGATIVE_VECTORS.items()))
def test_the_crosslink_negative_vectors_raise_the_standard_error_type(samples, name, error_type):
    with pytest.raises(iso.Iso18626Error) as caught:
        iso.parse(_sample(samples, name))

    assert caught.value.error_type == error_type
    assert caught.value.error_value


def test_the_invalid_action_error_names_the_value_and_keeps_the_header(samples):
    with pytest.raises(iso.Iso18626Error) as caught:
        iso.parse(_sample(samples, "crosslink/reqmsg-invalid-action.xml"))

    exc = caught.value
    assert "WeCancelThisMessage" in exc.error_value
    assert "action" in exc.error_value
    assert exc.kind is iso.MessageKind.REQUESTING_AGENCY_MESSAGE
    assert exc.action == "WeCancelThisMessage"
    assert exc.header.supplying_agency_id == iso.AgencyId("ISIL", "SLNP_TWO_A")
    assert exc.header.requesting_agency_id == iso.AgencyId("ISIL", "SLNP_ONE")
    assert exc.header.requesting_agency_request_id == "reqid"
    assert exc.header.timestamp == datetime(2024, 12, 12, 20, 12, 0, 629597, tzinfo=UTC)
    assert exc.message is not None and exc.message.body.action == "WeCancelThisMessage"


def test_the_invalid_status_is_kept_raw_when_parsing_is_not_strict(samples):
    message = iso.parse(_sample(samples, "crosslink/supmsg-invalid-status.xml"), strict=False)

    assert message.body.status_info.status == "WeCouldLoan"
    assert message.body.delivery_info.item_ids == ["12345"]
    assert any("WeCouldLoan" in warning for warning in message.warnings)


def test_the_empty_message_error_has_no_kind_to_confirm(samples):
    with pytest.raises(iso.Iso18626Error) as caught:
        iso.parse(_sample(samples, "crosslink/msg-invalid.xml"))

    assert "empty" in caught.value.error_value
    assert caught.value.kind is None


def test_the_loaned_message_carries_due_date_delivery_and_return_address(samples):
    message = iso.parse(_sample(samples, "oclc-circill-toolkit/SupplyingAgencyMessageLoaned.xml"))
    sam = message.body

    assert message.kind is iso.MessageKind.SUPPLYING_AGENCY_MESSAGE
    assert message.declared_version == "v1_2_2017"
    assert sam.message_info.reason_for_message is iso.ReasonForMessage.REQUEST_RESPONSE
    assert sam.status_info.status is iso.Status.LOANED
    assert sam.status_info.due_date == datetime(2021, 3, 11, 5, 0, tzinfo=UTC)
    assert sam.status_info.last_change == datetime(2021, 2, 9, 11, 24, 18, tzinfo=UTC)
    assert sam.delivery_info.date_sent == datetime(2021, 2, 9, 5, 0, tzinfo=UTC)
    assert sam.delivery_info.sent_to_patron is False
    assert sam.delivery_info.item_ids == []  # this sample names no item; CrossLink's does
    assert sam.header.supplying_agency_request_id == "168134644"
    assert sam.header.supplying_agency_id.type.scheme.endswith("AgencyIdTypeList-V1.0")
    assert sam.return_info.physical_address.locality == "Montréal"
    assert sam.return_info.physical_address.region.value == "CA-QC"
    assert "Loan condition: OTHER (none)" in sam.message_info.note


def test_the_shipped_item_id_is_read_from_delivery_info(samples):
    message = iso.parse(_sample(samples, "crosslink/supmsg-invalid-status.xml"), strict=False)

    assert message.body.delivery_info.item_ids == ["12345"]
    assert message.body.delivery_info.date_sent == datetime(
        2024, 12, 12, 20, 12, 0, 629725, tzinfo=UTC
    )


def test_the_renew_message_asks_to_renew(samples):
    message = iso.parse(_sample(samples, "oclc-circill-toolkit/RequestingAgencyMessageRenew.xml"))

    assert message.kind is iso.MessageKind.REQUESTING_AGENCY_MESSAGE
    assert message.body.action is iso.Action.RENEW
    assert message.body.header.requesting_agency_request_id == "168134581"
    assert message.body.header.supplying_agency_request_id == "Requesting-ID-1"


@pytest.mark.parametrize(
    "name, action",
    [
        ("RequestingAgencyMessageCancel.xml", iso.Action.CANCEL),
        ("RequestingAgencyMessageNotification1.xml", iso.Action.NOTIFICATION),
        ("RequestingAgencyMessageReceived.xml", iso.Action.RECEIVED),
        ("RequestingAgencyMessageReturned.xml", iso.Action.SHIPPED_RETURN),
    ],
)
def test_each_requesting_agency_sample_has_its_action(samples, name, action):
    message = iso.parse(_sample(samples, f"oclc-circill-toolkit/{name}"))

    assert message.body.action is action


def test_the_notification_carries_its_authentication_and_note(samples):
    message = iso.parse(
        _sample(samples, "oclc-circill-toolkit/RequestingAgencyMessageNotification1.xml")
    )

    auth = message.body.header.requesting_agency_authentication
    assert (auth.account_id, auth.security_code) == ("Account-001", "ABC-Easy-As")
    assert message.body.note.startswith("Your message with timestamp 2018-02-08T08:30:17Z")


def test_the_refused_message_is_unfilled_because_the_item_is_not_held(samples):
    message = iso.parse(_sample(samples, "oclc-circill-toolkit/SupplyingAgencyMessageRefused.xml"))

    sam = message.body
    assert sam.status_info.status is iso.Status.UNFILLED
    assert sam.message_info.reason_unfilled.value == "NotHeld"
    assert sam.message_info.reason_unfilled.scheme.endswith("ReasonUnfilledList-V1.0")


@pytest.mark.parametrize(
    "name, reason, answer, status",
    [
        ("SupplyingAgencyMessageRenewYes.xml", "RenewResponse", "Y", "Loaned"),
        ("SupplyingAgencyMessageRenewNo.xml", "RenewResponse", "N", "Loaned"),
        ("SupplyingAgencyMessageCancelYes.xml", "CancelResponse", "Y", "Cancelled"),
        ("SupplyingAgencyMessageCancelNo.xml", "CancelResponse", "N", "Cancelled"),
        ("SupplyingAgencyMessageOverdue.xml", "StatusChange", None, "Overdue"),
        ("SupplyingAgencyMessageRecall.xml", "StatusChange", None, "Recalled"),
        ("SupplyingAgencyMessageClosedSupplied.xml", "RequestResponse", None, "LoanCompleted"),
        ("SupplyingAgencyMessageNotification1.xml", "Notification", None, "LoanCompleted"),
    ],
)
def test_each_supplying_agency_sample_has_its_reason_answer_and_status(
    samples, name, reason, answer, status
):
    sam = iso.parse(_sample(samples, f"oclc-circill-toolkit/{name}")).body

    assert sam.message_info.reason_for_message == reason
    assert sam.message_info.answer_yes_no == answer
    assert sam.status_info.status == status


def test_the_renew_yes_answer_carries_the_new_due_date(samples):
    sam = iso.parse(
        _sample(samples, "oclc-circill-toolkit/SupplyingAgencyMessageRenewYes.xml")
    ).body

    assert sam.message_info.answer_yes_no is iso.YesNo.YES
    assert sam.status_info.due_date == datetime(2021, 2, 24, 5, 0, tzinfo=UTC)


def test_the_oclc_full_request_asks_for_copy_or_loan_with_all_its_parts(samples):
    message = iso.parse(_sample(samples, "oclc-circill-toolkit/RequestSample1.xml"))
    request = message.body

    assert message.kind is iso.MessageKind.REQUEST
    assert request.header.multiple_item_request_id == "What is this?"
    info = request.service_info
    assert info.service_type is iso.ServiceType.COPY_OR_LOAN
    assert info.request_type is iso.RequestType.NEW
    assert info.request_sub_types == [iso.RequestSubType.TRANSFER_REQUEST]
    assert info.requesting_agency_previous_request_id == "PreviousRequestID-001"
    assert info.item_format.value == "LargePrint"  # v1.2 preferredFormat
    assert info.need_before_date == datetime(2018, 1, 16, 14, 0, tzinfo=UTC)
    assert info.any_edition is iso.YesNo.YES
    assert (info.start_date, info.end_date) == (
        datetime(2018, 1, 10, 12, 0, tzinfo=UTC),
        datetime(2018, 1, 12, 18, 0, tzinfo=UTC),
    )
    supplier = request.supplier_info[0]
    assert supplier.sort_order == 2
    assert supplier.bibliographic_record_id == iso.BibliographicRecordId(
        code=iso.SchemeValue(
            "OCLC",
            "http://illtransactions.org/ISO18626/OpenCodeList/BibliographicRecordIdCodeList-V1.0",
        ),
        identifier="992790866",
    )
    delivery = request.requested_delivery_info[0]
    assert delivery.sort_order == 5
    assert delivery.address.region.value == "US-OH"
    assert request.requesting_agency_info.addresses == [
        iso.ElectronicAddress(
            electronic_address_type=iso.SchemeValue(
                "Email",
                "http://illtransactions.org/ISO18626/OpenCodeList/ElectronicAddressType-V1.0",
            ),
            electronic_address_data="librarian@address.net",
        )
    ]
    assert request.patron_info.send_to_patron is iso.YesNo.NO
    assert request.billing_info.maximum_costs.monetary_value == Decimal("99.99")
    assert request.billing_info.maximum_costs.currency_code.value == "USD"
    assert request.publication_info.publication_date == "2010-03-02"


def test_the_oclc_new_request_has_identifiers_and_two_delivery_options(samples):
    request = iso.parse(_sample(samples, "oclc-circill-toolkit/NewRequest.xml")).body

    bib = request.bibliographic_info
    assert bib.title == "Harry Potter and the Half-Blood Prince"
    assert bib.edition is None  # <edition/> is empty
    assert [(i.code.value, i.identifier) for i in bib.bibliographic_item_ids] == [
        ("ISBN", "9780439784542")
    ]
    assert [(r.code.value, r.identifier) for r in bib.bibliographic_record_ids] == [
        ("OCLC", "57358293")
    ]
    assert request.service_info.service_type is iso.ServiceType.LOAN
    kinds = [type(d.address) for d in request.requested_delivery_info]
    assert kinds == [iso.PhysicalAddress, iso.ElectronicAddress]


def test_the_crosslink_request_selects_the_loaned_scenario(samples):
    message = iso.parse(_sample(samples, "crosslink/req.xml"))
    request = message.body

    assert request.bibliographic_info.supplier_unique_record_id == "LOANED"
    assert request.service_info.request_sub_types == [iso.RequestSubType.PATRON_REQUEST]
    assert request.header.requesting_agency_id == iso.AgencyId("ISIL", "REQ")
    assert request.header.timestamp == datetime(2024, 11, 28, 10, 25, 11, 136000, tzinfo=UTC)


@pytest.mark.parametrize(
    "name, scenario, note",
    [
        ("cancel-req.xml", "WILLSUPPLY_LOANED", "#CANCEL#"),
        ("renew-req.xml", "LOANED_OVERDUE", "#RENEW#"),
        ("error-req.xml", "ERROR", None),
    ],
)
def test_the_crosslink_scenario_requests_carry_scenario_and_note(samples, name, scenario, note):
    request = iso.parse(_sample(samples, f"crosslink/{name}")).body

    assert request.bibliographic_info.supplier_unique_record_id == scenario
    assert request.service_info.note == note


def test_the_mod_rs_v1_0_request_is_read_and_answered_in_v1_2(samples):
    message = iso.parse(_sample(samples, "mod-rs/case1_request.xml"))
    request = message.body

    assert message.declared_version == "1.0"
    assert message.version is iso.Version.V1_2
    assert request.header.multiple_item_request_id is None  # 2014 headers have none
    assert request.header.supplying_agency_id == iso.AgencyId("RESHARE", "TEMPLEI")
    assert request.header.requesting_agency_id == iso.AgencyId("RESHARE", "MILL")
    assert request.header.timestamp == datetime(2014, 3, 17, 9, 30, 47, tzinfo=UTC)
    assert request.bibliographic_info.supplier_unique_record_id == "27345786"
    assert request.service_info.service_level == iso.SchemeValue("Normal")
    assert request.service_info.need_before_date == datetime(2014, 5, 1, tzinfo=UTC)


def test_the_confirmation_samples_are_read_with_their_error_data(samples):
    error = iso.parse(
        _sample(samples, "oclc-circill-toolkit/RequestConfirmationSampleError.xml")
    ).body
    ok = iso.parse(_sample(samples, "oclc-circill-toolkit/RequestConfirmationSample1.xml")).body
    ram_conf = iso.parse(
        _sample(samples, "oclc-circill-toolkit/RequestingAgencyMessageConfirmationSample1.xml")
    ).body
    sam_conf = iso.parse(
        _sample(samples, "oclc-circill-toolkit/SupplyingAgencyMessageConfirmationSample1.xml")
    ).body

    assert error.message_status is iso.MessageStatus.ERROR and not error.is_ok
    assert error.error_data == [
        iso.ErrorData(
            error_type=iso.ErrorType.BADLY_FORMED_MESSAGE,
            error_value="Some explanation of the error here",
        )
    ]
    assert ok.is_ok and ok.error_data == []
    assert ok.header.requesting_agency_request_id is None  # empty in the sample
    assert ok.header.timestamp_received == datetime(2018, 2, 8, 8, 44, 54, tzinfo=UTC)
    assert ram_conf.action is iso.Action.NOTIFICATION
    assert sam_conf.reason_for_message is iso.ReasonForMessage.NOTIFICATION
    assert sam_conf.header.multiple_item_request_id == "what's this"


@pytest.mark.parametrize("name", VALID_NAMES)
@pytest.mark.parametrize("version", [iso.Version.V1_2, iso.Version.V2021])
def test_every_sample_rebuilt_validates_against_the_schema_of_that_version(
    samples, assert_valid, name, version
):
    message = iso.parse(_sample(samples, name))

    assert_valid(iso.build(message, version), version)


@pytest.mark.parametrize("name", VALID_NAMES)
@pytest.mark.parametrize("version", [iso.Version.V1_2, iso.Version.V2021])
def test_every_sample_rebuilt_and_reparsed_gives_identical_bytes(samples, name, version):
    first = iso.build(iso.parse(_sample(samples, name)), version)
    reparsed = iso.parse(first)

    assert reparsed.version is version
    assert iso.build(reparsed, version) == first
