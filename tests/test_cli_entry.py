"""The ``trialforge`` program's exit (cli.entry): the status and output a normal interpreter exit gives, without
tearing the interpreter down."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

from trialforge import cli

ROOT = Path(cli.__file__).resolve().parent.parent


def _run(*args, cwd=None):
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "trialforge", *args], capture_output=True, text=True, env=env,
                          cwd=cwd)


def test_version_exits_zero_with_its_output():
    done = _run("--version")
    assert done.returncode == 0
    assert done.stdout.strip().startswith("trialforge, version ")


def test_usage_error_exits_two_with_click_message():
    done = _run("no-such-command")
    assert done.returncode == 2
    assert "No such command" in done.stderr


def test_bad_study_folder_exits_two_with_one_line(tmp_path):
    done = _run("run", str(tmp_path / "absent"), "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") <= 1 and "error" in done.stderr.lower()
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("raised, status, printed", [(None, 0, ""), (0, 0, ""), (3, 3, ""), ("stopped", 1, "stopped")])
def test_exit_status_as_python_gives_it(monkeypatch, capsys, raised, status, printed):
    def fake_main():
        sys.exit(raised)
    ended = []
    monkeypatch.setattr(cli, "main", fake_main)
    monkeypatch.setattr(cli.os, "_exit", ended.append)
    cli.entry()
    assert ended == [status]
    assert capsys.readouterr().err.strip() == printed


def test_normal_exit_while_another_thread_runs(monkeypatch):
    import threading
    monkeypatch.setattr(cli, "main", lambda: None)
    monkeypatch.setattr(cli.os, "_exit", lambda code: pytest.fail("os._exit with a thread still running"))
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        with pytest.raises(SystemExit) as exc:
            cli.entry()
        assert exc.value.code == 0
    finally:
        stop.set()
        other.join()
