"""Automation: rota templates and assignment rules at creation, own copy first, auto-send after
commit (locate mocked here; over SRU in the e2e test), the next partner after an e-mail partner's Unfilled,
load balancing, the timers and the expected arrival."""

import datetime
from unittest import mock

import pytest
from django.urls import reverse
from django.utils import timezone

from ill.borrowing import autosend
from ill.borrowing.automation import expected_arrival
from ill.borrowing.services import (
    borrowing_request_conditional,
    borrowing_request_rejected,
    borrowing_request_send,
)
from ill.lending.automation import flag_unanswered_lending, warn_lending_condition_reply_by
from ill.models import (
    AssignmentRule,
    AutomationSettings,
    IsoMessage,
    LendingRequest,
    RotaEntry,
    RotaTemplate,
    RotaTemplateEntry,
)
from ill.workflow import flag
from kauko.letters import SentLetter
from tests import factories as f

BR_TITLE = {"title": "Only elsewhere", "author": "Writer, A.", "isbn": "9789510000001"}


def _template(inst, name, *partners_by_rank):
    template = RotaTemplate.objects.create(institution=inst, name=name)
    for rank, partner in partners_by_rank:
        RotaTemplateEntry.objects.create(template=template, rank=rank, partner=partner)
    return template


def _rule(inst, template, position=1, **kw):
    return AssignmentRule.objects.create(institution=inst, name=kw.pop("name", f"Rule {position}"),
                                         position=position, template=template, **kw)


def _make(inst, setup, **kw):
    return f.borrowing_request(inst, setup=setup, citation=kw.pop("citation", dict(BR_TITLE)),
                               **kw)


@pytest.fixture
def second(inst):
    return f.partner(inst, code="SECOND", name="Second Library")


def test_the_first_matching_rule_in_order_chooses_the_rota_and_says_why(inst, setup, partner,
                                                                         second):
    articles = _template(inst, "Articles", (1, second))
    books = _template(inst, "Books", (1, partner), (2, second))
    _rule(inst, articles, position=1, name="Articles first", request_type="article")
    _rule(inst, books, position=2, name="Books with ISBN", format="book", identifier="isbn")
    _rule(inst, articles, position=3, name="Anything else")

    request = _make(inst, setup)

    assert request.rota_rule.name == "Books with ISBN"
    assert "Books with ISBN" in request.rota_rule_reason
    assert "ISBN" in request.rota_rule_reason
    assert [e.partner for e in request.rota.all()] == [partner, second]
    assert request.history.filter(action="assign_rota",
                                  note=request.rota_rule_reason).exists()
    assert not request.auto_send  # neither the rule nor the institution says so


def test_a_rule_for_a_patron_group_or_pickup_desk_does_not_match_others(inst, setup, partner,
                                                                         second):
    staff_group = f.patron_group(inst, code="STAFF")
    _rule(inst, _template(inst, "Staff", (1, second)), position=1, patron_group=staff_group)
    _rule(inst, _template(inst, "Desk", (1, second)), position=2,
          pickup_desk=f.desk(setup.main, "OTHER"))
    _rule(inst, _template(inst, "Default", (1, partner)), position=3, name="Default")

    request = _make(inst, setup)

    assert request.rota_rule.name == "Default"
    assert [e.partner for e in request.rota.all()] == [partner]


def test_an_inactive_rule_or_a_domestic_scope_is_respected(inst, setup, partner, second):
    second.is_international = True
    second.save()
    template = _template(inst, "Mixed", (1, second), (2, partner))
    _rule(inst, template, position=1, active=False, name="Off")
    _rule(inst, template, position=2, name="Domestic", partner_scope="domestic")

    request = _make(inst, setup)

    assert request.rota_rule.name == "Domestic"
    assert [e.partner for e in request.rota.all()] == [partner]


