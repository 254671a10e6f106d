"""Fixtures for the ISO 18626 codec tests: shared samples and schemas, rich messages.

The codec is plain Python + lxml, so these tests need no Django and no database. They run
under the project's pytest-django configuration and also with ``-p no:django``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree

from ill import iso18626 as iso

# /work/main/tests/iso18626/conftest.py -> parents[2] is the project root; ../shared beside it.
SHARED = Path(__file__).resolve().parents[2].parent / "shared"
ISO_DIR = SHARED / "iso18626"
SCHEMA_FILES = {
    iso.Version.V1_2: "ISO-18626-v1_2.xsd",
    iso.Version.V2021: "ISO-18626-2021-2.xsd",
}


# The project's tests/conftest.py has autouse fixtures that need pytest-django's `settings`
# (and import the Celery app). The codec needs neither: these no-ops of the same names
# keep the codec tests independent of Django, e.g. under `pytest -p no:django`.
@pytest.fixture(autouse=True)
def _tasks_run_in_process():
    yield


@pytest.fixture(autouse=True)
def _fast_password_hashing():
    yield


def _require_shared() -> Path:
    if not ISO_DIR.is_dir():
        pytest.skip(f"../shared/iso18626 not found: expected the schemas and samples at {ISO_DIR}")
    return ISO_DIR


@pytest.fixture(scope="session")
def iso_dir() -> Path:
    return _require_shared()


@pytest.fixture(scope="session")
def samples(iso_dir: Path) -> dict[str, bytes]:
    """Every sample message, keyed 'collection/file.xml'."""
    return {
        f"{path.parent.name}/{path.name}": path.read_bytes()
        for path in sorted((iso_dir / "samples").glob("*/*.xml"))
    }


@pytest.fixture(scope="session")
def schemas(iso_dir: Path) -> dict[iso.Version, etree.XMLSchema]:
    return {
        version: etree.XMLSchema(etree.parse(str(iso_dir / name)))
        for version, name in SCHEMA_FILES.items()
    }


@pytest.fixture(scope="session")
def assert_valid(schemas) -> Callable[[bytes, iso.Version | str], None]:
    """assert_valid(xml_bytes, version): the XSD of that version accepts the document."""

    def check(data: bytes, version: iso.Version | str) -> None:
        version = iso.Version(version)
        schema = schemas[version]
        document = etree.fromstring(data)
        if not schema.validate(document):
            errors = "\n".join(str(e) for e in schema.error_log)
            raise AssertionError(f"not valid ISO 18626 {version.value}:\n{errors}\n{data.decode()}")

    return check


# --------------------------------------------------------------------------------------
# Richly populated messages
# --------------------------------------------------------------------------------------

T0 = datetime(2025, 3, 14, 9, 26, 53, 589000, tzinfo=UTC)
SUPPLIER = iso.AgencyId(
    iso.SchemeValue(
        "ISIL", "http://illtransactions.org/ISO18626/OpenCodeList/AgencyIdTypeList-V1.0"
    ),
    "FI-HELKA",
)
REQUESTER = iso.AgencyId("ISIL", "FI-AALTO")


def _at(day: int, hour: int = 12) -> datetime:
    return datetime(2025, 3, day, hour, 0, tzinfo=UTC)


def _header(**extra) -> iso.Header:
    return iso.Header(
        supplying_agency_id=SUPPLIER,
        requesting_agency_id=REQUESTER,
        requesting_agency_request_id="KAUKO-2025-000042-1",
        timestamp=T0,
        **extra,
    )


def _euros(amount: str) -> iso.Costs:
    return iso.Costs(
        currency_code=iso.SchemeValue("EUR", "urn:iso:std:iso:4217"), monetary_value=Decimal(amount)
    )


def _street(line1: str = "Otaniementie 9") -> iso.PhysicalAddress:
    return iso.PhysicalAddress(
        line1=line1,
        line2="Kirjaamo",
        locality="Espoo",
        postal_code="02150",
        region=iso.SchemeValue("FI-18"),  # 2021 has no scheme for a region
        country=iso.SchemeValue("FI", "urn:iso:std:iso:3166"),
    )


def _email(address: str = "ill@aalto.example") -> iso.ElectronicAddress:
    return iso.ElectronicAddress(electronic_address_type="Email", electronic_address_data=address)


def portable_messages() -> dict[iso.MessageKind, iso.Body]:
    """One of each kind, using only what both versions can carry without loss.

    Built in either version and parsed back, each compares equal to itself.
    """
    request = iso.Request(
        header=_header(
            requesting_agency_authentication=iso.RequestingAgencyAuthentication(
                account_id="aalto", security_code="s3cret"
            )
        ),
        bibliographic_info=iso.BibliographicInfo(
            supplier_unique_record_id="LOANED",
            title="Suomen kasvio",
            author="Hiitonen, Ilmari",
            subtitle="Kuvitettu laitos",
            series_title="Otavan käsikirjoja",
            edition="2. painos",
            title_of_component="Saniaiset",
            author_of_component="Linkola, K.",
            volumes=["2"],
            issue="4",
            pages_requested="12-34",
            estimated_no_pages="23",
            bibliographic_item_ids=[
                iso.BibliographicItemId(
                    code=iso.SchemeValue("ISBN", "urn:isbn"), identifier="9789511234567"
                ),
                iso.BibliographicItemId(code="ISSN", identifier="1234-5678"),
            ],
            sponsor="Aalto",
            information_source="Finna",
            bibliographic_record_ids=[
                iso.BibliographicRecordId(code="OCLC", identifier="57358293"),
                iso.BibliographicRecordId(code="MELINDA", identifier="(FI-MELINDA)001234567"),
            ],
        ),
        publication_info=iso.PublicationInfo(
            publisher="Otava",
            publication_type=iso.SchemeValue(
                "Book", "http://illtransactions.org/ISO18626/OpenCodeList/PublicationTypeList-V1.0"
            ),
            publication_date="1933",
            place_of_publication="Helsinki",
        ),
        service_info=iso.ServiceInfo(
            request_type=iso.RequestType.NEW,
            request_sub_types=[
                iso.RequestSubType.PATRON_REQUEST,
                iso.RequestSubType.BOOKING_REQUEST,
            ],
            requesting_agency_previous_request_id="KAUKO-2025-000042-0",
            service_type=iso.ServiceType.COPY_OR_LOAN,
            service_level="Normal",
            item_format="LargePrint",
            need_before_date=_at(30),
            copyright_compliance="FI-Tekijanoikeuslaki",
            any_edition=iso.YesNo.YES,
            start_date=_at(20),
            end_date=_at(27),
            note="Asiakas noutaa Otaniemestä.\nToinen rivi.",
        ),
        supplier_info=[
            iso.SupplierInfo(
                sort_order=1,
                supplier_code=SUPPLIER,
                supplier_description="Helsingin yliopiston kirjasto",
                bibliographic_record_id=iso.BibliographicRecordId(
                    code="HELKA", identifier="991234"
                ),
                call_number="58.1 HII",
                summary_holdings="1-2",
                availability_note="Lainattavissa",
            ),
            iso.SupplierInfo(sort_order=2, supplier_code=iso.AgencyId("ISIL", "FI-TAY")),
        ],
        requested_delivery_info=[
            iso.RequestedDeliveryInfo(sort_order=1, address=_street()),
            iso.RequestedDeliveryInfo(sort_order=2, address=_email()),
        ],
        requesting_agency_info=iso.RequestingAgencyInfo(
            name="Aalto University Learning Centre",
            contact_name="Kaukopalvelu",
            addresses=[_email(), _street()],
        ),
        patron_info=iso.PatronInfo(
            patron_id="P-0001",
            surname="Virtanen",
            given_name="Aino",
            patron_type="Staff",
            send_to_patron=iso.YesNo.NO,
            addresses=[_street("Kemistintie 1"), _email("aino.virtanen@aalto.example")],
        ),
        billing_info=iso.BillingInfo(
            payment_method="Invoice",
            maximum_costs=_euros("15.00"),
            billing_method="Monthly",
            billing_name="Aalto-yliopisto",
            address=_street(),
        ),
    )
    sam = iso.SupplyingAgencyMessage(
        header=_header(supplying_agency_request_id="HELKA-77"),
        message_info=iso.MessageInfo(
            reason_for_message=iso.ReasonForMessage.STATUS_CHANGE,
            answer_yes_no=iso.YesNo.YES,
            note="Lähetetty postissa.",
            reason_unfilled=iso.SchemeValue(
                "NotHeld",
                "http://illtransactions.org/ISO18626/OpenCodeList/ReasonUnfilledList-V1.0",
            ),
            reason_retry="CostExceedsMaxCost",
        ),
        status_info=iso.StatusInfo(
            status=iso.Status.LOANED,
            expected_delivery_date=_at(17),
            due_date=_at(31, 23),
            last_change=_at(16),
        ),
        retry_info=iso.RetryInfo(
            offered_costs=[_euros("20.50")], retry_after=_at(18), retry_before=_at(25)
        ),
        delivery_info=iso.DeliveryInfo(
            date_sent=_at(16),
            item_ids=["HELKA-BARCODE-0001"],
            delivery_method="Mail",
            sent_to_patron=False,
            loan_conditions=[
                iso.SchemeValue(
                    "LibraryUseOnly",
                    "http://illtransactions.org/ISO18626/OpenCodeList/LoanConditionList-V1.0",
                )
            ],
            item_format="PrintedBook",
            delivery_costs=[_euros("7.00")],
        ),
        return_info=iso.ReturnInfo(
            return_agency_id=SUPPLIER,
            name="HY kaukopalvelu",
            physical_address=_street("Fabianinkatu 30"),
        ),
    )
    ram = iso.RequestingAgencyMessage(
        header=_header(
            supplying_agency_request_id="HELKA-77",
            requesting_agency_authentication=iso.RequestingAgencyAuthentication(account_id="aalto"),
        ),
        action=iso.Action.RENEW,
        note="Asiakas tarvitsee vielä viikon.",
    )
    confirmation_header = iso.ConfirmationHeader(
        supplying_agency_id=SUPPLIER,
        requesting_agency_id=REQUESTER,
        timestamp=_at(16, 13),
        requesting_agency_request_id="KAUKO-2025-000042-1",
        timestamp_received=T0,
        message_status=iso.MessageStatus.ERROR,
    )
    error = [
        iso.ErrorData(error_type=iso.ErrorType.UNRECOGNISED_DATA_VALUE, error_value="status: 'X'")
    ]
    sam_confirmation = iso.SupplyingAgencyMessageConfirmation(
        confirmation_header=confirmation_header,
        reason_for_message=iso.ReasonForMessage.RENEW_RESPONSE,
        error_data=error,
    )
    ram_confirmation = iso.RequestingAgencyMessageConfirmation(
        confirmation_header=confirmation_header, action=iso.Action.RENEW, error_data=error
    )
    messages = [
        request,
        sam,
        ram,
        iso.RequestConfirmation(confirmation_header=confirmation_header, error_data=error),
        sam_confirmation,
        ram_confirmation,
    ]
    # Deep-copied so that no two messages share (and a test cannot mutate) common parts.
    return {m.kind: copy.deepcopy(m) for m in messages}


def full_messages() -> dict[iso.MessageKind, iso.Body]:
    """One of each kind with *every* element of both schemas, 2021-only ones included.

    Built as 2021 and parsed back, each compares equal to itself. (The v1.2-only header
    elements -- multipleItemRequestId outside a request, requestingAgencyAuthentication in a
    SAM -- are left out: 2021 has nowhere to put them.)
    """
    messages = portable_messages()
    request = messages[iso.MessageKind.REQUEST]
    request.header.consortial_id = iso.AgencyId("ISIL", "FI-FINNA")
    request.header.multiple_item_request_id = "MULTI-7"
    bib = request.bibliographic_info
    bib.author_id = "0000 0001 2146 438X"
    bib.volumes = ["2", "3"]
    request.publication_info.publisher_id = "0000 0004 0456 1234"
    info = request.service_info
    info.preferred_edition = iso.PreferredEdition.MOST_RECENT_EDITION
    info.loan_conditions = [iso.SchemeValue("NoReproduction"), iso.SchemeValue("LibraryUseOnly")]
    info.request_sub_types = [
        iso.RequestSubType.PATRON_REQUEST,
        iso.RequestSubType.BOOKING_REQUEST,
        iso.RequestSubType.MULTIPLE_ITEM_REQUEST,
        iso.RequestSubType.SUPPLYING_LIBRARYS_CHOICE,
    ]
    request.requested_delivery_info[0].delivery_method = iso.SchemeValue("Courier")
    request.requested_delivery_info[0].courier_name = iso.SchemeValue("Matkahuolto")

    sam = messages[iso.MessageKind.SUPPLYING_AGENCY_MESSAGE]
    sam.retry_info = iso.RetryInfo(
        loan_conditions=["NoReproduction"],
        editions=["1. painos", "3. painos"],
        item_formats=["PrintedBook", "PDF"],
        volumes=["1"],
        service_type=iso.ServiceType.COPY,
        service_levels=["Express"],
        delivery_methods=["Mail", "URL"],
        courier_names=["Posti"],
        offered_costs=[_euros("20.50"), _euros("35")],
        payment_methods=["Invoice"],
        retry_before=_at(25),
        retry_after=_at(18),
    )
    delivery = sam.delivery_info
    delivery.item_ids = ["HELKA-BARCODE-0001", "RFID-E2003412"]
    delivery.url = "https://helka.example/scan/77.pdf"
    delivery.address = _street("Kaukopalvelu, PL 53")
    delivery.loan_conditions = ["LibraryUseOnly", "NoReproduction"]
    delivery.service_type = iso.ServiceType.LOAN
    delivery.delivery_costs = [_euros("7.00"), _euros("1.5")]
    delivery.payment_method = "Invoice"
    sam.shipping_info = iso.ShippingInfo(
        courier_name="Posti",
        tracking_ids=["JJFI6123456789", "JJFI6123456790"],
        insurance=iso.YesNo.YES,
        insurance_third_party=iso.YesNo.NO,
        third_party_name="If Vakuutus",
        insurance_costs=[_euros("3.20")],
    )
    ram = messages[iso.MessageKind.REQUESTING_AGENCY_MESSAGE]
    ram.header.consortial_id = iso.AgencyId("ISIL", "FI-FINNA")
    ram.action = iso.Action.LOST

    for kind in (
        iso.MessageKind.REQUEST_CONFIRMATION,
        iso.MessageKind.SUPPLYING_AGENCY_MESSAGE_CONFIRMATION,
        iso.MessageKind.REQUESTING_AGENCY_MESSAGE_CONFIRMATION,
    ):
        messages[kind].error_data = [
            iso.ErrorData(
                error_type=iso.ErrorType.UNRECOGNISED_DATA_VALUE, error_value="status: 'X'"
            ),
            iso.ErrorData(error_type=iso.ErrorType.UNRECOGNISED_DATA_ELEMENT),
        ]
    messages[iso.MessageKind.REQUESTING_AGENCY_MESSAGE_CONFIRMATION].action = iso.Action.HOLD_RETURN
    return messages


@pytest.fixture
def portable() -> dict[iso.MessageKind, iso.Body]:
    return portable_messages()


@pytest.fixture
def full() -> dict[iso.MessageKind, iso.Body]:
    return full_messages()


@pytest.fixture(scope="session")
def make_portable() -> Callable[[], dict[iso.MessageKind, iso.Body]]:
    return portable_messages


@pytest.fixture(scope="session")
def make_full() -> Callable[[], dict[iso.MessageKind, iso.Body]]:
    return full_messages
