from openstack import exceptions as sdk_exc

from ansible_collections.spineleaf.baremetal.plugins.module_utils._base import describe_sdk_error


def test_conflict_names_object_and_hint():
    exc = sdk_exc.ConflictException(message="Node r01-n01 is locked by host x", http_status=409)
    msg = describe_sdk_error(exc, "node r01-n01")
    assert msg.startswith("node r01-n01: ")
    assert "HTTP 409" in msg and "conflict" in msg


def test_auth_failure_hint():
    exc = sdk_exc.HttpException(message="denied", http_status=401)
    assert "credentials" in describe_sdk_error(exc)
