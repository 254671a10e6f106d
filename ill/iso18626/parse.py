"""Hardened, lenient parser for ISO 18626 messages of any version.

Security first: the body is size-capped *before* parsing, any DOCTYPE / ENTITY declaration
is refused outright (so XXE, external DTDs and billion-laughs payloads are rejected without
expanding or fetching anything), and lxml is configured to resolve no entities, load no
DTD, touch no network and refuse huge trees.

Then leniency, because real peers are sloppy:

* element order does not matter (v1.2 and 2021 order some children differently);
* unknown elements are ignored, and duplicates of single elements use the first one
  (both recorded in ``Message.warnings``);
* optional structures missing their own required parts (a ``bibliographicItemId``
  without an identifier, costs without an amount ...) are dropped with a warning;
* open code lists accept any value; closed codes are matched case-insensitively;
* dates need not have seconds, a fraction or a zone (UTC assumed); Go's zero date
  ``0001-01-01T00:00:00Z`` means "no date" and becomes ``None``;
* an empty or missing ``status`` (Alma, in notifications) becomes ``None``: no change.

Where validation happens: *structural* failures (not XML, wrong root or namespace, no
message, a missing header / ids / timestamp / reasonForMessage / action ...) raise at once.
*Value* failures (a closed-code value neither version knows, an empty request id, a
malformed date or number) are collected while the whole message is read, the unknown value
being kept as the raw string. With ``strict=True`` (the default) the first one is then
raised, with the complete parsed message attached as ``exc.message``; with
``strict=False`` the message is returned and the problems are listed in its warnings.

Error types chosen (CrossLink's broker answers the same way):

=====================================================  ==================================
unknown / empty ``action`` of a requestingAgencyMessage  UnsupportedActionType
unknown / empty ``reasonForMessage``                     UnsupportedReasonForMessageType
unknown ``status`` or other closed code, malformed
date / number / boolean, empty requestingAgencyRequestId UnrecognisedDataValue
the root holds an element that is no message kind        UnrecognisedDataElement
not XML, DOCTYPE, too large, wrong root / namespace,
no message, missing required element                    BadlyFormedMessage
=====================================================  ==================================

The version to answer in is detected from the structure (elements and values only one
version has, ``multipleItemRequestId`` where only v1.2 puts it, the order of
``bibliographicItemId``'s children); the ``ill:version`` attribute ("1.0", "1.1", "1.2",
"v1_2_2017", "2021-2", "2021-3" ...) only decides when the structure does not, and v1.2 is
the default.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from lxml import etree

from ._values import (
    ValueProblem,
    parse_boolean,
    parse_datetime,
    parse_decimal,
    parse_integer,
)
from .errors import Iso18626Error
from .messages import (
    NAMESPACE,
    ONLY_2021_ACTIONS,
    ONLY_2021_STATUSES,
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

__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_ELEMENTS", "exceeds_element_limit", "parse"]

#: Default size cap. Real ISO 18626 messages are a few kilobytes.
DEFAULT_MAX_BYTES = 1024 * 1024
# A real message has a few dozen elements, a rich request a few hundred; reading each one
# costs Python time (250,000 unknown elements in 1 MiB took seconds), so there is a cap.
DEFAULT_MAX_ELEMENTS = 2000

_BAD = ErrorType.BADLY_FORMED_MESSAGE
_VALUE = ErrorType.UNRECOGNISED_DATA_VALUE
_MAX_WARNINGS = 200

E = TypeVar("E", bound=enum.StrEnum)
T = TypeVar("T")


def _parser_options() -> dict:
    return {"resolve_entities": False, "no_network": True, "dtd_validation": False,
            "load_dtd": False, "huge_tree": False, "remove_comments": True,
            "remove_pis": True, "collect_ids": False}


def exceeds_element_limit(data: bytes, max_elements: int = DEFAULT_MAX_ELEMENTS) -> bool:
    """Whether the document has more than `max_elements` elements, found in time that
    grows with the limit, not with the document: every element starts with a "<" byte in
    any encoding XML may use, so a count of those bytes clears almost every message at
    once; only a body with more of them is read, and only until the limit is passed."""
    if data.count(b"<") <= max_elements:
        return False
    reader = etree.XMLPullParser(events=("start",), **_parser_options())
    seen = 0
    try:
        for at in range(0, len(data), 16384):
            reader.feed(data[at:at + 16384])
            for _event in reader.read_events():
                seen += 1
                if seen > max_elements:
                    return True
    except (etree.LxmlError, ValueError):
        return False  # not well-formed: parse() says so
    return False


def parse(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, strict: bool = True,
          max_elements: int = DEFAULT_MAX_ELEMENTS) -> Message:
    """Parse one ISO 18626 message (any kind, v1.0 to 2021) into a `Message`.

    Raises `Iso18626Error` -- and nothing else -- for anything it will not accept; see the
    module docstring for which errorType is used when. Pass bytes as received (a str is
    encoded as UTF-8, which is only right if it has no other encoding declaration).
    """
    if isinstance(data, str):
        data = data.encode("utf-8")
    elif not isinstance(data, bytes | bytearray | memoryview):
        raise TypeError(f"parse() takes the message as bytes, not {type(data).__name__}")
    data = bytes(data)
    if len(data) > max_bytes:
        raise Iso18626Error(
            _BAD, f"message is {len(data)} bytes, more than the {max_bytes} bytes accepted"
        )
    if _declares_dtd(data):
        raise Iso18626Error(
            _BAD, "DOCTYPE and ENTITY declarations are not allowed in ISO 18626 messages"
        )
    if exceeds_element_limit(data, max_elements):
        raise Iso18626Error(_BAD, f"message has more than the {max_elements} elements accepted")
    parser = etree.XMLParser(**_parser_options())
    try:
        root = etree.fromstring(data, parser)
    except (etree.LxmlError, ValueError) as exc:
        raise Iso18626Error(_BAD, f"not well-formed XML: {exc}") from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:  # defence in depth
        raise Iso18626Error(_BAD, "DOCTYPE declarations are not allowed in ISO 18626 messages")
    return _parse_root(root, _Ctx(data), strict)


def _declares_dtd(data: bytes) -> bool:
    """Cheap pre-scan for DTD markup in the encodings lxml would auto-detect."""
    upper = data.upper()
    for encoding in ("ascii", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"):
        for marker in ("<!DOCTYPE", "<!ENTITY"):
            if marker.encode(encoding) in upper:
                return True
    return False


# --------------------------------------------------------------------------------------
# Parse context and element access
# --------------------------------------------------------------------------------------


class _Ctx:
    """What has been learnt so far; used to give errors their context."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw
        self.warnings: list[str] = []
        self.problems: list[tuple[ErrorType, str]] = []
        self.evidence_12: list[str] = []
        self.evidence_2021: list[str] = []
        self.weak_2021: list[str] = []
        self.declared: str | None = None
        self.kind: MessageKind | None = None
        self.header: Header | ConfirmationHeader | None = None
        self.action: str | None = None
        self.reason: str | None = None

    def warn(self, text: str) -> None:
        if len(self.warnings) < _MAX_WARNINGS:
            self.warnings.append(text)
        elif len(self.warnings) == _MAX_WARNINGS:
            self.warnings.append("(further warnings omitted)")

    def problem(self, error_type: ErrorType, text: str) -> None:
        self.problems.append((error_type, text))

    def only_12(self, why: str) -> None:
        self.evidence_12.append(why)

    def only_2021(self, why: str) -> None:
        self.evidence_2021.append(why)

    def version(self) -> Version:
        """Structure first, then the declared attribute, then weak hints, then v1.2."""
        if self.evidence_12 and not self.evidence_2021:
            return Version.V1_2
        if self.evidence_2021 and not self.evidence_12:
            return Version.V2021
        declared = Version.from_label(self.declared)
        if declared is not None:
            return declared
        if self.evidence_12 or self.evidence_2021:  # contradictory structure: majority
            if len(self.evidence_2021) > len(self.evidence_12):
                return Version.V2021
            return Version.V1_2
        return Version.V2021 if self.weak_2021 else Version.V1_2

    def error(self, error_type: ErrorType, text: str) -> Iso18626Error:
        return Iso18626Error(
            error_type,
            text,
            kind=self.kind,
            version=self.version(),
            header=self.header,
            action=self.action,
            reason_for_message=self.reason,
        )


