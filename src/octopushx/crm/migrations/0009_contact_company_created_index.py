"""A company's contacts newest first, straight from one index.

With only (tenant, company), SQLite answered "this company's contacts, newest first" by walking the
tenant's (tenant, created) index and skipping every other company's rows: 60 ms at 200,000 contacts
for a page of 35. The wider index serves the company filter alone as well.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0008_contact_owner_name_index"),
        ("tenancy", "0001_initial"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="contact",
            index=models.Index(fields=["tenant", "company", "-created_at"], name="crm_contact_tenant__5d1bda_idx"),
        ),
        migrations.RemoveIndex(model_name="contact", name="crm_contact_tenant__3abad5_idx"),
    ]
