"""When scheduled reports go out: at the time in each recipient's zone, within 5 minutes, once per
slot, across daylight-saving changes (an injected clock: ``fire_due(now=...)``)."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from octopushx.core.context import Actor
from octopushx.core.models import Job
from octopushx.reports import schedules
from octopushx.reports.models import ReportSchedule, ScheduleRecipient
from octopushx.tenancy.roles import Role
from tests.conftest import make_member

pytestmark = pytest.mark.django_db


def at(*args) -> datetime:
    return datetime(*args, tzinfo=UTC)


def rule(frequency="daily", at_time=time(8), weekday=None, day=None) -> ReportSchedule:
    return ReportSchedule(frequency=frequency, time_of_day=at_time, weekday=weekday, day_of_month=day)


def sends(row: ScheduleRecipient) -> int:
    return Job.objects.filter(kind=schedules.SEND_JOB, payload__recipient_id=str(row.pk)).count()


@pytest.fixture
def member(org):
    return make_member(org, Role.ADMIN, email="sched-admin@example.test")


def schedule_for(member, now, **data):
    payload = {"dashboard": "sales", "frequency": "daily", "time": "08:00", "recipient_ids": [str(member.user_id)]}
    payload.update(data)
    return schedules.create_schedule(member.tenant, Actor.system("test"), member, payload, now=now)


def test_spring_forward_keeps_the_local_time():
    # Europe/London moves from GMT to BST on Sunday 29 March 2026: 08:00 is 08:00 UTC, then 07:00 UTC.
    daily = rule()
    first = schedules.next_slot(daily, "Europe/London", at(2026, 3, 28, 9))
    assert first == at(2026, 3, 29, 7)
    assert schedules.next_slot(daily, "Europe/London", at(2026, 3, 27, 9)) == at(2026, 3, 28, 8)


def test_a_time_skipped_by_spring_forward_is_sent_an_hour_later():
    # 01:30 does not exist in London on 29 March 2026 (01:00 GMT jumps to 02:00 BST): 02:30 BST.
    slot = schedules.next_slot(rule(at_time=time(1, 30)), "Europe/London", at(2026, 3, 28, 12))
    assert slot == at(2026, 3, 29, 1, 30)
    following = schedules.next_slot(rule(at_time=time(1, 30)), "Europe/London", slot)
    assert following == at(2026, 3, 30, 0, 30)  # 01:30 BST


def test_a_time_repeated_by_fall_back_is_sent_once():
    # 01:30 happens twice in London on 25 October 2026 (BST, then GMT): only the first counts.
    daily = rule(at_time=time(1, 30))
    first = schedules.next_slot(daily, "Europe/London", at(2026, 10, 24, 12))
    assert first == at(2026, 10, 25, 0, 30)
    assert schedules.next_slot(daily, "Europe/London", first) == at(2026, 10, 26, 1, 30)


def test_weekly_and_monthly_rules():
    monday = rule("weekly", weekday=0)
    assert schedules.next_slot(monday, "UTC", at(2026, 12, 2, 9)) == at(2026, 12, 7, 8)  # Wed → next Mon
    last_day = rule("monthly", day=31)
    assert schedules.next_slot(last_day, "UTC", at(2027, 2, 1)) == at(2027, 2, 28, 8)  # a shorter month
    assert schedules.next_slot(last_day, "UTC", at(2027, 2, 28, 9)) == at(2027, 3, 31, 8)


def test_each_recipient_gets_it_at_their_own_time(org, member):
    new_york = make_member(org, Role.MANAGER, email="ny@example.test")
    new_york.user.time_zone = "America/New_York"
    new_york.user.save()
    schedule = schedule_for(member, at(2026, 12, 6, 12), recipient_ids=[str(member.user_id), str(new_york.user_id)])
    times = {r.user.email: r.next_at for r in schedule.recipients.select_related("user")}
    # at 12:00 UTC it is past 08:00 in London (tomorrow's send) but 07:00 in New York (today's)
    assert times["sched-admin@example.test"] == at(2026, 12, 7, 8)  # London, GMT
    assert times["ny@example.test"] == at(2026, 12, 6, 13)  # 08:00 EST
    assert schedule.next_at == at(2026, 12, 6, 13)


def test_fires_within_five_minutes_across_the_change_and_once_per_slot(member):
    created = at(2026, 3, 27, 12)
    schedule = schedule_for(member, created)
    row = schedule.recipients.get()
    clock = created
    fired_at = []
    while clock < at(2026, 3, 31):  # a reaper round each minute over the weekend of the change
        if schedules.fire_due(now=clock):
            fired_at.append(clock)
        clock += timedelta(minutes=1)
    assert fired_at == [at(2026, 3, 28, 8), at(2026, 3, 29, 7), at(2026, 3, 30, 7)]
    assert sends(row) == 3


def test_fall_back_night_sends_once_within_five_minutes(member):
    schedule = schedule_for(member, at(2026, 10, 24, 12), time="01:30")
    row = schedule.recipients.get()
    fired = [m for m in range(0, 180, 2) if schedules.fire_due(now=at(2026, 10, 25, 0, 0) + timedelta(minutes=m))]
    assert fired == [30]  # 00:30 UTC = 01:30 BST; not again at 01:30 GMT
    assert sends(row) == 1


def test_two_processes_fire_a_slot_once(member):
    schedule = schedule_for(member, at(2026, 12, 6, 12))
    now = at(2026, 12, 7, 8, 1)
    assert schedules.fire_due(now=now) == 1
    assert schedules.fire_due(now=now) == 0
    assert sends(schedule.recipients.get()) == 1


def test_a_late_scheduler_sends_once_and_moves_on(member):
    schedule = schedule_for(member, at(2026, 12, 6, 12))
    assert schedules.fire_due(now=at(2026, 12, 10, 9)) == 1  # down for three days: one catch-up send
    row = schedule.recipients.get()
    assert row.next_at == at(2026, 12, 11, 8)


def test_a_changed_time_zone_moves_the_next_send(member):
    schedule = schedule_for(member, at(2026, 12, 6, 12))
    member.user.time_zone = "Asia/Tokyo"
    member.user.save()
    schedules.fire_due(now=at(2026, 12, 6, 12, 1))
    row = schedule.recipients.get()
    assert row.time_zone == "Asia/Tokyo" and row.next_at == at(2026, 12, 6, 23)  # 08:00 JST


def test_an_organisation_zone_change_moves_members_without_their_own(member, org):
    schedule = schedule_for(member, at(2026, 12, 6, 12))
    org.time_zone = "America/Los_Angeles"
    org.save()
    schedules.fire_due(now=at(2026, 12, 6, 12, 1))
    assert schedule.recipients.get().next_at == at(2026, 12, 6, 16)  # 08:00 PST


def test_disabled_schedules_do_not_fire(member):
    schedule = schedule_for(member, at(2026, 12, 6, 12))
    schedules.update_schedule(member.tenant, Actor.system("test"), member, schedule, {"enabled": False})
    assert schedules.fire_due(now=at(2026, 12, 8)) == 0


def test_the_reaper_round_runs_the_scheduler():
    from octopushx.core import jobs

    assert schedules.fire_due in jobs.ROUND_HOOKS
