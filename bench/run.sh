#!/usr/bin/env bash
# run.sh — the side-by-side benchmark (issue 5): builds the Release benchmark
# programs, starts the bench echo server pinned to core 0, and runs every
# client pinned to core 1 — uniws on each native backend, the raw
# libwebsockets and libcurl baselines, plain TCP, WebSocket with nothing else
# (raw-ws, big messages only), and Node.js (`ws`, and the built-in undici
# WebSocket) — interleaved (A B C A B C ...), REPS times, then
# prints a markdown table of medians with ratios and writes it to
# bench/results/latest.md (raw JSON lines in bench/results/runs.jsonl).
#
#   bench/run.sh [--quick] [--reps N] [--build DIR] [--no-build] [--only WORKLOAD,...]
#                [--out DIR] [--transport ws,wss] [--pairs N]
#
# --transport: ws (plain), wss (TLS: a second server with --tls and a test
# certificate every client verifies; raw-tls, TLS over TCP, is the ceiling),
# or both (default), interleaved per workload; one table per transport.
#
# --out puts latest.md and runs.jsonl elsewhere (ctest bench.run_sh does).
#
# --pairs N: after the repetitions, N drift-controlled rounds of the rows
# compared with the ceiling (1m, 16m): the ceiling client before and after
# each round of the uniws clients and raw-ws (default 9; --quick 1; 0: none).
#
# --quick divides every count by 10 and runs once (a sanity check, not data).
# Workload names: small, rtt, 4k, 1m, 16m, conn, idle, pmd-4k, pmd-1m.
# pmd-*: compressible text with permessage-deflate (uniws and node `ws` only).
# With iperf3 installed (and not --quick) each repetition also measures
# iperf3's loopback TCP throughput, pinned the same way, printed after the table.
set -euo pipefail
orig_args="$*"
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build-release
reps=3
quick=0
do_build=1
only=""
results=""
transports=ws,wss
pair_rounds=""
while [ $# -gt 0 ]; do
  case $1 in
    --quick) quick=1; reps=1 ;;
    --reps) reps=$2; shift ;;
    --build) build=$(realpath -m "$2"); shift ;;
    --no-build) do_build=0 ;;
    --only) only=$2; shift ;;
    --out) results=$(realpath -m "$2"); shift ;;
    --transport) transports=$2; shift ;;
    --pairs) pair_rounds=$2; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1" >&2; exit 1 ;;
  esac
  shift
done

if [ $do_build = 1 ]; then
  # Warnings are CI's business; -O3 finds a few -Werror builds would stop on.
  cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release -DUNIWS_BUILD_TESTS=OFF \
    -DUNIWS_WERROR=OFF >/dev/null
  targets=(uniws-bench uniws-bench-server raw-tcp raw-tls raw-ws)
  grep -q '^LWS_FOUND:INTERNAL=1' "$build/CMakeCache.txt" && targets+=(raw-lws)
  grep -q '^CURL_FOUND:INTERNAL=1' "$build/CMakeCache.txt" && targets+=(raw-curl)
  cmake --build "$build" -j2 --target "${targets[@]}" >/dev/null
fi
bin=$build/bench
[ -x "$bin/uniws-bench" ] || { echo "run.sh: $bin/uniws-bench missing (is bench/ added to the build?)" >&2; exit 1; }
results=${results:-$root/bench/results}
mkdir -p "$results"
runs=$results/runs.jsonl
: > "$runs"

# Node.js peers: `ws` with bufferutil, installed once into the build folder.
nodedir=$build/bench-node
if command -v node >/dev/null && [ ! -d "$nodedir/node_modules/ws" ]; then
  mkdir -p "$nodedir"
  (cd "$nodedir" && [ -f package.json ] || echo '{"private":true}' > package.json
   npm install --silent --no-audit --no-fund ws bufferutil >/dev/null 2>&1) ||
    echo "run.sh: could not install ws + bufferutil; node-ws uses tests/node" >&2
fi
[ -d "$nodedir/node_modules/ws" ] || nodedir=$root/tests/node

