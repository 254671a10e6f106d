"""Intake: a patron's (or an outside system's) request, checked, then made through
`ill.borrowing.services.borrowing_request_create` as *Created*, with its source.

The portal's form and the API both come through `intake_request_create`, so they check and
refuse alike.
"""

from __future__ import annotations

import datetime

from django.utils.translation import gettext as _

from fulfillment.models import CirculationDesk
from ill.borrowing.checks import Check, intake_checks
from ill.borrowing.services import borrowing_request_create
from ill.models import BorrowingRequest, Source
from kauko.errors import DomainError
from patrons.models import Patron
from portal.citation import parse_citation
from portal.models import PortalSettings

BR = BorrowingRequest
COPY_TYPES = (BR.Type.ARTICLE, BR.Type.CHAPTER)
TITLE_FROM_TEXT_CHARS = 200


class IntakeRefused(DomainError):
    """A check refused the request; `checks` says every reason."""

    def __init__(self, checks: list[Check]):
        self.checks = checks
        super().__init__(" ".join(c.message for c in checks if c.refuses))


class IntakeNeedsConfirmation(DomainError):
    """Only warnings: the patron should read them and say go ahead."""

    def __init__(self, checks: list[Check]):
        self.checks = checks
        super().__init__(" ".join(c.message for c in checks))


def complete_citation(citation: dict) -> dict:
    """The citation with what the pasted text says filled into empty fields; a citation given
    only as text gets the text's start as its title (staff tidy it up)."""
    citation = {k: str(v or "").strip() for k, v in citation.items()
                if k in BR.CITATION_FIELDS}
    text = citation.get("citation_text", "")
    if text:
        for field, value in parse_citation(text).items():
            if not citation.get(field):
                citation[field] = value
        if not citation.get("title"):
            citation["title"] = " ".join(text.split())[:TITLE_FROM_TEXT_CHARS]
    return citation


def checks_for(*, patron: Patron, request_type: str, citation: dict) -> list[Check]:
    settings = PortalSettings.for_institution(patron.institution)
    return intake_checks(institution=patron.institution, patron=patron,
                         citation=complete_citation(citation), request_type=request_type,
                         refuse=settings.refusing_checks())


def copyright_declaration(institution, request_type: str) -> str:
    """The declaration a patron must accept for this request, or ''."""
    if request_type not in COPY_TYPES:
        return ""
    return PortalSettings.for_institution(institution).copyright_declaration.strip()


def intake_request_create(
    *,
    patron: Patron,
    request_type: str,
    citation: dict,
    source: str = Source.PATRON,
    pickup_desk: CirculationDesk | None = None,
    office_delivery: bool = False,
    needed_before: datetime.date | None = None,
    note: str = "",
    copyright_accepted: bool = False,
    go_ahead: bool = False,
) -> tuple[BorrowingRequest, list[Check]]:
    """Checks, then creates the request (Created, in the RS review queue). Refusals raise
    IntakeRefused; warnings not yet accepted (`go_ahead`) raise IntakeNeedsConfirmation.
    Returns the request and the warnings it was made with."""
    institution = patron.institution
    citation = complete_citation(citation)
    if not citation.get("title"):
        raise DomainError(_("Give at least a title, or paste the citation."))
    declaration = copyright_declaration(institution, request_type)
    if declaration and not copyright_accepted:
        raise DomainError(_("Accept the copyright declaration to ask for a copy."))
    settings = PortalSettings.for_institution(institution)
    checks = intake_checks(institution=institution, patron=patron, citation=citation,
                           request_type=request_type, refuse=settings.refusing_checks())
    if any(c.refuses for c in checks):
        raise IntakeRefused(checks)
    if checks and not go_ahead:
        raise IntakeNeedsConfirmation(checks)
    notes = []
    if note.strip():
        notes.append(_("Patron's note: %(note)s") % {"note": note.strip()})
    if declaration:
        notes.append(_("The patron accepted the copyright declaration."))
    for check in checks:
        notes.append(_("Check at intake: %(words)s") % {"words": check.message})
    request = borrowing_request_create(
        institution=institution, patron=patron, request_type=request_type,
        citation=citation, source=source, pickup_desk=None if office_delivery else pickup_desk,
        office_delivery=office_delivery, needed_before=needed_before,
        internal_note="\n".join(notes))
    return request, checks
