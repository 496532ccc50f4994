// e2e.mjs — end-to-end test of the echo client page in headless Chromium:
// serves the wasm build of examples/echo_client.c with `uniws serve --static`,
// loads the page with two messages, types a third into the input box, closes
// with the button, checks what the page shows and saves a screenshot.
//
//   node e2e.mjs --uniws NATIVE/tools/cli/uniws --static DIR [--screenshot FILE]
import { startPeer } from '../../tests/wasm/peer.mjs';
import { launchChromium } from '../../tests/wasm/browser.mjs';

const opts = {};
for (let i = 2; i < process.argv.length; i += 2) opts[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
if (!opts.uniws || !opts.static) {
  console.error('usage: e2e.mjs --uniws PATH --static DIR [--screenshot FILE]');
  process.exit(2);
}

const sent = ['hello web', 'ünïcødé ✓ €'];
const typed = 'typed in the page';
let failures = 0;
const check = (ok, what) => {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`);
  if (!ok) failures++;
};

const browser = await launchChromium();
const peer = await startPeer(opts.uniws, ['--static', opts.static]);
try {
  const page = await browser.newPage({ viewport: { width: 760, height: 620 } });
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });

  const query = sent.map((m) => `msg=${encodeURIComponent(m)}`).join('&');
  const url = `http://127.0.0.1:${peer.port}/?${query}&stay=1`;
  console.log(`loading ${url}`);
  await page.goto(url);
  const bubbles = (cls) => page.$$eval(`#log li.${cls}`, (els) => els.map((e) => e.textContent));
  const waitBubbles = (cls, n) => page.waitForFunction(
    ([c, k]) => document.querySelectorAll(`#log li.${c}`).length >= k, [cls, n], { timeout: 15000 })
    .then(() => true, () => false);

  check(await waitBubbles('in', sent.length), 'both messages from the URL came back');
  check(/^connected to ws:\/\/127\.0\.0\.1:\d+\/echo$/.test(await page.textContent('#status')),
    'the status line says connected');

  await page.fill('#text', typed);
  await page.click('#send');
  check(await waitBubbles('in', sent.length + 1), 'the typed message came back');
  check(JSON.stringify(await bubbles('out')) === JSON.stringify([...sent, typed]),
    `sent bubbles: ${JSON.stringify(await bubbles('out'))}`);
  check(JSON.stringify(await bubbles('in')) === JSON.stringify([...sent, typed]),
    `received bubbles: ${JSON.stringify(await bubbles('in'))}`);

  await page.click('#quit');
  const closed = await page.waitForFunction(
    () => /closed/.test(document.getElementById('status').textContent), null, { timeout: 10000 })
    .then(() => true, () => false);
  check(closed, 'the Close button closed the connection');
  const status = await page.textContent('#status');
  check(status === 'closed 1000 "bye" clean', `status after closing: ${status}`);
  const info = await bubbles('info');
  check(info.includes(`result: ${sent.length}/${sent.length} messages echoed`),
    `the program's summary: ${info[info.length - 1]}`);
  check(info.some((l) => l === 'open (backend emscripten)'), 'served by the emscripten backend');
  check(problems.length === 0, `no page or console errors${problems.length ? `: ${problems.join('; ')}` : ''}`);

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
