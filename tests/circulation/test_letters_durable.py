"""The patron's "item waiting" notice is sent even when the broker is down at the scan."""

import celery.app.task
import pytest
from django.core import mail

from circulation.services import Outcome, desk_scan_in
from kauko.letters import sweep_letters
from kauko.models import SentLetter

from .helpers import ill_item, make_patron

pytestmark = pytest.mark.django_db


def test_the_arrival_notice_of_a_scan_made_while_redis_is_down_is_sent_by_the_sweeper(
        world, monkeypatch, django_capture_on_commit_callbacks):
    def redis_down(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to localhost:6379. Connection refused.")

    monkeypatch.setattr(celery.app.task.Task, "apply_async", redis_down)
    patron = make_patron(world, email="helmi@example.org")
    _item, hold = ill_item(world, patron)
    with django_capture_on_commit_callbacks(execute=True):
        result = desk_scan_in(desk=world.desk, barcode="PART-1", user=world.user)
    assert result.outcome == Outcome.ON_HOLD_SHELF
    assert mail.outbox == []

    monkeypatch.undo()  # Redis is back; beat runs the sweeper
    sweep_letters()
    assert [m.to for m in mail.outbox] == [["helmi@example.org"]]
    letter = SentLetter.objects.get(code="hold_arrival_notice")
    assert letter.status == SentLetter.Status.SENT and letter.about == hold
