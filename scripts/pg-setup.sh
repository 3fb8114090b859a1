#!/bin/sh
# pg-setup.sh - prepares a PostgreSQL server for scrape (docs/cluster.md, section 15): the
# crawl's login role, its database, listen_addresses, a pg_hba.conf line for the node that
# runs rank 0, and optionally a read-only role for analysts.  Run it on the database host, as
# root (psql then runs as the `postgres` system user) or with PGHOST/PGPORT/PGUSER naming a
# superuser connection.  Idempotent: a second run changes nothing that the first did.
#
#   scripts/pg-setup.sh --allow 192.168.1.10 [--role crawler] [--db crawl]
#                       [--password-file FILE] [--listen ADDRS] [--reader analyst]
#                       [--restart CMD]
#
#   --role NAME         the crawl's login role (default crawler); created if missing
#   --db NAME           its database (default crawl), owned by the role; created if missing
#   --password-file F   set the role's password from the file's first line (the password is
#                       never on a command line); without it the role keeps what it has
#                       (none: peer or certificate authentication, see docs/cluster.md)
#   --listen ADDRS      listen_addresses, by ALTER SYSTEM (default '*'); a change needs a
#                       restart: --restart CMD runs it, else the command is printed
#   --allow ADDR        the address (or CIDR) of the node that runs rank 0; adds
#                       `host DB ROLE ADDR METHOD` to pg_hba.conf unless already there, then
#                       reloads.  Repeat for several addresses.  A bare IPv4 address gets /32,
#                       a bare IPv6 one /128.
#   --method M          the pg_hba.conf method of those lines (default scram-sha-256)
#   --reader NAME       also create this login role (no password) so that `scrape init-db
#                       --reader NAME`, run by the crawl's role, can grant it read access: that
#                       role itself needs no CREATEROLE then
#   --restart CMD       run CMD (with sh -c) when listen_addresses changed
#
# Exit 0 when done, 2 on a usage error, 1 when a step failed (its message is printed).
set -eu

role=crawler db=crawl pwfile= listen='*' method=scram-sha-256 reader= restart= allow=
usage() { sed -n '8,10s/^#//p' "$0" >&2; exit 2; }
while [ $# -gt 0 ]; do
    case "$1" in
    --role) role=${2:?}; shift 2 ;;
    --db) db=${2:?}; shift 2 ;;
    --password-file) pwfile=${2:?}; shift 2 ;;
    --listen) listen=${2:?}; shift 2 ;;
    --allow) allow="$allow ${2:?}"; shift 2 ;;
    --method) method=${2:?}; shift 2 ;;
    --reader) reader=${2:?}; shift 2 ;;
    --restart) restart=${2:?}; shift 2 ;;
    -h|--help) sed -n '2,29s/^# \{0,1\}//p' "$0"; exit 0 ;;
    *) echo "pg-setup.sh: unknown argument $1" >&2; usage ;;
    esac
done
[ -n "$allow" ] || { echo "pg-setup.sh: --allow ADDR (rank 0's node) is required" >&2; usage; }
if [ -n "$pwfile" ] && [ ! -r "$pwfile" ]; then
    echo "pg-setup.sh: cannot read $pwfile" >&2; exit 2
fi

# psql as the superuser: the environment's connection, else (as root) the postgres user.
sql() {
    if [ "$(id -u)" = 0 ] && [ -z "${PGUSER:-}" ]; then
        runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -At "$@"
    else
        psql -X -q -v ON_ERROR_STOP=1 -At "$@"
    fi
}

# 1. The role and its password (from the environment into psql: never on a command line).
PGSETUP_PASSWORD=
[ -z "$pwfile" ] || PGSETUP_PASSWORD=$(head -n 1 "$pwfile")
export PGSETUP_PASSWORD
sql -d postgres -v role="$role" -v setpw="$([ -n "$pwfile" ] && echo 1 || echo 0)" <<'EOF'
SELECT format('CREATE ROLE %I LOGIN', :'role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'role') \gexec
\if :setpw
\getenv pw PGSETUP_PASSWORD
ALTER ROLE :"role" PASSWORD :'pw';
\endif
EOF
unset PGSETUP_PASSWORD
echo "role $role: ready$([ -n "$pwfile" ] && echo ", password set from $pwfile")"

# 2. The database, owned by the role (scrape init-db creates the tables in it).
sql -d postgres -v role="$role" -v db="$db" <<'EOF'
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
EOF
echo "database $db: ready, owned by $role"

# 3. The reader role, created here so the crawl's role needs no CREATEROLE.
if [ -n "$reader" ]; then
    sql -d postgres -v reader="$reader" <<'EOF'
SELECT format('CREATE ROLE %I LOGIN', :'reader')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'reader') \gexec
EOF
    echo "role $reader: ready; grant it read access with: scrape init-db --db ... --reader $reader"
fi

# 4. pg_hba.conf: one line per address of rank 0's node, appended (the first matching line
#    wins: an earlier `reject` or other method for the same address would still apply), then
#    a reload, and the server's own reading of the file is checked.
hba=$(sql -d postgres -c 'SHOW hba_file')
for a in $allow; do
    case "$a" in
    */*) cidr=$a ;;
    *:*) cidr=$a/128 ;;
    *) cidr=$a/32 ;;
    esac
    line="host    $db    $role    $cidr    $method"
    if grep -Eq "^[[:space:]]*host[[:space:]]+$db[[:space:]]+$role[[:space:]]+$cidr[[:space:]]+$method[[:space:]]*$" "$hba"; then
        echo "pg_hba.conf: already has: $line"
    else
        printf '# added by scrape scripts/pg-setup.sh\n%s\n' "$line" >>"$hba"
        echo "pg_hba.conf ($hba): added: $line"
    fi
done
sql -d postgres -c 'SELECT pg_reload_conf()' >/dev/null
# pg_hba_file_rules shows a line the server could not read (a typo, an unknown method)
bad=$(sql -d postgres -c "SELECT line_number || ': ' || error FROM pg_hba_file_rules WHERE error IS NOT NULL")
if [ -n "$bad" ]; then
    echo "pg-setup.sh: $hba has errors the server ignores:" >&2
    echo "$bad" >&2
    exit 1
fi

# 5. listen_addresses (takes effect at the next restart).
sql -d postgres -v listen="$listen" <<'EOF'
SELECT format('ALTER SYSTEM SET listen_addresses = %L', :'listen')
 WHERE current_setting('listen_addresses') <> :'listen'
    OR (SELECT pending_restart FROM pg_settings WHERE name = 'listen_addresses') \gexec
SELECT pg_reload_conf() \g /dev/null
EOF
pending=$(sql -d postgres -c "SELECT pending_restart FROM pg_settings WHERE name = 'listen_addresses'")
if [ "$pending" = t ]; then
    if [ -n "$restart" ]; then
        echo "listen_addresses = '$listen': restarting with: $restart"
        sh -c "$restart"
    else
        echo "listen_addresses = '$listen' is set; it takes effect after a restart:"
        echo "  sudo systemctl restart postgresql"
    fi
else
    echo "listen_addresses = '$listen': in effect"
fi
