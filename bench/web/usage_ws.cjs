// usage_ws.cjs — what a Node.js web client costs per message while its socket
// is open, for either client (uniws-bench.js or js_node.mjs): preloaded with
// `node --require`, it wraps the global WebSocket and prints, at the socket's
// close, the process's user and system CPU, minor page faults and context
// switches between the open and close events, per message received, e.g.
//   node --experimental-websocket --require ./bench/web/usage_ws.cjs \
//        BUILD/bench/web/uniws-bench.js --url ws://127.0.0.1:PORT/ --size 16M --count 20 --json
// stderr: @@usage {"messages":20,"user_us":...,"sys_us":...,"minflt":...,"vcsw":...,"ivcsw":...}
// CPU time moves less with the machine's phases than throughput does, and
// the window leaves out start-up (compiling, the first touch of the wasm heap).
// Needs the engine's WebSocket (an EventTarget): not with stub_ws.cjs.
'use strict';
const Base = globalThis.WebSocket;
if (typeof Base === 'function') {
  globalThis.WebSocket = class extends Base {
    constructor(...args) {
      super(...args);
      let r0 = null;
      let n = 0;
      this.addEventListener('open', () => { r0 = process.resourceUsage(); });
      this.addEventListener('message', () => { n++; });
      this.addEventListener('close', () => {
        if (!r0 || !n) return;
        const r = process.resourceUsage();
        const per = (k, digits) => +((r[k] - r0[k]) / n).toFixed(digits);
        process.stderr.write(`@@usage ${JSON.stringify({ messages: n, user_us: per('userCPUTime', 3),
          sys_us: per('systemCPUTime', 3), minflt: per('minorPageFault', 3),
          vcsw: per('voluntaryContextSwitches', 4), ivcsw: per('involuntaryContextSwitches', 4) })}\n`);
      });
    }
  };
}
