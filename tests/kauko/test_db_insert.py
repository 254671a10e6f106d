"""kauko.db.insert writes exactly the row save(force_insert=True) would."""

import datetime

import pytest
from django.db import IntegrityError, transaction
from django.forms.models import model_to_dict
from django.utils import timezone

from ill.models import HistoryEntry, IsoMessage, Source
from kauko.db import insert
from tests import factories as f

pytestmark = pytest.mark.django_db


def _row(model, pk):
    return model_to_dict(model.objects.get(pk=pk))


def test_it_writes_the_same_row_as_save_with_defaults_and_dates():
    inst = f.institution()
    br = f.borrowing_request(inst)
    at = timezone.make_aware(datetime.datetime(2026, 3, 1, 12, 30, 15, 123456),
                             datetime.UTC)
    fields = dict(borrowing_request=br, action="partner_message", source=Source.PARTNER,
                  note="Ääkköset & <xml>", from_status="sent", to_status="sent", at=at)
    fast = insert(HistoryEntry(**fields))
    slow = HistoryEntry(**fields)
    slow.save(force_insert=True)
    assert fast.pk and fast.pk != slow.pk
    assert not fast._state.adding and fast._state.db == "default"
    a, b = _row(HistoryEntry, fast.pk), _row(HistoryEntry, slow.pk)
    a.pop("id"), b.pop("id")
    assert a == b
    assert HistoryEntry.objects.get(pk=fast.pk).at == at


def test_it_applies_field_defaults_the_way_the_model_does():
    before = timezone.now()
    row = insert(IsoMessage(direction=IsoMessage.Direction.IN, raw="<x/>"))
    fresh = IsoMessage.objects.get(pk=row.pk)
    assert fresh.created_at >= before
    assert fresh.idempotency_key is None and fresh.institution_id is None
    assert fresh.raw == "<x/>"


def test_a_unique_clash_raises_djangos_integrity_error():
    insert(IsoMessage(direction=IsoMessage.Direction.IN, idempotency_key="k" * 64))
    with pytest.raises(IntegrityError), transaction.atomic():
        insert(IsoMessage(direction=IsoMessage.Direction.IN, idempotency_key="k" * 64))
    assert IsoMessage.objects.filter(idempotency_key="k" * 64).count() == 1
