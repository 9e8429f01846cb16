"""`wbs init | serve | user | unit | demo | audit verify | jobs | backup | restore`."""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import select

from wbs import instance, migrate
from wbs.enums import Role, UnitKind
from wbs.settings import Settings


def _fail(message: str) -> int:
    print(f"wbs: {message}", file=sys.stderr)
    return 2


def _os_error(exc: OSError) -> int:
    """A file named on the command line that cannot be read or written: its name and why."""
    return _fail(f"{exc.filename}: {exc.strerror}" if exc.filename else str(exc))


def cmd_init(settings: Settings, _args: argparse.Namespace) -> int:
    created = instance.create_keys(settings.keys_dir)
    for name in created:
        print(f"created instance key {settings.keys_dir / name} (mode 0600)")
    if not created:
        print(f"instance keys already exist in {settings.keys_dir}; kept")
    instance.load_keys(settings.keys_dir)  # refuse unsafe modes now, not at first request
    from wbs.integrations import keys as lapor_keys

    if lapor_keys.ensure_key(settings.keys_dir):
        print(f"created connector key {settings.keys_dir / lapor_keys.KEY_FILE} (mode 0600)")
    settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    migrate.upgrade(settings.database_url)
    print("database schema is at the latest migration")
    profile = getattr(_args, "profile", None)
    if profile:
        from wbs.profiles import shipped, store

        store.choose(_context(settings), profile)
        chosen = shipped.PROFILES[profile]
        print(f"regional rule profile: {chosen.name} ({chosen.title})")
        if chosen.timezone != settings.timezone:
            print(f"note: this profile's region keeps {chosen.timezone}; set WBS_TIMEZONE")
    holders = getattr(_args, "recovery_holders", None)
    if holders:
        from wbs.ops import recovery

        try:
            _print_shares(recovery.setup(_context(settings),
                                         [h for h in holders.split(";") if h.strip()],
                                         _args.recovery_threshold, "cli"),
                          _args.recovery_threshold)
        except recovery.RecoveryRefused as exc:
            return _recovery_refused(exc.code, _args)
    return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    try:
        instance.load_keys(settings.keys_dir)
    except instance.KeyFileError as exc:
        return _fail(str(exc))
    from wbs import logs

    logs.configure()
    # Each worker keeps its own anonymous-request buckets and takes its share of the ceilings
    # (wbs/web/ratelimit.py); a multi-node deployment sets the total itself.
    os.environ.setdefault("WBS_RATE_LIMIT_PROCESSES", str(max(1, args.workers)))
    if args.jobs_every:
        jobs_loop(settings, args.jobs_every)
    from wbs import serving

    # Workers are spawned processes: they read the head deadline from the environment.
    os.environ[serving.HEADER_TIMEOUT_ENV] = str(args.header_timeout)
    uvicorn.run(
        "wbs.asgi:app", host=args.host, port=args.port, workers=args.workers,
        proxy_headers=args.proxy_headers, forwarded_allow_ips=settings.trusted_proxies,
        access_log=False, server_header=False, log_config=None,
        # Our h11 protocol: TCP_NODELAY on every accepted socket (with --workers N asyncio
        # skips it) and a deadline for request heads (wbs/serving.py).
        http="wbs.serving:WbsH11Protocol",
        timeout_keep_alive=args.keep_alive, limit_concurrency=args.limit_concurrency,
        h11_max_incomplete_event_size=args.max_header_bytes, backlog=args.backlog,
        timeout_graceful_shutdown=30,
    )
    return 0


def _context(settings: Settings):  # type: ignore[no-untyped-def]
    from wbs.app import build_context

    return build_context(settings)


def cmd_unit(settings: Settings, args: argparse.Namespace) -> int:
    from wbs import units
    from wbs.models import Unit

    if args.unit_cmd == "rotate":
        return cmd_unit_rotate(settings, args)
    ctx = _context(settings)
    with ctx.db.begin() as session:
        if args.unit_cmd == "add":
            if units.by_slug(session, args.slug):
                return _fail(f"unit {args.slug} already exists")
            units.create_unit(session, ctx, slug=args.slug, name=args.name,
                              kind=UnitKind(args.kind), actor="cli")
            print(f"unit {args.slug} created; its key goes to its first member")
        else:
            for unit in session.scalars(select(Unit).order_by(Unit.slug)):
                print(f"{unit.slug:24} {unit.kind:14} {unit.name}")
    return 0


