"""scripts/demo.py, the README's first command after the build: a crawl of the sample shop on a
private PostgreSQL.  With --keep the database must outlive the demo: the printed psql command
must still reach it (and find the crawl) after the demo has exited, and the printed removal
command must stop the server and remove its folder."""
import os
import re
import subprocess
import sys
import time
import unittest

import scrapetest as st


class DemoKeepTest(unittest.TestCase):
    def test_keep_keeps_the_database(self):
        st.require_scrape_bin()
        demo = os.path.join(st.repo_root(), "scripts", "demo.py")
        r = subprocess.run([sys.executable, demo, "--pages", "30", "--np", "2", "--keep"],
                           capture_output=True, text=True, timeout=500)
        self.assertEqual(r.returncode, 0, r.stdout[-3000:] + r.stderr[-3000:])
        m = re.search(r"^  psql '([^']*)'$", r.stdout, re.M)
        self.assertIsNotNone(m, r.stdout[-2000:])
        conninfo = m.group(1)
        m = re.search(r"head -1 (\S+)/postmaster\.pid", r.stdout)
        self.assertIsNotNone(m, r.stdout[-2000:])
        datadir = m.group(1)
        folder = os.path.dirname(datadir)
        try:
            # the harness used to stop the server and remove the folder right after the
            # demo's exit (its watchdog): give it the time it took
            time.sleep(3)
            self.assertTrue(os.path.exists(os.path.join(datadir, "postmaster.pid")))
            pages = int(st.pg_scalar(conninfo, "SELECT count(*) FROM urls WHERE state = 'done'"))
            self.assertGreaterEqual(pages, 20)  # of the 30-page shop
        finally:
            # what the demo prints, run as it says
            subprocess.run(["sh", "-c", "kill $(head -1 %s/postmaster.pid)" % datadir],
                           capture_output=True, timeout=60)
            st.wait_until(lambda: not os.path.exists(os.path.join(datadir, "postmaster.pid")),
                          timeout=60, message="the kept PostgreSQL stops")
            subprocess.run(["rm", "-rf", folder], timeout=60)
        self.assertRegex(r.stdout, r"(?m)^  kill \$\(head -1 %s/postmaster\.pid\); rm -rf %s$"
                         % (re.escape(datadir), re.escape(folder)))


if __name__ == "__main__":
    unittest.main()
