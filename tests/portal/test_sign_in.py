import datetime
import re

import pytest
from django.core import mail
from django.utils import timezone

from portal.access import PATRON_SESSION_KEY
from portal.models import MAX_PIN_FAILURES, PatronPin, SignInLink
from tests import factories as f
from tests.portal.conftest import PIN

pytestmark = pytest.mark.django_db


def _sign_in(client, patron, pin=PIN, card=None, **extra):
    return client.post("/my/sign-in/", {"institution": patron.institution_id,
                                        "card": card or patron.barcode, "pin": pin, **extra})


def test_a_patron_signs_in_with_card_and_pin_and_sees_their_page(anonymous, patron):
    response = _sign_in(anonymous, patron)
    assert response.status_code == 302 and response["Location"] == "/my/"
    page = anonymous.get("/my/")
    assert page.status_code == 200
    assert "Aino Virtanen" in page.content.decode()
    assert anonymous.session[PATRON_SESSION_KEY] == patron.pk


def test_the_card_number_is_found_whatever_its_case_and_spaces(anonymous, patron):
    assert _sign_in(anonymous, patron, card="  ota-p1 ").status_code == 302


def test_a_patron_signs_in_with_another_identifier_too(anonymous, patron):
    patron.identifiers.create(institution=patron.institution, kind="university id",
                              value="aino.v")
    assert _sign_in(anonymous, patron, card="aino.v").status_code == 302


def test_the_pin_is_stored_hashed(patron):
    stored = PatronPin.objects.get(patron=patron).pin_hash
    assert stored and PIN not in stored


def test_a_wrong_pin_is_refused_without_saying_which_half_was_wrong(anonymous, patron):
    wrong_pin = _sign_in(anonymous, patron, pin="0000")
    unknown_card = _sign_in(anonymous, patron, card="NOBODY")
    assert wrong_pin.status_code == unknown_card.status_code == 400
    text = "That card number and PIN do not match"
    assert text in wrong_pin.content.decode() and text in unknown_card.content.decode()
    assert PATRON_SESSION_KEY not in anonymous.session


def test_a_patron_of_another_institution_cannot_sign_in_here(anonymous, patron, other_inst):
    response = anonymous.post("/my/sign-in/", {"institution": other_inst.pk,
                                               "card": patron.barcode, "pin": PIN})
    assert response.status_code == 400


def test_too_many_wrong_pins_lock_the_pin_until_staff_set_a_new_one(anonymous, patron):
    for _ in range(MAX_PIN_FAILURES):
        _sign_in(anonymous, patron, pin="0000")
    locked = _sign_in(anonymous, patron)
    assert locked.status_code == 400 and "Too many wrong PINs" in locked.content.decode()


def test_a_patron_without_a_pin_cannot_sign_in_with_one(anonymous, inst, setup):
    person = f.patron(inst, barcode="NOPIN")
    response = anonymous.post("/my/sign-in/", {"institution": inst.pk, "card": "NOPIN",
                                               "pin": "1234"})
    assert response.status_code == 400 and person.pk


def test_the_portal_asks_a_stranger_to_sign_in_and_comes_back_to_the_same_page(anonymous,
                                                                               patron):
    response = anonymous.get("/my/request/?title=Dune")
    assert response.status_code == 302
    assert response["Location"].startswith("/my/sign-in/?next=")
    signed = _sign_in(anonymous, patron, next="/my/request/?title=Dune")
    assert signed["Location"] == "/my/request/?title=Dune"


def test_sign_in_never_sends_the_patron_to_another_site(anonymous, patron):
    signed = _sign_in(anonymous, patron, next="https://evil.example.org/")
    assert signed["Location"] == "/my/"


@pytest.mark.parametrize("url", ["/", "/borrowing/", "/lending/", "/desk/", "/catalogue/items/",
                                 "/admin/", "/api/patrons/", "/borrowing/new/"])
def test_a_signed_in_patron_reaches_nothing_of_the_staff_site(signed_in, url):
    response = signed_in.get(url)
    assert response.status_code in (302, 401, 403)
    if response.status_code == 302:
        assert "login" in response["Location"]


def test_signing_out_forgets_the_patron(signed_in):
    response = signed_in.post("/my/sign-out/")
    assert response.status_code == 302
    assert signed_in.get("/my/").status_code == 302