IFS=',' read -r -a transports <<< "$transports"
for t in "${transports[@]}"; do
  [[ $t == ws || $t == wss ]] || { echo "run.sh: unknown transport '$t' (ws, wss)" >&2; exit 1; }
done

# ---- the servers ---------------------------------------------------------------
# One per transport, both on core 0 (only one is busy at a time).
srvout=$(mktemp)
tlsout=$(mktemp)
taskset -c 0 "$bin/uniws-bench-server" --port 0 > "$srvout" &
srv=$!
tls_srv=""
ca=""
trap 'kill $srv $tls_srv 2>/dev/null; rm -f "$srvout" "$tlsout"' EXIT
if [[ " ${transports[*]} " == *" wss "* ]]; then
  taskset -c 0 "$bin/uniws-bench-server" --port 0 --tls > "$tlsout" &
  tls_srv=$!
fi
for _ in $(seq 100); do port=$(awk '/^port /{print $2}' "$srvout"); [ -n "$port" ] && break; sleep 0.05; done
url=ws://127.0.0.1:$port/
if [ -n "$tls_srv" ]; then
  for _ in $(seq 200); do tls_port=$(awk '/^port /{print $2}' "$tlsout"); [ -n "$tls_port" ] && break; sleep 0.05; done
  [ -n "$tls_port" ] || { echo "run.sh: the TLS bench server did not start" >&2; cat "$tlsout" >&2; exit 1; }
  ca=$(awk '/^ca /{print $2}' "$tlsout")
fi

# ---- the clients ---------------------------------------------------------------
tools=()
has_backend() { "$bin/uniws-bench" --backend "$1" --url "$url" --size 1 --count 1 --json >/dev/null 2>&1; }
tools+=(tcp)
if [ -x "$bin/raw-ws" ]; then tools+=(raw-ws); fi
if [ -x "$bin/raw-lws" ]; then tools+=(raw-lws); fi
if has_backend lws; then tools+=(uniws-lws); fi
if [ -x "$bin/raw-curl" ]; then tools+=(raw-curl); fi
if has_backend curl; then tools+=(uniws-curl); fi
if [ -d "$nodedir/node_modules/ws" ]; then tools+=(node-ws); fi
if command -v node >/dev/null && node --experimental-websocket -e 'process.exit(typeof WebSocket === "function" ? 0 : 1)' 2>/dev/null; then
  tools+=(node-undici)
fi
# wss: the same clients, with raw-tls (TLS over TCP) in place of tcp, and
# without raw-ws (ws:// only).
tools_wss=()
for t in "${tools[@]}"; do
  if [ "$t" = tcp ]; then [ -x "$bin/raw-tls" ] && tools_wss+=(tls)
  elif [ "$t" != raw-ws ]; then tools_wss+=("$t"); fi
done

client() { # tool -> command line
  case $1 in
    tcp) echo "$bin/raw-tcp" ;;
    tls) echo "$bin/raw-tls" ;;
    raw-ws) echo "$bin/raw-ws" ;;
    raw-lws) echo "$bin/raw-lws" ;;
    raw-curl) echo "$bin/raw-curl" ;;
    uniws-lws) echo "$bin/uniws-bench --backend lws" ;;
    uniws-curl) echo "$bin/uniws-bench --backend curl" ;;
    node-ws) echo "node $root/bench/node_client.mjs --impl ws --ws-dir $nodedir" ;;
    node-undici) echo "node --no-warnings --experimental-websocket $root/bench/node_client.mjs --impl undici" ;;
  esac
}

