// stub_ws.cjs — an in-process echo WebSocket for measuring what a web client
// itself costs per message, without the network, the server or the engine's
// framing: preloaded with `node --require`, it replaces the global WebSocket
// for either client (uniws-bench.js or js_node.mjs) with one that opens at
// once and echoes every message (a copy) in the next setImmediate
// task. Compare the clients' CPU per message, e.g.
//   node --require ./bench/web/stub_ws.cjs BUILD/bench/web/uniws-bench.js \
//        --url ws://stub/ --size 64 --count 2000000 --window 64 --json
//   node --require ./bench/web/stub_ws.cjs bench/web/js_node.mjs (same options)
// (cpu_pct / 100 × secs / echoes). Not a real WebSocket: no close
// handshake, no bufferedAmount accounting.
'use strict';
class StubWebSocket {
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.protocol = '';
    this.extensions = '';
    this.bufferedAmount = 0;
    this.binaryType = 'blob';
    this.queue = [];
    this.posted = false;
    setImmediate(() => {
      this.readyState = 1;
      if (this.onopen) this.onopen({ type: 'open' });
    });
  }

  send(data) {
    const copy = ArrayBuffer.isView(data)
      ? data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength)
      : data.slice(0);
    this.queue.push(copy);
    if (!this.posted) {
      this.posted = true;
      setImmediate(() => this.flush());
    }
  }

  flush() {
    this.posted = false;
    const q = this.queue;
    this.queue = [];
    for (const data of q) {
      if (this.readyState !== 1) return;
      if (this.onmessage) this.onmessage({ data });
    }
  }

  close(code) {
    if (this.readyState >= 2) return;
    this.readyState = 2;
    setImmediate(() => {
      this.readyState = 3;
      if (this.onclose) this.onclose({ code: code || 1005, reason: '', wasClean: true });
    });
  }
}
globalThis.WebSocket = StubWebSocket;
