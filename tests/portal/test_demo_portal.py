import json
import re

import pytest
from django.core.management import call_command
from django.test import Client

from ill.models import BorrowingRequest, Source
from kauko.models import Institution
from workbench.demo import DEMO_API_TOKEN, DEMO_PIN

pytestmark = pytest.mark.django_db


def test_make_run_prints_demo_patrons_with_pins_and_an_api_token_that_work(capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert re.search(rf"OTA-P0003 +{DEMO_PIN} +Helmi", out) and DEMO_API_TOKEN in out
    ota = Institution.objects.get(code="OTA")
    browser = Client()
    signed = browser.post("/my/sign-in/", {"institution": ota.pk, "card": "OTA-P0003",
                                           "pin": DEMO_PIN})
    assert signed.status_code == 302
    # The README's curl example.
    api = Client(HTTP_AUTHORIZATION=f"Bearer {DEMO_API_TOKEN}")
    response = api.post("/api/borrowing-requests/", json.dumps({
        "patron": "OTA-P0003", "type": "copy", "pickup_desk": "MAIN-DESK",
        "citation": {"title": "Scientometrics", "article_title": "Counting citations",
                     "year": "2024"}}), content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="readme-1")
    assert response.status_code == 201, response.content
    assert BorrowingRequest.objects.get(number=response.json()["number"]).source == Source.API
    replay = api.post("/api/borrowing-requests/", json.dumps({
        "patron": "OTA-P0003", "type": "copy", "pickup_desk": "MAIN-DESK",
        "citation": {"title": "Scientometrics", "article_title": "Counting citations",
                     "year": "2024"}}), content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="readme-1")
    assert replay.json() == response.json()
    own = api.post("/api/borrowing-requests/", json.dumps({
        "patron": "OTA-P0003", "type": "loan", "pickup_desk": "MAIN-DESK",
        "citation": {"title": "Design Patterns", "isbn": "978-0-201-63361-0"}}),
        content_type="application/json")
    assert own.status_code == 409 and own.json()["checks"][0]["code"] == "own_holdings"
    call_command("seed_demo")  # again: nothing new, the token still works
    assert api.get("/api/borrowing-requests/?patron=OTA-P0003").status_code == 200
