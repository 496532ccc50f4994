// run-web.mjs — the browser benchmark (issue 13): `uniws bench` built with
// Emscripten (uniws-bench.js) next to the runtime's own WebSocket driven from
// plain JavaScript (js_bench.mjs), both in Node.js (--experimental-websocket)
// and in headless Chromium (Debian's, started directly with no DevTools
// connection: see runChromium), against the native
// uniws-bench-server on 127.0.0.1. Runs every client on one workload before
// the next (interleaved, --reps times, in ABBA order), writes every run's JSON
// line to OUT/runs-web.jsonl (bench/run.sh's format) and prints a markdown
// table of medians with the ratio uniws / runtime per engine and the median
// of the ratios of neighbouring runs (also OUT/latest-web.md).
//
//   node bench/web/run-web.mjs --wasm BUILD/bench/web/uniws-bench.js
//        (--server NATIVE/bench/uniws-bench-server | --url ws://127.0.0.1:PORT/)
//        [--engines node,chromium] [--quick] [--reps N] [--only small,rtt,4k,1m,16m]
//        [--out DIR] [--check] [--no-pin] [--chromium PATH] [--scale N] [--ab OLD.js]
//        [--phases] [--malloc steady|as-is]
//   node bench/web/run-web.mjs --pool OUT1/runs-web.jsonl,OUT2/runs-web.jsonl [--phases] [--only ...]
//
// --quick divides every count by 10 and runs once (plumbing, not data);
// --scale N divides every count by N (with or without --quick).
// --ab OLD.js runs a second uniws-bench.js (e.g. a build before a change) as a
// third client, interleaved with the others, and adds a table new / old.
// --phases runs the Node.js clients only, each with phases.cjs preloaded, and
// prints where a message's time goes instead of the timed table: inside
// undici's send(), inside its receiving, inside the client's own handler,
// the rest of the CPU, waiting (µs per message; latest-web-phases.md). The
// timing costs every client the same few calls per message: the figures are
// for comparing the clients' parts, not for the throughput table.
// --malloc steady (the default) starts every Node.js client with glibc's heap
// held steady: MALLOC_MMAP_THRESHOLD_=32 MiB and MALLOC_TRIM_THRESHOLD_=256 MiB,
// so a freed 16 MiB buffer goes back to the heap, not to the kernel. Without it
// (--malloc as-is: the caller's environment unchanged) the 1 MiB and 16 MiB rows
// in Node.js follow how often glibc happens to trim its heap under undici's own
// buffers — page faults, not the clients — and swing 0.75–1.25× either way run
// to run (docs/performance.md). Chromium's buffers are not glibc's: untouched.
// Every Node.js line in runs-web.jsonl records the mode it ran in.
// --pool FILE,FILE... runs nothing: it makes the table (or with --phases the
// phases table) of earlier runs' runs-web.jsonl taken together, their
// repetitions numbered on (runs of one tree on this machine, which the
// caption names: a larger sample; each file keeps its own pairs).
// --check exits 1 unless every client produced a verified line on every
// workload, and (with --server) unless every client in every engine flags
// the bad echo of a server started with --corrupt-every 7, and unless uniws
// in Node.js posts far fewer engine tasks than it receives echoes
// (count_tasks.cjs), and unless phases.cjs accounts for every message of
// either client in Node.js, and unless --pool of the run's own lines twice
// gives its rows (ctest wasm.bench_web); no timing is ever asserted.
// Pinning (default with 2+ cores and taskset): the server on core 0, this
// script and every client (Node.js, Chromium's processes) on core 1.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');

