#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# TLS conformance with tlsfuzzer (issue 13): the scripts GnuTLS, OpenSSL and
# NSS run in their CI, against a server written only on the synchronous
# Schannel API over sspid (`sspictl serve`), and the very same scripts, with
# the same seed, against `gnutls-serv` with the same certificates and keys.
# GnuTLS is the reference: a probe that fails against sspid but passes
# against gnutls-serv is sspid's bug, and fails this test unless
# tests/tlsfuzzer-xfail.txt lists it (with the reason; that list is meant to
# shrink to nothing).  A probe that fails against both is how GnuTLS (or
# tlsfuzzer's expectation) is, and only counted.  An entry of the list whose
# probes ran and no longer fail only against sspid is reported as stale
# (remove it); SSPID_TLSFUZZER_STRICT=1 makes that a failure too.
#
# Servers (each an sspid `sspictl serve` and a gnutls-serv on its own port;
# one private dbus-daemon with the project's bus policy, one sspid):
#   http     RSA 2048 credential, --http         gnutls-serv --http -a
#   echo     RSA, --echo                         gnutls-serv --echo -a
#   alpn     RSA, --http, ALPN http/1.1, http/2  gnutls-serv ... --alpn-fatal
#   certreq  RSA credential with client-auth=request and the test CA as
#            trust, --http                       gnutls-serv --http (asks)
#   ecdsa    ECDSA P-256 credential, --http      gnutls-serv --http -a
# gnutls-serv gets the priority sspid builds for a default credential
# (NORMAL, TLS 1.3 and 1.2 only), so both offer the same.
#
# The tlsfuzzer kit (tlsfuzzer, tlslite-ng, python-ecdsa) is not part of
# sspid: it is found at $SSPID_TLSFUZZER or $(top_srcdir)/../shared/tlsfuzzer,
# and the test is skipped (77) without it.
#
# Scripts with many probes run a sample in `make check` (`-n`, the same
# sample for both servers: SSPID_TLSFUZZER_SEED, default 1: a sample without the
# 16 MiB Finished messages of test-tls13-finished.py, which take minutes).  The full run,
# every probe of every script:
#
#     make check TESTS=tests/test-tlsfuzzer.sh SSPID_TLSFUZZER_FULL=1
#
# SSPID_TLSFUZZER_ONLY="label ..." runs only those rows of the table below;
# SSPID_TEST_KEEP=1 keeps the scratch directory (every script's output
# against both servers, the servers' and sspid's logs, and sspid-only.txt:
# every sspid-only failure in tests/tlsfuzzer-xfail.txt's format).
#
# Run by `make check` with the build's directories in the environment
# (tests/Makefile.inc: SSPID_SH_TEST_ENV).

set -u

skip() {
	echo "SKIP: $*"
	exit 77
}

hard_error() {
	echo "ERROR: $*" >&2
	exit 99
}

for var in top_builddir top_srcdir; do
	eval "test -n \"\${$var:-}\"" || hard_error "$var is not set (run through make check)"
done

kit=${SSPID_TLSFUZZER:-$top_srcdir/../shared/tlsfuzzer}
[ -d "$kit/tlsfuzzer/tlsfuzzer" ] && [ -d "$kit/tlslite-ng/tlslite" ] ||
	skip "no tlsfuzzer kit at $kit (set SSPID_TLSFUZZER to one: tlsfuzzer/, tlslite-ng/, python-ecdsa/)"
for tool in python3 gnutls-serv dbus-daemon gdbus timeout; do
	command -v "$tool" >/dev/null 2>&1 || skip "$tool not found"
done
kit=$(cd "$kit" && pwd)
PYTHONPATH=$kit/tlsfuzzer:$kit/tlslite-ng:$kit/python-ecdsa/src
export PYTHONPATH
python3 -c 'import ecdsa, tlslite, tlsfuzzer' 2>/dev/null ||
	skip "python3 cannot import ecdsa, tlslite and tlsfuzzer from $kit"

helper=$top_srcdir/tests/tlsfuzzer-helper.py
xfail=$top_srcdir/tests/tlsfuzzer-xfail.txt
sspid=$top_builddir/daemon/sspid
sspictl=$top_builddir/tools/sspictl
# Under tools/check's valgrind step (a daemon wrapper) or an ASan build the
# daemon is many times slower, and tlsfuzzer's 5 s expectations would time
# out against it: conformance is judged on the plain build (make check);
# memory errors on hostile input are the fuzzers' and the other tests' job.
[ -z "${SSPID_TEST_DAEMON_WRAPPER:-}" ] ||
	skip "the daemon runs under a wrapper ($SSPID_TEST_DAEMON_WRAPPER): too slow for tlsfuzzer's timeouts"
! ldd "$sspid" 2>/dev/null | grep -q libasan ||
	skip "an ASan build: too slow for tlsfuzzer's timeouts"
seed=${SSPID_TLSFUZZER_SEED:-1}
full=${SSPID_TLSFUZZER_FULL:-}
script_timeout=900
[ -z "$full" ] || script_timeout=3600
# Same as AM_TESTS_ENVIRONMENT: pin GnuTLS, for sspid and gnutls-serv alike.
GNUTLS_SYSTEM_PRIORITY_FILE=${GNUTLS_SYSTEM_PRIORITY_FILE:-/dev/null}
export GNUTLS_SYSTEM_PRIORITY_FILE
# sspid's priority for a credential without SCHANNEL_CRED protocol bits
# (daemon/sspid-credential.c: priority_for_protocols).
priority="NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"

umask 077
work=$(mktemp -d "${TMPDIR:-/tmp}/sspid-tlsfuzzer.XXXXXX") || hard_error "mktemp failed"
pids=
cleanup() {
	for pid in $pids; do
		kill "$pid" 2>/dev/null
	done
	for pid in $pids; do
		wait "$pid" 2>/dev/null
	done
	if [ -n "${SSPID_TEST_KEEP:-}" ]; then
		echo "kept $work"
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 99' INT TERM HUP

started=$(date +%s)

# ---- PKI: the build's (make check made it), or a fresh one -----------------

pki=${SSPID_TEST_PKI:-}
if [ -z "$pki" ] || [ ! -f "$pki/rsa.pem" ]; then
	pki=$work/pki
	sh "$top_srcdir/tests/pki/gen-pki.sh" "$top_srcdir/tests/pki" "$pki" >/dev/null ||
		hard_error "could not make the test PKI"
elif [ "$pki" != "${pki#* }" ]; then
	# The tree's path has a space (a clone in "x y"): the command lines
	# below pass these paths unquoted, so work on a copy in the scratch
	# directory, whose path has none.
	mkdir "$work/pki" && cp "$pki"/*.pem "$pki"/*.key "$work/pki/" ||
		hard_error "cannot copy the test PKI to $work/pki"
	chmod 600 "$work"/pki/*.key
	pki=$work/pki
fi

# ---- the bus and the daemon ------------------------------------------------

# Waits until FILE has a line matching PATTERN (extended regex); prints it.
wait_line() {
	i=0
	while [ $i -lt 400 ]; do
		if grep -m1 -E "$2" "$1" 2>/dev/null; then
			return 0
		fi
		sleep 0.05
		i=$((i + 1))
	done
	return 1
}

user=$(id -un) || hard_error "no user name for uid $(id -u): the bus policy needs one"
# The project's real bus policy, for the user running us (as tests/testbus.c
# does), inside a bus whose defaults are the system bus's.
sed "s/@SSPID_USER@/$user/g" "$top_srcdir/data/org.sspid1.conf.in" >"$work/org.sspid1.conf"
cat >"$work/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>custom</type>
  <listen>unix:path=$work/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <deny own="*"/>
    <deny send_type="method_call"/>
    <allow send_type="signal"/>
    <allow send_requested_reply="true" send_type="method_return"/>
    <allow send_requested_reply="true" send_type="error"/>
    <allow receive_type="method_call"/>
    <allow receive_type="method_return"/>
    <allow receive_type="error"/>
    <allow receive_type="signal"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus"/>
    <allow send_destination="org.freedesktop.DBus" send_interface="org.freedesktop.DBus.Introspectable"/>
  </policy>
  <include ignore_missing="no">$work/org.sspid1.conf</include>
</busconfig>
EOF
dbus-daemon --config-file="$work/bus.conf" --nofork --print-address=1 \
	>"$work/bus.address" 2>"$work/bus.log" &
pids="$pids $!"
bus=$(wait_line "$work/bus.address" '^unix:') || hard_error "dbus-daemon did not start: $(cat "$work/bus.log")"
SSPID_BUS_ADDRESS=$bus
export SSPID_BUS_ADDRESS

cat >"$work/sspid.conf" <<EOF
# Written by tests/test-tlsfuzzer.sh.
[daemon]
default-trust=$pki/ca.pem

[credential rsa]
certificate=$pki/rsa.pem
key=$pki/rsa.key
usage=inbound
users=$(id -u)

[credential rsa-request]
certificate=$pki/rsa.pem
key=$pki/rsa.key
usage=inbound
users=$(id -u)
client-auth=request
trust=$pki/ca.pem

[credential ecdsa]
certificate=$pki/server.pem
key=$pki/server.key
usage=inbound
users=$(id -u)
EOF
${SSPID_TEST_DAEMON_WRAPPER:-} "$sspid" --verbose --address "$bus" --config "$work/sspid.conf" \
	>"$work/sspid.log" 2>&1 &
sspid_pid=$!
pids="$pids $sspid_pid"
i=0
until gdbus call --address "$bus" --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
	--method org.freedesktop.DBus.NameHasOwner org.sspid1 2>/dev/null | grep -q true; do
	kill -0 "$sspid_pid" 2>/dev/null || hard_error "sspid exited: $(cat "$work/sspid.log")"
	[ $i -lt 400 ] || hard_error "sspid did not take its bus name: $(cat "$work/sspid.log")"
	sleep 0.05
	i=$((i + 1))
done

# ---- the servers -------------------------------------------------------------

# start_sspictl ROLE ARGS...: `sspictl serve` on a free port; sets
# port_sspid_ROLE.  It serves connections one after the other until killed.
start_sspictl() {
	role=$1
	shift
	"$sspictl" serve 0 "$@" >"$work/serve-$role.log" 2>&1 &
	pid=$!
	pids="$pids $pid"
	eval "pid_sspid_$role=$pid"
	line=$(wait_line "$work/serve-$role.log" '^listening on ') ||
		hard_error "sspictl serve ($role) did not start: $(cat "$work/serve-$role.log")"
	eval "port_sspid_$role=\${line##*:}"
}

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_gnutls ROLE ARGS...: gnutls-serv on a free port; sets port_gnutls_ROLE.
start_gnutls() {
	role=$1
	shift
	for attempt in 1 2 3; do
		port=$(free_port)
		gnutls-serv --port="$port" --priority="$priority" "$@" >"$work/gnutls-$role.log" 2>&1 &
		pid=$!
		if wait_line "$work/gnutls-$role.log" 'listening on' >/dev/null && kill -0 "$pid" 2>/dev/null; then
			pids="$pids $pid"
			eval "pid_gnutls_$role=$pid"
			eval "port_gnutls_$role=$port"
			return 0
		fi
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	hard_error "gnutls-serv ($role) did not start: $(cat "$work/gnutls-$role.log")"
}

rsa="--x509certfile=$pki/rsa.pem --x509keyfile=$pki/rsa.key"
ecdsa="--x509certfile=$pki/server.pem --x509keyfile=$pki/server.key"
start_sspictl http --credential rsa --http
start_gnutls http --http -a $rsa
start_sspictl echo --credential rsa --echo
start_gnutls echo --echo -a $rsa
start_sspictl alpn --credential rsa --http --alpn http/1.1 --alpn http/2
start_gnutls alpn --http -a $rsa --alpn=http/1.1 --alpn=http/2 --alpn-fatal
start_sspictl certreq --credential rsa-request --http
start_gnutls certreq --http $rsa --x509cafile="$pki/ca.pem"
start_sspictl ecdsa --credential ecdsa --http
start_gnutls ecdsa --http -a $ecdsa

# ---- the scripts -------------------------------------------------------------

# LABEL ROLE SCRIPT SAMPLE [ARGS...]: SAMPLE is the `-n` of `make check`
# ("-": the script takes no -n, or runs all its probes anyway); the full
# run passes `-n 0` (all) instead, or `-n F` for SAMPLE written Q/F
# (test-tls13-lengths.py has tens of thousands of probes: the full run
# takes its own default sample of 1000).  LABEL names the row in the
# output and in tests/tlsfuzzer-xfail.txt.
# tlslite reads an EC key only with its scalar in exactly 32 bytes, as
# OpenSSL writes it; certtool writes it as an integer (33 bytes when the
# top bit is set, one key in two).  A copy in the scratch directory also
# keeps the path free of spaces for the table below.
openssl ec -in "$pki/client.key" -out "$work/client.key" 2>/dev/null ||
	hard_error "cannot convert $pki/client.key for tlslite"
cp "$pki/client.pem" "$work/client.pem" || hard_error "cannot copy $pki/client.pem"
client="-k $work/client.key -c $work/client.pem"
cat >"$work/scripts" <<EOF
conversation                     http    test-conversation.py                 -
conversation-dhe                 http    test-conversation.py                 -  -d
tls13-conversation               http    test-tls13-conversation.py           -
tls13-version-negotiation        http    test-tls13-version-negotiation.py    40
record-layer-fragmentation       http    test-record-layer-fragmentation.py   -
tls13-record-layer-limits        http    test-tls13-record-layer-limits.py    30
invalid-content-type             http    test-invalid-content-type.py         -
zero-length-data                 http    test-zero-length-data.py             -
tls13-zero-length-data           http    test-tls13-zero-length-data.py       -
tls13-finished                   http    test-tls13-finished.py               20
fuzzed-finished                  http    test-fuzzed-finished.py              -
fuzzed-MAC                       http    test-fuzzed-MAC.py                   -
fuzzed-padding                   http    test-fuzzed-padding.py               -
truncating-of-client-hello       http    test-truncating-of-client-hello.py   -
invalid-client-hello             http    test-invalid-client-hello.py         -
large-hello                      http    test-large-hello.py                  10
connection-abort                 http    test-connection-abort.py             30
tls13-connection-abort           http    test-tls13-connection-abort.py       30
message-skipping                 http    test-message-skipping.py             -
tls13-empty-alert                http    test-tls13-empty-alert.py            -
tls13-ccs                        http    test-tls13-ccs.py                    -
tls13-record-padding             http    test-tls13-record-padding.py         -
tls13-hrr                        http    test-tls13-hrr.py                    -
tls13-keyupdate                  echo    test-tls13-keyupdate.py              20
sessionID-resumption             http    test-sessionID-resumption.py         -
session-ticket-resumption        http    test-session-ticket-resumption.py    -
tls13-session-resumption         http    test-tls13-session-resumption.py     -
extended-master-secret-extension http    test-extended-master-secret-extension.py -
tls13-unencrypted-alert          http    test-tls13-unencrypted-alert.py      -
tls13-zero-content-type          http    test-tls13-zero-content-type.py      -
tls13-lengths                    echo    test-tls13-lengths.py                30/1000
alpn-negotiation                 alpn    test-alpn-negotiation.py             -
invalid-server-name-extension    http    test-invalid-server-name-extension.py -
certificate-request              certreq test-certificate-request.py          -  $client
tls13-certificate-request        certreq test-tls13-certificate-request.py    -  $client
tls13-ecdsa-support              ecdsa   test-tls13-ecdsa-support.py          -
ecdsa-sig-flexibility            ecdsa   test-ecdsa-sig-flexibility.py        -
EOF

# run_script SERVER(sspid|gnutls) ROLE LOG SCRIPT ARGS...
run_script() {
	server=$1 role=$2 log=$3
	shift 3
	eval "port=\$port_${server}_$role"
	# A bound on a hang, not a verdict: the full run's large-hello (3404
	# probes) takes ten minutes a side on a busy machine.
	timeout "$script_timeout" python3 "$helper" run "$seed" "$@" -h 127.0.0.1 -p "$port" >"$log" 2>&1 </dev/null
}

# Whether the server of ROLE still runs; its log otherwise.
check_alive() {
	eval "pid=\$pid_$1_$2"
	kill -0 "$pid" 2>/dev/null && return 0
	echo "  FAIL: the $1 server for $2 died; its log:"
	tail -n 20 "$work/$([ "$1" = sspid ] && echo serve || echo gnutls)-$2.log" | sed 's/^/    /'
	return 1
}

echo "tlsfuzzer at $kit, seed $seed${full:+, full run}"
status=0
rows=0
while read -r label role script sample args; do
	if [ -n "${SSPID_TLSFUZZER_ONLY:-}" ]; then
		case " $SSPID_TLSFUZZER_ONLY " in
		*" $label "*) ;;
		*) continue ;;
		esac
	fi
	rows=$((rows + 1))
	limit=
	case $sample in
	-) ;;
	*/*) if [ -n "$full" ]; then limit="-n ${sample#*/}"; else limit="-n ${sample%/*}"; fi ;;
	*) if [ -n "$full" ]; then limit="-n 0"; else limit="-n $sample"; fi ;;
	esac
	t0=$(date +%s)
	# shellcheck disable=SC2086 # word splitting of args and limit is wanted
	run_script sspid "$role" "$work/$label.sspid.log" "$script" $limit $args
	check_alive sspid "$role" || status=1
	t1=$(date +%s)
	# shellcheck disable=SC2086
	run_script gnutls "$role" "$work/$label.gnutls.log" "$script" $limit $args
	check_alive gnutls "$role" || status=1
	t2=$(date +%s)
	python3 "$helper" compare "$label" "$work/$label.sspid.log" "$work/$label.gnutls.log" "$xfail" \
		"$work/sspid-only.txt" </dev/null
	case $? in
	0) ;;
	1) status=1 ;;
	*) [ $status -ne 0 ] || status=99 ;;
	esac
	echo "  ($script${limit:+ $limit}${args:+ $args}; $((t1 - t0)) s against sspid, $((t2 - t1)) s against gnutls-serv)"
done <"$work/scripts"

[ $rows -gt 0 ] || hard_error "SSPID_TLSFUZZER_ONLY=\"$SSPID_TLSFUZZER_ONLY\" names no row"
kill -0 "$sspid_pid" 2>/dev/null || {
	echo "FAIL: sspid died; its log:"
	tail -n 30 "$work/sspid.log"
	status=1
}
echo "$rows scripts in $(($(date +%s) - started)) s"
if [ $status -eq 1 ] && [ -z "${SSPID_TEST_KEEP:-}" ]; then
	echo "(SSPID_TEST_KEEP=1 keeps every script's output against both servers)"
fi
exit $status
