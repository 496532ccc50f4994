// run-conformance.mjs — runs the WebAssembly conformance runner (runner.js)
// under Node.js (--experimental-websocket) or in headless Chromium against the
// native scripted peer, and writes conformance-wasm-<engine>.json in the
// native runner's format for the matrix (tests/conformance/matrix.c).
// With --engine wine it runs the same runner built for Windows
// (tests/windows, uniws-conformance-win.exe) under wine for one backend and
// writes the win-<backend> column.
//
//   node run-conformance.mjs --engine node|chromium|wine --runner DIR/runner.js
//        --uniws NATIVE/tools/cli/uniws --json OUT.json [--certs DIR]
//        [--backend NAME] [--only CASE,...] [--case-timeout MS] [--chromium PATH]
//        [--run-limitations]
//
// --run-limitations runs the cases of limitations.c too (to re-check them).
//
// With --certs the engine trusts the test CA for this run only, as a user
// would trust a private CA — Node.js through NODE_EXTRA_CA_CERTS=ca.pem,
// Chromium through --ignore-certificate-errors-spki-list with the SPKI hash
// of the TLS peer's key — so the wss cases run (the browser has no per-socket
// CA option). A third peer serves a certificate of the unrelated CA, which
// must still be refused (wss_verify_default).
//
// The runner cannot fork: when it crashes or hangs, the case it was in is
// recorded as failed and a fresh runner continues with the remaining cases.
import { spawn } from 'node:child_process';
import { createHash, createPublicKey } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, renameSync, rmSync,
  writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { closedPort, startPeer } from './peer.mjs';
import { launchChromium } from './browser.mjs';
import { startWireControl } from './wire-peer.mjs';

const MARK = '@@uniws ';

function parseArgs(argv) {
  const o = { engine: 'node', caseTimeout: 10000 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    const take = () => { i++; return v; };
    if (a === '--engine') o.engine = take();
    else if (a === '--runner') o.runner = take();
    else if (a === '--uniws') o.uniws = take();
    else if (a === '--json') o.json = take();
    else if (a === '--certs') o.certs = take();
    else if (a === '--only') o.only = take();
    else if (a === '--case-timeout') o.caseTimeout = Number(take());
    else if (a === '--chromium') o.chromium = take();
    else if (a === '--backend') o.backend = take();
    else if (a === '--run-limitations') o.runLimitations = true;
    else if (a === '-v' || a === '--verbose') o.verbose = true;
    else throw new Error(`unknown argument ${a}`);
  }
  for (const k of ['runner', 'uniws', 'json']) {
    if (!o[k]) throw new Error(`--${k} is required`);
  }
  if (!['node', 'chromium', 'wine'].includes(o.engine)) throw new Error('--engine node|chromium|wine');
  if (o.engine === 'wine' && !o.backend) throw new Error('--engine wine needs --backend');
  return o;
}

// wine: a Windows program's output goes to a file, never a pipe (with a
// persistent wineserver, wine's helper processes inherit a pipe and keep it
// open). Spawns `wine exe args` writing to a fresh file; returns
// { proc, file, read() } where read() returns the text added since last call.
function spawnWine(exe, args) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'uniws-wine-'));
  const file = path.join(dir, 'out.txt');
  const fd = openSync(file, 'w');
  const proc = spawn('wine', [exe, ...args], { stdio: ['ignore', fd, fd],
    env: { ...process.env, WINEDEBUG: process.env.WINEDEBUG || '-all' } });
  closeSync(fd);
  let pos = 0;
  const rfd = openSync(file, 'r');
  const read = () => {
    const chunks = [];
    const buf = Buffer.alloc(65536);
    for (;;) {
      const n = readSync(rfd, buf, 0, buf.length, pos);
      if (n <= 0) break;
      pos += n;
      chunks.push(Buffer.from(buf.subarray(0, n)));
    }
    return Buffer.concat(chunks).toString('utf8').replace(/\r/g, '');
  };
  const cleanup = () => { closeSync(rfd); rmSync(dir, { recursive: true, force: true }); };
  return { proc, read, cleanup };
}

function wineVersion() {
  return new Promise((resolve) => {
    const p = spawn('wine', ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.on('exit', () => resolve(out.trim() || 'wine'));
    p.on('error', () => resolve('wine'));
  });
}

function listCases(runner, engine) {
  if (engine === 'wine') {
    return new Promise((resolve, reject) => {
      const w = spawnWine(runner, ['--list']);
      w.proc.on('exit', (code) => {
        const out = w.read();
        w.cleanup();
        if (code === 0) resolve(out.split('\n').map((l) => l.trim()).filter(Boolean));
        else reject(new Error(`${runner} --list exited with ${code}: ${out}`));
      });
    });
  }
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [runner, '--list'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.on('exit', (code) => (code === 0 ? resolve(out.split('\n').filter(Boolean))
      : reject(new Error(`${runner} --list exited with ${code}`))));
  });
}

