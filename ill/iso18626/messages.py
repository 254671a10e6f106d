"""Typed model of ISO 18626 messages, covering both v1.2 (2017) and 2021-2.

One model serves both versions: it is the *union* of the two schemas. Where the 2021
revision renamed or moved an element, the model uses the 2021 name and documents the
v1.2 one; `build()` maps it back when emitting v1.2 and `parse()` maps v1.2 input onto it.

Naming: every field is the XML element name in snake_case, with repeatable elements in the
plural (``bibliographic_item_ids``, ``item_ids``, ``loan_conditions`` ...). Two XML details
are hidden: the ``<address>`` wrapper (an address is simply an `ElectronicAddress` or a
`PhysicalAddress`) and v1.2's retry fields in ``messageInfo`` (they live in `RetryInfo`).

Value types:

* open code lists (XML type ``type_schemeValuePair``, e.g. ``agencyIdType``,
  ``reasonUnfilled``, ``serviceLevel``) are `SchemeValue` (text + optional ``scheme``); any
  value is accepted. Constructors also take a plain ``str`` for them and wrap it.
* closed enumerations (``action``, ``status``, ``reasonForMessage``, Y/N ...) are typed
  ``str``: the parser stores a known value as the `StrEnum` member below (which *is* a str,
  so ``msg.action == "Renew"`` works) and an unknown one as the raw string. Whether an
  unknown value is an error is decided by `parse(strict=...)`, not by the model.
* dates are timezone-aware `datetime` (UTC after parsing); ``None`` means absent, and also
  "no date" for the Go zero date ``0001-01-01T00:00:00Z`` that some peers send.
* money is `Decimal`; ``sortOrder`` is `int`; ``sentToPatron`` is `bool`.

Every field has a default, so messages are built with keyword arguments; fields that
the schema requires are checked by `build()`, which names the missing element.
"""

from __future__ import annotations

import enum
import functools
import re
from dataclasses import dataclass, field, fields
from datetime import datetime
from decimal import Decimal

#: The XML namespace of every ISO 18626 version (2014, 2017 and 2021 alike).
NAMESPACE = "http://illtransactions.org/2013/iso18626"


class Version(enum.StrEnum):
    """The wire versions the codec can emit. Parsing accepts older/newer variants too."""

    V1_2 = "1.2"  # ISO 18626:2017, XSD "ISO-18626-v1_2" (CrossLink, ReShare, OCLC, Alma~)
    V2021 = "2021"  # ISO 18626:2021, XSD "ISO-18626-2021-2" (Koha)

    @classmethod
    def from_label(cls, label: str | None) -> Version | None:
        """The family of an ``ill:version`` label, or None if it is not recognisable.

        2014 ("1.0", "1.1") and 2017 ("1.2", "v1_2_2017") labels give V1_2 -- they are
        answered in v1.2; "2021-1" (also called "1.3"), "2021-2", "2021-3" give V2021.
        """
        if not label:
            return None
        text = label.strip().lower()
        if text.startswith("2021") or re.match(r"v?1[._]3", text):
            return cls.V2021
        if re.match(r"v?1([._]|$)", text) or text.startswith(("2014", "2017")):
            return cls.V1_2
        return None


class MessageKind(enum.StrEnum):
    """The six message kinds; the value is the XML element name under the root."""

    REQUEST = "request"
    REQUEST_CONFIRMATION = "requestConfirmation"
    SUPPLYING_AGENCY_MESSAGE = "supplyingAgencyMessage"
    SUPPLYING_AGENCY_MESSAGE_CONFIRMATION = "supplyingAgencyMessageConfirmation"
    REQUESTING_AGENCY_MESSAGE = "requestingAgencyMessage"
    REQUESTING_AGENCY_MESSAGE_CONFIRMATION = "requestingAgencyMessageConfirmation"

    @property
    def is_confirmation(self) -> bool:
        return self.value.endswith("Confirmation")


# --------------------------------------------------------------------------------------
# Closed enumerations ("closed code lists" in the standard)
# --------------------------------------------------------------------------------------


