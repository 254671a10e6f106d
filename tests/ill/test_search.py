"""Staff search on the borrowing and lending lists (issue 17): exact lookups first (number,
the partner's request id, a patron's card, any barcode), then every word in the request's
folded search text, accent- and case-insensitive."""

from importlib import import_module

import pytest
from django.apps import apps
from django.urls import reverse

from ill.models import BorrowingRequest, LendingRequest, RotaEntry
from ill.models.search import build_search_text
from kauko.text import fold
from tests import factories as f

pytestmark = pytest.mark.django_db


def borrowing_hits(client, query):
    response = client.get(reverse("ill:borrowing_list"), {"q": query})
    assert response.status_code == 200
    return {row.pk for row in response.context["rows"]}


def lending_hits(client, query):
    response = client.get(reverse("ill:lending_list"), {"q": query})
    assert response.status_code == 200
    return {row.pk for row in response.context["rows"]}


@pytest.fixture
def godel(inst, setup):
    patron = f.patron(inst, first_name="Åsa", last_name="Lindström", barcode="CARD-77",
                      pickup_desk=setup.desk)
    return f.borrowing_request(inst, setup=setup, patron_=patron, citation={
        "title": "Über formal unentscheidbare Sätze", "author": "Gödel, Kurt",
        "isbn": "978-0-306-40615-7", "doi": "10.1007/BF01700692"})


@pytest.fixture
def other(inst, setup):
    return f.borrowing_request(inst, setup=setup, citation={"title": "Another book"})


def test_fold_lower_cases_and_drops_accents():
    assert fold("  Gödel,   ÅNGSTRÖM  Øresund Straße ") == "godel, angstrom oresund strasse"


@pytest.mark.parametrize("query", [
    "godel", "GÖDEL", "Godel Kurt", "uber formal", "satze", "Lindstrom", "åsa", "asa lindström",
    "9780306406157", "978-0-306-40615-7", "10.1007/bf01700692",
])
def test_borrowing_search_finds_by_words_accent_and_case_insensitively(
        client, rs_staff, godel, other, query):
    client.force_login(rs_staff)
    assert borrowing_hits(client, query) == {godel.pk}


def test_borrowing_search_finds_the_exact_number_in_any_case(client, rs_staff, godel, other):
    client.force_login(rs_staff)
    assert borrowing_hits(client, godel.number.lower()) == {godel.pk}
    assert borrowing_hits(client, other.number) == {other.pk}


def test_borrowing_search_finds_the_patrons_card_and_any_barcode(
        client, inst, setup, rs_staff, godel, other):
    temporary = f.item(setup.incoming, barcodes=("ILL-TEMP-9", ("PARTNER-BC-5", "partner")))
    BorrowingRequest.objects.filter(pk=other.pk).update(temporary_item=temporary)
    godel.partner_item_barcode = "THEIR-BC-1"
    godel.save(update_fields=["partner_item_barcode"])
    client.force_login(rs_staff)
    assert borrowing_hits(client, "CARD-77") == {godel.pk}
    assert borrowing_hits(client, "ILL-TEMP-9") == {other.pk}
    assert borrowing_hits(client, "PARTNER-BC-5") == {other.pk}
    assert borrowing_hits(client, "THEIR-BC-1") == {godel.pk}
    assert borrowing_hits(client, "their-bc") == {godel.pk}  # the search text keeps it too


def test_borrowing_search_finds_the_request_id_a_partner_was_sent(
        client, rs_staff, godel, other, partner):
    RotaEntry.objects.create(request=other, position=1, partner=partner,
                             attempt_id="OTA-B-XYZ-1")
    client.force_login(rs_staff)
    assert borrowing_hits(client, "OTA-B-XYZ-1") == {other.pk}


def test_a_word_that_matches_nothing_finds_nothing(client, rs_staff, godel, other):
    client.force_login(rs_staff)
    assert borrowing_hits(client, "zzyzx") == set()
    assert borrowing_hits(client, "godel zzyzx") == set()  # every word must match


def test_search_never_finds_another_institutions_requests(
        client, godel, other_inst, other_staff):
    client.force_login(other_staff)
    assert borrowing_hits(client, "godel") == set()
    assert borrowing_hits(client, godel.number) == set()
    assert borrowing_hits(client, "CARD-77") == set()


def test_the_search_text_follows_a_changed_title_and_not_a_status_change(godel):
    godel.title = "Vollständigkeit der Logik"
    godel.save()
    godel.refresh_from_db()
    assert "vollstandigkeit" in godel.search_text and "satze" not in godel.search_text
    text = godel.search_text
    BorrowingRequest.objects.filter(pk=godel.pk).update(search_text="stale")
    reloaded = BorrowingRequest.objects.get(pk=godel.pk)
    reloaded.needs_attention = True
    reloaded.save()  # nothing the text is made of changed: it is not rewritten
    assert BorrowingRequest.objects.get(pk=godel.pk).search_text == "stale" != text


def test_lending_search_finds_number_partner_id_words_and_our_items_barcode(
        client, inst, setup, partner, rs_staff):
    item = f.item(setup.stacks, title="Die Grundlagen", barcodes=("OWN-123",))
    lent = f.lending_request(inst, setup=setup, partner_=partner, partner_request_id="NRL-77",
                             citation={"title": "Die Grundlagen", "author": "Hilbert, Dävid"})
    lent.refresh_from_db()
    other = f.lending_request(inst, setup=setup, partner_=partner,
                              citation={"title": "Something else"})
    if lent.item_id != item.pk:
        LendingRequest.objects.filter(pk=lent.pk).update(item=item)
    client.force_login(rs_staff)
    assert lending_hits(client, lent.number.lower()) == {lent.pk}
    assert lending_hits(client, "NRL-77") == {lent.pk}
    assert lending_hits(client, "david hilbert") == {lent.pk}
    assert lending_hits(client, "GRUNDLAGEN") == {lent.pk}
    assert lending_hits(client, "OWN-123") == {lent.pk}
    assert lending_hits(client, "else") == {other.pk}
    assert lending_hits(client, "zzyzx") == set()


def test_the_migration_fills_the_search_text_of_existing_requests(godel, inst, setup, partner):
    migration = import_module("ill.migrations.0009_request_search_text")
    lent = f.lending_request(inst, setup=setup, partner_=partner, partner_request_id="NRL-9",
                             citation={"title": "Ångström"})
    BorrowingRequest.objects.update(search_text="")
    LendingRequest.objects.update(search_text="")
    migration.fill_search_text(apps, None)
    assert BorrowingRequest.objects.get(pk=godel.pk).search_text == fresh_text(godel)
    assert "angstrom" in LendingRequest.objects.get(pk=lent.pk).search_text
    assert "nrl-9" in LendingRequest.objects.get(pk=lent.pk).search_text


def fresh_text(request):
    request = type(request).objects.get(pk=request.pk)
    return build_search_text(request.search_parts())
