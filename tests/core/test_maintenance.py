import pytest
from django.db import connection

from octopushx.core import maintenance


@pytest.mark.django_db
def test_refresh_statistics_gives_sqlite_its_planner_statistics(org):
    from tests.crm.conftest import make_contact

    make_contact(org)  # ANALYZE leaves no statistics for an empty table
    maintenance.refresh_statistics()
    if connection.vendor != "sqlite":
        return  # PostgreSQL's autovacuum keeps its own
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM sqlite_stat1 WHERE tbl = 'crm_contact'")
        assert cursor.fetchone()[0] > 0


@pytest.mark.django_db
def test_large_page_cache_sets_this_connections_cache():
    if connection.vendor != "sqlite":
        maintenance.large_page_cache()  # nothing to do on PostgreSQL
        return
    maintenance.large_page_cache()
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        assert cursor.fetchone()[0] == -65536
