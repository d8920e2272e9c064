#!/bin/bash
# Side-by-side XMPP bench: the same xmppload runs against each server on
# loopback, then one table with ratios (Box/Prosody, Box/ejabberd).
#
# Usage: bench.sh [quick|full]   full: ~8 min for 3 servers on a busy 2-core
#                                machine (REPEAT=3: medians of 3, ~20 min);
#                                quick: ~3 min. First run adds account setup.
# Env:   SERVERS="box prosody ejabberd" (default: box only when BOX_START is set)
#        XMPPLOAD=path to the xmppload binary (default: go build)
#        REPEAT=n runs per case, the report shows the median (default 1)
#        BENCH_DIR=/tmp/xmppbench (accounts and SCRAM caches are kept there)
#        BOX_START, BOX_USERS, BOX_ADDR, BOX_DOMAIN: see servers.sh
#        CERT_KEY=rsa|ec the certificate all servers serve (default rsa);
#        BOX_OWN_CERT=1 (with make bench's box-start.sh): the box serves
#        its own self-signed ECDSA P-256 certificate instead
# Every server is restarted before each case (Prosody's CPU per login grows
# over many login rounds on one instance).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/servers.sh"

MODE=${1:-full}
case $MODE in
full)
	USERS=5000 HOLD_STEPS=1000,5000 LOGIN_N=2000 LOGIN_RATE=2000
	MSG_CLIENTS=500 MSG_RATES="5 20" MSG_DURATION=15s REPEAT=${REPEAT:-1}
	;;
quick)
	USERS=600 HOLD_STEPS=100,500 LOGIN_N=300 LOGIN_RATE=300
	MSG_CLIENTS=100 MSG_RATES="5 20" MSG_DURATION=5s REPEAT=${REPEAT:-1}
	;;
*) echo "usage: bench.sh [quick|full]" >&2; exit 2 ;;
esac
if [ -z "${SERVERS:-}" ]; then
	SERVERS="prosody ejabberd"
	[ -n "${BOX_START:-}" ] && SERVERS="box $SERVERS"
fi
for s in $SERVERS; do
	case $s in box | prosody | ejabberd) ;; *) echo "bench: unknown server $s" >&2; exit 2 ;; esac
done
if [ -z "${XMPPLOAD:-}" ]; then
	XMPPLOAD=$BENCH_DIR/xmppload
	mkdir -p "$BENCH_DIR"
	(cd "$HERE/../../.." && go build -o "$XMPPLOAD" ./cmd/xmppload)
fi
# BOX_START and BOX_USERS may use these (e.g. to give boxd the same cert).
export BENCH_DIR CERT_DIR CERT_KEY
RESULTS=$BENCH_DIR/results-$(date -u +%Y%m%dT%H%M%SZ)-$MODE
mkdir -p "$RESULTS"
raise_nofile

RUNNING=""
stop_running() {
	if [ -n "$RUNNING" ]; then "${RUNNING}_stop" || true; fi
	RUNNING=""
}
trap stop_running EXIT INT TERM

restart() { # server
	stop_running
	"$1_start" >/dev/null
	RUNNING=$1
	sleep 1 # let it finish starting before sampling idle RSS
}

load() { # server case-tag mode args...
	local s=$1 tag=$2 mode=$3
	shift 3
	echo "== $s: $mode $*" >&2
	"$XMPPLOAD" "$mode" -addr "$("${s}_addr")" -domain "$("${s}_domain")" -pid "$SERVER_PID" \
		-label "$s" -scram-cache "$BENCH_DIR/$s.scram" -json "$RESULTS/$tag-$s.json" "$@" >&2
}

echo "bench: $MODE, servers: $SERVERS, results in $RESULTS" >&2
for s in $SERVERS; do "${s}_setup" "$USERS"; done
# Fill each SCRAM cache once so the tool's PBKDF2 is not in any measurement;
# salts live as long as the accounts, so a later run skips this.
for s in $SERVERS; do
	warmed=0
	[ -f "$BENCH_DIR/$s.warmed" ] && warmed=$(cat "$BENCH_DIR/$s.warmed")
	[ "$warmed" -ge "$USERS" ] && [ -f "$BENCH_DIR/$s.scram" ] && continue
	restart "$s"
	"$XMPPLOAD" warm -addr "$("${s}_addr")" -domain "$("${s}_domain")" -n "$USERS" \
		-scram-cache "$BENCH_DIR/$s.scram" -max-time 10m >&2
	echo "$USERS" >"$BENCH_DIR/$s.warmed"
done
for r in $(seq 1 "$REPEAT"); do
	for s in $SERVERS; do
		restart "$s"; load "$s" "r$r-1hold" hold -steps "$HOLD_STEPS"
		restart "$s"; load "$s" "r$r-2login" login -n "$LOGIN_N" -rate "$LOGIN_RATE"
		for m in $MSG_RATES; do
			restart "$s"
			load "$s" "r$r-3msg$m" msg -clients "$MSG_CLIENTS" -msg-rate "$m" -duration "$MSG_DURATION"
		done
	done
done
stop_running
echo
certs="cert $CERT_KEY"
[ "${BOX_OWN_CERT:-0}" = 1 ] && certs="$certs; box: its own ECDSA P-256"
echo "xmppload bench ($MODE, $REPEAT run(s), median shown; $(nproc) cores, $certs):"
"$XMPPLOAD" report "$RESULTS"