def test_without_a_matching_rule_staff_choose_by_hand(inst, setup, partner):
    _rule(inst, _template(inst, "Copies", (1, partner)), request_type="article")

    request = _make(inst, setup)

    assert request.rota_rule is None
    assert "No assignment rule matched" in request.rota_rule_reason
    assert not request.rota.exists()
    assert not request.needs_attention


def test_partners_chosen_by_staff_are_kept_and_no_rule_is_applied(inst, setup, partner, second):
    _rule(inst, _template(inst, "Books", (1, second)))

    request = _make(inst, setup, partners=[partner])

    assert request.rota_rule is None
    assert [e.partner for e in request.rota.all()] == [partner]


def test_partners_of_equal_rank_are_balanced_by_what_they_were_sent_this_month(
        inst, setup, partner, second, rs_staff):
    busy = _make(inst, setup, partners=[partner])
    borrowing_request_send(request=busy, user=rs_staff)  # partner got one this month
    _rule(inst, _template(inst, "Equal", (1, partner), (1, second)))

    request = _make(inst, setup, citation={"title": "Another", "isbn": "9789510000002"})

    assert [e.partner for e in request.rota.all()] == [second, partner]


def test_an_own_copy_on_the_shelf_stops_automation_and_offers_a_hold(inst, setup, partner):
    own = f.item(setup.stacks, title="Only elsewhere", barcodes=("OWN1",))
    own.bib.isbn = BR_TITLE["isbn"]
    own.bib.save()
    _rule(inst, _template(inst, "Books", (1, partner)), auto_send=True)

    request = _make(inst, setup)

    request.refresh_from_db()
    assert request.needs_attention
    assert "Our own copy is on the shelf" in request.attention_reason
    assert "hold" in request.attention_reason
    assert not request.auto_send
    assert request.status == "created"


def test_auto_send_sends_to_the_first_partner_after_commit(inst, setup, partner,
                                                           django_capture_on_commit_callbacks):
    _rule(inst, _template(inst, "Books", (1, partner)), auto_send=True)

    with django_capture_on_commit_callbacks(execute=True):
        request = _make(inst, setup)

    request.refresh_from_db()
    assert request.status == "sent"
    assert request.partner == partner
    assert request.auto_send
    assert SentLetter.objects.filter(code="borrowing_request_to_partner").exists()


def test_the_institution_setting_switches_auto_send_on_for_every_rule(
        inst, setup, partner, django_capture_on_commit_callbacks):
    AutomationSettings.objects.create(institution=inst, auto_send=True)
    _rule(inst, _template(inst, "Books", (1, partner)))

    with django_capture_on_commit_callbacks(execute=True):
        request = _make(inst, setup)

    request.refresh_from_db()
    assert request.status == "sent"


def test_partners_that_locate_says_do_not_hold_it_are_skipped(
        inst, setup, partner, second, django_capture_on_commit_callbacks):
    _rule(inst, _template(inst, "Books", (1, partner), (2, second)), auto_send=True)

    def locate(*, request):  # the seam: the SRU locate skips who does not hold it
        RotaEntry.objects.filter(request=request, partner=partner).update(
            outcome=RotaEntry.Outcome.SKIPPED, reason="Not held")
        return request

    with mock.patch.object(autosend, "locate_rota", locate), \
            django_capture_on_commit_callbacks(execute=True):
        request = _make(inst, setup)

    request.refresh_from_db()
    assert request.status == "sent"
    assert request.partner == second


def test_when_no_partner_holds_it_the_request_waits_flagged_saying_so(
        inst, setup, partner, django_capture_on_commit_callbacks):
    _rule(inst, _template(inst, "Books", (1, partner)), auto_send=True)

    def locate(*, request):
        request.rota.update(outcome=RotaEntry.Outcome.SKIPPED, reason="Not held")
        return request

    with mock.patch.object(autosend, "locate_rota", locate), \
            django_capture_on_commit_callbacks(execute=True):
        request = _make(inst, setup)

    request.refresh_from_db()
    assert request.status == "created"
    assert request.needs_attention
    assert "No partner in the rota holds it" in request.attention_reason


