from tests.crm.conftest import admin_api  # noqa: F401