def cmd_user(settings: Settings, args: argparse.Namespace) -> int:
    from wbs import accounts, units
    from wbs.models import User
    from wbs.ops import keys

    ctx = _context(settings)
    if args.user_cmd in ("disable", "reset"):
        try:
            if args.user_cmd == "disable":
                counts = keys.remove_member(ctx, args.username, "cli")
                print(f"user {args.username} disabled; removed "
                      + ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in counts.items()))
                return 0
            password = os.environ.get("WBS_NEW_PASSWORD") or getpass.getpass("New password: ")
            secret = keys.reset_credentials(ctx, args.username, password, "cli")
        except keys.KeyRefused as exc:
            return _fail({"unknown_user": f"no user {args.username}",
                          "password_too_short": "password must have at least 12 characters"}
                         .get(exc.code, exc.code))
        print(f"user {args.username}: new password and key pair. Enrol this TOTP secret now; "
              "it is not shown again:")
        print(f"  secret: {secret}")
        print("  access to the unit's cases: a colleague of the unit grants it again "
              "(Pekerjaan page); the old private key cannot be recovered, by design")
        import segno

        segno.make(accounts.totp_uri(ctx, args.username, secret)).terminal(compact=True)
        return 0
    with ctx.db.begin() as session:
        if args.user_cmd == "add":
            unit = units.by_slug(session, args.unit) if args.unit else None
            if args.unit and unit is None:
                return _fail(f"no unit {args.unit}")
            password = os.environ.get("WBS_NEW_PASSWORD") or getpass.getpass("Password: ")
            if len(password) < 12:
                return _fail("password must have at least 12 characters")
            try:
                _user, secret = accounts.create_user(
                    session, ctx, username=args.username.lower(), display_name=args.name,
                    role=Role(args.role), password=password, unit=unit, actor="cli")
            except accounts.RoleUnitMismatch as exc:
                return _fail(str(exc))
            print(f"user {args.username} created. Enrol this TOTP secret now; "
                  "it is not shown again:")
            if unit is not None:
                print("  access to the unit's cases: granted by a colleague of the unit who "
                      "already has it (Pekerjaan page), unless this is the unit's first member")
            print(f"  secret: {secret}")
            import segno

            segno.make(accounts.totp_uri(ctx, args.username, secret)).terminal(compact=True)
        else:
            for user in session.scalars(select(User).order_by(User.username)):
                state = "active" if user.active else "disabled"
                print(f"{user.username:24} {user.role:14} {state}")
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    from wbs import demo

    if not settings.development:
        return _fail("`wbs demo` only runs with WBS_ENV=development: it creates known accounts")
    ctx = _context(settings)
    path = settings.data_dir / "demo-credentials.json"
    created = demo.load(ctx)
    if not created:
        print(f"demo data already present; credentials are in {path}")
    else:
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(created, fh, indent=2)
        print(f"demo units and users created; passwords and TOTP secrets written to {path} "
              "(0600)")
    if args.cases:
        demo.bulk(ctx.engine, args.cases, today=ctx.today(),
                  progress=lambda d, t: _progress("cases", d, t, unit="cases"))
        print(f"{args.cases:,} bulk cases added (metadata only: their sealed content is a fixed "
              "blob no key opens)")
    return 0


def cmd_audit(settings: Settings, args: argparse.Namespace) -> int:
    from wbs import audit

    try:
        note = Path(args.checkpoint).read_text() if args.checkpoint else None
    except OSError as exc:
        return _os_error(exc)
    ctx = _context(settings)
    k = ctx.audit_keys
    with ctx.db() as session:
        if note is not None:
            result = audit.verify_against_checkpoint(session, note, k.origin, k.key_name, k.public)
        else:
            result = audit.verify_log(session, k.public, k.origin, k.key_name)
    if result.ok:
        print(f"audit log OK: {result.tree_size} entries, root {result.root.hex()}")
        return 0
    print(f"audit log FAILED: {result.problem}")
    return 1


