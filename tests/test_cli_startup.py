"""`trialforge --help` lists every command without importing the heavy layers (issue 15: <= 0.5 s)."""
from __future__ import annotations

import importlib
import subprocess
import sys

from click.testing import CliRunner

from trialforge import cli


def test_lazy_short_help_equals_each_commands_own():
    for name, (module, attr) in cli.LAZY_COMMANDS.items():
        command = getattr(importlib.import_module(module, "trialforge"), attr)
        assert cli.LAZY_SHORT_HELP[name] == command.get_short_help_str(limit=200), name


def test_help_lists_every_command():
    result = CliRunner().invoke(cli.main, ["--help"])
    assert result.exit_code == 0
    for name in ["run", "sdtm", "define", "spec", "xpt", *cli.LAZY_COMMANDS]:
        assert f"\n  {name} " in result.output, name


def test_help_imports_no_layer_module():
    code = ("import sys; from trialforge.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('pandas', 'scipy', 'matplotlib', 'trialforge.tables', 'trialforge.adam',"
            " 'trialforge.validation') if m in sys.modules]\n"
            "print('HEAVY=' + ','.join(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "HEAVY="
