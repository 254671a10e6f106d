"""A partner as letters and slips see it: plain values, never the model (see
`kauko.letter_sandbox`)."""

from __future__ import annotations

from partners.models import Partner


def letter_partner(partner: Partner | None) -> dict | None:
    if partner is None:
        return None
    return {"name": partner.name, "code": partner.code, "email": partner.email,
            "address": partner.address, "return_to_address": partner.return_to_address,
            "return_address": partner.return_address,
            "billing_address": partner.billing_address}
