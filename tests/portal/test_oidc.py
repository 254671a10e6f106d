"""Campus sign-in against a real OpenID Connect provider (oidc-provider-mock, an authlib
provider on a real port, started here): the code flow, ID token signature and nonce checks
and the userinfo call all go over HTTP, as with the university's provider."""

from urllib.parse import parse_qs, urlparse

import httpx
import pytest
from oidc_provider_mock import User, run_server_in_thread

from portal.access import PATRON_SESSION_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def provider():
    users = [User(sub="u-aino", claims={"uid": "aino.v", "email": "aino@example.org"}),
             User(sub="u-stranger", claims={"uid": "nobody.here"})]
    with run_server_in_thread(user_claims=users) as server:
        yield f"http://localhost:{server.server_port}"


@pytest.fixture
def oidc(settings, provider, inst):
    settings.OIDC_RP_CLIENT_ID = "kauko-portal"
    settings.OIDC_RP_CLIENT_SECRET = "secret"
    settings.OIDC_OP_AUTHORIZATION_ENDPOINT = f"{provider}/oauth2/authorize"
    settings.OIDC_OP_TOKEN_ENDPOINT = f"{provider}/oauth2/token"
    settings.OIDC_OP_USER_ENDPOINT = f"{provider}/userinfo"
    settings.OIDC_OP_JWKS_ENDPOINT = f"{provider}/jwks"
    settings.OIDC_VERIFY_KID = False  # the test provider has one key and names none
    settings.PORTAL_OIDC_CLAIM = "uid"
    settings.PORTAL_OIDC_INSTITUTION = inst.code
    return provider


def _sign_in_at_provider(client, sub: str, next_url: str = "/my/"):
    start = client.get("/my/sign-in/campus/", {"next": next_url})
    assert start.status_code == 302
    authorize = start["Location"]
    answer = httpx.post(authorize, data={"sub": sub}, follow_redirects=False)
    assert answer.status_code == 302
    callback = urlparse(answer.headers["location"])
    assert callback.path == "/my/sign-in/campus/callback/"
    return client.get(callback.path, {k: v[0] for k, v in parse_qs(callback.query).items()})


def test_a_patron_signs_in_with_the_campus_account_its_claim_names(oidc, anonymous, patron):
    patron.identifiers.create(institution=patron.institution, kind="university id",
                              value="aino.v")
    assert "campus account" in anonymous.get("/my/sign-in/").content.decode()
    response = _sign_in_at_provider(anonymous, "u-aino", next_url="/my/request/?title=X")
    assert response.status_code == 302 and response["Location"] == "/my/request/?title=X"
    assert anonymous.session[PATRON_SESSION_KEY] == patron.pk
    assert anonymous.get("/borrowing/").status_code == 302  # still no staff site


def test_an_account_linked_to_no_patron_signs_nobody_in(oidc, anonymous, patron):
    response = _sign_in_at_provider(anonymous, "u-stranger")
    assert response["Location"] == "/my/sign-in/"
    assert PATRON_SESSION_KEY not in anonymous.session


def test_a_forged_or_replayed_callback_signs_nobody_in(oidc, anonymous, patron):
    patron.identifiers.create(institution=patron.institution, kind="uid", value="aino.v")
    response = anonymous.get("/my/sign-in/campus/callback/", {"code": "x", "state": "forged"})
    assert response["Location"] == "/my/sign-in/"
    other = type(anonymous)()
    start = other.get("/my/sign-in/campus/")
    answer = httpx.post(start["Location"], data={"sub": "u-aino"})
    query = {k: v[0] for k, v in parse_qs(urlparse(answer.headers["location"]).query).items()}
    assert other.get("/my/sign-in/campus/callback/", query)["Location"] == "/my/"
    other.post("/my/sign-out/")
    assert other.get("/my/sign-in/campus/callback/", query)["Location"] == "/my/sign-in/"
    assert PATRON_SESSION_KEY not in other.session


def test_without_configuration_there_is_no_campus_sign_in(anonymous, inst):
    assert anonymous.get("/my/sign-in/campus/").status_code == 404
    assert "campus account" not in anonymous.get("/my/sign-in/").content.decode()