div() { if [ $quick = 1 ]; then echo $(( ($1 + 9) / 10 )); else echo "$1"; fi; }
# name|args|tools that can run it (all: every tool)[|runs per repetition]
# The round trip is short (~1.5 s a run) and the noisiest row: a run's p50
# moves by +-15 % from one run to the next on this kind of machine, the same
# for every client, so each repetition runs it three times (interleaved too).
# The idle window is 10 s: an idle client makes one system call in it (or
# none), and a few hundred microseconds the kernel charges around one sleep
# and wake-up made half of a 2 s window's reading, for every client alike.
workloads=(
  "small|--size 64 --count $(div 200000) --window 64|all"
  "rtt|--size 64 --count $(div 20000) --window 1|all|3"
  "4k|--size 4K --count $(div 50000) --window 64|all"
  "1m|--size 1M --count $(div 400) --window 4|all"
  "16m|--size 16M --count $(div 30) --window 1|all"
  "conn|--connections $(div 10000) --size 64|native"
  "idle|--connections 1000 --size 64 --idle-ms $(div 10000)|native"
  "pmd-4k|--size 4K --count $(div 20000) --window 64 --text --deflate|pmd"
  "pmd-1m|--size 1M --count $(div 100) --window 4 --text --deflate|pmd"
)
# raw-ws (WebSocket with nothing else: the protocol's ceiling) takes big
# binary messages only.
raw_ws_workloads=" 1m 16m "
# The rows compared with the ceiling, and how many drift-controlled rounds
# they get after the repetitions (below; --pairs, 0: none).
pair_workloads=" 1m 16m "
[ -n "$pair_rounds" ] || { [ $quick = 1 ] && pair_rounds=1 || pair_rounds=9; }
[[ $pair_rounds =~ ^[0-9]+$ ]] || { echo "run.sh: --pairs takes a number of rounds" >&2; exit 1; }

ticks() { awk '{print $14 + $15}' "/proc/$spid/stat"; }
hz=$(getconf CLK_TCK)
echo "run.sh: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); server pid $srv on core 0, clients on core 1" >&2
if awk '{exit !($1 > 0.5)}' /proc/loadavg; then
  echo "run.sh: warning: the machine is busy (load above 0.5); other work skews every number" >&2
fi
echo "run.sh: tools: ${tools[*]}; transports: ${transports[*]}" >&2
# iperf3's loopback figure, once per repetition (MiB/s, server core 0, client core 1).
iperf_runs=()
iperf_once() {
  command -v iperf3 >/dev/null && [ $quick = 0 ] || return 0
  local p ip out
  p=$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')
  taskset -c 0 iperf3 -s -1 -B 127.0.0.1 -p "$p" >/dev/null 2>&1 &
  ip=$!
  for _ in $(seq 50); do out=$(taskset -c 1 iperf3 -c 127.0.0.1 -p "$p" -t 3 -J 2>/dev/null) && break; sleep 0.1; done
  kill $ip 2>/dev/null || true; wait $ip 2>/dev/null || true
  out=$(echo "$out" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{try{console.log((JSON.parse(s).end.sum_received.bits_per_second/8/1048576).toFixed(0))}catch{}})')
  [ -n "$out" ] && iperf_runs+=("$out") && echo "rep $rep iperf3 loopback: $out MiB/s" >&2
  return 0
}
# The transport's server, URL and TLS arguments, and its clients.
use_transport() {
  if [ "$1" = wss ]; then
    spid=$tls_srv; turl=wss://127.0.0.1:$tls_port/; tls_args=(--ca "$ca"); ttools=("${tools_wss[@]}")
  else
    spid=$srv; turl=$url; tls_args=(); ttools=("${tools[@]}")
  fi
}
# One client run: rep name args which transport tool [pass round]; its JSON
# line (with the server's CPU over the run) goes to runs.jsonl.
run_one() {
  local rep=$1 name=$2 args=$3 which=$4 tr=$5 tool=$6 pass=${7:-} round=${8:-}
  local s0 s1 t0 t1 targs purl line srv_s wall_s extra=""
  s0=$(ticks); t0=$(date +%s%N)
  # Node verifies with NODE_EXTRA_CA_CERTS; the C clients with --ca.
  targs=("${tls_args[@]}")
  [[ $tool == node-* ]] && targs=()
  # The server accepts permessage-deflate on /deflate only.
  purl=$turl; [ "$which" = pmd ] && purl=${turl}deflate
  # shellcheck disable=SC2046
  line=$(env ${ca:+NODE_EXTRA_CA_CERTS=$ca} taskset -c 1 $(client "$tool") --url "$purl" "${targs[@]}" $args --json --timeout 300 2>/dev/null | tail -1) || true
  t1=$(date +%s%N); s1=$(ticks)
  [ -n "$line" ] || line='{"ok":false,"error":"no output"}'
  srv_s=$(awk -v a="$s0" -v b="$s1" -v hz="$hz" 'BEGIN{printf "%.3f", (b - a) / hz}')
  wall_s=$(awk -v t0="$t0" -v t1="$t1" 'BEGIN{printf "%.3f", (t1 - t0) / 1e9}')
  [ -n "$pass" ] && extra=",\"pass\":\"$pass\",\"round\":$round"
  echo "{\"rep\":$rep,\"workload\":\"$name\",\"transport\":\"$tr\",\"label\":\"$tool\"$extra,\"server_cpu_s\":$srv_s,\"wall_s\":$wall_s,\"run\":$line}" >> "$runs"
  printf 'rep %s %-6s %-3s %-12s %s\n' "$rep${pass:+ $pass $round}" "$name" "$tr" "$tool" "$(echo "$line" | cut -c1-150)" >&2
}
for rep in $(seq "$reps"); do
  iperf_once
  for w in "${workloads[@]}"; do
    IFS='|' read -r name args which inner <<< "$w"
    if [ -n "$only" ] && [[ ",$only," != *",$name,"* ]]; then continue; fi
    [ $quick = 1 ] && inner=1
    for _ in $(seq "${inner:-1}"); do
    for tr in "${transports[@]}"; do
    use_transport "$tr"
    for tool in "${ttools[@]}"; do
      if [ "$which" = native ] && [[ $tool == tcp || $tool == tls || $tool == node-* ]]; then continue; fi
      if [ "$which" = pmd ] && [[ $tool != uniws-* && $tool != node-ws ]]; then continue; fi
      if [ "$tool" = raw-ws ] && [[ $raw_ws_workloads != *" $name "* ]]; then continue; fi
      run_one "$rep" "$name" "$args" "$which" "$tr" "$tool"
    done
    done
    done
  done
