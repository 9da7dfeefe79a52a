"""The one atomic file writer of the project.

A reader (Quarto, a browser, the next notebook, another process) must never see half a file,
and two writers must not trip over each other's temporary files. Every writer in the project
(run tables and fragments, the variables file, rendered reports, the export template and the
synthetic cohort's CSV files) goes through :func:`write_atomic`.

The standard library has no atomic write (``pathlib.Path.write_text`` truncates in place), and
the packages that offer one (``atomicwrites``) are unmaintained; the recipe is a few lines:
write a uniquely named temporary file beside the target, then :func:`os.replace` it.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["write_atomic"]

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
