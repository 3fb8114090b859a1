#!/usr/bin/env python3
"""siteserver: a small threaded HTTP/1.1 server for the scrape integration tests.

It serves a static site (usually one made by scripts/sitegen.py) from --root,
logs every request as one JSON line to --log, and answers a set of fault and
test paths under /__test/ that exist in no site.

Usage:
    siteserver.py --root DIR [--bind ADDR] [--port N] [--log FILE]
                  [--delay-ms N] [--origin URL] [--exit-on-stdin-eof]

    --bind ADDR      address to listen on (default 127.0.0.1; any 127.x.y.z
                     works on Linux, so tests can fake several hosts; an
                     address containing ':' is IPv6)
    --port N         port (default 0 = a free port chosen by the kernel)
    --root DIR       folder to serve (default: current directory)
    --log FILE       request log, JSON lines, appended and flushed per request
    --delay-ms N     extra delay added before every response
    --origin URL     origin written in place of @ORIGIN@ (default
                     http://BIND:PORT, with brackets for IPv6)
    --exit-on-stdin-eof
                     exit as soon as stdin reaches end of file; the test
                     harness uses it so that the server dies with its parent

Once bound it prints "LISTENING host port" on stdout (flushed) and is quiet
otherwise.

Static files
    GET and HEAD. A folder is served as its index.html; a folder asked for
    without the trailing slash gets a 301 to the slashed URL. The query string
    is ignored. Missing files give 404 with a small HTML body. Content-Type
    comes from the extension (.html is "text/html; charset=utf-8"). In .html,
    .xml and .txt files the literal text @ORIGIN@ is replaced by the origin, so
    a static site can hold absolute links that work at any port. Static
    answers carry ETag (a hash of the served bytes) and Last-Modified (the
    file's mtime), and answer 304 to a matching If-None-Match or to an
    If-Modified-Since not older than the file.

Test paths (not files; all answer GET and HEAD)
    /__test/status/CODE[?retry_after=N]
        answer CODE with a small HTML body; retry_after adds Retry-After: N.
    /__test/slow?ms=N
        sleep N milliseconds, then 200 with a small HTML page.
    /__test/redirect?to=URL[&code=302]
        redirect (code 301, 302, 303, 307 or 308; default 302) to URL.
    /__test/loop/N
        302 to /__test/loop/N+1, forever.
    /__test/bytes?n=N[&type=T]
        200 with exactly N bytes of body ('x' repeated) and Content-Type T
        (default application/octet-stream).
    /__test/etag?tag=X[&body=TEXT]
        200 with ETag X and body TEXT (default "etag X"), or 304 with no body
        when If-None-Match equals X (either exactly or as a quoted tag).
    /__test/auth?user=U&pass=P[&links=URL1,URL2][&scheme=digest]
        401 with WWW-Authenticate: Basic realm="scrape-test" unless the request has
        Basic credentials U:P; then 200, a page linking to the links.  With
        scheme=digest the same with Digest (MD5, qop=auth, a fixed nonce).
    /__test/setcookie?name=N&value=V
        200 with Set-Cookie: N=V; Path=/ and a page linking to
        /__test/page?title=after-setcookie.
    /__test/encoded?enc=E[&pad=N]
        a page linking to /__test/page?title=E-1 .. E-3, sent with Content-Encoding E:
        gzip or deflate (compressed here, N more bytes of padding in an HTML comment
        before compression), br or zstd (tests/fixtures/encodings/page-E.html.*, made
        with python3-brotli and zstd -19; pad ignored).
    /__test/echo-headers
        200 application/json: an object of the request headers (names as
        sent; repeated headers are joined with ", ").
    /__test/drop
        close the connection without answering (logged with status 0).
    /__test/page?links=URL1,URL2,...[&title=T]
        200 HTML page whose body links to each URL (comma separated).

Hostile test paths (for tests/integration/test_hostile.py): every big body is
streamed, never built in memory.
    /__test/drip?n=N
        200 text/html with Content-Length N, then one byte per second.
    /__test/hang[?ms=N]
        read the request, never answer (for N ms, default 10 minutes, or until
        the client goes away), then close.
    /__test/hold[?ms=N]
        like /__test/hang, but the log line is written when the request arrives
        (status 0), so a test can see at once which client connection (the
        "client" field) holds it.
    /__test/smtree/NAME.xml
        a sitemap index listing 5 child indexes /__test/smtree/NAME-0.xml ..
        NAME-4.xml: an endless tree of sitemap indexes.
    /__test/reset?n=N
        200 with Content-Length N (default 100000), half of it sent, then the
        connection is reset (TCP RST).
    /__test/huge?n=N[&chunked=1]
        200 text/html of N bytes (default 1 GiB) streamed in 64 KiB pieces,
        with Content-Length or (chunked=1) chunked.
    /__test/gzbomb[?gib=N][&length=1]
        200 text/html, Content-Encoding: gzip: a ~N MiB gzip stream (default
        N = 10) that inflates to N GiB of zero bytes, chunked (so only the
        decoded size can stop a client) or with Content-Length (length=1).
        One 1 MiB deflate block (ended by a full flush) is repeated; the CRC
        of the trailer is worked out while the body is sent.
    /__test/gzip?title=T
        200 text/html sent with Content-Encoding: gzip and the compressed
        length as Content-Length; it decodes to the page /__test/page?title=T
        would serve (no links).
    /__test/binary?n=N
        N (default 65536) bytes of pseudo-random binary data as text/html.
    /__test/badutf8
        text/html; charset=utf-8 whose title and text hold invalid UTF-8, with
        a link to /__test/page?title=after-badutf8.
    /__test/liecharset
        Content-Type says charset=utf-16 but the body is UTF-8 (and its meta
        says shift_jis), with a link to /__test/page?title=after-liecharset.
    /__test/deep?n=N
        HTML whose body nests N (default 100000) <div>s, streamed, with a link
        to /__test/page?title=after-deep at the bottom.
    /__test/manylinks?n=N
        HTML with N (default 1000000) distinct links, streamed (chunked).
    /__test/calendar?date=YYYY-MM-DD
        a page for that day linking to the previous and the next day: endless.
    /__test/empty
        200 text/html with an empty body.
    /__test/badchunk
        Transfer-Encoding: chunked with a broken chunk size line.
    /__test/shortlength?n=N
        Content-Length N (default 10000) but 100 bytes sent, then close.
    Close without any response: /__test/drop (above).

    Poison pages: cheap to send, costly to parse (the per-page budget's tests)
    /__test/attrs?n=N
        HTML with one <div> carrying N (default 120000) attributes (libxml2
        2.9's parser is N^2 in one tag's attributes), then a link to
        /__test/page?title=after-attrs.
    /__test/siblings?n=N
        HTML with one <ul> of N (default 50000) <li> siblings (a rule with
        :nth-child is N^2 there), then <h1>siblings</h1>.
    /__test/backtrack?n=N
        HTML with N (default 10000) <p> whose text makes ^((a+)+)$ backtrack
        about 2^30 times each.

To add a test path, write a method `_t_<name>(self, rest, query)` on the
handler and add its prefix to TEST_ROUTES; `rest` is the path after the
prefix and `query` the parsed query (dict of str -> last value). It returns
a Reply (or None when it has already dealt with the connection).

Log line fields
    t_start, t_end      time.time() at arrival and when the headers are sent (the line is
                        written before the body, so a client never sees a response first)
    mono_start, mono_end  time.monotonic() at the same two moments
    method, path        request method and target (path with query)
    host                the Host header ("" when missing)
    status              status code sent (0 when the connection was dropped)
    bytes               body bytes sent
    ua                  User-Agent ("" when missing)
    client              "addr:port" of the client
    if_none_match, if_modified_since   those request headers, or null
    headers             every request header: an object of name (as sent) -> value
                        (repeated headers joined with ", ")
    inflight            requests in flight for this Host at arrival, this one
                        included
    inflight_total      requests in flight on the whole server at arrival
"""

