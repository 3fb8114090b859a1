"""The small commands, run as a user runs them: `scrape robots`, `scrape url` and `scrape extract`.

No database, no network: each test runs the binary ($SCRAPE_BIN) on files in a temporary
directory and checks stdout line for line, the exit code, and that usage errors say what is
missing on stderr and print nothing on stdout."""
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

BIN = os.environ.get("SCRAPE_BIN")

# Several groups: "*", a group naming scrape and otherbot, a second group naming SCRAPE
# (merged with the first: RFC 9309 2.2.1), and scrape-bot, which must not apply to scrape.
ROBOTS = """\
# several groups
User-agent: *
Disallow: /private/
Allow: /private/public.html
Crawl-delay: 5

User-agent: scrape
User-agent: otherbot
Disallow: /admin
Allow: /admin/help$
Disallow: /*.pdf$

user-agent: SCRAPE
disallow: /tmp

User-agent: scrape-bot
Disallow: /

Sitemap: https://example.com/sitemap.xml
"""


def run(*args, stdin=None):
    return subprocess.run([BIN, *args], input=stdin, capture_output=True, text=True,
                          timeout=60)


@unittest.skipUnless(BIN, "SCRAPE_BIN is not set")
class RobotsCommandTest(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="scrape-cli-")
        self.robots = os.path.join(self.dir, "robots.txt")
        with open(self.robots, "w", encoding="utf-8") as f:
            f.write(ROBOTS)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def check(self, agent, urls, want, robots=None, stdin=None):
        r = run("robots", "--agent", agent, "--robots", robots or self.robots, *urls,
                stdin=stdin)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout.splitlines(), want)
        self.assertEqual(r.stderr, "")

    def test_our_groups_merged_and_no_inheritance_from_star(self):
        self.check("scrape", [
            "https://example.com/",
            "https://example.com/private/x",
            "https://example.com/admin",
            "https://example.com/admin/x",
            "https://example.com/admin/help",
            "https://example.com/admin/help/more",
            "https://example.com/doc.pdf",
            "https://example.com/doc.pdf?x=1",
            "https://example.com/tmp/a",
            "https://example.com/robots.txt",
            "https://example.com:8443/admin?x#frag",
            "/tmp",
        ], [
            "allow https://example.com/",
            "allow https://example.com/private/x",
            "disallow https://example.com/admin",
            "disallow https://example.com/admin/x",
            "allow https://example.com/admin/help",
            "disallow https://example.com/admin/help/more",
            "disallow https://example.com/doc.pdf",
            "allow https://example.com/doc.pdf?x=1",
            "disallow https://example.com/tmp/a",
            "allow https://example.com/robots.txt",
            "disallow https://example.com:8443/admin?x#frag",
            "disallow /tmp",
        ])

    def test_full_user_agent_string_is_reduced_to_its_token(self):
        self.check("scrape/1.0 (+https://example.invalid/scrape)",
                   ["https://example.com/admin", "https://example.com/private/x"],
                   ["disallow https://example.com/admin",
                    "allow https://example.com/private/x"])

    def test_other_agents_get_the_star_group(self):
        self.check("somebot", ["/private/a", "/private/public.html", "/admin", "/doc.pdf"],
                   ["disallow /private/a", "allow /private/public.html", "allow /admin",
                    "allow /doc.pdf"])

    def test_otherbot_shares_the_first_group_only(self):
        self.check("otherbot", ["/admin", "/tmp", "/private/a"],
                   ["disallow /admin", "allow /tmp", "allow /private/a"])

    def test_exact_token_match(self):
        self.check("scrape-bot", ["/", "/robots.txt", "/x"],
                   ["disallow /", "allow /robots.txt", "disallow /x"])

    def test_robots_from_stdin(self):
        self.check("scrape", ["http://h/admin", "http://h/"],
                   ["disallow http://h/admin", "allow http://h/"], robots="-", stdin=ROBOTS)

    def test_empty_robots_allows_everything(self):
        empty = os.path.join(self.dir, "empty.txt")
        open(empty, "w").close()
        self.check("scrape", ["http://h/admin"], ["allow http://h/admin"], robots=empty)

    def usage_error(self, args, needle):
        r = run("robots", *args)
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(r.stdout, "")
        self.assertIn(needle, r.stderr)

    def test_missing_agent(self):
        self.usage_error(["--robots", self.robots, "http://h/"], "--agent is required")

    def test_missing_robots(self):
        self.usage_error(["--agent", "scrape", "http://h/"], "--robots is required")

    def test_no_url(self):
        self.usage_error(["--agent", "scrape", "--robots", self.robots], "no URL given")

    def test_option_without_value(self):
        self.usage_error(["http://h/", "--agent"], "--agent needs a value")

    def test_unreadable_robots_file(self):
        self.usage_error(["--agent", "scrape", "--robots", os.path.join(self.dir, "nope"),
                          "http://h/"], "nope")

    def test_usage_line(self):
        r = run("robots")
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage: scrape robots --agent NAME --robots FILE", r.stderr)


