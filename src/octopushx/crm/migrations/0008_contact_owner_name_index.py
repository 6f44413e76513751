"""An agent's own contacts in name order, straight from one index.

The contact list sorts by name and an agent sees the contacts they own. With only (tenant, owner)
and (tenant, last name, first name), the database walked the whole tenant in name order and
skipped everyone else's rows: page 40 of an agent's list at 1,000,000 contacts read 50,000 rows
(250 ms on PostgreSQL). The wider index serves the owner filter alone as well.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0007_postgres_filter_indexes"),
        ("tenancy", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(
                fields=["tenant", "owner", "last_name", "first_name"], name="crm_contact_tenant__6b3248_idx"
            ),
        ),
        migrations.RemoveIndex(model_name="contact", name="crm_contact_tenant__23347e_idx"),
    ]
