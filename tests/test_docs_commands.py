"""Every ``python -m seaSky...`` command in README.md and docs/ is checked against the code: a renamed key
or option breaks the build, not the user who copies the command.

Hydra entry points (those with ``@hydra.main``) compose the command's overrides with Hydra's compose API
(no training, nothing written); argparse ones parse their arguments with the module's own parser and stop
there. Placeholders (FRAMES, OUT, ROOT, PATH, ``<date>``) need no special values: composing checks keys
and options, not paths. The README's own bars are checked here too, and that the model card states the
shipped model's figures.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import functools
import importlib
import io
import json
import re
import runpy
import shlex
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

from seaSky.paths import CONFIG_DIR

REPO = Path(__file__).resolve().parents[1]
SRC = REPO / "src"
COMMAND = "python -m seaSky."
SHELL_OPERATORS = {";", "&&", "||", "|", ">", ">>", "<", "&", "2>&1"}
HYDRA_FLAGS_WITH_VALUE = {"--cfg", "-c", "--package", "-p", "--info", "-i", "--config-name", "-cn"}
HYDRA_FLAGS = {"-m", "--multirun", "--help", "-h", "--hydra-help", "--resolve", "--run", "-r"}


@dataclass(frozen=True)
class Command:
    """One command of the docs: where it is and its words after ``python -m``."""

    file: str
    line: int
    text: str

    @property
    def words(self) -> list[str]:
        words = []
        for word in shlex.split(self.text, comments=True):
            if word in SHELL_OPERATORS:
                break
            words.append(word)
        return words

    def where(self) -> str:
        return f"{self.file}:{self.line}: {self.text}"


SHELL_BLOCKS = {"bash", "sh", "shell", "console"}


def _fences(lines: list[str]) -> tuple[list[bool], list[bool]]:
    """For each line: inside a fenced code block (fence lines count as inside), and inside a shell one
    (```bash: the others list files and outputs, not commands)."""
    inside, shell, code, shell_marks = False, False, [], []
    for line in lines:
        fence = line.lstrip().startswith(("```", "~~~"))
        if fence and not inside:
            shell = line.lstrip().strip("`~ ").split(" ")[0] in SHELL_BLOCKS
        code.append(inside or fence)
        shell_marks.append(inside and shell and not fence)
        if fence:
            inside = not inside
    return code, shell_marks


def extract_commands(text: str, file: str) -> list[Command]:
    """The ``python -m seaSky...`` commands of a markdown text: lines of code blocks (continued lines
    joined) and inline code spans of the prose (which may wrap over lines)."""
    lines = text.split("\n")
    in_code, in_shell = _fences(lines)
    commands = []
    i = 0
    while i < len(lines):
        if not in_shell[i]:
            i += 1
            continue
        start, joined = i, lines[i]
        while joined.rstrip().endswith("\\") and i + 1 < len(lines):
            i += 1
            joined = joined.rstrip()[:-1] + " " + lines[i].strip()
        at = joined.find(COMMAND)
        if at >= 0 and "#" not in joined[:at]:  # not in a comment
            commands.append(Command(file, start + 1, joined[at:].strip()))
        i += 1
    prose = "\n".join("" if code else line for line, code in zip(lines, in_code, strict=True))
    for span in re.finditer(r"`([^`]+)`", prose):
        body = span.group(1)
        if COMMAND in body:
            line = prose.count("\n", 0, span.start()) + 1
            commands.append(Command(file, line, " ".join(body[body.index(COMMAND) :].split())))
    # "python -m seaSky.<command>" names every command, not one of them
    commands = [c for c in commands if re.match(r"python -m seaSky(\.\w+)+(\s|$)", c.text)]
    return sorted(commands, key=lambda c: c.line)


def doc_files() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").rglob("*.md"))]


def all_commands() -> list[Command]:
    commands = []
    for path in doc_files():
        commands += extract_commands(path.read_text(encoding="utf-8"), str(path.relative_to(REPO)))
    return commands


def module_source(module: str) -> Path | None:
    """The file ``python -m module`` runs (a package's __main__.py), without importing it."""
    base = SRC.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__main__.py"):
        if candidate.is_file():
            return candidate
    return None


def hydra_config_name(source: Path) -> str | None:
    """The ``config_name`` of a ``@hydra.main`` in the file, else None."""
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        func = getattr(node, "func", None)
        if isinstance(node, ast.Call) and ast.unparse(func) == "hydra.main":
            for keyword in node.keywords:
                if keyword.arg == "config_name":
                    return ast.literal_eval(keyword.value)
    return None


PLACEHOLDERS = {"FORMAT": "lines-json"}  # words that stand for one of a fixed set of choices


def _plain(word: str) -> str:
    """A docs word as a command-line argument: optional [brackets] dropped, <placeholders> and $VARS
    replaced by a name Hydra reads as text."""
    word = word.removeprefix("[").removesuffix("]")
    word = PLACEHOLDERS.get(word, word)
    word = re.sub(r"<[^<>]*>", "x", word)
    return re.sub(r"\$\{?[A-Za-z_][A-Za-z0-9_]*\}?", "0", word)


def hydra_overrides(words: list[str]) -> list[str]:
    """The overrides of a Hydra command line: Hydra's own flags dropped, a sweep's first value kept."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    overrides, skip = [], False
    for word in words:
        if skip:
            skip = False
        elif word in HYDRA_FLAGS_WITH_VALUE:
            skip = True
        elif word not in HYDRA_FLAGS and word != "...":
            overrides.append(_plain(word))
    parser = OverridesParser.create()
    single = []
    for text in overrides:
        override = parser.parse_override(text)
        if override.is_sweep_override():
            text = f"{override.get_key_element()}={next(iter(override.sweep_string_iterator()))}"
        single.append(text)
    return single


def compose_command(config_name: str, overrides: list[str]) -> None:
    """Compose the config as the entry point would (keys, options and groups checked; nothing runs)."""
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONFIG_DIR), version_base="1.3"):
        compose(config_name=config_name, overrides=overrides, return_hydra_config=True)


class ParsedError(Exception):
    """Raised by the patched ArgumentParser.parse_args once the arguments are read."""


def parse_argparse_command(module: str, words: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the module as ``python -m`` would, stopping right after its parser has read ``words``."""
    original = argparse.ArgumentParser.parse_args

    def parse_and_stop(self, args=None, namespace=None):
        original(self, args, namespace)
        raise ParsedError

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_and_stop)
    monkeypatch.setattr(sys, "argv", [module, *(_plain(w) for w in words if w != "...")])
    errors = io.StringIO()
    try:
        with warnings.catch_warnings(), contextlib.redirect_stderr(errors):
            warnings.filterwarnings("ignore", "'seaSky.* found in sys.modules", RuntimeWarning)
            runpy.run_module(module, run_name="__main__", alter_sys=False)
    except ParsedError:
        return
    except SystemExit as err:
        if err.code in (0, None):  # --help
            return
        said = errors.getvalue().strip().split("\n")[-1]
        raise AssertionError(f"exit status {err.code}: {said}") from None
    raise AssertionError("the module ran without reading its arguments with argparse")


