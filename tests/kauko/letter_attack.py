"""A configuration admin's letter template that tries to read beyond its letter: from every
name a letter may get it walks to staff accounts (their e-mails and password hashes), their
groups and everyone in them, admin log entries, and fields a letter never needs (a patron's
notes, a partner's outbound security code). The letter tests of each app save it and check
that neither the admin's preview nor a real letter or slip shows any of it."""

from __future__ import annotations

from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.contenttypes.models import ContentType

from kauko import roles
from kauko.models import LetterTemplate
from tests import factories as f

NAMES = ("institution", "patron", "partner", "library", "desk", "hold", "loan", "request",
         "item", "renewal")

_PATHS = ("institution.staff.all.0.password", "patron.institution.staff.all",
          "pickup_desk.institution.staff.all", "item.institution.staff.all",
          "library.institution.staff.all", "notes", "outbound_security_code",
          "outbound_token", "inbound_security_code_hash", "patron.notes")
_WALKS = "".join("{{ " + name + "." + path + " }}" for name in NAMES for path in _PATHS)

ATTACK = (
    "LEAK[{% for u in institution.staff.all %}{{ u.username }} {{ u.email }} {{ u.password }}"
    "{% for g in u.groups.all %}{% for o in g.user_set.all %} {{ o.username }} {{ o.email }} "
    "{{ o.password }}{% for e in o.logentry_set.all %} {{ e.object_repr }}{% endfor %}"
    "{% endfor %}{% endfor %}{% endfor %}" + _WALKS + "]LEAK"
)

SUBJECT_ATTACK = ("S {% for u in institution.staff.all %}{{ u.email }} {{ u.password }}"
                  "{% endfor %}{{ patron.notes }}{{ partner.outbound_security_code }}")

PATRON_SECRET = "patron-notes-SECRET"
PARTNER_SECRET = "outbound-code-SECRET"
LOGGED_SECRET = "KAISA-L-2026-SECRET"


def plant_secrets(inst, other_inst):
    """Things the attack would find: staff of both institutions (sharing the role groups), a
    log entry by the other institution's staff."""
    mine = f.staff(inst, roles.RESOURCE_SHARING, username="ota-colleague",
                   email="colleague@ota.example.org")
    theirs = f.staff(other_inst, roles.RESOURCE_SHARING, username="kaisa-stranger",
                     email="stranger@kaisa.example.org")
    LogEntry.objects.create(
        user=theirs, content_type=ContentType.objects.get_for_model(type(theirs)),
        object_id=str(theirs.pk), object_repr=LOGGED_SECRET, action_flag=ADDITION)
    return [mine, theirs]


def save_attack(inst, code: str, language: str = "en") -> LetterTemplate:
    return LetterTemplate.objects.create(
        # The subject column holds 500 characters: a short walk of its own there.
        institution=inst, code=code, language=language, subject=SUBJECT_ATTACK,
        text=ATTACK, html="<p>" + ATTACK + "</p>")


def assert_nothing_leaked(text: str, users=()) -> None:
    assert "LEAK[" in text, "the attack template was not the one rendered"
    leaked = text[text.index("LEAK["):]
    assert "md5$" not in leaked and "pbkdf2" not in leaked, leaked[:500]
    for secret in (PATRON_SECRET, PARTNER_SECRET, LOGGED_SECRET, "QuerySet", "&lt;QuerySet"):
        assert secret not in text, secret
    for user in users:
        assert user.username not in leaked, user.username
        if user.email:
            assert user.email not in text, user.email
