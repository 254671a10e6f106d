"""Emit ISO 18626 messages strictly in one version: v1.2 (2017) or 2021 (XSD 2021-2).

Output is pretty-printed UTF-8 with an XML declaration, prefix ``ill`` for the ISO 18626
namespace, namespace-qualified attributes (``ill:version``, ``ill:scheme``) and dates in UTC
with 'Z' (a naive datetime is taken to be UTC already). The root's ``ill:version`` is "1.2"
or "2021-2" (the schemas type it as any string; these name the XSDs the output validates
against). Same input, same bytes.

What differs between the versions, and how a message is mapped to the one that lacks it:

* Headers. v1.2 has one header and requires ``multipleItemRequestId`` in it (written empty
  when unset). 2021 has a header per kind: ``multipleItemRequestId`` only in a request (and
  only when non-empty), ``requestingAgencyAuthentication`` not in a SAM,
  ``supplyingAgencyRequestId`` not in a request, ``consortialId`` (2021 only; dropped for
  v1.2, it only means something inside a 2021 consortium). Elements a version's header
  does not have are left out.
* ``bibliographicItemId``: identifier-then-code in v1.2, code-then-identifier in 2021.
* Renamed elements: the model's 2021 names ``itemFormat`` / ``deliveryMethod`` are written
  as ``preferredFormat`` (serviceInfo), ``deliveredFormat`` and ``sentVia`` (deliveryInfo)
  in v1.2. 2021's ``retryInfo`` offeredCosts/retryAfter/retryBefore go into v1.2's
  ``messageInfo``. ``physicalAddress/region`` loses its scheme in 2021 (a plain string).
* Repeatable in 2021, single in v1.2: v1.2 gets the first ``itemId``, ``loanCondition``,
  ``deliveryCosts``, ``offeredCosts`` and ``errorData``; ``volume``s are joined with "; ";
  at most three distinct ``requestSubType``. Extra error data are folded into the first
  errorValue.
* 2021-only content with no v1.2 element (authorId, publisherId, preferredEdition that
  anyEdition cannot express, request loan conditions, delivery method / courier per
  requested delivery, retryInfo's other fields, deliveryInfo's URL / address /
  serviceType / paymentMethod and the extra repeats above, the whole shippingInfo) is
  appended to the message's free-text note -- serviceInfo/note of a request,
  messageInfo/note of a SAM -- one line each, ``[ISO 18626:2021 <element>: <value>]``, so
  the person reading the request on the v1.2 side still sees it. (A request without
  serviceInfo has no note to carry it.)
* 2021-only codes: action ``HoldReturn``/``Lost`` is sent to v1.2 as ``Notification`` with
  a note line naming the action; status ``HoldReturn``/``ReleaseHoldReturn`` as ``Loaned``
  (the item is still out on loan) with a note line; a confirmation echoing such an action
  omits ``action`` (optional there).
* 2021 requires request/serviceInfo: building a request without it as 2021 is a
  `BuildError`. 2021's ``sortOrder`` is non-negative: negative values are written as 0.

Anything else the schemas require and the message lacks (timestamps, agency ids, ids,
status, lastChange, dateSent, serviceType ...) or a closed-code value the target version
does not have raises `BuildError` naming the element; so whatever `build()` returns is
valid against the target XSD. Two exceptions, both for echoing: a confirmation's
``timestampReceived`` is written exactly as the confirmed message had it (nanoseconds,
offset and all) when `confirmation_for` carried that text over and it is a valid
xs:dateTime; and ``None`` there (the message had Go's zero date, or none could be read) is
written as ``0001-01-01T00:00:00Z``.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from datetime import datetime

from lxml import etree

from ._values import (
    GO_ZERO_DATE,
    ValueProblem,
    format_boolean,
    format_datetime,
    format_decimal,
    parse_datetime,
)
from .errors import BuildError
from .messages import (
    NAMESPACE,
    ONLY_2021_ACTIONS,
    ONLY_2021_STATUSES,
    Action,
    Address,
    AgencyId,
    BibliographicInfo,
    Body,
    ConfirmationHeader,
    Costs,
    DeliveryInfo,
    ElectronicAddress,
    ErrorData,
    ErrorType,
    Header,
    Message,
    MessageKind,
    MessageStatus,
    PhysicalAddress,
    PreferredEdition,
    ReasonForMessage,
    Request,
    RequestConfirmation,
    RequestingAgencyMessage,
    RequestingAgencyMessageConfirmation,
    RequestSubType,
    RequestType,
    RetryInfo,
    SchemeValue,
    ServiceInfo,
    ServiceType,
    Status,
    SupplyingAgencyMessage,
    SupplyingAgencyMessageConfirmation,
    Version,
    YesNo,
)

__all__ = ["build", "VERSION_ATTRIBUTE"]

#: The ``ill:version`` written for each version.
VERSION_ATTRIBUTE = {Version.V1_2: "1.2", Version.V2021: "2021-2"}

_NS = f"{{{NAMESPACE}}}"
_DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'
_V12 = Version.V1_2
_V2021 = Version.V2021


def build(message: Body | Message, version: Version | str | None = None) -> bytes:
    """Serialise a message body (or a parsed `Message`) as ISO 18626 ``version``.

    ``version`` is "1.2" or "2021" (a `Version`; labels such as "2021-2" or "v1_2_2017"
    are understood too). It may be left out for a `Message`, which is then built in the
    version it was parsed in. Raises `BuildError` if the message cannot be expressed.
    """
    if isinstance(message, Message):
        body: Body = message.body
        target = _version(version if version is not None else message.version)
    else:
        body = message
        if version is None:
            raise BuildError("build() needs a version for a bare message body")
        target = _version(version)
    writer = _Writer(target)
    root = etree.Element(_NS + "ISO18626Message", nsmap={"ill": NAMESPACE})
    root.set(_NS + "version", VERSION_ATTRIBUTE[target])
    write = _BODY_WRITERS.get(getattr(body, "kind", None))  # type: ignore[arg-type]
    if write is None:
        raise BuildError(f"not an ISO 18626 message body: {body!r}")
    try:
        write(writer, root, body)
    except BuildError:
        raise
    except (ValueError, TypeError) as exc:  # e.g. control characters lxml will not write
        raise BuildError(f"cannot write the message: {exc}") from None
    # A double-quoted declaration, as every peer's own output has it.
    return _DECLARATION + etree.tostring(root, encoding="UTF-8", pretty_print=True)


def _version(version: Version | str) -> Version:
    if isinstance(version, Version):
        return version
    found = Version.from_label(str(version))
    if found is None:
        raise BuildError(f"unknown ISO 18626 version {version!r}; use '1.2' or '2021'")
    return found


# --------------------------------------------------------------------------------------
# Low-level writer
# --------------------------------------------------------------------------------------


class _Writer:
    def __init__(self, version: Version) -> None:
        self.version = version

    @property
    def v12(self) -> bool:
        return self.version is _V12

    def el(self, parent: etree._Element, name: str, text: str | None = None) -> etree._Element:
        child = etree.SubElement(parent, _NS + name)
        if text is not None:
            child.text = text
        return child

    def text(self, parent: etree._Element, name: str, value: str | None) -> None:
        if value is not None:
            self.el(parent, name, value)

    def texts(self, parent: etree._Element, name: str, values: Iterable[str]) -> None:
        for value in values:
            self.el(parent, name, value)

    def required_text(
        self, parent: etree._Element, name: str, value: str | None, path: str
    ) -> None:
        if value is None:
            raise BuildError(f"{path} is required")
        self.el(parent, name, value)

    def scheme_value(
        self, parent: etree._Element, name: str, value: SchemeValue | str | None
    ) -> None:
        if value is None:
            return
        if isinstance(value, str):
            value = SchemeValue(value)
        child = self.el(parent, name, value.value)
        if value.scheme is not None:
            child.set(_NS + "scheme", value.scheme)

    def scheme_values(
        self, parent: etree._Element, name: str, values: Iterable[SchemeValue]
    ) -> None:
        for value in values:
            self.scheme_value(parent, name, value)

    def datetime(
        self, parent: etree._Element, name: str, value: datetime | None, path: str | None = None
    ) -> None:
        """Writes ``value``; ``path`` given means required (BuildError if None)."""
        if value is None:
            if path is not None:
                raise BuildError(f"{path} is required")
            return
        self.el(parent, name, format_datetime(value))

    def code(
        self,
        parent: etree._Element,
        name: str,
        value: str | None,
        enum_cls: type[enum.StrEnum],
        path: str,
        required: bool = False,
    ) -> None:
        if value is None:
            if required:
                raise BuildError(f"{path} is required")
            return
        try:
            member = enum_cls(value)
        except ValueError:
            allowed = ", ".join(m.value for m in enum_cls)
            raise BuildError(f"{path}: {value!r} is not one of {allowed}") from None
        if self.v12 and (member in ONLY_2021_ACTIONS or member in ONLY_2021_STATUSES):
            raise BuildError(f"{path}: {member.value!r} does not exist in ISO 18626 v1.2")
        self.el(parent, name, member.value)

    def sort_order(self, parent: etree._Element, value: int | None) -> None:
        if value is not None:
            # 2021 restricts sortOrder to non-negative integers.
            self.el(parent, "sortOrder", str(max(0, value) if not self.v12 else value))

    def agency_id(
        self, parent: etree._Element, name: str, value: AgencyId | None, path: str | None = None
    ) -> None:
        if value is None:
            if path is not None:
                raise BuildError(f"{path} is required")
            return
        node = self.el(parent, name)
        self.scheme_value(node, "agencyIdType", value.type)
        self.el(node, "agencyIdValue", value.value)

    def costs(self, parent: etree._Element, name: str, value: Costs | None) -> None:
        if value is None:
            return
        node = self.el(parent, name)
        self.scheme_value(node, "currencyCode", value.currency_code)
        self.el(node, "monetaryValue", format_decimal(value.monetary_value))

    def physical_address(self, parent: etree._Element, value: PhysicalAddress) -> None:
        node = self.el(parent, "physicalAddress")
        self.text(node, "line1", value.line1)
        self.text(node, "line2", value.line2)
        self.text(node, "locality", value.locality)
        self.text(node, "postalCode", value.postal_code)
        if self.v12:
            self.scheme_value(node, "region", value.region)
        elif value.region is not None:  # a plain string in 2021
            self.el(node, "region", str(value.region))
        self.scheme_value(node, "country", value.country)

    def address(self, parent: etree._Element, value: Address | None) -> None:
        if value is None:
            return
        node = self.el(parent, "address")
        if isinstance(value, ElectronicAddress):
            electronic = self.el(node, "electronicAddress")
            self.scheme_value(electronic, "electronicAddressType", value.electronic_address_type)
            self.el(electronic, "electronicAddressData", value.electronic_address_data)
        elif isinstance(value, PhysicalAddress):
            self.physical_address(node, value)
        else:
            raise BuildError(f"not an address: {value!r}")


# --------------------------------------------------------------------------------------
# v1.2 overflow: 2021-only content, as note lines
# --------------------------------------------------------------------------------------


def _line(path: str, value: object) -> str:
    return f"[ISO 18626:2021 {path}: {_describe(value)}]"


def _describe(value: object) -> str:
    if isinstance(value, Costs):
        return f"{format_decimal(value.monetary_value)} {value.currency_code}"
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, PhysicalAddress):
        parts = [value.line1, value.line2, value.postal_code, value.locality]
        parts += [str(value.region) if value.region else None]
        parts += [str(value.country) if value.country else None]
        return ", ".join(p for p in parts if p)
    if isinstance(value, ElectronicAddress):
        return f"{value.electronic_address_type} {value.electronic_address_data}"
    return str(value)


def _with_lines(note: str | None, lines: list[str]) -> str | None:
    if not lines:
        return note
    return "\n".join(([note] if note else []) + lines)


def _request_overflow(request: Request) -> list[str]:
    lines = []
    bib = request.bibliographic_info
    if bib.author_id is not None:
        lines.append(_line("bibliographicInfo/authorId", bib.author_id))
    if request.publication_info is not None and request.publication_info.publisher_id:
        lines.append(_line("publicationInfo/publisherId", request.publication_info.publisher_id))
    info = request.service_info
    if info is not None:
        if info.preferred_edition is not None and not _edition_fits_v12(info):
            lines.append(_line("serviceInfo/preferredEdition", info.preferred_edition))
        for condition in info.loan_conditions:
            lines.append(_line("serviceInfo/loanCondition", condition))
        for sub_type in _distinct(info.request_sub_types)[3:]:
            lines.append(_line("serviceInfo/requestSubType", sub_type))
    for i, delivery in enumerate(request.requested_delivery_info, 1):
        if delivery.delivery_method is not None:
            lines.append(
                _line(f"requestedDeliveryInfo[{i}]/deliveryMethod", delivery.delivery_method)
            )
        if delivery.courier_name is not None:
            lines.append(_line(f"requestedDeliveryInfo[{i}]/courierName", delivery.courier_name))
    return lines


# 2021 preferredEdition -> v1.2 anyEdition (MostRecentEdition has no v1.2 equivalent).
_EDITION_MAP: dict[str, str] = {
    PreferredEdition.ANY_EDITION: YesNo.YES,
    PreferredEdition.THIS_EDITION: YesNo.NO,
}


def _any_edition_v12(info: ServiceInfo) -> str | None:
    """v1.2 has only anyEdition; derive it from 2021's preferredEdition when unset."""
    if info.any_edition is not None or info.preferred_edition is None:
        return info.any_edition
    return _EDITION_MAP.get(info.preferred_edition)


