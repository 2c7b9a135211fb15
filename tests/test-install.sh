#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# `make install` into a scratch DESTDIR, then what a packager and an
# administrator rely on:
#
#   - exactly the expected files, in the configured directories (no bench
#     program, no live sspid.conf), and a man page for every exported
#     function that `man` finds by name;
#   - the service files filled in (no @VARIABLE@ left; ExecStart=, Exec=
#     and the users point at the configured sbindir and daemon user);
#   - `systemd-analyze security --offline=yes` scores the unit 2.0 or lower
#     and `systemd-analyze verify` says nothing about it (the unit is
#     verified as installed, except that ExecStart= is pointed into the
#     DESTDIR, where the binary is, and man pages are looked up there);
#   - the example configuration passes `sspictl check-config`;
#   - sspi.pc, the headers and libsspi build and run a program.
#
# Run by `make check` with the build's directories in the environment
# (tests/Makefile.inc: SSPID_SH_TEST_ENV).

set -eu

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

for var in MAKE top_builddir top_srcdir CC prefix bindir sbindir libdir includedir \
	mandir sysconfdir datadir systemdsystemunitdir sysusersdir tmpfilesdir \
	dbussystemservicedir dbuspolicydir SSPID_USER PACKAGE_VERSION; do
	eval "test -n \"\${$var:-}\"" || fail "$var is not set (run through make check)"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sspid-install.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
dest=$tmp/root

# ---- install ---------------------------------------------------------------

# MAKEFLAGS of the `make check` running us would make this sub-make build
# check targets or inherit its TESTS: start clean.
if ! env -u MAKEFLAGS -u MFLAGS -u TESTS $MAKE -C "$top_builddir" install \
	DESTDIR="$dest" >"$tmp/install.log" 2>&1; then
	cat "$tmp/install.log" >&2
	fail "make install DESTDIR=$dest failed"
fi

# ---- the file list ---------------------------------------------------------

(cd "$dest" && find . \( -type f -o -type l \) | sed 's|^\.||' | sort) >"$tmp/all"
grep -v "^$mandir/" "$tmp/all" | grep -v "^$libdir/libsspi\.so\.0\.[0-9.]*$" >"$tmp/files" || true
sort >"$tmp/expected" <<EOF
$bindir/sspictl
$sbindir/sspid
$libdir/libsspi.la
$libdir/libsspi.so
$libdir/libsspi.so.0
$libdir/pkgconfig/sspi.pc
$includedir/sspid/sspi.h
$includedir/sspid/schannel.h
$systemdsystemunitdir/sspid.service
$dbussystemservicedir/org.sspid1.service
$dbuspolicydir/org.sspid1.conf
$sysusersdir/sspid.conf
$tmpfilesdir/sspid.conf
$sysconfdir/sspid/sspid.conf.example
EOF
if ! diff -u "$tmp/expected" "$tmp/files" >"$tmp/diff"; then
	cat "$tmp/diff" >&2
	fail "installed files differ from the expected list (- expected, + installed)"
fi
grep -q "^$libdir/libsspi\.so\.0\.[0-9.]*$" "$tmp/all" || fail "no $libdir/libsspi.so.0.*"
echo "ok: $(wc -l <"$tmp/all") files installed where configure said"

# Man pages: every page of the source tree, in its section, nothing else.
(cd "$top_srcdir/man" && ls) | grep '\.[1-8]$' | while read -r page; do
	echo "$mandir/man${page##*.}/$page"
done | sort >"$tmp/man-expected"
grep "^$mandir/" "$tmp/all" >"$tmp/man-installed" || true
if ! diff -u "$tmp/man-expected" "$tmp/man-installed" >"$tmp/diff"; then
	cat "$tmp/diff" >&2
	fail "installed man pages differ from man/ (- expected, + installed)"
fi

