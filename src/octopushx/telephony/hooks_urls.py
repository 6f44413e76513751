"""The provider-facing URLs under ``/hooks/telephony/`` (no session, no CSRF: each request is signed)."""

from django.urls import path

from octopushx.telephony import bridge, hooks

app_name = "telephony_hooks"

urlpatterns: list = [
    # tel-hooks: inbound calls, status events, flow steps and recordings (keep these lines together)
    path("twilio/incoming/<uuid:number_id>", hooks.twilio_incoming, name="twilio_incoming"),
    path("twilio/status/<uuid:account_id>", hooks.twilio_status, name="twilio_status"),
    path("vonage/answer/<uuid:account_id>", hooks.vonage_answer, name="vonage_answer"),
    path("vonage/event/<uuid:account_id>", hooks.vonage_event, name="vonage_event"),
    path("<str:provider>/voice/<uuid:flow_id>/<str:block_id>", hooks.flow_step, name="step"),
    path("twilio/leg/<uuid:flow_id>/<str:block_id>", hooks.twilio_leg, name="twilio_leg"),
    path("<str:provider>/recording/<uuid:flow_id>/<str:block_id>", hooks.flow_recording, name="flow_recording"),
    path("<str:provider>/recording/<uuid:account_id>", hooks.account_recording, name="account_recording"),
    # recorded greetings, fetched by the provider through a signed, expiring URL
    path("media/<uuid:flow_id>/<uuid:prompt_id>", hooks.media, name="media"),
    # click-to-call (tel-rest): the agent answered, now dial the customer
    path("<str:provider>/bridge/<str:phone_call_id>", bridge.bridge, name="bridge"),
]
