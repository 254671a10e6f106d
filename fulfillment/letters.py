"""Libraries and desks as letters and slips see them: plain values, never the models (see
`kauko.letter_sandbox`)."""

from __future__ import annotations

from fulfillment.models import CirculationDesk, Library


def letter_library(library: Library | None) -> dict | None:
    if library is None:
        return None
    return {"name": library.name, "code": library.code, "address": library.address}


def letter_desk(desk: CirculationDesk | None) -> dict | None:
    if desk is None:
        return None
    return {"name": desk.name, "code": desk.code}
