"""`medarc-inspect` command line: `fhir serve` and `fhir export` (more subcommands can join later)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "run"):
        parser.print_help()
        return 2
    try:
        return args.run(args)
    except KeyboardInterrupt:
        if getattr(args, "run", None) is _export:
            print(f"medarc-inspect: error: export interrupted; {args.out} was left as it was", file=sys.stderr)
            return 130
        return 0
    except (OSError, ValueError, RuntimeError, ImportError) as e:
        print(f"medarc-inspect: error: {e}", file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="medarc-inspect", description="medarc-inspect utilities")
    commands = parser.add_subparsers(title="commands")
    fhir = commands.add_parser("fhir", help="the embedded FHIR R4 server")
    fhir_commands = fhir.add_subparsers(title="fhir commands")

    serve = fhir_commands.add_parser(
        "serve", help="serve the synthetic EHR (or --data) on 127.0.0.1; prints the FHIR base URL first"
    )
    serve.add_argument("--data", metavar="DIR", help="serve exactly these resources (NDJSON or Bundle JSON files)")
    serve.add_argument("--port", type=int, default=0, help="TCP port (default: a free one)")
    serve.add_argument("--host", default="127.0.0.1", help="loopback only: 127.0.0.1 (default) or ::1")
    serve.add_argument("--seed", type=int, default=0, help="synthetic EHR seed (without --data)")
    serve.add_argument("--scale", type=float, default=0.0, help="synthetic EHR scale (without --data)")
    serve.set_defaults(run=_serve)

    export = fhir_commands.add_parser("export", help="snapshot a live FHIR server into <Type>.ndjson files")
    export.add_argument("--from", dest="source", required=True, metavar="URL", help="FHIR base URL")
    export.add_argument("--out", required=True, metavar="DIR", help="output directory")
    export.add_argument("--types", help="comma-separated resource types (default: the six MedAgentBench types)")
    export.add_argument("--page-size", type=int, default=1000, help="_count per page (default 1000)")
    export.add_argument("--force", action="store_true", help="replace a non-empty --out directory")
    export.set_defaults(run=_export)
    fhir.set_defaults(run=lambda _: (fhir.print_help(), 2)[1])
    return parser


def _serve(args: argparse.Namespace) -> int:
    from medarc_inspect.fhir.server import FhirServer
    from medarc_inspect.fhir.store import FhirStore

    # FhirDataError (a ValueError) and the data layer's errors (RuntimeError) are reported by main()
    if args.data:
        store = FhirStore.from_dir(args.data)
    else:
        from medarc_inspect.medagentbench.synthetic import build_synthetic_ehr

        store = FhirStore.from_resources(build_synthetic_ehr(seed=args.seed, scale=args.scale).resources)
    server = FhirServer(store, host=args.host, port=args.port)

    async def run() -> None:
        await server.start()
        counts = ", ".join(f"{t} {n}" for t, n in store.counts().items() if n)
        _say(server.default_session.base_url)
        _say(f"serving {len(store)} resources ({counts}); Ctrl-C to stop")
        try:
            await server.serve_forever()
        finally:
            await server.stop()

    asyncio.run(run())
    return 0


def _say(line: str) -> None:
    """Print a line; if stdout was closed (`fhir serve | head -1`), keep serving with stdout discarded."""
    try:
        print(line, flush=True)
    except (BrokenPipeError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _export(args: argparse.Namespace) -> int:
    from medarc_inspect.fhir.export import export_server
    from medarc_inspect.fhir.params import SUPPORTED_TYPES

    types = [t.strip() for t in args.types.split(",") if t.strip()] if args.types else list(SUPPORTED_TYPES)
    counts = export_server(args.source, args.out, types, page_size=args.page_size, force=args.force)
    for rtype, n in counts.items():
        print(f"{rtype}: {n}")
    print(f"wrote {sum(counts.values())} resources to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
