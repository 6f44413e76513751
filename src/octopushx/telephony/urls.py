from django.urls import path

from octopushx.telephony import live_views, views

app_name = "telephony"

urlpatterns = [
    path("flows/", views.flow_list, name="list"),
    path("flows/new/", views.flow_new, name="new"),
    path("flows/check/", views.flow_check, name="check"),
    path("flows/<uuid:flow_id>/", views.flow_page, name="flow"),
    path("flows/<uuid:flow_id>/simulate/", views.flow_simulate, name="simulate"),
    path("flows/<uuid:flow_id>/delete/", views.flow_delete, name="delete"),
    path("live/stream/", live_views.live_stream, name="live_stream"),
    path("live/state/", live_views.live_state, name="live_state"),
    path("live/calls/<uuid:phone_call_id>/card/", live_views.caller_card, name="caller_card"),
    path("presence/", live_views.presence_switch, name="presence"),
]
