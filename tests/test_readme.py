"""The README's example runs and prints what its comments say."""

from __future__ import annotations

import contextlib
import io
import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_example_prints_its_comments():
    text = README.read_text(encoding="utf-8")
    code = re.search(r"## An example\s+```python\n(.*?)```", text, re.S).group(1)
    expected = [line.split("# ", 1)[1].strip() for line in code.splitlines()
                if line.startswith("print(") and "# " in line]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    assert out.getvalue().splitlines() == expected


def test_readme_training_example_runs_and_prints_its_comment(tmp_path, monkeypatch):
    text = README.read_text(encoding="utf-8")
    code = re.search(r"Training looks the same as in PyTorch:\s+```python\n(.*?)```", text, re.S).group(1)
    expected = [line.split("# ", 1)[1].strip() for line in code.splitlines()
                if line.startswith("print(") and "# " in line]
    monkeypatch.chdir(tmp_path)  # it writes model.safetensors
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "README.md", "exec"), {})
    assert out.getvalue().splitlines() == expected
    assert (tmp_path / "model.safetensors").stat().st_size > 0
