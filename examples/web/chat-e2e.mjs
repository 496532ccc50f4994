// chat-e2e.mjs — end-to-end test of the chat page in headless Chromium: the
// wasm build of examples/chat_client.c chats once, its server (`uniws serve
// --static`) is stopped, the page keeps reconnecting, the server comes back
// on the same port, the page chats again and closes cleanly.
//
//   node chat-e2e.mjs --uniws NATIVE/tools/cli/uniws --static DIR [--screenshot FILE]
import { startPeer } from '../../tests/wasm/peer.mjs';
import { launchChromium } from '../../tests/wasm/browser.mjs';

const opts = {};
for (let i = 2; i < process.argv.length; i += 2) opts[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
if (!opts.uniws || !opts.static) {
  console.error('usage: chat-e2e.mjs --uniws PATH --static DIR [--screenshot FILE]');
  process.exit(2);
}

let failures = 0;
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const browser = await launchChromium();
let peer = await startPeer(opts.uniws, ['--static', opts.static]);
const port = peer.port;
try {
  const page = await browser.newPage({ viewport: { width: 760, height: 720 } });
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  const lines = () => page.$$eval('#log li', (els) => els.map((e) => e.textContent));
  const waitLine = (re, timeout = 15000) => page.waitForFunction(
    (src) => [...document.querySelectorAll('#log li')].some((e) => new RegExp(src).test(e.textContent)),
    re.source, { timeout }).then(() => true, () => false);

  await page.goto(`http://127.0.0.1:${port}/chat.html?rounds=2&name=web`);
  check(await waitLine(/^web: hello #1$/), 'round 1 came back');
  check((await lines()).includes('open #1 (backend emscripten)'), 'served by the emscripten backend');

  await peer.stop();
  check(await waitLine(/^reconnecting in \d+ ms \(attempt 1, ended with/), 'the page reconnects when the server goes');
  await sleep(600); // a few refused attempts while the server is down
  peer = await startPeer(opts.uniws, ['--static', opts.static, '--port', String(port)]);
  check(await waitLine(/^open #2 \(backend emscripten\)$/), 'the page reopened on the restarted server');
  check(await waitLine(/^closed 1000 "bye" clean \(cause none\)$/), 'round 2 came back and the page closed cleanly');
  const all = await lines();
  check(all.includes('result: 2/2 rounds answered'), `the program's summary: ${all[all.length - 1]}`);
  check(all.filter((l) => l.startsWith('closed')).length === 1, 'exactly one close event');
  check(all.filter((l) => l.startsWith('reconnecting')).length >= 2,
    `several attempts while the server was down (${all.filter((l) => l.startsWith('reconnecting')).length})`);
  check(problems.length === 0, `no page errors${problems.length ? `: ${problems.join('; ')}` : ''}`);
  if (opts.screenshot) {
    await page.screenshot({ path: opts.screenshot, fullPage: true });
    console.log(`screenshot: ${opts.screenshot}`);
  }
} finally {
  await browser.close();
  await peer.stop();
}
console.log(failures ? `${failures} check(s) failed` : 'all checks passed');
process.exit(failures ? 1 : 0);
