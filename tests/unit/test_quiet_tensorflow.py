"""TensorFlow's start-up lines stay out of a command's output unless asked for (issue #10).

A fresh interpreter imports connear_helpers and runs a CNN, as the figure run does; its stderr
must hold no start-up line. With CONNEAR_LAB_TF_LOGS=1 the hook steps aside (TensorFlow's C++
log level is not raised).
"""
import logging
import os
import re
import subprocess
import sys

import pytest

START_UP = re.compile(r"^[IWE]0000 |cuInit|oneDNN custom operations|absl::InitializeLog", re.M)
SCRIPT = (
    "import numpy as np, connear_helpers, os\n"
    "from connear_helpers.cnn import architectures as models\n"
    "m = models.build_model('ihc_f16', n_cf=1)\n"
    "print(float(np.asarray(m(np.zeros((1, 2560, 1), 'float32'))).sum()) == 0.0 or 'ran')\n"
    "print('level', os.environ.get('TF_CPP_MIN_LOG_LEVEL'))\n"
    "import logging; print('python log level', logging.getLogger('tensorflow').getEffectiveLevel())\n"
)


def _run(env_extra):
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "CONNEAR_LAB_TF_LOGS")}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=300)


def test_no_start_up_lines_in_a_fresh_process():
    pytest.importorskip("tensorflow")
    run = _run({})
    assert run.returncode == 0, run.stderr
    assert not START_UP.search(run.stderr), run.stderr
    assert "level 3" in run.stdout.splitlines()
    assert f"python log level {logging.ERROR}" in run.stdout  # no retracing warnings


def test_the_user_can_ask_for_them():
    pytest.importorskip("tensorflow")
    run = _run({"CONNEAR_LAB_TF_LOGS": "1"})
    assert run.returncode == 0, run.stderr
    assert "level 3" not in run.stdout.splitlines()  # the hook did not silence TensorFlow's C++ log
