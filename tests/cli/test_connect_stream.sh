#!/bin/sh
# test_connect_stream.sh — `uniws connect --send-file / --save-dir` against
# `uniws serve` on 127.0.0.1: a 20 MB file goes out as ONE message in 1 MiB
# parts (the report-frames peer counts 1 message, 20 frames) and comes back
# from the echo peer saved byte-identical to a file, on every backend that
# can send in parts.
# Usage: test_connect_stream.sh UNIWS
set -eu
uniws=$1
. "$(dirname "$0")/serve.sh"
start_serve "$uniws" serve --port 0
head -c 20000000 /dev/urandom >"$dir/in.bin"
tested=0
for b in lws curl; do
    "$uniws" backends 2>/dev/null | grep -q "^$b[* ]" || continue
    tested=$((tested + 1))
    "$uniws" connect "ws://127.0.0.1:$port/script/report-frames" --backend "$b" \
        --send-file "$dir/in.bin" --wait 0 2>"$dir/$b.report" </dev/null
    grep -q 'reason "msgs=1 bytes=20000000 frames=20"' "$dir/$b.report" || {
        echo "$b: the report peer did not see one message of 20 frames:" >&2
        cat "$dir/$b.report" >&2
        exit 1
    }
    mkdir "$dir/out-$b"
    "$uniws" connect "ws://127.0.0.1:$port/echo" --backend "$b" --send-file "$dir/in.bin" \
        --save-dir "$dir/out-$b" 2>"$dir/$b.echo" </dev/null
    cmp "$dir/in.bin" "$dir/out-$b/msg-000001.bin" || {
        echo "$b: the saved echo differs from the file sent" >&2
        cat "$dir/$b.echo" >&2
        exit 1
    }
    [ "$(ls "$dir/out-$b" | wc -l)" -eq 1 ] || { echo "$b: more than one file saved" >&2; exit 1; }
    echo "$b: 20000000 bytes sent as one message of 20 frames, echoed and saved identical"
done
[ $tested -gt 0 ] || { echo "no backend to test" >&2; exit 77; }
