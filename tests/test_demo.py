"""The training half of ``python -m bibun demo``: data, training, checkpoint round trip, plot, graph.

CI runs the full demo (and checks the CNN's test accuracy); here one short epoch checks
that every step works and writes its files.
"""

from __future__ import annotations

import pytest

import bibun
from bibun.autograd.graphviz import make_dot, render

pytest.importorskip("sklearn")
pytest.importorskip("tqdm")
pytest.importorskip("matplotlib")


def test_digits_demo_trains_checkpoints_plots_and_draws(device, tmp_path, capsys):
    from bibun.demo.digits import train_digits
    result = train_digits(device=device, epochs=2, out_dir=str(tmp_path), progress=False)
    out = capsys.readouterr().out
    assert f"1438 training and 359 test images of 8x8, on {device}" in out
    assert "cnn: saved" in out and "same predictions" in out and "DIFFERENT" not in out
    for name in ("digits_cnn.safetensors", "digits_mlp.safetensors", "training.png", "cnn_step_graph.dot"):
        assert (tmp_path / name).stat().st_size > 0
    assert (tmp_path / "training.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(result["histories"]["cnn"]["loss"]) == 2
    assert result["histories"]["cnn"]["loss"][1] < result["histories"]["cnn"]["loss"][0]
    assert result["cnn_accuracy"] > 0.5 and result["mlp_accuracy"] > 0.5


def test_make_dot_names_nodes_and_parameters():
    from bibun import nn
    model = nn.Sequential(nn.Linear(3, 2), nn.ReLU())
    loss = model(bibun.ones(4, 3)).sum()
    dot = make_dot(loss, params=dict(model.named_parameters()))
    assert dot.startswith("digraph autograd {") and dot.rstrip().endswith("}")
    for label in ("SumBackward0", "ReluBackward0", "AddmmBackward0", "TBackward0", '"0.weight\\n(2, 3)"',
                  '"0.bias\\n(2)"', '"output ()"'):
        assert label in dot
    # every edge joins declared nodes
    nodes = {line.split()[0] for line in dot.splitlines() if "[label=" in line}
    for line in dot.splitlines():
        if "->" in line:
            a, _, b = line.strip().rstrip(";").partition(" -> ")
            assert a in nodes and b in nodes


def test_render_without_graphviz_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` on this PATH
    target = tmp_path / "g.svg"
    assert render("digraph { a -> b }", target) is False
    assert not target.exists()
