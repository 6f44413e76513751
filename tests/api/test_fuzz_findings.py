"""Inputs schemathesis found that broke an operation (each was a 500 before its fix)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_organization_patch_with_null_brand_fields_is_refused_and_changes_nothing(api_as, org):
    api = api_as("owner")
    before = (org.brand_name, org.brand_color)

    response = api.patch("/api/v1/organization", {"brand_name": None, "brand_color": None})

    assert response.status_code == 422
    assert set(response.json()["errors"]) == {"brand_name", "brand_color"}
    org.refresh_from_db()
    assert (org.brand_name, org.brand_color) == before