# Every exported function has a page, and `man NAME` finds it.
nm -D --defined-only "$top_builddir/libclient/.libs/libsspi.so" |
	awk '$2 ~ /^[TW]$/ { sub(/@.*/, "", $3); print $3 }' | sort -u >"$tmp/exported"
test -s "$tmp/exported" || fail "nm found no exported function in libsspi.so"
missing=
for name in $(cat "$tmp/exported"); do
	test -f "$dest$mandir/man3/$name.3" || missing="$missing $name"
done
test -z "$missing" || fail "exported functions without an installed man page:$missing"
if command -v man >/dev/null 2>&1; then
	for name in sspictl sspid sspid.conf sspi $(cat "$tmp/exported"); do
		MANPATH=$dest$mandir man -w "$name" >/dev/null 2>&1 ||
			fail "man $name does not find a page in $dest$mandir"
	done
	# A .so link page must render (its target resolved), not be empty.
	if command -v nroff >/dev/null 2>&1; then
		MANPATH=$dest$mandir MANPAGER=cat PAGER=cat MANWIDTH=80 man SspiAcceptSecurityContextAsync \
			2>/dev/null | grep -q 'SspiAcceptSecurityContextAsync' ||
			fail "man SspiAcceptSecurityContextAsync renders nothing"
	fi
fi
echo "ok: $(wc -l <"$tmp/exported") exported functions, each with a man page"

# ---- the service files -----------------------------------------------------

unit=$dest$systemdsystemunitdir/sspid.service
for f in "$unit" "$dest$dbussystemservicedir/org.sspid1.service" \
	"$dest$dbuspolicydir/org.sspid1.conf" "$dest$sysusersdir/sspid.conf" \
	"$dest$tmpfilesdir/sspid.conf"; do
	if grep -n '@[A-Za-z_]*@' "$f" >&2; then
		fail "$f has unsubstituted variables"
	fi
done
grep -qx "ExecStart=$sbindir/sspid" "$unit" || fail "$unit: ExecStart= is not $sbindir/sspid"
grep -qx "User=$SSPID_USER" "$unit" || fail "$unit: User= is not $SSPID_USER"
grep -qx "Type=dbus" "$unit" || fail "$unit: not Type=dbus"
grep -qx "BusName=org.sspid1" "$unit" || fail "$unit: no BusName=org.sspid1"
grep -qx "Exec=$sbindir/sspid" "$dest$dbussystemservicedir/org.sspid1.service" ||
	fail "org.sspid1.service: Exec= is not $sbindir/sspid"
grep -qx "SystemdService=sspid.service" "$dest$dbussystemservicedir/org.sspid1.service" ||
	fail "org.sspid1.service: no SystemdService=sspid.service"
grep -q "^u $SSPID_USER " "$dest$sysusersdir/sspid.conf" || fail "sysusers.d: no user $SSPID_USER"
grep -q "^d $sysconfdir/sspid/private 0700 $SSPID_USER $SSPID_USER" "$dest$tmpfilesdir/sspid.conf" ||
	fail "tmpfiles.d: no private key directory for $SSPID_USER"
grep -q "<policy user=\"$SSPID_USER\">" "$dest$dbuspolicydir/org.sspid1.conf" ||
	fail "bus policy: $SSPID_USER may not own the name"
echo "ok: service files filled in for $sbindir/sspid, user $SSPID_USER"

# Every hardening directive says why, on the line above it.
awk '/^\[Service\]/ { s = 1; next } /^\[/ { s = 0 }
	s && /^[A-Za-z]/ && prev !~ /^#/ && prev !~ /^[A-Za-z]/ { print FILENAME ": " $0; bad = 1 }
	{ prev = $0 } END { exit bad }' "$unit" >&2 ||
	fail "unit directives above without a comment saying why"

