// tls-server.mjs — a wss:// echo server (npm `ws` over node:https) that
// requires a client certificate signed by CLIENT_CA, for testing
// `uniws connect --cert/--key`. Prints its port on the first line of stdout.
//
//   node tls-server.mjs CERT.pem KEY.pem CLIENT_CA.pem
//
// Every connection first receives "client CN=<subject CN of the client's
// certificate>", then its messages are echoed. A client without a valid
// certificate fails the TLS handshake.
import https from 'node:https';
import { readFileSync } from 'node:fs';
import { loadWs } from './ws-module.mjs';

const { WebSocketServer } = loadWs();
const [cert, key, ca] = process.argv.slice(2);
if (!ca) {
  console.error('usage: node tls-server.mjs CERT.pem KEY.pem CLIENT_CA.pem');
  process.exit(2);
}

const server = https.createServer({
  cert: readFileSync(cert),
  key: readFileSync(key),
  ca: readFileSync(ca),
  requestCert: true,
  rejectUnauthorized: true,
});
const wss = new WebSocketServer({ server });
wss.on('connection', (ws, req) => {
  ws.on('error', () => {});
  const peer = req.socket.getPeerCertificate();
  ws.send(`client CN=${peer && peer.subject ? peer.subject.CN : ''}`);
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write(`${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
