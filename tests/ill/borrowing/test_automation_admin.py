"""Rota templates, assignment rules and automation settings in the admin: a configuration
admin edits them (the template's partners inline, in rank order), only their own."""

import pytest
from django.urls import reverse

from ill.models import AssignmentRule, AutomationSettings, RotaTemplate
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(client, config_admin):
    client.force_login(config_admin)
    return client


def _inline(prefix, rows):
    data = {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": "0",
            f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}
    for i, (rank, partner) in enumerate(rows):
        data[f"{prefix}-{i}-rank"] = str(rank)
        data[f"{prefix}-{i}-partner"] = str(partner.pk)
    return data


def test_a_configuration_admin_makes_a_template_with_its_partners_in_order(admin, inst,
                                                                           partner):
    second = f.partner(inst, code="SECOND")
    response = admin.post(reverse("admin:ill_rotatemplate_add"), {
        "name": "Finland first", "description": "",
        **_inline("entries", [(2, partner), (1, second)])})
    assert response.status_code == 302, response.context["adminform"].form.errors
    template = RotaTemplate.objects.get(name="Finland first")
    assert template.institution == inst
    assert [e.partner for e in template.entries.all()] == [second, partner]


def test_another_institutions_partner_cannot_be_put_in_a_template(admin, inst, other_inst):
    theirs = f.partner(other_inst, code="THEIRS")
    response = admin.post(reverse("admin:ill_rotatemplate_add"), {
        "name": "Sneaky", "description": "", **_inline("entries", [(1, theirs)])})
    assert response.status_code == 200
    assert not RotaTemplate.objects.filter(name="Sneaky").exists()


def test_a_configuration_admin_adds_a_rule_and_switches_auto_send_on(admin, inst, partner):
    template = RotaTemplate.objects.create(institution=inst, name="T")
    response = admin.post(reverse("admin:ill_assignmentrule_add"), {
        "name": "Loans", "position": 1, "active": "on", "template": template.pk,
        "request_type": "loan", "format": "", "partner_scope": "", "identifier": "",
        "auto_send": "on"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert AssignmentRule.objects.get(name="Loans").auto_send
    response = admin.post(reverse("admin:ill_automationsettings_add"), {
        "auto_send": "on", "chase_silent_partners": "on", "condition_warn_days": 2,
        "lending_unanswered_days": 3})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert AutomationSettings.for_institution(inst).auto_send


def test_another_institutions_templates_are_neither_listed_nor_opened(client, inst,
                                                                      other_inst, other_staff,
                                                                      config_admin):
    mine = RotaTemplate.objects.create(institution=inst, name="Mine")
    RotaTemplate.objects.create(institution=other_inst, name="Theirs")
    client.force_login(config_admin)
    page = client.get(reverse("admin:ill_rotatemplate_changelist")).content.decode()
    assert "Mine" in page and "Theirs" not in page
    client.force_login(other_staff)
    response = client.get(reverse("admin:ill_rotatemplate_change", args=[mine.pk]))
    assert response.status_code == 302  # "not found": back to the admin index
    assert "Mine" not in client.get(reverse("admin:ill_rotatemplate_changelist")
                                    ).content.decode()


def test_desk_staff_cannot_change_the_rules(client, desk_staff, inst):
    template = RotaTemplate.objects.create(institution=inst, name="T")
    client.force_login(desk_staff)
    response = client.post(reverse("admin:ill_assignmentrule_add"), {
        "name": "Mine now", "position": 1, "template": template.pk})
    assert response.status_code == 403
    assert not AssignmentRule.objects.exists()