def test_a_locate_that_fails_keeps_the_rota_and_sends(inst, setup, partner,
                                                      django_capture_on_commit_callbacks):
    _rule(inst, _template(inst, "Books", (1, partner)), auto_send=True)

    with mock.patch.object(autosend, "locate_rota", side_effect=TimeoutError), \
            django_capture_on_commit_callbacks(execute=True):
        request = _make(inst, setup)

    request.refresh_from_db()
    assert request.status == "sent"


def test_an_email_partners_unfilled_recorded_by_staff_sends_to_the_next(
        inst, setup, partner, second, rs_staff, django_capture_on_commit_callbacks):
    _rule(inst, _template(inst, "Books", (1, partner), (2, second)), auto_send=True)
    with django_capture_on_commit_callbacks(execute=True):
        request = _make(inst, setup)
    request.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        borrowing_request_rejected(request=request, reason="Not on shelf", user=rs_staff)

    request.refresh_from_db()
    assert request.status == "sent"
    assert request.partner == second


def test_a_manual_request_is_not_sent_on_after_an_unfilled(
        inst, setup, partner, second, rs_staff, django_capture_on_commit_callbacks):
    request = _make(inst, setup, partners=[partner, second])
    borrowing_request_send(request=request, user=rs_staff)
    with django_capture_on_commit_callbacks(execute=True):
        borrowing_request_rejected(request=request, reason="Not on shelf", user=rs_staff)
    request.refresh_from_db()
    assert request.status == "ready"


def test_the_sweep_sends_an_automatic_request_whose_hand_over_was_lost(inst, setup, partner):
    _rule(inst, _template(inst, "Books", (1, partner)), auto_send=True)
    request = _make(inst, setup)  # on-commit callbacks not run: the hand-over was lost

    assert autosend.auto_send_sweep(now=timezone.now() + datetime.timedelta(minutes=5)) == 1
    request.refresh_from_db()
    assert request.status == "sent"


# --- timers -------------------------------------------------------------------------------------


def _sent(inst, setup, partner_, rs_staff, days_ago):
    request = _make(inst, setup, partners=[partner_])
    borrowing_request_send(request=request, user=rs_staff)
    RotaEntry.objects.filter(request=request).update(
        asked_at=timezone.now() - datetime.timedelta(days=days_ago))
    request.refresh_from_db()
    return request


def test_a_silent_iso_partner_gets_a_status_request_then_the_request_is_flagged(
        inst, setup, iso_partner, rs_staff):
    iso_partner.average_supply_days = 5
    iso_partner.save()
    request = _sent(inst, setup, iso_partner, rs_staff, days_ago=6)
    before = IsoMessage.objects.filter(borrowing_request=request).count()

    assert autosend.chase_silent_partners() == 1
    request.refresh_from_db()
    assert IsoMessage.objects.filter(borrowing_request=request).count() == before + 1
    last = IsoMessage.objects.filter(borrowing_request=request).order_by("-pk").first()
    assert last.action == "StatusRequest"
    assert not request.needs_attention
    assert request.history.filter(action="status_request").exists()

    later = timezone.now() + datetime.timedelta(days=1)
    assert autosend.chase_silent_partners(now=later) == 1
    request.refresh_from_db()
    assert request.needs_attention
    assert "is silent" in request.attention_reason
    # Once flagged, nothing more.
    assert autosend.chase_silent_partners(now=later) == 0


def test_a_silent_email_partner_gets_a_reminder_letter(inst, setup, partner, rs_staff):
    partner.average_supply_days = 3
    partner.save()
    request = _sent(inst, setup, partner, rs_staff, days_ago=4)

    assert autosend.chase_silent_partners() == 1
    assert SentLetter.objects.filter(code="borrowing_reminder_to_partner").count() == 1
    assert request.history.filter(action="partner_reminder").exists()


