"""The topology reports hold node data: written 0600, in directories the module creates 0700 (#14)."""
import os
import stat

from ansible_collections.spineleaf.baremetal.plugins.modules.lldp_topology import make_private_dirs, write_private


def _mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def test_new_directories_are_0700_and_existing_ones_keep_their_mode(tmp_path):
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    os.chmod(shared, 0o755)
    target = shared / "reports" / "r01"
    old = os.umask(0o022)
    try:
        make_private_dirs(str(target))
        make_private_dirs(str(target))  # exists: nothing to do
    finally:
        os.umask(old)
    assert _mode(shared) == 0o755
    assert _mode(shared / "reports") == 0o700 and _mode(target) == 0o700


def test_files_are_0600_also_when_they_existed_with_another_mode(tmp_path):
    path = tmp_path / "topology.json"
    path.write_text("old")
    os.chmod(path, 0o644)
    write_private(str(path), "{}")
    assert path.read_text() == "{}" and _mode(path) == 0o600
    write_private(str(tmp_path / "new.html"), "<html/>")
    assert _mode(tmp_path / "new.html") == 0o600
