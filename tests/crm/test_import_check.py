"""Issue 10 §1: the mapping page checks the whole file and maps choice values before the import starts."""

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from octopushx.core import jobs
from octopushx.crm import imports
from octopushx.crm.models import Contact, CustomField, Import

ROWS = "".join(f"P{i},p{i}@example.com,lead,GB\n" for i in range(40))
CSV = ("First name,Email,Lifecycle Stage,Country\n" + ROWS + "Late,late@example.com,marketingqualifiedlead,Narnia\n"
       "Later,later@example.com,Partner,Mordor\n,,,\nNobody,,,\n").encode()  # fmt: skip


def _upload(client, data=CSV, name="people.csv"):
    client.post(reverse("crm:imports"), {"file": SimpleUploadedFile(name, data)})
    return Import.objects.get()


def _checked(client, data=CSV):
    record = _upload(client, data)
    jobs.drain()
    record.refresh_from_db()
    return record


def test_the_check_reads_every_row_and_summarises_problems_per_column(web_as, org):
    client = web_as("admin")
    record = _upload(client)
    jobs.drain()
    record.refresh_from_db()
    assert record.total == 43 and record.status == "pending"
    page = client.get(reverse("crm:import", args=[record.pk])).content.decode()
    # Rows 42 and 43 are far beyond the 10-row preview; the check still finds their countries.
    assert "2 of 42 values invalid" in page and "Narnia" in page and "Mordor" in page
    assert "<strong>0</strong> will be rejected" in page and "<strong>2</strong> will be imported without" in page
    country = next(c for c in record.file_check["columns"] if c["header"] == "Country")
    assert country["invalid"] == 2 and [e[0] for e in country["reasons"][0]["examples"]] == [42, 43]


def test_value_table_lists_distinct_values_with_counts_and_known_ones_premapped(web_as, org):
    client = web_as("admin")
    record = _checked(client)
    page = client.get(reverse("crm:import", args=[record.pk])).content.decode()
    assert "Values of “Lifecycle Stage”" in page
    table = next(t for t in imports.value_tables(record) if t["header"] == "Lifecycle Stage")
    entries = {e["value"]: e for e in table["values"]}
    assert entries["lead"]["count"] == 40 and entries["lead"]["option"] == "lead"
    assert entries["marketingqualifiedlead"]["option"] == "mql" and entries["marketingqualifiedlead"]["known"]
    assert entries["Partner"]["unknown"] and entries["Partner"]["option"] == ""


def test_mapping_an_unknown_value_by_hand_then_importing(web_as, org):
    client = web_as("admin")
    record = _checked(client)
    index = record.headers.index("Lifecycle Stage")
    table = next(t for t in imports.value_tables(record) if t["index"] == index)
    post = {f"map-{i}": t for i, t in enumerate(["first_name", "email", "lifecycle_stage", "country"])}
    post.update(match_on="email", on_match="update", action="start")
    for entry in table["values"]:
        post[f"value-{index}-{entry['index']}-raw"] = entry["value"]
        post[f"value-{index}-{entry['index']}"] = "other" if entry["value"] == "Partner" else entry["option"]
    response = client.post(reverse("crm:import", args=[record.pk]), post)
    assert response.status_code == 302
    jobs.drain()
    record.refresh_from_db()
    assert (record.created, record.failed, record.with_problems) == (43, 0, 2)
    assert Contact.objects.for_tenant(org).get(first_name="Later").lifecycle_stage == "other"
    assert Contact.objects.for_tenant(org).get(first_name="Late").lifecycle_stage == "mql"


def test_an_admin_adds_an_unknown_value_as_a_new_option(web_as, org, api_as):
    api_as("admin").post(
        "/api/v1/custom-fields",
        {"object_type": "contact", "label": "Plan", "field_type": "select", "options": ["Free", "Gold"]},
    )
    client = web_as("owner")
    record = _upload(client, b"Email,Plan\na@example.com,gold\nb@example.com,Platinum\n")
    jobs.drain()
    post = {"map-0": "email", "map-1": "cf.plan", "action": "start", "match_on": "email", "on_match": "update"}
    post.update({"value-1-0-raw": "gold", "value-1-0": "Gold", "value-1-1-raw": "Platinum", "value-1-1": "__new__"})
    assert client.post(reverse("crm:import", args=[record.pk]), post).status_code == 302
    jobs.drain()
    assert CustomField.objects.for_tenant(org).get(key="plan").options == ["Free", "Gold", "Platinum"]
    plans = dict(Contact.objects.for_tenant(org).values_list("email", "custom"))
    assert plans == {"a@example.com": {"plan": "Gold"}, "b@example.com": {"plan": "Platinum"}}


def test_an_agent_cannot_add_options(web_as, org, api_as):
    api_as("admin").post(
        "/api/v1/custom-fields",
        {"object_type": "contact", "label": "Plan", "field_type": "select", "options": ["Free"]},
    )
    client = web_as("agent")
    record = _upload(client, b"Email,Plan\nb@example.com,Platinum\n")
    page = client.get(reverse("crm:import", args=[record.pk])).content.decode()
    assert "as a new option" not in page
    post = {"map-0": "email", "map-1": "cf.plan", "value-1-0-raw": "Platinum", "value-1-0": "__new__"}
    response = client.post(reverse("crm:import", args=[record.pk]), post)
    assert response.status_code == 422 and CustomField.objects.get().options == ["Free"]


def test_save_and_check_again_rechecks_with_the_new_mapping(web_as, org):
    client = web_as("admin")
    record = _upload(client)
    jobs.drain()
    post = {"map-0": "first_name", "map-1": "email", "map-2": "", "map-3": "", "action": "check"}
    assert client.post(reverse("crm:import", args=[record.pk]), post).status_code == 302
    record.refresh_from_db()
    assert record.status == "pending" and record.file_check.get("pending")
    jobs.drain()
    record.refresh_from_db()
    assert record.file_check["mapping"]["Country"] == "" and record.file_check["with_problems"] == 0
    fragment = client.get(reverse("crm:import", args=[record.pk]) + "?part=check", HTTP_HX_REQUEST="true")
    assert "<html" not in fragment.content.decode() and "Check of the whole file" in fragment.content.decode()
