#!/usr/bin/env bash
# box-start.sh BOXD DATA: run boxd in dev mode for the bench with the
# certificate Prosody and ejabberd serve ($CERT_DIR, from servers.sh), so
# that all three pay the same TLS handshake. BOX_OWN_CERT=1 keeps the box's
# own self-signed ECDSA P-256 certificate instead.
set -euo pipefail
boxd=$1 data=$2
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$data"
if [ "${BOX_OWN_CERT:-0}" = 1 ]; then
	exec "$boxd" -dev -data "$data" -config "$here/box-config.json"
fi
: "${CERT_DIR:?CERT_DIR is not set (run through bench.sh)}"
# The config names files inside the data directory.
cp "$CERT_DIR/localhost.crt" "$data/bench.crt"
cp "$CERT_DIR/localhost.key" "$data/bench.key"
conf=$data/bench-config.json
sed 's|^{|{\n  "tls": {"cert_file": "bench.crt", "key_file": "bench.key"},|' "$here/box-config.json" >"$conf"
exec "$boxd" -dev -data "$data" -config "$conf"
