// server.mjs — an independent WebSocket server (the npm `ws` package, not our
// own peer) for tests/interop/interop.c. A small tap parses the raw frames on
// the TCP socket in both directions, so the test can prove that uniws really
// compressed (RSV1 set, fewer payload bytes on the wire) instead of trusting
// the negotiation alone.
//
//   node server.mjs        listens on 127.0.0.1, a free port, printed on stdout;
//                          exits when stdin closes (the test process ended)
//
// Paths:
//   /echo                  echo every message with its type
//   /deflate?snct&cnct&sbits=N&cbits=N
//                          echo with permessage-deflate, every message
//                          compressed (threshold 0); snct / cnct ask for
//                          server_ / client_no_context_takeover, sbits / cbits
//                          for server_ / client_max_window_bits
//   /proto                 picks the SECOND offered subprotocol, sends it as
//                          text, then echoes
//   /close?code=N&reason=R closes at once (no code: a close frame without one)
//   /ping                  pings with payload "uniws-ping"; sends the text
//                          "pong:<payload>" when the pong arrives, or
//                          "no pong" after 5 s
//   /lastclose             sends "code=N reason=R" of the last close frame a
//                          client sent on any connection ("none" if none), then echoes
// On /echo, /deflate and /proto the text message "__stats__" is not echoed:
// the answer is one line of space-separated key=value pairs about this
// connection, counted by the tap up to and including that request:
//   rx= rxz= rxwire= rxbytes=   messages from the client, how many had RSV1,
//                               their payload bytes on the wire, and after inflating
//   tx= txz= txwire= txbytes=   the same for messages this server sent
//   negotiated=...              the Sec-WebSocket-Extensions this server answered
//   offered=... (last; may hold spaces) what the client offered
import http from 'node:http';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// scripts/bootstrap.sh installs `ws` into tests/node/node_modules.
const nodeDir = fileURLToPath(new URL('../node/', import.meta.url));
if (!existsSync(nodeDir + 'node_modules/ws/package.json')) {
  console.error(`tests/interop/server.mjs: the npm package 'ws' is missing ` +
    `(${nodeDir}node_modules/ws); run scripts/bootstrap.sh`);
  process.exit(2);
}
const { WebSocketServer } = createRequire(nodeDir + 'package.json')('ws');

// ---- the raw frame tap ---------------------------------------------------------

// Follows one direction of the byte stream and counts data messages. Close
// frames from the client are unmasked to read their code and reason.
class FrameTap {
  constructor(onClose) {
    this.pending = Buffer.alloc(0);
    this.skip = 0;          // payload bytes of the current frame still to pass
    this.ctrl = null;       // collects a close frame's payload
    this.msgOpen = false;   // inside a fragmented data message
    this.msgCompressed = false;
    this.messages = 0;
    this.compressed = 0;
    this.wire = 0;          // data frame payload bytes
    this.onClose = onClose;
  }

  feed(chunk) {
    let buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    while (buf.length > 0) {
      if (this.skip > 0) {
        const n = Math.min(this.skip, buf.length);
        if (this.ctrl) this.ctrl.parts.push(Buffer.from(buf.subarray(0, n)));
        this.skip -= n;
        buf = buf.subarray(n);
        if (this.skip === 0) this.frameDone();
        continue;
      }
      this.pending = Buffer.concat([this.pending, buf]);
      buf = Buffer.alloc(0);
      const used = this.header(this.pending);
      if (used === 0) return; // the header is not complete yet
      buf = this.pending.subarray(used);
      this.pending = Buffer.alloc(0);
    }
  }

  // Parses one frame header from b; returns its length, 0 when incomplete.
  header(b) {
    if (b.length < 2) return 0;
    const fin = (b[0] & 0x80) !== 0;
    const rsv1 = (b[0] & 0x40) !== 0;
    const op = b[0] & 0x0f;
    const masked = (b[1] & 0x80) !== 0;
    let len = b[1] & 0x7f;
    let off = 2;
    if (len === 126) {
      if (b.length < 4) return 0;
      len = b.readUInt16BE(2);
      off = 4;
    } else if (len === 127) {
      if (b.length < 10) return 0;
      len = Number(b.readBigUInt64BE(2));
      off = 10;
    }
    let mask = null;
    if (masked) {
      if (b.length < off + 4) return 0;
      mask = Buffer.from(b.subarray(off, off + 4));
      off += 4;
    }
    this.fin = fin;
    this.op = op;
    this.skip = len;
    this.ctrl = op === 8 ? { parts: [], mask } : null;
    if (op === 1 || op === 2) {
      this.msgOpen = true;
      this.msgCompressed = rsv1;
    }
    if (op <= 2) this.wire += len;
    if (len === 0) this.frameDone();
    return off;
  }

