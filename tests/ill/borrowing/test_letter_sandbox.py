"""An admin's letter templates that try to read beyond their letter show nothing of it in
the letters and slips one physical loan really sends and prints: the request to the partner,
the patron's arrival notice and query, the hold slip, the return slip and the letter telling
the partner its item is on the way back."""

import datetime

import pytest
from django.utils import timezone

from circulation import services as desk
from ill.borrowing.services import (
    borrowing_request_query_patron,
    borrowing_request_receive,
    borrowing_request_send,
    borrowing_request_shipped,
)
from kauko import roles
from kauko.models import SentLetter
from tests import factories as f
from tests.kauko.letter_attack import (
    PARTNER_SECRET,
    PATRON_SECRET,
    assert_nothing_leaked,
    plant_secrets,
    save_attack,
)

pytestmark = pytest.mark.django_db

CODES = ("borrowing_request_to_partner", "hold_arrival_notice", "patron_query", "hold_slip",
         "return_slip", "borrowing_return_to_partner")


def test_every_letter_and_slip_of_a_loan_shows_nothing_beyond_the_letter(
    other_inst, mailoutbox, django_capture_on_commit_callbacks
):
    inst = f.institution("OTA")
    setup = f.rs_setup(inst)
    partner = f.partner(inst, code="NRL", email="ill@nrl.example.org",
                        outbound_security_code=PARTNER_SECRET)
    patron = f.patron(inst, group=f.patron_group(inst, "STUDENT", loan_limit=5),
                      pickup_desk=setup.desk, email="p@example.org", notes=PATRON_SECRET)
    rs_staff = f.staff(inst, roles.RESOURCE_SHARING, email="rs@ota.example.org")
    desk_staff = f.staff(inst, roles.CIRCULATION)
    users = [rs_staff, desk_staff, *plant_secrets(inst, other_inst)]
    for code in CODES:
        for language in ("en", "fi", "sv"):
            save_attack(inst, code, language=language)
    request = f.borrowing_request(inst, setup=setup, partners=[partner], patron_=patron)

    with django_capture_on_commit_callbacks(execute=True):
        request = borrowing_request_send(request=request, user=rs_staff)
        borrowing_request_query_patron(request=request, letter_code="patron_query",
                                       message="Which edition?", user=rs_staff)
        request = borrowing_request_shipped(
            request=request, due_date=timezone.localdate() + datetime.timedelta(days=30),
            barcode="NRL-0042", user=rs_staff)
        request = borrowing_request_receive(request=request, barcode="NRL-0042", user=rs_staff)
        arrived = desk.desk_scan_in(desk=setup.desk, barcode="NRL-0042", user=desk_staff)
        item = request.temporary_item
        desk.loan_item(desk=setup.desk, patron=patron, item=item, user=desk_staff)
        desk.return_item(desk=setup.desk, item=item, user=desk_staff)
        back = desk.desk_scan_in(desk=setup.rs_desk, barcode="NRL-0042", user=rs_staff)

    letters = SentLetter.objects.filter(institution=inst)
    assert sorted(letters.values_list("code", flat=True)) == sorted(
        ["borrowing_request_to_partner", "patron_query", "hold_arrival_notice",
         "borrowing_return_to_partner"])
    for letter in letters:
        assert letter.status == SentLetter.Status.SENT, letter.error
        assert_nothing_leaked(letter.subject + letter.text + letter.html, users)
    assert len(mailoutbox) == 4
    for mail in mailoutbox:
        assert_nothing_leaked(mail.body, users)
    assert_nothing_leaked(arrived.slip_html, users)  # the hold slip
    assert_nothing_leaked(back.slip_html, users)  # the return slip
