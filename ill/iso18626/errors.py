"""The codec's two exceptions.

`Iso18626Error` is the only exception `parse()` raises. Its ``error_type`` is one of the
standard's five ``errorType`` values and ``error_value`` a human-readable explanation, so an
endpoint can answer with an ERROR confirmation directly (see `error_confirmation_for`). It
also carries whatever the parser understood before it failed, so that confirmation can
echo the sender's agency ids, request id, timestamp and action / reasonForMessage.

`BuildError` is raised by `build()` when a message cannot be written in the requested
version (a required element is missing, or a closed-code value the version lacks).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .messages import ErrorType, MessageKind, Version

if TYPE_CHECKING:
    from .messages import ConfirmationHeader, Header, Message


class Iso18626Error(Exception):
    """A message that could not be accepted, with the errorType to answer it with.

    Attributes:
        error_type: an `ErrorType` value.
        error_value: what was wrong, naming the element and the offending value.
        kind: the message kind, if the parser got as far as the root's child.
        version: the version to answer in (best guess; ``None`` if not even XML).
        header: the (possibly partial) header parsed before the failure: agency ids,
            requestingAgencyRequestId, timestamp. Fields it could not read are ``None``.
        action: the raw ``action`` text of a requesting-agency message, if any.
        reason_for_message: the raw ``reasonForMessage`` text of a supplying-agency
            message, if any.
        message: the complete parsed `Message` when the failure was about a *value* found
            after parsing everything (unknown action, status ...); otherwise ``None``.
    """

    def __init__(
        self,
        error_type: str,
        error_value: str,
        *,
        kind: MessageKind | None = None,
        version: Version | None = None,
        header: Header | ConfirmationHeader | None = None,
        action: str | None = None,
        reason_for_message: str | None = None,
        message: Message | None = None,
    ) -> None:
        super().__init__(f"{error_type}: {error_value}")
        self.error_type = ErrorType(error_type)
        self.error_value = error_value
        self.kind = kind
        self.version = version
        self.header = header
        self.action = action
        self.reason_for_message = reason_for_message
        self.message = message

    def __repr__(self) -> str:
        return (
            f"Iso18626Error({self.error_type.value!r}, {self.error_value!r}, "
            f"kind={self.kind and self.kind.value!r})"
        )


class BuildError(ValueError):
    """A message that cannot be expressed in the requested ISO 18626 version."""
