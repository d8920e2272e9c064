-- Prosody 0.12 config for the xmppload bench (loopback only), after the
-- anchors recipe. BENCH_PROSODY_DIR and BENCH_PROSODY_PORT come from bench.sh.
local dir = os.getenv("BENCH_PROSODY_DIR") or "/tmp/xmppbench/prosody"
local port = tonumber(os.getenv("BENCH_PROSODY_PORT") or "15322")
data_path = dir .. "/data"
pidfile = dir .. "/prosody.lua.pid"
run_as_root = false
network_backend = "epoll"
-- Nagle off (ejabberd and Go servers set TCP_NODELAY too); with it on, every
-- login stalls ~40 ms on a delayed ACK after STARTTLS.
network_settings = { nagle = false; tcp_backlog = 1024 }
interfaces = { "127.0.0.1" }
local_interfaces = { "127.0.0.1" }
c2s_ports = { port }
c2s_direct_tls_ports = { }
c2s_require_encryption = true
allow_registration = false
authentication = "internal_hashed"
storage = "internal"
admins = { }
-- offline is auto-loaded by Prosody; carbons and blocklist are not.
modules_enabled = {
	"roster"; "saslauth"; "tls"; "disco"; "carbons"; "private";
	"blocklist"; "vcard"; "version"; "uptime"; "time"; "ping";
}
-- no s2s, no bosh/websocket/http, no bandwidth limits (mod_limits not loaded)
modules_disabled = { "s2s"; "dialback" }
log = { { levels = { min = "warn" }, to = "file", filename = dir .. "/prosody.log" } }
certificates = dir
ssl = {
	certificate = dir .. "/localhost.crt";
	key = dir .. "/localhost.key";
}
VirtualHost "localhost"
