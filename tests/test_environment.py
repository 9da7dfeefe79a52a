"""environment.yml names the same packages and versions as pyproject.toml."""

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def pins(requirements):
    return dict(r.split("==") for r in requirements)


def test_conda_environment_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = pins(project["dependencies"] + project["optional-dependencies"]["dev"])
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pins([r for r in pip if "==" in r]) == wanted
    assert any(str(d).startswith("quarto") for d in env["dependencies"])


def test_every_dependency_is_pinned_and_locked():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lock = pins(line.strip() for line in (ROOT / "requirements.lock").read_text().splitlines()
                if "==" in line)
    lowered = {k.lower().replace("_", "-"): v for k, v in lock.items()}
    for name, version in pins(project["dependencies"]).items():
        assert lowered[name.lower()] == version, name
