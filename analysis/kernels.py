"""Kernels started once per run: the step notebooks execute one after another in a few warm
kernels instead of one fresh kernel each (issue 17).

A fresh kernel costs its start plus the imports of pandas, scipy, matplotlib, seaborn and
statsmodels (about a second of CPU for the start and several for the imports on our 2-core
machines), and every step notebook used to pay it. A :class:`KernelPool` starts ``size``
kernels when the run starts (before the main process validates the data, so the two overlap),
runs a warm-up cell of those imports in each, then executes each step notebook in whichever
kernel is free, through papermill (so each notebook is parameterised, executed and saved as
its own output notebook, and a failing cell raises papermill's error naming the cell).

Between notebooks a kernel is isolated (:data:`ISOLATE`): the executed notebook sees a fresh
user namespace, no open pyplot figures, the matplotlib settings and warning filters as they
were after the warm-up, and the notebooks folder as working directory. Imported modules stay
imported: that is the point. Each kernel is owned by one worker thread (its kernel manager and
clients live on that thread's event loop); the pool shuts every kernel down on success,
failure and interrupt (:meth:`KernelPool.close`).
"""

from __future__ import annotations

import atexit
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Kernel", "KernelPool", "WARM_UP", "ISOLATE", "execute_in_kernel", "notebook_imports"]

#: Run once per kernel, right after it starts, with ``MODULES`` the modules the run's notebooks
#: import (:func:`notebook_imports`): a module missing here only costs time later, so an import
#: error is ignored (the notebook reports it). The state :data:`ISOLATE` restores between
#: notebooks is recorded at the end, after the imports (which set matplotlib's rcParams and
#: add warning filters just as they would in a fresh kernel before the notebook's cells).
WARM_UP = """\
import copy as _copy
import importlib as _importlib
import sys as _sys
import types as _types
import warnings as _warnings

for _name in {modules!r}:
    try:
        _importlib.import_module(_name)
    except Exception:
        pass

import matplotlib as _mpl

_sys.modules["_ma_ild_isolation"] = _types.SimpleNamespace(
    rc=_copy.deepcopy({{k: v for k, v in _mpl.rcParams.items() if k != "backend"}}),
    filters=list(_warnings.filters))
"""


#: Libraries the :mod:`analysis` package imports inside its functions (so that importing it
#: stays cheap, e.g. :mod:`analysis.report.style` imports seaborn only to draw): warmed up too
#: when a notebook imports from :mod:`analysis`.
LAZY_LIBRARIES = ("pandas", "numpy", "scipy.stats", "statsmodels.api", "matplotlib.figure",
                  "matplotlib.backends.backend_agg", "seaborn")


def notebook_imports(paths: list[Path]) -> tuple[str, ...]:
    """The modules the code cells of ``paths`` import (``import a.b``, ``from a.b import c``,
    and ``a.b.c`` in case ``c`` is a submodule), in first-seen order: what a kernel imports
    before the notebooks run (:data:`WARM_UP`). A cell that is not plain Python is skipped."""
    import ast

    import nbformat

    names: dict[str, None] = {}
    for path in paths:
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            try:
                tree = ast.parse(cell.source)
            except SyntaxError:
                continue
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    names.update(dict.fromkeys(alias.name for alias in node.names))
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names[node.module] = None
                    names.update(dict.fromkeys(f"{node.module}.{alias.name}"
                                               for alias in node.names))
    if any(name == "analysis" or name.startswith("analysis.") for name in names):
        names.update(dict.fromkeys(LAZY_LIBRARIES))
    return tuple(names)


#: Run (silently, outside the notebook's numbering) before each notebook in a kernel:
#: (the namespace is reset last, since it removes this code's own names)
#: - a fresh user namespace (``reset``): a notebook must not see the previous notebook's
#:   variables (a name it forgot to define would otherwise silently take the old value);
#: - the execution counter back to 1, as in a fresh kernel, so the saved notebook and the
#:   failure message number the cells exactly as before;
#: - every pyplot figure closed: an open figure would be shown again (and keep memory);
#: - matplotlib's rcParams restored to the warm-up snapshot: a notebook that changed a style
#:   (``seaborn.set_theme``, ``rcParams[...] =``) would otherwise change the next one's figures;
#: - the warning filters restored and their "already shown" registries invalidated, so a
#:   warning shown in one notebook is shown again in the next (as a fresh kernel would);
#: - the working directory set to the notebooks folder: papermill's ``cwd`` applies only when
#:   it starts the kernel, and a notebook may have changed it.
ISOLATE = """\
import sys as _sys
_state = _sys.modules["_ma_ild_isolation"]
if "matplotlib.pyplot" in _sys.modules:
    _sys.modules["matplotlib.pyplot"].close("all")
import copy as _copy
import matplotlib as _mpl
import os as _os
import warnings as _warnings
with _warnings.catch_warnings():
    _warnings.simplefilter("ignore")
    _mpl.rcParams.update(_copy.deepcopy(_state.rc))
_warnings.filters[:] = _state.filters
_warnings.onceregistry.clear()
getattr(_warnings, "_filters_mutated", lambda: None)()
_os.chdir({cwd!r})
get_ipython().reset(new_session=False)
get_ipython().execution_count = 1
"""


