"""The provider-facing URLs under ``/hooks/telephony/`` (no session, no CSRF: each request is signed)."""

from django.urls import path

from octopushx.telephony import bridge

app_name = "telephony_hooks"

urlpatterns: list = [
    # click-to-call (tel-rest): the agent answered, now dial the customer
    path("<str:provider>/bridge/<str:phone_call_id>", bridge.bridge, name="bridge"),
]