def argv_rewriter(source: Path) -> str | None:
    """The function a module's ``sys.argv[1:] = f(sys.argv[1:])`` passes its arguments through before
    Hydra reads them (e.g. a positional RUN_DIR made ``run_dir=RUN_DIR``), else None."""
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        call = getattr(node, "value", None)
        if not (isinstance(node, ast.Assign) and isinstance(call, ast.Call)):
            continue
        if isinstance(call.func, ast.Name) and "sys.argv" in ast.unparse(node.targets[0]):
            return call.func.id
    return None


def is_group(override: str) -> bool:
    """``experiment=x``, ``data/augment=none``, ``hydra/launcher=slurm``: a config group's choice."""
    key = override.split("=", 1)[0].lstrip("+~").split("@", 1)[0]
    return "/" in key or (CONFIG_DIR / key).is_dir()


@dataclass(frozen=True)
class HydraPlan:
    """What composing a documented Hydra command takes: its config, group choices and other overrides."""

    config_name: str
    groups: tuple[str, ...]
    values: tuple[str, ...]

    @property
    def batchable(self) -> bool:  # plain key=value overrides only: composing them together is fair
        return not any(v.startswith(("+", "~")) for v in self.values)


def hydra_plan(command: Command) -> HydraPlan | None:
    """The command's HydraPlan, None when it is no Hydra command (or its overrides do not parse)."""
    words = command.words
    source = module_source(words[2]) if len(words) > 2 else None
    config_name = hydra_config_name(source) if source else None
    if config_name is None:
        return None
    args = words[3:]
    rewriter = argv_rewriter(source)
    if rewriter:
        args = getattr(importlib.import_module(words[2]), rewriter)(args)
    try:
        overrides = hydra_overrides(args)
    except Exception:  # reported when the command is composed on its own
        return None
    groups = tuple(o for o in overrides if is_group(o))
    return HydraPlan(config_name, groups, tuple(o for o in overrides if not is_group(o)))


@functools.cache
def batches() -> dict[tuple[str, tuple[str, ...]], tuple[str, ...]]:
    """The documented commands' overrides merged per (config, group choices): one compose checks the keys
    of many commands (a compose of train takes about 0.3 s); a failing batch is composed one by one."""
    merged: dict[tuple[str, tuple[str, ...]], dict[str, str]] = {}
    for command in COMMANDS:
        plan = hydra_plan(command)
        if plan is not None and plan.batchable:
            values = merged.setdefault((plan.config_name, plan.groups), {})
            for value in plan.values:
                values.setdefault(value.split("=", 1)[0], value)
    return {key: tuple(values.values()) for key, values in merged.items()}


@functools.cache
def compose_problem(config_name: str, overrides: tuple[str, ...]) -> str | None:
    from seaSky.cli import command_line_error

    try:
        compose_command(config_name, list(overrides))
    except Exception as err:  # every Hydra error is the answer
        return f"Hydra: {command_line_error(err)}"
    return None


