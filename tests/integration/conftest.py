import os

import pytest

from .lab import REPO, Lab


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
