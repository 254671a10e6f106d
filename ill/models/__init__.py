"""ILL's models behind one face: import them from `ill.models`.

- `requests`: what both sides share (citation, numbering, history, sources of a change);
- `borrowing`: borrowing requests (we ask partners), their rota, purchase requests;
- `lending`: lending requests (partners ask us) and their located items;
- `wire`: ISO 18626 messages in and out (the log and the outbox).
"""

from ill.models.automation import (
    AssignmentRule,
    AutomationSettings,
    RotaTemplate,
    RotaTemplateEntry,
)
from ill.models.borrowing import BorrowingRequest, PurchaseRequest, RotaEntry
from ill.models.lending import LendingCandidate, LendingRequest
from ill.models.requests import (
    Citation,
    Counter,
    HistoryEntry,
    RequestRecord,
    Source,
    next_number,
)
from ill.models.wire import IsoMessage, OutboxMessage

__all__ = [
    "AssignmentRule",
    "AutomationSettings",
    "RotaTemplate",
    "RotaTemplateEntry",
    "BorrowingRequest",
    "Citation",
    "Counter",
    "HistoryEntry",
    "IsoMessage",
    "LendingCandidate",
    "LendingRequest",
    "OutboxMessage",
    "PurchaseRequest",
    "RequestRecord",
    "RotaEntry",
    "Source",
    "next_number",
]
