"""The browser-only route (issue 15): Binder/repo2docker builds the class's environment from the
repository's own files, ``environment.yml`` then ``postBuild``. Docker is not available here,
so the test builds the same environment the way repo2docker's conda build pack does: a clean
virtual environment of the Python version environment.yml names, an install of its pip section
as a requirements file (``-r``) run from the repository's folder (as conda does), then
``bash postBuild`` with that environment first on PATH. It then runs a notebook with the
installed kernel and finds Figure 1 as an inline image. Quarto (the section's conda-only line)
is not needed by the notebooks and is left out.

The installer is uv (``uv pip install -r``, pinned in the dev extras) rather than pip: the same
requirements file, the same exact pins and ``-c requirements.lock`` constraints, the same
``-e .`` editable install, in a few seconds from uv's cache instead of minutes of pip (which
asks the index for every package and byte-compiles everything it unpacks). What is given up:
that pip's own resolver accepts the file (both read the same pip requirements format, and
every line here is an exact pin or a constraint, so there is nothing to choose), and the
up-front bytecode compilation (Python compiles what the notebook imports on first import).
The venv is made without pip for the same reason: nothing in the build calls it.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def binder_files() -> tuple[str, list[str]]:
    """The Python version and the pip requirements environment.yml gives repo2docker."""
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    python = next(str(d).split("=", 1)[1] for d in env["dependencies"]
                  if isinstance(d, str) and d.startswith("python="))
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    return python, pip


def test_binder_reads_environment_yml_and_postbuild():
    python, pip = binder_files()
    assert python == "3.11" and "-e ." in pip and "-c requirements.lock" in pip
    post = (ROOT / "postBuild").read_text(encoding="utf-8")
    assert os.access(ROOT / "postBuild", os.X_OK), "repo2docker runs postBuild as a program"
    assert "ipykernel install --sys-prefix --name ma-ild-analysis" in post
    kernels = {json.loads(p.read_text())["metadata"]["kernelspec"]["name"]
               for p in (ROOT / "notebooks").glob("*.ipynb")}
    assert kernels == {"ma-ild-analysis"}
    # repo2docker uses the top-level files only when there is no binder/ folder
    assert not (ROOT / "binder").exists() and not (ROOT / ".binder").exists()


@pytest.mark.slow
def test_the_binder_environment_builds_from_its_files_and_runs_a_notebook(tmp_path):
    python, pip = binder_files()
    interpreter = shutil.which(f"python{python}")
    if interpreter is None:
        pytest.skip(f"no python{python} on this machine")
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                           check=True, capture_output=True, text=True).stdout.split()
    repo = tmp_path / "repo"
    for name in files:  # the repository as Binder clones it (tracked and new files)
        if (ROOT / name).is_file():
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    env = tmp_path / "env"
    subprocess.run([interpreter, "-m", "venv", "--without-pip", env], check=True)
    requirements = repo / "binder-requirements.txt"  # what conda writes from the pip section
    requirements.write_text("\n".join(pip) + "\n")
    from uv import find_uv_bin

    subprocess.run([find_uv_bin(), "pip", "install", "--quiet", "--python", env / "bin" / "python",
                    "-r", requirements], cwd=repo, check=True,
                   env={k: v for k, v in os.environ.items() if not k.startswith("VIRTUAL")})
    path = f"{env / 'bin'}{os.pathsep}{os.environ['PATH']}"
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "VIRTUAL"))}
    subprocess.run(["bash", "postBuild"], cwd=repo, check=True, env={**clean, "PATH": path})

    script = """
import json, sys, nbclient, nbformat
book = nbformat.read("02_flow.ipynb", as_version=4)
nbclient.NotebookClient(book, kernel_name="ma-ild-analysis", timeout=600).execute()
images = [o["metadata"]["image/png"].get("figure") for c in book.cells if c.cell_type == "code"
          for o in c.outputs if "image/png" in o.get("data", {})]
import analysis
print(json.dumps({"images": images, "package": analysis.__file__, "python": sys.prefix}))
"""
    done = subprocess.run([env / "bin" / "python", "-c", script], cwd=repo / "notebooks",
                          check=True, capture_output=True, text=True,
                          env={**clean, "PATH": path})
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["images"] == ["figure1"]
    assert found["package"].startswith(str(repo))  # `-e .`: the repository's own package
    kernels = subprocess.run([env / "bin" / "jupyter", "kernelspec", "list", "--json"],
                             check=True, capture_output=True, text=True,
                             env={**clean, "PATH": path}).stdout
    spec = json.loads(kernels)["kernelspecs"]["ma-ild-analysis"]
    assert spec["resource_dir"].startswith(str(env))  # --sys-prefix: inside the environment
    assert sys.version_info >= (3, 11)