// Starts the TLS matrix's `uniws serve` peers with the certificates of
// --certs; returns their ports and the client certificate files.
async function startTlsMatrix(o, peers) {
  const f = (name) => path.resolve(o.certs, name);
  const m = {};
  const rows = [['expired', 'expired.pem', 'expired.key', []],
    ['wronghost', 'wronghost.pem', 'wronghost.key', []],
    ['selfsigned', 'selfsigned.pem', 'selfsigned.key', []],
    ['mtls', 'server.pem', 'server.key', ['--tls-client-ca', f('ca.pem')]]];
  for (const [key, cert, pkey, extra] of rows) {
    if (!existsSync(f(cert)) || !existsSync(f(pkey))) continue;
    const p = await startPeer(o.uniws, ['--tls-cert', f(cert), '--tls-key', f(pkey), ...extra],
      { verbose: o.verbose });
    peers.push(p);
    m[key] = p.port;
  }
  if (existsSync(f('client.pem')) && existsSync(f('client.key'))) {
    m.clientCert = f('client.pem');
    m.clientKey = f('client.key');
  }
  if (existsSync(f('client-other.key'))) m.clientOtherKey = f('client-other.key');
  return m;
}

function selected(only, name) {
  if (!only) return true;
  return only.split(',').some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : p === name));
}

// One runner session over a list of cases. onLine gets each output line;
// resolves with { ended: 'done' | 'exit' | 'abort' | 'hang', why } .
class Session {
  constructor(opts, env, names, onEvent) {
    this.o = opts;
    this.env = env;
    this.names = names;
    this.onEvent = onEvent;
    this.tail = [];
  }

  args() {
    const engine = this.o.engine === 'wine' ? `win-${this.o.backend}` : `wasm-${this.o.engine}`;
    const a = ['--engine', engine, '--engine-version', this.env.engineVersion,
      '--port', String(this.env.port),
      '--closed-port', String(this.env.closedPort), '--case-timeout', String(this.o.caseTimeout),
      '--only', this.names.join(',')];
    if (this.env.tlsPort) a.push('--tls-port', String(this.env.tlsPort));
    if (this.env.untrustedTlsPort) a.push('--untrusted-tls-port', String(this.env.untrustedTlsPort));
    if (this.env.trustsCa) a.push('--platform-trusts-ca');
    if (this.env.wireUrl) a.push('--wire-url', this.env.wireUrl);
    if (this.o.runLimitations) a.push('--run-limitations');
    if (this.o.backend) a.push('--backend', this.o.backend);
    // A Windows program reads files: the test CA and the unrelated one (the
    // browser has no CA option; those cases are unsupported there).
    if (this.o.engine === 'wine' && this.env.caFile) {
      a.push('--ca', this.env.caFile, '--other-ca', this.env.otherCaFile);
    }
    // The TLS matrix's peers and client files (started for wine only).
    const m = this.env.matrix || {};
    for (const [flag, port] of [['--tls-expired-port', m.expired], ['--tls-wronghost-port', m.wronghost],
      ['--tls-selfsigned-port', m.selfsigned], ['--tls-mtls-port', m.mtls]]) {
      if (port) a.push(flag, String(port));
    }
    for (const [flag, file] of [['--client-cert', m.clientCert], ['--client-key', m.clientKey],
      ['--client-other-key', m.clientOtherKey]]) {
      if (file) a.push(flag, file);
    }
    return a;
  }

  line(text) {
    if (!text.startsWith(MARK)) {
      this.tail.push(text);
      if (this.tail.length > 20) this.tail.shift();
      if (this.o.verbose) console.error(`  | ${text}`);
      return;
    }
    let ev;
    try {
      ev = JSON.parse(text.slice(MARK.length));
    } catch (e) {
      this.tail.push(text);
      return;
    }
    this.lastActivity = Date.now();
    if (ev.event === 'abort') this.finish('abort', ev.what);
    else if (ev.event === 'exit') this.finish('exit', `exit status ${ev.code}`);
    else if (ev.event === 'done') this.finish('done');
    else this.onEvent(ev);
  }

  finish(ended, why) {
    if (this.resolve) {
      const r = this.resolve;
      this.resolve = null;
      clearInterval(this.watch);
      r({ ended, why: why || '', tail: this.tail.slice(-8).join(' / ') });
    }
  }