@unittest.skipUnless(BIN, "SCRAPE_BIN is not set")
class UrlCommandTest(unittest.TestCase):

    def test_strip_tracking_and_sort_query(self):
        r = run("url", "--base", "http://Example.com/dir/page?q=1", "--strip-tracking",
                "--sort-query",
                "b?z=1&utm_source=x&a=2",
                "ftp://x/",
                "../up?utm_medium=m",
                "HTTP://EXAMPLE.com:80/x?b=2&a=1#frag",
                "http://a.com/%7Euser/./b/../c?UTM_x=1&fbclid=2")
        self.assertEqual(r.returncode, 2, r.stderr)  # ftp://x/ is not a URL scrape takes
        self.assertEqual(r.stdout.splitlines(), [
            "http://example.com/dir/b?a=2&z=1",
            "invalid ftp://x/: unsupported scheme 'ftp'",
            "http://example.com/up",
            "http://example.com/x?a=1&b=2",
            "http://a.com/~user/c?fbclid=2",
        ])

    def test_defaults_keep_the_query_as_is(self):
        r = run("url", "http://a.com/?utm_source=x&b=1&a=2")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "http://a.com/?utm_source=x&b=1&a=2\n")

    def test_strip_param(self):
        r = run("url", "--strip-tracking", "--strip-param", "fbclid, gclid",
                "http://a.com/p?fbclid=1&x=2&gclid=3&utm_id=4")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "http://a.com/p?x=2\n")

    def test_options_from_a_config_file(self):
        with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
            f.write("strip-tracking = true\nsort-query = yes\n")
        try:
            r = run("url", "--config", f.name, "http://a.com/?b=1&utm_a=2&a=3")
        finally:
            os.unlink(f.name)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stdout, "http://a.com/?a=3&b=1\n")

    def test_max_url_length(self):
        ok = "http://a.com/" + "a" * 51      # 64 bytes
        long = ok + "a"
        r = run("url", "--max-url-length", "64", ok, long)
        self.assertEqual(r.returncode, 2, r.stderr)
        lines = r.stdout.splitlines()
        self.assertEqual(lines[0], ok)
        self.assertTrue(lines[1].startswith("invalid %s: " % long), lines[1])
        self.assertEqual(len(lines), 2)

    def test_an_invalid_url_exits_2_with_the_reason(self):
        r = run("url", "not-a-url")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(r.stdout, "invalid not-a-url: " + r.stderr.split(": ", 2)[2])
        self.assertRegex(r.stderr, r"^scrape url: invalid URL 'not-a-url': \S.*\n$")
        # the valid ones are still written, one line per argument, in order
        r = run("url", "http://a.com/x", "not-a-url", "https://B.com")
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertEqual(r.stdout.splitlines()[0::2], ["http://a.com/x", "https://b.com/"])
        self.assertTrue(r.stdout.splitlines()[1].startswith("invalid not-a-url: "))
        self.assertEqual(len(r.stderr.splitlines()), 1)

    def test_no_url_is_a_usage_error(self):
        r = run("url")
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stdout, "")
        self.assertIn("usage: scrape url [--base BASE] URL...", r.stderr)

    def test_bad_settings_are_usage_errors(self):
        for args, needle in [
                (["--strip-param", "fbclid"], "--strip-param: has no effect without "
                                              "--strip-tracking"),
                (["--strip-tracking", "--strip-param", "a,,b"], "--strip-param: empty"),
                (["--max-url-length", "10"], "--max-url-length: 10 is out of range"),
                (["--sort-query=maybe"], "--sort-query: 'maybe' is not true or false")]:
            r = run("url", *args, "http://a.com/")
            self.assertEqual(r.returncode, 2, args)
            self.assertEqual(r.stdout, "")
            self.assertIn(needle, r.stderr)


PAGE = """<html><head><title>Links</title>
<link rel="canonical" href="/article?utm_source=feed&id=7">
</head><body>
<a href="/a?utm_source=news&b=2&a=1">one</a>
<a href="/b?fbclid=9&x=1&utm_campaign=c">two</a>
<a href="http://other.example/c?z=1&y=2">three</a>
</body></html>
"""


