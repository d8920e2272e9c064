# Server slots for bench.sh (sourced, not run). Each server NAME has
#   NAME_setup N   create config, certificate and accounts user1..userN
#                  (password "pass"); kept under $BENCH_DIR/NAME between runs
#   NAME_start     start it; sets SERVER_PID (the process whose RSS/CPU count)
#   NAME_stop      stop it
#   NAME_addr, NAME_domain   where xmppload connects
# Prosody and ejabberd follow the anchors recipe (shared/anchors/README.md):
# Debian packages, loopback, STARTTLS required, SCRAM stored, Nagle off,
# no shaper, big listen backlog, bulk registration.

BENCH_DIR=${BENCH_DIR:-/tmp/xmppbench}
HERE=${HERE:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
PROSODY_PORT=${PROSODY_PORT:-15322}
EJABBERD_PORT=${EJABBERD_PORT:-25322}
EJABBERD_DIST_PORT=${EJABBERD_DIST_PORT:-25399}
EJABBERD_NODE=${EJABBERD_NODE:-xmppbench}
# RSA-2048 like the anchors' table; CERT_KEY=ec for ECDSA P-256.
CERT_KEY=${CERT_KEY:-rsa}

raise_nofile() { ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"; }

port_free() { # addr
	if ss -ltn | grep -q " $1 "; then
		echo "bench: $1 is already in use; stop what listens there first" >&2
		return 1
	fi
}

wait_port() { # addr seconds
	local i
	for i in $(seq 1 $(($2 * 5))); do
		ss -ltn | grep -q " $1 " && return 0
		sleep 0.2
	done
	echo "bench: nothing listens on $1 after $2 s" >&2
	return 1
}

# bench_cert makes (once) the self-signed localhost certificate of kind
# $CERT_KEY in $CERT_DIR; every server's setup copies it from there.
CERT_DIR=$BENCH_DIR/cert-$CERT_KEY
bench_cert() {
	mkdir -p "$CERT_DIR"
	[ -f "$CERT_DIR/localhost.key" ] && return 0
	local newkey
	case $CERT_KEY in
	rsa) newkey="rsa:2048" ;;
	ec)
		openssl ecparam -name prime256v1 -out "$CERT_DIR/ec.param"
		newkey="ec:$CERT_DIR/ec.param"
		;;
	*) echo "bench: CERT_KEY must be rsa or ec" >&2; return 1 ;;
	esac
	openssl req -x509 -newkey "$newkey" -nodes -days 3650 -subj "/CN=localhost" \
		-addext "subjectAltName=DNS:localhost" -keyout "$CERT_DIR/localhost.key" \
		-out "$CERT_DIR/localhost.crt" 2>/dev/null
}

# ---- Prosody 0.12 ----
prosody_addr() { echo "127.0.0.1:$PROSODY_PORT"; }
prosody_domain() { echo localhost; }

prosody_setup() {
	local n=$1 d=$BENCH_DIR/prosody
	bench_cert
	mkdir -p "$d/data"
	cp "$HERE/prosody.cfg.lua" "$CERT_DIR/localhost.crt" "$CERT_DIR/localhost.key" "$d/"
	chown -R prosody:prosody "$d"
	chmod 640 "$d/localhost.key"
	local have=0
	[ -f "$d/users" ] && have=$(cat "$d/users")
	if [ "$have" -lt "$n" ]; then
		echo "bench: prosody: registering user$((have + 1))..user$n" >&2
		# One prosodyctl register (10000 PBKDF2 rounds, ~0.1 s), then copies
		# of its account file: every account has the password "pass", and a
		# shared salt changes nothing the server does at login.
		local acc=$d/data/localhost/accounts
		[ -f "$acc/user1.dat" ] || setpriv --reuid=prosody --regid=prosody --init-groups \
			env BENCH_PROSODY_DIR="$d" BENCH_PROSODY_PORT="$PROSODY_PORT" prosodyctl --config "$d/prosody.cfg.lua" register user1 localhost pass
		local i tmpl
		tmpl=$(<"$acc/user1.dat")
		for i in $(seq $((have + 1)) "$n"); do
			[ "$i" = 1 ] || printf '%s\n' "$tmpl" >"$acc/user$i.dat"
		done
		chown -R prosody:prosody "$d/data"
		echo "$n" >"$d/users"
		rm -f "$BENCH_DIR/prosody.warmed"
	fi
}

prosody_start() {
	local d=$BENCH_DIR/prosody
	port_free "$(prosody_addr)" || return 1
	raise_nofile
	(cd "$d" && exec setpriv --reuid=prosody --regid=prosody --init-groups \
		env BENCH_PROSODY_DIR="$d" BENCH_PROSODY_PORT="$PROSODY_PORT" prosody --config "$d/prosody.cfg.lua" -F >>"$d/stdout.log" 2>&1) &
	SERVER_PID=$!
	echo "$SERVER_PID" >"$d/prosody.pid"
	wait_port "$(prosody_addr)" 10
}

prosody_stop() {
	local d=$BENCH_DIR/prosody p i
	p=$(cat "$d/prosody.pid" 2>/dev/null) || return 0
	kill "$p" 2>/dev/null || return 0
	for i in $(seq 1 100); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
	kill -9 "$p"
}

# ---- ejabberd 23.01 ----
ejabberd_addr() { echo "127.0.0.1:$EJABBERD_PORT"; }
ejabberd_domain() { echo localhost; }

ejabberd_ctl() {
	local d=$BENCH_DIR/ejabberd
	# As user ejabberd directly: run as root, ejabberdctl drops privileges
	# with su, whose pam_limits resets the open-files limit to 1024.
	setpriv --reuid=ejabberd --regid=ejabberd --init-groups env HOME=/var/lib/ejabberd \
		ejabberdctl --config-dir "$d" --spool "$d/spool" --logs "$d/logs" "$@"
}

