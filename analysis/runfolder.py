"""The folders of runs: the run-name rule, one lock per run name, and tidying a killed run.

A run named ``NAME`` owns, under the runs folder (issue 13):

- ``NAME/``: its bundle;
- ``.NAME.tmp-XXXX/``: its staging folder while it builds (one at a time);
- ``.NAME.old-PID/``: the previous bundle for the instant of the swap;
- ``_failed/NAME/``: the executed notebook of a step that failed;
- ``.locks/NAME.lock`` and ``.locks/NAME.json``: its lock, and the record of the folders above
  that exist while it runs (its process id, staging folder, swap folder).

Only one run of a name runs at a time: a second one is refused at once with a message naming
the first (it would replace the first's bundle anyway, so waiting for it is rarely wanted).
Runs of other names never touch these folders. Leftovers of a killed run are removed by the
next run of the same name from the record alone: by exact folder name, never by a pattern, so
no run name can reach another run's folders.

The lock is :class:`filelock.FileLock` (an OS lock, ``fcntl.flock`` on POSIX and ``msvcrt``
on Windows, released by the operating system when the process dies, so a killed run never
leaves a stale lock). ``fcntl`` alone would do on POSIX, but not on Windows, and filelock is
the well-kept library for it.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from analysis.errors import PipelineError

__all__ = ["RUN_NAME_RULE", "check_run_name", "run_lock", "clean_stale", "update_record",
           "os_error_message", "is_write_error", "FAILED", "LOCKS"]

#: A run name: 1 to 64 ASCII letters, digits, ``-`` or ``_``, starting with a letter or a
#: digit. So no spaces, dots, slashes or glob characters, and the pipeline's own folders
#: (``_failed``, ``.locks``, ``.cache``, ``.NAME.tmp-*``) can never be a run's name.
RUN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
RUN_NAME_RULE = ("1 to 64 letters (a-z, A-Z), digits, '-' or '_', starting with a letter or "
                 "a digit (no spaces, dots or slashes; '_failed' and names starting with '.' "
                 "are reserved for the pipeline's own folders)")
FAILED = "_failed"
LOCKS = ".locks"


def check_run_name(name: object) -> str:
    """Return ``name`` if it follows :data:`RUN_NAME_RULE`, else raise :class:`PipelineError`.

    >>> check_run_name("strict-ild")
    'strict-ild'
    >>> check_run_name("a b")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    analysis.errors.PipelineError: invalid run name 'a b': a run name is 1 to 64 letters ...
    """
    if not isinstance(name, str) or not RUN_NAME.fullmatch(name):
        raise PipelineError(f"invalid run name {name!r}: a run name is {RUN_NAME_RULE}")
    return name


def _record_path(runs_dir: Path, name: str) -> Path:
    return Path(runs_dir) / LOCKS / f"{name}.json"


def read_record(runs_dir: Path, name: str) -> dict:
    """The record of the run of ``name`` in progress (or killed): ``{}`` when there is none
    or it cannot be read (a record is written atomically, so that means none)."""
    try:
        record = json.loads(_record_path(runs_dir, name).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}


def update_record(runs_dir: Path, name: str, **entries: str | int) -> None:
    """Add ``entries`` to the run's record (written atomically; the lock must be held)."""
    from analysis.files import write_atomic

    record = {**read_record(runs_dir, name), **entries}
    write_atomic(_record_path(runs_dir, name), json.dumps(record, indent=1) + "\n")


@contextlib.contextmanager
def run_lock(runs_dir: Path, name: str) -> Iterator[None]:
    """Hold the lock of run ``name`` in ``runs_dir`` for the ``with`` block; refuse at once
    (:class:`PipelineError`) if another process holds it."""
    from filelock import FileLock, Timeout

    (Path(runs_dir) / LOCKS).mkdir(parents=True, exist_ok=True)
    lock = FileLock(Path(runs_dir) / LOCKS / f"{name}.lock", timeout=0)
    try:
        lock.acquire()
    except Timeout:
        holder = read_record(runs_dir, name)
        who = (f" (process {holder['pid']}, started {holder.get('started', '?')})"
               if "pid" in holder else "")
        raise PipelineError(
            f"run '{name}' is already in progress{who}: wait for it to finish (its bundle "
            f"will be {Path(runs_dir) / name}), or start this one under another --name"
        ) from None
    try:
        yield
    finally:
        lock.release()


