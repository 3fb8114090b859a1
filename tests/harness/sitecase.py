"""sitecase.py - a unittest base class for tests that write small sites of their own: one
PostgreSQL server per class, a fresh database per test, and site servers that the test
builds from a {path: content} dict and that stop after the test."""
import os
import unittest

import scrapetest as st


def write_site(root, files):
    """Writes {path: text or bytes} under root; returns root."""
    for path, text in files.items():
        full = os.path.join(root, path.lstrip("/"))
        os.makedirs(os.path.dirname(full), exist_ok=True)
        with open(full, "wb" if isinstance(text, bytes) else "w") as f:
            f.write(text)
    return root


def page(title, links=(), text=""):
    """A small HTML page with a title, an h1, some text and links."""
    items = "".join('<a href="%s">%s</a>\n' % (l, l) for l in links)
    return ("<html><head><title>%s</title></head><body><h1>%s</h1><p>%s</p>%s</body></html>"
            % (title, title, text, items))


class SiteCase(unittest.TestCase):
    PREFIX = "sitecase-"

    @classmethod
    def setUpClass(cls):
        st.require_scrape_bin()
        cls.tmp = st.TempDir(prefix=cls.PREFIX)
        cls.pg = st.PgServer().start()
        cls.n = 0

    @classmethod
    def tearDownClass(cls):
        cls.pg.stop()
        cls.tmp.cleanup()

    def setUp(self):
        type(self).n += 1
        self.db = self.pg.create_database("%s%d" % (self.PREFIX.strip("-"), self.n))
        self.servers = []

    def tearDown(self):
        for s in self.servers:
            s.stop()

    def serve(self, files, bind="127.0.0.1"):
        """Serves a site written from files on bind (a free port); stopped after the test."""
        root = write_site(self.tmp.join("site%d_%d" % (self.n, len(self.servers))), files)
        srv = st.SiteServer(root, bind=bind).start()
        self.servers.append(srv)
        return srv

    def q(self, sql, params=None):
        return self.pg.query(self.db, sql, params)