def test_signing_out_is_a_post(signed_in):
    assert signed_in.get("/my/sign-out/").status_code == 405
    assert signed_in.get("/my/").status_code == 200


# --- the one-time link -------------------------------------------------------------------------


def _ask_for_link(client, patron, django_capture_on_commit_callbacks, card=None):
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/my/sign-in/link/", {"institution": patron.institution_id,
                                                 "card": card or patron.barcode})


def _link_in_mail() -> str:
    return re.search(r"http\S+/my/sign-in/link/\S+/", mail.outbox[-1].body).group(0)


def test_a_patron_gets_a_one_time_sign_in_link_by_email(anonymous, patron,
                                                       django_capture_on_commit_callbacks):
    response = _ask_for_link(anonymous, patron, django_capture_on_commit_callbacks)
    assert response.status_code == 200 and "Check your e-mail" in response.content.decode()
    assert mail.outbox[-1].to == ["aino@example.org"]
    path = _link_in_mail().split("//", 1)[1].split("/", 1)[1]
    assert anonymous.get("/" + path).status_code == 200  # opening it asks, spends nothing
    assert anonymous.post("/" + path)["Location"] == "/my/"
    assert anonymous.get("/my/").status_code == 200
    stranger = type(anonymous)()
    assert stranger.post("/" + path).status_code == 410  # once only


def test_the_link_page_says_the_same_for_an_unknown_card(anonymous, patron,
                                                        django_capture_on_commit_callbacks):
    response = _ask_for_link(anonymous, patron, django_capture_on_commit_callbacks,
                             card="NOBODY")
    assert "Check your e-mail" in response.content.decode()
    assert mail.outbox == []


def test_an_expired_link_signs_nobody_in(anonymous, patron, django_capture_on_commit_callbacks):
    _ask_for_link(anonymous, patron, django_capture_on_commit_callbacks)
    SignInLink.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    path = "/" + _link_in_mail().split("//", 1)[1].split("/", 1)[1]
    assert anonymous.post(path).status_code == 410
    assert PATRON_SESSION_KEY not in anonymous.session


# --- staff set the PIN in the admin -------------------------------------------------------------


def test_desk_staff_set_a_patrons_pin_in_the_admin(client, desk_staff, inst, setup):
    person = f.patron(inst, barcode="NEWPIN")
    client.force_login(desk_staff)
    response = client.post("/admin/portal/patronpin/add/", {"patron": person.pk,
                                                            "new_pin": "97531"})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert PatronPin.objects.get(patron=person).check_pin("97531")


def test_staff_cannot_set_the_pin_of_another_institutions_patron(client, desk_staff,
                                                                 other_inst):
    stranger = f.patron(other_inst, barcode="THEIRS")
    client.force_login(desk_staff)
    response = client.post("/admin/portal/patronpin/add/", {"patron": stranger.pk,
                                                            "new_pin": "97531"})
    assert response.status_code == 200  # the form again, with an error
    assert not PatronPin.objects.filter(patron=stranger).exists()


def _chosen(response) -> str:
    """The library the sign-in form has selected (a browser takes the first if none is)."""
    html = response.content.decode()
    select = html[html.index('name="institution"'):]
    select = select[:select.index("</select>")]
    end = select.find(" selected")
    if end < 0:
        return select[select.index('value="') + 7:].split('"')[0]
    return select[select[:end].rindex('value="') + 7:].split('"')[0]


def test_the_library_named_in_the_link_is_chosen_on_the_sign_in_form(anonymous, inst,
                                                                     other_inst):
    # Without a name the form shows libraries in name order: KAISA before OTA.
    assert _chosen(anonymous.get("/my/sign-in/")) == str(other_inst.pk)
    assert _chosen(anonymous.get("/my/sign-in/?library=ota")) == str(inst.pk)
    assert _chosen(anonymous.get("/my/sign-in/link/?library=OTA")) == str(inst.pk)
    assert _chosen(anonymous.get("/my/sign-in/?library=NOSUCH")) == str(other_inst.pk)


def test_a_discovery_link_naming_its_library_preselects_it_for_sign_in(anonymous, inst,
                                                                       other_inst):
    response = anonymous.get("/openurl?library=OTA&genre=book&title=Kalevala", follow=True)
    assert response.status_code == 200
    assert _chosen(response) == str(inst.pk)
