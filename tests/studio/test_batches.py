"""Batches: one claim takes many runs of an organisation and runs the fresh, all-local ones in one
transaction, without losing or doubling a step, and falls back to one by one when it must."""

from __future__ import annotations

import dataclasses

import pytest

from octopushx.core import audit, automation, jobs
from octopushx.crm.models import Contact, Task
from octopushx.studio import engine
from octopushx.studio.models import Run, RunStatus, StepRun
from tests.conftest import make_member
from tests.crm.conftest import make_contact
from tests.studio.conftest import make_workflow, run_all

pytestmark = pytest.mark.django_db

WELCOME = {
    "name": "Welcome",
    "trigger": {"type": "event", "event": "contact.created"},
    "steps": [
        {"id": "known", "type": "branch", "conditions": [{"field": "contact.email", "op": "is_not_empty"}],
         "then": [{"id": "task", "type": "create_task", "title": "Welcome {{ contact.first_name }}",
                   "assignee": "record_owner"},
                  {"id": "tag", "type": "add_tag", "tag": "welcomed"}],
         "else": [{"id": "no_email", "type": "add_tag", "tag": "no-email"}]},
    ],
}  # fmt: skip


def contacts_of(org) -> list[Contact]:
    return list(Contact.objects.filter(tenant=org))


def contacts(org, count: int, owner=None) -> list[Contact]:
    return [
        make_contact(org, owner=owner, first_name=f"P{i}", email=f"p{i}@example.com" if i % 3 else "")
        for i in range(count)
    ]


def test_one_claim_runs_many_runs_in_one_batch(org, studio_settings):
    workflow = make_workflow(org, WELCOME)
    owner = make_member(org, "agent")
    people = contacts(org, 6, owner=owner)
    jobs.drain()
    batches = []
    original = engine._execute_together

    def spy(runs):
        batches.append(len(runs))
        return original(runs)

    engine._execute_together = spy
    try:
        run_all()
    finally:
        engine._execute_together = original
    assert batches == [6]
    runs = Run.objects.filter(workflow=workflow)
    assert {run.status for run in runs} == {RunStatus.SUCCEEDED}
    assert runs.values("claim").distinct().count() == 1
    for person in people:
        run = runs.get(record_id=str(person.pk))
        assert run.admitted and run.contact_id == str(person.pk) and run.record_label.startswith(person.first_name)
        expected = ["known", "task", "tag"] if person.email else ["known", "no_email"]
        assert [s.step_id for s in run.steps.order_by("position")] == expected
        assert run.step_count == len(expected)
        tags = {t.name for t in person.tags.all()}
        assert tags == ({"welcomed"} if person.email else {"no-email"})
        tasks = Task.objects.filter(tenant=org, contact=person)
        assert [(t.title, t.assignee_id) for t in tasks] == ([(f"Welcome {person.first_name}", owner.user.pk)] if person.email else [])  # fmt: skip
    assert audit.verify(org).ok


def test_a_step_failing_in_a_batch_undoes_its_run_only_which_then_runs_alone(org, studio_settings, monkeypatch):
    workflow = make_workflow(org, WELCOME)
    people = contacts(org, 4)
    failing = people[1]
    task = automation.ACTIONS["create_task"]
    calls: dict[str, int] = {}

    def flaky(ctx):
        calls[ctx.record_id] = calls.get(ctx.record_id, 0) + 1
        result = task.run(ctx)  # acts, then fails: the task must be undone with the step
        if ctx.record_id == str(failing.pk) and calls[ctx.record_id] == 1:
            raise RuntimeError("the database went away")
        return result

    monkeypatch.setitem(automation.ACTIONS, "create_task", dataclasses.replace(task, run=flaky))
    jobs.drain()
    assert engine.tick(budget=30, fan_out=False) == 4  # one claim: the batch, then the undone run alone
    run = Run.objects.get(workflow=workflow, record_id=str(failing.pk))
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.admitted and run.contact_id == str(failing.pk) and run.record_label.startswith("P1")
    assert calls[str(failing.pk)] == 2
    assert [(s.step_id, s.status, s.attempts) for s in run.steps.order_by("position")] == [
        ("known", "succeeded", 1),
        ("task", "succeeded", 1),
        ("tag", "succeeded", 1),
    ]
    assert Task.objects.filter(tenant=org, contact=failing).count() == 1
    assert Run.objects.filter(workflow=workflow, status=RunStatus.SUCCEEDED).count() == 4
    assert Task.objects.filter(tenant=org).count() == sum(1 for p in people if p.email)
    assert audit.verify(org).ok


