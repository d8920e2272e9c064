#!/usr/bin/env bash
# box-users.sh BOXCTL DATA N: make user1..userN (password "pass") on a running
# boxd; accounts that already exist are kept.
set -euo pipefail
boxctl=$1 data=$2 n=$3
for i in $(seq 1 "$n"); do
	if ! out=$(echo pass | "$boxctl" -data "$data" user add "user$i@localhost" 2>&1); then
		case $out in
		*exists*) ;;
		*) echo "$out" >&2; exit 1 ;;
		esac
	fi
done
