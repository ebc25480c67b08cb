import json
import subprocess
import sys

import pytest

from nprates.cli import main


def test_theory_prints_a_dagger_exponent_and_basis_size(capsys):
    assert main(["theory", "--kind", "mixed", "--a0", "1", "--alpha", "1", "--features", "2",
                 "--window", "4", "--t-max", "9"]) == 0
    out = capsys.readouterr().out
    assert "a_dagger        1" in out and "0.666667" in out
    assert "2937 in 96 blocks" in out  # docs/theory.md's prototype: 8 directions, a = 1..8, T_max = 9


def test_theory_json_lists_important_directions(capsys):
    assert main(["theory", "--kind", "anisotropic", "--features", "1", "--window", "2",
                 "--t-max", "3", "--json"]) == 0
    facts = json.loads(capsys.readouterr().out)
    assert facts["a_dagger"] == pytest.approx(2 / 3)
    assert [d["a"] for d in facts["important_directions"]] == [1.0, 2.0]


@pytest.mark.parametrize("args, word", [
    (["--a0", "0"], "a0"), (["--alpha", "-1"], "alpha"), (["--window", "0"], "window"),
    (["--t-max", "40"], "t_max"), (["--t-max", "-2"], "t-max"),
])
def test_bad_input_exits_2_with_one_line(args, word):
    proc = subprocess.run([sys.executable, "-m", "nprates", "theory", *args],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and word in lines[0] and "Traceback" not in proc.stderr
