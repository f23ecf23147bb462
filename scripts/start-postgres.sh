#!/bin/sh
# Starts a PostgreSQL server for gradebooks (installing PostgreSQL from Debian packages when it
# is missing and this runs as root) and prints the SQLAlchemy URL of its `gradebook` database on
# stdout; prints nothing (and exits 0) when it cannot.
#   url=$(sh scripts/start-postgres.sh) && export AUTOGRADER_TEST_POSTGRES="$url"
#   sh scripts/start-postgres.sh stop        # stops it (the data stays)
#
# The server may hold real gradebooks, so this script never deletes data: it creates a data
# folder only where none exists, starts the server on an existing one, and refuses a folder that
# is not a PostgreSQL data folder. The data lives where it survives a reboot:
#   AUTOGRADER_PG_DATA (or PGDATA_FOR_TESTS), else /var/lib/autograder/postgres as root,
#   else ${XDG_DATA_HOME:-~/.local/share}/autograder/postgres.
# Port: AUTOGRADER_PG_PORT (or PGPORT_FOR_TESTS), default 55432, on 127.0.0.1 and a socket in
# the data folder. When another server already answers on that port, its URL is printed as is.
# Tests never use the `gradebook` database itself: each creates and drops a database of its own.
set -u
PORT="${AUTOGRADER_PG_PORT:-${PGPORT_FOR_TESTS:-55432}}"
if [ "$(id -u)" = "0" ]; then
    DEFAULT_DATA=/var/lib/autograder/postgres
else
    DEFAULT_DATA="${XDG_DATA_HOME:-$HOME/.local/share}/autograder/postgres"
fi
DATA="${AUTOGRADER_PG_DATA:-${PGDATA_FOR_TESTS:-$DEFAULT_DATA}}"
URL="postgresql://postgres@127.0.0.1:$PORT/gradebook"
log() { echo "$@" >&2; }

find_bin() {
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
    done
    return 1
}

RUN_AS=""
if [ "$(id -u)" = "0" ]; then
    RUN_AS="runuser -u postgres --"
fi

BIN=$(find_bin)
if [ "${1:-}" = "stop" ]; then
    [ -n "$BIN" ] || { log "PostgreSQL is not installed"; exit 0; }
    $RUN_AS "$BIN/pg_ctl" -D "$DATA" -m fast -w stop >&2
    exit $?
fi

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

if ! $RUN_AS "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
    if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT" 2>/dev/null; then
        log "a PostgreSQL server already answers on port $PORT; using it (its data folder is not $DATA)"
    else
        if [ -d "$DATA" ] && [ -n "$(ls -A "$DATA" 2>/dev/null)" ] && [ ! -f "$DATA/PG_VERSION" ]; then
            log "$DATA is not empty and is not a PostgreSQL data folder; refusing to touch it (set AUTOGRADER_PG_DATA)"
            exit 0
        fi
        if [ ! -f "$DATA/PG_VERSION" ]; then
            mkdir -p "$DATA" || { log "cannot create $DATA"; exit 0; }
            chmod 700 "$DATA"
            [ -n "$RUN_AS" ] && chown postgres "$DATA"
            $RUN_AS "$BIN/initdb" -D "$DATA" -U postgres --auth=trust >/dev/null 2>&1 || { log "initdb failed in $DATA"; exit 0; }
        fi
        $RUN_AS "$BIN/pg_ctl" -D "$DATA" -l "$DATA/server.log" -o "-p $PORT -k $DATA -c listen_addresses=127.0.0.1" \
            -w start >/dev/null 2>&1 || { log "PostgreSQL did not start; see $DATA/server.log"; exit 0; }
    fi
fi
$RUN_AS "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'gradebook'" \
    | grep -q 1 || $RUN_AS "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres gradebook
echo "$URL"