def _split(tag: str) -> tuple[str | None, str]:
    if tag.startswith("{"):
        ns, _, local = tag[1:].partition("}")
        return ns, local
    return None, tag


class _El:
    """An element with its ISO 18626 children indexed by local name.

    Every access records the name, so `done()` can warn about elements nobody read.
    """

    __slots__ = ("el", "path", "ctx", "_children", "_seen", "_warned")

    def __init__(self, el: etree._Element, path: str, ctx: _Ctx) -> None:
        self.el = el
        self.path = path
        self.ctx = ctx
        self._children: dict[str, list[etree._Element]] = {}
        self._seen: set[str] = set()
        self._warned: set[str] = set()
        for child in el:
            if not isinstance(child.tag, str):  # entity references and the like
                continue
            ns, local = _split(child.tag)
            if ns is not None and ns != NAMESPACE:
                ctx.warn(f"{path}: ignored {child.tag} (not in the ISO 18626 namespace)")
                continue
            self._children.setdefault(local, []).append(child)

    def names(self) -> list[str]:
        return list(self._children)

    def has(self, name: str) -> bool:
        self._seen.add(name)
        return name in self._children

    def all(self, name: str) -> list[_El]:
        self._seen.add(name)
        return [_El(c, f"{self.path}/{name}", self.ctx) for c in self._children.get(name, [])]

    def one(self, name: str) -> _El | None:
        items = self.all(name)
        if len(items) > 1 and name not in self._warned:
            self._warned.add(name)
            self.ctx.warn(f"{self.path}/{name} appears {len(items)} times; the first is used")
        return items[0] if items else None

    def own_text(self, keep_empty: bool = False) -> str | None:
        if self._children:
            self.ctx.warn(f"{self.path}: child elements of a text element ignored")
            self._seen.update(self._children)
        text = (self.el.text or "").strip()
        return text if text or keep_empty else None

    def text(self, name: str, keep_empty: bool = False) -> str | None:
        node = self.one(name)
        return None if node is None else node.own_text(keep_empty)

    def texts(self, name: str) -> list[str]:
        return [t for node in self.all(name) if (t := node.own_text()) is not None]

    def done(self) -> None:
        for name in self._children:
            if name not in self._seen:
                self.ctx.warn(f"{self.path}: ignored unknown element {name!r}")

    # -- typed values ------------------------------------------------------------------

    def scheme_value(self, name: str, keep_empty: bool = False) -> SchemeValue | None:
        node = self.one(name)
        return None if node is None else node.as_scheme_value(keep_empty)

    def scheme_values(self, name: str) -> list[SchemeValue]:
        return [v for node in self.all(name) if (v := node.as_scheme_value()) is not None]

    def as_scheme_value(self, keep_empty: bool = False) -> SchemeValue | None:
        text = self.own_text(keep_empty)
        if text is None:
            return None
        scheme = self.el.get(f"{{{NAMESPACE}}}scheme") or self.el.get("scheme") or None
        return SchemeValue(text, scheme.strip() if scheme else None)

    def datetime(self, name: str) -> datetime | None:
        text = self.text(name)
        if text is None:
            return None
        try:
            value, had_zone = parse_datetime(text)
        except ValueProblem as exc:
            self.ctx.problem(_VALUE, f"{self.path}/{name}: {exc}")
            return None
        if not had_zone:
            self.ctx.warn(f"{self.path}/{name}: {text!r} has no time zone; UTC assumed")
        return value

    def integer(self, name: str) -> int | None:
        text = self.text(name)
        if text is None:
            return None
        try:
            return parse_integer(text)
        except ValueProblem as exc:
            self.ctx.problem(_VALUE, f"{self.path}/{name}: {exc}")
            return None

    def boolean(self, name: str) -> bool | None:
        text = self.text(name)
        if text is None:
            return None
        try:
            value, canonical = parse_boolean(text)
        except ValueProblem as exc:
            self.ctx.problem(_VALUE, f"{self.path}/{name}: {exc}")
            return None
        if not canonical:
            self.ctx.warn(f"{self.path}/{name}: {text!r} read as {str(value).lower()}")
        return value

    def code(
        self,
        name: str,
        enum_cls: type[E],
        *,
        error_type: ErrorType = _VALUE,
        keep_empty: bool = False,
    ) -> str | None:
        node = self.one(name)
        return None if node is None else node.as_code(enum_cls, error_type, keep_empty)

    def codes(self, name: str, enum_cls: type[E]) -> list[str]:
        return [v for node in self.all(name) if (v := node.as_code(enum_cls)) is not None]

    def as_code(
        self, enum_cls: type[E], error_type: ErrorType = _VALUE, keep_empty: bool = False
    ) -> str | None:
        """A closed-code value: the enum member if known, else the raw text (+ a problem)."""
        text = self.own_text(keep_empty)
        if text is None:
            return None
        member = _match_code(text, enum_cls)
        if member is None:
            allowed = ", ".join(m.value for m in enum_cls)
            what = "empty" if text == "" else f"{text!r} is not one of {allowed}"
            self.ctx.problem(error_type, f"{self.path}: {what}")
            return text
        if member.value != text:
            self.ctx.warn(f"{self.path}: {text!r} read as {member.value!r}")
        return member


