"""Pipelines with their stages, and deals moving through them (``deal.stage_changed``)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from octopushx.core import audit, events
from octopushx.core.context import Actor
from octopushx.crm import fields as rules
from octopushx.crm.models import (
    Company,
    Contact,
    Deal,
    DealStageChange,
    ObjectType,
    Pipeline,
    Stage,
    StageKind,
)
from octopushx.crm.services._shared import (
    CURRENCY,
    DEFAULT_STAGES,
    MAX_VALUE,
    _custom,
    _id,
    _iso,
    _owner,
    _raise,
    _ref,
    _tags,
    _text,
)
from octopushx.crm.visibility import crm_settings

# --- pipelines and stages ----------------------------------------------------------


def pipeline_snapshot(pipeline: Pipeline) -> dict:
    return {
        "name": pipeline.name,
        "position": pipeline.position,
        "is_default": pipeline.is_default,
        "stages": [[s.name, s.probability, s.kind] for s in pipeline.stages.all()] if pipeline.pk else [],
    }


def _clean_stages(stages, errors: dict) -> list[dict] | None:
    if stages is None:
        return None
    if not isinstance(stages, (list, tuple)) or not stages:
        errors["stages"] = ["A pipeline needs at least one stage"]
        return None
    cleaned = []
    for index, raw in enumerate(stages):
        raw = raw.model_dump() if hasattr(raw, "model_dump") else dict(raw)
        name = str(raw.get("name") or "").strip()
        if not name:
            errors[f"stages.{index}.name"] = ["A stage name is required"]
        kind = str(raw.get("kind") or StageKind.OPEN)
        if kind not in StageKind.values:
            errors[f"stages.{index}.kind"] = ["One of open, won, lost"]
        try:
            probability = int(raw.get("probability") if raw.get("probability") is not None else 0)
            if not 0 <= probability <= 100:
                raise ValueError
        except (TypeError, ValueError):
            errors[f"stages.{index}.probability"] = ["A whole number from 0 to 100"]
            probability = 0
        cleaned.append({"id": raw.get("id"), "name": name[:120], "kind": kind, "probability": probability})
    return cleaned


def create_pipeline(tenant, actor: Actor, data: dict) -> Pipeline:
    """A pipeline with its stages (default: New → … → Won / Lost)."""
    errors: dict = {}
    name = _text(data, "name", errors, 120)
    if not name:
        errors["name"] = ["A pipeline name is required"]
    stages = (
        _clean_stages(data.get("stages"), errors)
        if data.get("stages") is not None
        else [{"name": n, "probability": p, "kind": k} for n, p, k in DEFAULT_STAGES]
    )
    _raise(errors)
    with transaction.atomic():
        first = not Pipeline.objects.for_tenant(tenant).exists()
        pipeline = Pipeline.objects.create(
            tenant=tenant,
            name=name,
            position=Pipeline.objects.for_tenant(tenant).count(),
            is_default=first or bool(data.get("is_default")),
        )
        if pipeline.is_default and not first:
            Pipeline.objects.for_tenant(tenant).exclude(pk=pipeline.pk).update(is_default=False)
        for position, stage in enumerate(stages):
            Stage.objects.create(
                tenant=tenant,
                pipeline=pipeline,
                name=stage["name"],
                position=position,
                probability=stage["probability"],
                kind=stage["kind"],
            )
        audit.record(
            tenant, actor, "pipeline.created", obj=pipeline, changes=audit.diff({}, pipeline_snapshot(pipeline))
        )
        events.emit(tenant, "pipeline.created", {"pipeline_id": str(pipeline.pk)})
    return pipeline


def update_pipeline(tenant, actor: Actor, pipeline: Pipeline, data: dict) -> Pipeline:
    """Rename, reorder or replace stages. Stages with deals cannot be removed."""
    errors: dict = {}
    old = pipeline_snapshot(pipeline)
    if "name" in data:
        pipeline.name = _text(data, "name", errors, 120)
        if not pipeline.name:
            errors["name"] = ["A pipeline name is required"]
    stages = _clean_stages(data.get("stages"), errors) if "stages" in data else None
    if stages is not None:
        existing = {str(s.pk): s for s in pipeline.stages.all()}
        kept = {str(s["id"]) for s in stages if s.get("id")}
        unknown = kept - set(existing)
        if unknown:
            errors["stages"] = ["A stage id does not belong to this pipeline"]
        removed = [s for key, s in existing.items() if key not in kept]
        if any(s.deals.exists() for s in removed):
            errors["stages"] = ["Move the deals out of a stage before removing it"]
    _raise(errors)
    with transaction.atomic():
        if data.get("is_default"):
            Pipeline.objects.for_tenant(tenant).exclude(pk=pipeline.pk).update(is_default=False)
            pipeline.is_default = True
        pipeline.save()
        if stages is not None:
            for stage in removed:
                stage.delete()
            for position, raw in enumerate(stages):
                stage = existing.get(str(raw.get("id"))) if raw.get("id") else None
                stage = stage or Stage(tenant=tenant, pipeline=pipeline)
                stage.name, stage.probability, stage.kind, stage.position = (
                    raw["name"],
                    raw["probability"],
                    raw["kind"],
                    position,
                )
                stage.save()
        changes = audit.diff(old, pipeline_snapshot(pipeline))
        if changes:
            audit.record(tenant, actor, "pipeline.updated", obj=pipeline, changes=changes)
            events.emit(tenant, "pipeline.updated", {"pipeline_id": str(pipeline.pk)})
    return pipeline


def delete_pipeline(tenant, actor: Actor, pipeline: Pipeline) -> None:
    if pipeline.deals.exists():
        raise ValidationError({"pipeline": ["Delete or move the pipeline's deals first"]})
    with transaction.atomic():
        audit.record(
            tenant, actor, "pipeline.deleted", obj=pipeline, changes=audit.diff(pipeline_snapshot(pipeline), {})
        )
        events.emit(tenant, "pipeline.deleted", {"pipeline_id": str(pipeline.pk)})
        pipeline.delete()


def default_pipeline(tenant) -> Pipeline:
    """The tenant's default pipeline, created with the standard stages on first use."""
    pipeline = Pipeline.objects.for_tenant(tenant).order_by("-is_default", "position").first()
    if pipeline is None:
        pipeline = create_pipeline(tenant, Actor.system("crm"), {"name": "Sales"})
    return pipeline