const o = { engines: 'node,chromium', malloc: 'steady', reps: 3, quick: false, scale: 0, check: false, pin: true,
  out: path.join(root, 'bench', 'results') };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const v = () => argv[++i];
  if (a === '--wasm') o.wasm = path.resolve(v());
  else if (a === '--server') o.server = path.resolve(v());
  else if (a === '--url') o.url = v();
  else if (a === '--engines') o.engines = v();
  else if (a === '--reps') o.reps = Number(v());
  else if (a === '--quick') { o.quick = true; o.reps = 1; }
  else if (a === '--scale') o.scale = Number(v());
  else if (a === '--only') o.only = v();
  else if (a === '--out') o.out = path.resolve(v());
  else if (a === '--check') o.check = true;
  else if (a === '--no-pin') o.pin = false;
  else if (a === '--chromium') o.chromium = v();
  else if (a === '--ab') o.ab = path.resolve(v());
  else if (a === '--phases') o.phases = true;
  else if (a === '--malloc') o.malloc = v();
  else if (a === '--pool') o.pool = v().split(',').filter(Boolean).map((f) => path.resolve(f));
  else if (a === '-h' || a === '--help') {
    const lines = fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n');
    console.log(lines.slice(0, lines.findIndex((l) => !l.startsWith('//')))
      .map((l) => l.replace(/^\/\/ ?/, '')).join('\n'));
    process.exit(0);
  } else { console.error(`run-web: unknown option ${a}`); process.exit(1); }
}
if (o.pool) {
  const missing = o.pool.filter((f) => !fs.existsSync(f));
  if (!o.pool.length) { console.error('run-web: --pool needs FILE[,FILE...] (runs-web.jsonl of earlier runs)'); process.exit(1); }
  if (missing.length) { console.error(`run-web: --pool: no such file ${missing.join(', ')}`); process.exit(1); }
} else if (!o.wasm || !fs.existsSync(o.wasm)) { console.error('run-web: --wasm uniws-bench.js is required'); process.exit(1); }
if (!o.pool && !o.url && !(o.server && fs.existsSync(o.server))) {
  console.error('run-web: --server PATH (uniws-bench-server) or --url is required');
  process.exit(1);
}
if (!['steady', 'as-is'].includes(o.malloc)) {
  console.error(`run-web: --malloc takes steady or as-is, not ${o.malloc}`);
  process.exit(1);
}
if (o.ab && !fs.existsSync(o.ab)) { console.error(`run-web: --ab ${o.ab}: no such file`); process.exit(1); }
if (o.phases && o.engines.split(',').some((e) => e !== 'node')) {
  console.error('run-web: --phases times Node.js clients only (phases.cjs): running --engines node');
}
let engines = o.phases ? ['node'] : o.engines.split(',').filter(Boolean);
const PHASES = path.join(here, 'phases.cjs');
const clients = o.ab ? ['uniws', 'old', 'js'] : ['uniws', 'js'];
const labelOf = (client, e) => `${{ uniws: 'uniws', old: 'uniws-old', js: 'runtime' }[client]}-wasm-${e}`;

const div = (n) => Math.ceil(n / (o.scale || (o.quick ? 10 : 1)));
// The workloads of bench/run.sh that a browser can run (no conn/idle).
const workloads = [
  { name: 'small', size: '64', count: div(200000), window: 64, row: '64 B, 64 in flight (msgs/s)', f: (r) => r.msgs_per_s, up: true, fmt: (v) => `${(v / 1000).toFixed(1)} k` },
  { name: 'rtt', size: '64', count: div(20000), window: 1, inner: 3, row: '64 B, one at a time (RTT p50 µs)', f: (r) => r.rtt_p50_us, up: false, fmt: (v) => v.toFixed(1) },
  { name: '4k', size: '4K', count: div(50000), window: 64, row: '4 KiB, 64 in flight (MiB/s)', f: (r) => r.mib_per_s, up: true, fmt: (v) => v.toFixed(0) },
  { name: '1m', size: '1M', count: div(400), window: 4, row: '1 MiB, 4 in flight (MiB/s)', f: (r) => r.mib_per_s, up: true, fmt: (v) => v.toFixed(0) },
  { name: '16m', size: '16M', count: div(30), window: 1, row: '16 MiB, one at a time (MiB/s)', f: (r) => r.mib_per_s, up: true, fmt: (v) => v.toFixed(0) },
].filter((w) => !o.only || o.only.split(',').includes(w.name));

// ---- pinning ------------------------------------------------------------------
const canPin = o.pin && os.cpus().length >= 2 &&
  spawnSync('taskset', ['-V'], { stdio: 'ignore' }).status === 0;
