from django.urls import path

from octopushx.billing import reseller_views as views

app_name = "reseller"

urlpatterns = [
    path("customers/", views.customers, name="customers"),
    path("customers/<uuid:customer_id>/", views.customer, name="customer"),
    path("price-book/", views.price_book, name="price_book"),
    path("margins/", views.margins, name="margins"),
    path("margins.csv", views.margins_csv, name="margins_csv"),
    path("statements/<uuid:statement_id>/", views.statement, name="statement"),
    path("statements/<uuid:statement_id>.pdf", views.statement_pdf, name="statement_pdf"),
]
