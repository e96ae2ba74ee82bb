"""A loopback HTTP proxy in front of the lab's Ironic or Neutron that injects the faults a busy
production API gives: errors for some requests (409 NodeLocked, 503), for a count of requests or
for a while, and delays (a slow API). Everything else is forwarded as is. Used by the adapter
tests (tests/integration/test_adapters.py) and the fault-injection suite (tests/faults/)."""
import contextlib
import http.server
import json
import threading
import time

import requests

# What Ironic answers while a conductor holds the node (ironic.common.exception.NodeLocked).
NODE_LOCKED = {"error_message": json.dumps({
    "faultstring": "Node %s is locked by host conductor-1, please retry after the current operation is completed.",
    "faultcode": "Client", "debuginfo": None})}
UNAVAILABLE = {"error_message": json.dumps({"faultstring": "Service Unavailable", "faultcode": "Server"})}


class FaultProxy:
    """Forwards every request to ``upstream``; requests matching a rule get the rule's status and
    body instead (the first ``count`` of them, or all of them until ``until`` on the monotonic
    clock), and requests matching a delay rule wait before they are forwarded. Records every
    request it saw as ``(method, path)`` and every injected answer in ``injected``."""

    def __init__(self, upstream):
        self.upstream = upstream.rstrip("/")
        self.rules = []
        self.delays = []
        self.seen = []
        self.injected = []
        self.lock = threading.Lock()
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status, data, headers=()):
                self.send_response(status)
                for key, value in headers:
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                rule = proxy._match(self.command, self.path)
                if rule is not None:
                    self._answer(rule["status"], json.dumps(rule["body"]).encode(),
                                 [("Content-Type", "application/json")])
                    return
                delay = proxy._delay(self.command, self.path)
                if delay:
                    time.sleep(delay)
                headers = dict((k, v) for k, v in self.headers.items() if k.lower() not in ("host", "content-length"))
                resp = requests.request(self.command, proxy.upstream + self.path, headers=headers, data=body,
                                        timeout=60)
                self._answer(resp.status_code, resp.content, [
                    (k, v) for k, v in resp.headers.items()
                    if k.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding")])

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]

    @staticmethod
    def _applies(rule, method, path):
        return rule["method"] in (method, "*") and rule["path"] in path

    def _match(self, method, path):
        with self.lock:
            self.seen.append((method, path))
            now = time.monotonic()
            for rule in self.rules:
                if not self._applies(rule, method, path):
                    continue
                if rule["seconds"] is not None and rule["until"] is None:
                    rule["until"] = now + rule["seconds"]  # the window opens at the first match
                if rule["until"] is not None and now < rule["until"] or rule["count"]:
                    if rule["count"]:
                        rule["count"] -= 1
                    self.injected.append((method, path, rule["status"]))
                    return rule
        return None

    def _delay(self, method, path):
        return sum(d["seconds"] for d in self.delays if self._applies(d, method, path))

    def fail(self, method, path, status, body, count=0, seconds=None):
        """Answer ``status`` / ``body`` to requests ``method`` (or "*") whose path contains
        ``path``: the next ``count`` of them, or all of them for ``seconds`` from the first one."""
        with self.lock:
            self.rules.append(dict(method=method, path=path, status=status, body=body, count=count,
                                   seconds=seconds, until=None))

    def delay(self, method, path, seconds):
        """Hold every matching request ``seconds`` before forwarding it (a slow API)."""
        with self.lock:
            self.delays.append(dict(method=method, path=path, seconds=seconds))

    def requests_to(self, method, path):
        return [p for m, p in self.seen if m == method and path in p]


@contextlib.contextmanager
def proxied(upstream):
    proxy = FaultProxy(upstream)
    thread = threading.Thread(target=proxy.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield proxy
    finally:
        proxy.server.shutdown()
        proxy.server.server_close()
