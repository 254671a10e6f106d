"""A patron as letters and slips see it: plain values, never the model (see
`kauko.letter_sandbox`)."""

from __future__ import annotations

from patrons.models import Patron


def letter_patron(patron: Patron | None) -> dict | None:
    if patron is None:
        return None
    return {"full_name": patron.full_name, "first_name": patron.first_name,
            "last_name": patron.last_name, "barcode": patron.barcode, "email": patron.email}
