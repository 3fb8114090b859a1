"""The grouped store (coordinator/storegroup.c): the store thread commits a group of results
with one set-based statement in one transaction.  A row that makes the statement fail must not
cost the other results of its group (each is stored again on its own), and nothing may be
stored twice.  The poison is a trigger on records that refuses one page's records."""
import json
import unittest

import crawlcase
import scrapetest as st


class StoreGroupTest(crawlcase.CrawlCase):

    def test_a_poison_row_fails_its_group_and_the_others_are_stored_once(self):
        want = self.oracle(max_depth=3)
        # a page at the last depth (3: its links are too deep to follow anyway, and a result
        # stored without its records is stored without its links too), in the crawl's
        # busiest groups
        poison = sorted(u for u, d in want.pages.items() if d == 3)[0]
        r = st.run_scrape(["init-db", "--db", self.db])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.q("CREATE FUNCTION poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
               " IF (SELECT url FROM urls WHERE id = NEW.url_id) = %s THEN"
               "  RAISE EXCEPTION 'poison row'; END IF; RETURN NEW; END $$"
               % ("'%s'" % poison.replace("'", "''")))
        self.q("CREATE TRIGGER poison BEFORE INSERT ON records FOR EACH ROW"
               " EXECUTE FUNCTION poison()")
        r = self.crawl(np=3, expect=None)
        self.assertIn(r.returncode, (0, 5), r.stderr[-4000:])
        # every page fetched and stored exactly once, the poison page too (without records)
        self.assert_exactly_once(want.pages)
        self.assertEqual(self.q("SELECT f.error, u.state FROM fetches f JOIN urls u"
                                " ON u.id = f.url_id WHERE u.url = :'p1'", [poison]),
                         [("could not store this result in the database", "failed")])
        self.assertEqual(self.scalar("SELECT count(*) FROM records r JOIN urls u"
                                     " ON u.id = r.url_id WHERE u.url = :'p1'", [poison]), "0")
        # the others kept their records: one links and one meta record per page
        for parser in ("links", "meta"):
            self.assertEqual(
                self.scalar("SELECT count(DISTINCT url_id) FROM records WHERE parser = :'p1'",
                            [parser]), str(len(want.pages) - 1), parser)
        self.assertEqual(self.scalar("SELECT count(*) FROM records GROUP BY fetch_id, parser"
                                     " HAVING count(*) > 1 LIMIT 1"), None,
                         "a record stored twice")
        self.assertIn("cannot store the result of URL", r.stderr)
        self.assertIn("poison row", r.stderr)

    def test_shared_outlinks_are_queued_once_at_their_first_depth(self):
        # many pages of one group link to the same URLs: each is queued once, at the depth
        # BFS gives it, and counted once as new
        want = self.oracle(max_depth=3)
        r = self.crawl(np=3)
        depths = dict(self.q("SELECT url, depth::text FROM urls"))
        for url, d in want.pages.items():
            self.assertEqual(int(depths[url]), d, url)
        self.assertEqual(self.scalar("SELECT count(*) FROM (SELECT url FROM urls GROUP BY url"
                                     " HAVING count(*) > 1) d"), "0")
        summary = json.loads(self.scalar("SELECT summary FROM runs"))
        # new_urls counts the URLs the pages added: all but the seed
        self.assertEqual(summary["new_urls"],
                         int(self.scalar("SELECT count(*) FROM urls WHERE kind = 'page'")) - 1,
                         r.stdout[-2000:])


if __name__ == "__main__":
    unittest.main()
