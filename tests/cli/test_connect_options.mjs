// test_connect_options.mjs — the `uniws connect` options that reach the rest
// of uniws_options (--deflate, --cert/--key, --max-size, --close-timeout), the
// wscat/websocat habits (-s, -o, --no-close, --count) and --jsonl, once per
// compiled network backend, against the scripted peer (`uniws serve`), the
// npm `ws` echo server (permessage-deflate), a wss:// server of node's that
// requires a client certificate (tls-server.mjs), and an HTTPS proxy
// (tinyproxy behind tests/curl/tls_front.mjs) for --proxy-ca.
//
//   node test_connect_options.mjs PATH/TO/uniws
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Checks, SKIP, networkBackends, runUniws, startPeer, uniwsBinary } from './harness.mjs';

const bin = uniwsBinary();

// `uniws serve` on a free port; resolves with { proc, base } from its first line.
function startServe() {
  const proc = spawn(bin, ['serve', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => { proc.kill(); reject(new Error('uniws serve printed no address')); }, 10000);
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /listening on (ws:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m && !proc.seen) {
        proc.seen = true;
        clearTimeout(timer);
        resolve({ proc, base: m[1] });
      }
    });
    proc.on('exit', (code) => { if (!proc.seen) reject(new Error(`uniws serve exited with ${code}`)); });
  });
}

