"""The run engine: triggers, steps, replay without doubles, delays, loops, restriction, retries."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from octopushx.core.context import Actor
from octopushx.crm import services as crm
from octopushx.crm.models import Contact, Task
from octopushx.studio import engine, services
from octopushx.studio.models import Run, RunStatus, StepRun
from tests.crm.conftest import make_contact
from tests.studio.conftest import make_workflow, run_all

pytestmark = pytest.mark.django_db

VIP = {
    "name": "VIP welcome",
    "trigger": {"type": "event", "event": "contact.created",
                "conditions": [{"field": "contact.tags", "op": "contains", "value": "vip"}]},
    "steps": [
        {"type": "create_task", "title": "Call {{ contact.first_name }}", "due_in_days": 1, "assignee": "record_owner"},
        {"type": "add_tag", "tag": "welcomed"},
    ],
}  # fmt: skip


def test_event_starts_a_run_that_does_each_step_once(org, studio_settings):
    workflow = make_workflow(org, VIP)
    contact = make_contact(org, first_name="Grace", tags=["vip"])
    run_all()
    run = Run.objects.get(workflow=workflow)
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert run.record_id == str(contact.pk)
    assert [s.status for s in run.steps.order_by("position")] == ["succeeded", "succeeded"]
    assert Task.objects.filter(tenant=org, title="Call Grace", contact=contact).count() == 1
    contact.refresh_from_db()
    assert sorted(t.name for t in contact.tags.all()) == ["vip", "welcomed"]


def test_trigger_conditions_filter_before_a_run_exists(org, studio_settings):
    workflow = make_workflow(org, VIP)
    make_contact(org, first_name="Plain")
    # Decided in the emitter's transaction: no run row, not even one a worker would delete.
    assert not Run.objects.filter(workflow=workflow).exists()
    make_contact(org, first_name="Grace", tags=["vip"])
    assert Run.objects.filter(workflow=workflow).count() == 1
    run_all()
    assert [run.record_label for run in services.runs_for(org, workflow)] == ["Grace Lovelace"]


def test_trigger_conditions_are_checked_again_when_the_run_starts(org, studio_settings):
    workflow = make_workflow(org, VIP)
    contact = make_contact(org, first_name="Grace", tags=["vip"])
    assert Run.objects.filter(workflow=workflow).count() == 1
    crm.update_contact(org, Actor.system("test"), contact, {"tags": []})  # no longer VIP before a worker came
    run_all()
    assert not Run.objects.filter(workflow=workflow).exists()
    assert not Task.objects.filter(tenant=org, contact=contact).exists()


def test_replay_after_a_crash_does_not_repeat_a_committed_step(org, studio_settings):
    workflow = make_workflow(org, VIP)
    make_contact(org, first_name="Grace", tags=["vip"])
    from octopushx.core import jobs

    jobs.drain()
    run = Run.objects.get(workflow=workflow)
    # A worker ran the first step and died: its row and its task committed together.
    claimed = engine._claim(org.pk)
    runner = engine._Runner(claimed, workflow, workflow.definition, engine.load_record(claimed), restricted=False)
    runner.step(workflow.definition["steps"][0])
    Run.objects.filter(pk=run.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
    engine.recover()
    run_all()
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert Task.objects.filter(tenant=org, title="Call Grace").count() == 1
    assert StepRun.objects.filter(run=run).count() == 2


def test_loop_is_stopped_at_depth_three(org, studio_settings):
    body = {
        "name": "Touch on update",
        "trigger": {"type": "event", "event": "contact.updated"},
        "steps": [{"type": "update_field", "field": "job_title", "value": "{{ contact.job_title }}!"}],
    }
    workflow = make_workflow(org, body)
    contact = make_contact(org)
    crm.update_contact(org, Actor.system("test"), contact, {"job_title": "CTO"})
    run_all()
    statuses = sorted(Run.objects.filter(workflow=workflow).values_list("depth", "status"))
    assert statuses == [(0, "succeeded"), (1, "succeeded"), (2, "succeeded"), (3, "loop_prevented")]
    contact.refresh_from_db()
    assert contact.job_title == "CTO!!!"


def test_restricted_contact_is_never_acted_on(org, studio_settings):
    workflow = make_workflow(org, VIP)
    contact = make_contact(org, first_name="Rita", tags=["vip"])
    Contact.objects.filter(pk=contact.pk).update(restricted=True)
    run_all()
    run = Run.objects.get(workflow=workflow)
    assert run.status == RunStatus.SKIPPED
    assert [(s.status, s.error) for s in run.steps.all()] == [("skipped", "restricted"), ("skipped", "restricted")]
    assert not Task.objects.filter(tenant=org, title="Call Rita").exists()


def test_once_per_record_enrols_a_record_once(org, studio_settings):
    body = {**VIP, "reenrol": "once", "trigger": {"type": "event", "event": "contact.updated"},
            "steps": [{"type": "create_note", "body": "Seen"}]}  # fmt: skip
    workflow = make_workflow(org, body)
    contact = make_contact(org)
    crm.update_contact(org, Actor.system("test"), contact, {"job_title": "A"})
    crm.update_contact(org, Actor.system("test"), contact, {"job_title": "B"})
    run_all()
    assert services.runs_for(org, workflow).count() == 1


def test_branch_takes_one_side(org, studio_settings):
    body = {
        "name": "Branch",
        "trigger": {"type": "event", "event": "contact.created"},
        "steps": [
            {"id": "b", "type": "branch", "conditions": {"any": [{"field": "contact.job_title", "op": "eq", "value": "cto"}]},
             "then": [{"id": "t", "type": "create_note", "body": "Exec {{ contact.first_name }}"}],
             "else": [{"id": "e", "type": "create_note", "body": "Other"}]},
        ],
    }  # fmt: skip
    make_workflow(org, body)
    make_contact(org, first_name="Kim", job_title="CTO")
    run_all()
    run = Run.objects.get()
    assert [s.step_id for s in run.steps.order_by("position")] == ["b", "t"]
    assert run.steps.get(step_id="b").output == {"branch": "then", "result": True}


def test_delay_waits_without_a_thread_and_resumes(org, studio_settings):
    body = {"name": "Later", "trigger": {"type": "event", "event": "contact.created"},
            "steps": [{"id": "w", "type": "delay", "minutes": 30}, {"id": "n", "type": "create_note", "body": "Later"}]}  # fmt: skip
    make_workflow(org, body)
    make_contact(org)
    run_all()
    run = Run.objects.get()
    assert run.status == RunStatus.WAITING
    assert run.run_after > timezone.now() + timedelta(minutes=29)
    Run.objects.filter(pk=run.pk).update(run_after=timezone.now())
    StepRun.objects.filter(run=run, step_id="w").update(wake_at=timezone.now())
    run_all()
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED
    assert run.steps.get(step_id="n").status == "succeeded"


def test_template_error_fails_the_step_with_its_message(org, studio_settings):
    body = {"name": "Bad", "trigger": {"type": "event", "event": "contact.created"},
            "steps": [{"id": "n", "type": "create_note", "body": "{{ contact.custom.missing }}"}]}  # fmt: skip
    make_workflow(org, body)
    make_contact(org)
    run_all()
    run = Run.objects.get()
    assert run.status == RunStatus.FAILED
    step = run.steps.get()
    assert step.status == "failed" and "Unknown variable: missing" in step.error
    assert "Step n" in run.error


def test_retry_modes_create_linked_runs(org, studio_settings):
    body = {"name": "Two", "trigger": {"type": "event", "event": "contact.created"},
            "steps": [{"id": "a", "type": "create_note", "body": "First"},
                      {"id": "b", "type": "create_note", "body": "{{ contact.custom.later }}"}]}  # fmt: skip
    workflow = make_workflow(org, body)
    contact = make_contact(org)
    run_all()
    failed = Run.objects.get()
    assert failed.status == RunStatus.FAILED
    Contact.objects.filter(pk=contact.pk).update(custom={"later": "Now set"})
    actor = Actor.system("test")
    again = services.retry_run(org, actor, failed, "failed_step")
    run_all()
    again.refresh_from_db()
    assert again.status == RunStatus.SUCCEEDED and again.retry_of_id == failed.pk
    assert again.steps.get(step_id="a").copied is True
    from octopushx.crm.models import Note

    assert Note.objects.filter(tenant=org, body__contains="First").count() == 1  # the first step not redone
    services.update_workflow(org, actor, workflow, {"steps": [{"id": "a", "type": "create_note", "body": "V2"}]})
    latest = services.retry_run(org, actor, failed, "latest")
    start = services.retry_run(org, actor, failed, "start")
    run_all()
    latest.refresh_from_db(), start.refresh_from_db()
    assert (latest.version, latest.status) == (2, "succeeded")
    assert (start.version, start.status) == (1, "succeeded")
    assert Note.objects.filter(tenant=org, body__contains="First").count() == 2


def test_email_to_contact_respects_withdrawn_consent(org, studio_settings):
    body = {"name": "Mail", "trigger": {"type": "event", "event": "contact.created"},
            "steps": [{"id": "m", "type": "send_email", "to": "contact", "subject": "Hi", "body": "<p>Hello</p>"}]}  # fmt: skip
    make_workflow(org, body)
    make_contact(org, email="ok@example.com")
    make_contact(org, email="no@example.com", consent="withdrawn")
    run_all()
    assert [m.to for m in mail.outbox] == [["ok@example.com"]]
    skipped = StepRun.objects.get(status="skipped")
    assert "withdrawn consent" in skipped.error
    sent = mail.outbox[0]
    assert sent.extra_headers["Message-ID"].startswith("<") and ":m@" in sent.extra_headers["Message-ID"]


def test_runs_finish_on_the_version_they_started_with(org, studio_settings):
    body = {"name": "V", "trigger": {"type": "event", "event": "contact.created"},
            "steps": [{"id": "w", "type": "delay", "minutes": 5}, {"id": "n", "type": "create_note", "body": "v1"}]}  # fmt: skip
    workflow = make_workflow(org, body)
    make_contact(org)
    run_all()
    services.update_workflow(org, Actor.system("test"), workflow,
                             {"steps": [{"id": "n", "type": "create_note", "body": "v2"}]})  # fmt: skip
    run = Run.objects.get()
    Run.objects.filter(pk=run.pk).update(run_after=timezone.now())
    StepRun.objects.filter(run=run).update(wake_at=timezone.now())
    run_all()
    from octopushx.crm.models import Note

    assert list(Note.objects.filter(tenant=org).values_list("body", flat=True)) == ["v1"]


def test_a_run_whose_worker_keeps_dying_fails_visibly(org, studio_settings):
    workflow = make_workflow(org, VIP)
    contact = make_contact(org, tags=["vip"])
    Run.objects.all().delete()  # the run the contact started; this test makes its own
    run = Run.objects.create(tenant=org, workflow=workflow, version=1, dedupe_key="poison", record_type="contact",
                             record_id=str(contact.pk), admitted=True)  # fmt: skip
    for _ in range(engine.MAX_CLAIMS):
        assert engine._claim(org.pk).pk == run.pk
        Run.objects.filter(pk=run.pk).update(lease_until=timezone.now() - timedelta(seconds=1))
        engine.recover()
    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and "stopped 10 times" in run.error


def test_a_missing_team_manager_falls_back_to_the_owner(org, studio_settings):
    from tests.conftest import make_member

    owner = make_member(org, "agent")
    body = {"name": "M", "trigger": {"type": "event", "event": "contact.created"},
            "steps": [{"id": "t", "type": "create_task", "title": "Look", "assignee": "manager"}]}  # fmt: skip
    make_workflow(org, body)
    make_contact(org, owner=owner)
    run_all()
    step = StepRun.objects.get()
    assert step.output["assignee"] == owner.user.email and "assigned to the record's owner" in step.output["note"]
    assert Task.objects.get().assignee_id == owner.user.pk


def test_a_step_that_fails_and_is_retried_keeps_its_admission_and_branch(org, studio_settings, monkeypatch):
    """The admission and the branch's row ride on the first step's transaction: when that step
    fails and its transaction is undone, they are written anyway (the run is in the history, is
    not filtered out on its retry as "already enrolled", and follows the same side)."""
    body = {
        "name": "Once, branching",
        "reenrol": "once",
        "trigger": {"type": "event", "event": "contact.created"},
        "steps": [
            {"id": "b", "type": "branch", "conditions": [{"field": "contact.first_name", "op": "eq", "value": "Ada"}],
             "then": [{"id": "t", "type": "create_note", "body": "Hello {{ contact.first_name }}"}], "else": []},
        ],
    }  # fmt: skip
    workflow = make_workflow(org, body)
    from octopushx.core import automation

    note = automation.ACTIONS["create_note"]
    calls = {"n": 0}

    def flaky(ctx):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("database went away")
        return note.run(ctx)

    monkeypatch.setitem(automation.ACTIONS, "create_note", dataclasses.replace(note, run=flaky))
    make_contact(org, first_name="Ada")
    from octopushx.core import jobs

    jobs.drain()
    engine.drain(max_seconds=30)  # the first attempt fails; the retry is due at once (no back-off here)
    run = Run.objects.get(workflow=workflow)
    assert run.admitted
    assert services.runs_for(org, workflow).count() == 1
    run_all()
    run.refresh_from_db()
    assert run.status == RunStatus.SUCCEEDED, run.error
    assert calls["n"] == 2
    assert [(s.step_id, s.status, s.attempts) for s in run.steps.order_by("position")] == [
        ("b", "succeeded", 1),
        ("t", "succeeded", 2),
    ]
    assert run.step_count == 2
