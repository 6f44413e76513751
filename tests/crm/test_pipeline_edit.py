"""Editing a pipeline on its page: rename, reorder, add and remove stages; deals stay put."""

from django.urls import reverse

from octopushx.core.models import AuditEntry
from octopushx.crm.models import Deal, Pipeline
from octopushx.crm.services import default_pipeline

from .conftest import make_deal


def form_of(pipeline, **changes) -> dict:
    """The edit form as the page sends it, with ``changes`` applied to the named rows."""
    data = {"name": pipeline.name, "row": []}
    for index, stage in enumerate(pipeline.stages.all()):
        key = str(stage.pk)
        data["row"].append(key)
        data.update({f"{key}-id": key, f"{key}-name": stage.name, f"{key}-probability": stage.probability,
                     f"{key}-kind": stage.kind, f"{key}-position": index + 1})  # fmt: skip
    for name, value in changes.items():
        data[name] = value
    return data


def test_the_page_lists_every_stage_with_its_deals_and_empty_rows_to_add(web_as, org):
    pipeline = default_pipeline(org)
    make_deal(org)
    page = web_as("admin").get(reverse("crm:pipeline_edit", args=[pipeline.pk])).content.decode()
    places = [page.index(f'value="{stage.name}"') for stage in pipeline.stages.order_by("position")]
    assert places == sorted(places)  # in the pipeline's order
    assert page.count('name="row"') == pipeline.stages.count() + 2


def test_rename_reorder_and_add_keep_deals_on_their_stage(web_as, org):
    pipeline = default_pipeline(org)
    deal = make_deal(org)
    first, second = list(pipeline.stages.all()[:2])
    data = form_of(pipeline, name="Direct sales", **{f"{first.pk}-name": "Inbound", f"{first.pk}-position": 2,
                   f"{second.pk}-position": 1})  # fmt: skip
    data["row"].append("new0")
    data.update({"new0-name": "Verbal yes", "new0-probability": "90", "new0-kind": "open", "new0-position": "4.5"})
    response = web_as("admin").post(reverse("crm:pipeline_edit", args=[pipeline.pk]), data)
    assert response.status_code == 302
    pipeline.refresh_from_db()
    names = [s.name for s in pipeline.stages.order_by("position")]
    assert pipeline.name == "Direct sales"
    assert names[:2] == [second.name, "Inbound"] and names[4] == "Verbal yes"
    assert Deal.objects.get(pk=deal.pk).stage_id == first.pk  # renamed, not replaced
    assert AuditEntry.objects.filter(tenant=org, action="pipeline.updated").exists()


def test_a_stage_with_deals_cannot_be_removed_and_nothing_changes(web_as, org):
    pipeline = default_pipeline(org)
    deal = make_deal(org)
    before = [(s.pk, s.name) for s in pipeline.stages.all()]
    data = form_of(pipeline, name="Renamed", **{f"{deal.stage_id}-remove": "on"})
    response = web_as("admin").post(reverse("crm:pipeline_edit", args=[pipeline.pk]), data)
    assert response.status_code == 422 and "Move the deals out of a stage" in response.content.decode()
    pipeline.refresh_from_db()
    assert pipeline.name != "Renamed" and [(s.pk, s.name) for s in pipeline.stages.all()] == before


def test_a_bad_probability_is_marked_on_its_row(web_as, org):
    pipeline = default_pipeline(org)
    stage = pipeline.stages.first()
    response = web_as("admin").post(
        reverse("crm:pipeline_edit", args=[pipeline.pk]), form_of(pipeline, **{f"{stage.pk}-probability": "150"})
    )
    page = response.content.decode()
    assert response.status_code == 422 and "A whole number from 0 to 100" in page
    assert 'value="150"' in page  # what was typed is kept
    stage.refresh_from_db()
    assert stage.probability != 150


def test_only_admins_edit_pipelines(web_as, org):
    pipeline = default_pipeline(org)
    assert web_as("manager").get(reverse("crm:pipeline_edit", args=[pipeline.pk])).status_code == 403


def test_another_tenants_pipeline_is_not_found(web_as, org, other_org):
    theirs = default_pipeline(other_org)
    response = web_as("admin").post(reverse("crm:pipeline_edit", args=[theirs.pk]), form_of(theirs, name="Mine"))
    assert response.status_code == 404
    assert Pipeline.objects.get(pk=theirs.pk).name != "Mine"