# --- deals -------------------------------------------------------------------------


def deal_snapshot(deal: Deal) -> dict:
    return {
        "name": deal.name,
        "value": str(deal.value),
        "currency": deal.currency,
        "pipeline": _id(deal.pipeline_id),
        "stage": _id(deal.stage_id),
        "status": deal.status,
        "expected_close": _iso(deal.expected_close),
        "close_reason": deal.close_reason,
        "owner": _id(deal.owner_id),
        "company": _id(deal.company_id),
        "contacts": sorted(str(c) for c in deal.contacts.values_list("pk", flat=True)) if deal.pk else [],
        "tags": sorted(t.name for t in deal.tags.all()) if deal.pk else [],
        "custom_fields": dict(deal.custom),
    }


def _clean_deal(tenant, actor: Actor, data: dict, deal: Deal | None) -> dict:
    errors: dict = {}
    values: dict = {}
    partial = deal is not None
    if not partial or "name" in data:
        values["name"] = _text(data, "name", errors, 200)
        if not values["name"]:
            errors["name"] = ["A deal name is required"]
    if "value" in data or not partial:
        raw = data.get("value")
        try:
            value = Decimal(rules.clean_number(raw)) if raw not in (None, "") else Decimal(0)
            if abs(value) > MAX_VALUE:
                errors["value"] = ["That value is too large"]
            values["value"] = value.quantize(Decimal("0.01"))
        except (ValueError, ArithmeticError):
            errors["value"] = [f"{raw!r} is not a number"]
    if "currency" in data or not partial:
        currency = str(data.get("currency") or crm_settings(tenant).default_currency).upper().strip()
        if not CURRENCY.match(currency):
            errors["currency"] = ["A three-letter currency code such as GBP"]
        values["currency"] = currency
    pipeline = deal.pipeline if deal else None
    if "pipeline_id" in data and data["pipeline_id"]:
        pipeline = _ref(Pipeline, tenant, None, data["pipeline_id"], "pipeline_id", errors)
    elif pipeline is None and not data.get("stage_id"):
        pipeline = default_pipeline(tenant)
    stage = None
    if data.get("stage_id"):
        stage = _ref(Stage, tenant, None, data["stage_id"], "stage_id", errors)
        if stage is not None and pipeline is None:
            pipeline = stage.pipeline
        if stage is not None and pipeline is not None and stage.pipeline_id != pipeline.pk:
            errors["stage_id"] = ["That stage belongs to another pipeline"]
    elif pipeline is not None and (deal is None or deal.pipeline_id != pipeline.pk):
        stage = pipeline.stages.order_by("position").first()
        if stage is None:
            errors["pipeline_id"] = ["That pipeline has no stages"]
    if pipeline is not None:
        values["pipeline"] = pipeline
    if stage is not None:
        values["stage"] = stage
    if "expected_close" in data:
        raw = data["expected_close"]
        if raw in (None, ""):
            values["expected_close"] = None
        else:
            try:
                values["expected_close"] = date.fromisoformat(rules.clean_date(raw))
            except ValueError as exc:
                errors["expected_close"] = [str(exc)]
    if "close_reason" in data:
        values["close_reason"] = _text(data, "close_reason", errors, 300)
    if "owner_id" in data:
        values["owner"] = _owner(tenant, data["owner_id"], errors)
    elif not partial and actor.user is not None:
        values["owner"] = actor.user
    if "company_id" in data:
        values["company"] = _ref(Company, tenant, actor, data["company_id"], "company_id", errors)
    contacts = None
    if "contact_ids" in data and data["contact_ids"] is not None:
        contacts = []
        for index, pk in enumerate(data["contact_ids"]):
            row = _ref(Contact, tenant, actor, pk, f"contact_ids.{index}", errors)
            if row is not None:
                contacts.append(row)
    custom = _custom(tenant, ObjectType.DEAL, data, errors, deal.custom if deal else None, partial)
    if custom is not None:
        values["custom"] = custom
    tags = _tags(tenant, data.get("tags"), errors) if "tags" in data else None
    _raise(errors)
    return {"values": values, "contacts": contacts, "tags": tags}


