"""The portal's personas: a patron of OTA with a PIN, and a browser signed in as them."""

import pytest
from django.test import Client

from portal.services import patron_set_pin
from tests import factories as f

PIN = "2468"


@pytest.fixture
def patron(inst, setup):
    person = f.patron(inst, barcode="OTA-P1", pickup_desk=setup.desk, email="aino@example.org",
                      first_name="Aino", last_name="Virtanen", preferred_language="en")
    patron_set_pin(patron=person, pin=PIN)
    return person


@pytest.fixture
def signed_in(patron):
    client = Client()
    response = client.post("/my/sign-in/", {"institution": patron.institution_id,
                                            "card": patron.barcode, "pin": PIN})
    assert response.status_code == 302
    return client
