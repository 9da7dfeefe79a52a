"""Issue 26, a newcomer on a laptop: `make test` without `apt-get` or a browser ends with one
sentence, not a make error; the README's numbers come from the code and the benchmark file;
no tracked link points into a developer's machine."""

import json
import os
import re
import shutil
import statistics
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_no_tracked_symlink_points_outside_the_repository():
    listed = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-s"], capture_output=True,
                            text=True, check=True).stdout.splitlines()
    links = [line.split("\t", 1)[1] for line in listed if line.startswith("120000 ")]
    for link in links:  # mode 120000: a symbolic link; its blob is the target
        target = (ROOT / link).parent / os.readlink(ROOT / link)
        assert target.resolve().is_relative_to(ROOT), f"{link} -> {os.readlink(ROOT / link)}"


def restricted_path(tmp_path: Path) -> str:
    """A PATH with what make needs and neither apt-get nor any Chromium or Chrome."""
    folder = tmp_path / "bin"
    folder.mkdir()
    for tool in ("make", "sh", "id"):
        os.symlink(shutil.which(tool), folder / tool)
    return str(folder)


@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
def test_make_test_without_a_browser_or_apt_get_ends_with_one_sentence(tmp_path):
    """`make browser` (a prerequisite of `make test`) finds no browser and says what to install,
    with exit status 0; `make test` then runs the suite (the browser test skips itself) and
    ends with the same sentence instead of a make error."""
    env = {"PATH": restricted_path(tmp_path), "HOME": str(tmp_path)}
    found = subprocess.run(["make", "-s", "browser"], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=60)
    assert found.returncode == 0 and "make: ***" not in found.stderr, found.stderr
    sentence = found.stdout.strip()
    assert sentence.startswith("No Chromium or Chrome found") and sentence.count(". ") == 0
    assert "apt-get install chromium" in sentence and "brew install" in sentence
    # What `make test` would run: the suite with no browser given, then the sentence last.
    plan = subprocess.run(["make", "-n", "test"], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert plan.returncode == 0, plan.stderr
    lines = plan.stdout.strip().splitlines()
    assert 'MA_ILD_BROWSER=""' in lines[-2] and "pytest" in lines[-2]
    assert sentence in lines[-1] and "apt-get update" not in plan.stdout


@pytest.mark.skipif(not shutil.which("make"), reason="make is not installed")
def test_make_browser_names_the_browser_it_found(tmp_path):
    bin_dir = Path(restricted_path(tmp_path))
    fake = bin_dir / "google-chrome"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    found = subprocess.run(["make", "-s", "browser"], cwd=ROOT, env={"PATH": str(bin_dir)},
                           capture_output=True, text=True, timeout=60)
    assert found.returncode == 0 and found.stdout.strip() == (
        f"==> headless-browser test: {fake}")


def test_ci_installs_and_requires_the_browser():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "apt-get install" in ci and "MA_ILD_REQUIRE_BROWSER=1 make test" in ci


def test_the_readme_grid_size_is_the_code_s():
    from analysis.sensitivity import definitions

    size = f"{int(definitions()['in_grid'].sum()):,}"  # the default grid, as the report prints
    for path in (ROOT / "README.md", ROOT / "notebooks" / "README.md"):
        text = path.read_text(encoding="utf-8")
        assert f"{size} response definitions" in text, path.name
        assert not re.search(r"\b648\b", text), path.name


def test_the_readme_timings_are_the_benchmark_s():
    """The README quotes `make bench`'s medians (benchmarks/results.json) and its machine."""
    results = json.loads((ROOT / "benchmarks" / "results.json").read_text(encoding="utf-8"))
    goals = {g["measure"]: g for g in results["goals"]}
    def median_seconds(measure: str) -> float:
        return statistics.median(goals[measure]["seconds"])

    cold = median_seconds("cold report (--no-cache, HTML+PDF+Word) / floor, wall")
    unchanged = median_seconds("unchanged re-run / floor, wall")
    cutoff = median_seconds("one cutoff changed after a paper run / floor, wall")
    machine = results["machine"]
    text = " ".join(README.split())
    assert (f"median of {results['repeat']} on a quiet {machine['cpu_count']}-core "
            f"{machine['cpu_model']}") in text
    assert f"a run from scratch takes {cold:.0f} s of wall time" in text
    assert f"a run with one changed cutoff {cutoff:.0f} s" in text
    assert f"an unchanged re-run {unchanged:.1f} s" in text
