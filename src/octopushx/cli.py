"""The ``octopushx`` command: serve, worker, migrate, demo, backup, restore, tenant, brand, user, token, audit, keys."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from datetime import timedelta


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "octopushx.settings")
    import django

    django.setup()


class CommandError(Exception):
    """A user-facing failure: printed without a traceback, exit status 1."""


def _validation_message(exc) -> str:
    if hasattr(exc, "message_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(getattr(exc, "messages", [str(exc)]))


def cmd_migrate(args) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=1 if args.verbose else 0)
    from octopushx.core import keys, maintenance

    maintenance.refresh_statistics()

    keys.check_master_key()
    print("Database is up to date.")


def _consumer(workers: int):
    """A Huey consumer that knows every task: each app's ``tasks`` module is imported first.

    Without that, a consumer drops messages for tasks no code in its process has imported yet
    ("run_job_task not found in TaskRegistry"); djhuey's own ``run_huey`` does the same.
    """
    from django.utils.module_loading import autodiscover_modules
    from huey.contrib.djhuey import HUEY

    autodiscover_modules("tasks")
    # Redis hands work over as it comes (a blocking pop); the SQLite store is polled, and Huey's
    # default back-off lets an idle consumer wait up to 10 s: a second at most here, so a job (a
    # workflow run, a transcription) queued after a quiet spell starts within about a second.
    return HUEY.create_consumer(
        workers=workers, worker_type="thread", periodic=True, check_worker_health=True, max_delay=1.0
    )


def _start_consumer():
    """Start the Huey consumer and the job reaper in this process (threads); returns it."""
    from django.conf import settings

    from octopushx.core import jobs

    consumer = _consumer(settings.HUEY.get("consumer", {}).get("workers", 2))
    jobs.start_reaper()  # registers this process first, so every claim names it
    consumer.start()
    return consumer


def _stop_serving(signum, frame) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


# This machine, or every interface (which includes it).
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]", "0.0.0.0", "::", ""}  # noqa: S104


def _align_base_url(host: str, port: int) -> str | None:
    """Point the default base URL (links made outside a request) at this server; say when a configured one cannot be it.

    A configured base URL on a public name is left alone (the usual proxy set-up); one on this machine's
    loopback with another port would send every emailed link to the wrong server.
    """
    from urllib.parse import urlsplit

    from django.conf import settings

    shown_host = "127.0.0.1" if host in LOOPBACK_HOSTS else host
    if not settings.BASE_URL_CONFIGURED:
        settings.BASE_URL = f"http://{shown_host}:{port}"
        return None
    parts = urlsplit(settings.BASE_URL)
    configured_port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    if (parts.hostname or "") in LOOPBACK_HOSTS | {host} and configured_port != port:
        return (
            f"OCTOPUSHX_BASE_URL is {settings.BASE_URL} but this server listens on port {port}: "
            "links in emails sent by background jobs will point there"
        )
    return None


def _banner(host: str, port: int) -> str:
    """The one block serve prints once it listens: the address to open and, on a demo install, who to sign in as."""
    from octopushx import demo

    every_interface = host in {"0.0.0.0", "::", ""}  # noqa: S104
    shown_host = "127.0.0.1" if every_interface else f"[{host}]" if ":" in host and not host.startswith("[") else host
    lines = [f"OctopushX is running on http://{shown_host}:{port}/ (Ctrl+C stops it)"]
    if every_interface:
        lines.append(f"(listening on every interface of this machine, port {port})")
    lines += demo.sign_in_hint()
    rule = "=" * min(max(len(line) for line in lines), 72)
    return "\n".join(["", rule, *lines, rule, ""])


def cmd_serve(args) -> None:
    from django.conf import settings

    from octopushx.core import keys, webserver
    from octopushx.telephony import live
    from octopushx.wsgi import application

    try:
        webserver.check_production(
            production=settings.PRODUCTION,
            ssl_redirect=getattr(settings, "SECURE_SSL_REDIRECT", False),
            trust_proxy=settings.TRUST_PROXY,
        )
    except webserver.ProductionWithoutProxy as exc:
        raise CommandError(str(exc))
    try:
        server = webserver.create(
            application, **webserver.options(host=args.host, port=args.port, threads=args.threads)
        )
    except OSError as exc:
        raise CommandError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc} (choose another --port)")
    live.fit_to_threads(args.threads)
    cmd_migrate(argparse.Namespace(verbose=False))
    keys.check_master_key()
    warning = _align_base_url(args.host, args.port)
    if warning:
        print(f"octopushx: warning: {warning}", file=sys.stderr, flush=True)
    consumer = None if args.no_worker else _start_consumer()
    # Huey's consumer took SIGTERM and SIGINT for its own (unused) run loop; without this,
    # `docker stop`, systemd and Ctrl+C could not stop the server.
    signal.signal(signal.SIGTERM, _stop_serving)
    signal.signal(signal.SIGINT, _stop_serving)
    print(_banner(args.host, args.port), flush=True)
    try:
        server.run()
    finally:
        if consumer is not None:
            consumer.stop(graceful=True)
            _forget_worker()


def cmd_worker(args) -> None:
    from huey.contrib.djhuey import HUEY

    from octopushx.core import jobs, keys

    keys.check_master_key()
    consumer = _consumer(args.threads)
    jobs.start_reaper()  # registers this process before the consumer claims anything
    print(f"OctopushX worker started ({type(HUEY).__name__}, {args.threads} threads)", flush=True)
    try:
        consumer.run()
    finally:
        _forget_worker()


def _forget_worker() -> None:
    """A clean stop: drop this process's registration (jobs it still held are re-run at once)."""
    from octopushx.core import jobs

    try:
        jobs.unregister_worker()
    except Exception:  # the database may be gone already; the heartbeat then goes stale
        logging.getLogger(__name__).warning("could not unregister this worker process", exc_info=True)


