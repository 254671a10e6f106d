"""The one set of personas every test draws on, and the settings every test runs under.

Personas (function-scoped, built on the factories in `tests/factories.py`):

- `inst`: the institution under test (OTA), with `setup` its RS library, locations and desks;
- `rs_staff`, `desk_staff`, `config_admin`: its resource sharing, desk and configuration staff;
- `other_inst`, `other_staff`: another institution (KAISA) and its RS staff, for isolation;
- `anonymous`: a browser with no login;
- `partner` (alias `email_partner`): an e-mail partner of OTA; `iso_partner`: an ISO 18626
  partner of OTA (KAISA as OTA knows it).

A folder's own conftest adds only what is particular to it (the desk's recording ILL
bridge and world, the ISO 18626 world and wire, the codec's samples, the browser).
"""

import pytest
from django.test import Client

from circulation.hooks import register_ill_bridge
from config.celery import app
from kauko import roles
from partners.models import Partner
from tests import factories as f
from tests.circulation.helpers import RecordingBridge


@pytest.fixture(autouse=True)
def _tasks_run_in_process(settings):
    """Unit tests run background tasks in-process; end-to-end tests start a real worker."""
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness only costs test time here.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- personas ---------------------------------------------------------------------------------


@pytest.fixture
def inst(db):
    return f.institution("OTA")


@pytest.fixture
def setup(inst):
    return f.rs_setup(inst)


@pytest.fixture
def rs_staff(inst):
    return f.staff(inst, roles.RESOURCE_SHARING)


@pytest.fixture
def desk_staff(inst):
    return f.staff(inst, roles.CIRCULATION)


@pytest.fixture
def config_admin(inst):
    return f.staff(inst, roles.CONFIGURATION)


@pytest.fixture
def other_inst(db):
    return f.institution("KAISA")


@pytest.fixture
def other_staff(other_inst):
    return f.staff(other_inst, roles.RESOURCE_SHARING)


@pytest.fixture
def anonymous():
    return Client()


@pytest.fixture
def partner(inst):
    return f.partner(inst, code="NRL", name="National Repository",
                     email="ill@nrl.example.org",
                     address="PO Box 1710\nKuopio")


@pytest.fixture
def email_partner(partner):
    return partner


@pytest.fixture
def iso_partner(inst):
    return f.partner(inst, code="KAISA", name="Kaisaniemi University Library",
                     profile_type=Partner.ProfileType.ISO18626, iso_version="2021",
                     agency_id_type="ISIL", agency_id_value="FI-KAISA",
                     iso_endpoint_url="http://kaisa.test/iso18626")


# --- the desk's view of ILL ---------------------------------------------------------------------


@pytest.fixture
def bridge():
    """A recording ILL bridge in place of ill's own (which is tested with ill)."""
    recording = RecordingBridge()
    previous = register_ill_bridge(recording)
    yield recording
    register_ill_bridge(previous)
