import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from fulfillment.models import ItemBarcode
from fulfillment.selectors import item_by_barcode, items_by_barcode
from tests import factories as f

pytestmark = pytest.mark.django_db




@pytest.fixture
def loc(inst):
    return f.location(f.library(inst))


def test_any_of_an_items_barcodes_finds_the_same_item(inst, loc):
    item = f.item(loc, barcodes=[("OTA000001", "own"), ("P-KAI-77", "partner"),
                                 ("E2801160600002", "rfid")])
    for scanned in ("OTA000001", "P-KAI-77", "E2801160600002"):
        assert item_by_barcode(institution=inst, barcode=scanned) == item


def test_it_finds_the_item_whatever_case_and_stray_whitespace_the_scanner_sends(inst, loc):
    item = f.item(loc, barcodes=[("e2801160600002", "rfid")])
    assert item_by_barcode(institution=inst, barcode="  E280 1160600002\n") == item


def test_an_unknown_barcode_finds_nothing(inst, loc):
    f.item(loc, barcodes=["OTA000001"])
    assert item_by_barcode(institution=inst, barcode="NOPE") is None
    assert item_by_barcode(institution=inst, barcode="   ") is None


def test_a_barcode_is_unique_within_an_institution(inst, loc):
    f.item(loc, barcodes=["OTA000001"])
    other = f.item(loc, title="Another", barcodes=[])
    with pytest.raises(IntegrityError), transaction.atomic():
        ItemBarcode.objects.create(institution=inst, item=other, barcode="ota000001")


def test_validation_names_the_item_that_already_has_the_barcode(inst, loc):
    f.item(loc, title="The first book", barcodes=["OTA000001"])
    other = f.item(loc, title="Another", barcodes=[])
    duplicate = ItemBarcode(institution=inst, item=other, barcode="OTA000001")
    with pytest.raises(ValidationError, match="The first book"):
        duplicate.full_clean()


def test_two_institutions_may_use_the_same_barcode_and_each_finds_its_own(inst, loc):
    other_inst = f.institution("KAISA")
    ours = f.item(loc, barcodes=["123456"])
    theirs = f.item(f.location(f.library(other_inst)), barcodes=["123456"])
    assert item_by_barcode(institution=inst, barcode="123456") == ours
    assert item_by_barcode(institution=other_inst, barcode="123456") == theirs
    assert list(items_by_barcode(institution=inst, barcode="123456")) == [ours]


def test_the_primary_barcode_is_the_own_one_even_when_added_last(inst, loc):
    item = f.item(loc, barcodes=[("E2801160600002", "rfid"), ("P-1", "partner"),
                                 ("OTA9", "own")])
    assert item.primary_barcode == "OTA9"
