#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Generates the test PKI from the committed certtool templates, so nothing
# that can expire is ever committed:
#
#   ca.pem/.key            "sspid test CA", the root the tests trust
#   server.pem/.key        localhost (DNS and 127.0.0.1), TLS server
#   client.pem/.key        "sspid test client", TLS client
#   expired.pem/.key       localhost, valid only in 2001
#   wrongname.pem/.key     wrong.example
#   untrusted-ca.pem/.key  "sspid untrusted CA", trusted by nobody
#   untrusted.pem/.key     localhost, signed by the untrusted CA
#   rsa.pem/.key           localhost with an RSA 2048 key (TLS 1.2 RSA interop)
#
# Keys are ECDSA P-256 except rsa.key.  Every run regenerates everything into
# a scratch directory and then moves it into place, so a failed or
# interrupted run never leaves certificates signed by a CA that is gone.
#
# Usage: gen-pki.sh SRCDIR OUTDIR   (SRCDIR holds the *.tmpl files)

set -eu

if [ $# -ne 2 ]; then
	echo "usage: $0 SRCDIR OUTDIR" >&2
	exit 2
fi
srcdir=$1
outdir=$2

if ! command -v certtool >/dev/null 2>&1; then
	echo "$0: certtool not found (Debian: apt-get install gnutls-bin)" >&2
	exit 1
fi

mkdir -p "$outdir"

# Keys must be private to us: the daemon refuses keys others can read.
umask 077
tmp=$(mktemp -d "$outdir/.gen.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

# Runs certtool quietly; shows what it said only when it fails.
ct() {
	if ! certtool "$@" >"$tmp/log" 2>&1; then
		echo "$0: certtool $* failed:" >&2
		cat "$tmp/log" >&2
		exit 1
	fi
}

ec_key() {
	ct --generate-privkey --key-type=ecdsa --curve=secp256r1 --no-text \
		--outfile="$tmp/$1.key"
}

rsa_key() {
	ct --generate-privkey --key-type=rsa --bits=2048 --no-text \
		--outfile="$tmp/$1.key"
}

# self_signed NAME TEMPLATE
self_signed() {
	ct --generate-self-signed --load-privkey="$tmp/$1.key" \
		--template="$srcdir/$2.tmpl" --no-text --outfile="$tmp/$1.pem"
}

# signed NAME TEMPLATE ISSUER
signed() {
	ct --generate-certificate --load-privkey="$tmp/$1.key" \
		--load-ca-certificate="$tmp/$3.pem" --load-ca-privkey="$tmp/$3.key" \
		--template="$srcdir/$2.tmpl" --no-text --outfile="$tmp/$1.pem"
}

ec_key ca;           self_signed ca ca
ec_key untrusted-ca; self_signed untrusted-ca untrusted-ca
ec_key server;       signed server server ca
ec_key client;       signed client client ca
ec_key expired;      signed expired expired ca
ec_key wrongname;    signed wrongname wrongname ca
ec_key untrusted;    signed untrusted server untrusted-ca
rsa_key rsa;         signed rsa rsa ca

# Certificates are public; only the keys stay 0600.
chmod 0644 "$tmp"/*.pem
rm -f "$tmp/log"

for f in "$tmp"/*.pem "$tmp"/*.key; do
	mv -f "$f" "$outdir/"
done
