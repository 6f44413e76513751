"""Search that ignores accents and case, and finds words inside email addresses.

Every search index now holds folded text, ``crm_fold(value)`` (see ``crm.folding``), and a search
folds what was typed the same way: "Muller" finds "Müller", "strasse" finds "Straße".

- PostgreSQL: ``crm_fold(text)`` is ``lower(unaccent(text))`` declared IMMUTABLE, so indexes can use it
  (``unaccent()`` itself is only STABLE: its rules file could change). The migration creates the
  ``unaccent`` extension; it is a trusted extension (PostgreSQL 13+), so a role that may create
  objects in the database may add it. Where it cannot be added, ``crm_fold`` folds case only and a
  DBA can run ``CREATE EXTENSION unaccent`` and then this migration again (``octopushx migrate crm
  0009`` then ``octopushx migrate``). Trigram indexes over ``crm_fold`` of contact first and last
  names, every email address, company names and domains and deal names replace the upper-case
  ones of 0005. Nothing is backfilled: each index is built in one pass over its table (a million
  contacts: see the README).
- SQLite: ``crm_fold`` is a Python function registered on every connection (``crm.apps``).
  ``crm_search_text`` holds each contact's folded name and each of its folded email addresses, one
  row each, kept by triggers on every write whatever code makes it (services, imports, merges,
  erasure); ``crm_search_fts`` is an FTS5 trigram index over it. They replace the name-only tables
  of 0006. Companies and deals are few enough to be read whole.

Because the SQLite triggers call ``crm_fold``, contacts and their addresses can be written only
through OctopushX (the ``sqlite3`` shell says "no such function: crm_fold").
"""

import importlib

from django.db import DatabaseError, migrations, transaction

NAMES = importlib.import_module("octopushx.crm.migrations.0006_sqlite_name_search")
TRIGRAMS = importlib.import_module("octopushx.crm.migrations.0005_search_indexes")

# SQLite: the search rows, the index over them, and the triggers that keep both current.
NAME = "crm_fold(TRIM(new.first_name || ' ' || new.last_name))"
SQLITE_TABLE = (
    "CREATE TABLE crm_search_text (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, source_id char(32) NOT NULL UNIQUE, "
    "object_id char(32) NOT NULL, tenant_id char(32) NOT NULL, text TEXT NOT NULL)"
)
SQLITE_FILL = [
    "INSERT INTO crm_search_text(kind, source_id, object_id, tenant_id, text) "
    "SELECT 'name', id, id, tenant_id, crm_fold(TRIM(first_name || ' ' || last_name)) FROM crm_contact",
    "INSERT INTO crm_search_text(kind, source_id, object_id, tenant_id, text) "
    "SELECT 'email', id, contact_id, tenant_id, crm_fold(email) FROM crm_contactemail",
    "CREATE VIRTUAL TABLE crm_search_fts USING fts5("
    "text, content='crm_search_text', content_rowid='id', tokenize='trigram')",
    "INSERT INTO crm_search_fts(crm_search_fts) VALUES ('rebuild')",
]
SQLITE_TRIGGERS = [
    # The index follows the search rows (the external-content pattern of the FTS5 manual).
    "CREATE TRIGGER crm_search_text_ai AFTER INSERT ON crm_search_text BEGIN "
    "INSERT INTO crm_search_fts(rowid, text) VALUES (new.id, new.text); END",
    "CREATE TRIGGER crm_search_text_ad AFTER DELETE ON crm_search_text BEGIN "
    "INSERT INTO crm_search_fts(crm_search_fts, rowid, text) VALUES ('delete', old.id, old.text); END",
    "CREATE TRIGGER crm_search_text_au AFTER UPDATE OF text ON crm_search_text BEGIN "
    "INSERT INTO crm_search_fts(crm_search_fts, rowid, text) VALUES ('delete', old.id, old.text); "
    "INSERT INTO crm_search_fts(rowid, text) VALUES (new.id, new.text); END",
    # A contact's name row follows the contact.
    "CREATE TRIGGER crm_search_contact_ai AFTER INSERT ON crm_contact BEGIN "
    "INSERT INTO crm_search_text(kind, source_id, object_id, tenant_id, text) "
    f"VALUES ('name', new.id, new.id, new.tenant_id, {NAME}); END",
    # Django's save() writes every column: only a changed name touches the index.
    "CREATE TRIGGER crm_search_contact_au AFTER UPDATE OF first_name, last_name ON crm_contact "
    "WHEN old.first_name IS NOT new.first_name OR old.last_name IS NOT new.last_name BEGIN "
    f"UPDATE crm_search_text SET text = {NAME} WHERE source_id = new.id; END",
    "CREATE TRIGGER crm_search_contact_ad AFTER DELETE ON crm_contact BEGIN "
    "DELETE FROM crm_search_text WHERE source_id = old.id; END",
    # An address row follows the address, to whichever contact a merge moves it.
    "CREATE TRIGGER crm_search_email_ai AFTER INSERT ON crm_contactemail BEGIN "
    "INSERT INTO crm_search_text(kind, source_id, object_id, tenant_id, text) "
    "VALUES ('email', new.id, new.contact_id, new.tenant_id, crm_fold(new.email)); END",
    "CREATE TRIGGER crm_search_email_au AFTER UPDATE OF email ON crm_contactemail "
    "WHEN old.email IS NOT new.email BEGIN "
    "UPDATE crm_search_text SET text = crm_fold(new.email) WHERE source_id = new.id; END",
    "CREATE TRIGGER crm_search_email_moved AFTER UPDATE OF contact_id ON crm_contactemail "
    "WHEN old.contact_id IS NOT new.contact_id BEGIN "
    "UPDATE crm_search_text SET object_id = new.contact_id WHERE source_id = new.id; END",
    "CREATE TRIGGER crm_search_email_ad AFTER DELETE ON crm_contactemail BEGIN "
    "DELETE FROM crm_search_text WHERE source_id = old.id; END",
]
TRIGGERS = [statement.split()[2] for statement in SQLITE_TRIGGERS]

