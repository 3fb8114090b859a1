"""HTTP/2: a worker asks for HTTP/2 over TLS (CURL_HTTP_VERSION_2TLS, worker/fetch.c) and
uses it where the server offers it.  A real nginx (Debian's, built with http_v2) serves a
small site over TLS with a certificate made here (the crawl runs with --insecure) and writes
$server_protocol to its access log: every request of a real mpiexec crawl, robots.txt
included, must say HTTP/2.0; the same site over plain http stays HTTP/1.1 (no h2c)."""
import os
import shutil
import socket
import subprocess
import unittest

import scrapetest as st
from sitecase import SiteCase, page, write_site

CONF = """
daemon off;
master_process off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 256; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    log_format proto '$server_protocol $scheme $request_uri $status';
    access_log {tmp}/access.log proto;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen 127.0.0.1:{tls} ssl http2;
        listen 127.0.0.1:{plain};
        ssl_certificate {tmp}/cert.pem;
        ssl_certificate_key {tmp}/key.pem;
        root {root};
        location / {{ try_files $uri $uri/ =404; }}
    }}
}}
"""


@unittest.skipUnless(shutil.which("nginx") or os.path.exists("/usr/sbin/nginx"),
                     "needs nginx (apt-get install nginx)")
class Http2Test(SiteCase):
    PREFIX = "http2-"

    def start_nginx(self, files):
        tmp = self.tmp.join("nginx%d" % self.n)
        os.makedirs(tmp)
        root = write_site(os.path.join(tmp, "site"), files)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days",
                        "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", os.path.join(tmp, "key.pem"),
                        "-out", os.path.join(tmp, "cert.pem")],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        tls, plain = st.free_port(), st.free_port()
        with open(os.path.join(tmp, "nginx.conf"), "w") as f:
            f.write(CONF.format(tmp=tmp, root=root, tls=tls, plain=plain))
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        with open(os.path.join(tmp, "stderr.txt"), "w") as err:
            proc = subprocess.Popen([nginx, "-c", os.path.join(tmp, "nginx.conf"),
                                     "-p", tmp + "/"], stdout=subprocess.DEVNULL, stderr=err)
        self.addCleanup(lambda: (proc.terminate(), proc.wait(10)))

        def up():
            if proc.poll() is not None:
                with open(os.path.join(tmp, "stderr.txt")) as f:
                    raise AssertionError("nginx exited: %s" % f.read())
            try:
                socket.create_connection(("127.0.0.1", tls), 0.5).close()
                socket.create_connection(("127.0.0.1", plain), 0.5).close()
                return True
            except OSError:
                return False
        st.wait_until(up, timeout=20, message="nginx")
        return tmp, tls, plain

    def access_log(self, tmp):
        with open(os.path.join(tmp, "access.log")) as f:
            return [line.split() for line in f if line.strip()]

    def test_http2_is_used_over_tls(self):
        tmp, tls, plain = self.start_nginx({
            "/index.html": page("seed", ["/a.html", "/b.html"]),
            "/a.html": page("a"), "/b.html": page("b"), "/robots.txt": ""})
        seeds = st.write_seeds(self.tmp.join("seeds%d.txt" % self.n),
                               ["https://127.0.0.1:%d/" % tls, "http://127.0.0.1:%d/" % plain])
        r = st.run_scrape(["--seed", seeds, "--db", self.db, "--job", "h2", "--quiet",
                           "--delay", "0", "--host-concurrency", "4", "--insecure",
                           "--peer-timeout", "30s"], np=3, timeout=240)
        self.assertEqual(r.returncode, 0, r.stderr[-4000:])
        log = self.access_log(tmp)
        https = sorted((p, s) for proto, scheme, p, s in log if scheme == "https")
        self.assertEqual(https, [("/", "200"), ("/a.html", "200"), ("/b.html", "200"),
                                 ("/robots.txt", "200")], log)
        for proto, scheme, path, status in log:
            self.assertEqual(proto, "HTTP/2.0" if scheme == "https" else "HTTP/1.1",
                             (proto, scheme, path))
        self.assertEqual(len([x for x in log if x[1] == "http"]), 4, log)
        self.assertEqual(int(self.q("SELECT count(*) FROM fetches WHERE http_status = 200")[0][0]),
                         6)


if __name__ == "__main__":
    unittest.main()
