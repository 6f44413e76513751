from octopushx.core.models import Job
from octopushx.crm.models import Note, Task

from .conftest import make_contact


def test_create_task_assigns_the_actor_and_relates_to_contact(api_as, org):
    agent = api_as("agent")
    contact = make_contact(org, owner=agent.membership)
    response = agent.post(
        "/api/v1/tasks", {"title": "Call back", "due_at": "2026-12-01T10:00:00Z", "contact_id": str(contact.pk)}
    )
    body = response.json()
    assert response.status_code == 201, body
    assert body["assignee_id"] == str(agent.membership.user.pk) and body["contact_id"] == str(contact.pk)


def test_complete_task_emits_task_completed(admin_api, org):
    from octopushx.core import events

    events.subscribe("task.*", name="crm-test-tasks")(lambda event: None)
    try:
        task = admin_api.post("/api/v1/tasks", {"title": "Send quote"}).json()
        response = admin_api.post(f"/api/v1/tasks/{task['id']}/complete")
        assert response.status_code == 200 and response.json()["status"] == "done"
        names = [j.payload["event"]["name"] for j in Job.objects.filter(payload__subscriber="crm-test-tasks")]
        assert names.count("task.completed") == 1
    finally:
        events.SUBSCRIBERS.pop("crm-test-tasks")


def test_task_bad_input(admin_api, org):
    response = admin_api.post("/api/v1/tasks", {"title": "", "due_at": "tomorrow-ish", "status": "sleeping"})
    errors = response.json()["errors"]
    assert response.status_code == 422 and {"title", "due_at", "status"} <= set(errors)
    assert not Task.objects.for_tenant(org).exists()


def test_overdue_filter(admin_api):
    admin_api.post("/api/v1/tasks", {"title": "Late", "due_at": "2020-01-01T00:00:00Z"})
    admin_api.post("/api/v1/tasks", {"title": "Later", "due_at": "2099-01-01T00:00:00Z"})
    assert [t["title"] for t in admin_api.get("/api/v1/tasks?overdue=true").json()["items"]] == ["Late"]


def test_note_html_is_sanitised(admin_api, org):
    contact = make_contact(org)
    response = admin_api.post(
        "/api/v1/notes",
        {"contact_id": str(contact.pk), "body": '<p onclick="x()">Hi <script>alert(1)</script><b>there</b></p>'},
    )
    body = response.json()
    assert response.status_code == 201, body
    assert "script" not in body["body"] and "onclick" not in body["body"] and "<b>there</b>" in body["body"]


def test_empty_note_is_rejected(admin_api, org):
    response = admin_api.post("/api/v1/notes", {"body": "<script>only</script>"})
    assert response.status_code == 422 and "body" in response.json()["errors"]
    assert not Note.objects.for_tenant(org).exists()


def test_logged_email_and_filter_by_contact(admin_api, org):
    contact = make_contact(org)
    admin_api.post(
        "/api/v1/notes", {"kind": "email", "subject": "Quote", "body": "Sent", "contact_id": str(contact.pk)}
    )
    admin_api.post("/api/v1/notes", {"body": "Unrelated"})
    items = admin_api.get(f"/api/v1/notes?contact_id={contact.pk}").json()["items"]
    assert [(n["kind"], n["subject"]) for n in items] == [("email", "Quote")]