def cmd_demo(args) -> None:
    from octopushx import demo

    cmd_migrate(argparse.Namespace(verbose=False))
    print(demo.load())


def cmd_backup(args) -> None:
    """Back up the embedded defaults to one file, the master key to another (see README, Backups)."""
    from pathlib import Path

    from octopushx.core import backup

    try:
        result = backup.create(
            Path(args.destination),
            backup.layout_from_settings(),
            key_file=Path(args.key_out) if args.key_out else None,
            force=args.force,
        )
    except backup.BackupError as exc:
        raise CommandError(str(exc))
    print(result.report())


def cmd_restore(args) -> None:
    """Check a backup and its master key, then put it in place of the (empty) data folder."""
    from pathlib import Path

    from django.conf import settings

    from octopushx.core import backup

    try:
        result = backup.restore(
            Path(args.source),
            backup.layout_from_settings(),
            key_file=Path(args.key) if args.key else None,
            force=args.force,
            reaper_seconds=settings.JOB_REAPER_SECONDS,
        )
    except backup.BackupError as exc:
        raise CommandError(str(exc))
    print(result.report())


def _tenant(tenant_id: str):
    from django.core.exceptions import ValidationError

    from octopushx.tenancy.models import Organization

    try:
        return Organization.objects.get(pk=tenant_id, deleted_at__isnull=True)
    except (Organization.DoesNotExist, ValidationError, ValueError):
        raise CommandError(f"No organisation with id {tenant_id}")


def cmd_tenant_create(args) -> None:
    from django.core.exceptions import ValidationError

    from octopushx.core.context import Actor
    from octopushx.tenancy import services

    parent = _tenant(args.parent) if args.parent else None
    try:
        org = services.create_organization(
            Actor.system("cli"),
            name=args.name,
            kind=args.kind,
            parent=parent,
            admin_email=args.admin_email,
            admin_password=args.password,
        )
    except ValidationError as exc:
        raise CommandError(_validation_message(exc))
    print(org.pk)


def cmd_brand_verify(args) -> None:
    from django.core.exceptions import ValidationError

    from octopushx.core.context import Actor
    from octopushx.tenancy import branding
    from octopushx.tenancy.models import BrandDomain

    actor = Actor.system("cli")
    domain = (args.domain or "").strip().lower().rstrip(".")
    try:
        if args.skip_dns:
            record = branding.verify_without_dns(domain, actor)
        else:
            record = BrandDomain.objects.filter(domain=domain).first()
            if record is None:
                raise CommandError(f"No brand has claimed {domain}; add it to a brand first")
            record = branding.verify_domain(record, actor)
    except ValidationError as exc:
        raise CommandError(_validation_message(exc))
    print(f"{record.domain} is verified for {record.tenant.name}")


