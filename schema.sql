-- scrape database schema.  The single source of truth: `scrape init-db` applies it, and a
-- run applies it to an empty database.  Every statement is idempotent, so applying it twice
-- changes nothing.  A database of an older schema_version is upgraded by applying this file
-- again (new columns are added with ADD COLUMN IF NOT EXISTS at the end, and the version is
-- raised last); the binary refuses a database of a newer version than its own.
-- Columns and states are documented in docs/schema.md.

CREATE TABLE IF NOT EXISTS scrape_meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);
INSERT INTO scrape_meta (key, value) VALUES ('schema_version', '3')
    ON CONFLICT (key) DO NOTHING;

-- A job is a named crawl with its own frontier and results.
CREATE TABLE IF NOT EXISTS jobs (
    id         bigserial PRIMARY KEY,
    name       text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- One row per invocation of `scrape` on a job.
CREATE TABLE IF NOT EXISTS runs (
    id               bigserial PRIMARY KEY,
    job_id           bigint NOT NULL REFERENCES jobs (id),
    started_at       timestamptz NOT NULL DEFAULT now(),
    finished_at      timestamptz,
    heartbeat_at     timestamptz NOT NULL DEFAULT now(),
    status           text NOT NULL DEFAULT 'running'
                     CHECK (status IN ('running', 'done', 'partial', 'failed',
                                       'interrupted', 'died', 'lost')),
    exit_code        integer,
    command          text,
    settings         jsonb NOT NULL DEFAULT '{}',
    nodes            jsonb NOT NULL DEFAULT '[]',
    summary          jsonb,
    insecure         boolean NOT NULL DEFAULT false,
    coordinator_host text,
    coordinator_pid  integer
);
CREATE INDEX IF NOT EXISTS runs_job ON runs (job_id, started_at);

-- The frontier: every URL a job knows, with its state.
--   queued  -> waiting (not before next_attempt_at)
--   leased  -> handed to a run (lease_run) until lease_until; the run renews it
--   done    -> fetched (any HTTP answer that is not an error)
--   failed  -> gave up: permanent error, or transient errors max-attempts times
--   skipped -> not fetched on purpose (robots.txt, scope); reason in error
CREATE TABLE IF NOT EXISTS urls (
    id              bigserial PRIMARY KEY,
    job_id          bigint NOT NULL REFERENCES jobs (id),
    url             text NOT NULL,
    host            text NOT NULL,
    depth           integer NOT NULL,
    kind            text NOT NULL DEFAULT 'page' CHECK (kind IN ('page', 'sitemap')),
    hops            integer NOT NULL DEFAULT 0,
    state           text NOT NULL DEFAULT 'queued'
                    CHECK (state IN ('queued', 'leased', 'done', 'failed', 'skipped')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    lease_run       bigint,
    lease_until     timestamptz,
    discovered_at   timestamptz NOT NULL DEFAULT now(),
    discovered_by   bigint,
    last_fetch_at   timestamptz,
    last_status     integer,
    error           text,
    etag            text,
    last_modified   text,
    content_hash    text,
    UNIQUE (job_id, url)
);
CREATE INDEX IF NOT EXISTS urls_queue ON urls (job_id, depth, id) WHERE state = 'queued';
CREATE INDEX IF NOT EXISTS urls_leased ON urls (lease_run) WHERE state = 'leased';
CREATE INDEX IF NOT EXISTS urls_job_host ON urls (job_id, host);
CREATE INDEX IF NOT EXISTS urls_job_state ON urls (job_id, state);
CREATE INDEX IF NOT EXISTS urls_recrawl ON urls (job_id, last_fetch_at) WHERE state = 'done';

-- robots.txt per host (authority), shared by every job: fetched once, valid for a day.
CREATE TABLE IF NOT EXISTS hosts (
    host              text PRIMARY KEY,
    robots_url        text,
    robots_status     integer,
    robots_body       text,
    robots_error      text,
    robots_fetched_at timestamptz
);

-- One row per fetch attempt.
CREATE TABLE IF NOT EXISTS fetches (
    id            bigserial PRIMARY KEY,
    url_id        bigint NOT NULL REFERENCES urls (id),
    job_id        bigint NOT NULL,       -- = urls.job_id (see docs/schema.md: copies, no FK)
    run_id        bigint NOT NULL,       -- runs.id
    fetched_at    timestamptz NOT NULL DEFAULT now(),
    url           text NOT NULL,
    attempt       integer NOT NULL,
    http_status   integer,
    final_url     text,
    content_type  text,
    bytes         bigint NOT NULL DEFAULT 0,
    elapsed_ms    integer,
    wait_ms       integer,
    redirects     integer NOT NULL DEFAULT 0,
    worker_rank   integer,
    worker_host   text,
    error         text,
    etag          text,
    last_modified text,
    content_hash  text,
    changed       boolean
);
CREATE INDEX IF NOT EXISTS fetches_url ON fetches (url_id, fetched_at);
CREATE INDEX IF NOT EXISTS fetches_run ON fetches (run_id);
CREATE INDEX IF NOT EXISTS fetches_job_time ON fetches (job_id, fetched_at);

-- What the parsers extracted from a fetch: one row per record.
CREATE TABLE IF NOT EXISTS records (
    id          bigserial PRIMARY KEY,
    fetch_id    bigint NOT NULL REFERENCES fetches (id) ON DELETE CASCADE,
    url_id      bigint NOT NULL,         -- = fetches.url_id (copies, no FK)
    job_id      bigint NOT NULL,         -- = fetches.job_id
    parser      text NOT NULL,
    rule_set    text,
    record_type text,
    rules_hash  text,
    data        jsonb NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS records_fetch ON records (fetch_id);
CREATE INDEX IF NOT EXISTS records_job_parser ON records (job_id, parser, record_type);
CREATE INDEX IF NOT EXISTS records_url ON records (url_id);

-- Per-worker figures of each run: which node was slow, which failed.
CREATE TABLE IF NOT EXISTS run_workers (
    run_id      bigint NOT NULL REFERENCES runs (id),
    rank        integer NOT NULL,
    host        text NOT NULL,
    arch        text,
    os          text,
    cores       integer,
    version     text,
    build_id    text,
    state       text NOT NULL,
    pages       bigint NOT NULL DEFAULT 0,
    bytes       bigint NOT NULL DEFAULT 0,
    errors      bigint NOT NULL DEFAULT 0,
    records     bigint NOT NULL DEFAULT 0,
    busy_ms     bigint,
    idle_ms     bigint,
    cpu_ms      bigint,
    max_rss_kb  bigint,
    pages_per_s double precision,
    PRIMARY KEY (run_id, rank)
);

-- ---------------------------------------------------------------------------------------------
-- Views and indexes for analysts (docs/schema.md, "Views"; docs/queries.md).  Each view carries
-- the job's name and id, so `WHERE job = 'shop'` works everywhere.  A view's columns may only be
-- appended to: CREATE OR REPLACE VIEW refuses to drop or rename one.

-- Full-text search over the text parser's records, and "which pages link to this URL".
CREATE INDEX IF NOT EXISTS records_text_fts ON records
    USING gin (to_tsvector('simple', data ->> 'text')) WHERE parser = 'text';
CREATE INDEX IF NOT EXISTS records_links ON records
    USING gin ((data -> 'links') jsonb_path_ops) WHERE parser = 'links';
-- The latest successful fetch of each URL, with the metadata of the meta parser's latest
-- record up to that fetch (a 304 keeps the metadata and content hash of the body before it).
CREATE OR REPLACE VIEW latest_pages AS
SELECT u.id AS url_id, u.url, j.name AS job, u.job_id, u.host, f.fetched_at, f.http_status,
       f.content_type, f.bytes, m.data ->> 'title' AS title,
       m.data ->> 'description' AS description, m.data ->> 'canonical' AS canonical,
       m.data ->> 'lang' AS lang,
       coalesce(f.content_hash, (
           SELECT p.content_hash FROM fetches p
           WHERE p.url_id = u.id AND p.error IS NULL AND p.content_hash IS NOT NULL
           ORDER BY p.fetched_at DESC, p.id DESC LIMIT 1)) AS content_hash,
       f.id AS fetch_id, f.run_id, u.depth
FROM urls u
JOIN jobs j ON j.id = u.job_id
CROSS JOIN LATERAL (
    SELECT * FROM fetches f
    WHERE f.url_id = u.id AND f.error IS NULL
    ORDER BY f.fetched_at DESC, f.id DESC LIMIT 1) f
LEFT JOIN LATERAL (
    SELECT r.data FROM records r
    WHERE r.url_id = u.id AND r.parser = 'meta' AND r.fetch_id <= f.id
    ORDER BY r.fetch_id DESC, r.id DESC LIMIT 1) m ON true;

-- Every record, flattened: where and when it came from.
CREATE OR REPLACE VIEW record_rows AS
SELECT r.id AS record_id, j.name AS job, r.job_id, u.url, r.parser, r.rule_set,
       r.record_type, f.fetched_at, f.run_id, r.fetch_id, r.url_id, r.data
FROM records r
JOIN jobs j ON j.id = r.job_id
JOIN urls u ON u.id = r.url_id
JOIN fetches f ON f.id = r.fetch_id;

-- Per job and host: fetches, errors by kind, latency and robots.txt.
CREATE OR REPLACE VIEW host_stats AS
SELECT j.name AS job, f.job_id, u.host,
       count(*) AS fetches,
       count(*) FILTER (WHERE f.error IS NULL) AS pages,
       count(*) FILTER (WHERE f.error IS NOT NULL) AS errors,
       count(*) FILTER (WHERE f.http_status BETWEEN 400 AND 499) AS http_4xx,
       count(*) FILTER (WHERE f.http_status >= 500) AS http_5xx,
       count(*) FILTER (WHERE f.http_status IS NULL AND f.error IS NOT NULL) AS network_errors,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY f.elapsed_ms) AS median_ms,
       percentile_cont(0.95) WITHIN GROUP (ORDER BY f.elapsed_ms) AS p95_ms,
       sum(f.bytes) AS bytes,
       min(h.robots_status) AS robots_status,
       min(h.robots_error) AS robots_error,
       min(h.robots_fetched_at) AS robots_fetched_at
FROM fetches f
JOIN urls u ON u.id = f.url_id
JOIN jobs j ON j.id = f.job_id
LEFT JOIN hosts h ON h.host = u.host
GROUP BY j.name, f.job_id, u.host;

-- Fetches per HTTP status (NULL: no response) and per content type, per job.
CREATE OR REPLACE VIEW status_counts AS
SELECT j.name AS job, f.job_id, f.http_status, count(*) AS fetches,
       count(DISTINCT f.url_id) AS urls
FROM fetches f
JOIN jobs j ON j.id = f.job_id
GROUP BY j.name, f.job_id, f.http_status;

CREATE OR REPLACE VIEW content_type_counts AS
SELECT j.name AS job, f.job_id,
       lower(trim(split_part(f.content_type, ';', 1))) AS content_type,
       count(*) AS fetches, sum(f.bytes) AS bytes
FROM fetches f
JOIN jobs j ON j.id = f.job_id
GROUP BY j.name, f.job_id, 3;

-- The links of each page's latest links record: one row per (page, link).
CREATE OR REPLACE VIEW link_graph AS
SELECT j.name AS job, r.job_id, u.url AS from_url, l.to_url, r.fetch_id
FROM records r
JOIN jobs j ON j.id = r.job_id
JOIN urls u ON u.id = r.url_id
CROSS JOIN LATERAL jsonb_array_elements_text(r.data -> 'links') AS l (to_url)
WHERE r.parser = 'links'
  AND jsonb_typeof(r.data -> 'links') = 'array'
  AND NOT EXISTS (SELECT 1 FROM records n
                  WHERE n.url_id = r.url_id AND n.parser = 'links' AND n.id > r.id);

-- The text parser's latest record of each page; tsv matches the index records_text_fts.
CREATE OR REPLACE VIEW page_text AS
SELECT j.name AS job, r.job_id, u.url, f.fetched_at, r.data ->> 'text' AS text,
       (r.data ->> 'truncated')::boolean AS truncated, (r.data ->> 'length')::bigint AS length,
       to_tsvector('simple', r.data ->> 'text') AS tsv, r.fetch_id
FROM records r
JOIN jobs j ON j.id = r.job_id
JOIN urls u ON u.id = r.url_id
JOIN fetches f ON f.id = r.fetch_id
WHERE r.parser = 'text'
  AND NOT EXISTS (SELECT 1 FROM records n
                  WHERE n.url_id = r.url_id AND n.parser = 'text' AND n.id > r.id);

-- Schema version 2 -------------------------------------------------------------------------
-- Additions since version 1, applied to new and old databases alike (idempotent).

-- urls.seed: the URL was named in a seed file.  Only these hosts may be on private addresses
-- (the address guard's seed exemption); sitemap URLs and redirect targets are stored at depth
-- 0 too but are not seeds.  A version-1 database starts with none marked: the next run marks
-- the URLs of its seed file.  When the column is added to a version-1 database, the URLs that
-- can only have come from a seed file are marked: depth-0 pages that nothing discovered
-- (robots.txt sitemaps are kind 'sitemap'; sitemap entries and redirect targets have
-- discovered_by), so a resumed job keeps its seed hosts.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_attribute
                   WHERE attrelid = 'urls'::regclass AND attname = 'seed'
                     AND NOT attisdropped) THEN
        ALTER TABLE urls ADD COLUMN seed boolean NOT NULL DEFAULT false;
        UPDATE urls SET seed = true
        WHERE depth = 0 AND kind = 'page' AND discovered_by IS NULL;
    END IF;
END
$$;

-- urls.lost_count, urls.lost_workers: how many workers were lost (silent for --peer-timeout)
-- while this URL was in flight on them, over all runs, and which ("rank 2 on pi3 in run 17",
-- '; '-separated).  At 2 the URL is quarantined: 'failed', never retried automatically
-- (docs/internals/leases.md, "Lost workers and poison pages").
ALTER TABLE urls ADD COLUMN IF NOT EXISTS lost_count integer NOT NULL DEFAULT 0;
ALTER TABLE urls ADD COLUMN IF NOT EXISTS lost_workers text;

-- Islands (docs/internals/islands.md): several runs of one job at once, each its own mpiexec
-- job with its own coordinator, share the crawl through this database.
-- runs.island: the label of the run's island (--island, default: the coordinator's host name).
-- (added only when missing: ALTER TABLE locks the table even when the column exists)
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_attribute
                   WHERE attrelid = 'runs'::regclass AND attname = 'island'
                     AND NOT attisdropped) THEN
        ALTER TABLE runs ADD COLUMN island text;
    END IF;
