import pytest
from django.core.management import CommandError, call_command

from kauko import roles
from kauko.models import Institution, StaffUser

pytestmark = pytest.mark.django_db

FLAGS = ["--code", "ota", "--name", "Otaniemi University Library", "--agency-id", "FI-OTA",
         "--admin-username", "ota-admin", "--admin-email", "admin@ota.example.org"]


def test_create_institution_without_input_makes_the_institution_and_its_configuration_admin(
        monkeypatch):
    monkeypatch.setenv("KAUKO_ADMIN_PASSWORD", "a-long-unusual-passphrase-42")
    call_command("create_institution", *FLAGS, "--noinput")
    inst = Institution.objects.get()
    assert (inst.code, inst.agency_id_value) == ("OTA", "FI-OTA")
    admin = StaffUser.objects.get(username="ota-admin")
    assert admin.institution == inst and admin.is_staff and not admin.is_superuser
    assert admin.check_password("a-long-unusual-passphrase-42")
    assert list(admin.groups.values_list("name", flat=True)) == [roles.CONFIGURATION]


def test_create_institution_asks_for_what_it_is_not_given(monkeypatch):
    answers = iter(["KAISA", "Kaisaniemi Library", "FI-KAISA", "ill@kaisa.example.org",
                    "kaisa-admin", "admin@kaisa.example.org"])
    monkeypatch.setattr("builtins.input", lambda prompt: next(answers))
    monkeypatch.setattr("getpass.getpass", lambda prompt: "a-long-unusual-passphrase-42")
    monkeypatch.delenv("KAUKO_ADMIN_PASSWORD", raising=False)
    call_command("create_institution")
    assert StaffUser.objects.get(username="kaisa-admin").institution.code == "KAISA"


@pytest.mark.parametrize(("password", "flags", "message"), [
    ("", FLAGS, "KAUKO_ADMIN_PASSWORD"),
    ("a-long-unusual-passphrase-42", FLAGS[2:], "--code"),
    ("short", FLAGS, "too short"),
    ("a-long-unusual-passphrase-42", ["--code", "bad code!", *FLAGS[2:]], "no spaces"),
])
def test_create_institution_refuses_missing_or_bad_values_and_creates_nothing(
        monkeypatch, password, flags, message):
    monkeypatch.setenv("KAUKO_ADMIN_PASSWORD", password)
    with pytest.raises(CommandError, match=message):
        call_command("create_institution", *flags, "--noinput")
    assert not Institution.objects.exists() and not StaffUser.objects.exists()
