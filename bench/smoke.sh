#!/usr/bin/env bash
# smoke.sh — ctest `bench.smoke`: not a timing test. Runs every benchmark
# client on tiny workloads against the bench echo server (uniws bench on each
# compiled backend, plus the raw baselines) and checks that each run verified
# every echo; then proves the checks can fail: against a server that corrupts
# every 7th frame each client must report a bad echo (exit status 3).
# Then the same over wss:// (the server with --tls): every client verifies
# the test certificate with --ca, fails without it (verification is on),
# runs with --insecure, and catches a corrupted echo.
#   smoke.sh SERVER BACKENDS_CSV UNIWS_BENCH [RAW_CLIENT...]
set -uo pipefail
server=$1
IFS=',' read -r -a backends <<< "$2"
bench=$3
shift 3
raws=("$@")
tmp=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
passed=0
failed=0

start_server() { # name args... -> sets $port
  "$server" "${@:2}" > "$tmp/$1.out" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do
    port=$(awk '/^port /{print $2}' "$tmp/$1.out")
    [ -n "$port" ] && return 0
    sleep 0.05
  done
  echo "smoke: the bench server did not start"; cat "$tmp/$1.out"; exit 1
}

# expect STATUS "WHAT" COUNT CMD... : the run exits with STATUS, prints one
# JSON line whose ok/echoes fields agree (echoes == COUNT when STATUS is 0).
# A failed run with no echo that prints a line says "secs":0 (no measured
# part: the line once carried the monotonic clock's reading instead); a run
# that fails on echo N counts N verified echoes, not the bad one.
expect() {
  local want=$1 what=$2 count=$3
  shift 3
  local out st
  out=$("$@" --json --timeout 60 2>&1)
  st=$?
  local ok=false
  [[ $out == *'"ok":true'* ]] && ok=true
  local good=0
  if [ "$want" = 0 ]; then
    [ $st = 0 ] && $ok && [[ $out == *"\"echoes\":$count,"* ]] && good=1
  else
    [ $st = "$want" ] && ! $ok && good=1
    if [[ $out == *'"echoes":0,'* && $out == *'"secs":'* && $out != *'"secs":0.0000,'* ]]; then
      good=0
    fi
    if [[ $out =~ \"error\":\"echo\ ([0-9]+): && $out != *"\"echoes\":${BASH_REMATCH[1]},"* ]]; then
      good=0
    fi
  fi
  if [ $good = 1 ]; then
    passed=$((passed + 1)); echo "ok    $what"
  else
    failed=$((failed + 1)); echo "FAIL  $what (exit $st, wanted $want)"; echo "      $out"
  fi
}

start_server good --port 0
good=$port
start_server bad --port 0 --corrupt-every 7
bad=$port

workloads=("--size 100 --count 300 --window 8:300" "--size 70000 --count 12 --window 3:12"
           "--size 0 --count 50 --window 1:50" "--size 3 --count 40 --window 40:40"
           "--size 200000 --count 4 --window 2 --text:4" "--connections 40 --size 32:40")
for b in "${backends[@]}"; do
  [ -n "$b" ] || continue
  url=(--url "ws://127.0.0.1:$good/")
  purl=(--url "ws://127.0.0.1:$good/deflate")
  badurl=(--url "ws://127.0.0.1:$bad/")
  if [ "$b" = loopback ]; then url=(); badurl=(); fi
  for w in "${workloads[@]}"; do
    expect 0 "uniws bench --backend $b ${w%%:*}" "${w##*:}" "$bench" --backend "$b" "${url[@]}" ${w%%:*}
  done
  if [ "$b" != loopback ]; then
    expect 0 "uniws bench --backend $b (in-process server)" 100 "$bench" --backend "$b" --size 1000 --count 100 --window 4
    expect 3 "uniws bench --backend $b flags a corrupted echo" 0 "$bench" --backend "$b" "${badurl[@]}" --size 100 --count 50 --window 4
    # permessage-deflate: the bench server accepts it on /deflate only and
    # echoes compressed frames; elsewhere --deflate must fail the run.
    expect 2 "uniws bench --backend $b --deflate, not on /deflate" 0 "$bench" --backend "$b" "${url[@]}" --size 4K --count 20 --window 4 --text --deflate
    expect 0 "uniws bench --backend $b --deflate (4 KiB text)" 200 "$bench" --backend "$b" "${purl[@]}" --size 4K --count 200 --window 16 --text --deflate
    expect 0 "uniws bench --backend $b --deflate (200000-byte text)" 4 "$bench" --backend "$b" "${purl[@]}" --size 200000 --count 4 --window 2 --text --deflate
  fi
