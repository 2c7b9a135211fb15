# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The Python half of tests/test-tlsfuzzer.sh (which explains the test):
#
#   tlsfuzzer-helper.py run SEED SCRIPT [ARGS...]
#       Runs one tlsfuzzer script (test-foo.py) from the kit on PYTHONPATH
#       with Python's random module seeded, so that `-n N` samples the same
#       probes, in the same order, against sspid and against gnutls-serv.
#
#   tlsfuzzer-helper.py compare LABEL SSPID_LOG GNUTLS_LOG XFAIL_FILE [FOUND]
#       Compares the two runs of LABEL probe by probe.  Prints both tallies,
#       the probes that failed only against sspid (with tlsfuzzer's reason),
#       and exits 1 if one of them is not in XFAIL_FILE, 2 if the gnutls-serv
#       run broke (no verdict is possible), 0 otherwise.  An entry of
#       XFAIL_FILE for LABEL whose probes ran and none failed only against
#       sspid is stale: it is reported ("remove it"), and fails the test
#       only with SSPID_TLSFUZZER_STRICT=1 (so that the list can land before
#       or after the fixes that empty it).  Every sspid-only failure, listed or
#       not, is appended to FOUND in XFAIL_FILE's format.
#
# XFAIL_FILE: `LABEL PROBE NAME` per line (the probe name is the rest of the
# line, spaces and all); a name that ends in `*` stands for every probe
# whose name starts with what comes before it (`LABEL *`: all of them);
# `#` starts a comment line, which says why.

import ast
import importlib
import random
import re
import runpy
import os
import sys


def run(seed, script, args):
    random.seed(int(seed))
    sys.argv = [script] + args
    module = "tlsfuzzer._apps." + script[:-3].replace("-", "_")
    try:
        # Newer tlsfuzzer: scripts/*.py are stubs for tlsfuzzer/_apps/*.
        mod = importlib.import_module(module)
    except ImportError:
        mod = None
    if mod is not None:
        mod.main()
        return
    for entry in sys.path:
        path = os.path.join(entry, "scripts", script)
        if os.path.isfile(path):
            runpy.run_path(path, run_name="__main__")
            return
    sys.exit("tlsfuzzer-helper: no script %s on PYTHONPATH" % script)


COUNT_RE = re.compile(r"^(TOTAL|SKIP|PASS|XFAIL|FAIL|XPASS): (\d+)$", re.M)
PROBE_RE = re.compile(r"^(.*) \.\.\.$")


def parse(path):
    """(counts or None if the script did not finish, failed probe names,
    probe names that ran, {failed probe: last line of its error})."""
    try:
        with open(path, errors="replace") as f:
            text = f.read()
    except OSError:
        return None, set(), set(), {}
    counts = {k: int(v) for k, v in COUNT_RE.findall(text)}
    failed = set()
    mark = text.rfind("\nFAILED:\n")
    if mark >= 0:
        for line in text[mark + len("\nFAILED:\n"):].splitlines():
            if not line.startswith("\t"):
                break
            try:
                failed.add(ast.literal_eval(line[1:]))
            except (ValueError, SyntaxError):
                failed.add(line[1:])
    ran = set()
    reasons = {}
    current = None
    in_error = False
    for line in text.splitlines():
        m = PROBE_RE.match(line)
        if m:
            current = m.group(1)
            ran.add(current)
            in_error = False
        elif line == "Error while processing":
            in_error = current is not None
        elif in_error:
            # The traceback ends at an empty line; its last unindented
            # line is the exception: tlsfuzzer's reason.
            if not line.strip():
                in_error = False
            elif not line.startswith(" ") and not line.startswith("Traceback"):
                reasons[current] = line.strip()
    if "TOTAL" not in counts:
        return None, failed, ran, reasons
    return counts, failed, ran, {p: reasons.get(p, "") for p in failed}


def matches(probe, entry):
    if entry.endswith("*"):
        return probe.startswith(entry[:-1])
    return probe == entry


def read_xfail(path):
    entries = {}
    try:
        with open(path) as f:
            for line in f:
                line = line.rstrip("\n")
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                label, _, probe = line.strip().partition(" ")
                entries.setdefault(label, set()).add(probe.strip())
    except FileNotFoundError:
        pass
    return entries


def tally(counts):
    if counts is None:
        return "did not finish"
    return "%d/%d passed, %d failed" % (counts.get("PASS", 0), counts.get("TOTAL", 0),
                                        counts.get("FAIL", 0))


def compare(label, sspid_log, gnutls_log, xfail_path, found_path=None):
    s_counts, s_failed, s_ran, s_reasons = parse(sspid_log)
    g_counts, g_failed, _, _ = parse(gnutls_log)
    xfail = read_xfail(xfail_path).get(label, set())

    print("%-40s sspid: %-28s gnutls-serv: %s" % (label, tally(s_counts), tally(g_counts)))
    if g_counts is None:
        print("  ERROR: the gnutls-serv run did not finish (%s): no verdict" % gnutls_log)
        return 2
    status = 0
    if s_counts is None:
        print("  FAIL: the sspid run did not finish (%s)" % sspid_log)
        return 1
    only = sorted(s_failed - g_failed)
    both = sorted(s_failed & g_failed)
    gnutls_only = sorted(g_failed - s_failed)
    if both:
        print("  fail against both (GnuTLS's behaviour, not sspid's): %d" % len(both))
    if gnutls_only:
        print("  fail against gnutls-serv only: %s" % ", ".join(repr(p) for p in gnutls_only))
    if found_path and only:
        with open(found_path, "a") as f:
            for probe in only:
                f.write("%s %s\n" % (label, probe))
    expected = 0
    for probe in only:
        if any(matches(probe, entry) for entry in xfail):
            expected += 1
            continue
        status = 1
        reason = s_reasons.get(probe, "")
        print("  FAIL sspid only: %r%s" % (probe, (": " + reason[:200]) if reason else ""))
    if expected:
        print("  sspid only, expected (%s): %d" % (os.path.basename(xfail_path), expected))
    strict = bool(os.environ.get("SSPID_TLSFUZZER_STRICT"))
    for entry in sorted(xfail):
        if (any(matches(p, entry) for p in s_ran) and
                not any(matches(p, entry) for p in only)):
            print("  %s: %s line %r: its probes no longer fail only against sspid:"
                  " remove it" % ("FAIL" if strict else "stale",
                                  os.path.basename(xfail_path), label + " " + entry))
            if strict:
                status = 1
    return status


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3], sys.argv[4:])
    elif len(sys.argv) in (6, 7) and sys.argv[1] == "compare":
        sys.exit(compare(*sys.argv[2:]))
    else:
        sys.exit("usage: tlsfuzzer-helper.py run SEED SCRIPT [ARGS...] | "
                 "compare LABEL SSPID_LOG GNUTLS_LOG XFAIL_FILE [FOUND]")


if __name__ == "__main__":
    main()
