"""execution-environment.yml: `ansible-builder create` makes a complete build context (no container
engine needed) that installs this collection from its built tarball."""
import os
import subprocess
import tarfile

import yaml

from .lab import REPO, VENV_BIN


def _galaxy_version():
    with open(os.path.join(REPO, "galaxy.yml")) as f:
        return yaml.safe_load(f)["version"]


def test_builder_create_makes_the_context(tmp_path):
    tarball = "spineleaf-baremetal-%s.tar.gz" % _galaxy_version()
    subprocess.run([os.path.join(VENV_BIN, "ansible-galaxy"), "collection", "build", "--force",
                    "--output-path", os.path.join(REPO, ".lab", "build")], cwd=REPO, check=True,
                   capture_output=True)
    ctx = tmp_path / "context"
    proc = subprocess.run([os.path.join(VENV_BIN, "ansible-builder"), "create", "-f", "execution-environment.yml",
                           "-c", str(ctx), "--output-filename", "Containerfile"],
                          cwd=REPO, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr

    containerfile = (ctx / "Containerfile").read_text()
    assert 'ARG EE_BASE_IMAGE="quay.io/centos/centos:stream9"' in containerfile
    assert 'ARG PYCMD="/usr/bin/python3.11"' in containerfile
    assert "ansible-galaxy collection install" in containerfile
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core>=2.19,<2.20 ansible-runner>=2.4,<2.5"' in containerfile

    # galaxy: the collection from its tarball, which is in the context where requirements.yml points
    req = yaml.safe_load((ctx / "_build" / "requirements.yml").read_text())
    assert req["collections"] == [{"name": "collections/" + tarball, "type": "file"}]
    with tarfile.open(ctx / "_build" / "collections" / tarball) as tar:
        names = tar.getnames()
    assert "MANIFEST.json" in names
    assert "meta/execution-environment.yml" in names
    assert "plugins/inventory/racks.py" in names
    assert not any(n.startswith((".venv", ".lab", "tests/output")) for n in names)

    # python and system dependencies from meta/
    python_reqs = (ctx / "_build" / "requirements.txt").read_text()
    for lib in ("openstacksdk", "netaddr", "jmespath"):
        assert lib in python_reqs
    assert "python3.11 [platform:rpm]" in (ctx / "_build" / "bindep.txt").read_text()


def test_collection_ee_metadata_points_at_existing_files():
    with open(os.path.join(REPO, "meta", "execution-environment.yml")) as f:
        meta = yaml.safe_load(f)
    for key in ("python", "system"):
        assert os.path.isfile(os.path.join(REPO, meta["dependencies"][key])), key