def _own(runs_dir: Path, name: str, entry: object, kind: str) -> Path | None:
    """The folder a record names, if it is exactly one of this run name's own (a record is
    never trusted to point elsewhere)."""
    if (isinstance(entry, str) and entry.startswith(f".{name}.{kind}-")
            and Path(entry).name == entry):
        return Path(runs_dir) / entry
    return None


def clean_stale(runs_dir: Path, name: str) -> None:
    """Tidy what a killed or failed run of ``name`` left, from its record only (call with the
    lock held): its staging folder is removed; a previous bundle caught mid-swap
    (``.NAME.old-PID`` recorded and no ``NAME``) is put back. Then the record is removed.

    Half-written step cache entries (``.cache/STEP/.KEY.tmp-PID``) whose writer's process
    is gone are removed too: their names carry no run name.
    """
    runs_dir = Path(runs_dir)
    record = read_record(runs_dir, name)
    stage = _own(runs_dir, name, record.get("stage"), "tmp")
    if stage is not None:
        shutil.rmtree(stage, ignore_errors=True)
    old = _own(runs_dir, name, record.get("old"), "old")
    if old is not None and old.exists():
        if (runs_dir / name).exists():
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(old, runs_dir / name)
    _record_path(runs_dir, name).unlink(missing_ok=True)
    for path in runs_dir.glob(".cache/*/.*.tmp-*"):
        if not _alive(path.name.rsplit("-", 1)[-1]):
            shutil.rmtree(path, ignore_errors=True)


def start_record(runs_dir: Path, name: str, stage: Path) -> None:
    """Record the run in progress: its process and staging folder."""
    update_record(runs_dir, name, pid=os.getpid(), stage=stage.name,
                  started=datetime.now(UTC).isoformat(timespec="seconds"))


def _alive(pid: str) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return True


_WHAT_TO_DO = {
    errno.ENOSPC: ("the disk is full", "free some space (old runs under runs/ and the step "
                   "cache runs/.cache can be deleted) and run again"),
    errno.EDQUOT: ("the disk quota is exceeded", "free some space and run again"),
    errno.EROFS: ("the file system is read-only", "choose a writable folder with --runs-dir"),
    errno.EACCES: ("permission denied", "make the folder writable for you, or choose another "
                   "with --runs-dir"),
    errno.EPERM: ("operation not permitted", "make the folder writable for you, or choose "
                  "another with --runs-dir"),
    errno.ENOTDIR: ("a file is in the way of a folder", "remove or rename that file, or choose "
                    "another folder with --runs-dir"),
    errno.EEXIST: ("a file is in the way of a folder", "remove or rename that file, or choose "
                   "another folder with --runs-dir"),
}


def os_error_message(exc: OSError, folder: Path | None = None) -> str:
    """One sentence for an operating-system error while writing a run: what failed, where,
    and what to do (instead of ``[Errno 28] No space left on device``).

    >>> import errno
    >>> os_error_message(OSError(errno.ENOSPC, "No space left on device"), Path("runs"))
    ... # doctest: +ELLIPSIS
    'cannot write runs: the disk is full; free some space (old runs under runs/ ...'
    """
    number, filename = _cause(exc)
    where = filename or folder or "the output folder"
    if number not in _WHAT_TO_DO:
        return f"{where}: {exc.strerror or exc}"
    what, todo = _WHAT_TO_DO[number]
    return f"cannot write {where}: {what}; {todo}"


def is_write_error(exc: OSError) -> bool:
    """Whether ``exc`` is one :func:`os_error_message` explains (full disk, read-only or
    unwritable folder, a file in the way)."""
    return _cause(exc)[0] in _WHAT_TO_DO


def _cause(exc: OSError) -> tuple[int | None, str | None]:
    """The error number and file of ``exc``. :class:`shutil.Error` (``copytree``) carries
    neither: it lists (source, target, reason text) per file that failed, the reason holding
    ``[Errno 28] ...``; the first such number, and its target, stand for all (a full disk
    fails every file the same way).

    >>> import shutil
    >>> _cause(shutil.Error([("a", "runs/x/a", "[Errno 28] No space left on device")]))
    (28, 'runs/x/a')
    """
    if isinstance(exc, shutil.Error) and exc.args and isinstance(exc.args[0], list):
        for item in exc.args[0]:
            found = re.search(r"\[Errno (\d+)\]", str(item[-1])) if isinstance(item, tuple) \
                else None
            if found:
                return int(found.group(1)), str(item[1]) if len(item) > 2 else None
        return None, None
    return exc.errno, exc.filename
