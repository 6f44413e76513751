from django.urls import path

from octopushx.studio import views

app_name = "studio"

urlpatterns = [
    path("", views.workflow_list, name="list"),
    path("templates/", views.template_gallery, name="gallery"),
    path("new/", views.workflow_new, name="new"),
    path("test/", views.test_run, name="test"),
    path("runs/", views.runs, name="runs"),
    path("runs/<uuid:run_id>/", views.run_detail, name="run"),
    path("runs/<uuid:run_id>/retry/", views.run_retry, name="run_retry"),
    path("runs/<uuid:run_id>/cancel/", views.run_cancel, name="run_cancel"),
    path("versions/<uuid:version_id>/", views.version_detail, name="version"),
    path("versions/<uuid:version_id>/restore/", views.version_restore, name="version_restore"),
    path("<uuid:workflow_id>/", views.builder, name="builder"),
    path("<uuid:workflow_id>/enabled/", views.set_enabled, name="set_enabled"),
    path("<uuid:workflow_id>/rotate-secret/", views.rotate_secret, name="rotate_secret"),
    path("<uuid:workflow_id>/delete/", views.delete, name="delete"),
    path("<uuid:workflow_id>/versions/", views.versions, name="versions"),
    path("<uuid:workflow_id>/runs/", views.workflow_runs, name="workflow_runs"),
]