_YES_NO_ALIASES = {"yes": YesNo.YES, "true": YesNo.YES, "no": YesNo.NO, "false": YesNo.NO}


def _match_code(text: str, enum_cls: type[E]) -> E | None:
    try:
        return enum_cls(text)
    except ValueError:
        pass
    folded = re.sub(r"[\s_-]", "", text).lower()
    for member in enum_cls:
        if member.value.lower() == folded:
            return member
    if enum_cls is YesNo and folded in _YES_NO_ALIASES:
        return _YES_NO_ALIASES[folded]  # type: ignore[return-value]
    return None


# --------------------------------------------------------------------------------------
# Root
# --------------------------------------------------------------------------------------


def _parse_root(root: etree._Element, ctx: _Ctx, strict: bool) -> Message:
    ns, local = _split(root.tag)
    if local != "ISO18626Message" or ns != NAMESPACE:
        raise ctx.error(
            _BAD,
            f"the root element is {root.tag!r}; expected ISO18626Message in the namespace "
            f"{NAMESPACE}",
        )
    ctx.declared = root.get(f"{{{NAMESPACE}}}version") or root.get("version")
    if ctx.declared is None:
        ctx.warn("ISO18626Message has no version attribute")
    elif Version.from_label(ctx.declared) is None:
        ctx.warn(f"ISO18626Message: unknown version {ctx.declared!r}")

    node = _El(root, "ISO18626Message", ctx)
    names = node.names()
    kinds = [n for n in names if n in MessageKind._value2member_map_]
    if not names:
        raise ctx.error(
            _BAD,
            "ISO18626Message is empty; it must contain one message (request, "
            "supplyingAgencyMessage, requestingAgencyMessage or a confirmation)",
        )
    if not kinds:
        raise ctx.error(
            ErrorType.UNRECOGNISED_DATA_ELEMENT,
            f"ISO18626Message contains {names[0]!r}, which is not an ISO 18626 message",
        )
    if len(kinds) > 1 or len(node.all(kinds[0])) > 1:
        raise ctx.error(_BAD, "ISO18626Message contains more than one message")
    ctx.kind = MessageKind(kinds[0])
    body_node = node.all(kinds[0])[0]
    body_node.path = ctx.kind.value
    node.done()

    body = _BODY_PARSERS[ctx.kind](body_node, ctx)
    version = ctx.version()
    declared = Version.from_label(ctx.declared)
    if declared is not None and declared != version:
        reasons = ctx.evidence_12 if version == Version.V1_2 else ctx.evidence_2021
        ctx.warn(
            f"declared version {ctx.declared!r} but the structure is {version.value}: "
            + "; ".join(reasons[:3])
        )
    message = Message(
        body=body,
        version=version,
        declared_version=ctx.declared,
        raw=ctx.raw,
        warnings=ctx.warnings,
    )
    if ctx.problems:
        if strict:
            raise _problem_error(ctx, message)
        message.warnings.extend(text for _, text in ctx.problems)
    return message