if command -v systemd-analyze >/dev/null 2>&1; then
	systemd-analyze security --offline=yes --no-pager "$unit" >"$tmp/security" 2>&1 || {
		cat "$tmp/security" >&2
		fail "systemd-analyze security failed"
	}
	score=$(sed -n 's/^.*Overall exposure level for sspid\.service: \([0-9.]*\).*$/\1/p' "$tmp/security")
	test -n "$score" || { cat "$tmp/security" >&2; fail "no exposure level in systemd-analyze's output"; }
	awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }' ||
		{ cat "$tmp/security" >&2; fail "exposure level $score is above 2.0"; }
	echo "ok: systemd-analyze security: exposure $score (<= 2.0)"

	# verify: as installed, but with ExecStart= in the DESTDIR (where the
	# binary is) and man pages looked up there.
	mkdir "$tmp/verify"
	sed "s|^ExecStart=$sbindir/sspid\$|ExecStart=$dest$sbindir/sspid|" "$unit" >"$tmp/verify/sspid.service"
	test "$(diff "$unit" "$tmp/verify/sspid.service" | grep -c '^[<>]')" -eq 2 ||
		fail "could not point ExecStart= into the DESTDIR"
	MANPATH=$dest$mandir systemd-analyze verify "$tmp/verify/sspid.service" >"$tmp/verify.log" 2>&1 ||
		{ cat "$tmp/verify.log" >&2; fail "systemd-analyze verify failed"; }
	if [ -s "$tmp/verify.log" ]; then
		cat "$tmp/verify.log" >&2
		fail "systemd-analyze verify is not clean"
	fi
	echo "ok: systemd-analyze verify: clean"
else
	echo "note: systemd-analyze not found: unit score and verify not checked"
fi

# ---- the example configuration --------------------------------------------

# The installed sspid judges it (sspictl runs `sspid --check-config`).
"$top_builddir/tools/sspictl" check-config --daemon-user root --sspid "$dest$sbindir/sspid" \
	"$dest$sysconfdir/sspid/sspid.conf.example" >"$tmp/check" 2>&1 ||
	{ cat "$tmp/check" >&2; fail "the example configuration does not pass check-config"; }
echo "ok: sspid.conf.example passes sspictl check-config"

# ---- building against the installed library -------------------------------

pc=$dest$libdir/pkgconfig/sspi.pc
grep -qx "Version: $PACKAGE_VERSION" "$pc" || fail "sspi.pc: Version is not $PACKAGE_VERSION"
grep -qx "includedir=$includedir" "$pc" || fail "sspi.pc: includedir is not $includedir"
if command -v pkg-config >/dev/null 2>&1; then
	flags=$(PKG_CONFIG_PATH=$dest$libdir/pkgconfig pkg-config \
		--define-variable=includedir="$dest$includedir" \
		--define-variable=libdir="$dest$libdir" --cflags --libs sspi)
	cat >"$tmp/app.c" <<'EOF'
#include <sspi.h>
#include <schannel.h>
#include <stdio.h>
#include <string.h>

int
main (void)
{
  SspiAsyncContext *ac = SspiCreateAsyncContext ();
  PSecPkgInfoA info = NULL;

  if (ac == NULL)
    return 1;
  SspiFreeAsyncContext (ac);
  if (QuerySecurityPackageInfoA ((SEC_CHAR *) UNISP_NAME_A, &info) != SEC_E_OK)
    return 2;
  printf ("%s\n", info->Name);
  FreeContextBuffer (info);
  return InitSecurityInterfaceA () != NULL ? 0 : 3;
}
EOF
	# In a sanitizer build ($SAN_CFLAGS) the program is instrumented like
	# the library it loads, so that the sanitizers' runtime comes first.
	# shellcheck disable=SC2086
	$CC ${SAN_CFLAGS:-} -o "$tmp/app" "$tmp/app.c" $flags || fail "cannot build against sspi.pc: $flags"
	LD_LIBRARY_PATH=$dest$libdir "$tmp/app" >"$tmp/app.out" || fail "the program built against sspi.pc failed ($?)"
	echo "ok: a program builds with \`pkg-config sspi\` and runs: $(cat "$tmp/app.out")"
fi