done
for c in "${raws[@]}"; do
  name=$(basename "$c")
  [ "$name" = raw-tls ] && continue # wss only, below
  if [ "$name" = raw-ws ]; then # big binary messages, ws:// only
    expect 0 "raw-ws --size 70000" 12 "$c" --url "ws://127.0.0.1:$good/" --size 70000 --count 12 --window 3
    expect 0 "raw-ws --size 1M" 6 "$c" --url "ws://127.0.0.1:$good/" --size 1M --count 6 --window 2
    expect 3 "raw-ws flags a corrupted echo" 0 "$c" --url "ws://127.0.0.1:$bad/" --size 70000 --count 20 --window 4
    expect 1 "raw-ws refuses small messages" 0 "$c" --url "ws://127.0.0.1:$good/" --size 100 --count 5
    continue
  fi
  for w in "${workloads[@]}"; do
    args=${w%%:*}
    # plain TCP has no empty messages, no text, and no connection mode
    if [ "$name" = raw-tcp ] && [[ $args == *"--size 0 "* || $args == *--text* || $args == *--connections* ]]; then continue; fi
    expect 0 "$name $args" "${w##*:}" "$c" --url "ws://127.0.0.1:$good/" $args
  done
  if [ "$name" != raw-tcp ]; then
    expect 3 "$name flags a corrupted echo" 0 "$c" --url "ws://127.0.0.1:$bad/" --size 100 --count 50 --window 4
  fi
done
# ---- wss:// ----
start_server tls --port 0 --tls
tls=$port
ca=$(awk '/^ca /{print $2}' "$tmp/tls.out")
start_server tlsbad --port 0 --tls --corrupt-every 7
tlsbad=$port
cabad=$(awk '/^ca /{print $2}' "$tmp/tlsbad.out")
wss=()
for b in "${backends[@]}"; do
  [ -n "$b" ] && [ "$b" != loopback ] && wss+=("$bench --backend $b")
done
for c in "${raws[@]}"; do
  [[ "$(basename "$c")" == raw-tcp || "$(basename "$c")" == raw-ws ]] || wss+=("$c")
done
for cl in "${wss[@]}"; do
  read -r -a cmd <<< "$cl"
  name="${cmd[*]##*/}"
  expect 0 "$name wss --ca" 300 "${cmd[@]}" --url "wss://127.0.0.1:$tls/" --ca "$ca" --size 100 --count 300 --window 8
  expect 0 "$name wss --ca 70000 B" 12 "${cmd[@]}" --url "wss://127.0.0.1:$tls/" --ca "$ca" --size 70000 --count 12 --window 3
  expect 0 "$name wss --insecure" 20 "${cmd[@]}" --url "wss://127.0.0.1:$tls/" --insecure --size 10 --count 20
  expect 2 "$name wss refuses an unknown certificate" 0 "${cmd[@]}" --url "wss://127.0.0.1:$tls/" --size 10 --count 20
  if [[ $name != *raw-tls* ]]; then # the raw echo is never corrupted
    expect 3 "$name wss flags a corrupted echo" 0 "${cmd[@]}" --url "wss://127.0.0.1:$tlsbad/" --ca "$cabad" --size 100 --count 50 --window 4
    expect 0 "$name wss --connections 20" 20 "${cmd[@]}" --url "wss://127.0.0.1:$tls/" --ca "$ca" --connections 20 --size 32
  fi
done
echo "$passed passed, $failed failed"
[ $failed = 0 ]
