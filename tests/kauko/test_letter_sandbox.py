"""Letter and slip templates are written by configuration admins, so they render in a
sandbox: plain values built for the letter, an engine without tags that reach beyond them.
A template that walks from its institution to staff accounts, password hashes or admin log
entries shows nothing of them, in the admin's preview or in a letter sent."""

import datetime
from decimal import Decimal
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from kauko.letters import LetterContextError, render_letter, send_letter
from kauko.models import LetterTemplate, SentLetter
from tests import factories as f
from tests.kauko.letter_attack import (
    ATTACK,
    assert_nothing_leaked,
    plant_secrets,
    save_attack,
)

pytestmark = pytest.mark.django_db


def test_a_template_walking_to_staff_accounts_shows_nothing_in_the_admins_preview(
    client, inst, other_inst, config_admin
):
    users = [config_admin, *plant_secrets(inst, other_inst)]
    client.force_login(config_admin)
    saved = client.post(reverse("admin:kauko_lettertemplate_add"), {
        "code": "patron_query", "language": "en", "subject": "Hello", "text": ATTACK,
        "html": "<p>" + ATTACK + "</p>", "active": "on"})
    assert saved.status_code == 302, saved.text
    template = LetterTemplate.objects.get(institution=inst, code="patron_query")

    preview = client.get(reverse("admin:kauko_lettertemplate_preview", args=[template.pk]))
    assert preview.status_code == 200
    assert_nothing_leaked(preview.text, users)

    what_we_send = client.get(reverse("admin:kauko_lettertemplate_default_preview",
                                      args=["patron_query", "en"]))
    assert what_we_send.status_code == 200
    assert_nothing_leaked(what_we_send.text, users)


def test_a_letter_sent_with_that_template_shows_nothing_of_it(inst, other_inst, mailoutbox):
    users = plant_secrets(inst, other_inst)
    save_attack(inst, "patron_query")
    sent = send_letter(institution=inst, code="patron_query", to="pat@example.org",
                       language="en", context={"message": "Hi", "link": ""})
    assert sent.status == SentLetter.Status.SENT, sent.error
    assert_nothing_leaked(sent.text + sent.html + sent.subject, users)
    assert_nothing_leaked(mailoutbox[0].body, users)


def test_a_model_instance_never_reaches_a_template(inst):
    patron = f.patron(inst)
    with pytest.raises(LetterContextError, match="patron"):
        render_letter(institution=inst, code="patron_query", language="en",
                      context={"patron": patron, "message": "", "link": ""})


def test_a_queryset_hidden_inside_plain_values_never_reaches_a_template(inst):
    f.patron(inst)
    with pytest.raises(LetterContextError, match=r"request\.patrons"):
        render_letter(institution=inst, code="patron_query", language="en", context={
            "request": {"number": "X", "patrons": type(f.patron(inst)).objects.all()}})


def test_a_letter_whose_context_is_not_plain_is_recorded_as_failed_not_sent(inst, mailoutbox):
    sent = send_letter(institution=inst, code="patron_query", to="pat@example.org",
                       context={"patron": f.patron(inst)})
    assert sent.status == SentLetter.Status.FAILED
    assert mailoutbox == []


def test_plain_values_render_as_before(inst):
    LetterTemplate.objects.create(
        institution=inst, code="patron_query", language="en", subject="{{ request.number }}",
        text="{{ patron.first_name }} {{ request.max_cost }} {{ request.needed_before|date:'Y' }}"
             " {% for line in lines %}[{{ line }}]{% endfor %} {{ link|default:'-' }}"
             "{% load i18n %}{% translate 'Yes' %} {{ request.pickup_desk.name }}")
    letter = render_letter(institution=inst, code="patron_query", language="en", context={
        "request": SimpleNamespace(number="N-1", max_cost=Decimal("2.50"),
                                   needed_before=datetime.date(2027, 1, 2),
                                   pickup_desk={"name": "Main desk"}),
        "patron": {"first_name": "Pat"}, "lines": ["a", "b"], "link": ""})
    assert letter.subject == "N-1"
    assert letter.text == "Pat 2.50 2027 [a][b] -Yes Main desk\n"


def test_a_template_cannot_clear_the_values_other_parts_of_the_letter_use(inst):
    LetterTemplate.objects.create(
        institution=inst, code="patron_query", language="en",
        subject="{{ request.clear }}{{ lines.clear }}{{ request.number }}",
        text="{{ request.number }} {{ lines|length }}")
    context = {"request": {"number": "N-1"}, "lines": ["a"]}
    letter = render_letter(institution=inst, code="patron_query", language="en",
                           context=context)
    assert letter.text == "N-1 1\n"
    assert context == {"request": {"number": "N-1"}, "lines": ["a"]}


@pytest.mark.parametrize("source", [
    "{% debug %}",
    '{% include "admin/base.html" %}',
    '{% extends "admin/base.html" %}',
    "{% load static %}{% static 'x' %}",
    "{% load admin_urls %}",
    "{% load log %}{% get_admin_log 10 as log %}",
])
def test_tags_that_reach_beyond_the_letter_cannot_be_saved(inst, source):
    template = LetterTemplate(institution=inst, code="patron_query", language="en",
                              subject="S", text=source)
    with pytest.raises(ValidationError):
        template.full_clean()


def test_the_translation_and_date_tags_are_still_there(inst):
    template = LetterTemplate(
        institution=inst, code="patron_query", language="en", subject="S",
        text="{% load i18n l10n tz %}{% translate 'x' %}{% localize on %}1{% endlocalize %}"
             "{% now 'Y' %}")
    template.full_clean()