class Action(enum.StrEnum):
    """requestingAgencyMessage/action."""

    STATUS_REQUEST = "StatusRequest"
    RECEIVED = "Received"
    CANCEL = "Cancel"
    RENEW = "Renew"
    HOLD_RETURN = "HoldReturn"  # 2021 only
    SHIPPED_RETURN = "ShippedReturn"
    SHIPPED_FORWARD = "ShippedForward"
    NOTIFICATION = "Notification"
    LOST = "Lost"  # 2021 only


class Status(enum.StrEnum):
    """supplyingAgencyMessage/statusInfo/status."""

    REQUEST_RECEIVED = "RequestReceived"
    EXPECT_TO_SUPPLY = "ExpectToSupply"
    WILL_SUPPLY = "WillSupply"
    LOANED = "Loaned"
    OVERDUE = "Overdue"
    RECALLED = "Recalled"
    RETRY_POSSIBLE = "RetryPossible"
    UNFILLED = "Unfilled"
    HOLD_RETURN = "HoldReturn"  # 2021 only
    RELEASE_HOLD_RETURN = "ReleaseHoldReturn"  # 2021 only
    COPY_COMPLETED = "CopyCompleted"
    LOAN_COMPLETED = "LoanCompleted"
    COMPLETED_WITHOUT_RETURN = "CompletedWithoutReturn"
    CANCELLED = "Cancelled"


class ReasonForMessage(enum.StrEnum):
    """supplyingAgencyMessage/messageInfo/reasonForMessage."""

    REQUEST_RESPONSE = "RequestResponse"
    STATUS_REQUEST_RESPONSE = "StatusRequestResponse"
    RENEW_RESPONSE = "RenewResponse"
    CANCEL_RESPONSE = "CancelResponse"
    STATUS_CHANGE = "StatusChange"
    NOTIFICATION = "Notification"


class MessageStatus(enum.StrEnum):
    """confirmationHeader/messageStatus."""

    OK = "OK"
    ERROR = "ERROR"


class ErrorType(enum.StrEnum):
    """errorData/errorType: the five ways a message can be refused."""

    UNSUPPORTED_ACTION_TYPE = "UnsupportedActionType"
    UNSUPPORTED_REASON_FOR_MESSAGE_TYPE = "UnsupportedReasonForMessageType"
    UNRECOGNISED_DATA_ELEMENT = "UnrecognisedDataElement"
    UNRECOGNISED_DATA_VALUE = "UnrecognisedDataValue"
    BADLY_FORMED_MESSAGE = "BadlyFormedMessage"


class YesNo(enum.StrEnum):
    YES = "Y"
    NO = "N"


class RequestType(enum.StrEnum):
    NEW = "New"
    RETRY = "Retry"
    REMINDER = "Reminder"


class RequestSubType(enum.StrEnum):
    BOOKING_REQUEST = "BookingRequest"
    MULTIPLE_ITEM_REQUEST = "MultipleItemRequest"
    PATRON_REQUEST = "PatronRequest"
    TRANSFER_REQUEST = "TransferRequest"
    SUPPLYING_LIBRARYS_CHOICE = "SupplyingLibrarysChoice"


class ServiceType(enum.StrEnum):
    COPY = "Copy"
    LOAN = "Loan"
    COPY_OR_LOAN = "CopyOrLoan"


class PreferredEdition(enum.StrEnum):
    """serviceInfo/preferredEdition (2021 only; replaces the deprecated anyEdition)."""

    MOST_RECENT_EDITION = "MostRecentEdition"
    THIS_EDITION = "ThisEdition"
    ANY_EDITION = "AnyEdition"


#: Closed-code values that exist only in the 2021 schema.
ONLY_2021_ACTIONS = frozenset({Action.HOLD_RETURN, Action.LOST})
ONLY_2021_STATUSES = frozenset({Status.HOLD_RETURN, Status.RELEASE_HOLD_RETURN})


# --------------------------------------------------------------------------------------
# Small value types
# --------------------------------------------------------------------------------------


