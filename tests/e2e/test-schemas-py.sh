#!/bin/bash
# Cross-check: an independent JSON Schema implementation (python3-jsonschema)
# agrees with the built-in validator on the examples and on broken copies.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
if ! $PY -c 'import jsonschema' 2>/dev/null; then
	echo "SKIP: python3-jsonschema missing (apt-get install python3-jsonschema)"; exit 77
fi
check() { # FILE KIND -> exit 0 valid / 1 invalid per jsonschema
	$PY - "$1" "$2" "$SRC" <<'PYEOF'
import json, sys, jsonschema
path, kind, src = sys.argv[1:4]
schema = json.load(open(f"{src}/schemas/{kind}.v1.schema.json"))
jsonschema.Draft202012Validator.check_schema(schema)
v = jsonschema.Draft202012Validator(schema)
try:
    if kind == "trace":
        for line in open(path):
            if line.strip():
                v.validate(json.loads(line))
    else:
        v.validate(json.load(open(path)))
except (jsonschema.ValidationError, ValueError) as e:
    sys.exit(1)
PYEOF
}
both() { # FILE KIND WANT DESC
	check "$1" "$2"; local py=$?
	"$MMREPLAY" validate -q "$1" 2>/dev/null; local c=$?
	if [ "$py" = "$3" ] && [ "$c" = "$3" ]; then ok "$4"; else not_ok "$4 (python $py, mmreplay $c, want $3)"; fi
}
for f in "$SRC"/schemas/examples/*.jsonl; do both "$f" trace 0 "$(basename "$f") valid for both"; done
for f in "$SRC"/schemas/examples/*.json; do both "$f" result 0 "$(basename "$f") valid for both"; done
tr=$SRC/schemas/examples/trace-zygote-small.jsonl
res=$SRC/schemas/examples/result-zygote-small.json
i=0
for m in 's/"err":6/"err":"6"/' 's/"thread":false/"thread":0/' 's/"kind":"memcg"/"kind":"cgroup"/' \
	 's/"lock":"mmap_lock"/"lock":"mm"/' 's/"perms":"r--p"/"perms":"rwxz"/' 's/"n":16384/"n":0/' \
	 's/"cpus":2/"cpus":0/' 's/"ev":"stack","id":1/"ev":"stack","id":1,"extra":1/'; do
	i=$((i+1)); sed "$m" "$tr" >"$T/t$i.jsonl"
	both "$T/t$i.jsonl" trace 1 "trace mutation $m rejected by both"
done
for m in 's/"emulated": false/"emulated": 0/' 's/"count": \([0-9]*\)/"count": -\1/' \
	 's/"sha256": "0*1"/"sha256": "xyz"/' 's/"runs": 1,/"runs": 0,/'; do
	i=$((i+1)); sed "$m" "$res" >"$T/r$i.json"
	both "$T/r$i.json" result 1 "result mutation $m rejected by both"
done
finish