# PostgreSQL: name, table, folded expression.
FOLDED_INDEXES = [
    ("crm_contact_first_fold", "crm_contact", "first_name"),
    ("crm_contact_last_fold", "crm_contact", "last_name"),
    ("crm_contactemail_fold", "crm_contactemail", "email"),
    ("crm_company_name_fold", "crm_company", "name"),
    ("crm_company_domain_fold", "crm_company", "domain"),
    ("crm_deal_name_fold", "crm_deal", "name"),
]
# 0005's indexes over UPPER(...) that the folded ones replace (the phone number index stays).
REPLACED = ["crm_contact_first_trgm", "crm_contact_last_trgm", "crm_contactemail_trgm", "crm_contact_email_prefix"]


def _extension_schema(schema_editor, name: str) -> str | None:
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = %s",
            [name],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _try_extension(schema_editor, name: str) -> str | None:
    """The schema of extension ``name``, created when missing and allowed; ``None`` without it."""
    if _extension_schema(schema_editor, name) is None:
        try:
            with transaction.atomic(using=schema_editor.connection.alias):
                schema_editor.execute(f"CREATE EXTENSION IF NOT EXISTS {name}")
        except DatabaseError:  # no right to add it: see the module's docstring
            return None
    return _extension_schema(schema_editor, name)


def fold_function(unaccent_schema: str | None) -> str:
    if unaccent_schema is None:
        body = "SELECT lower($1)"
    else:
        schema = '"' + unaccent_schema.replace('"', '""') + '"'
        body = f"SELECT lower({schema}.unaccent('{schema}.unaccent'::regdictionary, $1))"
    return (
        "CREATE OR REPLACE FUNCTION crm_fold(text) RETURNS text LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE "
        f"AS $$ {body} $$"
    )


def create(apps, schema_editor) -> None:
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        schema_editor.execute(fold_function(_try_extension(schema_editor, "unaccent")))
        if _extension_schema(schema_editor, "pg_trgm") is None:
            return  # 0005 could not add pg_trgm: search works, reading whole tables
        schema_editor.execute("SET LOCAL maintenance_work_mem = '256MB'")
        for name, table, column in FOLDED_INDEXES:
            schema_editor.execute(
                f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (crm_fold({column}) gin_trgm_ops)"
            )
        for name in REPLACED:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
        return
    if connection.vendor != "sqlite":
        return
    NAMES.drop_name_index(apps, schema_editor)
    if not NAMES.has_trigram_fts5(connection):
        return  # names and addresses are then read row by row, folded the same way
    for statement in [SQLITE_TABLE, *SQLITE_FILL, *SQLITE_TRIGGERS]:
        schema_editor.execute(statement)


def drop(apps, schema_editor) -> None:
    connection = schema_editor.connection
    if connection.vendor == "postgresql":
        for name, _table, _column in FOLDED_INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
        TRIGRAMS.create_trigram_indexes(apps, schema_editor)
        schema_editor.execute("DROP FUNCTION IF EXISTS crm_fold(text)")
        return
    if connection.vendor != "sqlite":
        return
    for trigger in TRIGGERS:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    schema_editor.execute("DROP TABLE IF EXISTS crm_search_fts")
    schema_editor.execute("DROP TABLE IF EXISTS crm_search_text")
    NAMES.create_name_index(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0009_contact_company_created_index"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
