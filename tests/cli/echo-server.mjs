// echo-server.mjs — an independent WebSocket server (the npm `ws` package,
// not our own peer) for testing `uniws connect`. Prints its port on the
// first line of stdout, then serves until killed.
//
//   node echo-server.mjs [--port N]        (default: a free port)
//
// Paths:
//   /                     echo every message with its type
//   /binary/N             first send a binary message of N bytes (byte i = i & 255), then echo
//   /protocol             first send the selected subprotocol as text, then echo
//   /headers              first send the request headers as JSON text, then echo
//   /close/CODE[/REASON]  close at once with CODE and REASON
//   /reject/STATUS        answer the upgrade with HTTP STATUS instead of 101
//   /drop                 drop the TCP connection at once (no close frame)
//   /extensions           first send the negotiated extensions as text, then echo
//   /lastclose            send the close code/reason the previous connection's
//                         client sent (JSON text), then echo
import http from 'node:http';
import { loadWs } from './ws-module.mjs';

const { WebSocketServer } = loadWs();

let port = 0;
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--port') port = Number(args[++i]);
  else {
    console.error(`echo-server: unknown argument ${args[i]}`);
    process.exit(2);
  }
}

let lastClose = null;
const wss = new WebSocketServer({
  noServer: true,
  maxPayload: 64 * 1024 * 1024,
  // Accepted when a client offers it (uniws connect --deflate); every message
  // is then compressed, small ones included.
  perMessageDeflate: { threshold: 0 },
  // The first offered subprotocol wins, as most servers do.
  handleProtocols: (protocols) => (protocols.size ? [...protocols][0] : false),
});

const server = http.createServer((req, res) => {
  res.writeHead(404);
  res.end();
});

server.on('upgrade', (req, socket, head) => {
  const reject = /^\/reject\/(\d{3})$/.exec(req.url);
  if (reject) {
    const status = Number(reject[1]);
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status] || 'Status'}\r\n` +
      'Connection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => serve(ws, req));
});

function serve(ws, req) {
  const path = req.url;
  ws.on('error', () => {});
  ws.on('close', (code, reason) => {
    lastClose = { code, reason: reason.toString() };
  });
  if (path === '/drop') {
    ws.terminate();
    return;
  }
  const close = /^\/close\/(\d+)(?:\/(.*))?$/.exec(path);
  if (close) {
    ws.close(Number(close[1]), decodeURIComponent(close[2] || ''));
    return;
  }
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  const bin = /^\/binary\/(\d+)$/.exec(path);
  if (bin) {
    const buf = Buffer.alloc(Number(bin[1]));
    for (let i = 0; i < buf.length; i++) buf[i] = i & 255;
    ws.send(buf, { binary: true });
  } else if (path === '/protocol') {
    ws.send(ws.protocol);
  } else if (path === '/headers') {
    ws.send(JSON.stringify(req.headers));
  } else if (path === '/extensions') {
    ws.send(ws.extensions);
  } else if (path === '/lastclose') {
    ws.send(JSON.stringify(lastClose));
  }
}

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