def _apply_stage(deal: Deal, stage: Stage) -> None:
    deal.status = stage.kind
    if stage.kind == StageKind.OPEN:
        deal.closed_at = None
    elif deal.closed_at is None:
        deal.closed_at = timezone.now()


def _stage_events(tenant, actor: Actor, deal: Deal, old_stage: Stage | None) -> None:
    if old_stage is not None and old_stage.pk == deal.stage_id:
        return
    entered = DealStageChange.objects.filter(tenant=tenant, deal=deal).order_by("-changed_at").values("changed_at")[:1]
    DealStageChange.objects.create(
        tenant=tenant,
        deal=deal,
        pipeline_id=deal.pipeline_id,
        from_entered_at=entered[0]["changed_at"] if old_stage is not None and entered else None,
        from_stage=old_stage,
        to_stage=deal.stage,
        from_stage_name=old_stage.name if old_stage else "",
        to_stage_name=deal.stage.name,
        to_kind=deal.stage.kind,
        changed_at=timezone.now(),
        actor=getattr(actor, "user", None),
    )
    payload = {
        "deal_id": str(deal.pk),
        "pipeline_id": str(deal.pipeline_id),
        "from_stage_id": _id(old_stage.pk if old_stage else None),
        "to_stage_id": str(deal.stage_id),
    }
    if old_stage is not None:
        audit.record(
            tenant,
            actor,
            "deal.stage_changed",
            obj=deal,
            changes={"stage": [old_stage.name, deal.stage.name], "status": [old_stage.kind, deal.status]},
        )
        events.emit(tenant, "deal.stage_changed", payload)
    if deal.status in (StageKind.WON, StageKind.LOST) and (old_stage is None or old_stage.kind != deal.status):
        events.emit(tenant, f"deal.{deal.status}", {"deal_id": str(deal.pk)})


def create_deal(tenant, actor: Actor, data: dict) -> Deal:
    """Create a deal in a pipeline stage (the default pipeline's first stage if none given)."""
    cleaned = _clean_deal(tenant, actor, data, None)
    with transaction.atomic():
        deal = Deal(tenant=tenant, **cleaned["values"])
        _apply_stage(deal, deal.stage)
        deal.save()
        if cleaned["contacts"]:
            deal.contacts.set(cleaned["contacts"])
        if cleaned["tags"]:
            deal.tags.set(cleaned["tags"])
        audit.record(tenant, actor, "deal.created", obj=deal, changes=audit.diff({}, deal_snapshot(deal)))
        events.emit(tenant, "deal.created", {"deal_id": str(deal.pk)})
        _stage_events(tenant, actor, deal, None)
    return deal


def update_deal(tenant, actor: Actor, deal: Deal, data: dict) -> Deal:
    """Partial update; moving the stage emits ``deal.stage_changed`` (and ``deal.won``/``deal.lost``)."""
    cleaned = _clean_deal(tenant, actor, data, deal)
    old = deal_snapshot(deal)
    old_stage = deal.stage
    with transaction.atomic():
        for name, value in cleaned["values"].items():
            setattr(deal, name, value)
        _apply_stage(deal, deal.stage)
        deal.save()
        if cleaned["contacts"] is not None:
            deal.contacts.set(cleaned["contacts"])
        if cleaned["tags"] is not None:
            deal.tags.set(cleaned["tags"])
        changes = audit.diff(old, deal_snapshot(deal))
        changes.pop("stage", None) if old_stage.pk != deal.stage_id else None
        if changes:
            audit.record(tenant, actor, "deal.updated", obj=deal, changes=changes)
            events.emit(tenant, "deal.updated", {"deal_id": str(deal.pk), "fields": sorted(changes)})
        _stage_events(tenant, actor, deal, old_stage)
    return deal


def move_deal(tenant, actor: Actor, deal: Deal, stage_id) -> Deal:
    """The pipeline board's drag and drop."""
    return update_deal(tenant, actor, deal, {"stage_id": stage_id})


def delete_deal(tenant, actor: Actor, deal: Deal) -> None:
    with transaction.atomic():
        audit.record(tenant, actor, "deal.deleted", obj=deal, changes=audit.diff(deal_snapshot(deal), {}))
        events.emit(tenant, "deal.deleted", {"deal_id": str(deal.pk)})
        deal.delete()