_PRIORITY = {
    ErrorType.UNSUPPORTED_ACTION_TYPE: 0,
    ErrorType.UNSUPPORTED_REASON_FOR_MESSAGE_TYPE: 1,
}


def _problem_error(ctx: _Ctx, message: Message) -> Iso18626Error:
    problems = sorted(ctx.problems, key=lambda p: _PRIORITY.get(p[0], 2))
    error_type, text = problems[0]
    if len(problems) > 1:
        text += f" (and {len(problems) - 1} more problem{'s' if len(problems) > 2 else ''})"
    exc = ctx.error(error_type, text)
    exc.message = message
    return exc


# --------------------------------------------------------------------------------------
# Shared structures
# --------------------------------------------------------------------------------------


def _agency_id(node: _El) -> AgencyId | None:
    """type_agencyId; None (with a warning) if agencyIdType or agencyIdValue is missing."""
    type_ = node.scheme_value("agencyIdType", keep_empty=True)
    value = node.text("agencyIdValue", keep_empty=True)
    node.done()
    if type_ is None or value is None:
        missing = "agencyIdType" if type_ is None else "agencyIdValue"
        node.ctx.warn(f"{node.path}: ignored, {missing} is missing")
        return None
    if value == "":
        node.ctx.problem(_VALUE, f"{node.path}/agencyIdValue is empty")
    return AgencyId(type_, value)


def _optional(node: _El, name: str, parse_fn: Callable[[_El], T | None]) -> T | None:
    child = node.one(name)
    return None if child is None else parse_fn(child)


def _costs(node: _El) -> Costs | None:
    currency = node.scheme_value("currencyCode", keep_empty=True)
    amount = node.text("monetaryValue")
    node.done()
    if currency is None or amount is None:
        node.ctx.warn(f"{node.path}: ignored, currencyCode and monetaryValue are required")
        return None
    try:
        value = parse_decimal(amount)
    except ValueProblem as exc:
        node.ctx.problem(_VALUE, f"{node.path}/monetaryValue: {exc}")
        return None
    return Costs(currency_code=currency, monetary_value=value)


def _costs_list(node: _El, name: str) -> list[Costs]:
    return [c for child in node.all(name) if (c := _costs(child)) is not None]


def _physical_address(node: _El) -> PhysicalAddress:
    region = node.scheme_value("region")
    if region is not None and region.scheme is not None:
        node.ctx.only_12(f"{node.path}/region has a scheme")
    address = PhysicalAddress(
        line1=node.text("line1"),
        line2=node.text("line2"),
        locality=node.text("locality"),
        postal_code=node.text("postalCode"),
        region=region,
        country=node.scheme_value("country"),
    )
    node.done()
    return address


def _address(node: _El) -> Address | None:
    """The <address> wrapper: exactly one of electronicAddress / physicalAddress."""
    electronic = node.one("electronicAddress")
    physical = node.one("physicalAddress")
    node.done()
    if electronic is not None:
        if physical is not None:
            node.ctx.warn(f"{node.path}: has both kinds of address; physicalAddress ignored")
        type_ = electronic.scheme_value("electronicAddressType", keep_empty=True)
        data = electronic.text("electronicAddressData", keep_empty=True)
        electronic.done()
        if type_ is None or data is None:
            node.ctx.warn(f"{electronic.path}: ignored, type and data are both required")
            return None
        return ElectronicAddress(electronic_address_type=type_, electronic_address_data=data)
    if physical is not None:
        return _physical_address(physical)
    node.ctx.warn(f"{node.path}: ignored, empty")
    return None


def _addresses(node: _El) -> list[Address]:
    return [a for child in node.all("address") if (a := _address(child)) is not None]


def _record_id(node: _El) -> BibliographicRecordId | None:
    code = node.scheme_value("bibliographicRecordIdentifierCode", keep_empty=True)
    identifier = node.text("bibliographicRecordIdentifier", keep_empty=True)
    node.done()
    if code is None or identifier is None:
        node.ctx.warn(f"{node.path}: ignored, code and identifier are both required")
        return None
    return BibliographicRecordId(code=code, identifier=identifier)


def _item_id(node: _El) -> BibliographicItemId | None:
    # The one place where the two versions order the same children differently.
    order = [_split(c.tag)[1] for c in node.el if isinstance(c.tag, str)]
    pair = [n for n in order if n.startswith("bibliographicItemIdentifier")]
    if pair[:2] == ["bibliographicItemIdentifier", "bibliographicItemIdentifierCode"]:
        node.ctx.only_12(f"{node.path}: identifier before code")
    elif pair[:2] == ["bibliographicItemIdentifierCode", "bibliographicItemIdentifier"]:
        node.ctx.only_2021(f"{node.path}: code before identifier")
    code = node.scheme_value("bibliographicItemIdentifierCode", keep_empty=True)
    identifier = node.text("bibliographicItemIdentifier", keep_empty=True)
    node.done()
    if code is None or identifier is None:
        node.ctx.warn(f"{node.path}: ignored, code and identifier are both required")
        return None
    return BibliographicItemId(code=code, identifier=identifier)


