import json

import pytest
from django.test import Client

from ill.models import BorrowingRequest, Source
from portal.models import ApiClient, PortalSettings
from portal.services import api_client_create
from tests import factories as f

pytestmark = pytest.mark.django_db
URL = "/api/borrowing-requests/"


@pytest.fixture
def token(inst):
    return api_client_create(institution=inst, name="Staff form")[1]


@pytest.fixture
def api(token):
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def _post(client, body, **headers):
    return client.post(URL, json.dumps(body), content_type="application/json", **headers)


def _body(patron, setup, **extra):
    return {"patron": patron.barcode, "type": "loan", "pickup_desk": setup.desk.code,
            "citation": {"title": "Solaris", "author": "Lem, Stanisław"}, **extra}


def test_an_api_client_creates_a_request_with_its_token(api, patron, setup):
    response = _post(api, _body(patron, setup, note="Via the staff form",
                                needed_by="2030-01-31"))
    assert response.status_code == 201, response.content
    data = response.json()
    request = BorrowingRequest.objects.get(number=data["number"])
    assert data["status"] == "created" and request.status == BorrowingRequest.S.CREATED
    assert data["url"].endswith(f"{URL}{request.number}/")
    assert request.source == Source.API and request.patron == patron
    assert request.pickup_desk == setup.desk and str(request.needed_before) == "2030-01-31"
    assert "Via the staff form" in request.internal_note


def test_a_copy_and_a_chapter_and_free_text(api, patron, setup):
    copy = _post(api, _body(patron, setup, type="copy", citation={},
                            citation_text="Smith J. Deep. J Stuff 2019;12(3):45-67. "
                                          "doi:10.1234/abc"))
    assert copy.status_code == 201, copy.content
    request = BorrowingRequest.objects.get(number=copy.json()["number"])
    assert request.request_type == "article" and request.doi == "10.1234/abc"
    assert request.citation_text.startswith("Smith J.")
    chapter = _post(api, _body(patron, setup, type="chapter",
                               citation={"title": "Handbook", "article_title": "Ch. 1"}))
    assert chapter.json()["type"] == "chapter"


