"""Indexes for contact lists filtered by tag and by custom field, on PostgreSQL.

A page of contacts filtered by a tag and a stage (and a custom field, say) is a few hundred rows
among a million, and the planner cannot see that through a join with the tag table: it walked
the newest-first index and probed each contact's tags (170 ms at 1,000,000 contacts).

- ``crm_contact.tag_ids`` keeps each contact's tag ids as an array, with a GIN index, so a tag
  filter is one index condition that combines with the others (a bitmap AND) and is estimated
  from the column's statistics. A trigger on the contact-tag table keeps it current on every
  write, whatever code makes it. The column is not on the Django model: nothing reads it but
  the tag filter (``crm.queries``).
- A ``jsonb_path_ops`` GIN index on ``crm_contact.custom`` answers ``custom @> {"key": value}``,
  the form an exact custom-field filter takes on PostgreSQL.

SQLite lists stay fast at its scale without them; this migration does nothing there.
"""

from django.db import migrations

CREATE = [
    "ALTER TABLE crm_contact ADD COLUMN IF NOT EXISTS tag_ids uuid[] NOT NULL DEFAULT '{}'",
    """
    CREATE OR REPLACE FUNCTION crm_contact_tag_ids() RETURNS trigger AS $$
    DECLARE
        changed uuid := CASE WHEN TG_OP = 'DELETE' THEN OLD.contact_id ELSE NEW.contact_id END;
    BEGIN
        UPDATE crm_contact SET tag_ids = ARRAY(
            SELECT tag_id FROM crm_contact_tags WHERE contact_id = changed ORDER BY tag_id
        ) WHERE id = changed;
        IF TG_OP = 'UPDATE' AND OLD.contact_id <> NEW.contact_id THEN
            UPDATE crm_contact SET tag_ids = ARRAY(
                SELECT tag_id FROM crm_contact_tags WHERE contact_id = OLD.contact_id ORDER BY tag_id
            ) WHERE id = OLD.contact_id;
        END IF;
        RETURN NULL;
    END
    $$ LANGUAGE plpgsql
    """,
    "DROP TRIGGER IF EXISTS crm_contact_tag_ids ON crm_contact_tags",
    "CREATE TRIGGER crm_contact_tag_ids AFTER INSERT OR UPDATE OR DELETE ON crm_contact_tags "
    "FOR EACH ROW EXECUTE FUNCTION crm_contact_tag_ids()",
    """
    UPDATE crm_contact c SET tag_ids = t.ids
    FROM (SELECT contact_id, array_agg(tag_id ORDER BY tag_id) AS ids FROM crm_contact_tags GROUP BY contact_id) t
    WHERE c.id = t.contact_id
    """,
    "CREATE INDEX IF NOT EXISTS crm_contact_tag_ids ON crm_contact USING gin (tag_ids)",
    "CREATE INDEX IF NOT EXISTS crm_contact_custom ON crm_contact USING gin (custom jsonb_path_ops)",
]
DROP = [
    "DROP INDEX IF EXISTS crm_contact_custom",
    "DROP TRIGGER IF EXISTS crm_contact_tag_ids ON crm_contact_tags",
    "DROP FUNCTION IF EXISTS crm_contact_tag_ids()",
    "ALTER TABLE crm_contact DROP COLUMN IF EXISTS tag_ids",
]


def create(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for statement in CREATE:
            schema_editor.execute(statement)


def drop(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        for statement in DROP:
            schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0006_sqlite_name_search"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]
