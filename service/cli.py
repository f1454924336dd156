"""The ``relaydesk`` command: serve, check-kb, eval (and more as they land).

relaydesk serve --host 127.0.0.1 --port 8000
relaydesk check-kb
relaydesk eval ../shared/eval/dev.jsonl --json --errors errors.json
relaydesk diagnose example.com --json
relaydesk purge --older-than 90
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from service.errors import RelayDeskError
from service.settings import get_settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from service.main import create_app

    settings = get_settings()
    app = create_app(settings)
    uvicorn.run(app, host=args.host, port=args.port, log_level=settings.log_level)
    return 0


def _check_kb(args: argparse.Namespace) -> int:
    from service.kb import load_knowledge_base

    directory = Path(args.intents) if args.intents else get_settings().intents_dir
    kb = load_knowledge_base(directory)
    for intent in kb.intents.values():
        print(f"{intent.id:<24} {len(intent.examples):>4} examples  {intent.title}")
    print(f"ok: {len(kb.intents)} intents, {kb.example_count} examples in {directory}")
    return 0


def _eval(args: argparse.Namespace) -> int:
    from service.evaluation import evaluate, format_report, read_jsonl
    from service.kb import load_knowledge_base
    from service.nlu.classifier import Classifier

    settings = get_settings()
    kb = load_knowledge_base(settings.intents_dir)
    classifier = Classifier.build(
        kb,
        threshold=settings.confidence_threshold,
        ambiguity_threshold=settings.ambiguity_threshold,
    )
    report = evaluate(classifier, read_jsonl(Path(args.file)))
    if args.errors:
        Path(args.errors).write_text(json.dumps(report.errors, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(report.to_dict(), indent=2) if args.json else format_report(report))
    return 0


def _diagnose(args: argparse.Namespace) -> int:
    import asyncio

    from service.api.deps import diagnostics_config
    from service.diagnostics import Diagnostician
    from service.diagnostics.report import format_diagnosis

    diagnostician = Diagnostician(diagnostics_config(get_settings()))
    diagnosis = asyncio.run(diagnostician.run(args.domain))
    print(diagnosis.model_dump_json(indent=2) if args.json else format_diagnosis(diagnosis))
    return 0


def _purge(args: argparse.Namespace) -> int:
    from service.store import make_engine, make_session_factory, migrate
    from service.store.deliveries import purge_deliveries_older_than
    from service.store.sessions import purge_older_than

    url = get_settings().database_url
    migrate(url)
    engine = make_engine(url)
    try:
        with make_session_factory(engine).begin() as session:
            removed = purge_older_than(session=session, days=args.older_than)
            purge_deliveries_older_than(session=session, days=args.older_than)
    finally:
        engine.dispose()
    print(f"removed {removed} conversations last active more than {args.older_than} days ago")
    return 0


def _days(value: str) -> int:
    days = int(value)
    if days < 1:
        raise argparse.ArgumentTypeError("must be a whole number of days, at least 1")
    return days


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="relaydesk", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(handler=_serve)

    check = commands.add_parser("check-kb", help="validate the intents/ knowledge base")
    check.add_argument("--intents", help="directory to check (default: the configured one)")
    check.set_defaults(handler=_check_kb)

    evaluate = commands.add_parser("eval", help="score the classifier on labelled JSONL")
    evaluate.add_argument("file", help='JSONL lines of {"text": ..., "intent": ...}')
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument("--errors", metavar="FILE", help="write every miss with its scores")
    evaluate.set_defaults(handler=_eval)

    diagnose = commands.add_parser("diagnose", help="run the live DNS and SMTP checks")
    diagnose.add_argument("domain", help="the customer's domain, e.g. example.com")
    diagnose.add_argument("--json", action="store_true", help="print the API's JSON")
    diagnose.set_defaults(handler=_diagnose)

    purge = commands.add_parser("purge", help="delete old conversations and transcripts")
    purge.add_argument("--older-than", type=_days, required=True, metavar="DAYS")
    purge.set_defaults(handler=_purge)

    # subcommands: add new ones above this line
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.handler(args)
    except RelayDeskError as exc:
        print(f"relaydesk: error: {exc.message}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"relaydesk: error: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
