"""Lending services: locate, answers, shipping, renewals, check-in, and where our item is
(status and location) at every step."""

import datetime

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from circulation.models import Hold
from fulfillment.models import Item
from ill.lending import services as ls
from ill.models import LendingCandidate, LendingRequest
from ill.workflow import WorkflowError
from tests import factories as f

S = LendingRequest.Status
pytestmark = pytest.mark.django_db
TODAY = timezone.localdate








@pytest.fixture
def user(inst):
    return f.staff(inst)


@pytest.fixture
def book(setup):
    item = f.item(setup.stacks, title="Gödel, Escher, Bach", barcodes=("OTA001",))
    item.bib.isbn, item.bib.author, item.bib.year = "9780465026562", "Hofstadter, D.", "1999"
    item.bib.save()
    return item


def _create(inst, setup, partner, user, **kw):
    kw.setdefault("citation", {"title": "Gödel, Escher, Bach", "isbn": "978-0-465-02656-2"})
    return f.lending_request(inst, setup=setup, partner_=partner, user=user, **kw)


def _item(item):
    item.refresh_from_db()
    return item.status, item.location_id


def _fresh(r):
    return LendingRequest.objects.select_related("item__bib", "partner", "rs_library").get(
        pk=r.pk)


# --- locate --------------------------------------------------------------------------------


def test_locate_by_isbn_takes_the_available_item_to_the_outgoing_location(
        inst, setup, partner, user, book):
    r = _create(inst, setup, partner, user, partner_request_id="NRL-1")
    assert r.status == S.PROCESSING and r.item == book
    assert r.number.startswith("OTA-L-")
    assert _item(book) == (Item.Status.RESOURCE_SHARING, setup.outgoing.pk)
    assert book.permanent_location == setup.stacks
    assert list(r.candidates.values_list("item_id", "matched_by")) == [(book.pk, "identifier")]
    assert [h.action for h in r.history.all()] == ["create", "locate_item"]


def test_an_isbn_10_finds_the_record_catalogued_with_isbn_13(inst, setup, partner, user,
                                                             book):
    r = _create(inst, setup, partner, user, citation={"title": "GEB", "isbn": "0465026567"})
    assert r.item == book


def test_locate_by_title_author_and_year_ignores_case_subtitle_and_accents(
        inst, setup, partner, user, book):
    r = _create(inst, setup, partner, user, citation={
        "title": "gödel, escher, bach : an eternal golden braid", "author": "Hofstadter",
        "year": "1999"})
    assert r.item == book
    assert r.candidates.get().matched_by == "title"


def test_a_different_year_or_author_is_not_a_match(inst, setup, partner, user, book):
    r = _create(inst, setup, partner, user, citation={"title": "Gödel, Escher, Bach",
                                                      "author": "Someone Else"})
    assert r.status == S.LOCATE_FAILED and r.item is None
    r = _create(inst, setup, partner, user, citation={"title": "Gödel, Escher, Bach",
                                                      "year": "2020"})
    assert r.status == S.LOCATE_FAILED


def test_nothing_found_is_locate_failed(inst, setup, partner, user, book):
    r = _create(inst, setup, partner, user, citation={"title": "Not in our catalogue"})
    assert r.status == S.LOCATE_FAILED
    assert not r.candidates.exists()
    assert "No match" in r.history.last().note
    assert _item(book) == (Item.Status.IN_PLACE, setup.stacks.pk)


def test_only_unavailable_copies_fail_but_stay_as_candidates(inst, setup, partner, user, book):
    Item.objects.filter(pk=book.pk).update(status=Item.Status.LOANED)
    r = _create(inst, setup, partner, user)
    assert r.status == S.LOCATE_FAILED
    assert r.candidates.get().item == book


def test_the_second_copy_is_taken_when_the_first_is_out(inst, setup, partner, user, book):
    Item.objects.filter(pk=book.pk).update(status=Item.Status.LOANED)
    second = Item.objects.create(institution=inst, holding=book.holding, bib=book.bib,
                                 location=setup.stacks, permanent_location=setup.stacks)
    r = _create(inst, setup, partner, user)
    assert r.item == second and r.candidates.count() == 2