// A CA, a server certificate for 127.0.0.1 and a client certificate, in dir.
function makeCerts(dir) {
  const ssl = (args) => {
    const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr || r.error}`);
  };
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName = IP:127.0.0.1, DNS:localhost\n');
  writeFileSync(path.join(dir, 'client.ext'), 'extendedKeyUsage = clientAuth\n');
  ssl(['req', '-x509', ...key, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=uniws cli test CA']);
  for (const who of ['server', 'client']) {
    ssl(['req', '-new', ...key, '-keyout', `${who}.key`, '-out', `${who}.csr`, '-subj', `/CN=uniws ${who}`]);
    ssl(['x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial',
      '-out', `${who}.pem`, '-days', '2', '-extfile', `${who}.ext`]);
  }
  writeFileSync(path.join(dir, 'client-both.pem'),
    spawnSync('cat', ['client.pem', 'client.key'], { cwd: dir }).stdout);
}

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// tinyproxy (plain HTTP CONNECT proxy) with TLS in front of it: an HTTPS
// proxy whose certificate comes from the test CA in dir. Resolves with
// { procs, port, log } (port: the TLS front).
async function startHttpsProxy(dir) {
  const tp = ['/usr/bin/tinyproxy', '/usr/sbin/tinyproxy', '/usr/local/bin/tinyproxy'].find((p) => existsSync(p));
  if (!tp) throw new Error('tinyproxy is not installed: run scripts/bootstrap.sh (tinyproxy-bin)');
  const port = await freePort();
  const log = path.join(dir, 'tinyproxy.log');
  writeFileSync(path.join(dir, 'tinyproxy.conf'), `Port ${port}\nListen 127.0.0.1\nTimeout 60\n` +
    `LogFile "${log}"\nLogLevel Info\nPidFile "${dir}/tinyproxy.pid"\nMaxClients 50\nAllow 127.0.0.1\n`);
  const proxy = spawn(tp, ['-d', '-c', path.join(dir, 'tinyproxy.conf')], { stdio: 'ignore' });
  const front = await startPeer(fileURLToPath(new URL('../curl/tls_front.mjs', import.meta.url)),
    [path.join(dir, 'server.pem'), path.join(dir, 'server.key'), String(port)]);
  return { procs: [proxy, front.proc], port: front.port, log };
}

function jsonLines(buf) {
  try {
    return buf.toString().split('\n').filter((l) => l).map((l) => JSON.parse(l));
  } catch (e) {
    return [{ parseError: String(e), raw: buf.toString() }];
  }
}

const show = (r) => `status ${r.status}, stdout ${JSON.stringify(r.stdout.toString().slice(0, 300))}: ${r.stderr}`;

function peerChecks(t, name, peer, first) {
  // --jsonl: every event, one object per line, in order.
  let r = runUniws(bin, ['connect', `${peer}/script/text:h%C3%A9%22%5C/bin:3/close:4000:bye`, '-b', name, '-q',
    '--jsonl', '-n']);
  const ev = jsonLines(r.stdout);
  const want = [
    { type: 'open', url: `${peer}/script/text:h%C3%A9%22%5C/bin:3/close:4000:bye`, backend: name, protocol: '', extensions: '' },
    { type: 'text', length: 5, data: 'h\u00e9"\\' },
    { type: 'binary', length: 3, hex: '000102' },
    { type: 'close', code: 4000, reason: 'bye', clean: true },
  ];
  t.ok(r.status === 3 && JSON.stringify(ev) === JSON.stringify(want),
    `${name}: --jsonl writes open, text, binary and close events (keys in order)`,
    `${show(r)}\n want ${JSON.stringify(want)}`);

  r = runUniws(bin, ['connect', `${peer}/script/status:403`, '-b', name, '-q', '--jsonl']);
  const err = jsonLines(r.stdout);
  t.ok(r.status === 2 && err.length === 2 && err[0].type === 'error' && /^UNIWS_E/.test(err[0].error) &&
    err[0].http_status === 403 && err[1].type === 'close' && err[1].code === 1006 && err[1].clean === false,
  `${name}: --jsonl reports a refused handshake as error (http_status 403) then close 1006`, show(r));

  // --max-size: a message of exactly the limit passes, one byte more fails the connection.
  r = runUniws(bin, ['connect', `${peer}/script/textn:1024`, '-b', name, '-q', '-w', '300', '--max-size', '1k']);
  t.ok(r.status === 0 && r.stdout.toString().length === 1025,
    `${name}: --max-size 1k accepts a 1024-byte message`, show(r));
  r = runUniws(bin, ['connect', `${peer}/script/textn:1025`, '-b', name, '-q', '-w', '300', '--max-size=1024']);
  t.ok(r.status === 3 && r.stdout.length === 0 && r.stderr.includes('UNIWS_ETOO_BIG'),
    `${name}: --max-size 1024 refuses a 1025-byte message (UNIWS_ETOO_BIG, exit 3)`, show(r));

  // --close-timeout: the peer never answers our close frame.
  let t0 = Date.now();
  r = runUniws(bin, ['connect', `${peer}/script/no-close-reply`, '-b', name, '-q', '-w', '0', '--close-timeout', '300']);
  let ms = Date.now() - t0;
  t.ok(r.status === 3 && r.stderr.includes('UNIWS_ETIMEOUT') && ms < 3000,
    `${name}: --close-timeout 300 gives up on an unanswered close after ${ms} ms`, show(r));
  if (first) {
    t0 = Date.now();
    r = runUniws(bin, ['connect', `${peer}/script/no-close-reply`, '-b', name, '-q', '-w', '0']);
    ms = Date.now() - t0;
    t.ok(r.status === 3 && ms >= 4500, `${name}: without it the default 5000 ms applies (${ms} ms)`, show(r));
  }

  // --no-close: what arrives after the end of input is still printed.
  const late = `${peer}/script/sleep:600/text:late/close:1000`;
  r = runUniws(bin, ['connect', late, '-b', name, '-q', '-w', '0', '--no-close']);
  t.ok(r.status === 0 && r.stdout.toString() === 'late\n',
    `${name}: --no-close keeps reading after EOF until the server closes`, show(r));
  r = runUniws(bin, ['connect', late, '-b', name, '-q', '-w', '0']);
  t.ok(r.stdout.toString() === '', `${name}: (without it, EOF with -w 0 closes before 'late' arrives)`, show(r));
  // (The peer reads 'one' only after its script, by then it has closed.)
  r = runUniws(bin, ['connect', late, '-b', name, '-q', '-w', '0', '-n'], { input: 'one\n' });
  t.ok(r.status === 0 && r.stdout.toString() === 'late\n', `${name}: -n is --no-close`, show(r));

  // --count: closes with the close code once N messages arrived (-n: nothing else would close).
  r = runUniws(bin, ['connect', `${peer}/script/text:a/text:b/text:c`, '-b', name, '-q', '-n', '--count', '2',
    '--close-code', '4002']);
  t.ok(r.status === 0 && r.stdout.toString() === 'a\nb\n', `${name}: --count 2 closes after two messages`, show(r));

  // -s (wscat's --subprotocol) and -o (Origin) reach the handshake.
  r = runUniws(bin, ['connect', `${peer}/script/headers`, '-b', name, '-w', '300', '-s', 'chat',
    '--subprotocol', 'v2', '-o', 'http://origin.test']);
  const hdr = r.stdout.toString();
  t.ok(r.status === 0 && /\r\nSec-WebSocket-Protocol: chat, ?v2\r\n/i.test(hdr) &&
    /\r\nOrigin: http:\/\/origin\.test(\r\n|\n|$)/.test(hdr) && r.stderr.includes('protocol chat'),
  `${name}: -s/--subprotocol offer subprotocols, -o sends Origin`, show(r));
}

function deflateChecks(t, name, echo) {
  const big = 'compress me '.repeat(2000);
  let r = runUniws(bin, ['connect', `${echo}/extensions`, '-b', name, '-q', '-w', '400', '--deflate', '--jsonl'],
    { input: `${big}\nsmall\n` });
  const ev = jsonLines(r.stdout);
  t.ok(r.status === 0 && ev.length === 5 && /^permessage-deflate/.test(ev[0].extensions) &&
    /^permessage-deflate/.test(ev[1].data) && ev[2].data === big && ev[3].data === 'small',
  `${name}: --deflate negotiates permessage-deflate and compressed messages round-trip`, show(r));
  r = runUniws(bin, ['connect', `${echo}/extensions`, '-b', name, '-q', '-w', '300', '--jsonl']);
  const plain = jsonLines(r.stdout);
  t.ok(r.status === 0 && plain[0].extensions === '' && plain[1].data === '',
    `${name}: without --deflate nothing is negotiated`, show(r));
}

function certChecks(t, name, wss, dir) {
  const ca = path.join(dir, 'ca.pem');
  const cert = path.join(dir, 'client.pem');
  const key = path.join(dir, 'client.key');
  let r = runUniws(bin, ['connect', `${wss}/`, '-b', name, '-q', '-w', '300', '--ca', ca, '--cert', cert,
    '--key', key], { input: 'hi\n' });
  t.ok(r.status === 0 && r.stdout.toString() === 'client CN=uniws client\nhi\n',
    `${name}: --cert/--key present a client certificate the server accepts`, show(r));
  r = runUniws(bin, ['connect', `${wss}/`, '-b', name, '-q', '-w', '300', '--ca', ca, '--cert',
    path.join(dir, 'client-both.pem')]);
  t.ok(r.status === 0 && r.stdout.toString() === 'client CN=uniws client\n',
    `${name}: --cert alone with the key in the same PEM file`, show(r));
  r = runUniws(bin, ['connect', `${wss}/`, '-b', name, '-q', '-w', '300', '--ca', ca]);
  t.ok(r.status === 2 && /connection failed: UNIWS_E/.test(r.stderr),
    `${name}: without --cert the server refuses the TLS handshake -> exit 2`, show(r));
  r = runUniws(bin, ['connect', `${wss}/`, '-b', name, '-q', '--ca', ca, '--key', key]);
  t.ok(r.status === 1 && r.stderr.includes('UNIWS_EINVAL'), `${name}: --key without --cert -> exit 1`, show(r));
}

function proxyChecks(t, name, peer, px, dir) {
  const ca = path.join(dir, 'ca.pem');
  let r = runUniws(bin, ['connect', `${peer}/`, '-b', name, '-q', '-w', '300', '--proxy',
    `https://127.0.0.1:${px.port}`, '--proxy-ca', ca], { input: 'through tls\n' });
  t.ok(r.status === 0 && r.stdout.toString() === 'through tls\n',
    `${name}: --proxy https://... --proxy-ca reaches the server through an HTTPS proxy`, show(r));
  r = runUniws(bin, ['connect', `${peer}/`, '-b', name, '-q', '--proxy', `https://127.0.0.1:${px.port}`,
    '--ca', ca]);
  t.ok(r.status === 2 && r.stderr.includes('UNIWS_ETLS'),
    `${name}: without --proxy-ca the proxy is not trusted (--ca is for the server) -> exit 2`, show(r));
}