def _error_data(node: _El) -> ErrorData | None:
    error_type = node.code("errorType", ErrorType)
    error_value = node.text("errorValue")
    node.done()
    if error_type is None:
        node.ctx.warn(f"{node.path}: ignored, errorType is missing")
        return None
    return ErrorData(error_type=error_type, error_value=error_value)


def _error_data_list(node: _El) -> list[ErrorData]:
    items = [e for child in node.all("errorData") if (e := _error_data(child)) is not None]
    if len(items) > 1:
        node.ctx.only_2021(f"{node.path}: more than one errorData")
    return items


# --------------------------------------------------------------------------------------
# Headers
# --------------------------------------------------------------------------------------


def _header(parent: _El, ctx: _Ctx) -> Header:
    node = parent.one("header")
    if node is None:
        raise ctx.error(_BAD, f"{parent.path}/header is missing")
    kind = ctx.kind
    header = Header()
    ctx.header = header  # filled in place, so errors raised below carry what was read
    missing: list[str] = []
    for name, attr in (
        ("supplyingAgencyId", "supplying_agency_id"),
        ("requestingAgencyId", "requesting_agency_id"),
    ):
        child = node.one(name)
        if child is None:
            # 2021 made the supplier optional in a request (transfer requests).
            if not (kind is MessageKind.REQUEST and name == "supplyingAgencyId"):
                missing.append(f"{node.path}/{name}")
            continue
        agency = _agency_id(child)
        if agency is None:
            missing.append(f"{child.path} (agencyIdType and agencyIdValue)")
        setattr(header, attr, agency)

    consortial = node.one("consortialId")
    if consortial is not None:
        ctx.only_2021(f"{node.path}/consortialId")
        header.consortial_id = _agency_id(consortial)

    if node.has("multipleItemRequestId"):
        header.multiple_item_request_id = node.text("multipleItemRequestId")
        if kind is not MessageKind.REQUEST:
            ctx.only_12(f"{node.path}/multipleItemRequestId")
    elif kind is not MessageKind.REQUEST:
        ctx.weak_2021.append(f"{node.path} without multipleItemRequestId")

    if not node.has("timestamp"):
        missing.append(f"{node.path}/timestamp")
    elif node.text("timestamp") is None:
        ctx.problem(_VALUE, f"{node.path}/timestamp is empty")
    else:  # Go's zero date is accepted here too, as "no date"
        header.timestamp = node.datetime("timestamp")
        header.timestamp_as_sent = node.text("timestamp")

    request_id = node.text("requestingAgencyRequestId", keep_empty=True)
    if request_id is None:
        missing.append(f"{node.path}/requestingAgencyRequestId")
    elif request_id == "":
        ctx.problem(_VALUE, f"{node.path}/requestingAgencyRequestId is empty")
    header.requesting_agency_request_id = request_id

    header.supplying_agency_request_id = node.text("supplyingAgencyRequestId")
    if header.supplying_agency_request_id is not None and kind is MessageKind.REQUEST:
        ctx.only_12(f"{node.path}/supplyingAgencyRequestId in a request")

    auth = node.one("requestingAgencyAuthentication")
    if auth is not None:
        if kind is MessageKind.SUPPLYING_AGENCY_MESSAGE:
            ctx.only_12(f"{node.path}/requestingAgencyAuthentication")
        header.requesting_agency_authentication = RequestingAgencyAuthentication(
            account_id=auth.text("accountId"), security_code=auth.text("securityCode")
        )
        auth.done()
    node.done()
    if missing:
        raise ctx.error(_BAD, "required element missing: " + ", ".join(missing))
    return header


def _confirmation_header(parent: _El, ctx: _Ctx) -> ConfirmationHeader:
    """Lenient: a confirmation is never answered, only messageStatus really matters."""
    node = parent.one("confirmationHeader")
    if node is None:
        raise ctx.error(_BAD, f"{parent.path}/confirmationHeader is missing")
    header = ConfirmationHeader()
    ctx.header = header
    header.supplying_agency_id = _optional(node, "supplyingAgencyId", _agency_id)
    header.requesting_agency_id = _optional(node, "requestingAgencyId", _agency_id)
    header.timestamp = node.datetime("timestamp")
    header.requesting_agency_request_id = node.text("requestingAgencyRequestId")
    if node.has("multipleItemRequestId"):
        ctx.only_12(f"{node.path}/multipleItemRequestId")
        header.multiple_item_request_id = node.text("multipleItemRequestId")
    header.timestamp_received = node.datetime("timestampReceived")
    for name in ("timestamp", "timestampReceived"):
        if not node.has(name):
            ctx.warn(f"{node.path}/{name} is missing")
    if not node.has("messageStatus"):
        raise ctx.error(_BAD, f"{node.path}/messageStatus is missing")
    header.message_status = node.code("messageStatus", MessageStatus, keep_empty=True)
    node.done()
    return header


