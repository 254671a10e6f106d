"""Letters: wording found in the right place, rendered safely, sent, recorded, and edited in
the admin by configuration admins of the own institution only."""

import smtplib
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail.backends.base import BaseEmailBackend
from django.template import engines
from django.urls import reverse

from kauko import roles
from kauko.letters import (
    UnknownLetterType,
    default_template,
    letter_types,
    letters_about,
    render_letter,
    send_letter,
)
from kauko.models import LetterTemplate, SentLetter
from tests import factories as f

pytestmark = pytest.mark.django_db

LANGUAGES = ("en", "fi", "sv")


class RefusingBackend(BaseEmailBackend):
    """An SMTP server that refuses every letter."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPRecipientsRefused({"pat@example.org": (550, b"No such user")})


def request_context(**request):
    values = dict(number="OTA-B-2026-000001", title="Pattern Language", author="Alexander, C.",
                  citation_text="Pattern Language / Alexander, C.\nOUP, 1977",
                  reason="", patron_due_date=None, partner_request_id="")
    values.update(request)
    return {
        "request": SimpleNamespace(**values),
        "patron": SimpleNamespace(full_name="Pat Ron", first_name="Pat", barcode="P1",
                                  email="pat@example.org"),
        "library": SimpleNamespace(name="Otaniemi RS", address=""),
    }


@pytest.fixture
def ota():
    return f.institution("OTA", languages="fi,sv,en", email="ill@ota.example.org")


def own_template(inst, code="patron_cancellation_notice", language="fi", **kw):
    return LetterTemplate.objects.create(
        institution=inst, code=code, language=language,
        subject=kw.pop("subject", "Oma otsikko {{ request.number }}"),
        text=kw.pop("text", "Oma teksti: {{ request.title }}"), **kw)


# --- finding the wording -------------------------------------------------------------------


@pytest.mark.parametrize(("language", "words"), [
    ("en", "has been cancelled"), ("fi", "on peruttu"), ("sv", "har annullerats")])
def test_a_letter_is_written_in_the_language_asked_for(ota, language, words):
    letter = render_letter(institution=ota, code="patron_cancellation_notice",
                           language=language, context=request_context())
    assert letter.language == language
    assert words in letter.subject
    assert "OTA-B-2026-000001" in letter.subject
    assert "Pattern Language / Alexander, C.\nOUP, 1977" in letter.text


def test_the_institutions_own_template_overrides_the_default(ota):
    own_template(ota)
    letter = render_letter(institution=ota, code="patron_cancellation_notice", language="fi",
                           context=request_context())
    assert letter.subject == "Oma otsikko OTA-B-2026-000001"
    assert letter.text == "Oma teksti: Pattern Language\n"
    assert letter.origin == "institution"


def test_an_inactive_template_of_the_institution_is_not_used(ota):
    own_template(ota, active=False)
    letter = render_letter(institution=ota, code="patron_cancellation_notice", language="fi",
                           context=request_context())
    assert "on peruttu" in letter.subject


def test_another_institutions_template_is_never_used(ota):
    own_template(f.institution("KAISA"), subject="Kaisan otsikko")
    letter = render_letter(institution=ota, code="patron_cancellation_notice", language="fi",
                           context=request_context())
    assert "Kaisan" not in letter.subject


def test_the_default_in_the_asked_language_comes_before_own_templates_in_other_languages(ota):
    own_template(ota, language="fi")
    letter = render_letter(institution=ota, code="patron_cancellation_notice", language="sv",
                           context=request_context())
    assert letter.language == "sv"
    assert "har annullerats" in letter.subject


def test_a_language_without_wording_falls_back_to_the_institutions_default_language(ota):
    own_template(ota, language="fi")
    letter = render_letter(institution=ota, code="patron_cancellation_notice", language="de",
                           context=request_context())
    assert letter.language == "fi"
    assert letter.subject == "Oma otsikko OTA-B-2026-000001"


def test_english_is_the_last_resort():
    # An institution whose own default language has no wording at all (set up by hand).
    inst = f.institution("XX", languages="de")
    letter = render_letter(institution=inst, code="patron_cancellation_notice", language="de",
                           context=request_context())
    assert letter.language == "en"
    assert "has been cancelled" in letter.subject


def test_an_unknown_letter_type_is_a_clear_error(ota):
    with pytest.raises(UnknownLetterType, match="no_such_letter"):
        render_letter(institution=ota, code="no_such_letter", language="en", context={})
    with pytest.raises(UnknownLetterType, match="no_such_letter"):
        send_letter(institution=ota, code="no_such_letter", to="x@example.org", context={})


# --- rendering -----------------------------------------------------------------------------


def test_text_a_patron_typed_is_escaped_in_html_but_not_in_plain_text(ota):
    typed = '<script>alert("x")</script> Tom & Jerry'
    letter = render_letter(institution=ota, code="patron_query", language="en",
                           context={**request_context(), "message": typed, "link": ""})
    assert typed in letter.text
    assert "<script>" not in letter.html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Tom &amp; Jerry" in letter.html
    assert letter.html.startswith("<!DOCTYPE html>")


def test_an_institutions_own_html_is_autoescaped_too(ota):
    own_template(ota, code="patron_query", language="en", subject="Q",
                 text="{{ message }}", html="<p>{{ message }}</p>")
    letter = render_letter(institution=ota, code="patron_query", language="en",
                           context={**request_context(), "message": "<b>bold</b>"})
    assert "<p>&lt;b&gt;bold&lt;/b&gt;</p>" in letter.html
    assert letter.text == "<b>bold</b>\n"


def test_the_subject_is_always_one_line(ota):
    own_template(ota, subject="{{ request.number }}\n  {{ request.title }}\n")
    letter = render_letter(institution=ota, code="patron_cancellation_notice", language="fi",
                           context=request_context())
    assert letter.subject == "OTA-B-2026-000001 Pattern Language"


def test_a_letter_without_html_gets_one_made_from_its_text(ota):
    letter = render_letter(institution=ota, code="patron_query", language="en", context={
        **request_context(), "message": "First line\nsecond line\n\nNew paragraph",
        "link": "https://example.org/free"})
    assert "<p>First line<br>second line</p>" in letter.html
    assert '<a href="https://example.org/free"' in letter.html


def test_a_broken_template_cannot_be_saved(ota):
    template = LetterTemplate(institution=ota, code="patron_query", language="en",
                              subject="Hello", text="{% if message %}never closed")
    with pytest.raises(ValidationError) as raised:
        template.full_clean()
    assert "text" in raised.value.message_dict


def test_a_template_for_an_unknown_letter_type_cannot_be_saved(ota):
    template = LetterTemplate(institution=ota, code="nonsense", language="en",
                              subject="Hello", text="Hi")
    with pytest.raises(ValidationError) as raised:
        template.full_clean()
    assert "code" in raised.value.message_dict


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("code", [t.code for t in letter_types()])
def test_every_letter_type_renders_its_sample_in_every_language(ota, code, language,
                                                                  monkeypatch):
    # A name the context does not have shows up instead of silently vanishing.
    monkeypatch.setattr(engines["django"].engine, "string_if_invalid", "MISSING[%s]")
    assert default_template(code, language) is not None, "no default wording"
    letter_type = next(t for t in letter_types() if t.code == code)
    letter = render_letter(institution=ota, code=code, language=language,
                           context=letter_type.sample_context())
    assert letter.language == language
    assert letter.subject and "\n" not in letter.subject
    for part in (letter.subject, letter.text, letter.html):
        assert "MISSING[" not in part
        assert "{{" not in part and "{%" not in part


# --- sending -------------------------------------------------------------------------------


def test_sending_records_the_letter_and_mails_text_and_html(ota):
    patron = f.patron(ota, email="pat@example.org")
    staff = f.staff(ota)
    sent = send_letter(institution=ota, code="patron_query", to="pat@example.org",
                       language="en", cc=["boss@ota.example.org"], reply_to="desk@example.org",
                       context={**request_context(), "message": "Which edition?", "link": ""},
                       about=patron, sent_by=staff,
                       attachments=[("note.txt", "hello", "text/plain")])

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["pat@example.org"]
    assert message.cc == ["boss@ota.example.org"]
    assert message.reply_to == ["desk@example.org"]
    assert message.from_email == "ill@ota.example.org"
    assert "Which edition?" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "Which edition?" in html
    assert message.attachments[0][0] == "note.txt"

    sent.refresh_from_db()
    assert sent.status == SentLetter.Status.SENT
    assert sent.error == ""
    assert (sent.code, sent.language, sent.to) == ("patron_query", "en", "pat@example.org")
    assert sent.cc == "boss@ota.example.org"
    assert sent.subject == message.subject
    assert sent.text == message.body
    assert sent.sent_by == staff
    assert sent.institution == ota
    assert sent.about == patron


def test_the_letter_goes_in_the_institutions_default_language_unless_told(ota):
    sent = send_letter(institution=ota, code="patron_cancellation_notice",
                       to="pat@example.org", context=request_context())
    assert sent.language == "fi"
    assert "on peruttu" in mail.outbox[0].subject


def test_without_an_institution_address_the_default_sender_is_used(settings):
    settings.DEFAULT_FROM_EMAIL = "kauko@example.org"
    inst = f.institution("NOMAIL", email="")
    send_letter(institution=inst, code="patron_cancellation_notice", to="a@example.org, b@example.org",
                context=request_context())
    assert mail.outbox[0].from_email == "kauko@example.org"
    assert mail.outbox[0].to == ["a@example.org", "b@example.org"]


def test_a_refused_letter_is_recorded_as_failed_without_raising(ota, settings):
    settings.EMAIL_BACKEND = f"{__name__}.RefusingBackend"
    sent = send_letter(institution=ota, code="patron_cancellation_notice",
                       to="pat@example.org", context=request_context())
    sent.refresh_from_db()
    assert sent.status == SentLetter.Status.FAILED
    assert "No such user" in sent.error
    assert "on peruttu" in sent.subject  # staff can still see what was meant to go out


def test_a_letter_to_nobody_is_recorded_as_failed_so_staff_see_it(ota):
    sent = send_letter(institution=ota, code="patron_cancellation_notice", to="",
                       context=request_context())
    assert mail.outbox == []
    assert sent.status == SentLetter.Status.FAILED
    assert sent.error == "no e-mail address"
    assert SentLetter.objects.filter(pk=sent.pk).exists()


def test_letters_about_an_object_are_listed_newest_first(ota):
    patron, other = f.patron(ota), f.patron(ota)
    first = send_letter(institution=ota, code="patron_query", to="p@example.org",
                        context=request_context(), about=patron)
    second = send_letter(institution=ota, code="patron_cancellation_notice",
                         to="p@example.org", context=request_context(), about=patron)
    send_letter(institution=ota, code="patron_query", to="o@example.org",
                context=request_context(), about=other)
    assert list(letters_about(patron)) == [second, first]


# --- roles ---------------------------------------------------------------------------------


def test_configuration_admins_edit_letter_templates_and_every_role_sees_sent_letters(ota):
    roles.ensure_roles()
    config = {p.codename for p in Group.objects.get(name=roles.CONFIGURATION).permissions.all()}
    assert {"view_lettertemplate", "add_lettertemplate", "change_lettertemplate",
            "delete_lettertemplate"} <= config
    for role in (roles.RESOURCE_SHARING, roles.CIRCULATION, roles.CONFIGURATION):
        perms = {p.codename for p in Group.objects.get(name=role).permissions.all()}
        assert "view_sentletter" in perms
        assert "change_sentletter" not in perms


# --- admin ---------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, ota):
    client.force_login(f.staff(ota, roles.CONFIGURATION))
    return client


def test_the_admin_previews_a_template_with_sample_data(admin_client, ota):
    template = own_template(ota, code="patron_query", language="en",
                            subject="About {{ request.number }}",
                            text="Dear {{ patron.first_name }}, {{ message }}",
                            html="<p>Dear <b>{{ patron.first_name }}</b></p>")
    change = admin_client.get(reverse("admin:kauko_lettertemplate_change", args=[template.pk]))
    preview_url = reverse("admin:kauko_lettertemplate_preview", args=[template.pk])
    assert preview_url in change.text

    response = admin_client.get(preview_url)
    assert response.status_code == 200
    assert "About DEMO-B-2026-000042" in response.text
    assert "Dear Maija, Could you tell us" in response.text
    # The HTML sits escaped inside srcdoc, in a sandboxed frame.
    assert 'srcdoc="' in response.text
    assert "&lt;p&gt;Dear &lt;b&gt;Maija&lt;/b&gt;&lt;/p&gt;" in response.text
    assert "sandbox" in response.text


def test_the_admin_previews_what_the_institution_would_send_in_each_language(admin_client):
    url = reverse("admin:kauko_lettertemplate_default_preview",
                  args=["hold_arrival_notice", "sv"])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert "Kan hämtas" in response.text


def test_the_letter_types_page_lists_every_type_with_its_context_names(admin_client):
    response = admin_client.get(reverse("admin:kauko_lettertemplate_types"))
    assert response.status_code == 200
    for letter_type in letter_types():
        assert letter_type.code in response.text
    assert "<code>desk_pickup_only</code>" in response.text
    assert "request_type_label" in response.text  # with the attributes staff can use


def test_the_add_form_prefills_the_default_wording(admin_client):
    response = admin_client.get(reverse("admin:kauko_lettertemplate_add"),
                                {"code": "patron_cancellation_notice", "language": "fi"})
    assert response.status_code == 200
    assert "Kaukopalvelutilauksesi {{ request.number }} on peruttu" in response.text
    assert "Query to patron: freely available (patron_query_freely_available)" in response.text


def test_a_new_template_left_empty_starts_from_the_default(admin_client, ota):
    response = admin_client.post(reverse("admin:kauko_lettertemplate_add"), {
        "code": "hold_slip", "language": "sv", "subject": "", "text": "", "html": "",
        "active": "on"})
    assert response.status_code == 302, response.text
    template = LetterTemplate.objects.get(institution=ota, code="hold_slip", language="sv")
    assert template.subject == "Reservationslapp: {{ patron.full_name }}"
    assert "HÄMTAS ENDAST VID DISKEN" in template.html


def test_a_second_template_for_the_same_type_and_language_is_refused(admin_client, ota):
    own_template(ota, code="patron_query", language="en")
    response = admin_client.post(reverse("admin:kauko_lettertemplate_add"), {
        "code": "patron_query", "language": "en", "subject": "S", "text": "T",
        "active": "on"})
    assert response.status_code == 200
    assert "already has a template" in response.text
    assert LetterTemplate.objects.filter(institution=ota).count() == 1


def test_another_institutions_templates_are_invisible_in_the_admin(admin_client, ota):
    theirs = own_template(f.institution("KAISA"), subject="Kaisan oma otsikko")
    listing = admin_client.get(reverse("admin:kauko_lettertemplate_changelist"))
    assert listing.status_code == 200
    assert "Kaisan oma otsikko" not in listing.text
    change = admin_client.get(reverse("admin:kauko_lettertemplate_change", args=[theirs.pk]))
    assert change.status_code == 302 and change["Location"] == reverse("admin:index")
    preview = admin_client.get(reverse("admin:kauko_lettertemplate_preview", args=[theirs.pk]))
    assert preview.status_code == 404


def test_sent_letters_are_read_only_and_only_the_own_institutions(client, ota):
    kaisa = f.institution("KAISA")
    ours = send_letter(institution=ota, code="patron_query", to="ours@example.org",
                       context=request_context())
    theirs = send_letter(institution=kaisa, code="patron_query", to="theirs@example.org",
                         context=request_context())
    client.force_login(f.staff(ota, roles.CIRCULATION))

    listing = client.get(reverse("admin:kauko_sentletter_changelist"))
    assert listing.status_code == 200
    assert "ours@example.org" in listing.text
    assert "theirs@example.org" not in listing.text
    detail = client.get(reverse("admin:kauko_sentletter_change", args=[ours.pk]))
    assert detail.status_code == 200
    assert 'name="_save"' not in detail.text
    assert client.get(reverse("admin:kauko_sentletter_add")).status_code == 403
    assert client.get(
        reverse("admin:kauko_sentletter_change", args=[theirs.pk])).status_code == 302
    client.post(reverse("admin:kauko_sentletter_delete", args=[ours.pk]), {"post": "yes"})
    assert SentLetter.objects.filter(pk=ours.pk).exists()


def test_the_deployment_operator_previews_with_an_example_institution(client):
    from kauko.models import StaffUser

    operator = StaffUser.objects.create_superuser(username="operator", password="x")
    client.force_login(operator)
    assert client.get(reverse("admin:kauko_lettertemplate_types")).status_code == 200
    response = client.get(reverse("admin:kauko_lettertemplate_default_preview",
                                  args=["lending_shipped", "fi"]))
    assert response.status_code == 200
    assert "Example University Library" in response.text
