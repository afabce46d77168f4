# Shared by the end-to-end shell tests: TAP-ish counting and assertions.
# Each test script sources this, calls check/expect_*, and ends with `finish`.
set -u
MMREPLAY=${MMREPLAY:?path of the mmreplay binary}
SRC=${MMR_SRC:?source root}
T=$(mktemp -d /tmp/mmr-e2e-XXXXXX)
trap 'rm -rf "$T"' EXIT
npass=0 nfail=0

ok() { npass=$((npass + 1)); echo "ok - $*"; }
not_ok() { nfail=$((nfail + 1)); echo "not ok - $*"; }

# expect_rc RC DESCRIPTION -- CMD...: the command exits with RC.
expect_rc() {
	local want=$1 desc=$2; shift 3
	"$@" >"$T/out" 2>"$T/err"
	local rc=$?
	if [ "$rc" = "$want" ]; then ok "$desc"; else
		not_ok "$desc (exit $rc, wanted $want)"; sed 's/^/    /' "$T/err" | head -5
	fi
}

# expect_out FILE(out|err) PATTERN DESCRIPTION: last command's output matches.
expect_out() {
	if grep -qE -- "$2" "$T/$1"; then ok "$3"; else
		not_ok "$3 (no /$2/ in std$1)"; sed 's/^/    /' "$T/$1" | head -5
	fi
}

# The last command's stderr is exactly one line.
expect_one_line_err() {
	local n
	n=$(wc -l <"$T/err")
	if [ "$n" = 1 ]; then ok "$1"; else not_ok "$1 ($n lines on stderr)"; cat "$T/err" | head -5; fi
}

finish() {
	echo "$npass passed, $nfail failed"
	[ "$nfail" = 0 ]
}
