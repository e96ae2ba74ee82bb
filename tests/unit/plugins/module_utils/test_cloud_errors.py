"""How site-level connection errors name the cloud and the fix (issue 22), without a server."""
from keystoneauth1 import exceptions as ksa_exc
from openstack import exceptions as sdk_exc

from ansible_collections.spineleaf.baremetal.plugins.module_utils._base import (
    cloud_label, clouds_yaml_hint, describe_sdk_error)


def test_cloud_label(monkeypatch):
    monkeypatch.delenv("OS_CLOUD", raising=False)
    assert cloud_label("prod-east") == "cloud 'prod-east'"
    assert cloud_label({"auth": {"auth_url": "https://k:5000/v3"}}) == "the cloud given as a dict (auth_url https://k:5000/v3)"
    assert "no cloud name given" in cloud_label(None)
    monkeypatch.setenv("OS_CLOUD", "lab")
    assert cloud_label(None) == "cloud 'lab' (OS_CLOUD)"


def test_clouds_yaml_hint_names_the_file_and_its_clouds(tmp_path, monkeypatch):
    path = tmp_path / "clouds.yaml"
    path.write_text("clouds:\n  prod-east: {auth_type: none}\n  lab: {auth_type: none}\n")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(path))
    hint = clouds_yaml_hint(sdk_exc.ConfigException("Cloud prod-eats was not found."))
    assert hint == "; %s defines 'lab', 'prod-east'" % path
    assert clouds_yaml_hint(ValueError("other")) == ""


def test_unreachable_endpoint_says_so():
    msg = describe_sdk_error(ksa_exc.DiscoveryFailure("Unable to find a version discovery document at http://127.0.0.1:9"))
    assert "http://127.0.0.1:9" in msg and "cannot reach the API endpoint" in msg
