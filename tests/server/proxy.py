"""proxy.py - a small logging HTTP forward proxy for the tests (tests/integration/test_proxy.py).

It answers absolute-URI requests (GET, HEAD) by fetching the URL itself and relaying the
answer, and records every request it receives, CONNECT included (answered 405: the tests use
plain http targets).  With `auth` ("user:password") a request without that Proxy-Authorization
gets 407.  Runs in a thread of the test process:

    p = LoggingProxy(auth="u:p").start();  p.url  ->  "http://127.0.0.1:PORT"
    p.log()  ->  [{"method": "GET", "target": "http://...", "auth": "u:p" or None}, ...]
    p.stop()
"""
import base64
import http.client
import http.server
import threading
import urllib.parse


class LoggingProxy:
    def __init__(self, bind="127.0.0.1", auth=None):
        self.bind, self.auth = bind, auth
        self._log, self._lock = [], threading.Lock()
        self.server = None

    def start(self):
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def record(self):
                got = self.headers.get("Proxy-Authorization", "")
                auth = None
                if got.startswith("Basic "):
                    try:
                        auth = base64.b64decode(got[6:]).decode("utf-8")
                    except ValueError:
                        auth = "?"
                with outer._lock:
                    outer._log.append({"method": self.command, "target": self.path,
                                       "auth": auth})
                return auth

            def reply(self, status, body=b"", headers=()):
                self.send_response(status)
                for k, v in headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def do_CONNECT(self):
                self.record()
                self.reply(405, b"no tunnels here\n")

            def forward(self):
                auth = self.record()
                if outer.auth is not None and auth != outer.auth:
                    self.reply(407, b"proxy credentials needed\n",
                               [("Proxy-Authenticate", 'Basic realm="test"')])
                    return
                u = urllib.parse.urlsplit(self.path)
                if u.scheme != "http" or not u.hostname:
                    self.reply(400, b"absolute http URL expected\n")
                    return
                conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=10)
                path = u.path or "/"
                if u.query:
                    path += "?" + u.query
                headers = {k: v for k, v in self.headers.items()
                           if k.lower() not in ("proxy-authorization", "proxy-connection",
                                                "connection", "host")}
                try:
                    conn.request(self.command, path, headers=headers)
                    r = conn.getresponse()
                    body = r.read()
                except OSError as e:
                    self.reply(502, ("proxy: %s\n" % e).encode())
                    return
                finally:
                    conn.close()
                keep = [(k, v) for k, v in r.getheaders()
                        if k.lower() not in ("content-length", "transfer-encoding",
                                             "connection", "keep-alive")]
                self.reply(r.status, body, keep)

            do_GET = forward
            do_HEAD = forward

        self.server = http.server.ThreadingHTTPServer((self.bind, 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    @property
    def url(self):
        host, port = self.server.server_address[:2]
        return "http://%s:%d" % (host, port)

    def log(self):
        with self._lock:
            return list(self._log)

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
