#!/bin/bash
# The CLI skeleton: help, version, usage errors, validate on good and broken files.
. "$(dirname "$0")/lib.sh"

expect_rc 0 "--version" -- "$MMREPLAY" --version
expect_out out "^mmreplay [0-9]+\.[0-9]+" "--version prints the version"
expect_rc 0 "--help" -- "$MMREPLAY" --help
expect_out out "validate" "--help lists commands"
expect_rc 2 "no arguments is a usage error" -- "$MMREPLAY"
expect_rc 0 "help validate" -- "$MMREPLAY" help validate
expect_out out "usage: mmreplay validate" "help CMD prints the usage"
expect_rc 0 "validate --help" -- "$MMREPLAY" validate --help
expect_out out "usage: mmreplay validate" "CMD --help prints the usage"
expect_rc 2 "unknown command" -- "$MMREPLAY" frobnicate
expect_out err "unknown command 'frobnicate'.*--help" "unknown command names it and --help"
expect_one_line_err "unknown command: one line"
expect_rc 2 "unknown option" -- "$MMREPLAY" --frob
expect_out err "unknown option '--frob'" "unknown option is named"
expect_rc 2 "unknown option of a command" -- "$MMREPLAY" validate --frob x
expect_out err "validate --help" "command usage error points to its --help"
expect_rc 2 "help of an unknown command" -- "$MMREPLAY" help frobnicate

# validate: every shipped example passes
for f in "$SRC"/schemas/examples/*; do
	expect_rc 0 "validate $(basename "$f")" -- "$MMREPLAY" validate "$f"
done
expect_rc 0 "validate several files at once" -- "$MMREPLAY" validate "$SRC"/schemas/examples/*
# compressed copy of a trace is detected by magic, not name
zstd -q -f "$SRC/schemas/examples/trace-zygote-small.jsonl" -o "$T/copy.json"
expect_rc 0 "validate zstd trace under a plain name" -- "$MMREPLAY" validate "$T/copy.json"
expect_out out "zstd" "validate reports compression"

# broken copies of each example: exit 1 and a message with line and field
tr=$SRC/schemas/examples/trace-zygote-small.jsonl
sed 's/"child":4243/"child":"x"/' "$tr" >"$T/b1.jsonl"
expect_rc 1 "broken trace: wrong type" -- "$MMREPLAY" validate "$T/b1.jsonl"
expect_out err "line 5: field 'child': expected integer" "message names line and field"
sed 's/"version":1/"version":9/' "$tr" >"$T/b2.jsonl"
expect_rc 1 "broken trace: unknown version" -- "$MMREPLAY" validate "$T/b2.jsonl"
expect_out err "version 9 is not supported" "unknown version says so"
head -c $(( $(head -1 "$tr" | wc -c) + 20 )) "$tr" >"$T/b3.jsonl"
expect_rc 1 "broken trace: cut mid-line" -- "$MMREPLAY" validate "$T/b3.jsonl"
expect_out err "line 2: truncated JSON" "cut line is reported with its number"
grep -v '"footer"' "$tr" >"$T/b4.jsonl"
expect_rc 0 "trace without footer is readable" -- "$MMREPLAY" validate "$T/b4.jsonl"
expect_out err "truncated trace" "and reported as truncated"
printf '\xff\xfe garbage\n' >"$T/b5.jsonl"
expect_rc 1 "non-UTF-8 garbage" -- "$MMREPLAY" validate "$T/b5.jsonl"
res=$SRC/schemas/examples/result-zygote-small.json
sed 's/"mode": "as-recorded"/"mode": 3/' "$res" >"$T/r1.json"
expect_rc 1 "broken result: wrong type" -- "$MMREPLAY" validate "$T/r1.json"
expect_out err "field 'params.mode'" "result message names the field path"
sed 's/"version": 1,/"version": 2,/' "$res" >"$T/r2.json"
expect_rc 1 "broken result: unknown version" -- "$MMREPLAY" validate "$T/r2.json"
expect_out err "version 2 is not supported" "result version is checked"
expect_rc 1 "missing file" -- "$MMREPLAY" validate "$T/nope.jsonl"
expect_out err "No such file" "missing file says so"
expect_rc 1 "one bad file among good ones fails the run" -- "$MMREPLAY" validate "$tr" "$T/b1.jsonl"

# info answers on this machine; --json is valid JSON
expect_rc 0 "info --json" -- "$MMREPLAY" info --json
if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert "events" in d' "$T/out"; then
	ok "info --json parses"; else not_ok "info --json parses"; fi

finish