def _client_classes():
    """papermill's nbclient engine and client, made to use a kernel manager that is already
    running (``km``) and to run :data:`ISOLATE` before the notebook's first cell."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine
    from papermill.utils import merge_kwargs, remove_args

    class IsolatedClient(PapermillNotebookClient):
        def __init__(self, nb_man, prelude: str = "", kernel_client=None, **kw):
            self.prelude = prelude
            super().__init__(nb_man, **kw)
            # The kernel's own client, connected once (nbclient then skips connecting, which
            # waits for the kernel to be idle); replies are matched to requests by message id.
            self.kc = kernel_client

        def papermill_execute_cells(self):
            reply = self.wait_for_reply(self.kc.execute(self.prelude, silent=True,
                                                        store_history=False))
            if reply is None or reply["content"]["status"] != "ok":
                content = (reply or {}).get("content", {})
                raise RuntimeError(f"kernel isolation failed: {content.get('ename')}: "
                                   f"{content.get('evalue')}")
            super().papermill_execute_cells()

    class SharedKernelEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False,
                                     stdout_file=None, stderr_file=None, start_timeout=60,
                                     execution_timeout=None, **kwargs):
            # As NBClientEngine.execute_managed_notebook, with IsolatedClient.
            kwargs = remove_args(["input_path", "timeout", "startup_timeout"], **kwargs)
            final = merge_kwargs(kwargs, timeout=execution_timeout, startup_timeout=start_timeout,
                                 kernel_name=kernel_name, log_output=log_output,
                                 stdout_file=stdout_file, stderr_file=stderr_file)
            return IsolatedClient(nb_man, **final).execute()

    return SharedKernelEngine


_ENGINE = "ma-ild-shared-kernel"
_REGISTER = threading.Lock()


def _engine_name() -> str:
    """Register the shared-kernel engine with papermill once; return its name."""
    from papermill.engines import papermill_engines

    with _REGISTER:
        if _ENGINE not in papermill_engines._engines:
            papermill_engines.register(_ENGINE, _client_classes())
    return _ENGINE


def execute_in_kernel(kernel: Kernel, source: Path, target: Path, parameters: dict,
                      cwd: Path) -> None:
    """Execute notebook ``source`` into ``target`` with papermill in the running ``kernel``
    (isolated first, :data:`ISOLATE`). Raises papermill's ``PapermillExecutionError`` when a
    cell fails (the executed notebook is saved at ``target`` first, as papermill does)."""
    import papermill

    papermill.execute_notebook(str(source), str(target), parameters=parameters,
                               kernel_name=kernel.name, engine_name=_engine_name(),
                               km=kernel.manager, kernel_client=kernel.client,
                               prelude=ISOLATE.format(cwd=str(cwd)), progress_bar=False,
                               log_output=False)


@dataclass
class Kernel:
    """A running kernel of the pool: its name, manager and connected client."""

    name: str
    manager: Any
    client: Any = None


def _warm_up(kernel: Kernel, cwd: Path, modules: tuple[str, ...], setup: str = "") -> None:
    """Start the kernel (in ``cwd``), run :data:`WARM_UP` and ``setup`` in it, and keep its
    client."""
    import nbformat
    from nbclient import NotebookClient

    book = nbformat.v4.new_notebook()
    book.cells.append(nbformat.v4.new_code_cell(WARM_UP.format(modules=modules) + setup))
    client = NotebookClient(book, km=kernel.manager, kernel_name=kernel.name,
                            resources={"metadata": {"path": str(cwd)}})
    try:
        client.execute()
    finally:
        kernel.client = client.kc
        # nbclient registers an exit hook before starting the kernel and leaves it registered
        # when the start fails (as when the run is refused and kills the kernel): the hook
        # would then print a traceback at exit.
        atexit.unregister(client._cleanup_kernel)


class KernelPool:
    """``size`` kernels, each started and warmed up by its own worker thread, executing the
    jobs given to :meth:`submit` in order, whichever kernel is free first.

    Parameters
    ----------
    size : number of kernels (``jobs``).
    kernel : kernel name (kernelspec).
    cwd : the notebooks folder (every notebook's working directory).
    manager_class : the kernel manager class (the pipeline's IPC manager).
    modules : imported in each kernel as it starts (:func:`notebook_imports`).
    setup : code run in each kernel after the imports, once (the run hands its parameters
        over: :func:`analysis.params.hand_over`).
    """

    def __init__(self, size: int, kernel: str, cwd: Path, manager_class: type,
                 modules: tuple[str, ...] = (), setup: str = "") -> None:
        self.size, self.kernel, self.cwd = max(1, size), kernel, Path(cwd)
        self.modules, self.setup = tuple(modules), setup
        self._manager_class = manager_class
        self._jobs: queue.Queue = queue.Queue()
        self._managers: list[Any] = []
        self._lock = threading.Lock()
        self._closed = False
        #: Seconds each kernel took to start and import (:data:`WARM_UP`), by kernel index.
        self.warm_seconds: dict[int, float] = {}
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start the kernels (each in its worker thread); a no-op once started or closed."""
        with self._lock:
            if self._threads or self._closed:
                return
            self._threads = [threading.Thread(target=self._work, args=(i,), daemon=True,
                                              name=f"ma-ild-kernel-{i}")
                             for i in range(self.size)]
        for thread in self._threads:
            thread.start()

    def submit(self, job: Callable[[Kernel], Any]) -> Future:
        """Queue ``job(kernel)`` (starting the kernels if not yet started); its result (or
        exception) arrives in the returned future."""
        self.start()
        future: Future = Future()
        self._jobs.put((future, job))
        return future

    def _work(self, index: int) -> None:
        km = self._manager_class(kernel_name=self.kernel)
        kernel = Kernel(self.kernel, km)
        with self._lock:
            if self._closed:
                return
            self._managers.append(km)
        started = time.perf_counter()
        failure: BaseException | None = None
        try:
            try:
                _warm_up(kernel, self.cwd, self.modules, self.setup)
            except Exception as exc:  # noqa: BLE001 - handed to every job of this kernel
                failure = exc
            self.warm_seconds[index] = round(time.perf_counter() - started, 2)
            while (item := self._jobs.get()) is not None:
                future, job = item
                if not future.set_running_or_notify_cancel():
                    continue
                if failure is not None:
                    future.set_exception(failure)
                    continue
                try:
                    future.set_result(job(kernel))
                except BaseException as exc:  # noqa: BLE001 - handed to the waiting caller
                    future.set_exception(exc)
        finally:
            if kernel.client is not None:
                kernel.client.stop_channels()
            _shut_down(km)

    def close(self, kill: bool = False, wait: bool = True) -> None:
        """Stop the kernels: after their queued jobs (``kill=False``), or at once (``kill``:
        on failure or interrupt, the kernel processes are killed, so a notebook still running
        fails fast instead of being waited for). ``wait`` joins the worker threads. May be
        called again (e.g. ``wait=False`` before rendering, then once more at the end)."""
        with self._lock:
            self._closed = True
            managers = list(self._managers)
            threads = list(self._threads)
        if kill:
            while True:  # drop the jobs not started
                try:
                    item = self._jobs.get_nowait()
                except queue.Empty:
                    break
                if item is not None:
                    item[0].cancel()
            for km in managers:
                _kill(km)
        for _ in threads:
            self._jobs.put(None)
        if wait:
            for thread in threads:
                thread.join()


def _kill(km) -> None:
    """Kill the kernel process of ``km`` (ours, by its own process handle)."""
    process = getattr(getattr(km, "provisioner", None), "process", None)
    if process is not None and process.poll() is None:
        process.kill()


def _shut_down(km) -> None:
    """Shut the kernel down (politely, then by force) and remove its connection files."""
    from jupyter_core.utils import run_sync

    async def stop():
        try:
            if km.has_kernel and await km.is_alive():
                await km.shutdown_kernel(now=False)
        except Exception:  # noqa: BLE001 - the kernel is gone either way
            _kill(km)
        finally:
            await km.cleanup_resources()

    try:
        run_sync(stop)()
    except Exception:  # noqa: BLE001 - never let shutdown hide the run's own outcome
        _kill(km)
