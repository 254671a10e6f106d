from __future__ import annotations

from fulfillment.models import CirculationDesk, Item, Library
from partners.models import Partner
from patrons.models import Patron


def institution_overview(*, institution) -> dict[str, int]:
    """Counts shown on the staff home page."""
    return {
        "libraries": Library.objects.for_institution(institution).count(),
        "desks": CirculationDesk.objects.for_institution(institution).count(),
        "partners": Partner.objects.for_institution(institution).filter(active=True).count(),
        "patrons": Patron.objects.for_institution(institution).count(),
        "items": Item.objects.for_institution(institution).filter(is_temporary=False).count(),
    }
