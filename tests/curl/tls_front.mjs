// tls_front.mjs — a TLS-terminating front for a plain TCP service (here:
// tinyproxy), which makes an HTTPS proxy out of an HTTP one for the tests of
// `proxy = "https://..."`. Prints its port on the first line of stdout, then
// one line "tls <n>" for every TLS handshake that completed.
//
//   node tls_front.mjs CERT.pem KEY.pem TARGET_PORT
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';

const [cert, key, target] = process.argv.slice(2);
if (!target) {
  console.error('usage: node tls_front.mjs CERT.pem KEY.pem TARGET_PORT');
  process.exit(2);
}
let n = 0;
const server = tls.createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (client) => {
  process.stdout.write(`tls ${++n}\n`);
  const up = net.connect(Number(target), '127.0.0.1');
  client.pipe(up);
  up.pipe(client);
  const end = () => { client.destroy(); up.destroy(); };
  client.on('error', end);
  up.on('error', end);
  client.on('close', end);
  up.on('close', end);
});
server.on('tlsClientError', () => {}); // an untrusting client hangs up: expected in a test
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.on('SIGTERM', () => process.exit(0));