def cmd_tenant_list(args) -> None:
    from octopushx.tenancy.models import Organization

    for org in Organization.objects.filter(deleted_at__isnull=True).order_by("kind", "name"):
        print(f"{org.pk}  {org.kind:<9} {org.name}")


def _write_new(path: str, force: bool):
    from pathlib import Path

    target = Path(path)
    if target.is_dir():
        raise CommandError(f"{path} is a folder; give a file name")
    if target.exists() and not force:
        raise CommandError(f"{path} exists; use --force to overwrite it")
    if not target.parent.is_dir():
        raise CommandError(f"{target.parent} does not exist")
    return target


def cmd_tenant_export(args) -> None:
    """Stream the organisation's whole export (ZIP) into a file."""
    from octopushx.core.context import Actor
    from octopushx.shield.offboarding import export, services

    org = _tenant(args.tenant)
    target = _write_new(args.out, args.force)
    actor = Actor.system("cli")
    services.start_export(org, actor)
    partial = target.with_name(target.name + ".part")
    size = 0
    with partial.open("wb") as handle:
        for piece in export.stream(org, generated_by=actor.label):
            handle.write(piece)
            size += len(piece)
    partial.replace(target)
    print(f"Wrote {target} ({size} bytes) for {org.name}.")


def _termination_line(termination) -> str:
    when = termination.completed_at or termination.cancelled_at or termination.due_at
    return (
        f"{termination.pk}  {termination.state:<9} {when:%Y-%m-%d %H:%M} UTC  "
        f"{termination.organization_name} ({termination.organization_id})"
    )


def cmd_tenant_terminate(args) -> None:
    from django.core.exceptions import ValidationError

    from octopushx.core.context import Actor
    from octopushx.shield.offboarding import services

    org = _tenant(args.tenant)
    actor = Actor.system("cli")
    try:
        if args.cancel:
            termination = services.cancel_termination(org, actor)
            print(f"Cancelled the termination of {org.name}; it works again.")
            return
        if args.confirm is None:
            raise CommandError(
                f"repeat the organisation's name with --confirm to terminate it (--confirm {org.name!r})"
            )
        termination = services.request_termination(
            org, actor, notice_days=args.notice_days, reason=args.reason, confirm=args.confirm
        )
    except ValidationError as exc:
        raise CommandError(_validation_message(exc))
    print(f"{termination.pk}")
    print(f"{org.name} is suspended; it will be deleted on {termination.due_at:%Y-%m-%d %H:%M} UTC.")


def cmd_tenant_terminations(args) -> None:
    from django.core.exceptions import ValidationError

    from octopushx.core.context import Actor
    from octopushx.shield.offboarding import services
    from octopushx.shield.offboarding.models import Termination

    if args.run_due:
        try:
            done = services.run_due(Actor.system("cli"))
        except ValidationError as exc:
            raise CommandError(_validation_message(exc))
        for termination in done:
            print(f"deleted  {_termination_line(termination)}")
        print(f"{len(done)} organisation(s) deleted.")
        return
    for termination in Termination.objects.all():
        print(_termination_line(termination))


def cmd_tenant_certificate(args) -> None:
    from django.core.exceptions import ValidationError

    from octopushx.shield.offboarding.models import Termination

    try:
        termination = Termination.objects.filter(pk=args.termination).first()
    except (ValidationError, ValueError):
        termination = None
    if termination is None:
        raise CommandError(f"No termination with id {args.termination}")
    if not termination.certificate_pdf:
        raise CommandError(f"{termination.organization_name} is not deleted yet ({termination.state})")
    target = _write_new(args.out, args.force)
    target.write_bytes(bytes(termination.certificate_pdf))
    print(f"Wrote {target} (sha256 {termination.certificate_sha256}).")


def cmd_user_create(args) -> None:
    from django.core.exceptions import ValidationError

    from octopushx.core.context import Actor
    from octopushx.tenancy import services

    tenant = _tenant(args.tenant)
    try:
        membership = services.add_member(
            tenant,
            Actor.system("cli"),
            email=args.email,
            role=args.role,
            password=args.password,
            check=False,
        )
    except ValidationError as exc:
        raise CommandError(_validation_message(exc))
    print(membership.user.pk)


