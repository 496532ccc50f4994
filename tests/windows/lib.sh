# lib.sh — sourced by the tests/windows scripts (bash): a temporary folder
# $tmp (removed on exit, with every server started here), ok/fail lines and
# $failed (the script's exit status), starting a server and waiting for its
# URL, and the echo round trip's inputs and checks shared by test_connect.sh
# (uniws.exe connect -> native serve) and test_serve.sh (native connect ->
# uniws.exe serve). wine's output always goes to files, never to a pipe.
tmp=$(mktemp -d)
failed=0
lib_pids=()
lib_cleanup() {
  for p in "${lib_pids[@]}"; do
    kill "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  rm -rf "$tmp"
}
trap lib_cleanup EXIT
fail() { echo "  FAIL  $*"; failed=1; }
ok() { echo "  ok    $*"; }

# start_server NAME TRIES CMD... : runs CMD in the background (output in
# $tmp/NAME.out and .err) and waits up to TRIES tenths of a second for its
# "listening on ws://127.0.0.1:PORT" line (a Windows program ends it with
# CRLF). Sets server_pid and server_url; exits 1 when the line never comes.
start_server() {
  local name=$1 tries=$2
  shift 2
  "$@" </dev/null >"$tmp/$name.out" 2>"$tmp/$name.err" &
  server_pid=$!
  lib_pids+=("$server_pid")
  server_url=""
  for _ in $(seq 1 "$tries"); do
    server_url=$(tr -d '\r' <"$tmp/$name.out" |
      sed -n 's/^listening on \(ws:\/\/127\.0\.0\.1:[0-9]*\)$/\1/p')
    [ -n "$server_url" ] && return 0
    sleep 0.1
  done
  echo "  FAIL  the $name server did not start: $*"
  cat "$tmp/$name.err"
  exit 1
}

# echo_inputs GREETING : the round trip's inputs and what must come back.
# in.txt: lines with UTF-8, an empty line and a last line without a newline
# (want.txt: the lines as echoed); bin1.dat: 3000 random bytes without a
# newline, one --binary message (bwant.dat: it and a newline).
echo_inputs() {
  printf '%s\n\n\xc3\xa9t\xc3\xa9 \xe2\x9c\x93\nline %s\nlast' "$1" 4 >"$tmp/in.txt"
  printf '%s\n\n\xc3\xa9t\xc3\xa9 \xe2\x9c\x93\nline 4\nlast\n' "$1" >"$tmp/want.txt"
  head -c 3000 /dev/urandom | tr '\n' ' ' >"$tmp/bin1.dat"
  { cat "$tmp/bin1.dat"; printf '\n'; } >"$tmp/bwant.dat"
}

# check_text LABEL STATUS : the text round trip (in.txt -> out.txt) exited 0
# with want.txt; check_binary LABEL STATUS: bin1.dat -> bout.dat likewise.
# Both show err.txt on a failure.
check_text() {
  if [ "$2" = 0 ] && cmp -s "$tmp/out.txt" "$tmp/want.txt"; then
    ok "$1: 5 lines echoed in order, clean close (exit 0)"
  else
    fail "$1: text round trip: exit $2"
    diff "$tmp/want.txt" "$tmp/out.txt" | head -10
    head -5 "$tmp/err.txt"
  fi
}
check_binary() {
  if [ "$2" = 0 ] && cmp -s "$tmp/bout.dat" "$tmp/bwant.dat"; then
    ok "$1: 3000-byte binary message echoed byte for byte"
  else
    fail "$1: binary round trip: exit $2, $(wc -c <"$tmp/bout.dat") bytes back"
    head -5 "$tmp/err.txt"
  fi
}
