"""Start `ironic-api` so that several API workers share one port (production profile).

Stock `ironic-api` forks `[api] api_workers` processes that each bind the API port; without
SO_REUSEPORT every worker after the first dies with EADDRINUSE and is restarted forever, so one
worker serves. Setting the WSGI server's `reuse_port` before it binds (in each worker, after the
fork) lets all of them listen; the kernel spreads connections among them. Lab only.
"""
import sys

# ironic.command selects oslo.service's threading backend; it must be imported before any module
# that pulls in oslo.service (wsgi_service would select eventlet first).
from ironic.command import api  # isort: skip
from ironic.common import wsgi_service  # isort: skip

_init = wsgi_service.BaseWSGIService.__init__


def _init_reuse_port(self, *args, **kwargs):
    _init(self, *args, **kwargs)
    self.server.reuse_port = True


wsgi_service.BaseWSGIService.__init__ = _init_reuse_port

if __name__ == "__main__":
    sys.exit(api.main())