import argparse
import base64
import email.utils
import gzip
import hashlib
import html
import json
import mimetypes
import os
import posixpath
import socket
import struct
import sys
import threading
import time
import urllib.parse
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SUBSTITUTED_EXTS = (".html", ".htm", ".xml", ".txt")

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".css": "text/css",
    ".js": "text/javascript",
}


class Reply:
    """A response to send: status, headers (list of pairs) and body bytes."""

    def __init__(self, status, body=b"", headers=None, content_type=None):
        self.status = status
        self.body = body
        self.headers = list(headers or [])
        if content_type is not None:
            self.headers.insert(0, ("Content-Type", content_type))


def html_page(title, body_html):
    """Return a small complete HTML page as UTF-8 bytes."""
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<title>%s</title></head>\n<body>%s</body></html>\n"
            % (html.escape(title), body_html)).encode("utf-8")


class Handler(BaseHTTPRequestHandler):
    """One connection; HTTP/1.1 keep-alive, every answer has Content-Length."""

    protocol_version = "HTTP/1.1"
    server_version = "siteserver/1"
    timeout = 60  # idle keep-alive connections are closed after this long

    # path prefix -> method name; the longest matching prefix wins.
    TEST_ROUTES = {
        "/__test/status/": "_t_status",
        "/__test/slow": "_t_slow",
        "/__test/redirect": "_t_redirect",
        "/__test/loop/": "_t_loop",
        "/__test/bytes": "_t_bytes",
        "/__test/etag": "_t_etag",
        "/__test/echo-headers": "_t_echo_headers",
        "/__test/auth": "_t_auth",
        "/__test/setcookie": "_t_setcookie",
        "/__test/encoded": "_t_encoded",
        "/__test/drop": "_t_drop",
        "/__test/page": "_t_page",
        "/__test/drip": "_t_drip",
        "/__test/hang": "_t_hang",
        "/__test/hold": "_t_hold",
        "/__test/smtree/": "_t_smtree",
        "/__test/reset": "_t_reset",
        "/__test/huge": "_t_huge",
        "/__test/gzbomb": "_t_gzbomb",
        "/__test/binary": "_t_binary",
        "/__test/gzip": "_t_gzip",
        "/__test/badutf8": "_t_badutf8",
        "/__test/liecharset": "_t_liecharset",
        "/__test/deep": "_t_deep",
        "/__test/manylinks": "_t_manylinks",
        "/__test/calendar": "_t_calendar",
        "/__test/empty": "_t_empty",
        "/__test/badchunk": "_t_badchunk",
        "/__test/shortlength": "_t_shortlength",
        "/__test/attrs": "_t_attrs",
        "/__test/siblings": "_t_siblings",
        "/__test/backtrack": "_t_backtrack",
    }

    def log_message(self, format, *args):  # noqa: A002 - keep quiet
        pass

    def do_GET(self):
        self._handle()

    def do_HEAD(self):
        self._handle()

    # -- request flow ---------------------------------------------------

    def _handle(self):
        srv = self.server
        t_start = time.time()
        mono_start = time.monotonic()
        host = self.headers.get("Host", "")
        inflight, inflight_total = srv.enter(host)
        self._logged = False

        def log_now(status, nbytes):
            # Written before the body goes out, so a client that has the whole response
            # always finds its line in the log (no race with clear_log()).
            if self._logged:
                return
            self._logged = True
            srv.write_log({
                "t_start": t_start,
                "t_end": time.time(),
                "mono_start": mono_start,
                "mono_end": time.monotonic(),
                "method": self.command,
                "path": self.path,
                "host": host,
                "status": status,
                "bytes": nbytes,
                "ua": self.headers.get("User-Agent", ""),
                "client": "%s:%s" % (self.client_address[0], self.client_address[1]),
                "if_none_match": self.headers.get("If-None-Match"),
                "if_modified_since": self.headers.get("If-Modified-Since"),
                "headers": _header_dict(self.headers),
                "inflight": inflight,
                "inflight_total": inflight_total,
            })

        status = 0
        self._log_now = log_now
        try:
            try:
                reply = self._route()
            except Exception as exc:  # a bug in a test path: answer, don't hang
                reply = Reply(500, html_page("500", html.escape(repr(exc))),
                              content_type="text/html; charset=utf-8")
            if srv.delay_ms > 0:
                time.sleep(srv.delay_ms / 1000.0)
            if reply is not None:
                status = reply.status
                self._send(reply, log_now)
        finally:
            srv.leave(host)
            log_now(status, 0)

    def _send(self, reply, log_now=None):
        """Send reply; return (status, body bytes sent).  log_now(status, nbytes) is called
        once the headers are out and before the body."""
        body = reply.body if reply.status not in (204, 304) else b""
        sent = len(body) if self.command != "HEAD" else 0
        try:
            self.send_response(reply.status)
            for name, value in reply.headers:
                self.send_header(name, value)
            if reply.status not in (204, 304):  # those never carry a body
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if log_now:
                log_now(reply.status, sent)
            if self.command != "HEAD" and body:
                self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return reply.status, 0
        return reply.status, sent

    def _route(self):
        split = urllib.parse.urlsplit(self.path)
        path = split.path
        query = dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True))
        best = None
        for prefix in self.TEST_ROUTES:
            if path.startswith(prefix) and (best is None or len(prefix) > len(best)):
                best = prefix
        if best is not None:
            return getattr(self, self.TEST_ROUTES[best])(path[len(best):], query)
        if path.startswith("/__test/"):
            return self._not_found()
        return self._static(path)

    # -- static files ---------------------------------------------------

    def _not_found(self):
        return Reply(404, html_page("404 Not Found", "<h1>Not Found</h1>"),
                     content_type="text/html; charset=utf-8")

    def _static(self, path):
        srv = self.server
        rel = urllib.parse.unquote(path)
        if "\x00" in rel:
            return self._not_found()
        norm = posixpath.normpath(rel)
        parts = [p for p in norm.split("/") if p and p not in (".", "..")]
        fs = os.path.join(srv.root, *parts)
        if os.path.isdir(fs):
            if not path.endswith("/"):
                loc = path + "/"
                q = urllib.parse.urlsplit(self.path).query
                if q:
                    loc += "?" + q
                return Reply(301, html_page("Moved", '<a href="%s">moved</a>' % html.escape(loc)),
                             headers=[("Location", loc)],
                             content_type="text/html; charset=utf-8")
            fs = os.path.join(fs, "index.html")
        if not os.path.isfile(fs):
            return self._not_found()
        try:
            with open(fs, "rb") as f:
                data = f.read()
            mtime = os.stat(fs).st_mtime
        except OSError:
            return self._not_found()
        ext = os.path.splitext(fs)[1].lower()
        if ext in SUBSTITUTED_EXTS:
            data = data.replace(b"@ORIGIN@", srv.origin.encode("utf-8"))
        ctype = CONTENT_TYPES.get(ext) or mimetypes.guess_type(fs)[0] or "application/octet-stream"
        etag = '"%s"' % hashlib.sha1(data).hexdigest()[:16]
        lastmod = email.utils.formatdate(int(mtime), usegmt=True)
        headers = [("ETag", etag), ("Last-Modified", lastmod)]
        if self._not_modified(etag, int(mtime)):
            return Reply(304, headers=headers)
        return Reply(200, data, headers=headers, content_type=ctype)

    def _not_modified(self, etag, mtime):
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = [t.strip() for t in inm.split(",")]
            return "*" in tags or etag in tags or ("W/" + etag) in tags
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                when = email.utils.parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError, IndexError, OverflowError):
                return False
            return mtime <= when
        return False

    # -- test paths -----------------------------------------------------

    def _t_status(self, rest, query):
        try:
            code = int(rest.strip("/"))
        except ValueError:
            return self._not_found()
        if not 200 <= code <= 599:
            return self._not_found()
        headers = []
        if "retry_after" in query:
            headers.append(("Retry-After", query["retry_after"]))
        if code in (301, 302, 303, 307, 308) and "to" in query:
            headers.append(("Location", query["to"]))
        return Reply(code, html_page("Status %d" % code, "<h1>Status %d</h1>" % code),
                     headers=headers, content_type="text/html; charset=utf-8")

    def _t_slow(self, rest, query):
        ms = _int(query.get("ms"), 1000)
        time.sleep(max(ms, 0) / 1000.0)
        return Reply(200, html_page("Slow", "<h1>Slow %d ms</h1>" % ms),
                     content_type="text/html; charset=utf-8")

    def _t_redirect(self, rest, query):
        to = query.get("to", "/")
        code = _int(query.get("code"), 302)
        if code not in (301, 302, 303, 307, 308):
            code = 302
        return Reply(code, html_page("Redirect", '<a href="%s">here</a>' % html.escape(to)),
                     headers=[("Location", to)], content_type="text/html; charset=utf-8")

    def _t_loop(self, rest, query):
        n = _int(rest.strip("/"), 0)
        to = "/__test/loop/%d" % (n + 1)
        return Reply(302, html_page("Loop", '<a href="%s">next</a>' % to),
                     headers=[("Location", to)], content_type="text/html; charset=utf-8")

    def _t_bytes(self, rest, query):
        n = max(_int(query.get("n"), 0), 0)
        ctype = query.get("type", "application/octet-stream")
        return Reply(200, b"x" * n, content_type=ctype)

    def _t_etag(self, rest, query):
        tag = query.get("tag", "v1")
        body = query.get("body", "etag " + tag).encode("utf-8")
        quoted = tag if tag.startswith('"') or tag.startswith("W/") else '"%s"' % tag
        inm = self.headers.get("If-None-Match")
        headers = [("ETag", quoted)]
        if inm is not None and inm.strip() in (tag, quoted):
            return Reply(304, headers=headers)
        return Reply(200, body, headers=headers, content_type="text/plain; charset=utf-8")

    def _t_echo_headers(self, rest, query):
        out = {}
        for name, value in self.headers.items():
            out[name] = out[name] + ", " + value if name in out else value
        return Reply(200, json.dumps(out, sort_keys=True).encode("utf-8"),
                     content_type="application/json")

    def _t_drop(self, rest, query):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        return None

    def _t_auth(self, rest, query):
        user, password = query.get("user", ""), query.get("pass", "")
        if query.get("scheme") == "digest":
            ok = _digest_ok(self.headers.get("Authorization", ""), self.command, user, password)
            challenge = ('Digest realm="scrape-test", qop="auth", algorithm=MD5, '
                         'nonce="%s"' % _DIGEST_NONCE)
        else:
            ok = self.headers.get("Authorization") == "Basic " + base64.b64encode(
                ("%s:%s" % (user, password)).encode()).decode()
            challenge = 'Basic realm="scrape-test"'
        if not ok:
            return Reply(401, html_page("401", "<h1>Unauthorized</h1>"),
                         headers=[("WWW-Authenticate", challenge)],
                         content_type="text/html; charset=utf-8")
        return self._t_page("", {"links": query.get("links", ""), "title": "authorized"})

    def _t_setcookie(self, rest, query):
        reply = self._t_page("", {"links": "/__test/page?title=after-setcookie",
                                  "title": "setcookie"})
        reply.headers.append(("Set-Cookie", "%s=%s; Path=/" % (query.get("name", "n"),
                                                              query.get("value", "v"))))
        return reply

    def _t_encoded(self, rest, query):
        enc = query.get("enc", "gzip")
        if enc in ("br", "zstd"):
            ext = {"br": "br", "zstd": "zst"}[enc]
            path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures",
                                "encodings", "page-%s.html.%s" % (enc, ext))
            with open(path, "rb") as f:
                body = f.read()
        elif enc in ("gzip", "deflate"):
            links = ",".join("/__test/page?title=%s-%d" % (enc, i) for i in range(1, 4))
            page = self._t_page("", {"links": links, "title": "encoded " + enc}).body
            pad = min(max(_int(query.get("pad"), 0), 0), 64 << 20)
            if pad:
                page = page.replace(b"</body>", b"<!--" + b"x" * pad + b"--></body>")
            if enc == "gzip":
                c = zlib.compressobj(9, zlib.DEFLATED, 31)
            else:
                c = zlib.compressobj(9, zlib.DEFLATED, 15)  # zlib-wrapped, as RFC 9110 says
            body = c.compress(page) + c.flush()
        else:
            return self._not_found()
        return Reply(200, body, headers=[("Content-Encoding", enc)],
                     content_type="text/html; charset=utf-8")

    def _t_page(self, rest, query):
        links = [u for u in query.get("links", "").split(",") if u]
        items = "".join('<li><a href="%s">%s</a></li>' % (html.escape(u), html.escape(u))
                        for u in links)
        title = query.get("title", "Test page")
        return Reply(200, html_page(title, "<h1>%s</h1><ul>%s</ul>" % (html.escape(title), items)),
                     content_type="text/html; charset=utf-8")

    # -- hostile paths: they write to the socket themselves and return None ----------

    def _head(self, status, headers, length=None):
        """Send a status line and headers (Content-Length when length is given); log."""
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if length is not None:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.flush()
        self._log_early(status)

    def _log_early(self, status):
        # the log line must exist before the body goes out (see _handle)
        log_now = getattr(self, "_log_now", None)
        if log_now:
            log_now(status, 0)

    def _stream(self, status, headers, pieces, length=None, chunked=False):
        """Send pieces (an iterable of bytes) as the body; stop when the client leaves."""
        self.close_connection = True
        if chunked:
            headers = list(headers) + [("Transfer-Encoding", "chunked")]
        try:
            self._head(status, headers + [("Connection", "close")], length)
            if self.command == "HEAD":
                return None
            for piece in pieces:
                if not piece:
                    continue
                if chunked:
                    self.wfile.write(b"%x\r\n" % len(piece) + piece + b"\r\n")
                else:
                    self.wfile.write(piece)
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass
        return None

    def _t_drip(self, rest, query):
        n = max(_int(query.get("n"), 100), 1)

        def drip():
            for _ in range(n):
                self.wfile.write(b"x")
                self.wfile.flush()
                time.sleep(1.0)
                yield b""
        return self._stream(200, [("Content-Type", "text/html")], drip(), length=n)

    def _t_hang(self, rest, query):
        self.close_connection = True
        deadline = time.monotonic() + max(_int(query.get("ms"), 600000), 0) / 1000.0
        self.connection.settimeout(0.5)
        while time.monotonic() < deadline:
            try:
                if self.connection.recv(4096) == b"":
                    break  # the client went away
            except socket.timeout:
                continue
            except OSError:
                break
        return None

    def _t_hold(self, rest, query):
        self._log_early(0)
        return self._t_hang(rest, query)

    def _t_smtree(self, rest, query):
        name = rest[:-4] if rest.endswith(".xml") else rest
        base = self.server.origin + "/__test/smtree/"
        kids = "".join("<sitemap><loc>%s%s-%d.xml</loc></sitemap>" % (base, name, i)
                       for i in range(5))
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<sitemapindex xmlns='
                '"http://www.sitemaps.org/schemas/sitemap/0.9">%s</sitemapindex>\n' % kids)
        return Reply(200, body.encode("utf-8"), content_type="application/xml")

    def _t_reset(self, rest, query):
        n = max(_int(query.get("n"), 100000), 2)
        self.close_connection = True
        try:
            self._head(200, [("Content-Type", "text/html")], n)
            self.wfile.write(b"<html><body>" + b"x" * (n // 2))
            self.wfile.flush()
            time.sleep(0.2)
            # SO_LINGER 0: close() sends RST instead of FIN
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                       struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass
        return None

    def _t_huge(self, rest, query):
        n = max(_int(query.get("n"), 1 << 30), 0)
        chunked = query.get("chunked") == "1"
        block = b"<p>" + b"x" * (65536 - 8) + b"</p>\n\n"

        def pieces():
            left = n
            while left > 0:
                piece = block if left >= len(block) else block[:left]
                left -= len(piece)
                yield piece
        return self._stream(200, [("Content-Type", "text/html")], pieces(),
                            length=None if chunked else n, chunked=chunked)

    _gz_block = None

    def _t_gzbomb(self, rest, query):
        gib = min(max(_int(query.get("gib"), 10), 1), 64)
        mib = 1 << 20
        if Handler._gz_block is None:
            c = zlib.compressobj(9, zlib.DEFLATED, -15)
            Handler._gz_block = c.compress(b"\0" * mib) + c.flush(zlib.Z_FULL_FLUSH)
        block = Handler._gz_block
        count = gib * 1024
        crc = {}

        def work_out_crc():
            v, zeros = 0, b"\0" * mib
            for _ in range(count):
                v = zlib.crc32(zeros, v)
            crc["v"] = v
        worker = threading.Thread(target=work_out_crc, daemon=True)
        worker.start()
        # gzip header: magic, deflate, no flags, mtime 0, xfl 2, OS unix
        head = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03"
        tail_len = 2 + 8  # final empty stored block "\x03\x00", then CRC32 and ISIZE
        length = len(head) + len(block) * count + tail_len

        def pieces():
            yield head
            for _ in range(count):
                yield block
            worker.join()
            yield b"\x03\x00" + struct.pack("<II", crc["v"], (count * mib) & 0xFFFFFFFF)
        return self._stream(200, [("Content-Type", "text/html"), ("Content-Encoding", "gzip")],
                            pieces(), length=length if query.get("length") == "1" else None,
                            chunked=query.get("length") != "1")

    def _t_gzip(self, rest, query):
        title = query.get("title", "Test page")
        body = html_page(title, "<h1>%s</h1>" % html.escape(title))
        return Reply(200, gzip.compress(body, mtime=0),
                     headers=[("Content-Encoding", "gzip")],
                     content_type="text/html; charset=utf-8")

    def _t_binary(self, rest, query):
        n = max(_int(query.get("n"), 65536), 0)
        data = bytearray()
        x = 2463534242
        while len(data) < n:  # xorshift: the same bytes every time
            x ^= (x << 13) & 0xFFFFFFFF
            x ^= x >> 17
            x ^= (x << 5) & 0xFFFFFFFF
            data += struct.pack("<I", x)
        return Reply(200, bytes(data[:n]), content_type="text/html")

    def _t_badutf8(self, rest, query):
        body = (b"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>bad \xff\xfe utf8 "
                b"\xc3\x28 \xed\xa0\x80 \xf8\x88\x80\x80\x80</title></head><body>"
                b"<p>overlong \xc0\xaf, truncated \xe2\x82</p>"
                b"<a href=\"/__test/page?title=after-badutf8\">next \x80\x81</a>"
                b"</body></html>")
        return Reply(200, body, content_type="text/html; charset=utf-8")

    def _t_liecharset(self, rest, query):
        body = ("<!DOCTYPE html><html><head><meta charset=\"shift_jis\">"
                "<title>caf\u00e9 \u2603 lying charset</title></head><body>"
                "<a href=\"/__test/page?title=after-liecharset\">next</a>"
                "</body></html>").encode("utf-8")
        return Reply(200, body, content_type="text/html; charset=utf-16")

    def _t_deep(self, rest, query):
        n = min(max(_int(query.get("n"), 100000), 0), 10000000)

        def pieces():
            yield b"<!DOCTYPE html><html><head><title>deep</title></head><body>"
            for i in range(0, n, 10000):
                yield b"<div>" * min(10000, n - i)
            yield b"<a href=\"/__test/page?title=after-deep\">bottom</a>"
            for i in range(0, n, 10000):
                yield b"</div>" * min(10000, n - i)
            yield b"</body></html>\n"
        return self._stream(200, [("Content-Type", "text/html; charset=utf-8")], pieces(),
                            chunked=True)

    def _t_manylinks(self, rest, query):
        n = max(_int(query.get("n"), 1000000), 0)

        def pieces():
            yield b"<!DOCTYPE html><html><head><title>many links</title></head><body>\n"
            for i in range(0, n, 1000):
                yield b"".join(b'<a href="/__test/page?title=l%d">%d</a>\n' % (j, j)
                               for j in range(i, min(i + 1000, n)))
            yield b"</body></html>\n"
        return self._stream(200, [("Content-Type", "text/html; charset=utf-8")], pieces(),
                            chunked=True)

    def _t_calendar(self, rest, query):
        import datetime
        try:
            day = datetime.date.fromisoformat(query.get("date", "2024-01-01"))
        except ValueError:
            day = datetime.date(2024, 1, 1)
        one = datetime.timedelta(days=1)
        links = "".join('<a href="/__test/calendar?date=%s">%s</a> ' % (d, d)
                        for d in (day - one, day + one))
        return Reply(200, html_page("Calendar %s" % day, links),
                     content_type="text/html; charset=utf-8")

    def _t_attrs(self, rest, query):
        n = min(max(_int(query.get("n"), 120000), 0), 10000000)
        attrs = " ".join('a%d="v%d"' % (i, i) for i in range(n))
        body = ('<!DOCTYPE html><html><head><title>attrs</title></head><body>'
                '<div %s>poison</div><a href="/__test/page?title=after-attrs">next</a>'
                '</body></html>\n' % attrs)
        return Reply(200, body.encode(), content_type="text/html; charset=utf-8")

    def _t_siblings(self, rest, query):
        n = min(max(_int(query.get("n"), 50000), 0), 10000000)
        items = "".join("<li>%d</li>" % i for i in range(n))
        body = ('<!DOCTYPE html><html><head><title>siblings</title></head><body>'
                '<ul>%s</ul><h1>siblings</h1></body></html>\n' % items)
        return Reply(200, body.encode(), content_type="text/html; charset=utf-8")

    def _t_backtrack(self, rest, query):
        n = min(max(_int(query.get("n"), 10000), 0), 1000000)
        body = ('<!DOCTYPE html><html><head><title>backtrack</title></head><body>%s'
                '</body></html>\n' % ("<p>%sb</p>" % ("a" * 30) * n))
        return Reply(200, body.encode(), content_type="text/html; charset=utf-8")

    def _t_empty(self, rest, query):
        return Reply(200, b"", content_type="text/html; charset=utf-8")

    def _t_badchunk(self, rest, query):
        self.close_connection = True
        try:
            self._head(200, [("Content-Type", "text/html"), ("Transfer-Encoding", "chunked"),
                             ("Connection", "close")])
            self.wfile.write(b"10\r\n<html><body>ok!!\r\nzz-not-hex\r\nxxxx\r\n0\r\n\r\n")
            self.wfile.flush()
        except OSError:
            pass
        return None

    def _t_shortlength(self, rest, query):
        n = max(_int(query.get("n"), 10000), 101)
        self.close_connection = True
        try:
            self._head(200, [("Content-Type", "text/html"), ("Connection", "close")], n)
            self.wfile.write(b"<html><body>" + b"y" * 88)
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        return None


_DIGEST_NONCE = "scrape-test-nonce-5f2c"


def _digest_ok(header, method, user, password):
    """RFC 7616 Digest with MD5 and qop=auth, realm scrape-test, a fixed nonce."""
    if not header.startswith("Digest "):
        return False
    fields = {}
    for part in header[7:].split(","):
        name, _, value = part.strip().partition("=")
        fields[name.lower()] = value.strip('"')

    def md5(text):
        return hashlib.md5(text.encode()).hexdigest()
    if fields.get("username") != user or fields.get("nonce") != _DIGEST_NONCE:
        return False
    ha1 = md5("%s:scrape-test:%s" % (user, password))
    ha2 = md5("%s:%s" % (method, fields.get("uri", "")))
    want = md5("%s:%s:%s:%s:%s:%s" % (ha1, _DIGEST_NONCE, fields.get("nc", ""),
                                      fields.get("cnonce", ""), fields.get("qop", ""), ha2))
    return fields.get("response") == want


def _header_dict(headers):
    out = {}
    for name, value in headers.items():
        out[name] = out[name] + ", " + value if name in out else value
    return out


def _int(text, default):
    try:
        return int(text)
    except (TypeError, ValueError):
        return default


class SiteServer(ThreadingHTTPServer):
    """The server: holds the root, origin, log file and in-flight counters."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, root, log_path, delay_ms, origin):
        if ":" in addr[0]:
            self.address_family = socket.AF_INET6
        super().__init__(addr, Handler)
        self.root = os.path.abspath(root)
        self.delay_ms = delay_ms
        host, port = self.server_address[0], self.server_address[1]
        if origin:
            self.origin = origin.rstrip("/")
        elif ":" in host:
            self.origin = "http://[%s]:%d" % (host, port)
        else:
            self.origin = "http://%s:%d" % (host, port)
        self._lock = threading.Lock()
        self._inflight = {}
        self._inflight_total = 0
        self._log = open(log_path, "a", encoding="utf-8") if log_path else None

    def enter(self, host):
        """Count a request arriving for host; return (per-host, total) in flight."""
        with self._lock:
            self._inflight[host] = self._inflight.get(host, 0) + 1
            self._inflight_total += 1
            return self._inflight[host], self._inflight_total

    def leave(self, host):
        """Count a request for host as finished."""
        with self._lock:
            self._inflight[host] -= 1
            self._inflight_total -= 1

    def write_log(self, record):
        """Append one JSON line to the log and flush it."""
        if self._log is None:
            return
        line = json.dumps(record, sort_keys=True) + "\n"
        with self._lock:
            self._log.write(line)
            self._log.flush()

    def handle_error(self, request, client_address):
        pass  # a client that went away is not news


def _watch_stdin():
    try:
        while sys.stdin.buffer.read(4096):
            pass
    except (OSError, ValueError):
        pass
    os._exit(0)


def main(argv=None):
    ap = argparse.ArgumentParser(description="HTTP server for scrape tests")
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--root", default=".")
    ap.add_argument("--log", default=None)
    ap.add_argument("--delay-ms", type=int, default=0)
    ap.add_argument("--origin", default=None)
    ap.add_argument("--exit-on-stdin-eof", action="store_true")
    args = ap.parse_args(argv)

    mimetypes.init()
    server = SiteServer((args.bind, args.port), args.root, args.log, args.delay_ms, args.origin)
    host, port = server.server_address[0], server.server_address[1]
    sys.stdout.write("LISTENING %s %d\n" % (host, port))
    sys.stdout.flush()
    if args.exit_on_stdin_eof:
        threading.Thread(target=_watch_stdin, daemon=True).start()
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