def test_a_retry_with_the_same_idempotency_key_gets_the_first_answer(api, patron, setup):
    first = _post(api, _body(patron, setup), HTTP_IDEMPOTENCY_KEY="abc-1")
    again = _post(api, _body(patron, setup), HTTP_IDEMPOTENCY_KEY="abc-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert BorrowingRequest.objects.count() == 1


def test_the_same_key_for_another_body_is_refused(api, patron, setup):
    _post(api, _body(patron, setup), HTTP_IDEMPOTENCY_KEY="abc-1")
    other = _post(api, _body(patron, setup, citation={"title": "Other"}),
                  HTTP_IDEMPOTENCY_KEY="abc-1")
    assert other.status_code == 422
    assert BorrowingRequest.objects.count() == 1


def test_an_own_holdings_title_is_refused_with_409_and_the_reason(api, patron, setup):
    f.item(setup.stacks, title="Solaris", barcodes=("OWN1",))
    response = _post(api, _body(patron, setup))
    assert response.status_code == 409
    data = response.json()
    assert "Our library has a copy on the shelf" in data["detail"]
    assert data["checks"][0]["code"] == "own_holdings" and data["checks"][0]["refuses"]
    assert not BorrowingRequest.objects.exists()


def test_with_the_warn_setting_it_is_created_with_the_warning(api, inst, patron, setup):
    PortalSettings.objects.create(institution=inst, own_holdings="warn")
    f.item(setup.stacks, title="Solaris", barcodes=("OWN1",))
    response = _post(api, _body(patron, setup))
    assert response.status_code == 201
    assert response.json()["warnings"][0]["code"] == "own_holdings"


@pytest.mark.parametrize("change, field", [
    ({"patron": "NOBODY"}, "patron"),
    ({"pickup_desk": "NOWHERE"}, "pickup_desk"),
    ({"citation": {}}, "citation"),
    ({"type": "painting"}, "type"),
    ({"needed_by": "tomorrow"}, "needed_by"),
    ({"citation": "not an object"}, "citation"),
])
def test_bad_input_is_a_400_with_field_errors(api, patron, setup, change, field):
    response = _post(api, {**_body(patron, setup), **change})
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.parametrize("raw", ["", "not json", "[]", "null", '{"patron": 5}'])
def test_a_body_that_is_not_an_object_is_a_400_never_a_500(api, raw):
    response = api.post(URL, raw, content_type="application/json")
    assert response.status_code == 400


def test_a_refusal_of_the_service_is_a_400(api, patron, setup):
    response = _post(api, _body(patron, setup, office_delivery=True, pickup_desk=""))
    assert response.status_code == 400 and "non_field_errors" in response.json()


def test_get_by_number_and_list_by_patron(api, inst, patron, setup):
    number = _post(api, _body(patron, setup)).json()["number"]
    someone = f.patron(inst, barcode="OTHER", pickup_desk=setup.desk)
    f.borrowing_request(inst, setup=setup, patron_=someone)
    detail = api.get(f"{URL}{number}/").json()
    assert detail["number"] == number and detail["history"][0]["status"] == "created"
    mine = api.get(URL, {"patron": patron.barcode}).json()
    assert [r["number"] for r in mine["results"]] == [number]
    assert api.get(URL, {"patron": "NOBODY"}).json()["results"] == []
    assert len(api.get(URL).json()["results"]) == 2


def test_another_institutions_requests_are_not_found(api, other_inst):
    theirs = f.borrowing_request(other_inst)
    assert api.get(f"{URL}{theirs.number}/").status_code == 404
    assert api.get(URL).json()["results"] == []


def test_a_client_of_another_institution_cannot_use_our_patrons(other_inst, patron, setup):
    token = api_client_create(institution=other_inst, name="Theirs")[1]
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = _post(client, _body(patron, setup))
    assert response.status_code == 400 and "patron" in response.json()


def test_no_token_a_wrong_or_revoked_token_is_401(anonymous, token, inst):
    assert anonymous.get(URL).status_code in (401, 403)
    wrong = Client(HTTP_AUTHORIZATION="Bearer nope")
    assert wrong.get(URL).status_code == 401
    ApiClient.objects.update(revoked_at="2020-01-01T00:00:00Z")
    revoked = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert revoked.get(URL).status_code == 401


def test_a_read_only_client_cannot_create(inst, patron, setup):
    token = api_client_create(institution=inst, name="Reader", scopes="requests:read")[1]
    reader = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert _post(reader, _body(patron, setup)).status_code == 403
    assert reader.get(URL).status_code == 200


def test_staff_logins_do_not_reach_the_intake_api(client, rs_staff):
    client.force_login(rs_staff)
    assert client.get(URL).status_code in (401, 403)


def test_last_use_is_noted_and_the_token_is_kept_only_hashed(api, token):
    api.get(URL)
    stored = ApiClient.objects.get()
    assert stored.last_used_at is not None
    assert token not in (stored.token_hash, stored.token_prefix)


def test_the_list_costs_the_same_queries_for_one_or_many(api, inst, patron, setup,
                                                         django_assert_max_num_queries):
    for n in range(5):
        f.borrowing_request(inst, setup=setup, patron_=patron, citation={"title": f"T{n}"})
    with django_assert_max_num_queries(6):
        api.get(URL)


def test_the_schema_documents_the_endpoint_with_examples(client, rs_staff):
    client.force_login(rs_staff)
    schema = client.get("/api/schema/").content.decode()
    assert "/api/borrowing-requests/" in schema and "Idempotency-Key" in schema
    assert "An article copy" in schema and "apiClientToken" in schema


def test_the_admin_shows_a_new_clients_token_once(client, config_admin, inst):
    client.force_login(config_admin)
    response = client.post("/admin/portal/apiclient/add/",
                           {"name": "Aalto-suora", "scopes": "requests:write"}, follow=True)
    text = response.content.decode()
    assert "shown only now" in text
    token = text.split("shown only now (copy it; only its hash is kept): ")[1].split("<")[0]
    made = ApiClient.objects.get(name="Aalto-suora")
    assert made.institution == inst and token.startswith("kauko_")
    assert Client(HTTP_AUTHORIZATION=f"Bearer {token}").get(URL).status_code == 403  # no read
