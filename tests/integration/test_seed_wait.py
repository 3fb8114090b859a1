"""A seed file large enough that rank 0 seeds for longer than a worker waits for WELCOME.

Workers wait a limited time for WELCOME (120 s; SCRAPE_TEST_WELCOME_WAIT_MS shortens it for
tests).  Rank 0 reads the seed file twice and inserts the seeds before it welcomes anyone: with
a seed file of about 7 million lines that outlasted the 120 s and the workers gave up.  Now rank
0 sends HEARTBEATs while it prepares, and each restarts the worker's wait (docs/protocol.md).
The seeds here are the site's home page repeated (one URL in the frontier, so the crawl itself
is the usual one), enough lines that seeding takes several times the shortened wait."""
import time
import unittest

import crawlcase
import scrapetest as st

WAIT_MS = 1500
LINES = 2500000  # about 6 s of seeding in a RelWithDebInfo build here (1.2 M: 3.0 s)


class SeedWaitTest(crawlcase.CrawlCase):
    PAGES = 20

    def test_workers_wait_while_rank0_seeds_for_longer_than_their_welcome_wait(self):
        seeds = self.tmp.join("many-seeds.txt")
        with open(seeds, "w") as f:
            f.write((self.site.url("/") + "\n") * LINES)
        t0 = time.time()
        # a --peer-timeout shorter than the seeding too: rank 0 reads no message while it
        # seeds, so the workers' HELLOs waiting in the queue must not count as silence
        r = st.run_scrape(self.args("--peer-timeout", "2s", "--heartbeat", "500ms",
                                    seeds=seeds), np=3, timeout=600,
                          env={"SCRAPE_TEST_WELCOME_WAIT_MS": str(WAIT_MS)})
        took = time.time() - t0
        self.assertEqual(r.returncode, 0, "scrape exited %d after %.1f s\n%s"
                         % (r.returncode, took, r.stderr[-4000:]))
        self.assertNotIn("no WELCOME", r.stderr)
        # the seeding did outlast the wait, with a margin (else this test proves nothing): from
        # the start to the first fetch (the same clock: PostgreSQL runs on this machine)
        started = float(self.scalar("SELECT extract(epoch FROM min(fetched_at)) FROM fetches"))
        self.assertGreater(started - t0, max(1.5 * WAIT_MS / 1000.0, 2 * 2.0),
                           "seeding took %.1f s: make LINES larger" % (started - t0))
        self.assertEqual(self.scalar("SELECT count(*) FROM urls WHERE depth = 0"), "1")
        workers = self.q("SELECT rank, state FROM run_workers ORDER BY rank")
        self.assertEqual([w[0] for w in workers], ["1", "2"])
        self.assertEqual(self.scalar("SELECT count(*) FROM fetches WHERE http_status = 200"),
                         self.scalar("SELECT count(*) FROM urls WHERE state = 'done'"))


if __name__ == "__main__":
    unittest.main()
