"""`nprates theory` and a study file's mistakes do not load torch (issue 30: they took
7-10 s and ~350 MB for a few numbers or one line)."""

from __future__ import annotations

import subprocess
import sys
import textwrap



def _modules_after(argv) -> tuple[int, set]:
    code = textwrap.dedent(f"""
        import sys
        from nprates.cli import main
        rc = main({argv!r})
        print("MODULES", " ".join(m for m in ("torch", "sklearn", "matplotlib")
                                  if m in sys.modules))
        sys.exit(rc)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    line = next(l for l in out.stdout.splitlines() if l.startswith("MODULES"))
    return out.returncode, set(line.split()[1:])


def test_theory_does_not_import_torch():
    rc, loaded = _modules_after(["theory"])
    assert rc == 0
    assert "torch" not in loaded and "sklearn" not in loaded


def test_a_mistyped_study_key_fails_without_torch(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "x"\nreplicats = 3\n[estimators.a]\nclass = "nprates.estimators.KNNBaseline"\n')
    rc, loaded = _modules_after(["run", str(bad), "--out", str(tmp_path / "out")])
    assert rc == 2
    assert "torch" not in loaded
