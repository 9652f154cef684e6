"""The `tutorbot` command (also `python -m bot`)."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from bot.config import Config, ConfigError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tutorbot",
        description="A Discord tutor for study groups learning deep learning with PyTorch.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="run the bot on Discord (needs DISCORD_TOKEN); with no "
                        "command, tutorbot runs this, or the demo when no token is set")
    commands.add_parser("sync", help="register the slash commands with Discord")
    demo = commands.add_parser("demo", help="the bot in a simulated Discord, in your browser")
    demo.add_argument("--speed", type=float, default=1.0,
                      help="simulated seconds per real second (default 1)")
    play = commands.add_parser("play", help="play a pack in the terminal")
    play.add_argument("--pack", help="pack id (default: the first pack)")
    play.add_argument("--learning", action="store_true",
                      help="score accuracy only, without the speed bonus")
    play.add_argument("--database", type=Path, help="SQLite file (default: DATABASE_PATH)")
    questions = commands.add_parser("questions", help="check question packs")
    qcommands = questions.add_subparsers(dest="questions_command", metavar="ACTION",
                                         required=True)
    check = qcommands.add_parser("check", help="validate packs; exit 1 listing every error")
    check.add_argument("path", nargs="?", type=Path, help="a pack folder, pack.yaml, or the "
                       "folder of packs (default: QUESTIONS_PATH)")
    qcommands.add_parser("schema", help="print the JSON Schema of pack.yaml for editors")
    verify = qcommands.add_parser("verify", help="run every experiment and check the answer "
                                  "it derives against the key; exit 1 naming contradictions")
    verify.add_argument("path", nargs="?", type=Path, help="packs to verify (default: "
                        "QUESTIONS_PATH)")
    verify.add_argument("--size", choices=("test", "cpu", "full"), default="test",
                        help="experiment size (default: test, the smallest that shows the "
                        "effect)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = Config.from_env()
    except ConfigError as exc:
        print(f"tutorbot: {exc}", file=sys.stderr)
        return 2
    logging.basicConfig(level=config.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet = args.command in ("questions", "play", "demo") or (
        args.command is None and not config.discord_token)  # the demo
    if quiet:
        logging.getLogger().setLevel(logging.WARNING)  # keep the terminal for the output
    if args.command == "questions":
        from bot.cli import questions

        if args.questions_command == "schema":
            return questions.schema()
        if args.questions_command == "verify":
            return questions.verify(args.path or config.questions_path, args.size,
                                    config.worker_cache_dir, config.worker_timeout_s)
        return questions.check(args.path or config.questions_path)
    if args.command == "play":
        from bot.cli import play

        return play.main(config.questions_path, args.database or config.database_path,
                         args.pack, args.learning)
    if args.command == "demo":
        from bot.cli import demo

        return demo.main(config, args.speed, rounds=None)
    from bot.cli import run

    if args.command == "sync":
        return run.main_sync(config)
    if args.command == "run":
        return run.main_run(config)
    return run.main_default(config)


if __name__ == "__main__":
    sys.exit(main())
