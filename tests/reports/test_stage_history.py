"""The deal stage history: one append-only row on create and on every stage move; the audit backfill."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps as django_apps

from octopushx.core.context import Actor
from octopushx.crm import services
from octopushx.crm.models import Deal, DealStageChange, Stage
from octopushx.tenancy.roles import Role
from tests.conftest import make_member
from tests.crm.conftest import make_deal


@pytest.mark.django_db
def test_create_and_moves_append_rows(org):
    admin = make_member(org, Role.ADMIN)
    deal = make_deal(org, owner=admin)
    stages = list(Stage.objects.for_tenant(org).filter(pipeline=deal.pipeline).order_by("position"))
    actor = Actor(user=admin.user, role=admin.role)
    services.update_deal(org, actor, deal, {"stage_id": str(stages[1].pk)})
    services.update_deal(org, actor, deal, {"name": "Renamed only"})  # no stage move: no row
    services.move_deal(org, actor, deal, str(stages[2].pk))
    rows = list(DealStageChange.objects.for_tenant(org).filter(deal=deal).order_by("changed_at", "created_at"))
    assert [(r.from_stage_id, r.to_stage_id) for r in rows] == [
        (None, stages[0].pk),
        (stages[0].pk, stages[1].pk),
        (stages[1].pk, stages[2].pk),
    ]
    assert [r.to_stage_name for r in rows] == [s.name for s in stages[:3]]
    # each move says when the deal had entered the stage it left (time in stage without the history)
    assert [r.from_entered_at for r in rows] == [None, rows[0].changed_at, rows[1].changed_at]
    assert rows[1].actor_id == admin.user_id
    with pytest.raises(ValueError, match="append-only"):
        rows[0].save()


@pytest.mark.django_db
def test_backfill_from_the_audit_trail(org):
    admin = make_member(org, Role.ADMIN)
    deal = make_deal(org, owner=admin)
    stages = list(Stage.objects.for_tenant(org).filter(pipeline=deal.pipeline).order_by("position"))
    actor = Actor(user=admin.user, role=admin.role)
    services.move_deal(org, actor, deal, str(stages[1].pk))
    services.move_deal(org, actor, deal, str(stages[3].pk))
    untouched = make_deal(org, owner=admin, name="Never moved")
    DealStageChange.objects.all().delete()  # as before the history existed

    migration = importlib.import_module("octopushx.crm.migrations.0016_backfill_deal_stage_changes")
    migration.backfill(django_apps, None)

    rows = list(DealStageChange.objects.filter(deal=deal).order_by("changed_at", "created_at"))
    assert [(r.from_stage_name, r.to_stage_name) for r in rows] == [
        ("", stages[0].name),
        (stages[0].name, stages[1].name),
        (stages[1].name, stages[3].name),
    ]
    assert [r.to_stage_id for r in rows] == [stages[0].pk, stages[1].pk, stages[3].pk]
    assert all(r.backfilled for r in rows)
    assert rows[0].changed_at == Deal.objects.get(pk=deal.pk).created_at
    assert rows[2].actor_id == admin.user_id
    only = DealStageChange.objects.get(deal=untouched)
    assert only.to_stage_id == untouched.stage_id
    # run again: deals with history are left alone
    migration.backfill(django_apps, None)
    assert DealStageChange.objects.filter(deal=deal).count() == 3


@pytest.mark.django_db
def test_migration_fills_when_each_move_entered_the_stage_it_left(org):
    from django.db import connection

    admin = make_member(org, Role.ADMIN)
    deal = make_deal(org, owner=admin)
    stages = list(Stage.objects.for_tenant(org).filter(pipeline=deal.pipeline).order_by("position"))
    actor = Actor(user=admin.user, role=admin.role)
    services.move_deal(org, actor, deal, str(stages[1].pk))
    services.move_deal(org, actor, deal, str(stages[2].pk))
    DealStageChange.objects.update(from_entered_at=None)  # as rows written before the column

    migration = importlib.import_module("octopushx.crm.migrations.0019_stage_change_from_entered_at")
    with connection.cursor() as cursor:
        cursor.execute(migration.BACKFILL)

    rows = list(DealStageChange.objects.filter(deal=deal).order_by("changed_at", "created_at"))
    assert [r.from_entered_at for r in rows] == [None, rows[0].changed_at, rows[1].changed_at]