class _Model:
    """Base for the dataclasses: a plain str assigned where a SchemeValue goes is wrapped.

    Works for constructor arguments and later assignments (also lists of str); `build()`
    accepts a str in such places anyway, e.g. one appended to a list.
    """

    def __setattr__(self, name: str, value: object) -> None:
        if name in _scheme_value_fields(type(self)):
            if isinstance(value, str):
                value = SchemeValue(str(value))
            elif isinstance(value, list):
                value = [SchemeValue(str(v)) if isinstance(v, str) else v for v in value]
        object.__setattr__(self, name, value)


@functools.cache
def _scheme_value_fields(cls: type) -> frozenset[str]:
    return frozenset(f.name for f in fields(cls) if "SchemeValue" in str(f.type))


@dataclass
class SchemeValue:
    """A value from an open code list (``type_schemeValuePair``): text plus optional scheme.

    Open code lists may be extended by agreement between partners, so any text is kept.
    """

    value: str
    scheme: str | None = None

    def __str__(self) -> str:
        return self.value


@dataclass
class AgencyId(_Model):
    """``type_agencyId``: e.g. ``AgencyId("ISIL", "FI-AALTO")``; str() gives ``ISIL:FI-AALTO``."""

    type: SchemeValue
    value: str

    def __str__(self) -> str:
        return f"{self.type.value}:{self.value}"


@dataclass(kw_only=True)
class Costs(_Model):
    """``type_costs``: e.g. ``Costs(currency_code="EUR", monetary_value=Decimal("12.50"))``."""

    currency_code: SchemeValue
    monetary_value: Decimal


@dataclass(kw_only=True)
class ErrorData:
    error_type: str  # ErrorType
    error_value: str | None = None


@dataclass(kw_only=True)
class RequestingAgencyAuthentication:
    account_id: str | None = None
    security_code: str | None = None


@dataclass(kw_only=True)
class ElectronicAddress(_Model):
    electronic_address_type: SchemeValue  # open list: Email, URL, FTP, Fax ...
    electronic_address_data: str


@dataclass(kw_only=True)
class PhysicalAddress(_Model):
    line1: str | None = None
    line2: str | None = None
    locality: str | None = None
    postal_code: str | None = None
    # ISO 3166-2. A scheme-value pair in v1.2, a plain string in 2021 (scheme dropped there).
    region: SchemeValue | None = None
    country: SchemeValue | None = None  # ISO 3166-1


#: The content of an XML ``<address>`` element (a choice of the two).
Address = ElectronicAddress | PhysicalAddress


# --------------------------------------------------------------------------------------
# Headers
# --------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class Header(_Model):
    """The header of a request, supplying- or requesting-agency message.

    v1.2 has one header for all three. 2021 has one per message kind, and they differ:

    =============================  =========  ===========  ===========
    element                        request    SAM          RAM
    =============================  =========  ===========  ===========
    supplyingAgencyId              optional*  required     required
    consortialId (2021 only)       optional   --           optional
    multipleItemRequestId          optional*  -- (2021)    -- (2021)
    supplyingAgencyRequestId       -- (2021)  optional     optional
    requestingAgencyAuthentication optional   -- (2021)    optional
    =============================  =========  ===========  ===========

    (*) required in v1.2; v1.2 requires ``multipleItemRequestId`` in every header, even
    empty. `build()` emits exactly what the target version allows and drops the rest.
    """

    supplying_agency_id: AgencyId | None = None
    requesting_agency_id: AgencyId | None = None
    requesting_agency_request_id: str | None = None
    timestamp: datetime | None = None
    supplying_agency_request_id: str | None = None
    multiple_item_request_id: str | None = None
    consortial_id: AgencyId | None = None  # 2021 only (request and RAM headers)
    requesting_agency_authentication: RequestingAgencyAuthentication | None = None
    # Set by the parser: the timestamp exactly as the peer wrote it (Go peers send
    # nanoseconds, which a datetime cannot hold), so a confirmation can echo it verbatim.
    timestamp_as_sent: str | None = field(default=None, compare=False, repr=False)


