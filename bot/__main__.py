"""The `tutorbot` command (also `python -m bot`).

Whatever is wrong with a setting, an argument or the pack folder, the answer is one line on
stderr and exit code 2, never a traceback: that line is what an admin pastes into a chat.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import re
import sys
from pathlib import Path
from typing import NoReturn

from bot.config import (
    ECHO_LIMIT,
    Config,
    ConfigError,
    Refused,
    clip,
    packaged_questions,
    path_value,
)
from bot.terminal import printable

MESSAGE_LIMIT = 180  # an argparse message, after the prog name: one line of at most 200
SPEED_MAX = 1000.0


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a refusal is one line: no usage block, long or odd values clipped."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {one_line(message)}\n")


def one_line(message: str) -> str:
    """argparse quotes the user's value in its messages: clip each quote, then the whole."""
    long = ECHO_LIMIT + 1
    message = re.sub(rf"'([^']{{{long},}})'", lambda m: clip(m.group(1)), message)
    # The one message that shows the values bare, joined by spaces.
    message = re.sub(rf"^(unrecognized arguments: )(.{{{long},}})$", lambda m: m[1] + clip(m[2]),
                     message, flags=re.DOTALL)
    message = printable(message)
    return message if len(message) <= MESSAGE_LIMIT else message[:MESSAGE_LIMIT] + "…"


def path_argument(raw: str) -> Path:
    try:
        return path_value(raw)  # the same rule as a path setting
    except Refused as exc:
        raise argparse.ArgumentTypeError(f"must be {exc}, got {clip(raw)}") from None


def speed_argument(raw: str) -> float:
    try:
        speed = float(raw)
    except ValueError:
        speed = math.nan
    if not 0 < speed <= SPEED_MAX:  # nan fails too; 0 would stop the simulated clock
        raise argparse.ArgumentTypeError(
            f"must be a number above 0 and at most {SPEED_MAX:g}, got {clip(raw)}")
    return speed


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="tutorbot",
        description="A Discord tutor for study groups learning deep learning with PyTorch.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.add_parser("run", help="run the bot on Discord (needs DISCORD_TOKEN); with no "
                        "command, tutorbot runs this, or the demo when no token is set")
    commands.add_parser("sync", help="register the slash commands with Discord")
    commands.add_parser("worker", help="serve explanation jobs from the queue (EXPLAIN_BACKEND="
                        "queue; needs REDIS_URL and the bots' database): one per GPU")
    demo = commands.add_parser("demo", help="the bot in a simulated Discord, in your browser")
    demo.add_argument("--speed", type=speed_argument, default=1.0,
                      help="simulated seconds per real second (default 1)")
    play = commands.add_parser("play", help="play a pack in the terminal")
    play.add_argument("--pack", help="pack id (default: the first pack)")
    play.add_argument("--learning", action="store_true",
                      help="score accuracy only, without the speed bonus")
    play.add_argument("--database", type=path_argument,
                      help="SQLite file (default: DATABASE_PATH)")
    questions = commands.add_parser("questions", help="check question packs")
    qcommands = questions.add_subparsers(dest="questions_command", metavar="ACTION",
                                         required=True)
    check = qcommands.add_parser("check", help="validate packs; exit 1 listing every error")
    check.add_argument("path", nargs="?", type=path_argument, help="a pack folder, pack.yaml, "
                       "or the folder of packs (default: QUESTIONS_PATH)")
    qcommands.add_parser("schema", help="print the JSON Schema of pack.yaml for editors")
    verify = qcommands.add_parser("verify", help="run every experiment and check the answer "
                                  "it derives against the key; exit 1 naming contradictions")
    verify.add_argument("path", nargs="?", type=path_argument, help="packs to verify "
                        "(default: QUESTIONS_PATH)")
    verify.add_argument("--size", choices=("test", "cpu", "full"), default="test",
                        help="experiment size (default: test, the smallest that shows the "
                        "effect)")
    verify.add_argument("--pack", action="append", default=[], metavar="ID",
                        help="verify only this pack's problems (repeatable)")
    verify.add_argument("--problem", action="append", default=[], metavar="ID",
                        help="verify only this problem (repeatable; with --pack, both are "
                        "verified)")
    verify.add_argument("--jobs", type=jobs_argument, default=default_jobs(), metavar="N",
                        help="experiments run side by side, each with its share of the CPU "
                        f"cores (default here: {default_jobs()})")
    return parser


