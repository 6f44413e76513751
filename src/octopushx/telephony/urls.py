from django.urls import path

from octopushx.telephony import limits_views, views

app_name = "telephony"

urlpatterns = [
    path("flows/", views.flow_list, name="list"),
    path("flows/new/", views.flow_new, name="new"),
    path("flows/check/", views.flow_check, name="check"),
    path("flows/<uuid:flow_id>/", views.flow_page, name="flow"),
    path("flows/<uuid:flow_id>/simulate/", views.flow_simulate, name="simulate"),
    path("flows/<uuid:flow_id>/delete/", views.flow_delete, name="delete"),
    path("limits/", limits_views.limits_page, name="limits"),
]
