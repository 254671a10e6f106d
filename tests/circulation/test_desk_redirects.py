"""After renewing at the desk the page goes back where it came from, but never off-site."""

import pytest
from django.urls import reverse

from circulation import services

from .helpers import make_patron, own_item

pytestmark = pytest.mark.django_db

OFF_SITE = ["https://evil.example.org/", "//evil.example.org/", "/\\evil.example.org",
            "\\\\evil.example.org", "http:/evil.example.org", "javascript:alert(1)"]


@pytest.fixture
def renew_url(world):
    loan = services.loan_item(desk=world.desk, patron=make_patron(world), item=own_item(world),
                              user=world.user)
    return reverse("desk:renew", args=[loan.pk])


@pytest.mark.parametrize("target", OFF_SITE)
def test_renewing_never_follows_next_off_site(client, world, renew_url, target):
    client.force_login(world.user)
    response = client.post(renew_url, {"next": target})
    assert response.status_code == 302
    assert response["Location"] == reverse("desk:desk_list")


def test_renewing_goes_back_to_the_page_it_came_from(client, world, renew_url):
    client.force_login(world.user)
    back = reverse("desk:desk_list") + "?tab=loans"
    assert client.post(renew_url, {"next": back})["Location"] == back
