"""ISO 18626 (interlibrary loan) message codec: typed messages, v1.2 and 2021, plain lxml.

Answer a message received over HTTP (the confirmation goes back in the response)::

    from ill import iso18626 as iso

    def receive(body: bytes) -> bytes | None:       # None: answer with a plain HTTP 400
        try:
            msg = iso.parse(body)                       # any kind, ill:version 1.0 ... 2021-3
        except iso.Iso18626Error as exc:                # the only exception parse() raises
            conf = iso.error_confirmation_for(exc)      # echoes what could be read
            return conf and iso.build(conf, exc.version or "1.2")
        ...                                             # e.g. msg.body.status_info.status
        return iso.build(iso.confirmation_for(msg), msg.version)

Send one by constructing the dataclasses (keyword arguments; a str works wherever a
`SchemeValue` goes) and calling ``build(message, "1.2" | "2021")``: strictly that version,
mapping what it lacks (see `ill.iso18626.build`), `BuildError` for what it cannot express.
`parse` refuses DTDs/entities and bodies over ``max_bytes``, tolerates either version's order,
unknown elements, Go zero dates and Alma's empty status; ``Message.version`` is the version
to answer in, ``Message.warnings`` what was tolerated. No Django: stdlib and lxml only.
"""

from .build import VERSION_ATTRIBUTE, build
from .confirm import confirmation_for, error_confirmation_for
from .errors import BuildError, Iso18626Error
from .messages import (
    NAMESPACE,
    Action,
    Address,
    AgencyId,
    BibliographicInfo,
    BibliographicItemId,
    BibliographicRecordId,
    BillingInfo,
    Body,
    ConfirmationHeader,
    Costs,
    DeliveryInfo,
    ElectronicAddress,
    ErrorData,
    ErrorType,
    Header,
    Message,
    MessageInfo,
    MessageKind,
    MessageStatus,
    PatronInfo,
    PhysicalAddress,
    PreferredEdition,
    PublicationInfo,
    ReasonForMessage,
    Request,
    RequestConfirmation,
    RequestedDeliveryInfo,
    RequestingAgencyAuthentication,
    RequestingAgencyInfo,
    RequestingAgencyMessage,
    RequestingAgencyMessageConfirmation,
    RequestSubType,
    RequestType,
    RetryInfo,
    ReturnInfo,
    SchemeValue,
    ServiceInfo,
    ServiceType,
    ShippingInfo,
    Status,
    StatusInfo,
    SupplierInfo,
    SupplyingAgencyMessage,
    SupplyingAgencyMessageConfirmation,
    Version,
    YesNo,
)
from .parse import DEFAULT_MAX_BYTES, DEFAULT_MAX_ELEMENTS, exceeds_element_limit, parse

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_MAX_ELEMENTS",
    "NAMESPACE",
    "VERSION_ATTRIBUTE",
    "Action",
    "Address",
    "AgencyId",
    "BibliographicInfo",
    "BibliographicItemId",
    "BibliographicRecordId",
    "BillingInfo",
    "Body",
    "BuildError",
    "ConfirmationHeader",
    "Costs",
    "DeliveryInfo",
    "ElectronicAddress",
    "ErrorData",
    "ErrorType",
    "Header",
    "Iso18626Error",
    "Message",
    "MessageInfo",
    "MessageKind",
    "MessageStatus",
    "PatronInfo",
    "PhysicalAddress",
    "PreferredEdition",
    "PublicationInfo",
    "ReasonForMessage",
    "Request",
    "RequestConfirmation",
    "RequestSubType",
    "RequestType",
    "RequestedDeliveryInfo",
    "RequestingAgencyAuthentication",
    "RequestingAgencyInfo",
    "RequestingAgencyMessage",
    "RequestingAgencyMessageConfirmation",
    "RetryInfo",
    "ReturnInfo",
    "SchemeValue",
    "ServiceInfo",
    "ServiceType",
    "ShippingInfo",
    "Status",
    "StatusInfo",
    "SupplierInfo",
    "SupplyingAgencyMessage",
    "SupplyingAgencyMessageConfirmation",
    "Version",
    "YesNo",
    "build",
    "confirmation_for",
    "error_confirmation_for",
    "exceeds_element_limit",
    "parse",
]