done

# ---- the ceiling rows, drift-controlled ----------------------------------------
# The big-message rows compare uniws with the machine's ceiling (tcp, or tls on
# wss). On a machine whose speed drifts within seconds (a VM: the same client
# moves by +-20 % from one run to the next, in phases), medians of runs made
# seconds apart compare phases as much as clients. So the ceiling also runs
# right before and after each round of uniws-lws, uniws-curl and raw-ws
# (tcp A B C tcp A B C ... tcp), and each run is divided by the geometric mean
# of the ceiling runs either side of it: a slow phase slows both. The table
# prints the median of these per-round ratios next to the medians' ratios.
if [ "$pair_rounds" -gt 0 ]; then
  for w in "${workloads[@]}"; do
    IFS='|' read -r name args which inner <<< "$w"
    [[ " $pair_workloads " == *" $name "* ]] || continue
    if [ -n "$only" ] && [[ ",$only," != *",$name,"* ]]; then continue; fi
    for tr in "${transports[@]}"; do
      use_transport "$tr"
      ceil=tcp; [ "$tr" = wss ] && ceil=tls
      [[ " ${ttools[*]} " == *" $ceil "* ]] || continue
      for round in $(seq 0 "$pair_rounds"); do
        run_one 0 "$name" "$args" "$which" "$tr" "$ceil" paired "$round"
        [ "$round" = "$pair_rounds" ] && break
        for tool in uniws-lws uniws-curl raw-ws; do
          [[ " ${ttools[*]} " == *" $tool "* ]] || continue
          run_one 0 "$name" "$args" "$which" "$tr" "$tool" paired "$round"
        done
      done
    done
  done
fi

cmd="bench/run.sh${orig_args:+ $orig_args}"
node "$root/bench/table.mjs" "$runs" "$cmd" | tee "$results/latest.md"
if [ ${#iperf_runs[@]} -gt 0 ]; then
  echo "
iperf3 loopback TCP in the same run (one stream, 3 s, server core 0, client core 1): median $(printf '%s\n' "${iperf_runs[@]}" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}') MiB/s (runs: ${iperf_runs[*]})." | tee -a "$results/latest.md"
fi