def cmd_token_create(args) -> None:
    from django.core.exceptions import ValidationError
    from django.utils import timezone

    from octopushx.accounts import services
    from octopushx.accounts.models import User
    from octopushx.core.context import Actor
    from octopushx.tenancy.models import Membership

    user = User.objects.filter(email=args.email.strip().lower()).first()
    if user is None:
        raise CommandError(f"No user with email {args.email}")
    memberships = Membership.objects.filter(user=user, tenant__deleted_at__isnull=True).select_related("tenant")
    if args.tenant:
        membership = memberships.filter(tenant_id=_tenant(args.tenant).pk).first()
        if membership is None:
            raise CommandError(f"{user.email} is not a member of organisation {args.tenant}")
    elif memberships.count() == 1:
        membership = memberships.first()
    else:
        raise CommandError(f"{user.email} belongs to {memberships.count()} organisations; choose one with --tenant")
    expires = timezone.now() + timedelta(days=args.days) if args.days else None
    try:
        _token, plaintext = services.create_token(
            membership.tenant,
            Actor(user=user, label_override=f"cli for {user.email}"),
            user,
            name=args.name,
            expires_at=expires,
        )
    except ValidationError as exc:
        raise CommandError(_validation_message(exc))
    print(plaintext)


def cmd_audit_verify(args) -> None:
    from octopushx.core import audit
    from octopushx.tenancy.models import Organization

    tenants = [_tenant(args.tenant)] if args.tenant else list(Organization.objects.all())
    broken = 0
    for tenant in tenants:
        result = audit.verify(tenant)
        if result.ok:
            print(f"ok      {tenant.pk}  {tenant.name}: {result.checked} entries")
        else:
            broken += 1
            print(f"BROKEN  {tenant.pk}  {tenant.name}: entry {result.broken_seq}: {result.reason}")
    if broken:
        raise CommandError(f"{broken} audit chain(s) are broken")


def cmd_keys_rotate(args) -> None:
    from octopushx.core import keys

    result = keys.rotate()
    print(f"Rewrapped {result.rewrapped} tenant key(s) with master key {result.new_key_id}.")
    if result.new_key_text:
        print("A new master key was written to the key file; the old one is in master.key.previous.")


def cmd_keys_generate(args) -> None:
    from octopushx.core import crypto

    print(crypto.generate_key_text())


def cmd_jobs_run(args) -> None:
    from octopushx.core import jobs
    from octopushx.studio import engine

    ran = jobs.drain()
    runs = engine.drain()
    print(f"Ran {ran} job(s) and {runs} workflow run(s).")


def cmd_billing_run(args) -> None:
    """Close every billing period that ended before the date (idempotent; see README, Invoices)."""
    from datetime import date

    from octopushx.billing import clock, invoices, services

    if not services.enabled():
        raise CommandError("billing is off: set OCTOPUSHX_BILLING=1")
    try:
        at = date.fromisoformat(args.at) if args.at else None
    except ValueError:
        raise CommandError(f"--at {args.at!r} is not a date; write YYYY-MM-DD")
    if at is None:
        counts = invoices.run()
    else:
        with clock.frozen(at):
            counts = invoices.run(at)
    print(
        f"Billing run as of {(at or clock.today()).isoformat()}: {counts['issued']} issued, "
        f"{counts['drafted'] + counts['updated'] + counts['unchanged']} draft(s) in their grace days "
        f"({counts['drafted']} new, {counts['updated']} updated), {counts['kept']} issued before; "
        f"{counts['statements']} reseller statement(s) issued. "
        f"Dunning: {counts['emailed']} invoice(s) emailed, {counts['reminded']} reminder(s), "
        f"{counts['past_due']} past due, {counts['suspended']} suspended for non-payment, "
        f"{counts['settled']} settled."
    )


def cmd_billing_reconcile(args) -> None:
    """Compare open card payments with Stripe: repair missed webhooks, alert on disagreements."""
    from octopushx.billing import payments, services

    if not services.enabled():
        raise CommandError("billing is off: set OCTOPUSHX_BILLING=1")
    if not payments.card_payments_enabled():
        raise CommandError("card payment is not set up: set OCTOPUSHX_STRIPE_SECRET_KEY")
    counts = payments.reconcile()
    print(
        f"Reconciled with Stripe: {counts['checked']} payment(s) checked, {counts['repaired']} repaired, "
        f"{counts['alerted']} alert(s), {counts['errors']} could not be checked."
    )


