-- scrape database schema.  The single source of truth: `scrape init-db` applies it, and a
-- run applies it to an empty database.  Every statement is idempotent, so applying it twice
-- changes nothing.  The binary refuses a database whose schema_version differs from its own.
-- Columns and states are documented in docs/schema.md.

CREATE TABLE IF NOT EXISTS scrape_meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);
INSERT INTO scrape_meta (key, value) VALUES ('schema_version', '1')
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
    job_id        bigint NOT NULL REFERENCES jobs (id),
    run_id        bigint NOT NULL REFERENCES runs (id),
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
    url_id      bigint NOT NULL REFERENCES urls (id),
    job_id      bigint NOT NULL REFERENCES jobs (id),
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
