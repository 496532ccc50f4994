// js_bench.mjs — the runtime's own WebSocket driven from plain JavaScript
// doing the same echo workload as `uniws bench` (bench/bench.c,
// bench/workload.c): --count binary messages of --size bytes, --window in
// flight, the payload pattern with the sequence number in its first 16 bytes,
// and the same checks on every echo (size, type, sequence; whole content of
// every 97th, the first and the last). No Node.js API here: the same module
// runs in Node.js (js_node.mjs) and in a page (bench.html).
//
//   runEcho({ url, size, count, window, timeout }) -> Promise<result>
// resolves with the fields of the JSON line every bench client prints
// (bench/report.c), tool "js", backend naming the engine.

const SAMPLE_EVERY = 97;

// CPU time in µs and peak RSS in KiB where the engine tells (Node.js); 0 in a page.
function cpuUs() {
  const p = globalThis.process;
  if (!p || typeof p.cpuUsage !== 'function') return 0;
  const u = p.cpuUsage();
  return u.user + u.system;
}
function peakRssKib() {
  const p = globalThis.process;
  return p && typeof p.resourceUsage === 'function' ? p.resourceUsage().maxRSS : 0;
}

export function engineName() {
  const p = globalThis.process;
  if (p && p.versions && p.versions.node) return `undici (node ${p.versions.node})`;
  const ua = globalThis.navigator ? navigator.userAgent : '';
  const m = /(HeadlessChrome|Chrome|Chromium)\/([\d.]+)/.exec(ua);
  return m ? `Chromium ${m[2]}` : 'browser';
}

const HEX = '0123456789abcdef';

export function runEcho(o) {
  const size = o.size;
  const count = o.count;
  const window = o.window;
  const WS = o.WebSocket || globalThis.WebSocket;
  // The pattern of bench/workload.c: printable, period 26 * 251.
  const pattern = new Uint8Array(size);
  for (let i = 0; i < size; i++) pattern[i] = 97 + ((i + Math.floor(i / 251)) % 26);
  const buf = new Uint8Array(pattern);
  const seqLen = Math.min(size, 16);
  const digits = new Uint8Array(16);
  const stamp = (seq, out) => {
    for (let i = 15; i >= 0; i--) {
      digits[i] = HEX.charCodeAt(seq % 16);
      seq = Math.floor(seq / 16);
    }
    out.set(digits.subarray(16 - seqLen));
  };

  let sent = 0;
  let got = 0;
  let full = 0;
  let error = '';
  const sentAt = new Float64Array(window);
  const rtts = new Float64Array(count);
  let t0 = 0;
  let t1 = 0;
  let cpu0 = 0;
  let cpu1 = 0;
  const fail = (msg) => { if (!error) error = msg; };

  return new Promise((resolve) => {
    let ws;
    let timer = null;
    const finish = () => {
      if (timer !== null) clearTimeout(timer);
      timer = null;
      const secs = t1 > t0 ? (t1 - t0) / 1e3 : 0;
      const r = rtts.subarray(0, got).sort();
      const pct = (p) => (r.length ? r[Math.min(r.length - 1, Math.round(p / 100 * (r.length - 1)))] * 1e3 : 0);
      const msgs = secs > 0 ? got / secs : 0;
      if (!error && got !== count) fail(`closed after ${got} of ${count} echoes`);
      resolve({
        tool: 'js', backend: engineName(), type: 'binary', size, count, window,
        secs: +secs.toFixed(4), msgs_per_s: Math.round(msgs),
        mib_per_s: +(msgs * size / 1048576).toFixed(1), rtt_p50_us: +pct(50).toFixed(1),
        rtt_p99_us: +pct(99).toFixed(1),
        cpu_pct: secs > 0 && cpu1 ? +(100 * (cpu1 - cpu0) / 1e6 / secs).toFixed(1) : 0,
        peak_rss_kib: peakRssKib(), echoes: got, full_checks: full, ok: !error, error,
      });
    };
    const send = () => {
      stamp(sent, buf);
      sentAt[sent % window] = performance.now();
      ws.send(buf);
      sent++;
    };
    timer = setTimeout(() => {
      fail(`timed out after ${o.timeout} s (${got} of ${count} echoes)`);
      try { ws.close(); } catch { /* already closing */ }
      finish();
    }, o.timeout * 1000);
    try {
      ws = new WS(o.url);
    } catch (e) {
      fail(`cannot connect: ${e.message}`);
      finish();
      return;
    }
    ws.binaryType = 'arraybuffer';
    ws.onopen = () => {
      t0 = performance.now();
      cpu0 = cpuUs();
      while (sent < count && sent < window) send();
    };
    ws.onmessage = (ev) => {
      const now = performance.now();
      const seq = got;
      if (seq >= count) { fail('more echoes than messages sent'); ws.close(1000); return; }
      rtts[seq] = now - sentAt[seq % window];
      const d = ev.data;
      if (typeof d === 'string') {
        fail(`echo ${seq}: came back as text`);
      } else if (d.byteLength !== size) {
        fail(`echo ${seq}: ${d.byteLength} bytes, sent ${size}`);
      } else {
        const b = new Uint8Array(d);
        stamp(seq, buf);
        for (let i = 0; i < seqLen; i++) {
          if (b[i] !== buf[i]) { fail(`echo ${seq}: wrong sequence number`); break; }
        }
        if (!error && (seq % SAMPLE_EVERY === 0 || seq + 1 === count)) {
          full++;
          for (let i = seqLen; i < size; i++) {
            if (b[i] !== pattern[i]) { fail(`echo ${seq}: content differs at byte ${i}`); break; }
          }
        }
      }
      if (error) { t1 = t1 || now; ws.close(1000); return; }
      got++;
      if (got === count) {
        t1 = performance.now();
        cpu1 = cpuUs();
        ws.close(1000);
      } else if (sent < count) {
        send();
      }
    };
    ws.onerror = (ev) => fail(`error: ${ev.message || 'the connection failed'}`);
    ws.onclose = () => { if (timer !== null) finish(); };
  });
}