def default_jobs() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def jobs_argument(raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 16:
        raise argparse.ArgumentTypeError("must be a whole number from 1 to 16")
    return int(raw)


def packs_refusal(args: argparse.Namespace, config: Config) -> str | None:
    """Why the command cannot start for want of packs (one line), or None."""
    from bot.cli.questions import why_no_packs

    if args.command == "questions" and args.questions_command == "schema":
        return None  # the only command that needs no pack
    path = getattr(args, "path", None)
    if path is not None:
        problem = why_no_packs(path)
        return problem and f"{problem}: give a folder of packs, a pack folder or a pack.yaml"
    problem = why_no_packs(config.questions_path)
    if problem is None:
        return None
    if config.questions_path == packaged_questions():
        return ("QUESTIONS_PATH is unset and the packs installed with tutorbot are missing: "
                "set QUESTIONS_PATH to a folder of packs")
    return f"QUESTIONS_PATH {problem}: set it to a folder of packs, or unset it"


def worker_refusal(args: argparse.Namespace, config: Config) -> str | None:
    if args.command == "worker" and not config.redis_url:
        return "tutorbot worker needs REDIS_URL: the queue it serves lives in Redis"
    return None


def invalid_packs(path: Path) -> int | None:
    """Lists every pack error and returns 1 (as `questions check` does), or None if valid.

    The bot and the terminal round load the packs again themselves; checking here first
    turns a broken pack into the author's list of errors instead of a traceback."""
    from bot.bank import PackValidationError, load_bank

    try:
        load_bank(path)
    except PackValidationError as exc:
        for error in exc.errors:
            print(error, file=sys.stderr)
        print(f"tutorbot: {len(exc.errors)} error(s) in the packs at {clip(str(path), 80)}",
              file=sys.stderr)
        return 1
    return None


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = Config.from_env()
    except ConfigError as exc:
        print(f"tutorbot: {exc}", file=sys.stderr)
        return 2
    refusal = packs_refusal(args, config) or worker_refusal(args, config)
    if refusal:
        print(f"tutorbot: {refusal}", file=sys.stderr)
        return 2
    configure_logging(args, config)
    if args.command == "questions":
        return run_questions(args, config)
    failed = invalid_packs(config.questions_path)
    if failed is not None:
        return failed
    return run_command(args, config)


def configure_logging(args: argparse.Namespace, config: Config) -> None:
    logging.basicConfig(level=config.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    quiet = args.command in ("questions", "play", "demo") or (
        args.command is None and not config.discord_token)  # the demo
    if quiet:
        logging.getLogger().setLevel(logging.WARNING)  # keep the terminal for the output


def run_questions(args: argparse.Namespace, config: Config) -> int:
    from bot.cli import questions

    if args.questions_command == "schema":
        return questions.schema()
    if args.questions_command == "verify":
        return questions.verify(args.path or config.questions_path, args.size,
                                config.worker_cache_dir, config.worker_timeout_s,
                                questions.Selection(args.pack, args.problem), jobs=args.jobs)
    return questions.check(args.path or config.questions_path)


def run_command(args: argparse.Namespace, config: Config) -> int:
    if args.command == "play":
        from bot.cli import play

        return play.main(config.questions_path, args.database or config.database_path,
                         args.pack, args.learning)
    if args.command == "demo":
        from bot.cli import demo

        return demo.main(config, args.speed, rounds=None)
    if args.command == "worker":
        from bot.cli import worker

        return worker.main(config)
    from bot.cli import run

    if args.command == "sync":
        return run.main_sync(config)
    if args.command == "run":
        return run.main_run(config)
    return run.main_default(config)


if __name__ == "__main__":
    sys.exit(main())
