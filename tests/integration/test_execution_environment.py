"""execution-environment.yml: `ansible-builder create` makes a complete build context (no container
engine needed) that installs this collection from its built tarball."""
import json
import os
import subprocess
import tarfile

import yaml

from lab.harness import REPO


def _galaxy_version():
    with open(os.path.join(REPO, "galaxy.yml")) as f:
        return yaml.safe_load(f)["version"]


def test_builder_create_makes_the_context(tmp_path):
    # `make ee-context` itself (the venv taken as it is): the tarball, then ansible-builder create
    ctx = tmp_path / "context"
    proc = subprocess.run(["make", "--no-print-directory", "-o", "venv", "ee-context", "EE_CONTEXT=%s" % ctx],
                          cwd=REPO, capture_output=True, text=True, check=False, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    containerfile = (ctx / "Containerfile").read_text()
    assert 'ARG EE_BASE_IMAGE="quay.io/centos/centos:stream9"' in containerfile
    assert 'ARG PYCMD="/usr/bin/python3.11"' in containerfile
    assert 'ARG PYPKG="python3.11"' in containerfile
    assert "ansible-galaxy collection install" in containerfile
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core>=2.19,<2.20 ansible-runner>=2.4,<2.5"' in containerfile

    # galaxy: the collection from its tarball, which is in the context where requirements.yml points;
    # the version inside is galaxy.yml's, and the EE definition holds no copy of it
    req = yaml.safe_load((ctx / "_build" / "requirements.yml").read_text())
    assert req["collections"] == [{"name": "collections/spineleaf-baremetal.tar.gz", "type": "file"}]
    with tarfile.open(ctx / "_build" / "collections" / "spineleaf-baremetal.tar.gz") as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile("MANIFEST.json"))
    assert manifest["collection_info"]["version"] == _galaxy_version()
    with open(os.path.join(REPO, "execution-environment.yml")) as f:
        assert _galaxy_version() not in f.read()
    assert "meta/execution-environment.yml" in names
    assert "plugins/inventory/racks.py" in names
    assert not any(n.startswith((".venv", ".lab", "tests", "lab/")) for n in names)

    # python and system dependencies from meta/; no second Python: the interpreter comes from
    # python_interpreter alone (PYPKG above), bindep names no python package for any platform
    python_reqs = (ctx / "_build" / "requirements.txt").read_text()
    for lib in ("openstacksdk", "netaddr", "jmespath"):
        assert lib in python_reqs
    bindep = (ctx / "_build" / "bindep.txt").read_text() if (ctx / "_build" / "bindep.txt").exists() else ""
    entries = [line.split("#", 1)[0].strip() for line in bindep.splitlines()]
    assert not [e for e in entries if e.lower().startswith("python")], bindep


def test_collection_bindep_installs_no_python():
    with open(os.path.join(REPO, "meta", "ee-bindep.txt")) as f:
        entries = [line.split("#", 1)[0].strip() for line in f]
    assert not [e for e in entries if e.lower().startswith("python")], entries


def test_collection_ee_metadata_points_at_existing_files():
    with open(os.path.join(REPO, "meta", "execution-environment.yml")) as f:
        meta = yaml.safe_load(f)
    for key in ("python", "system"):
        assert os.path.isfile(os.path.join(REPO, meta["dependencies"][key])), key
