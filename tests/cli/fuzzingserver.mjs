// fuzzingserver.mjs — a small Autobahn|Testsuite-style fuzzing server
// (built on the npm `ws` package, independent of uniws) so `uniws autobahn`
// can be tested without Python's wstest. It speaks the same client protocol:
//
//   /getCaseCount                 a text message with the number of cases, then close 1000
//   /runCase?case=N&agent=NAME    run case N (1-based) against an echoing client and
//                                 record its verdict for NAME
//   /updateReports?agent=NAME     write OUTDIR/index.json, then close 1000
//
// index.json has Autobahn's shape: { AGENT: { CASE_ID: { behavior, behaviorClose,
// remoteCloseCode, description, detail } } } with behavior "OK" or "FAILED".
//
//   node fuzzingserver.mjs [--port N] [--outdir DIR]    prints its port first
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { loadWs } from './ws-module.mjs';

const { WebSocketServer } = loadWs();

let port = 0;
let outdir = 'reports/clients';
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--port') port = Number(args[++i]);
  else if (args[i] === '--outdir') outdir = args[++i];
  else {
    console.error(`fuzzingserver: unknown argument ${args[i]}`);
    process.exit(2);
  }
}

const STEP_TIMEOUT_MS = 10000;

class CaseFailed extends Error {}

// Collects everything the client does so a case can await it in order.
class Tester {
  constructor(ws) {
    this.ws = ws;
    this.events = [];
    this.waiters = [];
    this.closed = null;
    ws.on('message', (data, isBinary) => this.push({ type: 'message', data, isBinary }));
    ws.on('pong', (data) => this.push({ type: 'pong', data }));
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: reason.toString() };
      this.push({ type: 'close', code, reason: reason.toString() });
    });
    ws.on('error', (err) => this.push({ type: 'error', message: err.message }));
  }

  push(ev) {
    const w = this.waiters.shift();
    if (w) w(ev);
    else this.events.push(ev);
  }

  next(what) {
    if (this.events.length) return Promise.resolve(this.events.shift());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        reject(new CaseFailed(`timeout waiting for ${what}`));
      }, STEP_TIMEOUT_MS);
      const done = (ev) => {
        clearTimeout(timer);
        resolve(ev);
      };
      this.waiters.push(done);
    });
  }

  async expectMessage(isBinary, payload) {
    const kind = isBinary ? 'binary' : 'text';
    const ev = await this.next(`the ${kind} echo`);
    if (ev.type !== 'message')
      throw new CaseFailed(`expected a ${kind} message, got ${describe(ev)}`);
    if (ev.isBinary !== isBinary)
      throw new CaseFailed(`expected a ${kind} message, got ${ev.isBinary ? 'binary' : 'text'}`);
    const want = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
    if (!want.equals(ev.data))
      throw new CaseFailed(`echo differs: ${ev.data.length} bytes back, ${want.length} sent`);
  }

  async expectPong(payload) {
    const ev = await this.next('a pong');
    if (ev.type !== 'pong') throw new CaseFailed(`expected a pong, got ${describe(ev)}`);
    if (!Buffer.from(payload).equals(ev.data)) throw new CaseFailed('pong payload differs');
  }

  async expectClose(codes) {
    const ev = await this.next(`a close frame (${codes.join(' or ')})`);
    if (ev.type !== 'close') throw new CaseFailed(`expected close, got ${describe(ev)}`);
    if (!codes.includes(ev.code))
      throw new CaseFailed(`client closed with ${ev.code}, expected ${codes.join(' or ')}`);
    return ev;
  }
}

function describe(ev) {
  if (ev.type === 'message') return `a ${ev.isBinary ? 'binary' : 'text'} message`;
  if (ev.type === 'close') return `close ${ev.code}`;
  if (ev.type === 'error') return `error (${ev.message})`;
  return ev.type;
}

function pattern(n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 7 + 3) & 255;
  return b;
}

