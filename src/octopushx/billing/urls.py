from django.urls import path

from octopushx.billing import views

app_name = "billing"

urlpatterns = [
    path("", views.subscription_page, name="subscription"),
]
