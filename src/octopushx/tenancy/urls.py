from django.urls import path

from octopushx.tenancy import views

app_name = "tenancy"

urlpatterns = [
    path("brand-assets/<uuid:asset_id>/", views.brand_asset, name="brand_asset"),
    path("switch/", views.switch, name="switch"),
    path("settings/", views.settings_page, name="settings"),
    path("settings/delete/", views.delete_organization, name="delete"),
    path("settings/support-access/", views.support_access, name="support_access"),
    path("settings/members/", views.members, name="members"),
    path("settings/members/invite/", views.invite, name="invite"),
    path("settings/members/<uuid:member_id>/role/", views.change_role, name="change_role"),
    path("settings/members/<uuid:member_id>/remove/", views.remove_member, name="remove_member"),
    path("settings/branding/", views.branding_page, name="branding"),
    path("settings/organizations/", views.organizations, name="organizations"),
    path("invitations/<str:token>/", views.accept_invitation, name="accept_invitation"),
]
