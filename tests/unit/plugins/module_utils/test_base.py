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


def test_cloud_secret_values_finds_credentials_at_any_depth():
    """#14: a `cloud` dict is printed by -vvv unless its credentials are registered as no_log values."""
    from ansible_collections.spineleaf.baremetal.plugins.module_utils._base import cloud_secret_values
    cloud = {"auth_type": "password", "auth": {"auth_url": "https://k:5000/v3", "username": "admin",
                                               "password": "pw1", "project_name": "p"},
             "application_credential_secret": "acs", "token": "tok", "extra": [{"user_password": "pw2"}],
             "empty_password": "", "region_name": "RegionOne"}
    assert sorted(cloud_secret_values(cloud)) == ["acs", "pw1", "pw2", "tok"]
    assert cloud_secret_values("spineleaf-lab") == [] and cloud_secret_values(None) == []
