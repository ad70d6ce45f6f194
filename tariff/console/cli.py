"""`tariff console` (the console alone against a database) and `tariff serve`'s
`--console-port` / `--console-host`."""

from __future__ import annotations

import argparse

from tariff.security.identities import SecurityConfigError, is_loopback


def add_console_options(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--console-port", type=int, help="also serve the web console on this port (docs/console.md)"
    )
    serve.add_argument("--console-host", default="127.0.0.1", help="the console's address")


def console_address(args: argparse.Namespace, processes: int) -> tuple[str, int] | None:
    """Where `tariff serve` runs the console, if anywhere. Raises ValueError."""
    port = getattr(args, "console_port", None)
    if port is None:
        return None
    if processes > 1:
        raise ValueError(
            "--console-port needs --processes 1 (or run `tariff console` beside the servers)"
        )
    return args.console_host, port


def check_console_security(host: str, settings: object) -> None:
    """The console's address follows the gRPC port's rule: local mode (no token keys) only
    on a loopback address unless --insecure."""
    local = getattr(settings, "token_keys", None) is None
    if local and not is_loopback(host) and not getattr(settings, "insecure", False):
        raise SecurityConfigError(
            f"the console on {host} would let anyone edit the catalog: give --token-keys "
            "(people sign in with a token), or --insecure"
        )


def _run(args: argparse.Namespace) -> int:
    from tariff.bootstrap import bootstrap
    from tariff.cli import free_port, load_demo, settings_from
    from tariff.console.app import run_alone
    from tariff.ops.logs import configure

    settings = settings_from(args)
    configure(settings.log_level, settings.log_format)
    check_console_security(args.console_host, settings)
    free_port(args.console_host, args.console_port)
    app = bootstrap(settings)
    if args.demo:
        load_demo(app)

    def ready(port: int) -> None:
        print(f"tariff: console on http://{args.console_host}:{port}/", flush=True)

    try:
        run_alone(app, args.console_host, args.console_port, ready)
    finally:
        app.close()
    return 0


def add_console_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    console = sub.add_parser(
        "console",
        help="serve the product managers' web console against a database",
        description="Browse, edit, check, simulate and submit tariffs in a browser "
        "(docs/console.md). Roles as for gRPC: --token-keys makes people sign in.",
    )
    console.add_argument("--console-port", type=int, default=8080, help="port (default 8080)")
    console.add_argument("--console-host", default="127.0.0.1", help="address (default 127.0.0.1)")
    console.add_argument(
        "--database-url", help="the store (default: TARIFF_DATABASE_URL or tariff.sqlite)"
    )
    console.add_argument("--token-keys", help="JSON key file: people sign in with its tokens")
    console.add_argument(
        "--insecure", action="store_true", default=None, help="allow local mode off loopback"
    )
    console.add_argument(
        "--demo", action="store_true", help="load the demo catalog into an empty database"
    )
    console.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    console.set_defaults(run=_run)
