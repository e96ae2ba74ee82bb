"""The collection builds into a tarball that ansible-galaxy installs and ansible-doc reads."""
import os
import subprocess
import tarfile

import yaml

from lab.harness import REPO, VENV_BIN


def _galaxy():
    with open(os.path.join(REPO, "galaxy.yml")) as f:
        return yaml.safe_load(f)


def test_build_install_and_doc(tmp_path):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "installed"))
    env.pop("ANSIBLE_CONFIG", None)
    galaxy = os.path.join(VENV_BIN, "ansible-galaxy")
    subprocess.run([galaxy, "collection", "build", "--force", "--output-path", str(tmp_path), REPO],
                   cwd=str(tmp_path), env=env, check=True, capture_output=True, timeout=600)
    tarball = tmp_path / ("spineleaf-baremetal-%s.tar.gz" % _galaxy()["version"])
    assert tarball.exists()
    subprocess.run([galaxy, "collection", "install", str(tarball), "-p", str(tmp_path / "installed")],
                   cwd=str(tmp_path), env=env, check=True, capture_output=True, timeout=600)
    installed = tmp_path / "installed" / "ansible_collections" / "spineleaf" / "baremetal"
    assert (installed / "plugins" / "modules" / "ironic_nodes.py").exists()
    assert not (installed / ".venv").exists() and not (installed / ".lab").exists()
    doc = subprocess.run([os.path.join(VENV_BIN, "ansible-doc"), "spineleaf.baremetal.ironic_nodes"], cwd=str(tmp_path),
                         env=env, check=True, capture_output=True, text=True, timeout=600)
    assert "update_password" in doc.stdout


def test_tarball_carries_what_a_user_needs_and_nothing_else(tmp_path):
    env = dict(os.environ)
    env.pop("ANSIBLE_CONFIG", None)
    subprocess.run([os.path.join(VENV_BIN, "ansible-galaxy"), "collection", "build", "--output-path", str(tmp_path), REPO],
                   cwd=str(tmp_path), env=env, check=True, capture_output=True, timeout=600)
    with tarfile.open(tmp_path / ("spineleaf-baremetal-%s.tar.gz" % _galaxy()["version"])) as tar:
        names = set(m.name for m in tar.getmembers() if m.isfile())
    tops = set(n.split("/", 1)[0] for n in names)
    # what a user needs
    for need in ("MANIFEST.json", "FILES.json", "README.md", "LICENSE", "meta/runtime.yml", "meta/execution-environment.yml",
                 "meta/ee-requirements.txt", "meta/ee-bindep.txt", "playbooks/site.yml", "playbooks/rolling_upgrade.yml",
                 "playbooks/tasks/site_summary.yml", "roles/introspect/tasks/main.yml",
                 "roles/introspect/meta/argument_specs.yml", "plugins/modules/ironic_nodes.py",
                 "plugins/filter/site.py", "plugins/filter/site_errors.yml", "plugins/inventory/racks.py",
                 "changelogs/changelog.yaml", "inventory/example-large/site.racks.yml"):
        assert need in names, need
    # and nothing else: no lab, tests, benchmarks, CI, build or dev files, local state
    assert tops <= {"MANIFEST.json", "FILES.json", "README.md", "LICENSE", "meta", "playbooks", "roles", "plugins",
                    "changelogs", "inventory", "docs"}, tops
    for name in names:
        assert not name.startswith(("tests/", "lab/", "bench/", ".ci/", ".lab/", ".venv/", "collections/",
                                    "changelogs/fragments/", "reports/")), name
        assert name not in ("Makefile", "requirements-dev.txt", "ansible.cfg", "pytest.ini", ".ansible-lint",
                            ".gitignore", "execution-environment.yml"), name
        assert os.path.basename(name) not in ("cabling.yml", "Makefile"), name  # the lab ramdisk's cabling
        assert "__pycache__" not in name and not name.endswith((".pyc", ".tar.gz")), name


def test_metadata_license_and_links():
    galaxy = _galaxy()
    assert galaxy["license"] == ["GPL-3.0-or-later"]
    with open(os.path.join(REPO, "LICENSE")) as f:
        text = f.read()
    assert "GNU GENERAL PUBLIC LICENSE" in text and "Version 3, 29 June 2007" in text
    assert "END OF TERMS AND CONDITIONS" in text and "How to Apply These Terms to Your New Programs" in text
    for key in ("repository", "documentation", "issues", "homepage"):
        assert str(galaxy.get(key, "")).startswith("https://"), key


def test_changelog_lint():
    proc = subprocess.run([os.path.join(VENV_BIN, "antsibull-changelog"), "lint"], cwd=REPO, capture_output=True,
                          text=True, check=False, timeout=300)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr
