#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Regenerates the committed seeds in fuzz/corpus/ (run through
# `tools/fuzz --make-corpus`, which builds fuzz/build/make-corpus and the
# test PKI first):
#   - TLS conversations between gnutls-cli and gnutls-serv on loopback,
#     recorded with gnutls-cli --save-client-trace / --save-server-trace:
#     what the client sent seeds fuzz-handshake-server, what the server
#     sent seeds fuzz-handshake-client;
#   - everything make-corpus.c writes (the engine's own conversations,
#     D-Bus messages as libsspi marshals them, record scripts, configs);
#   - the example configuration.
# Existing files of the same name are replaced; crash-* files stay.
#
# Usage: fuzz/make-corpus.sh BUILDDIR   (SSPID_TEST_PKI set)

set -eu

B=$1
pki=${SSPID_TEST_PKI:?}
out=fuzz/corpus
tmp=$(mktemp -d)
server_pid=
cleanup() {
	[ -z "$server_pid" ] || kill "$server_pid" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

mkdir -p "$out/fuzz-handshake-server" "$out/fuzz-handshake-client" "$out/fuzz-config"

# gnutls-serv on a free loopback port with the given options; sets $port.
start_server() {
	for attempt in 1 2 3 4 5; do
		port=$(( 20000 + $(od -An -N2 -tu2 /dev/urandom) % 30000 ))
		gnutls-serv --port "$port" "$@" >"$tmp/serv.log" 2>&1 &
		server_pid=$!
		for _ in $(seq 50); do
			if grep -q "listening" "$tmp/serv.log" 2>/dev/null; then
				return 0
			fi
			kill -0 "$server_pid" 2>/dev/null || break
			sleep 0.1
		done
		kill "$server_pid" 2>/dev/null || true
		wait "$server_pid" 2>/dev/null || true
		server_pid=
	done
	echo "make-corpus.sh: gnutls-serv did not start:" >&2
	cat "$tmp/serv.log" >&2
	exit 1
}

stop_server() {
	kill "$server_pid" 2>/dev/null || true
	wait "$server_pid" 2>/dev/null || true
	server_pid=
}

# One conversation NAME with gnutls-cli options; records both sides.
trace() {
	name=$1; shift
	gnutls-cli --port "$port" --x509cafile "$pki/ca.pem" \
		--save-client-trace "$tmp/client" --save-server-trace "$tmp/server" \
		"$@" localhost </dev/null >"$tmp/cli.log" 2>&1 || {
		echo "make-corpus.sh: gnutls-cli $name failed:" >&2
		cat "$tmp/cli.log" >&2
		exit 1
	}
	cp "$tmp/client" "$out/fuzz-handshake-server/gnutls-$name"
	cp "$tmp/server" "$out/fuzz-handshake-client/gnutls-$name"
	echo "  fuzz-handshake-{server,client}/gnutls-$name"
}

echo "==> gnutls-cli/gnutls-serv traces"
start_server --x509certfile "$pki/server.pem" --x509keyfile "$pki/server.key"
trace tls13 --alpn h2 --alpn http/1.1
trace tls12 --priority NORMAL:-VERS-TLS1.3
stop_server

start_server --x509certfile "$pki/server.pem" --x509keyfile "$pki/server.key" \
	--x509cafile "$pki/ca.pem" --require-client-cert
trace tls13-client-cert --x509certfile "$pki/client.pem" --x509keyfile "$pki/client.key"
trace tls12-client-cert --x509certfile "$pki/client.pem" --x509keyfile "$pki/client.key" \
	--priority NORMAL:-VERS-TLS1.3
stop_server

start_server --x509certfile "$pki/rsa.pem" --x509keyfile "$pki/rsa.key" \
	--priority NORMAL:+RSA
trace tls12-rsa-kx --priority NORMAL:-VERS-TLS1.3:-KX-ALL:+RSA
stop_server

echo "==> the engine, libsspi and scripts (make-corpus.c)"
"$B/make-corpus" "$out"

cp data/sspid.conf.example "$out/fuzz-config/example"
echo "  fuzz-config/example"
printf "  total: %s bytes\n" "$(find "$out" -type f -exec cat {} + | wc -c)"
