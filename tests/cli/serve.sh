# serve.sh — sourced by the tests/cli shell tests (POSIX sh): a temporary
# folder $dir (removed on exit, INT or TERM, with the server), and
# start_serve CMD... which runs CMD (a `uniws serve --port 0 ...` command)
# in the background with its log in $dir/serve.log, waits up to 10 s for
# its "listening" line and sets $server_pid and $port.
dir=$(mktemp -d)
server_pid=
cleanup() {
    [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

start_serve() {
    "$@" >"$dir/serve.log" 2>&1 &
    server_pid=$!
    i=0
    while ! grep -q listening "$dir/serve.log" 2>/dev/null; do
        i=$((i + 1))
        [ $i -gt 100 ] && { echo "server did not start" >&2; exit 1; }
        sleep 0.1
    done
    port=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$dir/serve.log" | head -n 1)
}