if (canPin) spawnSync('taskset', ['-a', '-cp', '1', String(process.pid)], { stdio: 'ignore' });
const pinned = (core, cmd, args) => (canPin ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args]);

// ---- the server ---------------------------------------------------------------
let server = null;
let badServer = null;
async function startServer(extra = []) {
  const [cmd, args] = pinned(0, o.server, ['--port', '0', ...extra]);
  const srv = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  if (extra.length) badServer = srv;
  else server = srv;
  let out = '';
  const port = await new Promise((resolve, reject) => {
    srv.stdout.on('data', (d) => {
      out += d;
      const m = /^port (\d+)$/m.exec(out);
      if (m) resolve(Number(m[1]));
    });
    srv.on('exit', (c) => reject(new Error(`uniws-bench-server exited with ${c}`)));
  });
  return `ws://127.0.0.1:${port}/`;
}
const hz = 100; // USER_HZ on Linux
const serverTicks = () => {
  if (!server) return 0;
  try {
    const f = fs.readFileSync(`/proc/${server.pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch { return 0; }
};

// ---- the page server: bench.html, js_bench.mjs, uniws-bench.js ----------------
// Cross-origin isolated (COOP + COEP), so performance.now() has its fine
// resolution in the page for both clients alike.
// A page reports its run by POSTing { lines, exit | abort } to /result?run=ID.
const pageResults = new Map();
function startPages() {
  const files = { '/bench.html': [path.join(here, 'bench.html'), 'text/html'],
    '/js_bench.mjs': [path.join(here, 'js_bench.mjs'), 'text/javascript'],
    '/uniws-bench.js': [o.wasm, 'text/javascript'] };
  if (o.ab) files['/uniws-old.js'] = [o.ab, 'text/javascript'];
  const srv = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    if (req.method === 'POST' && u.pathname === '/result') {
      let body = '';
      req.setEncoding('utf8');
      req.on('data', (d) => { body += d; });
      req.on('end', () => {
        res.writeHead(204);
        res.end();
        const done = pageResults.get(u.searchParams.get('run'));
        if (!done) return; // a run that already ended (timed out)
        try { done(JSON.parse(body)); } catch { done({ abort: `unreadable report: ${body.slice(0, 100)}` }); }
      });
      return;
    }
    const f = files[u.pathname];
    if (!f) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'Content-Type': f[1], 'Cross-Origin-Opener-Policy': 'same-origin',
      'Cross-Origin-Embedder-Policy': 'require-corp', 'Cache-Control': 'no-store' });
    fs.createReadStream(f[0]).pipe(res);
  });
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv)));
}

// ---- one run ------------------------------------------------------------------
const TIMEOUT_S = 300;
const jsonLine = (lines) => lines.filter((l) => l.startsWith('{"tool"')).pop();

// glibc's heap held steady (--malloc steady): an mmap threshold above the
// largest message (32 MiB: mallopt(3) documents it as the limit on 64-bit;
// glibc 2.36 takes more) and a trim threshold above any workload's live buffers.
const MALLOC_STEADY = { MALLOC_MMAP_THRESHOLD_: String(32 << 20), MALLOC_TRIM_THRESHOLD_: String(256 << 20) };
function runNode(client, args, nodeArgs = []) {
  const script = { uniws: o.wasm, old: o.ab, js: path.join(here, 'js_node.mjs') }[client];
  const env = o.malloc === 'steady' ? { ...process.env, ...MALLOC_STEADY } : process.env;
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--experimental-websocket', '--no-warnings', ...nodeArgs, script, ...args],
      { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('exit', (code, sig) => {
      const line = jsonLine(out.split('\n'));
      const tasks = /^@@tasks (\d+)$/m.exec(err);
      const phases = /^@@phases (\{.*\})$/m.exec(err);
      const run = line ? JSON.parse(line) : { ok: false, error: `no output (${sig || `exit ${code}`}): ${err.trim().slice(-200)}` };
      if (tasks) run.engine_tasks = Number(tasks[1]);
      if (phases) run.phases = JSON.parse(phases[1]);
      resolve(run);
    });
  });
}

// One browser per run, started directly and never driven over the DevTools
// protocol: a driver such as playwright enables the protocol's network events,
// and then the browser reports every WebSocket frame, payload included, to the
// driving process — on the clients' core, per message, for either client. That
// made every Chromium row about 4× slower and mostly a measure of DevTools
// (docs/performance.md). The page (bench.html?run=ID) POSTs its output and
// exit status to the page server instead.
let chromiumExe = null;
let chromiumProc = null;
let pageBase = '';
let runSeq = 0;
const CHROMIUM_FLAGS = ['--headless', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
  '--no-default-browser-check', '--disable-extensions', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-default-apps', '--mute-audio',
  '--password-store=basic',
  // Background tabs and timers must not be throttled: the page is the app.
  '--disable-background-timer-throttling', '--disable-renderer-backgrounding',
  '--disable-backgrounding-occluded-windows',
  // Chromium refuses to run its sandbox as root (containers, CI).
  ...(process.getuid && process.getuid() === 0 ? ['--no-sandbox'] : [])];
function killChromium() {
  // The browser's processes share its process group (spawned detached).
  if (chromiumProc) try { process.kill(-chromiumProc.pid, 'SIGKILL'); } catch { /* gone */ }
}
async function runChromium(client, args) {
  const id = String(++runSeq);
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'uniws-bench-chromium-'));
  let timer = null;
  const reported = new Promise((resolve) => {
    timer = setTimeout(() => resolve({ abort: `no result within ${TIMEOUT_S + 30} s` }), (TIMEOUT_S + 30) * 1000);
    pageResults.set(id, resolve);
  });
  const url = `${pageBase}/bench.html?client=${client}&run=${id}&args=${encodeURIComponent(JSON.stringify(args))}`;
  const p = spawn(chromiumExe, [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, url],
    { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  chromiumProc = p;
  let err = '';
  p.stderr.on('data', (d) => { err = (err + d).slice(-4000); });
  const exited = new Promise((resolve) => p.on('exit', (code, sig) => resolve(sig || `exit ${code}`)));
  const report = await Promise.race([reported,
    exited.then((how) => ({ abort: `chromium ended (${how}) before the page reported: ${err.trim().slice(-200)}` }))]);
  clearTimeout(timer);
  pageResults.delete(id);
  killChromium();
  await exited;
  chromiumProc = null;
  // The profile's last writers may still be closing.
  for (let i = 0; i < 20; i++) {
    try { fs.rmSync(profile, { recursive: true, force: true }); break; } catch { await new Promise((r) => setTimeout(r, 100)); }
  }
  const line = jsonLine(report.lines || []);
  if (line) return JSON.parse(line);
  return { ok: false, error: report.abort ? `aborted: ${report.abort}` : `no output: ${(report.lines || []).slice(-3).join(' / ')}` };
}

// ---- the table ------------------------------------------------------------------
const median = (xs) => {
  const s = xs.filter(Number.isFinite).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
// The runs of one client (label) on one workload, in the order they ran.
const runsOf = (runs, workload, label) => runs.filter((r) => r.workload === workload && r.label === label);
// The machine a table was made on, for its caption.
const machine = () => `${os.cpus().length} × ${os.cpus()[0].model.trim()}` +
  (canPin ? ', server pinned to core 0, clients to core 1' : '');
// How glibc's heap was set for the Node.js runs (--malloc), for a caption;
// lines from before --malloc existed ran as-is.
function heapNote(runs) {
  const modes = runs.filter((r) => r.label.endsWith('-wasm-node')).map((r) => r.malloc || 'as-is');
  if (!modes.length) return '';
  const steady = modes.filter((m) => m === 'steady').length;
  if (steady === modes.length) return ' Node.js clients ran with glibc\'s heap held steady (`--malloc steady`).';
  if (!steady) return ' Node.js clients ran with glibc\'s heap as the environment left it (`--malloc as-is`).';
  return ` Node.js clients ran with glibc's heap held steady in ${steady} run(s) and as-is in ${modes.length - steady}: ` +
    'a pool of both modes.';
}
function table(runs, cmd) {
  const get = (w, label, f) => {
    const rs = runsOf(runs, w, label);
    if (!rs.length || rs.some((r) => !r.run.ok)) return NaN;
    return median(rs.map((r) => f(r.run)));
  };
  // The runs of uniws and of the runtime's client in the order they ran: the
  // i-th of each ran next to each other, in the same phase of the machine.
  const paired = (w, e) => {
    const u = runsOf(runs, w.name, `uniws-wasm-${e}`);
    const j = runsOf(runs, w.name, `runtime-wasm-${e}`);
    if (!u.length || u.length !== j.length || [...u, ...j].some((r) => !r.run.ok)) return NaN;
    return median(u.map((r, i) => {
      const a = w.f(r.run);
      const b = w.f(j[i].run);
      return a > 0 && b > 0 ? (w.up ? a / b : b / a) : NaN;
    }));
  };
  const head = ['workload'];
  for (const e of engines) head.push(`uniws wasm-${e}`, `runtime wasm-${e}`, `uniws / runtime (${e})`, `paired (${e})`);
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i ? '---:' : '---')).join('|')}|`];
  for (const w of workloads) {
    const cells = [w.row];
    for (const e of engines) {
      const u = get(w.name, `uniws-wasm-${e}`, w.f);
      const j = get(w.name, `runtime-wasm-${e}`, w.f);
      const pr = paired(w, e);
      cells.push(Number.isFinite(u) ? w.fmt(u) : '—', Number.isFinite(j) ? w.fmt(j) : '—',
        Number.isFinite(u) && Number.isFinite(j) && u > 0 && j > 0 ? `${(w.up ? u / j : j / u).toFixed(2)}×` : '—',
        Number.isFinite(pr) ? `${pr.toFixed(2)}×` : '—');
    }
    lines.push(`| ${cells.join(' | ')} |`);
  }
  if (o.ab) {
    const abHead = ['workload', ...engines.flatMap((e) => [`uniws wasm-${e}`, `old uniws wasm-${e}`, `new / old (${e})`])];
    lines.push('', `| ${abHead.join(' | ')} |`, `|${abHead.map((_, i) => (i ? '---:' : '---')).join('|')}|`);
    for (const w of workloads) {
      const cells = [w.row];
      for (const e of engines) {
        const u = get(w.name, `uniws-wasm-${e}`, w.f);
        const old = get(w.name, `uniws-old-wasm-${e}`, w.f);
        cells.push(Number.isFinite(u) ? w.fmt(u) : '—', Number.isFinite(old) ? w.fmt(old) : '—',
          Number.isFinite(u) && Number.isFinite(old) && u > 0 && old > 0 ? `${(w.up ? u / old : old / u).toFixed(2)}×` : '—');
      }
      lines.push(`| ${cells.join(' | ')} |`);
    }
  }
  const cpuHead = ['workload', ...engines.flatMap((e) => [`uniws wasm-${e}`, `runtime wasm-${e}`])];
  const cpu = ['', `| ${cpuHead.map((h, i) => (i ? `${h} client / server CPU %` : h)).join(' | ')} |`,
    `|${cpuHead.map((_, i) => (i ? '---:' : '---')).join('|')}|`];
  for (const w of workloads) {
    const cells = [w.name];
    for (const e of engines) {
      for (const l of [`uniws-wasm-${e}`, `runtime-wasm-${e}`]) {
        const c = get(w.name, l, (r) => r.cpu_pct);
        const s = median(runsOf(runs, w.name, l)
          .map((r) => 100 * r.server_cpu_s / r.wall_s));
        cells.push(`${Number.isFinite(c) && c > 0 ? c.toFixed(0) : '—'} / ${Number.isFinite(s) ? s.toFixed(0) : '—'}`);
      }
    }
    cpu.push(`| ${cells.join(' | ')} |`);
  }
  const versions = {};
  for (const r of runs) if (r.run.backend) versions[r.label] = r.run.backend;
  const failures = runs.filter((r) => !r.run.ok);
  const reps = Math.max(0, ...runs.map((r) => r.rep));
  const out = [`Medians of ${reps} interleaved run(s) (the round trip ${o.quick ? 1 : 3}× per repetition` +
    `${o.scale > 1 ? `, counts / ${o.scale}` : ''}) on ` +
    `${machine()}` +
    '. Ratio > 1× means uniws does better; "paired" is the median of the ratios of runs that ran next to ' +
    'each other (in ABBA order), which a slow phase of the machine moves less. Client CPU is known under Node.js only ' +
    '(the whole process, as `process.cpuUsage()` tells); the server\'s is over the client\'s whole run, start-up included.' +
    heapNote(runs), '',
    ...lines, ...cpu, '',
    `Clients: ${Object.entries(versions).map(([l, v]) => `${l} = ${v}`).join('; ')}.`];
  if (failures.length) {
    out.push('', `**${failures.length} run(s) failed** (cells left empty):`);
    for (const f of failures) out.push(`- ${f.workload} ${f.label} rep ${f.rep}: ${f.run.error}`);
  }
  out.push('', `Produced by \`${cmd}\` on ${new Date().toISOString().slice(0, 10)}.`);
  return out.join('\n');
}