END
$$;

-- host_claims: time-limited ownership of a job's hosts, so that --delay and --host-concurrency
-- hold across islands.  A run leases URLs only of hosts it claims; a claim is taken in the
-- lease statement (free, expired, or already the run's own), renewed every --lease-ttl/4 and
-- released when the run no longer needs the host.  `until` is the end of the owner's right to
-- start requests (on release: its last start); `last_start` is the owner's last request start
-- as far as the database knows (the database's clock).  The next owner starts no request
-- before greatest(last_start, until) + delay.
CREATE TABLE IF NOT EXISTS host_claims (
    job_id     bigint NOT NULL REFERENCES jobs (id),
    host       text NOT NULL,
    run_id     bigint NOT NULL,
    until      timestamptz NOT NULL,
    last_start timestamptz,
    PRIMARY KEY (job_id, host)
);
CREATE INDEX IF NOT EXISTS host_claims_run ON host_claims (run_id);

-- run_summary is defined here, after runs.island exists (a view's columns are only appended).
-- One row per run; the figures come from the run's summary (NULL while it runs).
CREATE OR REPLACE VIEW run_summary AS
SELECT r.id AS run_id, j.name AS job, r.job_id, r.status, r.exit_code,
       r.started_at, r.finished_at, r.finished_at - r.started_at AS duration,
       (r.summary ->> 'pages')::bigint AS pages,
       (r.summary ->> 'records')::bigint AS records,
       (r.summary ->> 'errors')::bigint AS errors,
       (r.summary ->> 'failed')::bigint AS failed,
       (r.summary ->> 'bytes')::bigint AS bytes,
       (r.summary ->> 'new_urls')::bigint AS new_urls,
       (r.summary ->> 'pages_per_s')::double precision AS pages_per_s,
       (SELECT count(*) FROM run_workers w WHERE w.run_id = r.id) AS workers,
       r.coordinator_host, r.island
FROM runs r
JOIN jobs j ON j.id = r.job_id;

-- fetches.encoding: what a parsed page's body was decoded from, the Encoding standard's name
-- ("UTF-8", "windows-1252", "GBK", ...; parsers/decode.h); NULL when it was not parsed.
ALTER TABLE fetches ADD COLUMN IF NOT EXISTS encoding text;

UPDATE scrape_meta SET value = '2' WHERE key = 'schema_version' AND value::int < 2;

-- Schema version 3 -------------------------------------------------------------------------
-- Additions since version 2, applied to new and old databases alike (idempotent).
-- Each change below has its own paragraph; the version is raised last.

-- Extraction hash (docs/rules.md, "Changing the rules"): runs.extract_hash is the SHA-256 of
-- what extracts records in the run (the parser list and the rules text); urls.extract_hash is
-- the hash of the run whose 2xx answer last extracted the page's records.  A page whose hash
-- differs from the leasing run's is fetched without If-None-Match / If-Modified-Since, so new
-- rules or parsers reach pages that would answer 304.  NULL: not known (before schema 3).
-- (added only when missing: ALTER TABLE locks the table even when the column exists)
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_attribute
                   WHERE attrelid = 'runs'::regclass AND attname = 'extract_hash'
                     AND NOT attisdropped) THEN
        ALTER TABLE runs ADD COLUMN extract_hash text;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_attribute
                   WHERE attrelid = 'urls'::regclass AND attname = 'extract_hash'
                     AND NOT attisdropped) THEN
        ALTER TABLE urls ADD COLUMN extract_hash text;
    END IF;
END
$$;

-- jobs.settings: the settings a job keeps for its runs (docs/cron.md, "A job keeps its
-- settings"): {"max-depth": "1", "rules": "/abs/shop.rules", ...}, the job settings some run
-- gave explicitly, the latest value of each; a run applies them to the settings it was not
-- given.  NULL until a run of schema 3 stores them.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_attribute
                   WHERE attrelid = 'jobs'::regclass AND attname = 'settings'
                     AND NOT attisdropped) THEN
        ALTER TABLE jobs ADD COLUMN settings jsonb;
    END IF;
END
$$;

-- --warc-dir (docs/warc.md): where each fetch's WARC record is.  warc_file is the absolute
-- path of the file under its final name (*.warc.gz; while the file is still being written,
-- or after a crash, it is on disk as that name + '.part': a reader tries the name, then
-- name.part), warc_offset the byte offset of the record's gzip member in it, warc_length the
-- member's compressed length, warc_type 'response' or 'revisit'; all NULL when no record was
-- written (no --warc-dir, no HTTP answer).  The request record follows the response's member
-- and is not pointed to.  Nullable columns without a default: adding them rewrites nothing;
-- added only when missing (ALTER TABLE locks fetches even when the columns exist, and runs
-- of other islands write to it).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_attribute
                   WHERE attrelid = 'fetches'::regclass AND attname = 'warc_type'
                     AND NOT attisdropped) THEN
        ALTER TABLE fetches ADD COLUMN IF NOT EXISTS warc_file text,
            ADD COLUMN IF NOT EXISTS warc_offset bigint,
            ADD COLUMN IF NOT EXISTS warc_length bigint,
            ADD COLUMN IF NOT EXISTS warc_type text;
    END IF;
