from django.urls import path

from octopushx.calls import scorecards_views, trackers_views, views, webhooks

app_name = "calls"

urlpatterns = [
    path("", views.call_list, name="list"),
    path("upload/", views.upload, name="upload"),
    path("search/", views.search_page, name="search"),
    path("settings/", views.settings_page, name="settings"),
    path("trackers/", trackers_views.tracker_list, name="trackers"),
    path("trackers/new/", trackers_views.tracker_new, name="tracker_new"),
    path("trackers/<uuid:tracker_id>/", trackers_views.tracker_page, name="tracker"),
    path("trackers/<uuid:tracker_id>/delete/", trackers_views.tracker_delete, name="tracker_delete"),
    path("<uuid:call_id>/", views.call_page, name="detail"),
    path("<uuid:call_id>/audio", views.audio, name="audio"),
    path("<uuid:call_id>/approve/", views.approve, name="approve"),
    path("<uuid:call_id>/correct/", views.correct, name="correct"),
    path("<uuid:call_id>/retry/", views.retry, name="retry"),
    path("<uuid:call_id>/task/", views.make_task, name="task"),
    path("<uuid:call_id>/contact/", views.make_contact, name="contact"),
    path("<uuid:call_id>/link-contact/", views.link_contact, name="link_contact"),
    path("<uuid:call_id>/share/", views.share, name="share"),
    path("scorecards/", scorecards_views.scorecard_list, name="scorecards"),
    path("scorecards/new/", scorecards_views.scorecard_new, name="scorecard_new"),
    path("scorecards/<uuid:scorecard_id>/", scorecards_views.scorecard_edit, name="scorecard"),
    path("scorecards/<uuid:scorecard_id>/delete/", scorecards_views.scorecard_delete, name="scorecard_delete"),
    path("reviews/", scorecards_views.reviews, name="reviews"),
    path("<uuid:call_id>/qa/", scorecards_views.qa_panel, name="qa"),
    path("<uuid:call_id>/qa/<uuid:scorecard_id>/", scorecards_views.qa_save, name="qa_save"),
    path("<uuid:call_id>/qa/<uuid:scorecard_id>/model/", scorecards_views.qa_ask_model, name="qa_ask_model"),
    path("<uuid:call_id>/qa/<uuid:scorecard_id>/acknowledge/", scorecards_views.qa_acknowledge, name="qa_acknowledge"),
    path("<uuid:call_id>/qa/<uuid:scorecard_id>/dispute/", scorecards_views.qa_dispute, name="qa_dispute"),
    path("<uuid:call_id>/qa/<uuid:scorecard_id>/resolve/", scorecards_views.qa_resolve, name="qa_resolve"),
    path("webhooks/<uuid:tenant_id>/twilio", webhooks.twilio, name="webhook_twilio"),
    path("webhooks/<uuid:tenant_id>/vonage", webhooks.vonage, name="webhook_vonage"),
    path("webhooks/<uuid:tenant_id>/generic", webhooks.generic, name="webhook_generic"),
]
