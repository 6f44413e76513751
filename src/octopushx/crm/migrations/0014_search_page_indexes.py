"""Search pages at a million contacts: an agent's own contacts newest first from one index; on
PostgreSQL, trigram indexes that keep their queue of new entries short and finer statistics of
the folded contact columns.

- A search's page walks the list's order and tests each row, and an agent sees only their own
  contacts: through (tenant, created) a page of a four-letter prefix read every other owner's rows
  too (25 times as many; 500 ms on PostgreSQL). (tenant, owner, created) walks their own alone.
- PostgreSQL queues new entries of a GIN index in a pending list of up to 4 MB and reads the whole
  list on every search that uses the index: 500 pages of first names took 25 ms of each search,
  whatever it was looking for. The lists of the trigram indexes over ``crm_fold(...)`` (crm 0010,
  0013) are held to 256 kB, and emptied now.
- Whether a search word is common enough to walk the page's order rather than read its indexes
  first is the planner's estimate from the statistics of the folded names and primary address
  (``crm.queries._common``). With 100 sampled values, a surname that 144 of a million contacts
  bear but that happened to be sampled was expected in 1 in 100 rows, walked, and took 2 s;
  1,000 values put it at 2 in 1,000. ``ANALYZE`` of contacts reads 300,000 rows instead of 30,000
  (20 s at a million contacts, on a loaded machine).

SQLite: only the index.
"""

from django.conf import settings
from django.db import migrations, models

FOLDED = [
    "crm_contact_first_fold",
    "crm_contact_last_fold",
    "crm_contact_email_fold",
    "crm_contactemail_fold",
    "crm_company_name_fold",
    "crm_company_domain_fold",
    "crm_deal_name_fold",
]
PENDING_KB = 256
# The folded expressions ``_common`` estimates (names and the primary address), index column 1 each.
ESTIMATED = ["crm_contact_first_fold", "crm_contact_last_fold", "crm_contact_email_fold"]
SAMPLE = 1000


def _existing(schema_editor) -> list[str]:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT relname FROM pg_class WHERE relkind = 'i' AND relname = ANY(%s)", [FOLDED])
        found = {row[0] for row in cursor.fetchall()}
    return [name for name in FOLDED if name in found]


def shorten(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    existing = _existing(schema_editor)
    for name in existing:
        schema_editor.execute(f"ALTER INDEX {name} SET (gin_pending_list_limit = {PENDING_KB})")
        schema_editor.execute(f"SELECT gin_clean_pending_list('{name}'::regclass)")
    for name in ESTIMATED:
        if name in existing:
            schema_editor.execute(f"ALTER INDEX {name} ALTER COLUMN 1 SET STATISTICS {SAMPLE}")
    schema_editor.execute("ANALYZE crm_contact")


def restore(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in _existing(schema_editor):
        schema_editor.execute(f"ALTER INDEX {name} RESET (gin_pending_list_limit)")
        if name in ESTIMATED:
            schema_editor.execute(f"ALTER INDEX {name} ALTER COLUMN 1 SET STATISTICS -1")
    schema_editor.execute("ANALYZE crm_contact")


class Migration(migrations.Migration):
    # Each statement on its own: in one transaction with the index's other change (its pending
    # list), ANALYZE kept reading 100 values whatever SET STATISTICS said. Every step may run again.
    atomic = False

    dependencies = [
        ("crm", "0013_search_primary_email_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(shorten, restore),
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(fields=["tenant", "owner", "-created_at"], name="crm_contact_owner_new_idx"),
        ),
    ]