def cmd_billing_tax_rate(args) -> None:
    """Set (or list) the tax rate per customer country that invoices apply."""
    from django.core.exceptions import ValidationError

    from octopushx.billing import invoices
    from octopushx.billing.models import TaxRate
    from octopushx.core.context import Actor

    if args.country is None:
        for row in TaxRate.objects.all():
            print(f"{row.country}  {row.name} {row.rate.normalize():f} %")
        return
    if args.rate is None:
        raise CommandError("give the rate in percent after the country, e.g. `billing tax-rate DE 19`")
    try:
        row = invoices.set_tax_rate(Actor.system("cli"), args.country, args.rate, args.name)
    except ValidationError as exc:
        raise CommandError("; ".join(f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items()))
    print(f"{row.country}: {row.name} {row.rate.normalize():f} %")


def cmd_analyze(args) -> None:
    """Transcribe and analyse one recording; needs neither Django nor a database."""
    from octopushx.intelligence import console

    try:
        console.run(args)
    except console.ConsoleError as exc:
        raise CommandError(str(exc))


def cmd_manage(args) -> None:
    from django.core.management import execute_from_command_line

    execute_from_command_line(["octopushx manage", *args.rest])


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="octopushx", description="OctopushX platform command line")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("serve", help="run the web server with the job consumer inside")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    # Each agent's open page holds a thread for its caller-card stream; a quarter stay for requests.
    p.add_argument("--threads", type=int, default=64)
    p.add_argument("--no-worker", action="store_true", help="do not start the in-process job consumer")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="run a job consumer only (use with REDIS_URL on any machine)")
    p.add_argument("--threads", type=int, default=2)
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("migrate", help="create or upgrade the database")
    p.add_argument("--verbose", action="store_true")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("demo", help="load the demo organisation (Acme Support)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("backup", help="back up the embedded database, job store and files; the master key apart")
    p.add_argument("destination", metavar="DEST", help="the backup file to write, e.g. /backups/octopushx.tar")
    p.add_argument("--key-out", metavar="FILE", help="where to write the master key (default: DEST.key)")
    p.add_argument("--force", action="store_true", help="overwrite DEST and the key file if they exist")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="check a backup and its master key, then restore it into the data folder")
    p.add_argument("source", metavar="SRC", help="a file written by `octopushx backup`")
    p.add_argument("--key", metavar="FILE", help="the key file written with it (default: SRC.key)")
    p.add_argument("--force", action="store_true", help="replace the data already in the data folder")
    p.set_defaults(func=cmd_restore)

    tenant = sub.add_parser("tenant", help="organisations").add_subparsers(dest="action", required=True)
    p = tenant.add_parser("create", help="create an organisation with its first owner; prints its id")
    p.add_argument("--name", required=True)
    p.add_argument("--admin-email", required=True)
    p.add_argument("--password", required=True)
    p.add_argument("--kind", choices=["customer", "reseller"], default="customer")
    p.add_argument("--parent", help="id of the reseller that sells to this customer")
    p.set_defaults(func=cmd_tenant_create)
    p = tenant.add_parser("list", help="list organisations")
    p.set_defaults(func=cmd_tenant_list)
    p = tenant.add_parser("export", help="write a whole organisation's data (ZIP: CSV per table, files, manifest)")
    p.add_argument("tenant", metavar="ORG", help="the organisation's id")
    p.add_argument("--out", required=True, metavar="FILE", help="the ZIP file to write")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.set_defaults(func=cmd_tenant_export)
    p = tenant.add_parser("terminate", help="give notice to terminate an organisation (or --cancel it)")
    p.add_argument("tenant", metavar="ORG", help="the organisation's id")
    p.add_argument("--notice-days", type=int, default=30, help="days before deletion, 7 to 90 (default 30)")
    p.add_argument("--reason", default="")
    p.add_argument("--confirm", metavar="NAME", help="the organisation's name, exactly")
    p.add_argument("--cancel", action="store_true", help="cancel the termination during its notice period")
    p.set_defaults(func=cmd_tenant_terminate)
    p = tenant.add_parser("terminations", help="list terminations; --run-due deletes those whose notice ended")
    p.add_argument("--run-due", action="store_true", help="carry out every termination whose notice has ended")
    p.set_defaults(func=cmd_tenant_terminations)
    p = tenant.add_parser("certificate", help="write the certificate of deletion (PDF) of a termination")
    p.add_argument("termination", metavar="ID", help="the termination's id")
    p.add_argument("--out", required=True, metavar="FILE")
    p.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    p.set_defaults(func=cmd_tenant_certificate)

    brand = sub.add_parser("brand", help="white-label brands").add_subparsers(dest="action", required=True)
    p = brand.add_parser("verify", help="verify a brand's custom domain (its DNS TXT record, or --skip-dns)")
    p.add_argument("domain")
    p.add_argument(
        "--skip-dns", action="store_true", help="mark it verified without DNS (on-premise installs, tests); audited"
    )
    p.set_defaults(func=cmd_brand_verify)

    user = sub.add_parser("user", help="users").add_subparsers(dest="action", required=True)
    p = user.add_parser("create", help="add a user to an organisation; prints the user id")
    p.add_argument("--tenant", required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--role", required=True, choices=["owner", "admin", "manager", "agent", "auditor"])
    p.add_argument("--password", required=True)
    p.set_defaults(func=cmd_user_create)

    token = sub.add_parser("token", help="API tokens").add_subparsers(dest="action", required=True)
    p = token.add_parser("create", help="create an API token; prints it once")
    p.add_argument("--email", required=True)
    p.add_argument("--tenant")
    p.add_argument("--name", default="cli")
    p.add_argument("--days", type=int, default=0, help="expire after this many days (default: never)")
    p.set_defaults(func=cmd_token_create)

    audit = sub.add_parser("audit", help="audit trail").add_subparsers(dest="action", required=True)
    p = audit.add_parser("verify", help="verify the hash chain(s); exit 1 when broken")
    p.add_argument("--tenant")
    p.set_defaults(func=cmd_audit_verify)

    keys = sub.add_parser("keys", help="encryption keys").add_subparsers(dest="action", required=True)
    p = keys.add_parser("rotate", help="rewrap every tenant data key with the current master key")
    p.set_defaults(func=cmd_keys_rotate)
    p = keys.add_parser("generate", help="print a new random master key")
    p.set_defaults(func=cmd_keys_generate)

    jobs = sub.add_parser("jobs", help="background jobs").add_subparsers(dest="action", required=True)
    p = jobs.add_parser("run", help="run every due job in this process and exit")
    p.set_defaults(func=cmd_jobs_run)

    billing = sub.add_parser("billing", help="billing").add_subparsers(dest="action", required=True)
    p = billing.add_parser("run", help="close every billing period that ended before the date (idempotent)")
    p.add_argument("--at", help="the day to run as of, YYYY-MM-DD (default: today, UTC)")
    p.set_defaults(func=cmd_billing_run)
    p = billing.add_parser("reconcile", help="compare open card payments with Stripe; repair or alert")
    p.set_defaults(func=cmd_billing_reconcile)
    p = billing.add_parser("tax-rate", help="set a customer country's tax rate (no arguments: list them)")
    p.add_argument("country", nargs="?", help="ISO 3166 code, e.g. DE")
    p.add_argument("rate", nargs="?", help="percent, e.g. 19")
    p.add_argument("--name", default="VAT")
    p.set_defaults(func=cmd_billing_tax_rate)

    from octopushx.intelligence.console import add_arguments as analyze_arguments

    p = sub.add_parser("analyze", help="transcribe and analyse one call recording (no database)")
    analyze_arguments(p)
    p.set_defaults(func=cmd_analyze)

    p = sub.add_parser("manage", help="run a Django management command", add_help=False)
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.func is not cmd_analyze:  # analyze is pure: no Django, no database
            _setup()
        # backup runs before an upgrade's migrations too; restore may find no database at all.
        standalone = (
            cmd_manage,
            cmd_keys_generate,
            cmd_migrate,
            cmd_serve,
            cmd_demo,
            cmd_analyze,
            cmd_backup,
            cmd_restore,
        )
        if args.func not in standalone:
            _require_database()
        args.func(args)
    except CommandError as exc:
        print(f"octopushx: error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from django.core.exceptions import ImproperlyConfigured
        from django.db import OperationalError

        if isinstance(exc, ImproperlyConfigured):
            print(f"octopushx: configuration error: {exc}", file=sys.stderr)
            return 2
        if isinstance(exc, OperationalError):
            detail = " ".join(str(exc).split())
            print(f"octopushx: cannot use the database (check DATABASE_URL): {detail}", file=sys.stderr)
            return 2
        raise
    return 0


def _require_database() -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise CommandError("The database is not up to date; run `octopushx migrate` first")


if __name__ == "__main__":
    sys.exit(main())
