"""Reading files that someone else wrote: bounded, non-blocking, depth-limited.

A results directory (cell files, ``study.toml``) may come from anyone (docs/trust.md).
Reading one must not hang (a FIFO), exhaust memory (a link to ``/dev/zero``, a huge
file), overflow the stack (deeply nested JSON or TOML) or put control sequences on a
terminal. Every problem is a ``ValueError`` whose message says what was wrong, in words
that are safe to print (``printable``).
"""

from __future__ import annotations

import json
import os
import re
import stat
import unicodedata

import numpy as np

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib

#: Largest file read (bytes): cell files are about 1 kB, study files a few kB.
MAX_FILE_BYTES = 4 * 2**20
#: Deepest nesting of arrays and objects accepted in JSON and TOML.
MAX_DEPTH = 32
_STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_TOML_STRING_RE = re.compile(r'"""[\s\S]*?"""|\'\'\'[\s\S]*?\'\'\'|"(?:[^"\\\n]|\\.)*"|\'[^\'\n]*\''
                             r'|#[^\n]*')


def read_bytes(path, limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file ``path`` (a link to one is followed).

    ValueError for anything else (a FIFO, a device, a directory) or a file of more than
    ``limit`` bytes; OSError when it cannot be opened. Never blocks and never reads more
    than ``limit + 1`` bytes.
    """
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        raise ValueError("not a regular file (a FIFO, device or directory)")
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)  # the file opened, should it have changed since the check
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("not a regular file (a FIFO, device or directory)")
        if info.st_size > limit:
            raise ValueError(f"too large ({info.st_size} bytes; at most {limit})")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(2**20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:
        raise ValueError(f"too large (more than {limit} bytes)")
    return b"".join(chunks)


def read_text(path, limit: int = MAX_FILE_BYTES) -> str:
    """``read_bytes`` decoded as UTF-8 (ValueError naming the problem if it is not)."""
    try:
        return read_bytes(path, limit).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _depth(brackets: str) -> int:
    """Deepest nesting of a string of brackets (opening ``[{``, closing ``]}``)."""
    codes = np.frombuffer(brackets.encode("ascii"), dtype=np.uint8)
    steps = np.where((codes == ord("[")) | (codes == ord("{")), 1, -1)
    return int(np.cumsum(steps).max(initial=0))


def loads_json(text: str, max_depth: int = MAX_DEPTH):
    """``json.loads(text)`` refusing (ValueError) nesting deeper than ``max_depth`` and
    numbers Python cannot convert (an integer of more than 4300 digits)."""
    brackets = re.sub(r"[^\[\]{}]", "", _STRING_RE.sub("", text))
    if _depth(brackets) > max_depth:
        raise ValueError(f"JSON nested more than {max_depth} levels deep")
    try:
        return json.loads(text)
    except RecursionError:  # a malformed text the bracket count misjudged
        raise ValueError(f"JSON nested more than {max_depth} levels deep") from None
    except ValueError as exc:
        raise ValueError(f"invalid JSON: {printable(str(exc), 120)}") from None


def loads_toml(text: str, max_depth: int = MAX_DEPTH) -> dict:
    """``tomllib.loads(text)`` refusing (ValueError) nesting deeper than ``max_depth``."""
    brackets = re.sub(r"[^\[\]{}]", "", _TOML_STRING_RE.sub("", text))
    if _depth(brackets) > 2 * max_depth:  # "[[table]]" headers count twice
        raise ValueError(f"TOML nested more than {max_depth} levels deep")
    try:
        data = tomllib.loads(text)
    except RecursionError:
        raise ValueError(f"TOML nested more than {max_depth} levels deep") from None
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        raise ValueError(f"invalid TOML: {printable(str(exc), 160)}") from None
    if nesting(data) > max_depth:
        raise ValueError(f"TOML nested more than {max_depth} levels deep")
    return data


def nesting(value, _level: int = 0) -> int:
    """Nesting depth of dicts and lists in ``value`` (0 for a scalar); stops counting
    past ``MAX_DEPTH + 1``."""
    if _level > MAX_DEPTH or not isinstance(value, (dict, list)):
        return 0
    items = value.values() if isinstance(value, dict) else value
    return 1 + max((nesting(v, _level + 1) for v in items), default=0)


def has_control(text: str) -> bool:
    """Whether ``text`` holds a control or format character (escape sequences, bidi
    overrides, zero-width characters)."""
    return any(unicodedata.category(c) in ("Cc", "Cf") for c in text)


def printable(text, limit: int = 200) -> str:
    """``text`` safe to print on a terminal: control and format characters escaped
    (``\\x1b``, ``\\u202e``) and at most ``limit`` characters (an ellipsis marks a cut)."""
    text = str(text)
    cut = len(text) > limit
    out = "".join(c if unicodedata.category(c) not in ("Cc", "Cf")
                  else (f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}")
                  for c in text[:limit])
    return out + ("..." if cut else "")