// --phases: medians of every part, µs per message, per client and workload, and
// what uniws spends more (+) or less (−) than the runtime's client in each.
function phasesTable(runs, cmd) {
  const keys = [['send_us', 'send()'], ['receive_us', 'receiving'], ['client_us', 'client handler'],
    ['other_us', 'other CPU'], ['idle_us', 'waiting'], ['total_us', 'per message']];
  const head = ['workload', 'client', ...keys.map((k) => k[1])];
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i > 1 ? '---:' : '---')).join('|')}|`];
  const failures = [];
  for (const w of workloads) {
    const med = {};
    for (const [client, label] of [['uniws', labelOf('uniws', 'node')], ['runtime', labelOf('js', 'node')]]) {
      const rs = runsOf(runs, w.name, label);
      for (const r of rs) if (!r.run.ok || !r.run.phases) failures.push(`${w.name} ${label} rep ${r.rep}: ${r.run.error || 'no @@phases line'}`);
      const ok = rs.filter((r) => r.run.ok && r.run.phases);
      med[client] = Object.fromEntries(keys.map(([k]) => [k, ok.length === rs.length ? median(ok.map((r) => r.run.phases[k])) : NaN]));
      lines.push(`| ${w.name} | ${client} | ${keys.map(([k]) => (Number.isFinite(med[client][k]) ? med[client][k].toFixed(2) : '—')).join(' | ')} |`);
    }
    const d = keys.map(([k]) => med.uniws[k] - med.runtime[k]);
    lines.push(`| ${w.name} | uniws − runtime | ${d.map((x) => (Number.isFinite(x) ? `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(2)}` : '—')).join(' | ')} |`);
  }
  const reps = Math.max(0, ...runs.map((r) => r.rep));
  const out = [`Where a message's time goes in Node.js (bench/web/phases.cjs): medians of ${reps} interleaved run(s), ` +
    `µs per message, on ${machine()}` +
    '. send() and receiving are undici\'s code for either client; the client handler is the client\'s own ' +
    '(for uniws: the copy into the wasm heap, the loop\'s turn, the C callback); other CPU is the rest of the ' +
    'process\'s CPU time (socket reads and writes, GC outside these); waiting is the rest of the window. ' +
    `Each column is its own median: they need not add up to the last.${heapNote(runs)}`, '', ...lines];
  if (failures.length) {
    out.push('', `**${failures.length} run(s) without figures** (cells left empty):`);
    for (const f of failures) out.push(`- ${f}`);
  }
  out.push('', `Produced by \`${cmd}\` on ${new Date().toISOString().slice(0, 10)}.`);
  return out.join('\n');
}

