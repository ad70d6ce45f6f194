"""The `tariff` command: run the service and administer the catalog store.

Every failure ends with a one-line message on stderr and a non-zero exit status, never a
traceback; the statuses are one table for every command (tariff.exits, README).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import grpc
from pydantic import ValidationError as SettingsError
from sqlalchemy.exc import SQLAlchemyError

from catalog import bundle, codec
from catalog.errors import CatalogError, ValidationError
from catalog.services import ImportMode
from tariff import exits
from tariff.console.cli import (
    add_console_command,
    add_console_options,
    check_console_security,
    console_address,
)
from tariff.instants import instant_argument
from tariff.output import add_output_option, mode_of, show_record
from tariff.security.options import SERVE_SETTINGS as SECURITY_SETTINGS
from tariff.security.options import add_serve_options
from tariff.settings import Settings

if TYPE_CHECKING:
    from tariff.bootstrap import App

Command = Callable[[argparse.Namespace], int]


#: `tariff serve` flags that are settings (flags win over TARIFF_* variables).
SERVE_SETTINGS = (
    "host",
    "port",
    "database_url",
    "workers",
    "grace_seconds",
    "metrics_port",
    "log_level",
    "log_format",
    "processes",
    *SECURITY_SETTINGS,
)


def settings_from(args: argparse.Namespace) -> Settings:
    overrides = {
        key: value for key in SERVE_SETTINGS if (value := getattr(args, key, None)) is not None
    }
    return Settings(**overrides)


def _serve(args: argparse.Namespace) -> int:
    from tariff.bootstrap import bootstrap
    from tariff.ops.logs import configure
    from tariff.security import check as security_check
    from tariff.server import serve

    settings = settings_from(args)
    configure(settings.log_level, settings.log_format)
    if not settings.access_log:
        logging.getLogger("tariff.access").setLevel(logging.WARNING)
    processes = settings.processes or os.cpu_count() or 1
    console = console_address(args, settings.processes or 1)  # with a console: one process
    if console is not None:
        processes = settings.processes or 1
    child = args.child is not None
    if child:
        from tariff.ops.supervisor import die_with_parent

        die_with_parent()
    else:  # before installing the catalog, which may take a while
        free_port(settings.host, settings.port)
        security_check(settings)  # an unsafe address or TLS/identity settings: refused now
        if console is not None:
            check_console_security(console[0], settings)
            free_port(*console)
    if processes > 1 and not child:
        return _supervise(args, settings.model_copy(update={"processes": processes}))
    app = bootstrap(settings)
    if args.demo and not child:
        load_demo(app)

    def ready(port: int) -> None:
        print(f"tariff: serving on {app.settings.host}:{port}", flush=True)

    asyncio.run(serve(app, on_ready=ready, reuse_port=child, console=console))
    return 0


def _health(args: argparse.Namespace) -> int:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from tariff.security.client import channel_for

    with channel_for(args, args.server) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        try:
            reply = stub.Check(
                health_pb2.HealthCheckRequest(service=args.service), timeout=args.timeout
            )
        except grpc.RpcError as error:
            print(f"tariff: {args.server}: {error.code().name}: {error.details()}", file=sys.stderr)
            return exits.for_rpc(error.code())
    status = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
    record = {"service": args.service, "status": status}
    show_record(record, f"{args.service or 'server'}: {status}", mode_of(args))
    return exits.OK if reply.status == health_pb2.HealthCheckResponse.SERVING else exits.FINDINGS


def free_port(host: str, port: int) -> None:
    """Raises OSError (one line) when `host:port` cannot be listened on."""
    from tariff.ops.supervisor import reserve_port

    if port:
        reserve_port(host, port).close()


def _supervise(args: argparse.Namespace, settings: Settings) -> int:
    """Migrate and load the demo once here, then run the children (tariff.ops.supervisor)."""
    from tariff.bootstrap import bootstrap
    from tariff.ops.supervisor import supervise

    if args.demo or settings.migrate:
        app = bootstrap(settings)
        if args.demo:
            load_demo(app)
        app.close()
    passed = ("host", "database_url", "workers", "grace_seconds", "log_level", "log_format")
    child_args: list[str] = []
    for key in passed:
        value = getattr(args, key, None)
        if value is not None:
            child_args += [f"--{key.replace('_', '-')}", str(value)]
    return supervise(settings, child_args)


DEMO_EFFECTIVE = "2026-01-01T00:00:00+08:00"


def load_demo(app: App) -> bool:
    """Import and publish the demo catalog when the store holds no catalog yet (a database
    with a catalog is never touched). True when it was loaded."""
    from catalog.versions import DRAFT
    from tariff.demo import DEMO

    if app.catalog.list_versions() or app.catalog.content(DRAFT).entities:
        logging.getLogger(__name__).info("demo: the database already has a catalog; not loaded")
        return False
    app.catalog.import_content(bundle.read_path(DEMO))
    app.catalog.publish(codec.parse_instant(DEMO_EFFECTIVE), "demo catalog")
    app.refresh()
    logging.getLogger(__name__).info("demo: catalog loaded and published as version 1")
    return True


def _db_upgrade(args: argparse.Namespace) -> int:
    from sqlalchemy.engine import make_url

    from catalog import migrations
    from catalog.sqlstore import storage_errors

    url = settings_from(args).database_url
    with storage_errors(make_url(url)):
        migrations.upgrade(url)
        print(f"tariff: database at revision {migrations.current(url)}")
    return 0


def _bundle_import(args: argparse.Namespace) -> int:
    from tariff.bootstrap import bootstrap

    content = bundle.read_path(Path(args.path))
    app = bootstrap(settings_from(args))
    try:
        mode = ImportMode.REPLACE if args.replace else ImportMode.MERGE
        result = app.catalog.import_content(content, mode, dry_run=args.dry_run)
    finally:
        app.close()
    verb = "would import" if args.dry_run else "imported"
    line = (
        f"tariff: {verb} {len(result.created)} new, {len(result.updated)} changed, "
        f"{len(result.obsoleted)} obsoleted"
    )
    record = {
        "dry_run": args.dry_run,
        "created": list(result.created),
        "updated": list(result.updated),
        "obsoleted": list(result.obsoleted),
    }
    show_record(record, line, mode_of(args))
    return 0


def _bundle_export(args: argparse.Namespace) -> int:
    from catalog.versions import DRAFT, VersionNumber
    from tariff.bootstrap import bootstrap

    app = bootstrap(settings_from(args), existing=True)
    try:
        content = app.catalog.content(VersionNumber(args.version) if args.version else DRAFT)
    finally:
        app.close()
    target = Path(args.path)
    if target.suffix == ".zip":
        target.write_bytes(bundle.to_zip_bytes(content))
    else:
        bundle.write_directory(content, target)
    print(f"tariff: wrote {target}")
    return 0


def _publish(args: argparse.Namespace) -> int:
    from tariff.bootstrap import bootstrap

    effective = args.effective_from  # tariff.instants.instant_argument: parsed, or None
    app = bootstrap(settings_from(args), existing=True)  # an empty one has nothing to publish
    try:
        published = app.catalog.publish(effective, args.description)
    finally:
        app.close()
    info = published.info
    effective = codec.format_instant(info.effective_from)
    record = {
        "version": info.number,
        "effective_from": effective,
        "content_hash": info.content_hash,
    }
    line = f"tariff: published version {info.number}, in force from {effective}"
    show_record(record, line, mode_of(args))
    return 0


def _add_store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url", help="SQLAlchemy URL (default: TARIFF_DATABASE_URL or tariff.sqlite)"
    )


class Parser(argparse.ArgumentParser):
    """argparse's parser, saying a usage error on one line (exit 2, tariff.exits.USAGE) with
    where to read more, instead of the whole usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(exits.USAGE, f"tariff: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="tariff", description="Telecom tariff engine.")
    parser.add_argument("--version", action="version", version=f"tariff {_version()}")
    sub: argparse._SubParsersAction[argparse.ArgumentParser] = parser.add_subparsers(  # type: ignore[assignment]
        dest="command", required=True
    )

    serve = sub.add_parser("serve", help="run the gRPC service")
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port (default 50051; 0 = any free port)")
    serve.add_argument("--workers", type=int, help="threads for catalog reads and writes")
    serve.add_argument("--grace-seconds", type=float, help="drain time on SIGTERM")
    serve.add_argument(
        "--demo", action="store_true", help="load the demo catalog into an empty database"
    )
    serve.add_argument(
        "--processes",
        type=int,
        help="server processes sharing the port (default: TARIFF_PROCESSES, else one per core)",
    )
    serve.add_argument("--metrics-port", type=int, help="serve Prometheus /metrics on this port")
    serve.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    serve.add_argument("--log-format", choices=["json", "text"], help="json: one object a line")
    serve.add_argument("--child", type=int, help=argparse.SUPPRESS)  # set by the supervisor
    add_serve_options(serve)
    add_console_options(serve)
    _add_store_options(serve)
    serve.set_defaults(run=_serve)

    db = sub.add_parser("db", help="database administration")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_sub.add_parser("upgrade", help="apply migrations up to the latest")
    _add_store_options(upgrade)
    upgrade.set_defaults(run=_db_upgrade)

    bundles = sub.add_parser("bundle", help="import or export catalog bundles")
    bundle_sub = bundles.add_subparsers(dest="bundle_command", required=True)
    load = bundle_sub.add_parser("import", help="load a bundle (directory or .zip) into the draft")
    load.add_argument("path")
    load.add_argument("--replace", action="store_true", help="the draft becomes the bundle")
    load.add_argument("--dry-run", action="store_true", help="check only, write nothing")
    add_output_option(load)
    _add_store_options(load)
    load.set_defaults(run=_bundle_import)
    dump = bundle_sub.add_parser("export", help="write the draft or a version as a bundle")
    dump.add_argument("path", help="a directory, or a file ending in .zip")
    dump.add_argument("--version", type=int, help="a published version (default: the draft)")
    _add_store_options(dump)
    dump.set_defaults(run=_bundle_export)

    from tariff.rules_cli import add_check_command

    add_check_command(sub)
    from tariff.fmt_cli import add_fmt_command

    add_fmt_command(sub)
    from tariff.gen_cli import add_gen_command

    add_gen_command(sub)
    from tariff.eligible_cli import add_eligible_command

    add_eligible_command(sub)
    from tariff.quote_cli import add_quote_command

    add_quote_command(sub)
    from tariff.rate_cli import add_rate_commands

    add_rate_commands(sub)
    from tariff.token_cli import add_token_command

    add_token_command(sub)
    from tariff.audit_cli import add_audit_command

    add_audit_command(sub)
    from tariff.review_cli import add_review_command

    add_review_command(sub)
    from tariff.diff_cli import add_diff_command

    add_diff_command(sub)
    from tariff.lint_cli import add_lint_command

    add_lint_command(sub)
    add_console_command(sub)

    health = sub.add_parser(
        "health",
        help="is a server SERVING (exit 0) or not (exit 1; 4: no server answers)",
        description="Asks the gRPC health service; for container and load-balancer checks.",
    )
    health.add_argument("--server", default="127.0.0.1:50051", help="HOST:PORT")
    health.add_argument("--service", default="", help="one service (default: the server)")
    health.add_argument("--timeout", type=float, default=5.0, help="seconds")
    add_output_option(health)
    from tariff.security.client import add_client_arguments

    add_client_arguments(health)
    health.set_defaults(run=_health)

    publish = sub.add_parser("publish", help="publish the draft as a new catalog version")
    publish.add_argument(
        "--effective-from",
        type=instant_argument,
        metavar="INSTANT",
        help="when it takes effect: 2026-03-10, 2026-03-10T10:00:00+08:00 or +1d (default: now)",
    )
    publish.add_argument("--description", default="", help="release notes")
    add_output_option(publish)
    _add_store_options(publish)
    publish.set_defaults(run=_publish)
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tariff")
    except PackageNotFoundError:  # run from a source tree that is not installed
        return "unknown (not installed)"


def _settings_line(exc: SettingsError) -> str:
    """A bad setting named as the operator wrote it: TARIFF_<NAME> (a flag's value reaches
    the same field), with pydantic's reason."""
    first = exc.errors()[0]
    name = str(first["loc"][0]) if first.get("loc") else ""
    more = len(exc.errors()) - 1
    where = f"TARIFF_{name.upper()} (or --{name.replace('_', '-')})" if name else "a setting"
    return f"{where}: {first['msg']}" + (f" (and {more} more)" if more else "")


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, SettingsError):
        return _settings_line(exc)
    if isinstance(exc, ValidationError) and exc.violations:
        first = exc.violations[0]
        more = len(exc.violations) - 1
        return f"{first.field}: {first.description}" + (f" (and {more} more)" if more else "")
    return " ".join(str(exc).split()) or type(exc).__name__


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as done:  # --help, --version (0) or bad usage (2, said on one line)
        return done.code if isinstance(done.code, int) else exits.USAGE
    run: Command = args.run
    try:
        return run(args)
    except (CatalogError, SettingsError, OSError, ValueError) as exc:
        print(f"tariff: error: {_one_line(exc)}", file=sys.stderr)
        return exits.for_error(exc)
    except grpc.RpcError as exc:  # a call to --server that no command caught itself
        from tariff.eligible_cli import rpc_error_line

        print(f"tariff: error: {rpc_error_line(exc)}", file=sys.stderr)
        return exits.for_error(exc)
    except SQLAlchemyError as exc:
        cause = getattr(exc, "orig", None) or exc
        print(f"tariff: database error: {_one_line(cause)}", file=sys.stderr)
        return exits.UNREACHABLE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
