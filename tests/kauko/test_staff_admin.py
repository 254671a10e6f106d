"""Staff accounts in the admin: only roles that manage staff (the configuration admin) see
them, only their own institution's, and they cannot make anyone a superuser, give
permissions beyond Kauko's roles or move someone to another institution. The deployment's
operator sees and manages everyone."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from kauko import roles
from kauko.models import StaffUser
from tests import factories as f

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:kauko_staffuser_changelist"


def _change_url(user):
    return reverse("admin:kauko_staffuser_change", args=[user.pk])


def test_a_configuration_admin_lists_only_the_own_institutions_staff(
    client, config_admin, rs_staff, other_staff
):
    client.force_login(config_admin)
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    listed = {u.username for u in response.context["cl"].result_list}
    assert listed == {config_admin.username, rs_staff.username}
    assert other_staff.username not in response.text


@pytest.mark.parametrize("persona", ["rs_staff", "desk_staff"])
def test_roles_that_do_not_manage_staff_see_no_staff_accounts(client, request, persona,
                                                              other_staff):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse(CHANGELIST)).status_code == 403
    assert client.get(_change_url(other_staff)).status_code in (302, 403)


def test_a_superuser_of_one_institution_still_sees_only_its_staff(client, inst, rs_staff,
                                                                  other_staff):
    boss = f.staff(inst, role=None, is_superuser=True)
    client.force_login(boss)
    response = client.get(reverse(CHANGELIST))
    assert response.status_code == 200
    listed = {u.username for u in response.context["cl"].result_list}
    assert rs_staff.username in listed and other_staff.username not in listed


def test_another_institutions_staff_account_is_not_found(client, config_admin, other_staff):
    client.force_login(config_admin)
    change = client.get(_change_url(other_staff))
    assert change.status_code == 302 and change["Location"] == reverse("admin:index")
    password = client.get(_change_url(other_staff).replace("/change/", "/password/"))
    assert password.status_code == 404
    client.post(_change_url(other_staff), {"username": "hijacked"})
    other_staff.refresh_from_db()
    assert other_staff.username != "hijacked"


def test_a_configuration_admin_adds_a_colleague_to_the_own_institution(client, inst,
                                                                        config_admin):
    client.force_login(config_admin)
    response = client.post(reverse("admin:kauko_staffuser_add"), {
        "username": "new-colleague", "usable_password": "true",
        "password1": "A-long-enough-pass-42", "password2": "A-long-enough-pass-42"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    created = StaffUser.objects.get(username="new-colleague")
    assert created.institution == inst and not created.is_superuser


def test_a_configuration_admin_cannot_make_a_superuser_or_grant_other_permissions(
    client, inst, other_inst, config_admin, rs_staff
):
    roles.ensure_roles()
    powerful = Group.objects.create(name="Deployment operators")
    client.force_login(config_admin)
    form = client.get(_change_url(rs_staff))
    assert form.status_code == 200
    fields = form.context["adminform"].form.fields
    assert "is_superuser" not in fields and "user_permissions" not in fields
    assert "institution" not in fields
    assert set(fields["groups"].queryset.values_list("name", flat=True)) == set(
        roles.ROLE_LABELS)

    client.post(_change_url(rs_staff), {
        "username": rs_staff.username, "is_active": "on", "is_staff": "on",
        "is_superuser": "on", "institution": other_inst.pk, "groups": [powerful.pk],
        "date_joined_0": "2026-01-01", "date_joined_1": "10:00:00"})
    rs_staff.refresh_from_db()
    assert not rs_staff.is_superuser
    assert rs_staff.institution == inst
    assert not rs_staff.groups.filter(pk=powerful.pk).exists()


def test_a_configuration_admin_gives_a_colleague_a_role(client, config_admin, rs_staff):
    client.force_login(config_admin)
    desk_role = Group.objects.get(name=roles.CIRCULATION)
    response = client.post(_change_url(rs_staff), {
        "username": rs_staff.username, "first_name": "Ria", "last_name": "", "email": "",
        "is_active": "on", "is_staff": "on", "groups": [desk_role.pk],
        "date_joined_0": "2026-01-01", "date_joined_1": "10:00:00"})
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert list(rs_staff.groups.values_list("name", flat=True)) == [roles.CIRCULATION]


def test_superusers_are_not_listed_to_an_institutions_staff(client, inst, config_admin):
    boss = f.staff(inst, role=None, is_superuser=True, username="inst-boss")
    client.force_login(config_admin)
    listed = {u.username for u in client.get(reverse(CHANGELIST)).context["cl"].result_list}
    assert boss.username not in listed
    assert client.get(_change_url(boss)).status_code == 302


def test_the_operator_sees_every_institutions_staff(client, rs_staff, other_staff):
    operator = StaffUser.objects.create_superuser(username="operator", password="x")
    client.force_login(operator)
    listed = {u.username for u in client.get(reverse(CHANGELIST)).context["cl"].result_list}
    assert {rs_staff.username, other_staff.username} <= listed
    form = client.get(_change_url(other_staff)).context["adminform"].form
    assert "is_superuser" in form.fields and "institution" in form.fields