def check_command(command: Command, monkeypatch: pytest.MonkeyPatch) -> str | None:
    """None when the command is valid, else why not (one line)."""
    words = command.words
    module = words[2] if len(words) > 2 else ""
    source = module_source(module)
    if source is None:
        return f"no module {module} in src/ (python -m {module} would fail)"
    if hydra_config_name(source) is not None:
        plan = hydra_plan(command)
        if plan is not None and plan.batchable:
            batch = batches().get((plan.config_name, plan.groups), ())
            keys = {value.split("=", 1)[0] for value in batch}
            in_batch = all(value.split("=", 1)[0] in keys for value in plan.values)
            if in_batch and compose_problem(plan.config_name, plan.groups + batch) is None:
                return None
        if plan is None:  # overrides that do not parse: Hydra's own message
            args = [_plain(w) for w in words[3:] if w not in HYDRA_FLAGS]
            return compose_problem(hydra_config_name(source), tuple(args)) or "overrides do not parse"
        return compose_problem(plan.config_name, plan.groups + plan.values)
    if "argparse" not in source.read_text(encoding="utf-8"):
        return f"{source.relative_to(REPO)}: neither a @hydra.main nor an argparse entry point"
    try:
        parse_argparse_command(module, words[3:], monkeypatch)
    except (AssertionError, SystemExit) as err:
        return f"argparse: {err}"
    return None


COMMANDS = all_commands()


@pytest.mark.parametrize("command", COMMANDS, ids=[f"{c.file}:{c.line}" for c in COMMANDS])
def test_documented_command_composes(command: Command, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    problem = check_command(command, monkeypatch)
    capsys.readouterr()  # argparse --help output
    assert problem is None, f"{command.where()}\n  -> {problem}"


def test_the_docs_have_commands_of_every_task() -> None:
    modules = {c.words[2] for c in COMMANDS}
    for module in ("seaSky.train", "seaSky.predict", "seaSky.evaluate", "seaSky.export", "seaSky.render",
                   "seaSky.check_footage", "seaSky.adapt", "seaSky.report", "seaSky.data.convert"):
        assert module in modules, f"no documented command of {module}"
    assert len(COMMANDS) >= 50


def test_extraction_joins_continued_lines_and_reads_inline_code() -> None:
    text = (
        "Run `python -m seaSky.render\nout_dir=x n=2` here.\n\n"
        "```bash\n# python -m seaSky.nothing (a comment line is not a command)\n"
        "srun .venv/bin/python -m seaSky.train trainer=ddp \\\n    model.depth=3,4  # sweep\n```\n"
    )
    commands = extract_commands(text, "t.md")
    assert [(c.line, c.words[2:]) for c in commands] == [
        (1, ["seaSky.render", "out_dir=x", "n=2"]),
        (6, ["seaSky.train", "trainer=ddp", "model.depth=3,4"]),
    ]


def test_a_misspelt_key_or_option_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    """The check is not vacuous: the mistakes a renamed key would make in the docs fail it."""
    for text, expected in (
        ("python -m seaSky.train experiment=baseline model.depht=3", "did you mean model.depth?"),
        ("python -m seaSky.train -m preset=hrad", "no such preset"),
        ("python -m seaSky.predict input=x output_dir=y tracker.gate=3", "tracker.gate: no such key"),
        ("python -m seaSky.data.convert no-such-format SRC ROOT", "exit status 2"),
        ("python -m seaSky.nosuch x=1", "no module seaSky.nosuch"),
    ):
        problem = check_command(Command("t.md", 1, text), monkeypatch)
        assert problem is not None and expected in problem, (text, problem)
    ok = "python -m seaSky.train -m hydra/launcher=slurm hydra.launcher.partition=gpu model.depth=3,4,5"
    assert check_command(Command("t.md", 1, ok), monkeypatch) is None


def test_readme_is_a_front_page() -> None:
    lines = (REPO / "README.md").read_text(encoding="utf-8").split("\n")
    assert len(lines) <= 300
    head = "\n".join(lines[:40])
    assert "make train" in head and "make test" in head
    for link in re.findall(r"\]\(((?:docs|benchmarks)/[^)#]+)", "\n".join(lines)):
        assert (REPO / link).exists(), f"README.md links to {link}, which does not exist"


def test_model_card_states_the_shipped_figures() -> None:
    card = (REPO / "docs" / "model_card.md").read_text(encoding="utf-8")
    evaluation = json.loads((SRC / "seaSky" / "pretrained" / "evaluation.json").read_text())
    assert f"{evaluation['test/dice']:.4f}" in card
    assert f"{evaluation['test/horizon_dy_median_px']:.2f} px" in card
    shipped = next(
        line for line in (REPO / "benchmarks" / "real_dev.md").read_text().split("\n")
        if line.startswith("| shipped")
    )
    dev_median = shipped.split("|")[2].strip()
    assert f"{dev_median} px" in card, "the model card's real dev median is not benchmarks/real_dev.md's"
