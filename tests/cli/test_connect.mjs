// test_connect.mjs — `uniws connect` against an independent server (the npm
// `ws` package, echo-server.mjs), once per compiled network backend.
//
//   node test_connect.mjs PATH/TO/uniws echo   data round trips, options, output format
//   node test_connect.mjs PATH/TO/uniws exit   the exit-status table and error lines
import net from 'node:net';
import { Checks, SKIP, networkBackends, runUniws, startPeer, uniwsBinary } from './harness.mjs';

const bin = uniwsBinary();
const part = process.argv[3];
if (part !== 'echo' && part !== 'exit') {
  console.error('usage: node test_connect.mjs PATH/TO/uniws echo|exit');
  process.exit(2);
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

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function echoPart(t, b, base) {
  const name = b.name;
  const lines = ['hello', 'n\u00efc\u00f6d\u00e9 \u2713 \u{1F600}', '', 'x'.repeat(70000), 'last, no newline'];
  const input = lines.join('\n');

  let r = runUniws(bin, ['connect', `${base}/`, '-b', name, '-q'], { input });
  t.ok(r.status === 0, `${name}: text lines echo, exit 0`, `status ${r.status}: ${r.stderr}`);
  t.ok(r.stdout.toString() === lines.join('\n') + '\n', `${name}: stdout is every line, in order`,
    `got ${r.stdout.length} bytes: ${JSON.stringify(r.stdout.toString().slice(0, 200))}`);
  t.ok(r.stderr === '', `${name}: --quiet leaves stderr empty`, r.stderr);

  // Bytes that are not UTF-8 go through untouched in binary mode.
  const raw = Buffer.concat([Buffer.from('bin\xff\xfe\x00\x01', 'latin1'), Buffer.from('\nsecond\n')]);
  r = runUniws(bin, ['connect', '-w', '400', `${base}/`, '-b', name, '-q', '--binary'], { input: raw });
  t.ok(r.status === 0 && Buffer.compare(r.stdout, raw) === 0, `${name}: --binary echoes raw bytes`,
    `status ${r.status}, stdout ${r.stdout.toString('hex')}: ${r.stderr}`);

  r = runUniws(bin, ['connect', '-w', '400', `${base}/binary/5`, '-b', name, '-q']);
  t.ok(r.status === 0 && r.stdout.toString() === '[binary 5 bytes] 0001020304\n',
    `${name}: a binary message is shown as '[binary N bytes] HEX'`,
    `status ${r.status}, stdout ${JSON.stringify(r.stdout.toString())}: ${r.stderr}`);

  r = runUniws(bin, ['connect', '-w', '400', `${base}/`, '-b', name], { input: 'hi\n' });
  t.ok(r.status === 0 && r.stderr.includes(`connected to ${base}/ (backend ${name}`) &&
    r.stderr.includes('closed: code 1000'), `${name}: status lines on stderr without --quiet`, r.stderr);

  // ---- lifecycle (issue 10): --stats, --ping-interval, --idle-timeout ----
  r = runUniws(bin, ['connect', '-w', '500', `${base}/`, '-b', name, '-q', '--stats', '--ping-interval', '100'],
    { input: 'abc\nde\n' });
  const pongs = /pongs received (\d+)/.exec(r.stderr);
  t.ok(r.status === 0 && /messages sent 2 \(5 bytes\), received 2 \(5 bytes\)/.test(r.stderr) &&
    pongs && Number(pongs[1]) >= 2 &&
    /connect phases: dns \d+ ms, tcp \d+ ms, tls 0 ms, upgrade \d+ ms; redirects 0/.test(r.stderr),
    `${name}: --stats counts messages and connect phases; --ping-interval gets pongs`,
    `status ${r.status}: ${r.stderr}`);
  r = runUniws(bin, ['connect', '-w', '3000', `${base}/`, '-b', name, '--idle-timeout', '300'], { input: 'x\n' });
  t.ok(r.status === 3 && /connection error: UNIWS_EIDLE_TIMEOUT/.test(r.stderr),
    `${name}: --idle-timeout fails a quiet connection`, `status ${r.status}: ${r.stderr}`);
  r = runUniws(bin, ['connect', '-w', '300', `${base}/`, '-b', name, '--show-headers'], { input: 'x\n' });
  t.ok(r.status === 0 && /< upgrade: websocket/i.test(r.stderr) && /< sec-websocket-accept: /i.test(r.stderr),
    `${name}: --show-headers prints the answer's headers`, `status ${r.status}: ${r.stderr}`);
  r = runUniws(bin, ['connect', `${base}/reject/503`, '-b', name, '--reconnect', '2'], { input: '' });
  const failed = (r.stderr.match(/connection failed: UNIWS_EHANDSHAKE/g) || []).length;
  const waits = r.stderr.match(/reconnecting in \d+ ms \(attempt \d/g) || [];
  t.ok(r.status === 2 && failed === 3 && waits.length === 2 && /in 500 ms \(attempt 1/.test(r.stderr) &&
    /in 1000 ms \(attempt 2/.test(r.stderr), `${name}: --reconnect 2 tries twice more with backoff, then gives up`,
    `status ${r.status}: ${r.stderr}`);

  r = runUniws(bin, ['connect', '-w', '400', `${base}/protocol`, '-b', name, '-p', 'chat', '--protocol', 'superchat']);
  t.ok(r.status === 0 && r.stdout.toString() === 'chat\n' && r.stderr.includes('protocol chat'),
    `${name}: --protocol offers subprotocols, the selected one is reported`,
    `status ${r.status}, stdout ${JSON.stringify(r.stdout.toString())}: ${r.stderr}`);

  r = runUniws(bin, ['connect', '-w', '400', `${base}/headers`, '-b', name, '-q', '-H', 'X-Uniws-Test:  42 ',
    '--header=X-Other: a: b']);
  if (b.caps.includes('headers')) {
    let hdrs = {};
    try { hdrs = JSON.parse(r.stdout.toString().split('\n')[0]); } catch (e) { /* checked below */ }
    t.ok(r.status === 0 && hdrs['x-uniws-test'] === '42' && hdrs['x-other'] === 'a: b',
      `${name}: --header reaches the server`, `status ${r.status}, ${r.stdout}: ${r.stderr}`);
  } else {
    t.ok(r.status === 1 && /cannot honour: .*headers/.test(r.stderr),
      `${name}: --header is refused (no 'headers' capability), exit 1`, `status ${r.status}: ${r.stderr}`);
  }

  r = runUniws(bin, ['connect', '-w', '400', `${base}/`, '-b', name, '-q', '--close-code', '4321']);
  t.ok(r.status === 0, `${name}: --close-code 4321 closes cleanly`, `status ${r.status}: ${r.stderr}`);
  let last = null;
  for (let i = 0; i < 20 && !(last && last.code === 4321); i++) {
    const q = runUniws(bin, ['connect', '-w', '400', `${base}/lastclose`, '-b', name, '-q']);
    try { last = JSON.parse(q.stdout.toString().split('\n')[0]); } catch (e) { last = null; }
    if (!(last && last.code === 4321)) await sleep(100);
  }
  t.ok(last && last.code === 4321, `${name}: the server saw close code 4321`, JSON.stringify(last));

  // A line that is not UTF-8 is skipped with an error; the others still go.
  r = runUniws(bin, ['connect', '-w', '400', `${base}/`, '-b', name, '-q'],
    { input: Buffer.concat([Buffer.from('one\n'), Buffer.from([0xc3, 0x28, 0x0a]), Buffer.from('three\n')]) });
  t.ok(r.status === 0 && r.stdout.toString() === 'one\nthree\n' && /line 2 is not valid UTF-8/.test(r.stderr),
    `${name}: an invalid UTF-8 line is reported and skipped`,
    `status ${r.status}, ${JSON.stringify(r.stdout.toString())}: ${r.stderr}`);
}

async function exitPart(t, b, base) {
  const name = b.name;
  let r = runUniws(bin, ['connect', `${base}/close/4001/bye`, '-b', name]);
  t.ok(r.status === 3 && r.stderr.includes('code 4001') && r.stderr.includes('"bye"'),
    `${name}: server closes with 4001 -> exit 3`, `status ${r.status}: ${r.stderr}`);

  r = runUniws(bin, ['connect', `${base}/close/1000`, '-b', name, '-q']);
  t.ok(r.status === 0, `${name}: server closes with 1000 -> exit 0`, `status ${r.status}: ${r.stderr}`);

  r = runUniws(bin, ['connect', `${base}/drop`, '-b', name]);
  t.ok(r.status === 3 && r.stderr.includes('code 1006'), `${name}: TCP dropped without close -> exit 3`,
    `status ${r.status}: ${r.stderr}`);

  r = runUniws(bin, ['connect', `${base}/reject/403`, '-b', name, '-q']);
  const errLines = r.stderr.trim().split('\n');
  t.ok(r.status === 2 && errLines.length === 1 && /UNIWS_E[A-Z_]+/.test(r.stderr) && /HTTP 403/.test(r.stderr),
    `${name}: HTTP 403 -> exit 2, one error line with the code name and the status`,
    `status ${r.status}: ${r.stderr}`);

  const port = await freePort();
  r = runUniws(bin, ['connect', `ws://127.0.0.1:${port}/`, '-b', name, '-q']);
  t.ok(r.status === 2 && /connection failed: UNIWS_E[A-Z_]+/.test(r.stderr),
    `${name}: refused connection -> exit 2`, `status ${r.status}: ${r.stderr}`);

  r = runUniws(bin, ['connect', 'ftp://127.0.0.1/', '-b', name, '-q']);
  t.ok(r.status === 1 && r.stderr.includes('UNIWS_ESYNTAX'), `${name}: bad URL scheme -> exit 1`,
    `status ${r.status}: ${r.stderr}`);

  if (!b.caps.includes('proxy')) {
    r = runUniws(bin, ['connect', `${base}/`, '-b', name, '--proxy', 'http://127.0.0.1:1']);
    t.ok(r.status === 1 && /cannot honour: .*proxy/.test(r.stderr),
      `${name}: --proxy without the capability -> exit 1, never ignored`, `status ${r.status}: ${r.stderr}`);
  }
}

function usageChecks(t, base) {
  const cases = [
    [['connect'], 'missing URL'],
    [['connect', `${base}/`, '--nope'], "unknown option '--nope'"],
    [['connect', `${base}/`, '-b', 'no-such-backend'], "unknown backend 'no-such-backend'"],
    [['connect', `${base}/`, '--close-code', '2000'], '--close-code must be 1000 or 3000-4999'],
    [['connect', `${base}/`, '--timeout'], '--timeout needs a value'],
    [['connect', `${base}/`, '-H', 'no colon'], "header must look like 'Name: value'"],
    [['nosuchcommand'], "unknown command 'nosuchcommand'"],
  ];
  for (const [args, msg] of cases) {
    const r = runUniws(bin, args);
    t.ok(r.status === 1 && r.stderr.includes(msg), `usage: uniws ${args.join(' ')} -> exit 1 (${msg})`,
      `status ${r.status}: ${r.stderr}`);
  }
  const h = runUniws(bin, ['connect', '--help']);
  t.ok(h.status === 0 && h.stdout.toString().includes('Exit status'), 'connect --help documents the exit status');
}

async function main() {
  const t = new Checks(`cli.connect_${part === 'echo' ? 'ws' : 'exit'}`);
  const backends = networkBackends(bin);
  if (!backends.length) {
    console.log('skipped: no compiled backend has the "network" capability');
    process.exit(SKIP);
  }
  const { proc, port } = await startPeer('echo-server.mjs');
  const base = `ws://127.0.0.1:${port}`;
  try {
    for (const b of backends) {
      console.log(`backend ${b.name} ${b.version}, server ${base} (npm ws)`);
      if (part === 'echo') await echoPart(t, b, base);
      else await exitPart(t, b, base);
    }
    if (part === 'exit') usageChecks(t, base);
  } finally {
    proc.kill();
  }
  t.finish();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