// Each case drives the connection; `closes` says whether the case ends the
// connection itself (otherwise the server closes with 1000 and expects the
// client to answer: that is behaviorClose).
const cases = [
  {
    id: '1.1', description: 'echo a short text message (multibyte UTF-8)',
    async run(t) {
      const s = 'Hello, uniws \u00e9\u2713\u{1F600}';
      t.ws.send(s);
      await t.expectMessage(false, s);
    },
  },
  {
    id: '1.2', description: 'echo a binary message with every byte value',
    async run(t) {
      const b = Buffer.alloc(256);
      for (let i = 0; i < 256; i++) b[i] = i;
      t.ws.send(b, { binary: true });
      await t.expectMessage(true, b);
    },
  },
  {
    id: '1.3', description: 'echo an empty text message',
    async run(t) {
      t.ws.send('');
      await t.expectMessage(false, '');
    },
  },
  {
    id: '2.1', description: 'text message in 3 fragments comes back whole',
    async run(t) {
      t.ws.send('frag-one,', { fin: false });
      t.ws.send('frag-two,', { fin: false });
      t.ws.send('frag-three', { fin: true });
      await t.expectMessage(false, 'frag-one,frag-two,frag-three');
    },
  },
  {
    id: '2.2', description: 'binary message in 2 fragments with a ping between them',
    async run(t) {
      const b = pattern(3000);
      t.ws.send(b.subarray(0, 1000), { binary: true, fin: false });
      t.ws.ping(Buffer.from('between'));
      t.ws.send(b.subarray(1000), { binary: true, fin: true });
      await t.expectPong('between');
      await t.expectMessage(true, b);
    },
  },
  {
    id: '3.1', description: 'ping with payload is answered with the same pong',
    async run(t) {
      t.ws.ping(Buffer.from('ping-payload-123'));
      await t.expectPong('ping-payload-123');
      t.ws.send('after ping');
      await t.expectMessage(false, 'after ping');
    },
  },
  {
    id: '4.1', description: 'echo a 64 KiB text message',
    async run(t) {
      const s = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(2000).slice(0, 65536);
      t.ws.send(s);
      await t.expectMessage(false, s);
    },
  },
  {
    id: '4.2', description: 'echo a 64 KiB binary message',
    async run(t) {
      const b = pattern(65536);
      t.ws.send(b, { binary: true });
      await t.expectMessage(true, b);
    },
  },
  {
    id: '5.1', description: 'server closes with 4000 and a reason; client answers',
    closes: true,
    async run(t) {
      t.ws.close(4000, 'bye from the fuzzer');
      // RFC 6455 5.5.1: the answer typically echoes the code; 1000 is accepted too.
      await t.expectClose([4000, 1000]);
    },
  },
  {
    id: '5.2', description: 'server closes with 1000 and no reason; client answers',
    closes: true,
    async run(t) {
      t.ws.close(1000);
      await t.expectClose([1000]);
    },
  },
  {
    id: '6.1', description: 'text message with invalid UTF-8 fails the connection with 1007',
    closes: true,
    async run(t) {
      // "κόσμε" followed by an encoded surrogate (ED A0 80): not valid UTF-8.
      const bad = Buffer.from('cebae1bdb9cf83cebcceb5eda080656469746564', 'hex');
      t.ws.send(bad, { binary: false });
      await t.expectClose([1007]);
    },
  },
];

// verdicts[agent][caseId] = { ... }
const verdicts = new Map();
const running = new Set();

async function runCase(ws, index, agent) {
  const c = cases[index];
  const t = new Tester(ws);
  const started = Date.now();
  const verdict = {
    description: c.description, behavior: 'OK', behaviorClose: 'OK',
    remoteCloseCode: null, duration: 0, detail: '',
  };
  try {
    await c.run(t);
  } catch (e) {
    if (!(e instanceof CaseFailed)) throw e;
    verdict.behavior = 'FAILED';
    verdict.detail = e.message;
  }
  if (!c.closes && !t.closed) {
    ws.close(1000);
    try {
      // Skip whatever else the client still sends; wait for its close.
      for (;;) {
        const ev = await t.next('the close answer');
        if (ev.type === 'close') {
          if (ev.code !== 1000) {
            verdict.behaviorClose = 'FAILED';
            verdict.detail ||= `client answered close 1000 with ${ev.code}`;
          }
          break;
        }
      }
    } catch (e) {
      verdict.behaviorClose = 'FAILED';
      verdict.detail ||= e.message;
    }
  } else if (!c.closes && t.closed) {
    verdict.behaviorClose = 'FAILED';
    verdict.detail ||= `client closed early with ${t.closed.code}`;
  }
  if (!t.closed) ws.terminate();
  if (verdict.behaviorClose !== 'OK') verdict.behavior = 'FAILED';
  verdict.remoteCloseCode = t.closed ? t.closed.code : null;
  verdict.duration = Date.now() - started;
  if (!verdicts.has(agent)) verdicts.set(agent, {});
  verdicts.get(agent)[c.id] = verdict;
  console.log(`case ${c.id} (${agent}): ${verdict.behavior}${verdict.detail ? ' - ' + verdict.detail : ''}`);
}

function writeReports(agent) {
  fs.mkdirSync(outdir, { recursive: true });
  const file = path.join(outdir, 'index.json');
  let index = {};
  if (fs.existsSync(file)) index = JSON.parse(fs.readFileSync(file, 'utf8'));
  for (const [name, byCase] of verdicts) {
    if (agent && name !== agent) continue;
    index[name] = byCase;
  }
  fs.writeFileSync(file, JSON.stringify(index, null, 2) + '\n');
}

const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 * 1024 });
const server = http.createServer((req, res) => {
  res.writeHead(404);
  res.end();
});

server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url, 'ws://localhost');
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on('error', () => {});
    if (url.pathname === '/getCaseCount') {
      ws.send(String(cases.length));
      ws.close(1000);
    } else if (url.pathname === '/runCase') {
      const n = Number(url.searchParams.get('case'));
      const agent = url.searchParams.get('agent') || 'unknown';
      if (!Number.isInteger(n) || n < 1 || n > cases.length) {
        ws.close(1008, 'no such case');
        return;
      }
      const run = runCase(ws, n - 1, agent).catch((e) => {
        console.error(`fuzzingserver: case ${n}: ${e.stack}`);
        ws.terminate();
      });
      running.add(run);
      run.finally(() => running.delete(run));
    } else if (url.pathname === '/updateReports') {
      // A client may ask before the server has finished judging the last
      // case (it saw the close first): let running cases settle.
      Promise.all([...running]).then(() => {
        writeReports(url.searchParams.get('agent'));
        ws.close(1000);
      });
    } else {
      ws.close(1008, 'unknown path');
    }
  });
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