@unittest.skipUnless(BIN, "SCRAPE_BIN is not set")
class ExtractCommandTest(unittest.TestCase):
    """`scrape extract` prints what the crawl would store: the same URL options, from the
    same settings, as a crawl's workers (parsers/extract.c scr_extract_env_from_settings)."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="scrape-cli-")
        self.page = os.path.join(self.dir, "page.html")
        with open(self.page, "w", encoding="utf-8") as f:
            f.write(PAGE)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def records(self, *args):
        r = run("extract", *args, "--url", "http://example.com/x/page.html?utm_medium=m&q=1",
                self.page)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(r.stderr, "")
        return [json.loads(line) for line in r.stdout.splitlines()]

    def test_strip_tracking(self):
        links, meta = self.records("--strip-tracking")
        self.assertEqual(links["data"]["links"], [
            "http://example.com/a?b=2&a=1",
            "http://example.com/b?fbclid=9&x=1",
            "http://other.example/c?z=1&y=2",
        ])
        self.assertEqual(meta["data"]["canonical"], "http://example.com/article?id=7")

    def test_sort_query_and_strip_param(self):
        links, _ = self.records("--strip-tracking", "--strip-param", "fbclid", "--sort-query")
        self.assertEqual(links["data"]["links"], [
            "http://example.com/a?a=1&b=2",
            "http://example.com/b?x=1",
            "http://other.example/c?y=2&z=1",
        ])

    def test_defaults_keep_the_links_as_they_are(self):
        links, _ = self.records()
        self.assertEqual(links["data"]["links"][0], "http://example.com/a?utm_source=news&b=2&a=1")

    def test_bad_url_options_are_usage_errors(self):
        r = run("extract", "--strip-param", "fbclid", "--url", "http://example.com/", self.page)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stdout, "")
        self.assertIn("--strip-param: has no effect without --strip-tracking", r.stderr)


@unittest.skipUnless(BIN, "SCRAPE_BIN is not set")
class HelpAndUsageTest(unittest.TestCase):
    """What a new user meets first: help for every command, and "did you mean" for typos."""

    COMMANDS = ("crawl", "reextract", "check", "doctor", "init-db", "export", "report", "jobs",
                "extract", "url", "robots", "version", "help")

    def test_every_subcommand_answers_help(self):
        # the list here is the one `scrape` prints: a new command cannot go without a test
        r = run()
        listed = re.search(r"commands: (.*)", r.stdout + r.stderr)
        self.assertIsNotNone(listed, r.stdout + r.stderr)
        self.assertEqual(sorted(listed.group(1).strip().split(", ")), sorted(self.COMMANDS))
        for cmd in self.COMMANDS:
            for flag in ("--help", "-h"):
                r = run(cmd, flag)
                self.assertEqual(r.returncode, 0, (cmd, flag, r.stderr))
                self.assertIn(cmd, r.stdout, (cmd, flag))
                self.assertIn("usage", r.stdout.lower(), (cmd, flag))

    def test_version_flags(self):
        want = run("version")
        self.assertEqual(want.returncode, 0)
        for flag in ("--version", "-V"):
            r = run(flag)
            self.assertEqual(r.returncode, 0, flag)
            self.assertEqual(r.stdout, want.stdout, flag)

    def test_no_arguments_prints_the_usage_and_exits_2(self):
        r = subprocess.run([BIN], capture_output=True, text=True, timeout=2)
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage", (r.stdout + r.stderr).lower())

    def test_mistyped_option_gets_a_suggestion(self):
        r = run("crawl", "--max-dept", "3")
        self.assertEqual(r.returncode, 2)
        self.assertIn("did you mean --max-depth", r.stderr)
        self.assertIn("scrape crawl --help", r.stderr)
        r = run("export", "--jbo", "x")
        self.assertEqual(r.returncode, 2)
        self.assertIn("did you mean --job", r.stderr)
        self.assertIn("scrape export --help", r.stderr)
        r = run("doctor", "--machinfile", "mf")  # parsed by the doctor itself
        self.assertEqual(r.returncode, 2)
        self.assertIn("did you mean --machinefile", r.stderr)
        self.assertIn("scrape doctor --help", r.stderr)

    def test_mistyped_config_key_gets_a_suggestion(self):
        d = tempfile.mkdtemp(prefix="scrape-cli-")
        try:
            cfg = os.path.join(d, "scrape.conf")
            with open(cfg, "w", encoding="utf-8") as f:
                f.write("max_depth = 3\n")
            r = run("crawl", "--config", cfg, "--seed", cfg)
            self.assertEqual(r.returncode, 2)
            self.assertIn("did you mean max-depth", r.stderr)
        finally:
            shutil.rmtree(d, ignore_errors=True)

    def test_mistyped_subcommand_gets_a_suggestion(self):
        r = run("exprot")
        self.assertEqual(r.returncode, 2)
        self.assertIn("did you mean export", r.stderr)


if __name__ == "__main__":
    unittest.main()