# --------------------------------------------------------------------------------------
# request
# --------------------------------------------------------------------------------------


def _request(node: _El, ctx: _Ctx) -> Request:
    header = _header(node, ctx)
    bib_node = node.one("bibliographicInfo")
    if bib_node is None:
        ctx.warn(f"{node.path}/bibliographicInfo is missing")
        bibliographic_info = BibliographicInfo()
    else:
        bibliographic_info = _bibliographic_info(bib_node)
    request = Request(
        header=header,
        bibliographic_info=bibliographic_info,
        publication_info=_optional(node, "publicationInfo", _publication_info),
        service_info=_optional(node, "serviceInfo", _service_info),
        supplier_info=[_supplier_info(n) for n in node.all("supplierInfo")],
        requested_delivery_info=[
            _requested_delivery_info(n) for n in node.all("requestedDeliveryInfo")
        ],
        requesting_agency_info=_optional(node, "requestingAgencyInfo", _requesting_agency_info),
        patron_info=_optional(node, "patronInfo", _patron_info),
        billing_info=_optional(node, "billingInfo", _billing_info),
    )
    if request.service_info is None:
        ctx.warn(f"{node.path}/serviceInfo is missing")
    node.done()
    return request


def _bibliographic_info(node: _El) -> BibliographicInfo:
    ctx = node.ctx
    if node.has("authorId"):
        ctx.only_2021(f"{node.path}/authorId")
    volumes = node.texts("volume")
    if len(volumes) > 1:
        ctx.only_2021(f"{node.path}: more than one volume")
    info = BibliographicInfo(
        supplier_unique_record_id=node.text("supplierUniqueRecordId"),
        title=node.text("title"),
        author=node.text("author"),
        author_id=node.text("authorId"),
        subtitle=node.text("subtitle"),
        series_title=node.text("seriesTitle"),
        edition=node.text("edition"),
        title_of_component=node.text("titleOfComponent"),
        author_of_component=node.text("authorOfComponent"),
        volumes=volumes,
        issue=node.text("issue"),
        pages_requested=node.text("pagesRequested"),
        estimated_no_pages=node.text("estimatedNoPages"),
        bibliographic_item_ids=[
            i for n in node.all("bibliographicItemId") if (i := _item_id(n)) is not None
        ],
        sponsor=node.text("sponsor"),
        information_source=node.text("informationSource"),
        bibliographic_record_ids=[
            r for n in node.all("bibliographicRecordId") if (r := _record_id(n)) is not None
        ],
    )
    node.done()
    return info


def _publication_info(node: _El) -> PublicationInfo:
    if node.has("publisherId"):
        node.ctx.only_2021(f"{node.path}/publisherId")
    info = PublicationInfo(
        publisher=node.text("publisher"),
        publisher_id=node.text("publisherId"),
        publication_type=node.scheme_value("publicationType"),
        publication_date=node.text("publicationDate"),
        place_of_publication=node.text("placeOfPublication"),
    )
    node.done()
    return info


def _service_info(node: _El) -> ServiceInfo:
    ctx = node.ctx
    for name in ("itemFormat", "preferredEdition", "loanCondition"):
        if node.has(name):
            ctx.only_2021(f"{node.path}/{name}")
    if node.has("preferredFormat"):
        ctx.only_12(f"{node.path}/preferredFormat")
    sub_types = node.codes("requestSubType", RequestSubType)
    if len(sub_types) > 3:
        ctx.only_2021(f"{node.path}: more than three requestSubType")
    service_type = node.code("serviceType", ServiceType)
    if service_type is None:
        ctx.warn(f"{node.path}/serviceType is missing")
    info = ServiceInfo(
        request_type=node.code("requestType", RequestType),
        request_sub_types=sub_types,
        requesting_agency_previous_request_id=node.text("requestingAgencyPreviousRequestId"),
        service_type=service_type,
        service_level=node.scheme_value("serviceLevel"),
        # v1.2 preferredFormat became 2021 itemFormat.
        item_format=node.scheme_value("itemFormat") or node.scheme_value("preferredFormat"),
        need_before_date=node.datetime("needBeforeDate"),
        copyright_compliance=node.scheme_value("copyrightCompliance"),
        any_edition=node.code("anyEdition", YesNo),
        preferred_edition=node.code("preferredEdition", PreferredEdition),
        loan_conditions=node.scheme_values("loanCondition"),
        start_date=node.datetime("startDate"),
        end_date=node.datetime("endDate"),
        note=node.text("note"),
    )
    node.done()
    return info


def _supplier_info(node: _El) -> SupplierInfo:
    info = SupplierInfo(
        sort_order=node.integer("sortOrder"),
        supplier_code=_optional(node, "supplierCode", _agency_id),
        supplier_description=node.text("supplierDescription"),
        bibliographic_record_id=_optional(node, "bibliographicRecordId", _record_id),
        call_number=node.text("callNumber"),
        summary_holdings=node.text("summaryHoldings"),
        availability_note=node.text("availabilityNote"),
    )
    node.done()
    return info


def _requested_delivery_info(node: _El) -> RequestedDeliveryInfo:
    for name in ("deliveryMethod", "courierName"):
        if node.has(name):
            node.ctx.only_2021(f"{node.path}/{name}")
    info = RequestedDeliveryInfo(
        sort_order=node.integer("sortOrder"),
        address=_optional(node, "address", _address),
        delivery_method=node.scheme_value("deliveryMethod"),
        courier_name=node.scheme_value("courierName"),
    )
    node.done()
    return info


