"""The CRM's list pages (HTML) on a large tenant loaded by ``crm_lists.py``: p50 / p95 per page.

    .venv/bin/python bench/crm_list_pages.py --data-dir DIR [--repeat N]

Run ``crm_lists.py`` first with the same data folder (and DATABASE_URL for PostgreSQL). Each page
is fetched in-process with Django's test client as an admin (sees every contact), a manager (their
team's) and an agent (their own): the first page, page 40 and page 400 in name order, a filter, the
search box with a common first name, with a common surname's first four letters and with an
accented surname, and the global search. The total each list page shows is printed beside it
(exact, or "about N" where PostgreSQL estimates past ``crm.queries.COUNT_EXACT`` matches).
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import time
from urllib.parse import urlencode

from crm_lists import _existing, _setup

TOTAL = re.compile(r'<h1>[^<]*<span class="badge">([^<]*)</span>')


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data-dir", help="the data folder of a crm_lists.py run (SQLite)")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    _setup(args.data_dir, None)
    from django.db.models import Count
    from django.test import Client

    from octopushx.crm.models import Contact

    loaded = _existing()
    if loaded is None:
        print("no tenant here: run bench/crm_lists.py with this data folder first")
        return 1
    contacts = Contact.objects.for_tenant(loaded.tenant).order_by()

    def most_common(field: str) -> str:
        return contacts.values(field).annotate(n=Count("pk")).order_by("-n").values_list(field, flat=True)[0]

    first, surname = most_common("first_name"), most_common("last_name")
    last, accented = surname[:4], surname.translate(str.maketrans("aeiou", "äéîöü"))
    pages = {
        "first page (name order)": "/crm/",
        "page 40": "/crm/?page=40",
        "page 400 (past 20,000 rows)": "/crm/?page=400",
        "filter lifecycle=customer": "/crm/?lifecycle_stage=customer",
        f"search {first!r}": "/crm/?" + urlencode({"q": first}),
        f"search {last!r}": "/crm/?" + urlencode({"q": last}),
        f"search {accented!r}": "/crm/?" + urlencode({"q": accented}),
        "global search box": "/crm/search/?" + urlencode({"q": first}),
    }
    members = {"admin": loaded.admin, "manager": loaded.managers[0], "agent": loaded.agents[0]}
    for role, member in members.items():
        client = Client()
        client.force_login(member.user)
        print(f"\n{role}, {args.repeat} requests each")
        print(f"{'page':32} {'p50 ms':>8} {'p95 ms':>8}  total shown")
        for name, path in pages.items():
            client.get(path)  # warm
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                response = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                assert response.status_code == 200, (path, response.status_code)
            p95 = statistics.quantiles(times, n=20)[-1]
            shown = TOTAL.search(response.content.decode())
            total = shown.group(1) if shown else "-"
            print(f"{name:32} {statistics.median(times):8.1f} {p95:8.1f}  {total}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