  // A case gets its own deadline plus slack; silence past it is a hang.
  startWatch() {
    this.lastActivity = Date.now();
    const limit = this.o.caseTimeout + 15000;
    this.watch = setInterval(() => {
      if (Date.now() - this.lastActivity > limit) this.finish('hang', `no result within ${limit} ms`);
    }, 500);
  }

  async runNode() {
    const env = { ...process.env };
    if (this.env.caFile) env.NODE_EXTRA_CA_CERTS = this.env.caFile;
    const p = spawn(process.execPath, ['--experimental-websocket', this.o.runner, ...this.args()],
      { stdio: ['ignore', 'pipe', 'pipe'], env });
    const done = new Promise((resolve) => { this.resolve = resolve; });
    this.startWatch();
    let buf = '';
    const feed = (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        this.line(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    };
    p.stdout.on('data', feed);
    p.stderr.on('data', (d) => String(d).split('\n').filter(Boolean).forEach((l) => this.line(l)));
    p.on('exit', (code, sig) => {
      if (buf) this.line(buf);
      this.finish('exit', sig ? `killed by ${sig}` : `exit status ${code}`);
    });
    const r = await done;
    if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    return r;
  }

  // wine: the runner's output is read from its file every 100 ms.
  async runWine() {
    const w = spawnWine(this.o.runner, this.args());
    const done = new Promise((resolve) => { this.resolve = resolve; });
    this.startWatch();
    let buf = '';
    const feed = () => {
      buf += w.read();
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        this.line(buf.slice(0, i));
        buf = buf.slice(i + 1);
      }
    };
    const tick = setInterval(feed, 100);
    w.proc.on('exit', (code, sig) => {
      feed();
      if (buf) this.line(buf);
      buf = '';
      this.finish('exit', sig ? `killed by ${sig}` : `exit status ${code}`);
    });
    const r = await done;
    clearInterval(tick);
    if (w.proc.exitCode === null && w.proc.signalCode === null) {
      w.proc.kill('SIGKILL');
      await new Promise((res) => w.proc.once('exit', res));
    }
    w.cleanup();
    return r;
  }

  async runChromium(browser) {
    const page = await browser.newPage();
    const done = new Promise((resolve) => { this.resolve = resolve; });
    this.startWatch();
    page.on('console', (m) => String(m.text()).split('\n').forEach((l) => this.line(l)));
    page.on('pageerror', (e) => this.finish('abort', e.message));
    page.on('crash', () => this.finish('abort', 'the page crashed'));
    const url = `http://127.0.0.1:${this.env.port}/runner.html?args=` +
      encodeURIComponent(JSON.stringify(this.args()));
    page.goto(url).catch((e) => this.finish('abort', `cannot load the page: ${e.message}`));
    const r = await done;
    await page.close().catch(() => {});
    return r;
  }
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  o.runner = path.resolve(o.runner);
  rmSync(o.json, { force: true }); // never leave a stale result behind
  const staticDir = path.dirname(o.runner);
  // The run's trust in the test CA (see the top of this file).
  const haveCerts = o.certs && existsSync(path.join(o.certs, 'server.pem')) &&
    existsSync(path.join(o.certs, 'ca.pem'));
  const chromiumArgs = [];
  if (haveCerts) {
    const spki = createPublicKey(readFileSync(path.join(o.certs, 'server.key')))
      .export({ type: 'spki', format: 'der' });
    chromiumArgs.push(`--ignore-certificate-errors-spki-list=${createHash('sha256').update(spki).digest('base64')}`);
  }
  let browser = null;
  if (o.engine === 'chromium') browser = await launchChromium(o.chromium, chromiumArgs);

  const all = (await listCases(o.runner, o.engine)).filter((n) => selected(o.only, n));
  const peers = [];
  const env = { closedPort: await closedPort(),
    engineVersion: browser ? browser.version()
      : o.engine === 'wine' ? await wineVersion() : process.versions.node };
  const wire = await startWireControl();
  peers.push(wire);
  env.wireUrl = wire.url;
  const plain = await startPeer(o.uniws, ['--static', staticDir], { verbose: o.verbose });
  peers.push(plain);
  env.port = plain.port;
  if (o.certs && existsSync(path.join(o.certs, 'server.pem'))) {
    const tls = await startPeer(o.uniws, ['--tls-cert', path.join(o.certs, 'server.pem'),
      '--tls-key', path.join(o.certs, 'server.key')], { verbose: o.verbose });
    peers.push(tls);
    env.tlsPort = tls.port;
    env.caFile = path.resolve(o.certs, 'ca.pem');
    env.otherCaFile = path.resolve(o.certs, 'other-ca.pem');
  }
  if (haveCerts) {
    // Under wine the Windows certificate store does not hold the test CA:
    // the platform does not trust it (backends that take a CA file use it).
    if (o.engine !== 'wine') {
      env.trustsCa = true;
      env.caFile = path.join(o.certs, 'ca.pem');
    }
    if (existsSync(path.join(o.certs, 'other-server.pem'))) {
      const untrusted = await startPeer(o.uniws, ['--tls-cert', path.join(o.certs, 'other-server.pem'),
        '--tls-key', path.join(o.certs, 'other-server.key')], { verbose: o.verbose });
      peers.push(untrusted);
      env.untrustedTlsPort = untrusted.port;
    }
    // The TLS matrix (issue 12): one peer per certificate, as the native
    // runner starts in-process (tests/conformance/runner.c, start_tls_matrix);
    // a missing file leaves its port out (its cases then fail, naming it).
    // Only a Windows runner takes a CA file; in a browser these cases are
    // unsupported without the peers (cases_tls_matrix.c, matrix_url).
    if (o.engine === 'wine') env.matrix = await startTlsMatrix(o, peers);
  }

