from django.urls import path

from octopushx.telephony import limits_views, live_views, numbers_views, prompt_views, views

app_name = "telephony"

urlpatterns = [
    path("flows/", views.flow_list, name="list"),
    path("flows/new/", views.flow_new, name="new"),
    path("flows/check/", views.flow_check, name="check"),
    path("flows/<uuid:flow_id>/", views.flow_page, name="flow"),
    path("flows/<uuid:flow_id>/simulate/", views.flow_simulate, name="simulate"),
    path("flows/<uuid:flow_id>/delete/", views.flow_delete, name="delete"),
    path("recordings/", prompt_views.recordings_page, name="recordings"),
    path("recordings/<uuid:prompt_id>/audio/", prompt_views.recording_audio, name="recording_audio"),
    path("recordings/<uuid:prompt_id>/delete/", prompt_views.recording_delete, name="recording_delete"),
    path("limits/", limits_views.limits_page, name="limits"),
    # the provider side (tel-rest): numbers, the member's line, click-to-call
    path("numbers/", numbers_views.numbers_page, name="numbers"),
    path("numbers/connect/", numbers_views.account_connect, name="connect"),
    path("numbers/sync/", numbers_views.numbers_sync, name="sync"),
    path("numbers/accounts/<uuid:account_id>/disconnect/", numbers_views.account_disconnect, name="disconnect"),
    path("numbers/<uuid:number_id>/assign/", numbers_views.number_assign, name="assign"),
    path("numbers/<uuid:number_id>/webhooks/", numbers_views.number_webhooks, name="webhooks"),
    path("line/", numbers_views.line_page, name="line"),
    path("call/", numbers_views.call_now, name="call"),
    path("live/stream/", live_views.live_stream, name="live_stream"),
    path("live/state/", live_views.live_state, name="live_state"),
    path("live/calls/<uuid:phone_call_id>/card/", live_views.caller_card, name="caller_card"),
    path("presence/", live_views.presence_switch, name="presence"),
]