def _edition_fits_v12(info: ServiceInfo) -> bool:
    """Whether v1.2's anyEdition says all that preferredEdition says."""
    mapped = _EDITION_MAP.get(info.preferred_edition or "")
    return mapped is not None and _any_edition_v12(info) == mapped


def _distinct(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _sam_overflow(message: SupplyingAgencyMessage) -> list[str]:
    lines = []
    if message.status_info.status in ONLY_2021_STATUSES:
        lines.append(_line("statusInfo/status", message.status_info.status))
    retry = message.retry_info
    if retry is not None:
        for name, values in (
            ("loanCondition", retry.loan_conditions),
            ("edition", retry.editions),
            ("itemFormat", retry.item_formats),
            ("volume", retry.volumes),
            ("serviceType", [retry.service_type] if retry.service_type else []),
            ("serviceLevel", retry.service_levels),
            ("deliveryMethod", retry.delivery_methods),
            ("courierName", retry.courier_names),
            ("offeredCosts", retry.offered_costs[1:]),
            ("paymentMethod", retry.payment_methods),
        ):
            lines.extend(_line(f"retryInfo/{name}", v) for v in values)
    delivery = message.delivery_info
    if delivery is not None:
        for name, values in (
            ("itemId", delivery.item_ids[1:]),
            ("URL", [delivery.url] if delivery.url else []),
            ("address", [delivery.address] if delivery.address else []),
            ("loanCondition", delivery.loan_conditions[1:]),
            ("serviceType", [delivery.service_type] if delivery.service_type else []),
            ("deliveryCosts", delivery.delivery_costs[1:]),
            ("paymentMethod", [delivery.payment_method] if delivery.payment_method else []),
        ):
            lines.extend(_line(f"deliveryInfo/{name}", v) for v in values)
    shipping = message.shipping_info
    if shipping is not None:
        for name, values in (
            ("courierName", [shipping.courier_name] if shipping.courier_name else []),
            ("trackingId", shipping.tracking_ids),
            ("insurance", [shipping.insurance] if shipping.insurance else []),
            (
                "insuranceThirdParty",
                [shipping.insurance_third_party] if shipping.insurance_third_party else [],
            ),
            ("thirdPartyName", [shipping.third_party_name] if shipping.third_party_name else []),
            ("insuranceCosts", shipping.insurance_costs),
        ):
            lines.extend(_line(f"shippingInfo/{name}", v) for v in values)
    return lines


# --------------------------------------------------------------------------------------
# Headers
# --------------------------------------------------------------------------------------


def _header(w: _Writer, parent: etree._Element, header: Header, kind: MessageKind) -> None:
    path = f"{kind.value}/header"
    node = w.el(parent, "header")
    request = kind is MessageKind.REQUEST
    sam = kind is MessageKind.SUPPLYING_AGENCY_MESSAGE
    # 2021 lets a request leave the supplier out (e.g. for a transfer request).
    supplier_required = w.v12 or not request
    w.agency_id(
        node,
        "supplyingAgencyId",
        header.supplying_agency_id,
        f"{path}/supplyingAgencyId" if supplier_required else None,
    )
    w.agency_id(
        node, "requestingAgencyId", header.requesting_agency_id, f"{path}/requestingAgencyId"
    )
    if not w.v12 and not sam:
        w.agency_id(node, "consortialId", header.consortial_id)
    if w.v12:
        # Required by v1.2 in every header, even when there is no multiple-item request.
        w.el(node, "multipleItemRequestId", header.multiple_item_request_id or "")
    elif request and header.multiple_item_request_id:
        w.el(node, "multipleItemRequestId", header.multiple_item_request_id)
    w.datetime(node, "timestamp", header.timestamp, f"{path}/timestamp")
    w.required_text(
        node,
        "requestingAgencyRequestId",
        header.requesting_agency_request_id,
        f"{path}/requestingAgencyRequestId",
    )
    if w.v12 or not request:
        w.text(node, "supplyingAgencyRequestId", header.supplying_agency_request_id)
    auth = header.requesting_agency_authentication
    if auth is not None and (w.v12 or not sam):
        auth_node = w.el(node, "requestingAgencyAuthentication")
        w.text(auth_node, "accountId", auth.account_id)
        w.text(auth_node, "securityCode", auth.security_code)


def _confirmation_header(
    w: _Writer, parent: etree._Element, header: ConfirmationHeader, kind: MessageKind
) -> None:
    path = f"{kind.value}/confirmationHeader"
    node = w.el(parent, "confirmationHeader")
    w.agency_id(node, "supplyingAgencyId", header.supplying_agency_id)
    w.agency_id(node, "requestingAgencyId", header.requesting_agency_id)
    w.datetime(node, "timestamp", header.timestamp, f"{path}/timestamp")
    w.text(node, "requestingAgencyRequestId", header.requesting_agency_request_id)
    if w.v12:
        w.text(node, "multipleItemRequestId", header.multiple_item_request_id)
    received, as_sent = header.timestamp_received, header.timestamp_received_as_sent
    if as_sent is not None and _is_same_instant(as_sent, received):
        # Byte-for-byte what the peer sent: peers match confirmations on it, and a datetime
        # cannot hold the nanoseconds Go peers write.
        w.el(node, "timestampReceived", as_sent)
    elif received is None:
        # Echo of "no date": the confirmed message had none we could read.
        w.el(node, "timestampReceived", GO_ZERO_DATE)
    else:
        w.datetime(node, "timestampReceived", received)
    w.code(
        node, "messageStatus", header.message_status, MessageStatus, f"{path}/messageStatus", True
    )


# xs:dateTime, strictly (the parser also reads forms the schemas do not allow).
_XSD_DATETIME = re.compile(r"-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?")


def _is_same_instant(text: str, value: datetime | None) -> bool:
    if not _XSD_DATETIME.fullmatch(text):
        return False
    try:
        return parse_datetime(text)[0] == value
    except ValueProblem:
        return False


def _error_data(
    w: _Writer, parent: etree._Element, errors: list[ErrorData], kind: MessageKind
) -> None:
    if w.v12 and len(errors) > 1:
        # v1.2 allows one errorData: fold the others into its errorValue.
        first, rest = errors[0], errors[1:]
        values = [first.error_value or ""]
        values += [
            f"{e.error_type}: {e.error_value}" if e.error_value else e.error_type for e in rest
        ]
        errors = [ErrorData(error_type=first.error_type, error_value="; ".join(values))]
    for error in errors:
        node = w.el(parent, "errorData")
        w.code(node, "errorType", error.error_type, ErrorType, f"{kind.value}/errorData", True)
        w.text(node, "errorValue", error.error_value)


# --------------------------------------------------------------------------------------
# The six messages
# --------------------------------------------------------------------------------------


def _request(w: _Writer, root: etree._Element, request: Request) -> None:
    node = w.el(root, "request")
    _header(w, node, request.header, MessageKind.REQUEST)
    _bibliographic_info(w, node, request.bibliographic_info)

    pub = request.publication_info
    if pub is not None:
        pub_node = w.el(node, "publicationInfo")
        w.text(pub_node, "publisher", pub.publisher)
        if not w.v12:
            w.text(pub_node, "publisherId", pub.publisher_id)
        w.scheme_value(pub_node, "publicationType", pub.publication_type)
        w.text(pub_node, "publicationDate", pub.publication_date)
        w.text(pub_node, "placeOfPublication", pub.place_of_publication)

    if request.service_info is not None:
        overflow = _request_overflow(request) if w.v12 else []
        _service_info(w, node, request.service_info, overflow)
    elif not w.v12:
        raise BuildError("request/serviceInfo (with serviceType) is required in ISO 18626:2021")

    for supplier in request.supplier_info:
        sup_node = w.el(node, "supplierInfo")
        w.sort_order(sup_node, supplier.sort_order)
        w.agency_id(sup_node, "supplierCode", supplier.supplier_code)
        w.text(sup_node, "supplierDescription", supplier.supplier_description)
        if supplier.bibliographic_record_id is not None:
            record = w.el(sup_node, "bibliographicRecordId")
            code = supplier.bibliographic_record_id.code
            w.scheme_value(record, "bibliographicRecordIdentifierCode", code)
            w.el(
                record, "bibliographicRecordIdentifier", supplier.bibliographic_record_id.identifier
            )
        w.text(sup_node, "callNumber", supplier.call_number)
        w.text(sup_node, "summaryHoldings", supplier.summary_holdings)
        w.text(sup_node, "availabilityNote", supplier.availability_note)

    for delivery in request.requested_delivery_info:
        del_node = w.el(node, "requestedDeliveryInfo")
        w.sort_order(del_node, delivery.sort_order)
        w.address(del_node, delivery.address)
        if not w.v12:
            w.scheme_value(del_node, "deliveryMethod", delivery.delivery_method)
            w.scheme_value(del_node, "courierName", delivery.courier_name)

    agency = request.requesting_agency_info
    if agency is not None:
        agency_node = w.el(node, "requestingAgencyInfo")
        w.text(agency_node, "name", agency.name)
        w.text(agency_node, "contactName", agency.contact_name)
        for address in agency.addresses:
            w.address(agency_node, address)

    patron = request.patron_info
    if patron is not None:
        patron_node = w.el(node, "patronInfo")
        w.text(patron_node, "patronId", patron.patron_id)
        w.text(patron_node, "surname", patron.surname)
        w.text(patron_node, "givenName", patron.given_name)
        w.scheme_value(patron_node, "patronType", patron.patron_type)
        w.code(patron_node, "sendToPatron", patron.send_to_patron, YesNo, "patronInfo/sendToPatron")
        for address in patron.addresses:
            w.address(patron_node, address)

    billing = request.billing_info
    if billing is not None:
        billing_node = w.el(node, "billingInfo")
        w.scheme_value(billing_node, "paymentMethod", billing.payment_method)
        w.costs(billing_node, "maximumCosts", billing.maximum_costs)
        w.scheme_value(billing_node, "billingMethod", billing.billing_method)
        w.text(billing_node, "billingName", billing.billing_name)
        w.address(billing_node, billing.address)


def _bibliographic_info(w: _Writer, parent: etree._Element, bib: BibliographicInfo) -> None:
    node = w.el(parent, "bibliographicInfo")
    w.text(node, "supplierUniqueRecordId", bib.supplier_unique_record_id)
    w.text(node, "title", bib.title)
    w.text(node, "author", bib.author)
    if not w.v12:
        w.text(node, "authorId", bib.author_id)
    w.text(node, "subtitle", bib.subtitle)
    w.text(node, "seriesTitle", bib.series_title)
    w.text(node, "edition", bib.edition)
    w.text(node, "titleOfComponent", bib.title_of_component)
    w.text(node, "authorOfComponent", bib.author_of_component)
    if w.v12:
        w.text(node, "volume", "; ".join(bib.volumes) if bib.volumes else None)
    else:
        w.texts(node, "volume", bib.volumes)
    w.text(node, "issue", bib.issue)
    w.text(node, "pagesRequested", bib.pages_requested)
    w.text(node, "estimatedNoPages", bib.estimated_no_pages)
    for item in bib.bibliographic_item_ids:
        item_node = w.el(node, "bibliographicItemId")
        # The child order is the one thing that differs here between the versions.
        if w.v12:
            w.el(item_node, "bibliographicItemIdentifier", item.identifier)
            w.scheme_value(item_node, "bibliographicItemIdentifierCode", item.code)
        else:
            w.scheme_value(item_node, "bibliographicItemIdentifierCode", item.code)
            w.el(item_node, "bibliographicItemIdentifier", item.identifier)
    w.text(node, "sponsor", bib.sponsor)
    w.text(node, "informationSource", bib.information_source)
    for record in bib.bibliographic_record_ids:
        record_node = w.el(node, "bibliographicRecordId")
        w.scheme_value(record_node, "bibliographicRecordIdentifierCode", record.code)
        w.el(record_node, "bibliographicRecordIdentifier", record.identifier)


def _service_info(
    w: _Writer, parent: etree._Element, info: ServiceInfo, overflow: list[str]
) -> None:
    path = "request/serviceInfo"
    node = w.el(parent, "serviceInfo")
    w.code(node, "requestType", info.request_type, RequestType, f"{path}/requestType")
    sub_types = _distinct(info.request_sub_types)[:3] if w.v12 else info.request_sub_types
    for sub_type in sub_types:
        w.code(node, "requestSubType", sub_type, RequestSubType, f"{path}/requestSubType")
    w.text(node, "requestingAgencyPreviousRequestId", info.requesting_agency_previous_request_id)
    w.code(node, "serviceType", info.service_type, ServiceType, f"{path}/serviceType", True)
    w.scheme_value(node, "serviceLevel", info.service_level)
    w.scheme_value(node, "preferredFormat" if w.v12 else "itemFormat", info.item_format)
    w.datetime(node, "needBeforeDate", info.need_before_date)
    w.scheme_value(node, "copyrightCompliance", info.copyright_compliance)
    if w.v12:
        w.code(node, "anyEdition", _any_edition_v12(info), YesNo, f"{path}/anyEdition")
    else:
        w.code(node, "anyEdition", info.any_edition, YesNo, f"{path}/anyEdition")
        w.code(
            node,
            "preferredEdition",
            info.preferred_edition,
            PreferredEdition,
            f"{path}/preferredEdition",
        )
        w.scheme_values(node, "loanCondition", info.loan_conditions)
    w.datetime(node, "startDate", info.start_date)
    w.datetime(node, "endDate", info.end_date)
    w.text(node, "note", _with_lines(info.note, overflow))


def _supplying_agency_message(
    w: _Writer, root: etree._Element, message: SupplyingAgencyMessage
) -> None:
    kind = MessageKind.SUPPLYING_AGENCY_MESSAGE
    node = w.el(root, kind.value)
    _header(w, node, message.header, kind)
    overflow = _sam_overflow(message) if w.v12 else []
    retry = message.retry_info or RetryInfo()

    info = message.message_info
    info_node = w.el(node, "messageInfo")
    w.code(
        info_node,
        "reasonForMessage",
        info.reason_for_message,
        ReasonForMessage,
        f"{kind.value}/messageInfo/reasonForMessage",
        True,
    )
    w.code(info_node, "answerYesNo", info.answer_yes_no, YesNo, "messageInfo/answerYesNo")
    w.text(info_node, "note", _with_lines(info.note, overflow))
    w.scheme_value(info_node, "reasonUnfilled", info.reason_unfilled)
    w.scheme_value(info_node, "reasonRetry", info.reason_retry)
    if w.v12:  # where v1.2 keeps what 2021 moved into retryInfo
        w.costs(info_node, "offeredCosts", retry.offered_costs[0] if retry.offered_costs else None)
        w.datetime(info_node, "retryAfter", retry.retry_after)
        w.datetime(info_node, "retryBefore", retry.retry_before)

    status = message.status_info
    status_node = w.el(node, "statusInfo")
    status_value = status.status
    if w.v12 and status_value in ONLY_2021_STATUSES:
        status_value = Status.LOANED  # the item is still out; the note names the 2021 status
    w.code(status_node, "status", status_value, Status, f"{kind.value}/statusInfo/status", True)
    w.datetime(status_node, "expectedDeliveryDate", status.expected_delivery_date)
    w.datetime(status_node, "dueDate", status.due_date)
    w.datetime(status_node, "lastChange", status.last_change, f"{kind.value}/statusInfo/lastChange")

    if not w.v12 and message.retry_info is not None:
        _retry_info(w, node, message.retry_info)
    if message.delivery_info is not None:
        _delivery_info(w, node, message.delivery_info)
    shipping = message.shipping_info
    if not w.v12 and shipping is not None:
        ship_node = w.el(node, "shippingInfo")
        w.scheme_value(ship_node, "courierName", shipping.courier_name)
        w.texts(ship_node, "trackingId", shipping.tracking_ids)
        w.code(ship_node, "insurance", shipping.insurance, YesNo, "shippingInfo/insurance")
        w.code(
            ship_node,
            "insuranceThirdParty",
            shipping.insurance_third_party,
            YesNo,
            "shippingInfo/insuranceThirdParty",
        )
        w.text(ship_node, "thirdPartyName", shipping.third_party_name)
        for costs in shipping.insurance_costs:
            w.costs(ship_node, "insuranceCosts", costs)
    ret = message.return_info
    if ret is not None:
        ret_node = w.el(node, "returnInfo")
        w.agency_id(ret_node, "returnAgencyId", ret.return_agency_id)
        w.text(ret_node, "name", ret.name)
        if ret.physical_address is not None:
            w.physical_address(ret_node, ret.physical_address)


def _retry_info(w: _Writer, parent: etree._Element, retry: RetryInfo) -> None:
    node = w.el(parent, "retryInfo")
    w.scheme_values(node, "loanCondition", retry.loan_conditions)
    w.texts(node, "edition", retry.editions)
    w.scheme_values(node, "itemFormat", retry.item_formats)
    w.texts(node, "volume", retry.volumes)
    w.code(node, "serviceType", retry.service_type, ServiceType, "retryInfo/serviceType")
    w.scheme_values(node, "serviceLevel", retry.service_levels)
    w.scheme_values(node, "deliveryMethod", retry.delivery_methods)
    w.scheme_values(node, "courierName", retry.courier_names)
    for costs in retry.offered_costs:
        w.costs(node, "offeredCosts", costs)
    w.scheme_values(node, "paymentMethod", retry.payment_methods)
    w.datetime(node, "retryBefore", retry.retry_before)
    w.datetime(node, "retryAfter", retry.retry_after)


def _delivery_info(w: _Writer, parent: etree._Element, info: DeliveryInfo) -> None:
    path = "supplyingAgencyMessage/deliveryInfo"
    node = w.el(parent, "deliveryInfo")
    w.datetime(node, "dateSent", info.date_sent, f"{path}/dateSent")
    if w.v12:
        w.text(node, "itemId", info.item_ids[0] if info.item_ids else None)
        w.scheme_value(node, "sentVia", info.delivery_method)
        if info.sent_to_patron is not None:
            w.el(node, "sentToPatron", format_boolean(info.sent_to_patron))
        w.scheme_value(
            node, "loanCondition", info.loan_conditions[0] if info.loan_conditions else None
        )
        w.scheme_value(node, "deliveredFormat", info.item_format)
        w.costs(node, "deliveryCosts", info.delivery_costs[0] if info.delivery_costs else None)
        return
    w.texts(node, "itemId", info.item_ids)
    w.text(node, "URL", info.url)
    w.scheme_value(node, "deliveryMethod", info.delivery_method)
    w.address(node, info.address)
    if info.sent_to_patron is not None:
        w.el(node, "sentToPatron", format_boolean(info.sent_to_patron))
    w.scheme_values(node, "loanCondition", info.loan_conditions)
    w.scheme_value(node, "itemFormat", info.item_format)
    w.code(node, "serviceType", info.service_type, ServiceType, f"{path}/serviceType")
    for costs in info.delivery_costs:
        w.costs(node, "deliveryCosts", costs)
    w.scheme_value(node, "paymentMethod", info.payment_method)


def _requesting_agency_message(
    w: _Writer, root: etree._Element, message: RequestingAgencyMessage
) -> None:
    kind = MessageKind.REQUESTING_AGENCY_MESSAGE
    node = w.el(root, kind.value)
    _header(w, node, message.header, kind)
    action, note = message.action, message.note
    if w.v12 and action in ONLY_2021_ACTIONS:
        # v1.2 has no HoldReturn/Lost: tell the person on the other side in a Notification.
        note = _with_lines(note, [_line("action", action)])
        action = Action.NOTIFICATION
    w.code(node, "action", action, Action, f"{kind.value}/action", True)
    w.text(node, "note", note)


def _request_confirmation(w: _Writer, root: etree._Element, conf: RequestConfirmation) -> None:
    node = w.el(root, conf.kind.value)
    _confirmation_header(w, node, conf.confirmation_header, conf.kind)
    _error_data(w, node, conf.error_data, conf.kind)


def _supplying_agency_message_confirmation(
    w: _Writer, root: etree._Element, conf: SupplyingAgencyMessageConfirmation
) -> None:
    node = w.el(root, conf.kind.value)
    _confirmation_header(w, node, conf.confirmation_header, conf.kind)
    w.code(
        node,
        "reasonForMessage",
        conf.reason_for_message,
        ReasonForMessage,
        f"{conf.kind.value}/reasonForMessage",
    )
    _error_data(w, node, conf.error_data, conf.kind)


def _requesting_agency_message_confirmation(
    w: _Writer, root: etree._Element, conf: RequestingAgencyMessageConfirmation
) -> None:
    node = w.el(root, conf.kind.value)
    _confirmation_header(w, node, conf.confirmation_header, conf.kind)
    action = conf.action
    if w.v12 and action in ONLY_2021_ACTIONS:
        action = None  # optional in a confirmation; v1.2 has no value for it
    w.code(node, "action", action, Action, f"{conf.kind.value}/action")
    _error_data(w, node, conf.error_data, conf.kind)


_BODY_WRITERS = {
    MessageKind.REQUEST: _request,
    MessageKind.SUPPLYING_AGENCY_MESSAGE: _supplying_agency_message,
    MessageKind.REQUESTING_AGENCY_MESSAGE: _requesting_agency_message,
    MessageKind.REQUEST_CONFIRMATION: _request_confirmation,
    MessageKind.SUPPLYING_AGENCY_MESSAGE_CONFIRMATION: _supplying_agency_message_confirmation,
    MessageKind.REQUESTING_AGENCY_MESSAGE_CONFIRMATION: _requesting_agency_message_confirmation,
}
