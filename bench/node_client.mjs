// node_client.mjs — the Node.js baselines for bench/run.sh: the same echo
// workload as `uniws bench` with the `ws` package (tests/node/node_modules,
// with bufferutil when installed) or Node's built-in WebSocket (undici; Node
// 20 needs --experimental-websocket). Same checks, same JSON line.
//   node bench/node_client.mjs --impl ws|undici --url ws://127.0.0.1:PORT/
//        --size N --count N --window N [--text] [--deflate] [--json] [--ws-dir DIR]
// --ws-dir: a folder whose node_modules holds ws (default tests/node).
// --text sends text messages; --deflate (ws only) offers permessage-deflate
// with ws's defaults, and the run fails if the server does not accept it.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const args = { wsDir: path.join(here, '..', 'tests', 'node'), impl: 'ws', size: 64, count: 10000, window: 1, json: false, text: false, deflate: false, timeout: 120 };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--json') { args.json = true; continue; }
  if (a === '--text') { args.text = true; continue; }
  if (a === '--deflate') { args.deflate = true; continue; }
  const m = /^--([a-z-]+)(?:=(.*))?$/.exec(a);
  if (!m) { console.error(`node_client: unexpected argument '${a}'`); process.exit(1); }
  const v = m[2] !== undefined ? m[2] : argv[++i];
  const num = (s) => {
    const k = /^(\d+)([kKmM]?)/.exec(s);
    if (!k) { console.error(`node_client: bad number '${s}'`); process.exit(1); }
    return Number(k[1]) * (k[2] ? (k[2].toLowerCase() === 'k' ? 1024 : 1048576) : 1);
  };
  switch (m[1]) {
    case 'impl': args.impl = v; break;
    case 'ws-dir': args.wsDir = v; break;
    case 'url': args.url = v; break;
    case 'size': args.size = num(v); break;
    case 'count': args.count = num(v); break;
    case 'window': args.window = num(v); break;
    case 'timeout': args.timeout = num(v); break;
    default: console.error(`node_client: unknown option --${m[1]}`); process.exit(1);
  }
}
if (!args.url) { console.error('node_client: needs --url'); process.exit(1); }
if (args.deflate && args.impl !== 'ws') { console.error('node_client: --deflate needs --impl ws'); process.exit(1); }

let WS;
let label;
if (args.impl === 'ws') {
  const require = createRequire(path.join(path.resolve(args.wsDir), 'package.json'));
  WS = require('ws');
  let bu = false;
  try { require.resolve('bufferutil'); bu = true; } catch { /* optional */ }
  label = `ws ${require('ws/package.json').version}${bu ? ' + bufferutil' : ''}`;
} else if (args.impl === 'undici') {
  if (typeof WebSocket !== 'function') {
    console.error('node_client: no global WebSocket (Node 20: run with --experimental-websocket)');
    process.exit(1);
  }
  WS = WebSocket;
  label = `undici (node ${process.versions.node})`;
} else {
  console.error(`node_client: unknown --impl '${args.impl}'`);
  process.exit(1);
}

// The same payload as bench/workload.c: a printable pattern whose first
// min(size, 16) bytes are the low hex digits of the sequence number.
const size = args.size;
const pattern = Buffer.alloc(size);
for (let i = 0; i < size; i++) pattern[i] = 97 + ((i + Math.floor(i / 251)) % 26);
const seqLen = Math.min(size, 16);
const stamp = (seq) => seq.toString(16).padStart(16, '0').slice(16 - seqLen);
const patternText = pattern.toString('latin1');
const make = (seq) => {
  if (args.text) return stamp(seq) + patternText.slice(seqLen);
  const b = Buffer.from(pattern);
  b.write(stamp(seq), 0, seqLen, 'latin1');
  return b;
};

let sent = 0;
let got = 0;
let full = 0;
let error = '';
const sentAt = new Array(args.window).fill(0n);
const rtts = [];
let t0 = 0n;
let t1 = 0n;
let cpu0;
let cpu1;
const fail = (msg) => { if (!error) error = msg; };

