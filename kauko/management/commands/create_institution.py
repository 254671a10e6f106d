"""`manage.py create_institution`: the first institution of a new deployment and its
configuration admin, who then sets up libraries, partners and staff in the admin.

Asks for what it is not given; `--noinput` with every flag (the password from
KAUKO_ADMIN_PASSWORD) for scripted installs. Creates no demo data.
"""

from __future__ import annotations

import getpass
import os

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from kauko import roles
from kauko.models import Institution, StaffUser

FIELDS = [
    ("code", "Institution code (short, used in request numbers, e.g. AALTO)"),
    ("name", "Institution name"),
    ("agency_id", "ISO 18626 agency id (e.g. FI-AALTO)"),
    ("email", "Resource sharing e-mail (sender of letters)"),
    ("admin_username", "Configuration admin's username"),
    ("admin_email", "Configuration admin's e-mail"),
]


class Command(BaseCommand):
    help = "Create an institution and its configuration admin (asks for what is missing)."

    def add_arguments(self, parser):
        parser.add_argument("--code")
        parser.add_argument("--name")
        parser.add_argument("--agency-id", dest="agency_id")
        parser.add_argument("--agency-id-type", dest="agency_id_type", default="ISIL",
                            choices=Institution.AgencyIdType.values)
        parser.add_argument("--email", default=None)
        parser.add_argument("--admin-username", dest="admin_username")
        parser.add_argument("--admin-email", dest="admin_email")
        parser.add_argument("--noinput", "--no-input", action="store_false", dest="interactive",
                            help="Ask nothing: every value from the flags, the admin's "
                                 "password from the KAUKO_ADMIN_PASSWORD variable.")

    def handle(self, *args, **options):
        values = {key: options.get(key) for key, _prompt in FIELDS}
        for key, prompt in FIELDS:
            if values[key] is None:
                if not options["interactive"]:
                    if key == "email":
                        values[key] = ""
                        continue
                    raise CommandError(f"--{key.replace('_', '-')} is required with --noinput.")
                values[key] = input(f"{prompt}: ").strip()
        password = self._password(options["interactive"], values["admin_username"])

        institution = Institution(
            code=values["code"].upper(), name=values["name"],
            agency_id_type=options["agency_id_type"], agency_id_value=values["agency_id"],
            email=values["email"])
        admin = StaffUser(username=values["admin_username"], email=values["admin_email"],
                          is_staff=True)
        try:
            institution.full_clean()
            validate_password(password, admin)
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        if StaffUser.objects.filter(username=admin.username).exists():
            raise CommandError(f"A user named {admin.username!r} exists already.")

        with transaction.atomic():
            institution.save()
            admin.institution = institution
            admin.set_password(password)
            admin.full_clean()
            admin.save()
            roles.ensure_roles()
            admin.groups.add(Group.objects.get(name=roles.CONFIGURATION))
        self.stdout.write(self.style.SUCCESS(
            f"Created {institution.name} ({institution.code}, {institution.agency_id_type} "
            f"{institution.agency_id_value}) and its configuration admin {admin.username}. "
            "Log in at /admin/ to add libraries, partners and staff."))

    def _password(self, interactive: bool, username: str) -> str:
        password = os.environ.get("KAUKO_ADMIN_PASSWORD", "")
        if password or not interactive:
            if not password:
                raise CommandError("Set KAUKO_ADMIN_PASSWORD with --noinput.")
            return password
        while True:
            first = getpass.getpass(f"Password for {username}: ")
            if first == getpass.getpass("Password (again): "):
                return first
            self.stderr.write("The passwords differ; try again.")
