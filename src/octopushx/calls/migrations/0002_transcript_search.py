"""Full-text index over transcript lines: an FTS5 table kept by triggers on SQLite, a GIN
index over ``to_tsvector('simple', text)`` on PostgreSQL (see octopushx.calls.search)."""

from django.db import migrations

SQLITE = [
    "CREATE VIRTUAL TABLE calls_utterance_fts USING fts5("
    "text, utterance_id UNINDEXED, tenant_id UNINDEXED, tokenize='unicode61 remove_diacritics 0')",
    "CREATE TRIGGER calls_utterance_fts_insert AFTER INSERT ON calls_utterance BEGIN "
    "INSERT INTO calls_utterance_fts (text, utterance_id, tenant_id) VALUES (new.text, new.id, new.tenant_id); END",
    "CREATE TRIGGER calls_utterance_fts_delete AFTER DELETE ON calls_utterance BEGIN "
    "DELETE FROM calls_utterance_fts WHERE utterance_id = old.id; END",
    "CREATE TRIGGER calls_utterance_fts_update AFTER UPDATE OF text ON calls_utterance BEGIN "
    "DELETE FROM calls_utterance_fts WHERE utterance_id = old.id; "
    "INSERT INTO calls_utterance_fts (text, utterance_id, tenant_id) VALUES (new.text, new.id, new.tenant_id); END",
]
SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS calls_utterance_fts_update",
    "DROP TRIGGER IF EXISTS calls_utterance_fts_delete",
    "DROP TRIGGER IF EXISTS calls_utterance_fts_insert",
    "DROP TABLE IF EXISTS calls_utterance_fts",
]
POSTGRES = ["CREATE INDEX calls_utterance_text_fts ON calls_utterance USING gin (to_tsvector('simple', text))"]
POSTGRES_REVERSE = ["DROP INDEX IF EXISTS calls_utterance_text_fts"]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("calls", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_REVERSE, "postgresql": POSTGRES_REVERSE}),
        )
    ]