  const t0 = Date.now();
  const results = new Map();
  let info = null;
  let current = null;
  let caseStart = 0;
  const counts = { pass: 0, fail: 0, unsupported: 0, limitation: 0 };
  const tags = { pass: 'PASS', fail: 'FAIL', unsupported: 'SKIP', limitation: 'LIMIT' };
  const record = (c) => {
    results.set(c.name, c);
    counts[c.status] = (counts[c.status] || 0) + 1;
    const extra = c.status !== 'pass' && c.detail ? `  ${c.detail}` : '';
    console.log(`[${String(results.size).padStart(3)}/${all.length}] ${tags[c.status] || c.status} ` +
      `${c.name.padEnd(34)} ${String(c.ms).padStart(5)} ms${extra}`);
  };
  const onEvent = (ev) => {
    if (ev.event === 'start') info = ev;
    else if (ev.event === 'begin') { current = ev.name; caseStart = Date.now(); }
    else if (ev.event === 'case') { current = null; record(ev); }
  };

  try {
    for (let sessions = 0; results.size < all.length; sessions++) {
      const todo = all.filter((n) => !results.has(n));
      if (sessions > todo.length + 5) throw new Error('the runner keeps dying without progress');
      const s = new Session(o, env, todo, onEvent);
      current = null;
      const r = o.engine === 'node' ? await s.runNode()
        : o.engine === 'wine' ? await s.runWine() : await s.runChromium(browser);
      if (r.ended === 'done' && results.size >= all.length) break;
      // The runner died or hung: blame the case it was in (or the next one).
      const victim = current || todo.find((n) => !results.has(n));
      if (!victim) break;
      const what = r.ended === 'hang' ? `hung (${r.why})` : `the runner ended (${r.why || r.ended})`;
      record({ name: victim, status: 'fail', ms: Date.now() - (caseStart || Date.now()),
        detail: `${what} inside this case${r.tail ? `; last output: ${r.tail}` : ''}` });
    }
  } finally {
    for (const p of peers) await p.stop();
    if (browser) await browser.close();
  }
  if (!info) throw new Error('the runner never started (no start line)');

  const byName = new Map(all.map((n, i) => [n, i]));
  const cases = [...results.values()].sort((a, b) => byName.get(a.name) - byName.get(b.name))
    .map((c) => ({ name: c.name, item: c.item || '', what: c.what || '', status: c.status,
      detail: c.detail || '', ms: c.ms || 0 }));
  const wine = o.engine === 'wine';
  const engineVersion = wine ? env.engineVersion
    : `${o.engine === 'node' ? 'Node.js' : 'Chromium'} ${env.engineVersion}`;
  const column = wine ? `win-${o.backend}` : `wasm-${o.engine}`;
  const doc = {
    backend: column,
    version: `${info.version}, ${engineVersion}`,
    description: wine ? `${info.description}; Windows (mingw-w64) under ${engineVersion}`
      : `${info.description}; WebAssembly in ${engineVersion}`,
    caps: info.caps,
    caps_bits: info.caps_bits,
    runner: wine ? `windows (${engineVersion})` : `wasm (${engineVersion})`,
    generated: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    passed: counts.pass,
    failed: counts.fail,
    unsupported: counts.unsupported,
    limitation: counts.limitation,
    cases,
  };
  writeFileSync(`${o.json}.tmp`, JSON.stringify(doc, null, 2) + '\n');
  renameSync(`${o.json}.tmp`, o.json);
  console.log(`backend ${column}: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  console.log(`${counts.pass} passed, ${counts.fail} failed, ` +
    `${counts.unsupported + counts.limitation} skipped -> ${o.json}`);
  process.exit(counts.fail ? 1 : 0);
}

main().catch((e) => {
  console.error(`run-conformance: ${e.stack || e.message}`);
  process.exit(2);
});
