import pytest

from fulfillment.selectors import terms_of_use_for
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def setup():
    inst = f.institution("OTA")
    lib = f.library(inst)
    normal = f.terms(inst, "Normal 28", loan_period_days=28)
    staff = f.terms(inst, "Staff 90", loan_period_days=90, auto_renew_patron_groups="staff")
    reference = f.terms(inst, "Reference", loan_period_days=0, renewable=False)
    fu = f.unit(inst, "NORMAL", rules=[("STAFF", "", staff), ("", "REFERENCE", reference),
                                       ("", "", normal)])
    return {"inst": inst, "loc": f.location(lib, "STACKS", fu), "lib": lib,
            "normal": normal, "staff": staff, "reference": reference}


def test_it_picks_the_first_rule_whose_patron_group_matches(setup):
    item = f.item(setup["loc"])
    assert terms_of_use_for(item=item, patron_group_code="STAFF") == setup["staff"]


def test_it_matches_patron_groups_without_regard_to_case(setup):
    item = f.item(setup["loc"])
    assert terms_of_use_for(item=item, patron_group_code="staff") == setup["staff"]


def test_it_falls_through_to_the_catch_all_rule_for_other_groups(setup):
    item = f.item(setup["loc"])
    assert terms_of_use_for(item=item, patron_group_code="STUDENT") == setup["normal"]
    assert terms_of_use_for(item=item, patron_group_code=None) == setup["normal"]


def test_it_matches_on_the_item_policy(setup):
    item = f.item(setup["loc"], item_policy="reference")
    assert terms_of_use_for(item=item, patron_group_code="STUDENT") == setup["reference"]


def test_rule_order_decides_when_several_rules_match(setup):
    # A staff member borrowing a reference item: the staff rule comes first.
    item = f.item(setup["loc"], item_policy="REFERENCE")
    assert terms_of_use_for(item=item, patron_group_code="STAFF") == setup["staff"]


def test_it_follows_the_items_current_location_not_the_permanent_one(setup):
    inst = setup["inst"]
    ill_terms = f.terms(inst, "ILL 28", renewal_window_days=7)
    ill_unit = f.unit(inst, "ILL-IN", rules=[("", "", ill_terms)])
    incoming = f.location(setup["lib"], "ILL-IN", ill_unit)
    item = f.item(setup["loc"])
    item.location = incoming
    item.save()
    assert terms_of_use_for(item=item, patron_group_code="STAFF") == ill_terms


def test_it_answers_none_when_the_location_has_no_fulfillment_unit(setup):
    bare = f.location(setup["lib"], "BARE", fu=None)
    assert terms_of_use_for(item=f.item(bare), patron_group_code="STAFF") is None


def test_it_answers_none_when_no_rule_matches(setup):
    inst = setup["inst"]
    fu = f.unit(inst, "STAFFONLY", rules=[("STAFF", "", setup["staff"])])
    loc = f.location(setup["lib"], "STAFFROOM", fu)
    assert terms_of_use_for(item=f.item(loc), patron_group_code="STUDENT") is None


def test_terms_of_use_know_which_groups_auto_renew(setup):
    assert setup["staff"].auto_renews_for("STAFF")
    assert not setup["staff"].auto_renews_for("STUDENT")
    assert not setup["normal"].auto_renews_for("STAFF")