def _requesting_agency_info(node: _El) -> RequestingAgencyInfo:
    info = RequestingAgencyInfo(
        name=node.text("name"),
        contact_name=node.text("contactName"),
        addresses=_addresses(node),
    )
    node.done()
    return info


def _patron_info(node: _El) -> PatronInfo:
    info = PatronInfo(
        patron_id=node.text("patronId"),
        surname=node.text("surname"),
        given_name=node.text("givenName"),
        patron_type=node.scheme_value("patronType"),
        send_to_patron=node.code("sendToPatron", YesNo),
        addresses=_addresses(node),
    )
    node.done()
    return info


def _billing_info(node: _El) -> BillingInfo:
    info = BillingInfo(
        payment_method=node.scheme_value("paymentMethod"),
        maximum_costs=_optional(node, "maximumCosts", _costs),
        billing_method=node.scheme_value("billingMethod"),
        billing_name=node.text("billingName"),
        address=_optional(node, "address", _address),
    )
    node.done()
    return info


# --------------------------------------------------------------------------------------
# supplyingAgencyMessage
# --------------------------------------------------------------------------------------


def _supplying_agency_message(node: _El, ctx: _Ctx) -> SupplyingAgencyMessage:
    info_node = node.one("messageInfo")
    if info_node is not None:  # read first, so any error can echo it
        ctx.reason = info_node.text("reasonForMessage", keep_empty=True)
    header = _header(node, ctx)
    if info_node is None:
        raise ctx.error(_BAD, f"{node.path}/messageInfo is missing")
    if not info_node.has("reasonForMessage"):
        raise ctx.error(_BAD, f"{info_node.path}/reasonForMessage is missing")

    message_info = MessageInfo(
        reason_for_message=info_node.code(
            "reasonForMessage",
            ReasonForMessage,
            error_type=ErrorType.UNSUPPORTED_REASON_FOR_MESSAGE_TYPE,
            keep_empty=True,
        ),
        answer_yes_no=info_node.code("answerYesNo", YesNo),
        note=info_node.text("note"),
        reason_unfilled=info_node.scheme_value("reasonUnfilled"),
        reason_retry=info_node.scheme_value("reasonRetry"),
    )
    # v1.2 keeps these three in messageInfo; 2021 moved them to retryInfo.
    v12_retry = RetryInfo(
        offered_costs=_costs_list(info_node, "offeredCosts"),
        retry_after=info_node.datetime("retryAfter"),
        retry_before=info_node.datetime("retryBefore"),
    )
    for name in ("offeredCosts", "retryAfter", "retryBefore"):
        if info_node.has(name):
            ctx.only_12(f"{info_node.path}/{name}")
    info_node.done()

    retry_node = node.one("retryInfo")
    retry_info: RetryInfo | None = None
    if retry_node is not None:
        ctx.only_2021(f"{node.path}/retryInfo")
        retry_info = _retry_info(retry_node)
        retry_info.offered_costs.extend(v12_retry.offered_costs)
        retry_info.retry_after = retry_info.retry_after or v12_retry.retry_after
        retry_info.retry_before = retry_info.retry_before or v12_retry.retry_before
    elif v12_retry != RetryInfo():
        retry_info = v12_retry

    if node.has("shippingInfo"):
        ctx.only_2021(f"{node.path}/shippingInfo")
    message = SupplyingAgencyMessage(
        header=header,
        message_info=message_info,
        status_info=_status_info(node),
        retry_info=retry_info,
        delivery_info=_optional(node, "deliveryInfo", _delivery_info),
        shipping_info=_optional(node, "shippingInfo", _shipping_info),
        return_info=_optional(node, "returnInfo", _return_info),
    )
    node.done()
    return message


def _status_info(parent: _El) -> StatusInfo:
    ctx = parent.ctx
    node = parent.one("statusInfo")
    if node is None:
        ctx.warn(f"{parent.path}/statusInfo is missing; read as no status change")
        return StatusInfo()
    status_node = node.one("status")
    status: str | None = None
    if status_node is not None and status_node.own_text() is not None:
        status = status_node.as_code(Status)
    if status is None:
        # Alma sends an empty status in notifications; CrossLink reads it as "no change".
        ctx.warn(f"{node.path}/status is empty or missing; read as no status change")
    elif status in ONLY_2021_STATUSES:
        ctx.only_2021(f"{node.path}/status {status}")
    info = StatusInfo(
        status=status,
        expected_delivery_date=node.datetime("expectedDeliveryDate"),
        due_date=node.datetime("dueDate"),
        last_change=node.datetime("lastChange"),
    )
    if not node.has("lastChange"):
        ctx.warn(f"{node.path}/lastChange is missing")
    node.done()
    return info


def _retry_info(node: _El) -> RetryInfo:
    info = RetryInfo(
        loan_conditions=node.scheme_values("loanCondition"),
        editions=node.texts("edition"),
        item_formats=node.scheme_values("itemFormat"),
        volumes=node.texts("volume"),
        service_type=node.code("serviceType", ServiceType),
        service_levels=node.scheme_values("serviceLevel"),
        delivery_methods=node.scheme_values("deliveryMethod"),
        courier_names=node.scheme_values("courierName"),
        offered_costs=_costs_list(node, "offeredCosts"),
        payment_methods=node.scheme_values("paymentMethod"),
        retry_before=node.datetime("retryBefore"),
        retry_after=node.datetime("retryAfter"),
    )
    node.done()
    return info