def test_a_batch_that_cannot_commit_runs_one_by_one_without_doubling_a_step(org, studio_settings, caplog):
    workflow = make_workflow(org, WELCOME)
    people = [p for p in contacts(org, 5) if p.email]
    jobs.drain()
    taken = Run.objects.get(workflow=workflow, record_id=str(people[0].pk))
    # Another worker did this run's task step meanwhile: its row (and its task) exist.
    StepRun.objects.create(tenant=org, run=taken, step_id="task", type="create_task", position=2,
                           key=f"{taken.pk}:task", status="succeeded", attempts=1, output={"task_id": "elsewhere"})  # fmt: skip
    run_all()
    assert "they run one by one" in caplog.text
    assert {run.status for run in Run.objects.filter(workflow=workflow)} == {RunStatus.SUCCEEDED}
    assert Task.objects.filter(tenant=org, contact=people[0]).count() == 0  # not done a second time
    for person in people[1:]:
        assert Task.objects.filter(tenant=org, contact=person).count() == 1
    assert StepRun.objects.filter(run=taken).count() == 3
    for run in Run.objects.filter(workflow=workflow):
        assert run.admitted and run.contact_id == run.record_id and run.record_label
    assert audit.verify(org).ok


def test_a_run_undone_in_a_batch_keeps_once_per_record(org, studio_settings, monkeypatch):
    from octopushx.studio.models import Enrolment

    workflow = make_workflow(org, {**WELCOME, "reenrol": "once"})
    people = [p for p in contacts(org, 4) if p.email]
    task = automation.ACTIONS["create_task"]
    failed = set()

    def once_broken(ctx):
        if ctx.record_id == str(people[0].pk) and not failed:
            failed.add(ctx.record_id)
            raise RuntimeError("the database went away")
        return task.run(ctx)

    monkeypatch.setitem(automation.ACTIONS, "create_task", dataclasses.replace(task, run=once_broken))
    run_all()
    assert failed
    assert {run.status for run in Run.objects.filter(workflow=workflow)} == {RunStatus.SUCCEEDED}
    assert set(Enrolment.objects.filter(workflow=workflow).values_list("record_id", flat=True)) == {
        str(p.pk) for p in contacts_of(org)
    }


def test_runs_with_a_remote_step_are_not_batched(org, studio_settings):
    body = {**WELCOME, "steps": [{"id": "wait", "type": "delay", "minutes": 5}]}
    make_workflow(org, body)
    contacts(org, 3)
    jobs.drain()
    runs = engine._claim_many(org.pk, 10)
    assert len(runs) == 3 and not any(engine._batchable(run) for run in runs)


def test_the_organisation_cap_counts_claims_not_runs(org, studio_settings):
    studio_settings.STUDIO_ORG_CONCURRENCY = 1
    make_workflow(org, WELCOME)
    contacts(org, 5)
    jobs.drain()
    assert len(engine._claim_many(org.pk, 3)) == 3
    assert engine._claim_many(org.pk, 3) == []  # one claim in flight is the cap
    assert engine._claim(org.pk) is None


def test_round_robin_turns_within_a_batch(org, studio_settings):
    from octopushx.tenancy.models import Membership, Team

    team = Team.objects.create(tenant=org, name="Desk")
    first, second = make_member(org, "agent"), make_member(org, "agent", email="second@example.test")
    Membership.objects.filter(pk__in=[first.pk, second.pk]).update(team=team)
    body = {"name": "Turns", "trigger": {"type": "event", "event": "contact.created"},
            "steps": [{"id": "t", "type": "create_task", "title": "Call", "assignee": f"round_robin:{team.pk}"}]}  # fmt: skip
    make_workflow(org, body)
    contacts(org, 4)
    run_all()
    assignees = list(Task.objects.filter(tenant=org).values_list("assignee_id", flat=True))
    assert sorted(assignees.count(user) for user in (first.user_id, second.user_id)) == [2, 2]


def test_a_restricted_person_in_a_batch_is_skipped_and_the_others_are_acted_on(org, studio_settings):
    workflow = make_workflow(org, WELCOME)
    people = [p for p in contacts(org, 5) if p.email]
    Contact.objects.filter(pk=people[0].pk).update(restricted=True)
    run_all()
    held = Run.objects.get(workflow=workflow, record_id=str(people[0].pk))
    assert held.status == RunStatus.SUCCEEDED  # its branch ran; every step acting on the person was skipped
    assert [(s.step_id, s.status, s.error) for s in held.steps.order_by("position")] == [
        ("known", "succeeded", ""),
        ("task", "skipped", "restricted"),
        ("tag", "skipped", "restricted"),
    ]
    assert not Task.objects.filter(tenant=org, contact=people[0]).exists()
    assert not people[0].tags.exists()
    for person in people[1:]:
        assert Task.objects.filter(tenant=org, contact=person).count() == 1


def test_once_per_record_holds_within_a_batch(org, studio_settings):
    from octopushx.core.context import Actor
    from octopushx.crm import services as crm

    body = {**WELCOME, "reenrol": "once", "trigger": {"type": "event", "event": "contact.updated"}}
    workflow = make_workflow(org, body)
    person = make_contact(org, first_name="Twice", email="twice@example.com")
    for title in ("First", "Second", "Third"):
        crm.update_contact(org, Actor.system("test"), Contact.objects.get(pk=person.pk), {"job_title": title})
    jobs.drain()
    assert Run.objects.filter(workflow=workflow).count() == 3
    run_all()
    assert [run.status for run in Run.objects.filter(workflow=workflow)] == [RunStatus.SUCCEEDED]
    assert Task.objects.filter(tenant=org, contact=person).count() == 1
