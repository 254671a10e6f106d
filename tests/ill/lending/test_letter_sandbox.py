"""An admin's letter templates that try to read beyond their letter show nothing of it in
what lending really sends and prints: the letter to an e-mail partner, the pull slip and the
shipping slip."""

import pytest
from django.urls import reverse

from ill.lending import services as ls
from kauko import roles
from kauko.models import SentLetter
from tests import factories as f
from tests.kauko.letter_attack import (
    PARTNER_SECRET,
    assert_nothing_leaked,
    plant_secrets,
    save_attack,
)

pytestmark = pytest.mark.django_db


def test_lending_letters_and_slips_show_nothing_beyond_the_letter(
    client, inst, setup, other_inst, mailoutbox, django_capture_on_commit_callbacks
):
    partner = f.partner(inst, code="NRL", email="ill@nrl.example.org",
                        outbound_security_code=PARTNER_SECRET)
    rs_staff = f.staff(inst, roles.RESOURCE_SHARING, email="rs@ota.example.org")
    users = [rs_staff, *plant_secrets(inst, other_inst)]
    for code in ("lending_will_supply", "pull_slip", "shipping_slip"):
        for language in ("en", "fi", "sv"):
            save_attack(inst, code, language=language)
    f.item(setup.stacks, title="Lent book", barcodes=("OTA100",))
    lent = f.lending_request(inst, setup=setup, partner_=partner, user=rs_staff)
    assert lent.item is not None

    with django_capture_on_commit_callbacks(execute=True):
        ls.lending_request_will_supply(request=lent, user=rs_staff, note="Soon")
    letter = SentLetter.objects.get(institution=inst, code="lending_will_supply")
    assert letter.status == SentLetter.Status.SENT, letter.error
    assert_nothing_leaked(letter.subject + letter.text + letter.html, users)
    assert_nothing_leaked(mailoutbox[0].body, users)

    client.force_login(rs_staff)
    printed = client.post(reverse("ill:lending_pull_slips"), {"ids": [lent.pk]})
    pull = client.get(printed["Location"])
    assert pull.status_code == 200
    assert_nothing_leaked(pull.text, users)
    shipping = client.get(reverse("ill:lending_shipping_slip", args=[lent.pk]))
    assert shipping.status_code == 200
    assert_nothing_leaked(shipping.text, users)
