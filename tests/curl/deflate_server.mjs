// deflate_server.mjs — an echo server with permessage-deflate on every
// message (npm `ws`, independent of uniws), for test_curl_deflate.c. Prints
// its port, then echoes each message with the same type, compressed. With
// CERT.pem KEY.pem it serves wss:// instead of ws://.
//
//   node deflate_server.mjs [CERT.pem KEY.pem]
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import https from 'node:https';
import { fileURLToPath } from 'node:url';

const nodeDir = fileURLToPath(new URL('../node/', import.meta.url));
if (!existsSync(nodeDir + 'node_modules/ws/package.json')) {
  console.error('deflate_server: npm package ws missing in tests/node; run scripts/bootstrap.sh');
  process.exit(2);
}
const { WebSocketServer } = createRequire(nodeDir + 'package.json')('ws');
const [cert, key] = process.argv.slice(2);
const deflate = { threshold: 0 };
let wss;
if (cert) {
  const server = https.createServer({ cert: readFileSync(cert), key: readFileSync(key) });
  wss = new WebSocketServer({ server, perMessageDeflate: deflate });
  server.listen(0, '127.0.0.1', () => console.log(server.address().port));
} else {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: deflate });
  wss.on('listening', () => console.log(wss.address().port));
}
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary, compress: true }));
});
process.stdin.on('end', () => process.exit(0)); // the test closes our stdin when done
process.stdin.resume();
