"""Building the confirmation that answers a message.

ISO 18626 answers every request, supplying-agency message (SAM) and requesting-agency
message (RAM) synchronously, in the HTTP response, with the matching confirmation. Peers
depend on three details, all handled here:

* the confirmationHeader carries the *same* supplyingAgencyId / requestingAgencyId as the
  confirmed message (they are not swapped to "from/to"), plus its requestingAgencyRequestId
  (and, for v1.2, multipleItemRequestId);
* ``timestampReceived`` is the confirmed message's ``timestamp`` (``timestamp`` is now);
* a RAM confirmation echoes the ``action``, a SAM confirmation the ``reasonForMessage`` --
  only when it is a known value: the echo is optional, and an unknown one would make the
  confirmation itself invalid.
"""

from __future__ import annotations

import copy
import enum
from datetime import UTC, datetime

from .errors import Iso18626Error
from .messages import (
    Action,
    Body,
    ConfirmationHeader,
    ErrorData,
    ErrorType,
    Header,
    Message,
    MessageInfo,
    MessageKind,
    MessageStatus,
    ReasonForMessage,
    Request,
    RequestConfirmation,
    RequestingAgencyMessage,
    RequestingAgencyMessageConfirmation,
    SupplyingAgencyMessage,
    SupplyingAgencyMessageConfirmation,
)

__all__ = ["confirmation_for", "error_confirmation_for"]

Confirmation = (
    RequestConfirmation | SupplyingAgencyMessageConfirmation | RequestingAgencyMessageConfirmation
)


def confirmation_for(
    message: Body | Message,
    status: MessageStatus | str = MessageStatus.OK,
    error_type: ErrorType | str | None = None,
    error_value: str | None = None,
    timestamp: datetime | None = None,
) -> Confirmation:
    """The confirmation answering ``message`` (a request, SAM or RAM, or its `Message`).

    ``status`` is "OK" or "ERROR"; an ERROR needs an ``error_type`` (an `ErrorType`) and
    should have an ``error_value`` explaining it. ``timestamp`` defaults to now (UTC).
    Build the result in the version of the message: ``build(conf, message.version)``.
    """
    body = message.body if isinstance(message, Message) else message
    status = MessageStatus(status)
    if body.kind.is_confirmation:
        raise ValueError(f"a {body.kind.value} is not itself confirmed")
    if status is MessageStatus.ERROR and error_type is None:
        raise ValueError("an ERROR confirmation needs an error_type")
    header: Header = body.header  # type: ignore[union-attr]
    confirmation_header = ConfirmationHeader(
        supplying_agency_id=copy.deepcopy(header.supplying_agency_id),
        requesting_agency_id=copy.deepcopy(header.requesting_agency_id),
        timestamp=timestamp or _now(),
        requesting_agency_request_id=header.requesting_agency_request_id,
        multiple_item_request_id=header.multiple_item_request_id,
        timestamp_received=header.timestamp,
        timestamp_received_as_sent=header.timestamp_as_sent,
        message_status=status,
    )
    error_data = []
    if error_type is not None:
        error_data.append(ErrorData(error_type=ErrorType(error_type), error_value=error_value))

    if isinstance(body, SupplyingAgencyMessage):
        return SupplyingAgencyMessageConfirmation(
            confirmation_header=confirmation_header,
            reason_for_message=_known(body.message_info.reason_for_message, ReasonForMessage),
            error_data=error_data,
        )
    if isinstance(body, RequestingAgencyMessage):
        return RequestingAgencyMessageConfirmation(
            confirmation_header=confirmation_header,
            action=_known(body.action, Action),
            error_data=error_data,
        )
    return RequestConfirmation(confirmation_header=confirmation_header, error_data=error_data)


def error_confirmation_for(
    exc: Iso18626Error, timestamp: datetime | None = None
) -> Confirmation | None:
    """The ERROR confirmation answering a message `parse()` refused with ``exc``.

    Echoes whatever of the header, action and reasonForMessage the parser got to. Returns
    ``None`` when there is nothing to confirm: the body was not an ISO 18626 message of a
    known kind (not XML, too large, DOCTYPE, empty ...) or it was itself a confirmation;
    answer those with a plain HTTP 400. Build the result in ``exc.version``.
    """
    if exc.message is not None and not exc.message.kind.is_confirmation:
        return confirmation_for(
            exc.message, MessageStatus.ERROR, exc.error_type, exc.error_value, timestamp
        )
    if exc.kind is None or exc.kind.is_confirmation:
        return None
    header = exc.header if isinstance(exc.header, Header) else Header()
    stub: Body
    if exc.kind is MessageKind.SUPPLYING_AGENCY_MESSAGE:
        stub = SupplyingAgencyMessage(
            header=header, message_info=MessageInfo(reason_for_message=exc.reason_for_message)
        )
    elif exc.kind is MessageKind.REQUESTING_AGENCY_MESSAGE:
        stub = RequestingAgencyMessage(header=header, action=exc.action)
    else:
        stub = Request(header=header)
    return confirmation_for(stub, MessageStatus.ERROR, exc.error_type, exc.error_value, timestamp)


def _now() -> datetime:
    # Milliseconds are enough, and some peers' date parsers choke on microseconds.
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _known(value: str | None, enum_cls: type[enum.StrEnum]) -> str | None:
    if value is None:
        return None
    try:
        return enum_cls(value)
    except ValueError:
        return None
