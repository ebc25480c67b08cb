"""The example studies shipped inside the package (``nprates/examples/*.toml``)."""

from __future__ import annotations

from pathlib import Path

QUICK = "quick.toml"


def quick_study_text(override=None) -> tuple[str, str]:
    """(TOML text, source name) of the built-in quick study (or of ``override``)."""
    if override is not None:
        path = Path(override)
        if not path.is_file():
            raise FileNotFoundError(f"{override}: no such study file")
        return path.read_text(encoding="utf-8"), str(path)
    from importlib.resources import files

    resource = files("nprates") / "examples" / QUICK
    if not resource.is_file():
        raise FileNotFoundError(f"the built-in quick study is missing from this installation "
                                f"({resource}); reinstall nprates ('pip install -e .' from a "
                                f"checkout that has examples/{QUICK})")
    return resource.read_text(encoding="utf-8"), f"nprates/examples/{QUICK}"
