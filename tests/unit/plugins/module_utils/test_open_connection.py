"""_base.open_connection: the SDK connection for plugins that are not modules (inventory)."""
import pytest

from ansible_collections.spineleaf.baremetal.plugins.module_utils._base import BaremetalError, open_connection


def test_unknown_cloud_is_a_clear_error(tmp_path, monkeypatch):
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text("clouds: {}\n")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    with pytest.raises(BaremetalError, match="cannot open an OpenStack connection: .*no-such-cloud"):
        open_connection(cloud="no-such-cloud")


def test_options_map_to_sdk_keywords():
    conn = open_connection(cloud={"auth_type": "none", "baremetal_endpoint_override": "http://127.0.0.1:9"},
                           validate_certs=False, region_name="r1", interface="internal")
    assert conn.config.config["verify"] is False
    assert conn.config.get_region_name() == "r1"
    assert conn.config.config["interface"] == "internal"
