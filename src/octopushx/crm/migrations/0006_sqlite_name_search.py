"""A substring index of contact names on SQLite: what the trigram indexes of 0005 are on PostgreSQL.

``crm_contact_name`` holds each contact's "first last" name; ``crm_contact_name_fts`` is an FTS5
trigram index over it, so a word of three letters or more is found inside names without reading
every contact. Triggers keep both current on every write to a contact, whatever code makes it
(services, imports, merges, erasure). The key is the name row's own integer id, which VACUUM
keeps (it may renumber the rowids of a table keyed by a UUID).

Names only: emails and phone numbers are read by index scans (``crm.queries``), which stay fast
at SQLite's scale, while indexing them too doubled the time of a 100,000-row import.

On PostgreSQL this migration does nothing. Where SQLite has no FTS5 trigram tokenizer (before
3.34, or built without FTS5) it does nothing either, and names are read by index scans too.
"""

from django.db import DatabaseError, migrations

NAME = "TRIM(first_name || ' ' || last_name)"
CREATE = [
    "CREATE TABLE crm_contact_name (id INTEGER PRIMARY KEY, contact_id char(32) NOT NULL UNIQUE, "
    "tenant_id char(32) NOT NULL, name TEXT NOT NULL)",
    "CREATE VIRTUAL TABLE crm_contact_name_fts USING fts5("
    "name, content='crm_contact_name', content_rowid='id', tokenize='trigram')",
    # The index follows the name rows (the external-content pattern of the FTS5 manual).
    "CREATE TRIGGER crm_contact_name_ai AFTER INSERT ON crm_contact_name BEGIN "
    "INSERT INTO crm_contact_name_fts(rowid, name) VALUES (new.id, new.name); END",
    "CREATE TRIGGER crm_contact_name_ad AFTER DELETE ON crm_contact_name BEGIN "
    "INSERT INTO crm_contact_name_fts(crm_contact_name_fts, rowid, name) VALUES ('delete', old.id, old.name); END",
    "CREATE TRIGGER crm_contact_name_au AFTER UPDATE OF name ON crm_contact_name BEGIN "
    "INSERT INTO crm_contact_name_fts(crm_contact_name_fts, rowid, name) VALUES ('delete', old.id, old.name); "
    "INSERT INTO crm_contact_name_fts(rowid, name) VALUES (new.id, new.name); END",
    # The name rows follow the contacts.
    "CREATE TRIGGER crm_contact_name_contact_ai AFTER INSERT ON crm_contact BEGIN "
    "INSERT INTO crm_contact_name(contact_id, tenant_id, name) "
    "VALUES (new.id, new.tenant_id, TRIM(new.first_name || ' ' || new.last_name)); END",
    # Django's save() writes every column: only a changed name touches the index.
    "CREATE TRIGGER crm_contact_name_contact_au AFTER UPDATE OF first_name, last_name ON crm_contact "
    "WHEN old.first_name IS NOT new.first_name OR old.last_name IS NOT new.last_name BEGIN "
    "UPDATE crm_contact_name SET name = TRIM(new.first_name || ' ' || new.last_name) WHERE contact_id = new.id; END",
    "CREATE TRIGGER crm_contact_name_contact_ad AFTER DELETE ON crm_contact BEGIN "
    "DELETE FROM crm_contact_name WHERE contact_id = old.id; END",
]
FILL = f"INSERT INTO crm_contact_name(contact_id, tenant_id, name) SELECT id, tenant_id, {NAME} FROM crm_contact"  # noqa: S608
TRIGGERS = [statement.split()[2] for statement in CREATE if statement.startswith("CREATE TRIGGER")]


def has_trigram_fts5(connection) -> bool:
    """FTS5 with its trigram tokenizer (SQLite 3.34 and later, when built with FTS5)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("CREATE VIRTUAL TABLE temp.crm_fts5_probe USING fts5(x, tokenize='trigram')")
            cursor.execute("DROP TABLE temp.crm_fts5_probe")
    except DatabaseError:
        return False
    return True


def create_name_index(apps, schema_editor) -> None:
    connection = schema_editor.connection
    if connection.vendor != "sqlite" or not has_trigram_fts5(connection):
        return
    for statement in [*CREATE, FILL]:
        schema_editor.execute(statement)


def drop_name_index(apps, schema_editor) -> None:
    if schema_editor.connection.vendor != "sqlite":
        return
    for trigger in TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    schema_editor.execute("DROP TABLE IF EXISTS crm_contact_name_fts")
    schema_editor.execute("DROP TABLE IF EXISTS crm_contact_name")


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0005_search_indexes"),
    ]

    operations = [
        migrations.RunPython(create_name_index, drop_name_index),
    ]
