"""The borrowing list's bulk actions go back to the list as it was filtered, but never
off-site."""

import pytest
from django.urls import reverse

from tests import factories as f

pytestmark = pytest.mark.django_db

OFF_SITE = ["https://evil.example.org/", "//evil.example.org/", "/\\evil.example.org",
            "\\\\evil.example.org", "http:/evil.example.org", "javascript:alert(1)"]


@pytest.mark.parametrize("ids", [False, True], ids=["nothing chosen", "requests chosen"])
@pytest.mark.parametrize("target", OFF_SITE)
def test_bulk_actions_never_follow_next_off_site(client, inst, setup, rs_staff, partner,
                                                 target, ids):
    chosen = [f.borrowing_request(inst, setup=setup, partners=[partner]).pk] if ids else []
    client.force_login(rs_staff)
    response = client.post(reverse("ill:borrowing_bulk"), {
        "operation": "send", "ids": chosen, "next": target})
    assert response.status_code == 302
    assert response["Location"] == reverse("ill:borrowing_list")


def test_bulk_actions_go_back_to_the_filtered_list(client, rs_staff):
    client.force_login(rs_staff)
    back = reverse("ill:borrowing_list") + "?queue=ready&size=200"
    response = client.post(reverse("ill:borrowing_bulk"), {"operation": "send", "next": back})
    assert response["Location"] == back
