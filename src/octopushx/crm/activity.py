"""A deal's last activity and the moment it entered its stage, kept on the deal row for reports.

``Deal.last_activity_at`` is the latest of the deal's own edits (``updated_at``), its notes' creation,
its tasks' last change and its stage moves: exactly what "no activity for 14 days" asks, read from
one indexed column instead of three look-ups per open deal. ``Deal.stage_entered_at`` is when the
deal entered the stage it is in (its latest move), so "days in the current stage" needs no history.

Both are kept in step by the receivers below on every saved or deleted note, task and stage move
(whatever wrote it: the CRM services, Studio, imports, privacy erasure, retention), and by
``Deal.save``. Bulk writers that skip signals (``bulk_create``, the demo and benchmark loaders) call
``refresh`` afterwards; so does the migration that added the columns.
"""

from __future__ import annotations

from django.db.models import DateTimeField, F, Max, OuterRef, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.db.models.signals import post_delete, post_save


def _latest(model, moment: str, otherwise: str = "updated_at"):
    """The latest ``moment`` of the deal's ``model`` rows (MAX along the deal index), else the deal's own."""
    rows = model._default_manager.filter(deal_id=OuterRef("pk")).order_by().values("deal_id")
    return Coalesce(Subquery(rows.annotate(at=Max(moment)).values("at")[:1]), F(otherwise))


def last_activity(Note=None, Task=None, DealStageChange=None):
    """The expression: the deal's latest edit, note, task change or stage move (models: migrations pass theirs)."""
    if Note is None:
        from octopushx.crm.models import DealStageChange, Note, Task

    return Greatest(
        F("updated_at"),
        _latest(Note, "created_at"),
        _latest(Task, "updated_at"),
        _latest(DealStageChange, "changed_at"),
        output_field=DateTimeField(),
    )


def stage_entered(DealStageChange=None):
    """The expression: the deal's latest move (into the stage it is in), else its creation."""
    if DealStageChange is None:
        from octopushx.crm.models import DealStageChange

    return _latest(DealStageChange, "changed_at", "created_at")


def refresh(deals) -> int:
    """Work both columns out again for the deals of a queryset (exact: a deleted note counts no more)."""
    return deals.update(last_activity_at=last_activity(), stage_entered_at=stage_entered())


def _refresh_deal(deal_id) -> None:
    from octopushx.crm.models import Deal

    if deal_id is not None:
        refresh(Deal.objects.filter(pk=deal_id))


def _related_changed(sender, instance, origin=None, **kwargs) -> None:
    """A note or task saved or deleted: its deal, and the deal it left if it moved.

    Not when it goes with its parent (a deleted deal, contact or organisation): nothing is left to show.
    """
    if origin is not None and not isinstance(origin, sender) and hasattr(origin, "_meta"):
        return
    _refresh_deal(instance.deal_id)
    loaded = getattr(instance, "_loaded_deal_id", None)
    if loaded != instance.deal_id:
        _refresh_deal(loaded)
    instance._loaded_deal_id = instance.deal_id


def _stage_moved(sender, instance, created: bool, **kwargs) -> None:
    from octopushx.crm.models import Deal

    if created:
        Deal.objects.filter(pk=instance.deal_id).update(
            stage_entered_at=instance.changed_at,
            last_activity_at=Greatest(Coalesce(F("last_activity_at"), F("updated_at")), instance.changed_at),
        )


def connect() -> None:
    from octopushx.crm.models import DealStageChange, Note, Task

    for model in (Note, Task):
        post_save.connect(_related_changed, sender=model, dispatch_uid=f"crm_activity_{model.__name__}_save")
        post_delete.connect(_related_changed, sender=model, dispatch_uid=f"crm_activity_{model.__name__}_delete")
    post_save.connect(_stage_moved, sender=DealStageChange, dispatch_uid="crm_activity_stage_move")
