"""The project's file utilities: the one atomic file writer, a file's SHA-256 and a stored
result reused by its key. The bottom layer of the package, beside :mod:`analysis.paths` (it
imports nothing from the package): every layer writes and hashes files through it.

A reader (Quarto, a browser, the next notebook, another process) must never see half a file,
and two writers must not trip over each other's temporary files. Every writer in the project
(run tables and fragments, the variables file, rendered reports, the export template and the
synthetic cohort's CSV files) goes through :func:`write_atomic`.

The standard library has no atomic write (``pathlib.Path.write_text`` truncates in place), and
the packages that offer one (``atomicwrites``) are unmaintained; the recipe is a few lines:
write a uniquely named temporary file beside the target, then :func:`os.replace` it.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["write_atomic", "file_digest", "stored"]

Content = str | bytes | Callable[[Path], None]


def write_atomic(path: str | Path, content: Content) -> Path:
    """Write ``content`` to ``path`` atomically (temporary file in the same folder, renamed).

    Parameters
    ----------
    path : str or Path
        The target; its folder is created if missing.
    content : str, bytes or callable
        Text (written as UTF-8 with ``\\n`` line endings), bytes (written as is), or a function
        that writes the temporary file whose path it receives (a renderer, a PDF compiler).

    Returns
    -------
    Path
        ``path``.

    Notes
    -----
    The temporary name is unique (``tempfile.mkstemp``), so concurrent writers of one folder
    never share it; it starts with a dot, so a folder listing does not show it. The file is
    made world-readable (0644) like any other written file, since ``mkstemp`` creates 0600.
    On any error the temporary file is removed and the previous ``path`` is left untouched.

    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "a" / "b.txt"
    >>> write_atomic(target, "x\\n").read_text()
    'x\\n'
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    tmp = Path(name)
    try:
        if callable(content):
            os.close(handle)
            content(tmp)
        else:
            data = content.encode("utf-8") if isinstance(content, str) else content
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def file_digest(path: str | Path) -> str:
    """SHA-256 of a file's bytes (hex), read in 64 kB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def stored(path: str | Path | None, compute: Callable[[], Any]) -> Any:
    """The result kept at ``path`` when there is one, else ``compute()``, kept there
    (atomically) for the next caller; ``path`` None: computed, nothing kept.

    ``path`` is named by the key of what the result depends on (the run's step cache,
    :mod:`analysis.steps`: the sensitivity sweep over its grid), so a file found there is the
    result of the same inputs. The result is kept as a pickle: exact (floats, column types
    and missing values come back as they were, which a CSV does not promise) and with no
    package beyond the standard library (Parquet would need pyarrow); only the run's own cache
    folder is ever read this way, never a file from elsewhere.
    """
    if path is None:
        return compute()
    path = Path(path)
    if path.is_file():
        with open(path, "rb") as handle:
            return pickle.load(handle)
    result = compute()
    write_atomic(path, pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL))
    return result