@dataclass(kw_only=True)
class ConfirmationHeader(_Model):
    """The header of the three confirmations.

    ``supplying_agency_id``/``requesting_agency_id`` are the *same* ones as in the
    confirmed message (not swapped); ``timestamp_received`` is the confirmed message's
    ``timestamp``.
    """

    supplying_agency_id: AgencyId | None = None
    requesting_agency_id: AgencyId | None = None
    timestamp: datetime | None = None
    requesting_agency_request_id: str | None = None
    multiple_item_request_id: str | None = None  # v1.2 only
    timestamp_received: datetime | None = None
    message_status: str | None = None  # MessageStatus
    # The confirmed message's timestamp as it was written; `build()` echoes it verbatim
    # when it is a valid xs:dateTime for the same instant as ``timestamp_received``.
    timestamp_received_as_sent: str | None = field(default=None, compare=False, repr=False)


# --------------------------------------------------------------------------------------
# Request parts
# --------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class BibliographicItemId(_Model):
    """An identifier of the item (ISBN, ISSN ...).

    The child order differs: v1.2 is identifier-then-code, 2021 code-then-identifier.
    """

    code: SchemeValue  # bibliographicItemIdentifierCode, e.g. ISBN
    identifier: str  # bibliographicItemIdentifier


@dataclass(kw_only=True)
class BibliographicRecordId(_Model):
    """An identifier of a catalogue record (OCLC number, LCCN ...); code first in both."""

    code: SchemeValue  # bibliographicRecordIdentifierCode
    identifier: str  # bibliographicRecordIdentifier


@dataclass(kw_only=True)
class BibliographicInfo:
    supplier_unique_record_id: str | None = None
    title: str | None = None
    author: str | None = None
    author_id: str | None = None  # 2021 only (ISNI)
    subtitle: str | None = None
    series_title: str | None = None
    edition: str | None = None
    title_of_component: str | None = None
    author_of_component: str | None = None
    volumes: list[str] = field(default_factory=list)  # repeatable in 2021, one in v1.2
    issue: str | None = None
    pages_requested: str | None = None
    estimated_no_pages: str | None = None
    bibliographic_item_ids: list[BibliographicItemId] = field(default_factory=list)
    sponsor: str | None = None
    information_source: str | None = None
    bibliographic_record_ids: list[BibliographicRecordId] = field(default_factory=list)


@dataclass(kw_only=True)
class PublicationInfo(_Model):
    publisher: str | None = None
    publisher_id: str | None = None  # 2021 only (ISNI)
    publication_type: SchemeValue | None = None
    publication_date: str | None = None
    place_of_publication: str | None = None


@dataclass(kw_only=True)
class ServiceInfo(_Model):
    request_type: str | None = None  # RequestType
    request_sub_types: list[str] = field(default_factory=list)  # RequestSubType; v1.2: <= 3
    requesting_agency_previous_request_id: str | None = None
    service_type: str | None = None  # ServiceType; required by both schemas
    service_level: SchemeValue | None = None
    item_format: SchemeValue | None = None  # 2021 itemFormat == v1.2 preferredFormat
    need_before_date: datetime | None = None
    copyright_compliance: SchemeValue | None = None
    any_edition: str | None = None  # YesNo (deprecated in 2021)
    preferred_edition: str | None = None  # PreferredEdition, 2021 only
    loan_conditions: list[SchemeValue] = field(default_factory=list)  # 2021 only
    start_date: datetime | None = None
    end_date: datetime | None = None
    note: str | None = None


@dataclass(kw_only=True)
class SupplierInfo:
    sort_order: int | None = None
    supplier_code: AgencyId | None = None
    supplier_description: str | None = None
    bibliographic_record_id: BibliographicRecordId | None = None
    call_number: str | None = None
    summary_holdings: str | None = None
    availability_note: str | None = None


@dataclass(kw_only=True)
class RequestedDeliveryInfo(_Model):
    sort_order: int | None = None
    address: Address | None = None
    delivery_method: SchemeValue | None = None  # 2021 only
    courier_name: SchemeValue | None = None  # 2021 only


