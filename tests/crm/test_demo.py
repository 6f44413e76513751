import time

from octopushx import demo
from octopushx.crm.models import Company, Contact, Deal, Note, Task
from octopushx.tenancy.models import Organization


def test_demo_loads_a_believable_crm_fast_and_once(db):
    started = time.perf_counter()
    demo.load()
    elapsed = time.perf_counter() - started
    acme = Organization.objects.get(name="Acme Support")
    contacts = Contact.objects.for_tenant(acme)
    assert contacts.count() >= 300 and Company.objects.for_tenant(acme).count() >= 100
    deals = Deal.objects.for_tenant(acme)
    assert deals.values("stage").distinct().count() >= 6 and deals.filter(status="won").exists()
    assert Task.objects.for_tenant(acme).filter(status="open").exists() and Note.objects.for_tenant(acme).exists()
    assert contacts.filter(emails__isnull=False).exists() and contacts.filter(phones__number__startswith="+44").exists()
    assert elapsed < 30  # < 10 s on a quiet machine; CI shares its cores
    demo.load()
    assert Contact.objects.for_tenant(acme).count() == contacts.count()


def test_demo_pages_render(db, client):
    demo.load()
    from octopushx.accounts.models import User
    from octopushx.core.context import Actor
    from octopushx.shield.legal import services as legal

    owner = User.objects.get(email="owner@acme.test")
    acme = Organization.objects.get(name="Acme Support")
    legal.accept(acme, Actor(user=owner, role="owner"), legal.pending_for(owner, acme, "owner"))
    client.force_login(owner)
    for path in ("/crm/", "/crm/companies/", "/crm/deals/", "/crm/board/", "/crm/tasks/", "/crm/duplicates/"):
        assert client.get(path).status_code == 200, path
    contact = Contact.objects.for_tenant(acme).first()
    assert client.get(f"/crm/contacts/{contact.pk}/").status_code == 200
    deal = Deal.objects.for_tenant(acme).first()
    assert client.get(f"/crm/deals/{deal.pk}/").status_code == 200