const ws = new WS(args.url, args.impl === 'ws' ? { perMessageDeflate: args.deflate } : undefined);
ws.binaryType = args.impl === 'ws' ? 'nodebuffer' : 'arraybuffer';
const send = () => {
  sentAt[sent % args.window] = process.hrtime.bigint();
  ws.send(make(sent));
  sent++;
};
const finish = () => {
  const secs = t1 > t0 ? Number(t1 - t0) / 1e9 : 0;
  const cpu = cpu1 ? (cpu1.user + cpu1.system) / 1e6 : 0;
  rtts.sort((a, b) => a - b);
  const pct = (p) => rtts.length ? rtts[Math.min(rtts.length - 1, Math.round(p / 100 * (rtts.length - 1)))] / 1000 : 0;
  const msgs = secs > 0 ? got / secs : 0;
  const r = {
    tool: `node-${args.impl}`, backend: label, type: args.text ? 'text' : 'binary', size, count: args.count,
    window: args.window, secs: +secs.toFixed(4), msgs_per_s: Math.round(msgs),
    mib_per_s: +(msgs * size / 1048576).toFixed(1), rtt_p50_us: +pct(50).toFixed(1),
    rtt_p99_us: +pct(99).toFixed(1), cpu_pct: secs > 0 ? +(100 * cpu / secs).toFixed(1) : 0,
    peak_rss_kib: process.resourceUsage().maxRSS, echoes: got, full_checks: full,
    ok: !error && got === args.count, error,
  };
  if (args.json) {
    console.log(JSON.stringify(r));
  } else {
    console.log(`${r.tool} on ${label}: ${args.url}, ${size}-byte ${r.type} messages`);
    console.log(`  ${r.msgs_per_s} msgs/s  ${r.mib_per_s} MiB/s  RTT p50 ${r.rtt_p50_us} us  ` +
      `p99 ${r.rtt_p99_us} us  CPU ${r.cpu_pct} %  peak RSS ${Math.round(r.peak_rss_kib / 1024)} MiB`);
    console.log(r.ok ? `  verified: ${got} echoes` : `  FAILED: ${error}`);
  }
  process.exit(r.ok ? 0 : (error.startsWith('echo ') ? 3 : 2));
};
const timer = setTimeout(() => { fail(`timed out after ${got} echoes`); finish(); }, args.timeout * 1000);
ws.onopen = () => {
  if (args.deflate && !/permessage-deflate/.test(ws.extensions)) {
    fail('the server did not accept permessage-deflate');
    ws.close(1000);
    return;
  }
  t0 = process.hrtime.bigint();
  cpu0 = process.cpuUsage();
  while (sent < args.count && sent < args.window) send();
};
ws.onmessage = (ev) => {
  const now = process.hrtime.bigint();
  const d = ev.data;
  const seq = got;
  rtts.push(Number(now - sentAt[seq % args.window]));
  got++;
  if (args.text) {
    // The pattern is ASCII: one character per byte.
    if (typeof d !== 'string') fail(`echo ${seq}: came back as binary`);
    else if (d.length !== size) fail(`echo ${seq}: ${d.length} bytes, sent ${size}`);
    else if (d.slice(0, seqLen) !== stamp(seq)) fail(`echo ${seq}: wrong sequence number`);
    else if (seq % 97 === 0 || got === args.count) {
      full++;
      if (d.slice(seqLen) !== patternText.slice(seqLen)) fail(`echo ${seq}: content differs`);
    }
  } else {
    const buf = Buffer.isBuffer(d) ? d : Buffer.from(d);
    if (typeof d === 'string') fail(`echo ${seq}: came back as text`);
    else if (buf.length !== size) fail(`echo ${seq}: ${buf.length} bytes, sent ${size}`);
    else if (buf.toString('latin1', 0, seqLen) !== stamp(seq)) fail(`echo ${seq}: wrong sequence number`);
    else if (seq % 97 === 0 || got === args.count) {
      full++;
      if (buf.compare(pattern, seqLen, size, seqLen, size) !== 0) fail(`echo ${seq}: content differs`);
    }
  }
  if (error) { ws.close(1000); return; }
  if (got === args.count) {
    t1 = process.hrtime.bigint();
    cpu1 = process.cpuUsage(cpu0);
    ws.close(1000);
  } else if (sent < args.count) {
    send();
  }
};
ws.onerror = (ev) => fail(`error: ${ev.message || ev.error || 'connection failed'}`);
ws.onclose = () => { clearTimeout(timer); finish(); };
