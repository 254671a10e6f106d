"""Circulation at the desk: scan-in, transit, hold shelf, loans, returns, renewals, undo.

Every service takes keyword arguments and either returns what happened or raises `DeskError`
with a message fit to show staff as it is. Each state change runs in one transaction and
locks the rows it changes first (the comments say which race each lock prevents). Letters go
out only after commit. What ILL needs to hear goes through `circulation.hooks.ill_bridge()`;
this package never imports `ill` or `partners`.

One face for callers; the work lives by concern in `common`, `scan`, `loans` and `rows`
(the rows ILL asks the desk to change).
"""

from circulation.services.common import (
    NOT_UNDOABLE,
    OVERRIDE_PERMISSION,
    RECENT_SCANS,
    DeskError,
    Level,
    Outcome,
    PatronCannotBorrow,
    PatronProblem,
    ScanResult,
    date_label,
    end_of_day,
    patron_problems,
    recent_scans,
    what_staff_can_do,
)
from circulation.services.loans import (
    LongLoan,
    loan_item,
    long_running_ill_loans,
    renew_loan,
    renewal_refusal,
    terms_renewal_refusal,
)
from circulation.services.rows import (
    TEMPORARY_RECORD_FIELDS,
    hold_create,
    holds_waiting_for,
    item_add_barcode,
    item_lock,
    item_set_not_for_loan,
    item_set_status,
    loan_set_due,
    send_item_to_pickup,
    temporary_item_create,
    temporary_item_describe,
    temporary_item_place,
    temporary_item_recall,
    temporary_item_release,
    temporary_item_remove,
    temporary_item_retire,
    temporary_item_to_pickup,
)
from circulation.services.scan import (
    desk_scan_in,
    resolve_scan,
    return_item,
    undo_last_scan,
)
from circulation.slips import render_slip

__all__ = [
    "TEMPORARY_RECORD_FIELDS",
    "hold_create",
    "holds_waiting_for",
    "item_add_barcode",
    "item_lock",
    "item_set_not_for_loan",
    "item_set_status",
    "loan_set_due",
    "temporary_item_create",
    "temporary_item_describe",
    "temporary_item_remove",
    "temporary_item_place",
    "temporary_item_recall",
    "temporary_item_release",
    "temporary_item_retire",
    "temporary_item_to_pickup",
    "date_label",
    "DeskError",
    "Level",
    "LongLoan",
    "NOT_UNDOABLE",
    "OVERRIDE_PERMISSION",
    "Outcome",
    "PatronCannotBorrow",
    "PatronProblem",
    "RECENT_SCANS",
    "ScanResult",
    "desk_scan_in",
    "end_of_day",
    "loan_item",
    "long_running_ill_loans",
    "patron_problems",
    "recent_scans",
    "render_slip",
    "renew_loan",
    "renewal_refusal",
    "resolve_scan",
    "return_item",
    "send_item_to_pickup",
    "terms_renewal_refusal",
    "undo_last_scan",
    "what_staff_can_do",
]