function usageChecks(t, peer) {
  const cases = [
    [['--max-size', '0'], '--max-size needs bytes'],
    [['--max-size', '12x'], '--max-size needs bytes'],
    [['--max-size', '3G'], '--max-size needs bytes'],
    [['--close-timeout', '0'], '--close-timeout needs milliseconds'],
    [['--count', '0'], '--count needs a number'],
    [['--cert'], '--cert needs a value'],
  ];
  for (const [args, msg] of cases) {
    const r = runUniws(bin, ['connect', `${peer}/`, ...args]);
    t.ok(r.status === 1 && r.stderr.includes(msg), `usage: connect ${args.join(' ')} -> exit 1 (${msg})`, show(r));
  }
  const h = runUniws(bin, ['connect', '--help']).stdout.toString();
  for (const f of ['--subprotocol', '--origin', '--deflate', '--cert', '--key', '--max-size', '--close-timeout',
    '--no-close', '--count', '--jsonl', '--proxy-ca']) {
    t.ok(h.includes(`${f} `), `connect --help lists ${f}`);
  }
}

async function main() {
  const t = new Checks('cli.connect_options');
  const backends = networkBackends(bin);
  if (!backends.length) {
    console.log('skipped: no compiled backend has the "network" capability');
    process.exit(SKIP);
  }
  const dir = mkdtempSync(path.join(tmpdir(), 'uniws-cli-'));
  const procs = [];
  try {
    makeCerts(dir);
    const serve = await startServe();
    procs.push(serve.proc);
    const echo = await startPeer('echo-server.mjs');
    procs.push(echo.proc);
    const tls = await startPeer('tls-server.mjs', ['server.pem', 'server.key', 'ca.pem'].map((f) => path.join(dir, f)));
    procs.push(tls.proc);
    const px = await startHttpsProxy(dir);
    procs.push(...px.procs);
    let first = true;
    for (const b of backends) {
      console.log(`backend ${b.name} ${b.version}: peer ${serve.base}, npm ws ws://127.0.0.1:${echo.port}, ` +
        `wss://127.0.0.1:${tls.port}`);
      peerChecks(t, b.name, serve.base, first);
      first = false;
      if (b.caps.includes('deflate')) deflateChecks(t, b.name, `ws://127.0.0.1:${echo.port}`);
      else {
        const r = runUniws(bin, ['connect', `ws://127.0.0.1:${echo.port}/`, '-b', b.name, '--deflate']);
        t.ok(r.status === 1 && /cannot honour: .*deflate/.test(r.stderr), `${b.name}: --deflate refused, exit 1`, show(r));
      }
      if (b.caps.includes('client-cert')) {
        certChecks(t, b.name, `wss://127.0.0.1:${tls.port}`, dir);
      } else {
        const r = runUniws(bin, ['connect', `wss://127.0.0.1:${tls.port}/`, '-b', b.name, '--cert', 'x.pem']);
        t.ok(r.status === 1 && /cannot honour/.test(r.stderr), `${b.name}: --cert refused, exit 1`, show(r));
      }
      if (b.caps.includes('proxy-ca-file')) {
        proxyChecks(t, b.name, serve.base, px, dir);
      } else {
        const r = runUniws(bin, ['connect', `${serve.base}/`, '-b', b.name, '--proxy-ca', path.join(dir, 'ca.pem')]);
        t.ok(r.status === 1 && /cannot honour: .*proxy-ca-file/.test(r.stderr),
          `${b.name}: --proxy-ca refused (no proxy-ca-file capability), exit 1`, show(r));
      }
    }
    usageChecks(t, serve.base);
  } finally {
    for (const p of procs) p.kill();
    rmSync(dir, { recursive: true, force: true });
  }
  t.finish();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