def test_staff_locate_by_hand_after_locate_failed(inst, setup, partner, user, book):
    r = _create(inst, setup, partner, user, citation={"title": "Misspelt title"})
    r = ls.lending_request_choose_item(request=r, item=book, user=user, version=r.version)
    assert r.status == S.PROCESSING
    assert _item(book) == (Item.Status.RESOURCE_SHARING, setup.outgoing.pk)
    assert r.candidates.get().matched_by == LendingCandidate.MatchedBy.STAFF


def test_choosing_another_item_puts_the_first_back(inst, setup, partner, user, book):
    r = _create(inst, setup, partner, user)
    other = f.item(setup.stacks, title="Gödel, Escher, Bach", barcodes=("OTA002",))
    r = ls.lending_request_choose_item(request=r, item=other, user=user)
    assert r.item == other and r.status == S.PROCESSING
    assert _item(book) == (Item.Status.IN_PLACE, setup.stacks.pk)
    assert _item(other) == (Item.Status.RESOURCE_SHARING, setup.outgoing.pk)


def test_an_unavailable_item_cannot_be_chosen(inst, setup, partner, user, book):
    r = _create(inst, setup, partner, user, citation={"title": "Misspelt"})
    Item.objects.filter(pk=book.pk).update(status=Item.Status.LOANED)
    with pytest.raises(WorkflowError, match="cannot be lent"):
        ls.lending_request_choose_item(request=r, item=book, user=user)
    assert _fresh(r).status == S.LOCATE_FAILED


def test_the_same_partner_request_id_is_refused_twice(inst, setup, partner, user, book):
    first = _create(inst, setup, partner, user, partner_request_id="NRL-7")
    with pytest.raises(WorkflowError, match=first.number):
        _create(inst, setup, partner, user, partner_request_id="NRL-7")
    # Another partner may use the same id, and e-mail requests may have none at all.
    _create(inst, setup, f.partner(inst), user, partner_request_id="NRL-7")
    _create(inst, setup, partner, user)
    _create(inst, setup, partner, user)


# --- the whole loan, item status and location at every step -------------------------------


