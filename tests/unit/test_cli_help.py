"""The command line's help: every argument explained, every option's default stated, and fast to print."""
import argparse
import subprocess
import sys

from dcai_lab import cli


def commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def undocumented(parser: argparse.ArgumentParser) -> list[str]:
    """Arguments without help, and options whose help (as printed) does not state a default."""
    formatter = parser._get_formatter()
    problems = []
    for action in parser._actions:
        if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
            continue
        name = "/".join(action.option_strings) or action.dest
        if not action.help:
            problems.append(f"{parser.prog} {name}: no help")
            continue
        if action.option_strings:
            printed = formatter._get_help_string(action) % {**vars(action), "prog": parser.prog}
            if "default" not in printed or "(default: None)" in printed:
                problems.append(f"{parser.prog} {name}: help does not state the default: {printed!r}")
    return problems


def test_every_option_of_every_command_has_help_with_its_default():
    parser = cli.build_parser()
    assert set(commands(parser)) >= {"compile", "demo", "run", "gas-table", "reproduce", "sweep"}
    problems = [p for command in commands(parser).values() for p in undocumented(command)]
    assert problems == []


def test_the_check_finds_an_option_without_help_or_default():
    parser = argparse.ArgumentParser(prog="x", formatter_class=cli.HelpFormatter)
    parser.add_argument("--silent")
    parser.add_argument("--vague", help="an option", default=None)
    parser.add_argument("--fine", help="has one", default=3)
    parser.add_argument("thing")
    assert undocumented(parser) == ["x --silent: no help",
                                    "x --vague: help does not state the default: 'an option (default: None)'",
                                    "x thing: no help"]


def test_every_command_has_a_description_and_help_reads_as_plain_text():
    parser = cli.build_parser()
    text = parser.format_help()
    assert "``" not in text and "%%" not in text and "(default: None)" not in text
    for name, command in commands(parser).items():
        assert command.description, name
        assert "%%" not in command.format_help() and "``" not in command.format_help(), name


def test_help_starts_without_importing_the_lab():
    """``dcai-lab --help`` imports neither the chain nor the scientific stack: the package imports lazily."""
    probe = ("import sys\nfrom dcai_lab import cli\ntry:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
             "heavy = sorted(m for m in ('web3', 'eth', 'numpy', 'pandas', 'sklearn', 'datasets', 'matplotlib', "
             "'dcai_lab.chain', 'dcai_lab.experiments') if m in sys.modules)\nprint('HEAVY', heavy)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out, out  # the time it saves is measured, not asserted: README, "Installing with pip"


def test_public_names_still_import():
    import dcai_lab

    for name in dcai_lab.__all__:
        assert getattr(dcai_lab, name) is not None, name
    from dcai_lab import Chain, stream  # noqa: F401
    assert dcai_lab.chain.Chain is Chain  # a submodule reached as an attribute, as when __init__ imported it
