"""IronicAdapter.provision: 503 (max_concurrent_deploy reached) and 409 NodeLocked are retried with
backoff until max_wait; other errors are raised at once; the config drive is passed as a dict."""
import pytest

from ansible_collections.spineleaf.baremetal.plugins.module_utils._ironic import IronicAdapter
from tests.unit.fakes import FakeConn, FakeHttpError


class FakeApi:
    def __init__(self, errors):
        self.errors = list(errors)
        self.calls = []

    def set_node_provision_state(self, node, action, **kwargs):
        self.calls.append((node, action, kwargs))
        if self.errors:
            raise self.errors.pop(0)
        return "ok"


def test_503_and_node_locked_are_retried():
    api = FakeApi([FakeHttpError(503, "max_concurrent_deploy reached"), FakeHttpError(409, "Node u1 is locked by host x")])
    ad = IronicAdapter(FakeConn(api), backoff=0.001, max_backoff=0.002)
    assert ad.provision("u1", "active", config_drive={"meta_data": {"a": 1}}) == "ok"
    assert len(api.calls) == 3 and ad.writes == 3
    assert api.calls[-1] == ("u1", "active", {"wait": False, "config_drive": {"meta_data": {"a": 1}}})


def test_other_errors_and_exhausted_wait_raise():
    ad = IronicAdapter(FakeConn(FakeApi([FakeHttpError(400, "bad image")])), backoff=0.001)
    with pytest.raises(FakeHttpError, match="bad image"):
        ad.provision("u1", "rebuild")
    ad = IronicAdapter(FakeConn(FakeApi([FakeHttpError(503, "busy")] * 50)), backoff=0.01)
    with pytest.raises(FakeHttpError, match="busy"):
        ad.provision("u1", "active", max_wait=0.05)


def test_endpoint_is_asked_of_the_adapter():
    """ironic_rollout's rack lock is keyed by the endpoint, read through the adapter (#23)."""
    class Api:
        def get_endpoint(self):
            return "http://ironic.example:6385"

    assert IronicAdapter(FakeConn(Api())).endpoint() == "http://ironic.example:6385"
