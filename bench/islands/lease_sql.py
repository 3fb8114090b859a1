#!/usr/bin/env python3
"""lease_sql.py - what host claims cost the lease statement (docs/internals/islands.md).

    PYTHONPATH=tests/harness python3 bench/islands/lease_sql.py [--urls 100000] [--hosts 1000]

Against a private PostgreSQL (tests/harness/scrapetest.py's PgServer) with schema.sql
applied: one job with --urls queued URLs over --hosts hosts (interleaved, so the first
URLs by (depth, id) span many hosts), then EXPLAIN ANALYZE, inside a transaction that is
rolled back, of:

  before   the lease statement without claims (as it was before islands)
  claims   the lease statement of coordinator/frontier.c (LEASE_SQL, read from the source)

for n = 256 and 4096 URLs, in three situations: no claims at all; this run already claims
the hosts it leases (the steady state); another live run claims the hosts of the first half
of the frontier (an island that must skip the other's hosts).  Prints a Markdown table of
the median execution time of 5 runs each.
"""
import argparse
import os
import re
import statistics
import sys

import scrapetest as st

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

BEFORE = (
    "WITH c AS ("
    "  SELECT id FROM urls"
    "  WHERE job_id = $1::bigint AND state = 'queued' AND next_attempt_at <= now()"
    "    AND ($5 = '' OR host <> ALL (string_to_array($5, E'\\n')))"
    "  ORDER BY depth, id LIMIT $2::int FOR UPDATE SKIP LOCKED)"
    " UPDATE urls u SET state = 'leased', lease_run = $3::bigint,"
    "   lease_until = now() + $4::bigint * interval '1 millisecond',"
    "   attempts = u.attempts + 1"
    " FROM c WHERE u.id = c.id"
    " RETURNING u.id, u.url, u.host, u.depth, u.attempts,"
    "   coalesce(u.etag, ''), coalesce(u.last_modified, ''), u.kind, u.hops")


def lease_sql():
    src = open(os.path.join(ROOT, "coordinator", "frontier.c")).read()
    body = src[src.index("static const char LEASE_SQL[] ="):]
    body = body[:body.index(";\n")]
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', body)
    return "".join(parts).replace("\\\\", "\\")


def bind(sql, job, n, run, ttl, exclude):
    vals = {"$1": str(job), "$2": str(n), "$3": str(run), "$4": str(ttl),
            "$5": "'%s'" % exclude}
    return re.sub(r"\$[1-5]\b", lambda m: vals[m.group(0)], sql)


def timed(pg, db, setup, sql, reps=5):
    """Median execution time (ms) and the rows the statement returned."""
    out, rows_out = [], 0
    for _ in range(reps):
        rows = pg.query(db, "BEGIN;\n%s\nEXPLAIN (ANALYZE, FORMAT TEXT) %s;\nROLLBACK;"
                        % (setup, sql))
        text = "\n".join(r[0] for r in rows if r and r[0])
        out.append(float(re.search(r"Execution Time: ([0-9.]+) ms", text).group(1)))
        rows_out = int(re.search(r"actual time=[0-9.]+\.\.[0-9.]+ rows=([0-9]+)",
                                 text).group(1))
    return statistics.median(out), rows_out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--urls", type=int, default=100000)
    ap.add_argument("--hosts", type=int, default=1000)
    a = ap.parse_args()
    per = a.urls // a.hosts
    with st.PgServer() as pg:
        db = pg.create_database("leasebench")
        pg.query(db, open(os.path.join(ROOT, "schema.sql")).read())
        # job 1: hosts interleaved in id order; job 2: hosts in blocks of urls/hosts ids
        pg.query(db, "INSERT INTO jobs (name) VALUES ('mixed'), ('blocks');"
                     "INSERT INTO runs (job_id) VALUES (1), (1), (2), (2);"
                     "INSERT INTO urls (job_id, url, host, depth)"
                     " SELECT 1, 'http://h' || (i %% %d) || '.test/' || i, 'h' || (i %% %d) ||"
                     " '.test', 1 FROM generate_series(1, %d) i;"
                     "INSERT INTO urls (job_id, url, host, depth)"
                     " SELECT 2, 'http://h' || (i / %d) || '.test/' || i, 'h' || (i / %d) ||"
                     " '.test', 1 FROM generate_series(0, %d) i;"
                     "ANALYZE;" % (a.hosts, a.hosts, a.urls, per, per, a.urls - 1))
        claims = lease_sql()
        alone = "UPDATE runs SET status = 'done' WHERE id IN (2, 4);"
        both = "UPDATE runs SET status = 'running', heartbeat_at = now() WHERE id IN (2, 4);"
        mine = alone + ("INSERT INTO host_claims SELECT 1, 'h' || i || '.test', 1,"
                        " now() + interval '1 min' FROM generate_series(0, %d) i;"
                        % (a.hosts - 1))
        # the other run claims every other host: every other URL in (depth, id) order is its
        half = both + ("INSERT INTO host_claims SELECT 1, 'h' || i || '.test', 2,"
                       " now() + interval '1 min' FROM generate_series(0, %d, 2) i;"
                       % (a.hosts - 1))
        # the other run claims the hosts of the first half of the frontier (job 2)
        front = both + ("INSERT INTO host_claims SELECT 2, 'h' || i || '.test', 4,"
                        " now() + interval '1 min' FROM generate_series(0, %d) i;"
                        % (a.hosts // 2 - 1))
        cases = [
            ("before: no claims", alone, BEFORE, 1, 1),
            ("claims: alone, none held", alone, claims, 1, 1),
            ("claims: alone, all held", mine, claims, 1, 1),
            ("claims: 2 islands, every other host the other's", half, claims, 1, 1),
            ("claims: 2 islands, the first half of the frontier the other's", front, claims, 2,
             3),
        ]
        print("frontier: %d queued URLs over %d hosts; EXPLAIN ANALYZE, median of 5, ms "
              "(rows returned: URLs + claimed hosts)\n" % (a.urls, a.hosts))
        print("| case | n = 256 | n = 4096 |")
        print("|---|---|---|")
        for label, setup, sql, job, run in cases:
            cells = []
            for n in (256, 4096):
                ms, rows = timed(pg, db, setup, bind(sql, job, n, run, 600000, ""))
                cells.append("%.1f (%d rows)" % (ms, rows))
            print("| %s | %s |" % (label, " | ".join(cells)))
        sys.stdout.flush()


if __name__ == "__main__":
    main()
