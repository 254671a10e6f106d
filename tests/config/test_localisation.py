"""The main staff screens in Finnish and Swedish: no catalogue string left in English, no
internal code in the history, and dates in the reader's own short format.

How it finds an untranslated string: every English text the catalogue translates differently
is looked for in the page's visible text. A string that our code shows but that was never
marked for translation is not in the catalogue, so `make messages` keeps the catalogue whole
and this test checks what the catalogue says reaches the page.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import trans_real

from fulfillment.models import CirculationDesk
from ill.models import BorrowingRequest, LendingRequest
from kauko.models import Institution, StaffUser
from tests import factories as f
from workbench.demo import seed_demo

PLACEHOLDER = re.compile(r"%(\([^)]*\))?[sdif]|\{[^}]*\}")


class _VisibleText(HTMLParser):
    """The text a person reads: no scripts, styles or attribute values."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style", "template"):
            self._skip += 1

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def english_fragments(language: str) -> set[str]:
    """Literal runs (placeholders cut out) of every catalogue string that reads differently
    in `language`; short ones are left out, as they could be a name or a code."""
    catalogue = trans_real.translation(language)._catalog
    fragments = set()
    for msgid, msgstr in catalogue.items():
        if not isinstance(msgid, str) or not msgid or msgid == msgstr:
            continue
        for run in PLACEHOLDER.split(msgid):
            run = " ".join((run or "").split()).strip(" .,:;()–-")
            # A translation may keep Alma's English term beside its own ("lainausyksiköt
            # (fulfillment units)"): such a run is no sign of a missing translation.
            if len(run) >= 14 and " " in run and run.lower() not in str(msgstr).lower():
                fragments.add(run)
    return fragments


@pytest.fixture
def demo(db):
    seed_demo()
    ota = Institution.objects.get(code="OTA")
    return ota


def staff_pages(inst) -> list[str]:
    borrowing = BorrowingRequest.objects.filter(institution=inst).order_by("pk")
    lending = LendingRequest.objects.filter(institution=inst).order_by("pk")
    pages = [
        reverse("home"),
        reverse("ill:borrowing_list"),
        reverse("ill:borrowing_create"),
        reverse("ill:lending_list"),
        reverse("ill:lending_pick_list"),
    ]
    pages += [reverse("ill:borrowing_detail", args=[r.pk]) for r in borrowing[:3]]
    pages += [reverse("ill:lending_detail", args=[r.pk]) for r in lending[:2]]
    return pages


def desk_pages(inst) -> list[str]:
    desk = CirculationDesk.objects.filter(institution=inst, has_hold_shelf=True).first()
    return [reverse("desk:desk_list")] + [
        reverse(f"desk:{name}", args=[desk.pk])
        for name in ("scan_in", "check_out", "check_in", "hold_shelf")]


SCREENS = [("rs", staff_pages), ("desk", desk_pages),
           ("admin", lambda inst: [reverse("admin:index")])]


def test_the_main_staff_screens_show_no_catalogue_string_in_english(client, demo):
    # One demo for every screen and both languages: building it is most of the time.
    for language in ("fi", "sv"):
        english = english_fragments(language)
        assert len(english) > 200, "the catalogue should translate hundreds of strings"
        for role, pages in SCREENS:
            user = StaffUser.objects.get(institution=demo, username__endswith=f"-{role}")
            client.force_login(user)
            for url in pages(demo):
                response = client.get(url, HTTP_ACCEPT_LANGUAGE=language)
                assert response.status_code == 200, url
                text = visible_text(response.content.decode())
                left = sorted(f for f in english if f in text)
                assert not left, f"{url} in {language} still says in English: {left}"


def test_the_history_and_the_dates_read_in_the_readers_language(client, demo):
    rs = StaffUser.objects.get(institution=demo, username__endswith="-rs")
    client.force_login(rs)
    request = BorrowingRequest.objects.filter(institution=demo).order_by("pk").first()
    for language in ("fi", "sv"):
        response = client.get(reverse("ill:borrowing_detail", args=[request.pk]),
                              HTTP_ACCEPT_LANGUAGE=language)
        html = response.content.decode()
        history = html[html.index('data-testid="history"'):]
        text = visible_text(history[:history.index("</table>")])
        for code in ("create", "set_rota", "make_ready", "created → ready"):
            assert f" {code} " not in f" {text} ", f"internal code {code!r} in: {text}"
        with translation.override(language):
            assert str(BorrowingRequest.action_label("create")) in text
            assert str(BorrowingRequest.Status.CREATED.label) in text

    created = request.created_at.astimezone()
    url = reverse("ill:borrowing_list")
    finnish = visible_text(client.get(url, HTTP_ACCEPT_LANGUAGE="fi").content.decode())
    swedish = visible_text(client.get(url, HTTP_ACCEPT_LANGUAGE="sv").content.decode())
    assert f"{created.day}.{created.month}.{created.year}" in finnish
    assert created.strftime("%Y-%m-%d") in swedish
    assert created.strftime("%d.%m.%Y") not in swedish


def test_a_note_kauko_wrote_in_english_reads_in_the_readers_language(client, inst, setup,
                                                                     rs_staff):
    # Written while English was active (a job, a partner's message, an English colleague).
    with translation.override("en"):
        request = f.borrowing_request(inst, setup=setup)
    entry = request.history.get(action="create")
    assert entry.note.startswith("Created by")
    client.force_login(rs_staff)
    html = client.get(reverse("ill:borrowing_detail", args=[request.pk]),
                      HTTP_ACCEPT_LANGUAGE="fi").content.decode()
    history = html[html.index('data-testid="history"'):]
    text = visible_text(history[:history.index("</table>")])
    with translation.override("fi"):
        finnish = translation.gettext("Created by %(who)s.").split("%")[0].strip()
    assert finnish and finnish in text
    assert "Created by" not in text