  frameDone() {
    if (this.op <= 2 && this.fin && this.msgOpen) {
      this.messages++;
      if (this.msgCompressed) this.compressed++;
      this.msgOpen = false;
    } else if (this.op === 8 && this.ctrl) {
      const p = Buffer.concat(this.ctrl.parts);
      if (this.ctrl.mask) for (let i = 0; i < p.length; i++) p[i] ^= this.ctrl.mask[i & 3];
      this.onClose(p);
    }
    this.ctrl = null;
  }
}

let lastClose = 'none';

function recordClose(p) {
  if (p.length < 2) {
    lastClose = 'code=none reason=';
  } else {
    lastClose = `code=${p.readUInt16BE(0)} reason=${p.subarray(2).toString()}`;
  }
}

// ---- servers, one per permessage-deflate configuration --------------------------

const servers = new Map();

function serverFor(key, deflate) {
  let wss = servers.get(key);
  if (wss) return wss;
  wss = new WebSocketServer({
    noServer: true,
    maxPayload: 64 * 1024 * 1024,
    perMessageDeflate: deflate,
    handleProtocols: (protocols) => {
      const list = [...protocols];
      return list.length >= 2 ? list[1] : false;
    },
  });
  // Remember what this server answered, for the stats line.
  wss.on('headers', (headers, req) => {
    const ext = headers.find((h) => /^sec-websocket-extensions:/i.test(h));
    req.negotiated = ext ? ext.replace(/^[^:]*:\s*/, '') : '';
  });
  servers.set(key, wss);
  return wss;
}

function deflateOptions(q) {
  const opts = { threshold: 0 };
  if (q.has('snct')) opts.serverNoContextTakeover = true;
  if (q.has('cnct')) opts.clientNoContextTakeover = true;
  if (q.has('sbits')) opts.serverMaxWindowBits = Number(q.get('sbits'));
  if (q.has('cbits')) opts.clientMaxWindowBits = Number(q.get('cbits'));
  return opts;
}

const http_server = http.createServer((req, res) => {
  res.writeHead(404);
  res.end();
});

http_server.on('upgrade', (req, socket, head) => {
  const url = new URL(req.url, 'http://127.0.0.1');
  let wss;
  if (url.pathname === '/deflate') {
    const opts = deflateOptions(url.searchParams);
    wss = serverFor('deflate:' + JSON.stringify(opts), opts);
  } else {
    wss = serverFor('plain', false);
  }
  wss.handleUpgrade(req, socket, head, (ws) => serve(ws, req, url, socket));
});

function serve(ws, req, url, socket) {
  const rx = new FrameTap(recordClose);
  const tx = new FrameTap(() => {});
  let rxBytes = 0;
  let txBytes = 0;
  // The 101 answer is already written; from here on every byte is frames.
  // The tap goes first: ws unmasks received payloads in place.
  socket.prependListener('data', (d) => rx.feed(d));
  const write = socket.write;
  socket.write = function (chunk, ...rest) {
    tx.feed(chunk);
    return write.call(this, chunk, ...rest);
  };
  const send = (data, binary) => {
    txBytes += Buffer.byteLength(data);
    ws.send(data, { binary });
  };

  ws.on('error', (e) => console.error(`server.mjs: ${url.pathname}: ${e.message}`));
  const path = url.pathname;

  if (path === '/close') {
    const code = url.searchParams.get('code');
    if (code === null) ws.close();
    else ws.close(Number(code), url.searchParams.get('reason') || '');
    return;
  }
  if (path === '/ping') {
    const timer = setTimeout(() => send('no pong', false), 5000);
    ws.on('pong', (data) => {
      clearTimeout(timer);
      send(`pong:${data.toString()}`, false);
    });
    ws.ping('uniws-ping');
    return;
  }

  ws.on('message', (data, isBinary) => {
    rxBytes += data.length;
    if (!isBinary && data.length === 9 && data.toString() === '__stats__') {
      // The tap listens first, so it has counted this request already; the
      // client waits for all its echoes before asking, so tx is complete too.
      setImmediate(() => {
        const line = `rx=${rx.messages} rxz=${rx.compressed} rxwire=${rx.wire} rxbytes=${rxBytes} ` +
          `tx=${tx.messages} txz=${tx.compressed} txwire=${tx.wire} txbytes=${txBytes} ` +
          `negotiated=${(req.negotiated || '').replace(/ /g, '')} ` +
          `offered=${req.headers['sec-websocket-extensions'] || ''}`;
        send(line, false);
      });
      return;
    }
    send(data, isBinary);
  });
  if (path === '/proto') send(ws.protocol, false);
  else if (path === '/lastclose') send(lastClose, false);
}

http_server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${http_server.address().port}\n`);
});
// The test owns this process through the stdin pipe: when it ends, so do we.
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
