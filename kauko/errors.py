"""The one base of every refusal Kauko's services raise.

A service that will not do what it was asked raises a `DomainError` (or a subclass: the
desk's `DeskError`, ILL's `WorkflowError`) whose message is fit to show staff, a patron or a
partner as it is. Views, the ISO 18626 endpoint and tasks catch `DomainError` and say the
message; anything else is a bug and is left to fail loudly.
"""

from __future__ import annotations


class DomainError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = str(message)

    def __str__(self) -> str:
        return self.message
