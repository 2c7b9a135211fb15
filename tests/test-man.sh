#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The man pages: every page is clean under `mandoc -Tlint -Wwarning`; every
# .so link page is one line naming a real page; every name a page lists in
# its NAME section has a page of its own (so `man NAME` finds it); every
# function libsspi exports has a page; and every page is installed
# (listed in man/Makefile.inc).

set -eu

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

for var in top_builddir top_srcdir; do
	eval "test -n \"\${$var:-}\"" || fail "$var is not set (run through make check)"
done
man=$top_srcdir/man
lib=$top_builddir/libclient/.libs/libsspi.so
tmp=$(mktemp "${TMPDIR:-/tmp}/sspid-man.XXXXXX")
trap 'rm -f "$tmp"' EXIT
errors=0
bad() {
	echo "FAIL: $*" >&2
	errors=$((errors + 1))
}

pages=$(cd "$man" && ls | grep '\.[1-8]$')
test -n "$pages" || fail "no man pages in $man"

have_mandoc=yes
command -v mandoc >/dev/null 2>&1 || have_mandoc=no

n_pages=0
n_links=0
for page in $pages; do
	file=$man/$page
	grep -Eq "(^|[[:space:]])man/$page([[:space:]]|\$)" "$man/Makefile.inc" ||
		bad "$page is not in man/Makefile.inc"
	if head -n 1 "$file" | grep -q '^\.so '; then
		n_links=$((n_links + 1))
		test "$(wc -l <"$file")" -eq 1 || bad "$page: a .so page must be one line"
		target=$(sed -n 's|^\.so man\([1-8]\)/\(.*\)$|\2|p' "$file")
		test -n "$target" || { bad "$page: .so must name manN/PAGE"; continue; }
		test -f "$man/$target" || { bad "$page: .so target $target does not exist"; continue; }
		head -n 1 "$man/$target" | grep -q '^\.so ' && bad "$page: .so target $target is a link itself"
		grep -q "^\\.Nm ${page%.*}\\( ,\\)\\{0,1\\}\$" "$man/$target" ||
			bad "$page: $target does not document ${page%.*} in its NAME section"
		continue
	fi
	n_pages=$((n_pages + 1))
	if [ "$have_mandoc" = yes ]; then
		if ! mandoc -Tlint -Wwarning "$file" >"$tmp" 2>&1; then
			cat "$tmp" >&2
			bad "$page: mandoc -Tlint -Wwarning"
		elif [ -s "$tmp" ]; then
			cat "$tmp" >&2
			bad "$page: mandoc -Tlint -Wwarning printed warnings"
		fi
	fi
	# Every name of the NAME section has a page (the page itself or a link).
	for name in $(sed -n '/^\.Sh NAME/,/^\.Sh /s/^\.Nm \([^ ]*\).*$/\1/p' "$file"); do
		test -f "$man/$name.${page##*.}" || bad "$page documents $name, but there is no $name.${page##*.}"
	done
done

# Every exported function has a page.
if [ -f "$lib" ]; then
	for name in $(nm -D --defined-only "$lib" | awk '$2 ~ /^[TW]$/ { sub(/@.*/, "", $3); print $3 }'); do
		test -f "$man/$name.3" || bad "exported function $name has no man page"
	done
else
	bad "$lib is not built"
fi

test "$errors" -eq 0 || fail "$errors problems in the man pages"
echo "ok: $n_pages pages and $n_links links"
if [ "$have_mandoc" = no ]; then
	echo "SKIP: mandoc not found (Debian: apt-get install mandoc); pages not linted"
	exit 77
fi
