"""Tests of the template plugin, run against the installed package (``pip install -e .``, then ``pytest``).

``bibun_device`` is a fixture of bibun's conformance kit: the test runs once per installed
bibun backend. ``conformance_tests`` turns each ``OpCase`` into one test per check and backend.
"""

import numpy as np
from bibun_plugin_template import scaled_tanh, scaled_tanh_op

import bibun
from bibun.testing import OpCase, Sample, conformance_tests


def test_the_plugin_is_loaded_from_its_distribution():
    record = {r.name: r for r in bibun.plugins.records()}["template"]
    assert (record.dist, record.status) == ("bibun-plugin-template", "loaded"), record.error
    assert record.registered["ops"] == ["template::scaled_tanh"]


def test_values(bibun_device):
    x = bibun.tensor([-1.0, 0.0, 2.0], dtype=bibun.float64, device=bibun_device)
    expected = 1.7159 * np.tanh(2 / 3 * np.array([-1.0, 0.0, 2.0]))
    for y in (scaled_tanh(x, 1.7159, 2 / 3), x.scaled_tanh(a=1.7159, b=2 / 3),
              bibun.ops.template.scaled_tanh(x, a=1.7159, b=2 / 3)):
        np.testing.assert_allclose(y.to("cpu").numpy(), expected, rtol=1e-13)


def _samples():
    rng = np.random.default_rng(0)
    return [Sample(rng.standard_normal((3, 4))), Sample(rng.standard_normal(5), a=1.7159, b=2 / 3),
            Sample(np.array(0.5), a=-2.0, b=0.1)]


test_conformance = conformance_tests([
    OpCase("scaled_tanh", op=scaled_tanh_op, samples=_samples,
           reference=lambda x, a=1.0, b=1.0: a * np.tanh(b * x)),
])
