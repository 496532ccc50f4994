// wire-peer.mjs — the raw one-connection peer of tests/conformance/wire.h,
// run by the native driver for the WebAssembly runner (which cannot listen):
// the runner's wire_web.c starts, watches and stops peers through a small
// HTTP control server on 127.0.0.1 (CORS-enabled, the page's origin differs).
// Semantics mirror wire.c: answer the upgrade, write the given frames, then
// record the client's frames, answer pings with pongs, pongs with a text
// "pong:<payload>", a close with the same payload (then FIN), and wait for
// the client to end TCP.
import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function frame(opcode, payload) {
  const n = payload.length;
  const h = n < 126 ? Buffer.from([0x80 | opcode, n])
    : Buffer.from([0x80 | opcode, 126, n >> 8, n & 0xff]);
  return Buffer.concat([h, payload]);
}

class WirePeer {
  constructor(frames) {
    this.frames = frames;
    this.obs = { upgraded: 0, close_code: -1, close_reason: '', data_frames: 0, pongs: 0,
      last_pong: '', last_pong_len: 0, unmasked: 0, bad: 0, eof: 0, done: 0 };
    this.waiters = [];
    this.server = net.createServer((sock) => this.serve(sock));
    this.server.maxConnections = 1;
  }

  listen() {
    return new Promise((resolve, reject) => {
      this.server.on('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.port = this.server.address().port;
        this.deadline = setTimeout(() => this.finish(), 30000);
        resolve();
      });
    });
  }

  finish() {
    if (this.obs.done) return;
    this.obs.done = 1;
    clearTimeout(this.deadline);
    this.waiters.splice(0).forEach((w) => w());
  }

  serve(sock) {
    if (this.sock) return sock.destroy();
    this.sock = sock;
    let buf = Buffer.alloc(0);
    let upgraded = false;
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        buf = buf.subarray(end + 4);
        const m = /^sec-websocket-key:[ \t]*(\S+)/im.exec(head);
        if (!m) {
          sock.destroy();
          return this.finish();
        }
        const accept = crypto.createHash('sha1').update(m[1] + GUID).digest('base64');
        sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n' +
          `Connection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`);
        this.obs.upgraded = 1;
        upgraded = true;
        if (this.frames.length) sock.write(this.frames);
      }
      buf = this.parse(buf);
      if (buf === null) {
        this.obs.bad = 1;
        sock.destroy();
        this.finish();
      }
    });
    sock.on('end', () => {
      this.obs.eof = 1;
      sock.end();
      this.finish();
    });
    sock.on('error', () => {
      this.obs.eof = 1;
      this.finish();
    });
    sock.on('close', () => this.finish());
  }

  // Consumes complete frames; returns what is left, or null for garbage.
  parse(buf) {
    for (;;) {
      if (buf.length < 2) return buf;
      const masked = buf[1] & 0x80;
      let n = buf[1] & 0x7f;
      let hl = 2;
      if (n === 126) {
        if (buf.length < 4) return buf;
        n = buf.readUInt16BE(2);
        hl = 4;
      } else if (n === 127) {
        if (buf.length < 10) return buf;
        const big = buf.readBigUInt64BE(2);
        if (big > BigInt(1 << 26)) return null;
        n = Number(big);
        hl = 10;
      }
      const need = hl + (masked ? 4 : 0) + n;
      if (buf.length < need) return buf;
      const payload = Buffer.from(buf.subarray(hl + (masked ? 4 : 0), need));
      if (masked) {
        const key = buf.subarray(hl, hl + 4);
        for (let i = 0; i < n; i++) payload[i] ^= key[i & 3];
      } else {
        this.obs.unmasked++;
      }
      this.onFrame(buf[0] & 0x0f, payload);
      buf = buf.subarray(need);
    }
  }

  onFrame(opcode, payload) {
    const o = this.obs;
    if (opcode <= 2) {
      o.data_frames++;
    } else if (opcode === 0x8) {
      if (o.close_code === -1) {
        o.close_code = payload.length >= 2 ? payload.readUInt16BE(0) : 0;
        o.close_reason = payload.subarray(2, 129).toString('utf8');
      }
      // Answer, then end our side of TCP (RFC 6455 7.1.1: the server closes
      // first; Node.js's WebSocket waits for it), and wait for the client's.
      this.sock.write(frame(0x8, payload));
      this.sock.end();
    } else if (opcode === 0x9) {
      this.sock.write(frame(0xa, payload));
    } else if (opcode === 0xa) {
      o.pongs++;
      o.last_pong = payload.subarray(0, 127).toString('utf8');
      o.last_pong_len = payload.length;
      this.sock.write(frame(0x1, Buffer.concat([Buffer.from('pong:'), payload.subarray(0, 125)])));
    }
  }

  wait(ms) {
    if (this.obs.done || ms <= 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }

  stop() {
    clearTimeout(this.deadline);
    if (this.sock) this.sock.destroy();
    this.server.close();
    this.finish();
  }
}

// The control server: POST /start (body: hex frames) -> {id, port};
// GET /wait?id=&timeout= -> the observation; GET /stop?id= -> {}.
export function startWireControl() {
  const peers = new Map();
  let next = 1;
  const srv = http.createServer(async (req, res) => {
    const url = new URL(req.url, 'http://127.0.0.1');
    const reply = (code, obj) => {
      res.writeHead(code, { 'Content-Type': 'application/json',
        'Access-Control-Allow-Origin': '*', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify(obj));
    };
    try {
      if (url.pathname === '/start') {
        let body = '';
        for await (const chunk of req) body += chunk;
        const p = new WirePeer(Buffer.from(body.trim(), 'hex'));
        await p.listen();
        const id = next++;
        peers.set(id, p);
        return reply(200, { id, port: p.port });
      }
      const p = peers.get(Number(url.searchParams.get('id')));
      if (!p) return reply(404, { error: 'no such peer' });
      if (url.pathname === '/wait') {
        await p.wait(Number(url.searchParams.get('timeout') || 0));
        return reply(200, p.obs);
      }
      if (url.pathname === '/stop') {
        p.stop();
        peers.delete(Number(url.searchParams.get('id')));
        return reply(200, {});
      }
      return reply(404, { error: 'unknown path' });
    } catch (e) {
      return reply(500, { error: e.message });
    }
  });
  srv.keepAliveTimeout = 1000;
  return new Promise((resolve) => {
    srv.listen(0, '127.0.0.1', () => resolve({
      url: `http://127.0.0.1:${srv.address().port}`,
      stop: () => new Promise((r) => {
        for (const p of peers.values()) p.stop();
        srv.closeAllConnections();
        srv.close(() => r());
      }),
    }));
  });
}
