#!/bin/sh
# Installs PostgreSQL from Debian packages (when missing and allowed) and starts a private server
# for the tests, on a Unix socket and localhost port 55432, in a throwaway data folder.
# Prints the SQLAlchemy URL to use on stdout; prints nothing (and exits 0) when it cannot.
#   url=$(sh scripts/start-postgres.sh) && export AUTOGRADER_TEST_POSTGRES="$url"
set -u
PORT="${PGPORT_FOR_TESTS:-55432}"
DATA="${PGDATA_FOR_TESTS:-/tmp/autograder-pg-data}"
log() { echo "$@" >&2; }

find_bin() {
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
    done
    return 1
}

BIN=$(find_bin)
if [ -z "$BIN" ]; then
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        log "installing PostgreSQL from Debian packages..."
        (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null 2>&1 \
            || { log "could not install PostgreSQL"; exit 0; }
        BIN=$(find_bin) || { log "PostgreSQL installed but initdb not found"; exit 0; }
    else
        log "PostgreSQL is not installed and cannot be installed here; PostgreSQL tests will be skipped"
        exit 0
    fi
fi

RUN_AS=""
if [ "$(id -u)" = "0" ]; then
    RUN_AS="runuser -u postgres --"
fi

if ! $RUN_AS "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    rm -rf "$DATA"
    mkdir -p "$DATA"
    [ -n "$RUN_AS" ] && chown postgres "$DATA"
    $RUN_AS "$BIN/initdb" -D "$DATA" -U postgres --auth=trust >/dev/null 2>&1 || { log "initdb failed"; exit 0; }
    $RUN_AS "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -o "-p $PORT -k $DATA -c listen_addresses=127.0.0.1" \
        -w start >/dev/null 2>&1 || { log "PostgreSQL did not start; see $DATA/server.log"; exit 0; }
fi
$RUN_AS "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'gradebook'" \
    | grep -q 1 || $RUN_AS "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres gradebook
echo "postgresql://postgres@127.0.0.1:$PORT/gradebook"