ejabberd_setup() {
	local n=$1 d=$BENCH_DIR/ejabberd
	bench_cert
	mkdir -p "$d/spool" "$d/logs"
	sed -e "s|@DIR@|$d|g" -e "s|@PORT@|$EJABBERD_PORT|g" "$HERE/ejabberd.yml" >"$d/ejabberd.yml"
	sed -e "s|@DIR@|$d|g" -e "s|@NODE@|$EJABBERD_NODE|g" -e "s|@DISTPORT@|$EJABBERD_DIST_PORT|g" \
		"$HERE/ejabberdctl.cfg" >"$d/ejabberdctl.cfg"
	cp /etc/ejabberd/inetrc "$d/"
	cat "$CERT_DIR/localhost.key" "$CERT_DIR/localhost.crt" >"$d/localhost.pem"
	chown -R ejabberd:ejabberd "$d"
	chmod 600 "$d/localhost.pem"
	local have=0
	[ -f "$d/users" ] && have=$(cat "$d/users")
	if [ "$have" -lt "$n" ]; then
		echo "bench: ejabberd: registering user$((have + 1))..user$n" >&2
		ejabberd_start
		# One Erlang VM calling what `ejabberdctl register` calls: one VM
		# per user costs 0.35 s each.
		(cd /tmp && setpriv --reuid=ejabberd --regid=ejabberd --init-groups env HOME=/var/lib/ejabberd \
			erl -sname "bulkreg$$@localhost" -hidden -noinput -erl_epmd_port "$EJABBERD_DIST_PORT" \
			-start_epmd false -dist_listen false -eval "
			R = [rpc:call('$EJABBERD_NODE@localhost', ejabberd_auth, try_register,
				[list_to_binary(\"user\" ++ integer_to_list(I)), <<\"localhost\">>, <<\"pass\">>])
				|| I <- lists:seq($((have + 1)), $n)],
			Bad = [X || X <- R, X =/= ok, X =/= {error, exists}],
			io:format(\"bench: ejabberd: registered ~p, failed ~p~n\", [length(R) - length(Bad), length(Bad)]),
			case Bad of [] -> halt(0); [B | _] -> io:format(\"~p~n\", [B]), halt(1) end.")
		ejabberd_stop
		echo "$n" >"$d/users"
		rm -f "$BENCH_DIR/ejabberd.warmed"
	fi
}

ejabberd_start() {
	local d=$BENCH_DIR/ejabberd
	port_free "$(ejabberd_addr)" || return 1
	raise_nofile
	ejabberd_ctl start
	ejabberd_ctl started # polls until the node answers (max 60 s)
	wait_port "$(ejabberd_addr)" 10
	SERVER_PID=$(cat "$d/ejabberd.pid")
}

ejabberd_stop() {
	local d=$BENCH_DIR/ejabberd p i
	p=$(cat "$d/ejabberd.pid" 2>/dev/null) || return 0
	kill -0 "$p" 2>/dev/null || return 0
	timeout 30 ejabberd_ctl stop >/dev/null 2>&1 || kill "$p"
	for i in $(seq 1 200); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
	kill -9 "$p"
}

# ---- the box ----
# BOX_START   command running boxd in the foreground (run with exec, so its
#             PID is the server's), e.g. "boxd -dev -data $BENCH_DIR/box"
# BOX_USERS   command creating user1..user$1 with password "pass" on domain
#             BOX_DOMAIN, run while boxd is stopped (BOX_USERS_LIVE=1: running)
# BOX_ADDR    c2s STARTTLS address (default 127.0.0.1:5222)
# BOX_DOMAIN  XMPP domain (default localhost)
box_addr() { echo "${BOX_ADDR:-127.0.0.1:5222}"; }
box_domain() { echo "${BOX_DOMAIN:-localhost}"; }

box_setup() {
	local n=$1 d=$BENCH_DIR/box
	[ -n "${BOX_START:-}" ] || { echo "bench: BOX_START is not set" >&2; return 1; }
	[ -n "${BOX_USERS:-}" ] || { echo "bench: BOX_USERS is not set" >&2; return 1; }
	mkdir -p "$d"
	bench_cert # box-start.sh gives boxd the same certificate
	local have=0
	[ -f "$d/users" ] && have=$(cat "$d/users")
	if [ "$have" -lt "$n" ]; then
		echo "bench: box: creating accounts user1..user$n" >&2
		if [ "${BOX_USERS_LIVE:-0}" = 1 ]; then
			box_start && bash -c "$BOX_USERS" box-users "$n"
			local rc=$?
			box_stop
			[ $rc = 0 ] || return $rc
		else
			bash -c "$BOX_USERS" box-users "$n" || return 1
		fi
		echo "$n" >"$d/users"
		rm -f "$BENCH_DIR/box.warmed"
	fi
}

box_start() {
	local d=$BENCH_DIR/box
	port_free "$(box_addr)" || return 1
	raise_nofile
	bash -c "exec $BOX_START" >>"$d/stdout.log" 2>&1 &
	SERVER_PID=$!
	echo "$SERVER_PID" >"$d/box.pid"
	wait_port "$(box_addr)" 30
}

box_stop() {
	local d=$BENCH_DIR/box p i
	p=$(cat "$d/box.pid" 2>/dev/null) || return 0
	kill "$p" 2>/dev/null || return 0
	for i in $(seq 1 100); do kill -0 "$p" 2>/dev/null || return 0; sleep 0.1; done
	kill -9 "$p"
}
