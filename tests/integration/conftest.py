import os

import pytest

from .lab import REPO, Lab


@pytest.fixture(scope="session")
def lab():
    """A real Ironic + Neutron on loopback, private to the test session.

    SPINELEAF_TEST_LAB=existing reuses a lab already up on the default ports (make lab-up).
    TEST_IRONIC_PORT / TEST_NEUTRON_PORT / TEST_LAB_STATE_DIR run it elsewhere (parallel work).
    """
    if os.environ.get("SPINELEAF_TEST_LAB") == "existing":
        yield Lab(6385, 9696, os.path.join(REPO, ".lab", "run"))
        return
    state = os.environ.get("TEST_LAB_STATE_DIR") or os.path.join(REPO, ".lab", "test-run")
    instance = Lab(int(os.environ.get("TEST_IRONIC_PORT", "16385")),
                   int(os.environ.get("TEST_NEUTRON_PORT", "19696")), state)
    with instance.fresh():
        yield instance


@pytest.fixture(scope="session")
def conn(lab):
    return lab.connect()