def test_a_loan_from_request_to_check_in(inst, setup, partner, user, book,
                                         django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        r = _create(inst, setup, partner, user, partner_request_id="NRL-B-1")
        r = ls.lending_request_will_supply(request=r, user=user, version=r.version,
                                           note="Fragile binding")
    assert r.status == S.WILL_SUPPLY
    assert _item(book) == (Item.Status.RESOURCE_SHARING, setup.outgoing.pk)
    assert mail.outbox[-1].to == ["ill@nrl.example.org"]
    assert r.number in mail.outbox[-1].body and "NRL-B-1" in mail.outbox[-1].body

    with django_capture_on_commit_callbacks(execute=True):
        r = ls.lending_request_ship(request=_fresh(r), barcode="ota001", user=user)
    assert r.status == S.SHIPPED_PHYSICAL
    # Due date from the lending terms of use (the outgoing location's: 28 days).
    assert r.due_date == TODAY() + datetime.timedelta(days=28)
    assert _item(book) == (Item.Status.RESOURCE_SHARING, setup.outgoing.pk)
    assert "OTA001" in mail.outbox[-1].body

    r = ls.lending_request_partner_received(request=_fresh(r), user=user)
    assert r.status == S.RECEIVED
    with django_capture_on_commit_callbacks(execute=True):
        r = ls.lending_request_renewal_asked(request=_fresh(r), user=user)
        new_due = r.due_date + datetime.timedelta(days=14)
        r = ls.lending_request_renewal_answer(request=_fresh(r), granted=True,
                                              new_due_date=new_due, user=user)
    assert r.status == S.RECEIVED and r.renewals == 1 and r.due_date == new_due
    assert "New due date" in mail.outbox[-1].body
    assert _item(book) == (Item.Status.RESOURCE_SHARING, setup.outgoing.pk)

    r = ls.lending_request_returned(request=_fresh(r), user=user)
    assert r.status == S.RETURNED
    assert _item(book) == (Item.Status.RESOURCE_SHARING, setup.outgoing.pk)
    with django_capture_on_commit_callbacks(execute=True):
        r = ls.lending_request_check_in(request=_fresh(r), barcode="OTA001", user=user)
    assert r.status == S.COMPLETED and r.checked_in_at
    assert _item(book) == (Item.Status.IN_PLACE, setup.stacks.pk)
    assert mail.outbox[-1].subject and r.number in mail.outbox[-1].body
    assert [h.to_status for h in r.history.all()][-1] == S.COMPLETED


def test_shipping_asks_for_the_right_items_barcode(inst, setup, partner, user, book):
    r = _create(inst, setup, partner, user)
    f.item(setup.stacks, title="Other", barcodes=("OTHER1",))
    with pytest.raises(WorkflowError, match="not this request's item"):
        ls.lending_request_ship(request=r, barcode="OTHER1", user=user)
    with pytest.raises(WorkflowError, match="Scan"):
        ls.lending_request_ship(request=r, barcode=" ", user=user)
    assert _fresh(r).status == S.PROCESSING


def test_staff_may_set_another_due_date(inst, setup, partner, user, book):
    r = _create(inst, setup, partner, user)
    due = TODAY() + datetime.timedelta(days=10)
    r = ls.lending_request_ship(request=r, barcode="OTA001", due_date=due, user=user)
    assert r.due_date == due


def test_check_in_needs_the_items_barcode_and_puts_it_home(inst, setup, partner, user, book):
    r = ls.lending_request_ship(request=_create(inst, setup, partner, user), barcode="OTA001",
                                user=user)
    with pytest.raises(WorkflowError):
        ls.lending_request_check_in(request=_fresh(r), barcode="NOPE", user=user)
    r = ls.lending_request_check_in(request=_fresh(r), barcode="OTA001", user=user)
    assert r.status == S.COMPLETED
    assert _item(book) == (Item.Status.IN_PLACE, setup.stacks.pk)


def test_reject_with_a_reason_puts_the_item_back_and_tells_the_partner(
        inst, setup, partner, user, book, django_capture_on_commit_callbacks):
    r = _create(inst, setup, partner, user)
    with django_capture_on_commit_callbacks(execute=True):
        r = ls.lending_request_reject(request=r, reason_code="PoorCondition", user=user,
                                      version=r.version)
    assert r.status == S.REJECTED and r.reason == "Poor condition"
    assert _item(book) == (Item.Status.IN_PLACE, setup.stacks.pk)
    assert "Poor condition" in mail.outbox[-1].body


def test_a_condition_accepted_and_one_refused(inst, setup, partner, user, book,
                                              django_capture_on_commit_callbacks):
    r = _create(inst, setup, partner, user)
    reply_by = TODAY() + datetime.timedelta(days=5)
    with django_capture_on_commit_callbacks(execute=True):
        r = ls.lending_request_conditional(request=r, condition="Library use only",
                                           reply_by=reply_by, user=user)
    assert r.status == S.CONDITIONAL and r.condition_reply_by == reply_by
    assert "Library use only" in mail.outbox[-1].body
    r = ls.lending_request_condition_answer(request=r, accepted=True, user=user)
    assert r.status == S.WILL_SUPPLY and r.condition_answer == "accepted"

    r = ls.lending_request_conditional(request=r, condition="", cost=15, user=user)
    assert "15" in r.condition_text
    r = ls.lending_request_condition_answer(request=r, accepted=False, user=user)
    assert r.status == S.CANCELLED
    assert _item(book) == (Item.Status.IN_PLACE, setup.stacks.pk)


def test_cancel_answers(inst, setup, partner, user, book, django_capture_on_commit_callbacks):
    r = _create(inst, setup, partner, user)
    with django_capture_on_commit_callbacks(execute=True):
        r = ls.lending_request_cancel_answer(request=r, cancelled=False, user=user)
    assert r.status == S.PROCESSING
    assert _item(book)[0] == Item.Status.RESOURCE_SHARING
    with django_capture_on_commit_callbacks(execute=True):
        r = ls.lending_request_cancel_answer(request=r, cancelled=True, user=user)
    assert r.status == S.CANCELLED
    assert _item(book) == (Item.Status.IN_PLACE, setup.stacks.pk)
    assert len(mail.outbox) == 2


def test_digital_copy_by_file_goes_as_an_attachment(inst, setup, partner, user, book,
                                                     django_capture_on_commit_callbacks,
                                                     settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    r = _create(inst, setup, partner, user, service_type="copy")
    with django_capture_on_commit_callbacks(execute=True):
        r = ls.lending_request_ship_digitally(
            request=r, uploaded_file=SimpleUploadedFile("scan.pdf", b"%PDF-1.4 x"), user=user)
    assert r.status == S.SHIPPED_DIGITAL and r.is_final
    assert mail.outbox[-1].attachments[0][0] == "scan.pdf"
    assert _item(book) == (Item.Status.IN_PLACE, setup.stacks.pk)


def test_lost_is_written_off_at_home(inst, setup, partner, user, book):
    r = ls.lending_request_ship(request=_create(inst, setup, partner, user), barcode="OTA001",
                                user=user)
    r = ls.lending_request_report(request=r, what="lost", user=user)
    assert r.status == S.LOST
    assert _item(book) == (Item.Status.LOST, setup.stacks.pk)


def test_overdue_notice_then_reminder_then_recall(inst, setup, partner, user, book,
                                                  django_capture_on_commit_callbacks):
    r = ls.lending_request_ship(request=_create(inst, setup, partner, user), barcode="OTA001",
                                user=user)
    with pytest.raises(WorkflowError, match="not overdue"):
        ls.lending_request_overdue_notice(request=r, user=user)
    LendingRequest.objects.filter(pk=r.pk).update(due_date=TODAY() - datetime.timedelta(1))
    with django_capture_on_commit_callbacks(execute=True):
        r = ls.lending_request_overdue_notice(request=_fresh(r), user=user)
        r = ls.lending_request_overdue_notice(request=_fresh(r), user=user)
        r = ls.lending_request_recall(request=_fresh(r), user=user, note="Needed here")
    assert r.status == S.RECALLED
    assert [m.subject for m in mail.outbox][:2] == [mail.outbox[0].subject] * 2
    assert "Needed here" in mail.outbox[-1].body


def test_automatic_renewal_says_yes_unless_our_patrons_wait(inst, setup, user, book):
    profile = f.workflow_profile(inst, side="lending", auto_renew=True)
    partner = f.partner(inst, lending_profile=profile)
    r = ls.lending_request_ship(request=_create(inst, setup, partner, user), barcode="OTA001",
                                user=user)
    old_due = r.due_date
    r = ls.lending_request_renewal_asked(request=_fresh(r), user=None)
    assert r.status == S.RECEIVED and r.renewals == 1 and r.due_date >= old_due
    assert r.history.last().source == "system"

    Hold.objects.create(institution=inst, patron=f.patron(inst), bib=book.bib)
    r = ls.lending_request_renewal_asked(request=_fresh(r), user=None)
    assert r.status == S.RENEW_REQUESTED and r.renewals == 1


def test_a_stale_version_is_refused_and_nothing_moves(inst, setup, partner, user, book):
    r = _create(inst, setup, partner, user)
    seen = r.version
    ls.lending_request_will_supply(request=r, user=user, version=seen)
    with pytest.raises(WorkflowError, match="Someone else changed"):
        ls.lending_request_reject(request=r, reason_code="NotOnShelf", user=user, version=seen)
    assert _fresh(r).status == S.WILL_SUPPLY
    assert _item(book)[0] == Item.Status.RESOURCE_SHARING


def test_a_move_from_the_wrong_state_is_refused(inst, setup, partner, user, book):
    r = _create(inst, setup, partner, user, citation={"title": "Unknown"})
    with pytest.raises(WorkflowError, match="not possible now"):
        ls.lending_request_will_supply(request=r, user=user)
    with pytest.raises(WorkflowError):
        ls.lending_request_check_in(request=r, barcode="OTA001", user=user)


def test_expiry_returns_the_item(inst, setup, partner, user, book):
    r = _create(inst, setup, partner, user)
    r = ls.lending_request_expire(request=r)
    assert r.status == S.EXPIRED
    assert _item(book) == (Item.Status.IN_PLACE, setup.stacks.pk)
