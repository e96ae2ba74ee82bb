"""The collection builds into a tarball that ansible-galaxy installs and ansible-doc reads."""
import os
import subprocess

from .lab import REPO, VENV_BIN


def test_build_install_and_doc(tmp_path):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "installed"))
    env.pop("ANSIBLE_CONFIG", None)
    galaxy = os.path.join(VENV_BIN, "ansible-galaxy")
    subprocess.run([galaxy, "collection", "build", "--force", "--output-path", str(tmp_path), REPO],
                   cwd=str(tmp_path), env=env, check=True, capture_output=True, timeout=600)
    tarball = tmp_path / "spineleaf-baremetal-0.1.0.tar.gz"
    assert tarball.exists()
    subprocess.run([galaxy, "collection", "install", str(tarball), "-p", str(tmp_path / "installed")],
                   cwd=str(tmp_path), env=env, check=True, capture_output=True, timeout=600)
    installed = tmp_path / "installed" / "ansible_collections" / "spineleaf" / "baremetal"
    assert (installed / "plugins" / "modules" / "ironic_nodes.py").exists()
    assert not (installed / ".venv").exists() and not (installed / ".lab").exists()
    doc = subprocess.run([os.path.join(VENV_BIN, "ansible-doc"), "spineleaf.baremetal.ironic_nodes"], cwd=str(tmp_path),
                         env=env, check=True, capture_output=True, text=True, timeout=600)
    assert "update_password" in doc.stdout