def _progress(stage: str, done: int, total: int, unit: str = "MB") -> None:
    """A one-line progress bar on stderr (only on a terminal: logs stay clean); `done` and
    `total` are bytes shown in MB, or items of `unit`."""
    if not sys.stderr.isatty() or total <= 0:
        return
    width = 30
    filled = min(width, width * done // total)
    amount = (f"{done / 1e6:,.1f} / {total / 1e6:,.1f} MB" if unit == "MB"
              else f"{done:,} / {total:,} {unit}")
    sys.stderr.write(f"\r{stage}: [{'#' * filled}{'.' * (width - filled)}] {amount}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()


def _passphrase(args: argparse.Namespace, confirm: bool) -> str | None:
    if getattr(args, "recipient", None) or getattr(args, "identity", None):
        return None
    if args.passphrase_file:
        return Path(args.passphrase_file).read_text().rstrip("\n")
    first = getpass.getpass("backup passphrase: ")
    if confirm and getpass.getpass("again: ") != first:
        raise ValueError("the two passphrases differ")
    return first


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    """A consistent, sealed snapshot of the database and the instance keys (wbs/ops/backup.py)."""
    from wbs.ops import backup

    try:
        path = backup.create(settings, Path(args.dest), passphrase=_passphrase(args, True),
                             recipient=args.recipient, progress=_progress)
    except (backup.BackupError, ValueError) as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _os_error(exc)
    print(f"backup written to {path} ({path.stat().st_size:,} bytes)")
    return 0


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    """Check the whole archive, install it, then verify the audit log."""
    from wbs.ops import backup

    source = Path(args.source)
    try:
        identity = Path(args.identity).read_text() if args.identity else None
        # Asked only of a backup sealed with one: a key-sealed one needs its identity file.
        passphrase = _passphrase(args, False) if backup.needs_passphrase(source) else None
        done = backup.restore(settings, source, passphrase=passphrase, identity_text=identity,
                              force=args.force, progress=_progress)
    except (backup.BackupError, ValueError) as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _os_error(exc)
    print(f"restored {done.members} files from a backup of {done.manifest['created']} "
          f"(schema {done.manifest['alembic_revision']})")
    migrate.upgrade(settings.database_url)
    return cmd_audit(settings, argparse.Namespace(checkpoint=None))


def cmd_hold(settings: Settings, args: argparse.Namespace) -> int:
    """Legal holds: a held case is never shredded at the end of its retention period."""
    from wbs.ops import retention

    ctx = _context(settings)
    actor = os.environ.get("SUDO_USER") or getpass.getuser()
    try:
        if args.hold_cmd == "add":
            retention.place_hold(ctx, args.case_number, args.reason, f"cli:{actor}")
        elif args.hold_cmd == "lift":
            retention.lift_hold(ctx, args.case_number, args.reason, f"cli:{actor}")
    except retention.HoldError as exc:
        return _fail({"reason_required": "a reason is required (at most 500 characters)",
                      "unknown_case": "no case has that number",
                      "already_shredded": "that case's content was already destroyed",
                      "already_held": "that case is already on hold",
                      "not_held": "that case is not on hold"}[exc.code])
    for hold in retention.holds(ctx):
        print(f"{hold.case_number}  since {hold.placed_on}  by {hold.placed_by}: {hold.reason}")
    return 0


def cmd_unit_rotate(settings: Settings, args: argparse.Namespace) -> int:
    from wbs.ops import keys

    ctx = _context(settings)
    password = os.environ.get("WBS_MEMBER_PASSWORD") or getpass.getpass(
        f"password of {args.member}: ")
    try:
        done = keys.rotate_unit_key(ctx, args.slug, args.member, password,
                                    progress=lambda d, t: _progress("re-wrap", d, t, unit="keys"))
    except keys.KeyRefused as exc:
        return _fail({"wrong_password": "wrong password (or the account is disabled)",
                      "not_a_member": f"{args.member} is not a member of {args.slug}",
                      "not_a_key_holder": f"{args.member} does not hold the unit's key",
                      "unknown_user": f"no user {args.member}"}.get(exc.code, exc.code))
    print(f"unit {args.slug}: key pair {done.serial}; {done.rewrapped} case keys re-wrapped")
    return 0


def _print_shares(made: list[Any], threshold: int) -> None:
    print(f"Recovery key created: any {threshold} of these {len(made)} officials can restore a "
          "unit's access together. Give each one their words, on paper, in a sealed envelope. "
          "They are shown ONCE and stored nowhere.")
    for share in made:
        print(f"\n{share.holder}:\n  {share.words}")


def _recovery_refused(code: str, args: argparse.Namespace) -> int:
    """The operator's words for a refusal of `wbs recovery` (or `wbs init --recovery-holders`);
    only `recovery use` names a unit and a member."""
    slug, to = getattr(args, "slug", ""), getattr(args, "to", "")
    return _fail({"bad_holders": "name 2 to 16 different officials, separated by ';', "
                                 "and a threshold between 2 and their number",
                  "already_set_up": "a recovery key exists already",
                  "shares_insufficient": "the shares do not fit together or are too few",
                  "wrong_shares": "these shares are not of this instance's recovery key",
                  "not_set_up": "no recovery key was set up (wbs recovery setup)",
                  "not_a_member": f"{to} is not an active member of {slug}",
                  "unit_not_escrowed": f"the key of {slug} was never wrapped to the "
                                       "recovery key"}.get(code, code))


def cmd_recovery(settings: Settings, args: argparse.Namespace) -> int:
    """Organisational recovery: set up the M-of-N recovery key, or use M shares."""
    from wbs.ops import recovery

    ctx = _context(settings)
    try:
        if args.recovery_cmd == "setup":
            _print_shares(recovery.setup(ctx, [h for h in args.holders.split(";") if h.strip()],
                                         args.threshold, "cli"), args.threshold)
            return 0
        typed = [line.strip() for line in sys.stdin if line.strip()] if not sys.stdin.isatty() \
            else list(iter(lambda: getpass.getpass("share (blank to finish): ").strip(), ""))
        recovery.recover(ctx, args.slug, args.to, typed, "cli")
    except recovery.RecoveryRefused as exc:
        return _recovery_refused(exc.code, args)
    print(f"{args.to} holds the key of {args.slug} again; this use is audited and shown on the "
          "transparency page")
    return 0


def cmd_calendar(settings: Settings, args: argparse.Namespace) -> int:
    """Regional holidays, changed cuti bersama and a Pemda's own deadline rules."""
    from datetime import date

    from wbs.cases import calendar_admin

    ctx = _context(settings)
    try:
        if args.cal_cmd == "holiday":
            calendar_admin.set_override(ctx, "cli", "system", date.fromisoformat(args.day),
                                        False, args.label)
        elif args.cal_cmd == "workday":
            calendar_admin.set_override(ctx, "cli", "system", date.fromisoformat(args.day),
                                        True, args.label)
        elif args.cal_cmd == "rule":
            calendar_admin.set_rule(ctx, "cli", "system", args.key, args.amount, args.unit)
        for row in calendar_admin.overrides(ctx):
            print(f"{row.day}  {'working' if row.working else 'holiday':8} {row.label}")
        for rule in calendar_admin.rules(ctx):
            mark = " (changed)" if rule.overridden else ""
            print(f"{rule.key:18} {rule.amount:4} {rule.unit}{mark}")
    except calendar_admin.InvalidSetting as exc:
        return _fail(exc.code)
    except ValueError:
        return _fail("dates are YYYY-MM-DD")
    return 0


def cmd_jobs(settings: Settings, _args: argparse.Namespace) -> int:
    """Archive, close, remind, escalate, expire disclosures, send notices, publish a checkpoint.

    Idempotent: cron may run it as often as it likes, and overlapping runs act once."""
    from wbs import jobs

    counts = jobs.run_all(_context(settings))
    print(" ".join(f"{name}={value}" for name, value in sorted(counts.items())))
    return 0


def cmd_lapor(settings: Settings, args: argparse.Namespace) -> int:
    """`wbs lapor import FILE`: reports exported from SP4N-LAPOR! enter the workflow."""
    from wbs.integrations import lapor_format, lapor_import

    try:
        data = Path(args.file).read_bytes()
    except OSError as exc:
        return _fail(f"cannot read {args.file}: {exc.strerror}")
    try:
        result = lapor_import.import_documents(_context(settings), data, actor="cli:lapor-import")
    except lapor_format.FormatError as exc:
        return _fail(f"{args.file} is not a LAPOR! export (field {exc.code}); nothing imported")
    print(f"imported={result.imported} skipped={result.skipped}")
    for number in result.case_numbers:
        print(number)
    return 0


def jobs_loop(settings: Settings, every: float) -> threading.Event:
    """Run the jobs every `every` seconds in a daemon thread of the serving process, until the
    event returned is set."""
    from wbs import jobs, logs

    stop = threading.Event()

    def loop() -> None:
        ctx = _context(settings)
        while True:
            try:
                counts = jobs.run_all(ctx)
                logs.event("jobs_run", **counts)
            except Exception as exc:  # noqa: BLE001 - logged safely; the next round retries
                logs.event("jobs_failed", 40, **logs.safe_exception_fields(exc))
            if stop.wait(every):
                return

    threading.Thread(target=loop, name="wbs-jobs", daemon=True).start()
    return stop


def build_parser() -> argparse.ArgumentParser:
    from wbs.profiles import shipped

    p = argparse.ArgumentParser(prog="wbs", description="whistleblowing and complaint portal")
    sub = p.add_subparsers(dest="cmd", required=True)
    init = sub.add_parser("init", help="create instance keys and the database schema")
    init.add_argument("--profile", choices=list(shipped.PROFILES),
                      help="the regional rule profile (the regulation the Pemda follows)")
    init.add_argument("--recovery-holders", metavar='"NAME;NAME;…"',
                      help="create the organisational recovery key, split among these officials "
                           "(each share printed once; see `wbs recovery`)")
    init.add_argument("--recovery-threshold", type=int, default=3,
                      help="shares needed to use the recovery key (default 3)")
    s = sub.add_parser(
        "serve", help="serve the portal",
        description="Serve the portal with uvicorn. Request bodies are also bounded inside the "
                    "app (WBS_BODY_MIN_RATE, WBS_BODY_WINDOW_SECONDS, WBS_BODY_MAX_SECONDS) and "
                    "uploads by a per-process byte budget (WBS_UPLOAD_BUDGET_BYTES).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=1,
                   help="worker processes (each with its own upload budget and cleaners)")
    s.add_argument("--proxy-headers", action="store_true",
                   help="trust X-Forwarded-* from WBS_TRUSTED_PROXIES")
    s.add_argument("--limit-concurrency", type=int, default=1000, metavar="N",
                   help="per worker: past N open connections or requests, answer 503 at once")
    s.add_argument("--keep-alive", type=int, default=5, metavar="SECONDS",
                   help="close an idle keep-alive connection after SECONDS")
    s.add_argument("--header-timeout", type=float, default=10.0, metavar="SECONDS",
                   help="close a connection whose request line and headers take longer")
    s.add_argument("--max-header-bytes", type=int, default=16 * 1024, metavar="BYTES",
                   help="refuse a request whose line and headers are larger (400)")
    s.add_argument("--backlog", type=int, default=512,
                   help="connections the kernel queues before they are accepted")
    s.add_argument("--jobs-every", type=int, default=0, metavar="SECONDS",
                   help="also run `wbs jobs run` in this process every SECONDS (0: off)")
    u = sub.add_parser("user", help="staff accounts")
    us = u.add_subparsers(dest="user_cmd", required=True)
    ua = us.add_parser("add")
    ua.add_argument("username")
    ua.add_argument("--name", required=True)
    ua.add_argument("--role", required=True, choices=[r.value for r in Role])
    ua.add_argument("--unit")
    us.add_parser("list")
    ud = us.add_parser("disable", help="disable an account: its key wraps and sessions go")
    ud.add_argument("username")
    ur = us.add_parser("reset", help="new password, TOTP and key pair for a forgotten password")
    ur.add_argument("username")
    n = sub.add_parser("unit", help="units")
    ns = n.add_subparsers(dest="unit_cmd", required=True)
    na = ns.add_parser("add")
    na.add_argument("slug")
    na.add_argument("--name", required=True)
    na.add_argument("--kind", required=True, choices=[k.value for k in UnitKind])
    ns.add_parser("list")
    nr = ns.add_parser("rotate", help="new key pair for a unit; re-wraps its case keys "
                                      "(resumable)")
    nr.add_argument("slug")
    nr.add_argument("--member", required=True, help="a member who holds the unit's key "
                                                    "(asked for their password)")
    dm = sub.add_parser("demo", help="load demo units and users (WBS_ENV=development only)")
    dm.add_argument("--cases", type=int, default=0, metavar="N",
                    help="also add N generated cases (metadata for lists, statistics, bench)")
    a = sub.add_parser("audit", help="audit log")
    asub = a.add_subparsers(dest="audit_cmd", required=True)
    av = asub.add_parser("verify", help="recompute the Merkle tree and signatures")
    av.add_argument("--checkpoint", help="a saved checkpoint note: check the log only grew")
    c = sub.add_parser("calendar", help="regional holidays, cuti bersama, deadline rules")
    cs = c.add_subparsers(dest="cal_cmd", required=True)
    cs.add_parser("list")
    for name, text in (("holiday", "declare a regional holiday"),
                       ("workday", "make a day a working day (a cancelled cuti bersama)")):
        cp = cs.add_parser(name, help=text)
        cp.add_argument("day", help="YYYY-MM-DD")
        cp.add_argument("label")
    cr = cs.add_parser("rule", help="set a deadline rule, e.g. missing_data 30 calendar_days")
    cr.add_argument("key")
    cr.add_argument("amount", type=int)
    cr.add_argument("unit", choices=["working_days", "calendar_days"])
    b = sub.add_parser("backup", help="a sealed, consistent backup of the database and keys")
    b.add_argument("dest", help="the archive to write (must not exist)")
    b.add_argument("--recipient", help="seal to this age public key (age1…) instead of a "
                                       "passphrase")
    b.add_argument("--passphrase-file", help="read the passphrase from this file (else asked)")
    r = sub.add_parser("restore", help="check a backup, then install it (ends with audit "
                                       "verify)")
    r.add_argument("source")
    r.add_argument("--identity", help="the age identity file for a backup sealed to a key")
    r.add_argument("--passphrase-file", help="read the passphrase from this file (else asked)")
    r.add_argument("--force", action="store_true",
                   help="overwrite an existing instance (keys and database)")
    h = sub.add_parser("hold", help="legal holds: suspend a case's retention expiry")
    hs = h.add_subparsers(dest="hold_cmd", required=True)
    hs.add_parser("list")
    for name, text in (("add", "place a legal hold on a case"), ("lift", "lift a legal hold")):
        hp = hs.add_parser(name, help=text)
        hp.add_argument("case_number")
        hp.add_argument("--reason", required=True, help="why (recorded in the audit log)")
    rc = sub.add_parser("recovery", help="organisational recovery key (M of N officials)")
    rcs = rc.add_subparsers(dest="recovery_cmd", required=True)
    setup = rcs.add_parser("setup", help="create the recovery key and print each share once")
    setup.add_argument("--holders", required=True, help='"Name One;Name Two;…" (2 to 16)')
    setup.add_argument("--threshold", type=int, default=3, help="shares needed (default 3)")
    use = rcs.add_parser("use", help="restore a unit's key to a member with M shares "
                                     "(one share per line on standard input)")
    use.add_argument("slug")
    use.add_argument("--to", required=True, help="the member who receives the unit's key")
    j = sub.add_parser("jobs", help="periodic jobs (cron-friendly, idempotent)")
    j.add_subparsers(dest="jobs_cmd", required=True).add_parser("run", help="run the jobs once")
    lp = sub.add_parser("lapor", help="SP4N-LAPOR! exchange")
    lsub = lp.add_subparsers(dest="lapor_cmd", required=True)
    li = lsub.add_parser("import", help="import reports from a LAPOR! JSON file")
    li.add_argument("file")
    return p


COMMANDS = {"init": cmd_init, "serve": cmd_serve, "user": cmd_user, "unit": cmd_unit,
            "demo": cmd_demo, "audit": cmd_audit,
            "backup": cmd_backup, "restore": cmd_restore, "hold": cmd_hold,
            "recovery": cmd_recovery, "jobs": cmd_jobs,
            "calendar": cmd_calendar, "lapor": cmd_lapor}


def main(argv: list[str] | None = None) -> int:
    # Every file wbs creates (database, WAL, keys, mail, exports) is for its own user only.
    os.umask(0o077)
    args = build_parser().parse_args(argv)
    settings = Settings.from_env()
    try:
        return COMMANDS[args.cmd](settings, args)
    except instance.KeyFileError as exc:
        return _fail(str(exc))