def _delivery_info(node: _El) -> DeliveryInfo:
    ctx = node.ctx
    for name in ("URL", "deliveryMethod", "address", "itemFormat", "serviceType", "paymentMethod"):
        if node.has(name):
            ctx.only_2021(f"{node.path}/{name}")
    for name in ("sentVia", "deliveredFormat"):
        if node.has(name):
            ctx.only_12(f"{node.path}/{name}")
    for name in ("itemId", "loanCondition", "deliveryCosts"):
        if len(node.all(name)) > 1:
            ctx.only_2021(f"{node.path}: more than one {name}")
    if not node.has("dateSent"):
        ctx.warn(f"{node.path}/dateSent is missing")
    info = DeliveryInfo(
        date_sent=node.datetime("dateSent"),
        item_ids=node.texts("itemId"),
        url=node.text("URL"),
        # v1.2 sentVia became 2021 deliveryMethod, deliveredFormat became itemFormat.
        delivery_method=node.scheme_value("deliveryMethod") or node.scheme_value("sentVia"),
        address=_optional(node, "address", _address),
        sent_to_patron=node.boolean("sentToPatron"),
        loan_conditions=node.scheme_values("loanCondition"),
        item_format=node.scheme_value("itemFormat") or node.scheme_value("deliveredFormat"),
        service_type=node.code("serviceType", ServiceType),
        delivery_costs=_costs_list(node, "deliveryCosts"),
        payment_method=node.scheme_value("paymentMethod"),
    )
    node.done()
    return info


def _shipping_info(node: _El) -> ShippingInfo:
    info = ShippingInfo(
        courier_name=node.scheme_value("courierName"),
        tracking_ids=node.texts("trackingId"),
        insurance=node.code("insurance", YesNo),
        insurance_third_party=node.code("insuranceThirdParty", YesNo),
        third_party_name=node.text("thirdPartyName"),
        insurance_costs=_costs_list(node, "insuranceCosts"),
    )
    node.done()
    return info


def _return_info(node: _El) -> ReturnInfo:
    info = ReturnInfo(
        return_agency_id=_optional(node, "returnAgencyId", _agency_id),
        name=node.text("name"),
        physical_address=_optional(node, "physicalAddress", _physical_address),
    )
    node.done()
    return info


# --------------------------------------------------------------------------------------
# requestingAgencyMessage and the confirmations
# --------------------------------------------------------------------------------------


def _requesting_agency_message(node: _El, ctx: _Ctx) -> RequestingAgencyMessage:
    ctx.action = node.text("action", keep_empty=True)  # read first, so errors can echo it
    header = _header(node, ctx)
    if not node.has("action"):
        raise ctx.error(_BAD, f"{node.path}/action is missing")
    action = node.code(
        "action", Action, error_type=ErrorType.UNSUPPORTED_ACTION_TYPE, keep_empty=True
    )
    if action in ONLY_2021_ACTIONS:
        ctx.only_2021(f"{node.path}/action {action}")
    message = RequestingAgencyMessage(header=header, action=action, note=node.text("note"))
    node.done()
    return message


def _request_confirmation(node: _El, ctx: _Ctx) -> RequestConfirmation:
    header = _confirmation_header(node, ctx)
    confirmation = RequestConfirmation(
        confirmation_header=header, error_data=_error_data_list(node)
    )
    node.done()
    return confirmation


def _supplying_agency_message_confirmation(
    node: _El, ctx: _Ctx
) -> SupplyingAgencyMessageConfirmation:
    ctx.reason = node.text("reasonForMessage")
    header = _confirmation_header(node, ctx)
    confirmation = SupplyingAgencyMessageConfirmation(
        confirmation_header=header,
        reason_for_message=node.code("reasonForMessage", ReasonForMessage),
        error_data=_error_data_list(node),
    )
    node.done()
    return confirmation


def _requesting_agency_message_confirmation(
    node: _El, ctx: _Ctx
) -> RequestingAgencyMessageConfirmation:
    ctx.action = node.text("action")
    header = _confirmation_header(node, ctx)
    action = node.code("action", Action)
    if action in ONLY_2021_ACTIONS:
        ctx.only_2021(f"{node.path}/action {action}")
    confirmation = RequestingAgencyMessageConfirmation(
        confirmation_header=header, action=action, error_data=_error_data_list(node)
    )
    node.done()
    return confirmation


_BODY_PARSERS: dict[MessageKind, Callable[[_El, _Ctx], Body]] = {
    MessageKind.REQUEST: _request,
    MessageKind.SUPPLYING_AGENCY_MESSAGE: _supplying_agency_message,
    MessageKind.REQUESTING_AGENCY_MESSAGE: _requesting_agency_message,
    MessageKind.REQUEST_CONFIRMATION: _request_confirmation,
    MessageKind.SUPPLYING_AGENCY_MESSAGE_CONFIRMATION: _supplying_agency_message_confirmation,
    MessageKind.REQUESTING_AGENCY_MESSAGE_CONFIRMATION: _requesting_agency_message_confirmation,
}
