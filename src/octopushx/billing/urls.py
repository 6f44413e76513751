from django.urls import path

from octopushx.billing import views

app_name = "billing"

urlpatterns = [
    path("", views.subscription_page, name="subscription"),
    path("card/checkout", views.card_checkout, name="card_checkout"),
    path("details", views.billing_details, name="profile"),
    path("invoices/<uuid:invoice_id>.pdf", views.invoice_pdf, name="invoice_pdf"),
    path("credit-notes/<uuid:credit_note_id>.pdf", views.credit_note_pdf, name="credit_note_pdf"),
]
