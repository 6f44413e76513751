"""Indexes for lists and search on large tenants.

On PostgreSQL only: trigram (``pg_trgm``) GIN indexes matching the ``icontains`` / ``contains``
lookups of ``crm.queries.search_contacts`` (first and last name, every email, every phone
number) and a b-tree for the primary email's prefix, so a search touches the matching rows only. SQLite has no such index;
its scans stay fast at its scale. Without the right to create the extension the indexes are
skipped and search still answers correctly, only slower.
"""

from django.db import migrations, transaction

TRIGRAM_INDEXES = [
    ("crm_contact_first_trgm", "crm_contact", "UPPER(first_name)"),
    ("crm_contact_last_trgm", "crm_contact", "UPPER(last_name)"),
    ("crm_contactemail_trgm", "crm_contactemail", "UPPER(email)"),
    ("crm_contactphone_trgm", "crm_contactphone", "number"),
]


def create_trigram_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    # A term of three letters or more also matches the start of the primary email: a b-tree range.
    schema_editor.execute(
        "CREATE INDEX IF NOT EXISTS crm_contact_email_prefix ON crm_contact (tenant_id, UPPER(email) text_pattern_ops)"
    )
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception:  # noqa: BLE001 - no right to add the extension: search works without the indexes
        return
    for name, table, expression in TRIGRAM_INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({expression} gin_trgm_ops)"  # noqa: S608
        )


def drop_trigram_indexes(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in ["crm_contact_email_prefix"] + [name for name, _table, _expression in TRIGRAM_INDEXES]:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0004_import_duplicates"),
    ]

    operations = [
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
    ]