@dataclass(kw_only=True)
class RequestingAgencyInfo:
    name: str | None = None
    contact_name: str | None = None
    addresses: list[Address] = field(default_factory=list)


@dataclass(kw_only=True)
class PatronInfo(_Model):
    patron_id: str | None = None
    surname: str | None = None
    given_name: str | None = None
    patron_type: SchemeValue | None = None
    send_to_patron: str | None = None  # YesNo
    addresses: list[Address] = field(default_factory=list)


@dataclass(kw_only=True)
class BillingInfo(_Model):
    payment_method: SchemeValue | None = None
    maximum_costs: Costs | None = None
    billing_method: SchemeValue | None = None
    billing_name: str | None = None
    address: Address | None = None


# --------------------------------------------------------------------------------------
# Supplying agency message parts
# --------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class MessageInfo(_Model):
    """v1.2's ``offeredCosts``/``retryAfter``/``retryBefore`` are in `RetryInfo`."""

    reason_for_message: str | None = None  # ReasonForMessage
    answer_yes_no: str | None = None  # YesNo
    note: str | None = None
    reason_unfilled: SchemeValue | None = None
    reason_retry: SchemeValue | None = None


@dataclass(kw_only=True)
class StatusInfo:
    # None = no status given (Alma sends an empty status in notifications: "no change").
    status: str | None = None  # Status
    expected_delivery_date: datetime | None = None
    due_date: datetime | None = None
    last_change: datetime | None = None


@dataclass(kw_only=True)
class RetryInfo(_Model):
    """What the supplier would accept a retry with (2021 ``retryInfo``).

    In v1.2 only ``offeredCosts`` (one), ``retryAfter`` and ``retryBefore`` exist, inside
    ``messageInfo``; the parser puts them here and the builder puts them back.
    """

    loan_conditions: list[SchemeValue] = field(default_factory=list)
    editions: list[str] = field(default_factory=list)
    item_formats: list[SchemeValue] = field(default_factory=list)
    volumes: list[str] = field(default_factory=list)
    service_type: str | None = None  # ServiceType
    service_levels: list[SchemeValue] = field(default_factory=list)
    delivery_methods: list[SchemeValue] = field(default_factory=list)
    courier_names: list[SchemeValue] = field(default_factory=list)
    offered_costs: list[Costs] = field(default_factory=list)
    payment_methods: list[SchemeValue] = field(default_factory=list)
    retry_before: datetime | None = None
    retry_after: datetime | None = None


@dataclass(kw_only=True)
class DeliveryInfo(_Model):
    date_sent: datetime | None = None  # required by both schemas
    item_ids: list[str] = field(default_factory=list)  # one in v1.2, repeatable in 2021
    url: str | None = None  # 2021 only
    delivery_method: SchemeValue | None = None  # 2021 deliveryMethod == v1.2 sentVia
    address: Address | None = None  # 2021 only
    sent_to_patron: bool | None = None
    loan_conditions: list[SchemeValue] = field(default_factory=list)  # one in v1.2
    item_format: SchemeValue | None = None  # 2021 itemFormat == v1.2 deliveredFormat
    service_type: str | None = None  # ServiceType, 2021 only
    delivery_costs: list[Costs] = field(default_factory=list)  # one in v1.2
    payment_method: SchemeValue | None = None  # 2021 only


@dataclass(kw_only=True)
class ShippingInfo(_Model):
    """2021 only."""

    courier_name: SchemeValue | None = None
    tracking_ids: list[str] = field(default_factory=list)
    insurance: str | None = None  # YesNo
    insurance_third_party: str | None = None  # YesNo
    third_party_name: str | None = None
    insurance_costs: list[Costs] = field(default_factory=list)


@dataclass(kw_only=True)
class ReturnInfo:
    return_agency_id: AgencyId | None = None
    name: str | None = None
    physical_address: PhysicalAddress | None = None


