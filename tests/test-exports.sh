#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# libsspi exports exactly its public API: the functions declared in the
# public headers (sspi.h, schannel.h) and nothing else, so no internal
# helper becomes ABI by accident and no declared function is missing.
#
# The declared functions are read from the headers as the compiler sees
# them: preprocessed (comments, SEC_ENTRY and C++ guards gone), then every
# declaration at file scope that is not a typedef and has a parameter
# list.  The exported ones come from `nm -D --defined-only`.

set -eu

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

for var in top_builddir top_srcdir CC; do
	eval "test -n \"\${$var:-}\"" || fail "$var is not set (run through make check)"
done
lib=$top_builddir/libclient/.libs/libsspi.so
test -f "$lib" || fail "$lib is not built"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sspid-exports.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

nm -D --defined-only "$lib" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }' |
	sort -u >"$tmp/exported"
test -s "$tmp/exported" || fail "nm found nothing exported in $lib"

printf '#include <sspi.h>\n#include <schannel.h>\n' |
	$CC -E -P -I"$top_srcdir/include" -x c - >"$tmp/headers.i" ||
	fail "cannot preprocess the public headers"
python3 - "$tmp/headers.i" >"$tmp/declared" <<'PY' || fail "cannot read the declarations"
import re, sys

text = open(sys.argv[1]).read()
# File-scope statements: split on ';' at brace depth 0; bodies of structs
# and unions are dropped.
statements, depth, current = [], 0, []
for ch in text:
    if ch == '{':
        depth += 1
    elif ch == '}':
        depth -= 1
    elif depth == 0:
        if ch == ';':
            statements.append(''.join(current))
            current = []
        else:
            current.append(ch)
names = set()
for s in statements:
    s = ' '.join(s.split())
    if not s or s.startswith('typedef') or '(' not in s:
        continue
    m = re.search(r'(\w+)\s*\($', s[:s.index('(') + 1])
    if m:
        names.add(m.group(1))
print('\n'.join(sorted(names)))
PY
test -s "$tmp/declared" || fail "no function declarations found in sspi.h/schannel.h"

if ! diff -u "$tmp/declared" "$tmp/exported" >"$tmp/diff"; then
	cat "$tmp/diff" >&2
	fail "exported symbols differ from the public headers (- declared only, + exported only)"
fi
echo "ok: libsspi exports exactly the $(wc -l <"$tmp/declared") functions of sspi.h and schannel.h"
