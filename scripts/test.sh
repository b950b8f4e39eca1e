#!/usr/bin/env bash
# Runs something against a test PostgreSQL server, finding or starting one:
#
#   scripts/test.sh test          go test -race over every package (make test)
#   scripts/test.sh fuzz [TIME]   every Fuzz* target for TIME each (make fuzz)
#   scripts/test.sh run CMD...    any command (make bench)
#
# The server: TEST_DATABASE_URL when set; else the local one on
# 127.0.0.1:5432 when it answers (user postgres, trust auth); else a private
# cluster under .data/testdb started with `accute devdb start` and stopped at
# the end, whatever the outcome (TEST_PRIVATE_DB=1 skips the local server).
# TEST_DATABASE_URL and ACCUTE_CHROMIUM are exported to the command.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOTOOLCHAIN="${GOTOOLCHAIN:-go1.26.11}"

mode="${1:-test}"
[ $# -gt 0 ] && shift

LOCAL_URL="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
TESTDB_DIR=".data/testdb"
started=

find_pg_tool() {
	if command -v "$1" >/dev/null 2>&1; then command -v "$1"; return; fi
	local f
	for f in /usr/lib/postgresql/*/bin/"$1"; do [ -x "$f" ] && { echo "$f"; return; }; done
	return 1
}

local_server_usable() {
	local isready psql
	isready=$(find_pg_tool pg_isready) || return 1
	"$isready" -q -h 127.0.0.1 -p 5432 -t 2 || return 1
	# Answering is not enough: it must let us in (a freshly installed Debian
	# cluster asks for a password).
	if psql=$(find_pg_tool psql); then
		PGCONNECT_TIMEOUT=5 "$psql" -X -q -At -d "$LOCAL_URL" -c 'SELECT 1' >/dev/null 2>&1 || return 1
	fi
}

stop_private() {
	if [ -n "$started" ]; then
		echo "==> stopping the private test PostgreSQL ($TESTDB_DIR)"
		go run . devdb stop "$TESTDB_DIR" || echo "warning: could not stop the test database in $TESTDB_DIR" >&2
	fi
}
trap stop_private EXIT
trap 'exit 130' INT TERM

if [ -n "${TEST_DATABASE_URL:-}" ]; then
	echo "==> test database: TEST_DATABASE_URL"
elif [ "${TEST_PRIVATE_DB:-}" != 1 ] && local_server_usable; then
	export TEST_DATABASE_URL="$LOCAL_URL"
	echo "==> test database: the local PostgreSQL at 127.0.0.1:5432"
else
	echo "==> test database: starting a private PostgreSQL under $TESTDB_DIR"
	out=$(go run . devdb start "$TESTDB_DIR" --fast)
	started=1
	TEST_DATABASE_URL=$(printf '%s\n' "$out" | tail -n 1)
	export TEST_DATABASE_URL
	case "$TEST_DATABASE_URL" in
	postgres://* | postgresql://*) ;;
	*) echo "devdb start did not print a database URL as its last line:" >&2; printf '%s\n' "$out" >&2; exit 1 ;;
	esac
fi

if [ -z "${ACCUTE_CHROMIUM:-}" ]; then
	ACCUTE_CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
fi
export ACCUTE_CHROMIUM

case "$mode" in
test)
	mkdir -p .data
	log=.data/go-test.log
	echo "==> go test -race -count=1 -timeout 14m ./..."
	set +e
	go test -race -count=1 -timeout 14m "$@" ./... 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	set -e
	ok=$(grep -c '^ok ' "$log" || true)
	failed=$(grep -cE '^FAIL\s+\S' "$log" || true)
	notests=$(grep -c '^?.*\[no test files\]' "$log" || true)
	echo
	echo "==> go test summary: $ok packages passed, $failed failed, $notests without tests (full log: $log)"
	grep -E '^(ok|FAIL)\s' "$log" || true
	exit "$rc"
	;;
fuzz)
	fuzztime="${1:-30s}"
	rc=0
	found=0
	while IFS= read -r file; do
		dir=$(dirname "$file")
		for name in $(grep -oE '^func (Fuzz[A-Za-z0-9_]*)\(' "$file" | sed -E 's/^func (Fuzz[A-Za-z0-9_]*)\(/\1/'); do
			found=$((found + 1))
			echo "==> fuzz ./$dir $name ($fuzztime)"
			go test -run '^$' -fuzz "^${name}\$" -fuzztime "$fuzztime" "./$dir" || rc=1
		done
	done < <(git ls-files -co --exclude-standard -- '*_test.go' | sort)
	[ "$found" -gt 0 ] || echo "no Fuzz* targets found"
	exit "$rc"
	;;
run)
	[ $# -gt 0 ] || { echo "usage: scripts/test.sh run CMD..." >&2; exit 2; }
	set +e
	"$@"
	rc=$?
	set -e
	exit "$rc"
	;;
*)
	echo "usage: scripts/test.sh [test|fuzz [TIME]|run CMD...]" >&2
	exit 2
	;;
esac
