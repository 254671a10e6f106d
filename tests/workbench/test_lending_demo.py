import pytest

from fulfillment.models import Item
from ill.models import LendingRequest
from workbench.demo import seed_demo

pytestmark = pytest.mark.django_db
S = LendingRequest.Status


def test_the_demo_has_a_located_and_a_failed_lending_request_at_each_institution():
    seed_demo()
    seed_demo()  # idempotent: keyed on the partner's request id
    rows = LendingRequest.objects.select_related("item", "rs_library").order_by("pk")
    by_institution = {}
    for r in rows:
        by_institution.setdefault(r.institution_id, []).append(r)
    assert len(by_institution) >= 2
    for requests in by_institution.values():
        assert sorted(r.status for r in requests) == [S.LOCATE_FAILED, S.PROCESSING]
        located = next(r for r in requests if r.status == S.PROCESSING)
        assert located.item.status == Item.Status.RESOURCE_SHARING
        assert located.item.location_id == located.rs_library.outgoing_location_id
