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


def test_default_request_timeout_and_tls_verification():
    holder = type("P", (), {"params": {"cloud": "dc1"}})()
    kwargs = _base.BaremetalModule.connection_kwargs(holder)
    assert kwargs["api_timeout"] == _base.DEFAULT_API_TIMEOUT
    assert "verify" not in kwargs  # openstacksdk verifies TLS unless told otherwise
    holder.params = {"cloud": "dc1", "api_timeout": 5, "validate_certs": False}
    kwargs = _base.BaremetalModule.connection_kwargs(holder)
    assert kwargs["api_timeout"] == 5 and kwargs["verify"] is False
