"""Letters go through a durable outbox: kept, rendered, in the transaction of the change they
report, sent by a task after commit, and by the sweeper when the broker never took them."""

import datetime
import smtplib

import pytest
from celery import current_app
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.utils import timezone

from kauko.letters import (
    DELIVER_LETTER_TASK,
    deliver_letter,
    queue_letter,
    sweep_letters,
)
from kauko.models import LetterAttachment, SentLetter
from tests import factories as f

pytestmark = pytest.mark.django_db
S = SentLetter.Status


@pytest.fixture
def ota():
    return f.institution("OTA", languages="fi,sv,en", email="ill@ota.example.org")


def context(**extra):
    request = {"number": "OTA-B-2026-000001", "title": "Pattern Language",
               "author": "Alexander, C.", "request_type_label": "Book loan",
               "citation_text": "Pattern Language", "pickup_desk": None,
               "office_delivery": False, "delivery_address": "", "patron_due_date": None,
               "partner_due_date": None, "needed_before": None, "max_cost": None,
               "note_to_partner": "", "condition_text": "", "reason": "No longer needed.",
               "partner_request_id": ""}
    return {"request": request, "patron": {"full_name": "Pat Ron", "first_name": "Pat"},
            "partner": None, "library": None, "message": "", **extra}


def queue(ota, **kw):
    kw.setdefault("to", "pat@example.org")
    return queue_letter(institution=ota, code="patron_cancellation_notice", language="en",
                        context=context(), **kw)


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to localhost:6379. Connection refused.")

    monkeypatch.setattr(current_app.tasks[DELIVER_LETTER_TASK], "apply_async", refuse)
    return monkeypatch


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPRecipientsRefused({"pat@example.org": (550, b"No such user")})


def test_a_queued_letter_is_kept_rendered_and_sent_after_commit(
        ota, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        letter = queue(ota)
    letter.refresh_from_db()
    assert letter.status == S.QUEUED and "Pattern Language" in letter.text
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    letter.refresh_from_db()
    assert letter.status == S.SENT and letter.attempts == 1
    assert letter.handed_to_broker_at is not None
    assert len(mail.outbox) == 1 and mail.outbox[0].subject == letter.subject


def test_a_change_that_fails_leaves_no_letter(ota):
    with pytest.raises(RuntimeError), transaction.atomic():
        queue(ota)
        raise RuntimeError("the change fails after the letter was queued")
    assert not SentLetter.objects.exists()


def test_a_letter_queued_while_the_broker_is_down_is_sent_by_the_sweeper(
        ota, broker_down, django_capture_on_commit_callbacks, caplog):
    with django_capture_on_commit_callbacks(execute=True):
        letter = queue(ota, attachments=[("copy.pdf", b"%PDF-1.4 ...", "application/pdf")])
    letter.refresh_from_db()
    assert letter.status == S.QUEUED and letter.handed_to_broker_at is None
    assert mail.outbox == [] and "the letter sweeper will send it" in caplog.text

    broker_down.undo()  # Redis is back
    assert sweep_letters() == 1
    letter.refresh_from_db()
    assert letter.status == S.SENT and len(mail.outbox) == 1
    assert mail.outbox[0].attachments == [("copy.pdf", b"%PDF-1.4 ...", "application/pdf")]
    assert not LetterAttachment.objects.exists()  # not kept once sent
    # Sent once: sweeping again, or a late duplicate of the task, sends nothing more.
    assert sweep_letters() == 0
    assert deliver_letter(letter.pk) is False and len(mail.outbox) == 1


def test_the_sweeper_takes_over_a_letter_whose_worker_died_but_not_a_fresh_one(ota):
    letter = queue(ota)  # never committed: no callback ran
    SentLetter.objects.filter(pk=letter.pk).update(status=S.SENDING, attempts=1,
                                                   sending_since=timezone.now())
    assert sweep_letters() == 0 and deliver_letter(letter.pk) is False
    SentLetter.objects.filter(pk=letter.pk).update(
        sending_since=timezone.now() - datetime.timedelta(hours=1))
    assert sweep_letters() == 1
    letter.refresh_from_db()
    assert letter.status == S.SENT and letter.attempts == 2 and len(mail.outbox) == 1


def test_a_letter_whose_every_attempt_died_is_failed_not_sent_again(ota, settings):
    settings.LETTER_MAX_ATTEMPTS = 2
    letter = queue(ota)
    SentLetter.objects.filter(pk=letter.pk).update(
        status=S.SENDING, attempts=2, sending_since=timezone.now() - datetime.timedelta(hours=1))
    assert sweep_letters() == 0
    letter.refresh_from_db()
    assert letter.status == S.FAILED and letter.error and mail.outbox == []


class SlowThenRefusing(BaseEmailBackend):
    """A mail server whose first answer comes too late: meanwhile `during()` runs."""

    during = None

    def send_messages(self, messages):
        during, type(self).during = type(self).during, None
        if during is not None:
            during()
            raise smtplib.SMTPServerDisconnected("timed out")
        mail.outbox.extend(messages)
        return len(messages)


def test_a_late_attempt_does_not_overwrite_what_the_one_that_took_over_recorded(
        ota, settings):
    settings.EMAIL_BACKEND = "tests.kauko.test_letter_outbox.SlowThenRefusing"
    letter = queue(ota)

    def another_worker_takes_over():
        SentLetter.objects.filter(pk=letter.pk).update(
            sending_since=timezone.now() - datetime.timedelta(hours=1))
        assert deliver_letter(letter.pk) is True

    SlowThenRefusing.during = another_worker_takes_over
    assert deliver_letter(letter.pk) is False
    letter.refresh_from_db()
    assert letter.status == S.SENT and letter.error == "" and letter.attempts == 2
    assert len(mail.outbox) == 1


def test_a_letter_the_mail_server_refuses_is_failed_with_the_reason(
        ota, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "tests.kauko.test_letter_outbox.RefusingBackend"
    with django_capture_on_commit_callbacks(execute=True):
        letter = queue(ota)
    letter.refresh_from_db()
    assert letter.status == S.FAILED and "No such user" in letter.error


def test_a_letter_without_an_address_is_failed_at_once_and_never_queued(ota):
    letter = queue(ota, to="")
    assert letter.status == S.FAILED and letter.error
    assert sweep_letters() == 0


def test_beat_runs_the_letter_sweeper_every_minute(settings):
    jobs = {job["task"]: job["schedule"] for job in settings.CELERY_BEAT_SCHEDULE.values()}
    assert jobs["kauko.sweep_letters"] == 60.0
    assert "kauko.sweep_letters" in current_app.tasks