// ---- main -------------------------------------------------------------------------
// --pool: earlier runs' lines, each file's repetitions numbered after the last
// file's, so every file's runs stay in the order (and the pairs) they ran in.
// Returns the runs and a line naming each file and its repetitions.
function readPool(files) {
  const runs = [];
  const names = [];
  let base = 0;
  for (const f of files) {
    const rs = fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
    for (const r of rs) runs.push({ ...r, rep: r.rep + base });
    const reps = Math.max(0, ...rs.map((r) => r.rep));
    names.push(`${f} (${reps} repetition${reps === 1 ? '' : 's'})`);
    base += reps;
  }
  return { runs: runs.filter((r) => workloads.some((w) => w.name === r.workload)),
    about: `Pooled from ${names.join(', ')}; a row's medians are over the files that ran it.` };
}
if (o.pool) {
  const { runs, about } = readPool(o.pool);
  // The engines the pooled lines ran in, not --engines: a Node.js-only pool
  // gets no empty Chromium columns.
  engines = ['node', 'chromium'].filter((e) => runs.some((r) => r.label.endsWith(`-wasm-${e}`)));
  const cmd = `node bench/web/run-web.mjs ${argv.join(' ')}`;
  console.log(`${about}\n\n${o.phases ? phasesTable(runs, cmd) : table(runs, cmd)}`);
  process.exit(0);
}
// Interrupted: the servers and the browser go with us.
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    for (const p of [server, badServer]) if (p) p.kill('SIGKILL');
    killChromium();
    process.exit(130);
  });
}
let pages = null;
let status = 0;
try {
  const url = o.url || await startServer();
  if (engines.includes('chromium')) {
    const { findChromium, SKIP } = await import(path.join(root, 'tests', 'wasm', 'browser.mjs'));
    chromiumExe = findChromium(o.chromium);
    if (!chromiumExe) {
      console.error('SKIP: no Chromium found (scripts/bootstrap.sh --web installs Debian\'s)');
      process.exit(SKIP);
    }
    pages = await startPages();
    pageBase = `http://127.0.0.1:${pages.address().port}`;
  }
  fs.mkdirSync(o.out, { recursive: true });
  const jsonl = path.join(o.out, 'runs-web.jsonl');
  fs.writeFileSync(jsonl, '');
  const load = os.loadavg();
  console.error(`run-web: ${os.cpus().length} cores, load ${load.map((x) => x.toFixed(2)).join(' ')}; ` +
    `server ${url}${canPin ? ' on core 0, clients on core 1' : ''}; engines ${engines.join(', ')}`);
  if (load[0] > 0.5) console.error('run-web: warning: the machine is busy (load above 0.5); other work skews every number');
  const runs = [];
  for (let rep = 1; rep <= o.reps; rep++) {
    for (const w of workloads) {
      const args = ['--url', url, '--size', w.size, '--count', String(w.count), '--window', String(w.window),
        '--timeout', String(TIMEOUT_S), '--json'];
      for (let k = 0; k < (o.quick ? 1 : (w.inner || 1)); k++) {
        // ABBA: every other round the runtime's client goes first, so neither
        // client always follows the same run (a browser's teardown, say).
        const order = (rep + k) % 2 ? clients : [...clients].reverse();
        for (const e of engines) {
          for (const client of order) {
            const label = labelOf(client, e);
            const s0 = serverTicks();
            const t0 = process.hrtime.bigint();
            const run = e === 'node' ? await runNode(client, args, o.phases ? ['--require', PHASES] : [])
              : await runChromium(client, args);
            const wall = Number(process.hrtime.bigint() - t0) / 1e9;
            const rec = { rep, workload: w.name, label, server_cpu_s: (serverTicks() - s0) / hz, wall_s: +wall.toFixed(3),
              ...(e === 'node' ? { malloc: o.malloc } : {}), run };
            runs.push(rec);
            fs.appendFileSync(jsonl, `${JSON.stringify(rec)}\n`);
            console.error(`rep ${rep} ${w.name.padEnd(6)} ${label.padEnd(22)} ${JSON.stringify(run).slice(0, 150)}`);
          }
        }
      }
    }
  }
  const cmd = `bench/run-web.sh${process.env.RUN_WEB_ARGS ? ` ${process.env.RUN_WEB_ARGS}` : ''}`;
  const md = o.phases ? phasesTable(runs, cmd) : table(runs, cmd);
  console.log(md);
  fs.writeFileSync(path.join(o.out, o.phases ? 'latest-web-phases.md' : 'latest-web.md'), `${md}\n`);
  if (o.check) {
    const missing = [];
    for (const w of workloads) {
      for (const e of engines) {
        for (const l of [`uniws-wasm-${e}`, `runtime-wasm-${e}`]) {
          const rs = runsOf(runs, w.name, l);
          if (!rs.length || rs.some((r) => !r.run.ok || !(r.run.echoes > 0))) missing.push(`${w.name}/${l}`);
        }
      }
    }
    if (missing.length) {
      console.error(`run-web: --check: no verified line from ${missing.join(', ')}`);
      status = 1;
    }
    // A received message is dispatched in the engine task that brought it and
    // posts none of its own (platforms/web/poller.c, hold / release): one at a
    // time, so each echo arrives in a task of its own, uniws in Node.js may
    // post far fewer setImmediate tasks than it gets echoes (it posted one
    // per echo before).
    if (engines.includes('node')) {
      const n = 2000;
      const args = ['--url', url, '--size', '64', '--count', String(n), '--window', '1', '--timeout', '60', '--json'];
      const run = await runNode('uniws', args, ['--require', path.join(here, 'count_tasks.cjs')]);
      const fine = run.ok && Number.isFinite(run.engine_tasks) && run.engine_tasks < n / 10;
      console.error(`run-web: --check: uniws in node, ${n} echoes one at a time: ` +
        `${run.ok ? `${run.engine_tasks} setImmediate task(s)` : run.error}${fine ? '' : ' — FAILED (needs < ' + n / 10 + ')'}`);
      if (!fine) status = 1;
    }
    // phases.cjs still finds its way into undici (WebSocket.prototype.send,
    // the onmessage setter, the socket's 'data' events) and counts every
    // message of either client.
    if (engines.includes('node')) {
      const n = 2000;
      const args = ['--url', url, '--size', '64', '--count', String(n), '--window', '8', '--timeout', '60', '--json'];
      for (const client of ['uniws', 'js']) {
        const run = await runNode(client, args, ['--require', PHASES]);
        const ph = run.phases;
        const fine = run.ok && ph && ph.messages === n && ph.send_us > 0 && ph.receive_us > 0 && ph.client_us > 0 &&
          ['other_us', 'idle_us', 'total_us'].every((k) => Number.isFinite(ph[k]) && ph[k] >= 0);
        console.error(`run-web: --check: phases.cjs on ${client} in node, ${n} echoes: ` +
          `${ph ? JSON.stringify(ph) : run.error || 'no @@phases line'}${fine ? '' : ' — FAILED'}`);
        if (!fine) status = 1;
      }
    }
    // --pool: this run's lines taken twice give the same rows (every median
    // and paired ratio of a list and of the list twice over are equal).
    if (!o.phases) {
      const rows = (md) => md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| workload'));
      const again = rows(table(readPool([jsonl, jsonl]).runs, ''));
      const fine = again.length > 0 && again.join('\n') === rows(md).join('\n');
      console.error(`run-web: --check: --pool of this run's lines twice: ${fine ? 'the same rows' : 'DIFFERENT rows — FAILED'}`);
      if (!fine) status = 1;
    }
    // The checks must be able to fail: every client flags a corrupted echo.
    if (o.server) {
      const bad = await startServer(['--corrupt-every', '7']);
      const args = ['--url', bad, '--size', '100', '--count', '50', '--window', '4', '--timeout', '60', '--json'];
      for (const e of engines) {
        for (const client of ['uniws', 'js']) {
          const run = e === 'node' ? await runNode(client, args) : await runChromium(client, args);
          const caught = !run.ok && /^echo \d+/.test(run.error || '');
          console.error(`run-web: --check: ${client} in ${e} against a corrupting server: ` +
            `${caught ? 'caught' : 'NOT caught'} (${run.error || 'ok'})`);
          if (!caught) status = 1;
        }
      }
    }
  }
} catch (e) {
  console.error(`run-web: ${e.stack || e}`);
  status = 2;
} finally {
  killChromium();
  if (pages) pages.close();
  if (server) server.kill();
  if (badServer) badServer.kill();
}
process.exit(status);
