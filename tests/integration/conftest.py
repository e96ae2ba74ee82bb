import os

import pytest

from lab.harness import REPO, Lab

# The longest files, longest first (minutes each on an idle 2-core machine, README "Tests"). Under
# `make test` (-n 2 --dist loadfile --no-loadscope-reorder) a worker takes a whole file and workers
# take files in collection order: a long file taken last keeps one worker busy while the other has
# nothing left. pytest-xdist's default order (most tests first) put exactly these last, as they have
# one to five tests each.
LONGEST_FIRST = ("test_awx_launch.py", "test_installed_collection.py", "test_vifs.py", "test_site_errors.py",
                 "test_lab_network.py", "test_rolling_upgrade.py", "test_site_scale.py", "test_awx_runner.py")


def pytest_collection_modifyitems(items):
    rank = dict((name, i) for i, name in enumerate(LONGEST_FIRST))
    items.sort(key=lambda item: rank.get(os.path.basename(str(item.fspath)), len(rank)))  # stable: a file keeps its order


@pytest.fixture(scope="session")
def lab():
    """A real Ironic + Neutron on loopback, private to the test session.

    SPINELEAF_TEST_LAB=existing reuses a lab already up on the default ports (make lab-up).
    TEST_IRONIC_PORT / TEST_NEUTRON_PORT / TEST_LAB_STATE_DIR run it elsewhere (parallel work).
    Under pytest-xdist (`make test` runs two workers) each worker gets a lab of its own: worker
    gwN adds 10*N to both ports and uses its own state dir.
    """
    if os.environ.get("SPINELEAF_TEST_LAB") == "existing":
        yield Lab(6385, 9696, os.path.join(REPO, ".lab", "run"))
        return
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    offset = 10 * int(worker[2:]) if worker.startswith("gw") and worker[2:].isdigit() else 0
    state = os.environ.get("TEST_LAB_STATE_DIR") or os.path.join(REPO, ".lab", "test-run")
    if worker:
        state = "%s-%s" % (state, worker)
    instance = Lab(int(os.environ.get("TEST_IRONIC_PORT", "16385")) + offset,
                   int(os.environ.get("TEST_NEUTRON_PORT", "19696")) + offset, state)
    with instance.fresh():
        yield instance


@pytest.fixture(scope="session")
def conn(lab):
    return lab.connect()
