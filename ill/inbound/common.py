"""What the endpoint and both roles' message handlers share: the refusal that becomes an
ERROR confirmation, and the note of a message that changes nothing."""

from __future__ import annotations

from django.db import connection

from ill import iso18626 as iso
from ill.models import Source
from ill.workflow import record

ET = iso.ErrorType


PARTNER = Source.PARTNER


class Refusal(Exception):
    """The message is answered ERROR with this errorType and explanation."""

    def __init__(self, error_type: str, error_value: str, flag=None):
        super().__init__(error_value)
        self.error_type = error_type
        self.error_value = error_value
        # (request, reason): staff must hear of it although the message is refused.
        self.flag = flag


# The fields of a request the routing and the history need without another query.
ROUTING_FIELDS = ("id", "institution_id", "partner_id", "number", "status", "version",
                  "needs_attention", "attention_reason")


def message_on(request, stored, note: str) -> None:
    record(request=request, action="partner_message", source=PARTNER,
           note=note or stored.summary, from_status=request.status, to_status=request.status)





def row_lock(alias: str = "") -> str:
    """The clause that locks the routed request's row, on databases that lock rows (not
    SQLite, which serialises writers anyway): messages about one request are handled one at
    a time, each seeing what the one before wrote."""
    if not connection.features.has_select_for_update:
        return ""
    if alias and connection.features.has_select_for_update_of:
        return f" FOR UPDATE OF {alias}"
    return " FOR UPDATE"


def in_model_order(model, attnames) -> tuple[str, ...]:
    wanted = set(attnames)
    return tuple(f.attname for f in model._meta.concrete_fields if f.attname in wanted)
