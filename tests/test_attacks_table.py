"""The README's attack table must be what the attack corpus's results say
(scripts/attack-table.py makes it from build/attack-results.json, which
tests/test_attacks.py writes; this file runs after it)."""
import json
import os
import subprocess

import pytest

from lib.pj import REPO

SCRIPT = os.path.join(REPO, "scripts", "attack-table.py")
RESULTS = os.path.join(REPO, "build", "attack-results.json")


def test_readme_attack_table_is_current():
    if not os.path.exists(RESULTS):
        pytest.skip("no build/attack-results.json: tests/test_attacks.py has not run")
    with open(RESULTS) as f:
        runs = [run for c in json.load(f)["cases"].values() for run in c.get("runs", {}).values()]
    raced = sum(1 for run in runs if run.get("raced"))
    if raced:
        # A user-space kill that lost the race with a short-lived violator
        # changes that row (reported, not killed): the committed table is
        # made from a run where every kill landed.
        pytest.skip(f"{raced} case(s) had their kill race a short-lived process this run")
    r = subprocess.run(["/usr/bin/python3", SCRIPT, "--check"], capture_output=True,
                       text=True)
    assert r.returncode == 0, \
        f"README.md's attack table is out of date (run scripts/attack-table.py):\n" \
        f"{r.stdout}{r.stderr}"


def test_every_case_is_in_the_table(tmp_path):
    empty = tmp_path / "results.json"
    empty.write_text('{"format": "pipjail-attack-results", "cases": {}}\n')
    r = subprocess.run(["/usr/bin/python3", SCRIPT, "--print", "--results", str(empty)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r
    cases = sorted(d for d in os.listdir(os.path.join(REPO, "tests", "attacks"))
                   if os.path.isfile(os.path.join(REPO, "tests", "attacks", d, "case.json")))
    for name in cases:
        assert f"test_attack[{name}]" in r.stdout and "not run" in r.stdout, name