END
$$;

-- host_outages: hosts of a job whose robots.txt got no answer (refused, timed out, 5xx)
-- --max-attempts times in a run, one row per (job, host): when the first such run saw it,
-- in how many runs (a run counts once: last_run_id), the last error and when.  Each run makes
-- their queued URLs due, so every run tries them again; after --host-down-runs runs and
-- --host-down-after since `since` their queued URLs become 'failed' ("host unreachable in N
-- runs since ...").  A robots.txt answered below 500 deletes the row (coordinator/outages.c).
CREATE TABLE IF NOT EXISTS host_outages (
    job_id      bigint NOT NULL REFERENCES jobs (id),
    host        text NOT NULL,
    since       timestamptz NOT NULL,
    runs        integer NOT NULL,
    last_run_id bigint,
    last_error  text,
    last_at     timestamptz NOT NULL,
    PRIMARY KEY (job_id, host)
);

-- scrape reextract (docs/reextract.md).  runs.kind: 'crawl', or 'reextract' for a run that
-- re-ran the parsers over stored pages without fetching.  records.reextract_run: the
-- reextract run that stored the record (NULL: stored with its fetch by a crawl).
-- reextract_pages: one row per page (fetch) done by a reextract, per reextract key (rkey: the
-- parsers, the rules text and the version, hashed), with the number of records it gave; it
-- commits with the page's records, so a reextract resumed with the same key skips it.
-- (columns added only when missing: ALTER TABLE locks the table even when the column exists)
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_attribute
                   WHERE attrelid = 'runs'::regclass AND attname = 'kind'
                     AND NOT attisdropped) THEN
        ALTER TABLE runs ADD COLUMN kind text NOT NULL DEFAULT 'crawl';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_attribute
                   WHERE attrelid = 'records'::regclass AND attname = 'reextract_run'
                     AND NOT attisdropped) THEN
        ALTER TABLE records ADD COLUMN reextract_run bigint;
    END IF;
END
$$;
CREATE TABLE IF NOT EXISTS reextract_pages (
    fetch_id   bigint NOT NULL REFERENCES fetches (id) ON DELETE CASCADE,
    rkey       text NOT NULL,
    run_id     bigint NOT NULL,
    records    integer NOT NULL,
    error      text,
    done_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (fetch_id, rkey)
);
CREATE INDEX IF NOT EXISTS reextract_pages_run ON reextract_pages (run_id);
-- fetches_warc_record: a WARC record's fetch row by file and offset (reextract --warc finds the
-- rows it made for a file read before; without it each record would scan the job's fetches).
CREATE INDEX IF NOT EXISTS fetches_warc_record ON fetches (warc_file, warc_offset)
    WHERE warc_file IS NOT NULL;

UPDATE scrape_meta SET value = '3' WHERE key = 'schema_version' AND value::int < 3;