# --------------------------------------------------------------------------------------
# The six messages
# --------------------------------------------------------------------------------------


@dataclass(kw_only=True)
class Request:
    kind = MessageKind.REQUEST

    header: Header = field(default_factory=Header)
    bibliographic_info: BibliographicInfo = field(default_factory=BibliographicInfo)
    publication_info: PublicationInfo | None = None
    service_info: ServiceInfo | None = None  # optional in v1.2, required in 2021
    supplier_info: list[SupplierInfo] = field(default_factory=list)
    requested_delivery_info: list[RequestedDeliveryInfo] = field(default_factory=list)
    requesting_agency_info: RequestingAgencyInfo | None = None
    patron_info: PatronInfo | None = None
    billing_info: BillingInfo | None = None


@dataclass(kw_only=True)
class SupplyingAgencyMessage:
    kind = MessageKind.SUPPLYING_AGENCY_MESSAGE

    header: Header = field(default_factory=Header)
    message_info: MessageInfo = field(default_factory=MessageInfo)
    status_info: StatusInfo = field(default_factory=StatusInfo)
    retry_info: RetryInfo | None = None
    delivery_info: DeliveryInfo | None = None
    shipping_info: ShippingInfo | None = None  # 2021 only
    return_info: ReturnInfo | None = None


@dataclass(kw_only=True)
class RequestingAgencyMessage:
    kind = MessageKind.REQUESTING_AGENCY_MESSAGE

    header: Header = field(default_factory=Header)
    action: str | None = None  # Action
    note: str | None = None


@dataclass(kw_only=True)
class _Confirmation:
    confirmation_header: ConfirmationHeader = field(default_factory=ConfirmationHeader)
    # One in v1.2, repeatable in 2021.
    error_data: list[ErrorData] = field(default_factory=list)

    @property
    def header(self) -> ConfirmationHeader:
        return self.confirmation_header

    @property
    def message_status(self) -> str | None:
        return self.confirmation_header.message_status

    @property
    def is_ok(self) -> bool:
        return self.confirmation_header.message_status == MessageStatus.OK


@dataclass(kw_only=True)
class RequestConfirmation(_Confirmation):
    kind = MessageKind.REQUEST_CONFIRMATION


@dataclass(kw_only=True)
class SupplyingAgencyMessageConfirmation(_Confirmation):
    kind = MessageKind.SUPPLYING_AGENCY_MESSAGE_CONFIRMATION

    reason_for_message: str | None = None  # ReasonForMessage, echoed


@dataclass(kw_only=True)
class RequestingAgencyMessageConfirmation(_Confirmation):
    kind = MessageKind.REQUESTING_AGENCY_MESSAGE_CONFIRMATION

    action: str | None = None  # Action, echoed


#: Any of the six message bodies.
Body = (
    Request
    | SupplyingAgencyMessage
    | RequestingAgencyMessage
    | RequestConfirmation
    | SupplyingAgencyMessageConfirmation
    | RequestingAgencyMessageConfirmation
)

BODY_CLASSES: dict[MessageKind, type] = {
    cls.kind: cls
    for cls in (
        Request,
        SupplyingAgencyMessage,
        RequestingAgencyMessage,
        RequestConfirmation,
        SupplyingAgencyMessageConfirmation,
        RequestingAgencyMessageConfirmation,
    )
}


@dataclass(kw_only=True)
class Message:
    """The envelope `parse()` returns: one body plus what was learnt about the wire form.

    ``version`` is the version to *answer* in, detected from the structure first and the
    ``ill:version`` attribute second (``declared_version`` keeps the attribute verbatim).
    ``warnings`` lists what the lenient parser tolerated (ignored unknown elements,
    duplicates, values it normalised), for logs and staff screens.
    """

    body: Body
    version: Version = Version.V1_2
    declared_version: str | None = None
    raw: bytes | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def kind(self) -> MessageKind:
        return self.body.kind

    @property
    def header(self) -> Header | ConfirmationHeader:
        if isinstance(self.body, _Confirmation):
            return self.body.confirmation_header
        return self.body.header
