// js_node.mjs — runs js_bench.mjs (the runtime's own WebSocket from plain
// JavaScript) under Node.js and prints the bench JSON line (--json) or a
// short summary. Node.js 20 needs --experimental-websocket.
//   node --experimental-websocket bench/web/js_node.mjs --url ws://127.0.0.1:PORT/
//        --size N --count N --window N [--timeout S] [--json]
// Exit status as every bench client: 0 ok, 1 usage, 2 failed, 3 bad echo.
import { runEcho } from './js_bench.mjs';

const o = { size: 64, count: 10000, window: 1, timeout: 120, json: false };
const argv = process.argv.slice(2);
const num = (s) => {
  const k = /^(\d+)([kKmM]?)$/.exec(s || '');
  if (!k) { console.error(`js_node: bad number '${s}'`); process.exit(1); }
  return Number(k[1]) * (k[2] ? (k[2].toLowerCase() === 'k' ? 1024 : 1048576) : 1);
};
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--json') { o.json = true; continue; }
  const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
  if (!m) { console.error(`js_node: unexpected argument '${a}'`); process.exit(1); }
  const v = m[2] !== undefined ? m[2] : argv[++i];
  switch (m[1]) {
    case 'url': o.url = v; break;
    case 'size': o.size = num(v); break;
    case 'count': o.count = num(v); break;
    case 'window': o.window = num(v); break;
    case 'timeout': o.timeout = num(v); break;
    default: console.error(`js_node: unknown option --${m[1]}`); process.exit(1);
  }
}
if (!o.url) { console.error('js_node: needs --url'); process.exit(1); }
if (typeof WebSocket !== 'function') {
  console.error('js_node: no global WebSocket (Node.js 20: run with --experimental-websocket)');
  process.exit(1);
}
const r = await runEcho(o);
if (o.json) {
  console.log(JSON.stringify(r));
} else {
  console.log(`js on ${r.backend}: ${o.url}, ${r.size}-byte binary messages`);
  console.log(`  ${r.msgs_per_s} msgs/s  ${r.mib_per_s} MiB/s  RTT p50 ${r.rtt_p50_us} us  ` +
    `p99 ${r.rtt_p99_us} us  CPU ${r.cpu_pct} %`);
  console.log(r.ok ? `  verified: ${r.echoes} echoes (${r.full_checks} compared in full)` : `  FAILED: ${r.error}`);
}
process.exit(r.ok ? 0 : (r.error.startsWith('echo ') ? 3 : 2));
