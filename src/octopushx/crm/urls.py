from django.urls import path

from octopushx.crm import views

app_name = "crm"

urlpatterns = [
    path("", views.contact_list, name="contacts"),
    path("contacts/<str:contact_id>/", views.contact_detail, name="contact"),
    path("companies/", views.company_list, name="companies"),
    path("companies/<str:company_id>/", views.company_detail, name="company"),
    path("deals/", views.deal_list, name="deals"),
    path("deals/<str:deal_id>/", views.deal_detail, name="deal"),
]
