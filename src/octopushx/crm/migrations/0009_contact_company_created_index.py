"""A company's contacts newest first, straight from one index.

With only (tenant, company), SQLite answered "this company's contacts, newest first" by walking the
tenant's (tenant, created) index and skipping every other company's rows: 60 ms at 200,000 contacts
for a page of 35. The new index has no tenant column (company ids are unique across tenants): with
one, SQLite also chose it to read a whole tenant row by row, and counting a search slowed twofold.
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
            index=models.Index(fields=["company", "-created_at"], name="crm_contact_company_new_idx"),
        ),
        migrations.RemoveIndex(model_name="contact", name="crm_contact_tenant__3abad5_idx"),
    ]
