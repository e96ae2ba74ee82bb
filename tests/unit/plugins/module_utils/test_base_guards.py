from ansible_collections.spineleaf.baremetal.plugins.module_utils import _base


def test_plain_http_to_remote_host_is_reported():
    config = {"auth": {"auth_url": "http://keystone.dc1.example:5000/v3"},
              "baremetal_endpoint_override": "http://10.0.0.5:6385",
              "network_endpoint_override": "http://127.0.0.1:9696/"}
    assert _base.plain_http_endpoints(config) == ["http://keystone.dc1.example:5000/v3", "http://10.0.0.5:6385"]


def test_https_and_loopback_are_quiet():
    config = {"auth": {"auth_url": "https://keystone.dc1.example:5000/v3"},
              "baremetal_endpoint_override": "http://localhost:6385", "x_endpoint_override": "http://[::1]:1"}
    assert _base.plain_http_endpoints(config) == []


def test_tls_verification_and_explicit_timeout():
    holder = type("P", (), {"params": {"cloud": "dc1"}})()
    kwargs = _base.BaremetalModule.connection_kwargs(holder)
    assert "api_timeout" not in kwargs  # a clouds.yaml api_timeout must win over our default
    assert "verify" not in kwargs  # openstacksdk verifies TLS unless told otherwise
    holder.params = {"cloud": "dc1", "api_timeout": 5, "validate_certs": False}
    kwargs = _base.BaremetalModule.connection_kwargs(holder)
    assert kwargs["api_timeout"] == 5 and kwargs["verify"] is False


def test_default_timeout_only_where_the_cloud_sets_none(tmp_path, monkeypatch):
    clouds = tmp_path / "clouds.yaml"
    clouds.write_text("clouds:\n"
                      "  slow: {auth_type: none, api_timeout: 7, baremetal_endpoint_override: 'http://127.0.0.1:1'}\n"
                      "  plain: {auth_type: none, baremetal_endpoint_override: 'http://127.0.0.1:1'}\n")
    monkeypatch.setenv("OS_CLIENT_CONFIG_FILE", str(clouds))
    monkeypatch.delenv("OS_API_TIMEOUT", raising=False)
    # The session is built on first use, without a request: no service needed.
    assert _base.connect({"cloud": "slow"}).session.timeout == 7
    assert _base.connect({"cloud": "plain"}).session.timeout == _base.DEFAULT_API_TIMEOUT
    assert _base.connect({"cloud": "slow", "api_timeout": 3}).session.timeout == 3