def test_a_partner_within_its_supply_time_or_switched_off_is_left_alone(inst, setup, partner,
                                                                       rs_staff):
    partner.average_supply_days = 10
    partner.save()
    _sent(inst, setup, partner, rs_staff, days_ago=4)
    assert autosend.chase_silent_partners() == 0

    AutomationSettings.objects.create(institution=inst, chase_silent_partners=False)
    partner.average_supply_days = 1
    partner.save()
    assert autosend.chase_silent_partners() == 0


def test_a_conditions_reply_by_date_near_or_past_is_flagged(inst, setup, partner, rs_staff):
    AutomationSettings.objects.create(institution=inst, condition_warn_days=2)
    today = timezone.localdate()
    near = _sent(inst, setup, partner, rs_staff, days_ago=0)
    borrowing_request_conditional(request=near, condition="Fee 10 €",
                                  reply_by=today + datetime.timedelta(days=1))
    far = _make(inst, setup, partners=[partner], citation={"title": "Far"})
    borrowing_request_send(request=far, user=rs_staff)
    borrowing_request_conditional(request=far, condition="Fee 10 €",
                                  reply_by=today + datetime.timedelta(days=9))

    assert autosend.warn_condition_reply_by(today=today) == 1
    near.refresh_from_db()
    assert "Answer the condition by" in near.attention_reason
    assert autosend.warn_condition_reply_by(today=today + datetime.timedelta(days=3)) == 1
    near.refresh_from_db()
    assert "has passed" in near.attention_reason


def test_a_lending_request_unanswered_for_n_days_is_flagged(inst, setup, partner):
    AutomationSettings.objects.create(institution=inst, lending_unanswered_days=3)
    lending = f.lending_request(inst, partner_=partner, setup=setup)
    LendingRequest.objects.filter(pk=lending.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=4))

    assert flag_unanswered_lending() == 1
    lending.refresh_from_db()
    assert lending.needs_attention
    assert "Unanswered for 3 days" in lending.attention_reason
    assert flag_unanswered_lending() == 0


def test_a_lending_condition_past_its_reply_by_date_is_flagged(inst, setup, partner, rs_staff):
    AutomationSettings.objects.create(institution=inst, condition_warn_days=1)
    lending = f.lending_request(inst, partner_=partner, setup=setup)
    LendingRequest.objects.filter(pk=lending.pk).update(
        status="conditional", condition_reply_by=timezone.localdate() - datetime.timedelta(1))

    assert warn_lending_condition_reply_by() == 1
    lending.refresh_from_db()
    assert "did not answer our condition" in lending.attention_reason


def test_the_expected_arrival_is_the_ask_plus_the_partners_average_supply_time(
        inst, setup, partner, rs_staff, client):
    partner.average_supply_days = 9
    partner.save()
    request = _sent(inst, setup, partner, rs_staff, days_ago=2)
    expected = timezone.localdate() + datetime.timedelta(days=7)

    assert expected_arrival(request) == expected
    client.force_login(rs_staff)
    page = client.get(reverse("ill:borrowing_detail", args=[request.pk])).content.decode()
    assert 'data-testid="expected-arrival"' in page


def test_a_request_not_yet_sent_has_no_expected_arrival(inst, setup, partner):
    assert expected_arrival(_make(inst, setup, partners=[partner])) is None


def test_a_flag_raised_while_at_the_partner_does_not_stop_the_next_partner_after_unfilled(
        inst, setup, partner, second, rs_staff, django_capture_on_commit_callbacks):
    _rule(inst, _template(inst, "Books", (1, partner), (2, second)), auto_send=True)
    with django_capture_on_commit_callbacks(execute=True):
        request = _make(inst, setup)
    flag(request=request, reason="Partner is silent")
    request.refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        borrowing_request_rejected(request=request, reason="Not on shelf", user=rs_staff)

    request.refresh_from_db()
    assert request.status == "sent" and request.partner == second
    assert not request.needs_attention
