#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
#
# mmreplay push and replay --push against a real HTTP server
# (upload-server.py): the file arrives byte for byte with its name and
# content type, 5xx is retried, 4xx is not, a server that is down gives
# one line and exit 1 with the local result kept, and nothing malformed is
# sent.
set -u

M=${MMREPLAY:?set MMREPLAY to the mmreplay binary}
SRC=${MMR_SRC:?set MMR_SRC to the source tree}
EXAMPLE=$SRC/schemas/examples/trace-zygote-small.jsonl
if ! command -v python3 >/dev/null; then
	echo "SKIP: python3 is needed for the HTTP server"
	exit 77
fi

T=$(mktemp -d /tmp/mmr-test-push-XXXXXX)
srv=
trap '[ -n "$srv" ] && kill $srv 2>/dev/null; rm -rf "$T"' EXIT
cd "$T" || exit 1
passed=0
failed=0
ok() { echo "ok - $*"; passed=$((passed + 1)); }
not_ok() { echo "not ok - $*"; failed=$((failed + 1)); }

U=$T/up
mkdir -p "$U"
# the first request is answered 503
python3 "$SRC/tests/integration/upload-server.py" "$U" port 1 &
srv=$!
for i in $(seq 50); do [ -s port ] && break; sleep 0.1; done
URL=http://127.0.0.1:$(cat port)

# 1. replay --push: the result is written, then sent (after one 503)
"$M" replay "$EXAMPLE" --no-locks -o res.json --push "$URL/results" >out.txt 2>err.txt
rc=$?
[ $rc = 0 ] && cmp -s res.json "$U/res.json" && ok "replay --push: result arrived byte for byte" ||
	not_ok "replay --push: exit $rc: $(cat err.txt)"
grep -q "pushed res.json to $URL/results (HTTP 201)" out.txt && ok "replay --push: says where it went" ||
	not_ok "replay --push: output: $(cat out.txt)"
[ "$(grep -c '^/results 503 application/json$' "$U/requests.log")" = 1 ] &&
	[ "$(grep -c '^/results 201 application/json$' "$U/requests.log")" = 1 ] &&
	ok "5xx retried, content type application/json" || not_ok "requests: $(cat "$U/requests.log")"

# 2. push of a trace: its own content type
"$M" push "$URL/traces" "$EXAMPLE" >out.txt 2>err.txt && cmp -s "$EXAMPLE" "$U/$(basename "$EXAMPLE")" &&
	grep -q '^/traces 201 application/x-ndjson$' "$U/requests.log" &&
	ok "push of a trace" || not_ok "push of a trace: $(cat err.txt) $(cat "$U/requests.log")"

# 3. a 4xx answer is final: one attempt, exit 1, the file kept
before=$(wc -l <"$U/requests.log")
"$M" push -n 3 "$URL/reject" res.json >out.txt 2>err.txt
rc=$?
after=$(wc -l <"$U/requests.log")
[ $rc = 1 ] && [ $((after - before)) = 1 ] && grep -q "HTTP 400" err.txt && [ -s res.json ] &&
	ok "4xx: not retried, exit 1, file kept" || not_ok "4xx: exit $rc, $((after - before)) requests: $(cat err.txt)"

# 4. nothing malformed leaves the machine
echo '{"not": "a result"}' >bad.json
before=$(wc -l <"$U/requests.log")
"$M" push "$URL/results" bad.json 2>err.txt
rc=$?
[ $rc = 1 ] && [ "$(wc -l <"$U/requests.log")" = "$before" ] && [ "$(wc -l <err.txt)" = 1 ] &&
	grep -q "not sent" err.txt && ok "malformed file refused before sending" ||
	not_ok "malformed: exit $rc: $(cat err.txt)"

# 5. server down: one line, exit 1, the result stays for a later push
kill $srv; wait $srv 2>/dev/null; srv=
rm -f res2.json
"$M" replay "$EXAMPLE" --no-locks -o res2.json --push "$URL/results" >out.txt 2>err.txt
rc=$?
[ $rc = 1 ] && [ "$(wc -l <err.txt)" = 1 ] && grep -q "res2.json is kept" err.txt &&
	"$M" validate -q res2.json && ok "server down: exit 1, one line, result kept" ||
	not_ok "server down: exit $rc: $(cat err.txt)"

# 6. usage
"$M" push 2>/dev/null; [ $? = 2 ] && ok "push without URL: usage error" || not_ok "push without URL"
"$M" push ftp://x res2.json 2>/dev/null; [ $? = 2 ] && ok "push ftp://: usage error" || not_ok "push ftp://"
"$M" replay "$EXAMPLE" --push nowhere 2>/dev/null; [ $? = 2 ] && ok "replay --push nowhere: usage error" ||
	not_ok "replay --push nowhere"

echo "$passed passed, $failed failed"
[ $failed = 0 ]
