// phases.cjs — where a Node.js WebSocket client's time goes, per message:
// preloaded with `node --require` into either bench client (uniws-bench.js or
// js_node.mjs; run-web.mjs --phases does it for every workload), it times the
// three places a message's work happens in the process and prints one line,
// "@@phases {json}", on stderr at exit:
//   send     — inside WebSocket.prototype.send: undici builds and masks the
//              frame (a copy of the payload) and writes it to the socket;
//   receive  — inside the socket's 'data' events, less any handler they call:
//              undici parses the frames, joins a message's fragments and
//              builds its event;
//   client   — inside the onmessage handler the client installed, less any
//              send() it calls: the client's own code (for uniws, the copy into
//              the wasm heap, the loop's turn, the C callback and its checks);
//   other    — the rest of the process's CPU time in the window (the socket's
//              reads and writes in libuv and the kernel, GC outside these,
//              timers, the engine's own tasks);
//   idle     — the rest of the window: waiting for the server and the wire.
// Figures are microseconds per message over the window from the first send()
// to the end of the last message handler (start-up and the client's report
// after its last echo are outside). The timing itself costs each phase a
// performance.now() pair, the same for either client. Only onmessage is
// timed (both bench clients use it); a client that installs none gets
// "messages": 0.
'use strict';
const net = require('node:net');
const { performance } = require('node:perf_hooks');

const now = () => performance.now();
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const spent = { send: 0, receive: 0, client: 0 };
const open = []; // per active frame: ms spent in nested timed frames
let first = 0;
let firstCpu = 0;
let last = 0;
let lastCpu = 0;
let messages = 0;

function timed(kind, self, fn, args) {
  const a = now();
  if (!first && kind === 'send') {
    first = a;
    firstCpu = cpuMs();
  }
  open.push(0);
  try {
    return fn.apply(self, args);
  } finally {
    const b = now();
    const nested = open.pop();
    if (first) spent[kind] += b - a - nested;
    if (open.length) open[open.length - 1] += b - a;
    if (kind === 'client' && first) {
      messages++;
      last = b;
      lastCpu = cpuMs();
    }
  }
}

if (typeof WebSocket !== 'function') {
  process.stderr.write('phases: no global WebSocket (Node.js 20: --experimental-websocket)\n');
} else {
  const proto = WebSocket.prototype;
  const send = proto.send;
  proto.send = function (...args) {
    return timed('send', this, send, args);
  };
  const on = Object.getOwnPropertyDescriptor(proto, 'onmessage');
  Object.defineProperty(proto, 'onmessage', {
    configurable: true,
    enumerable: on.enumerable,
    get() {
      return on.get.call(this);
    },
    set(fn) {
      on.set.call(this, typeof fn === 'function' ? function (...args) {
        return timed('client', this, fn, args);
      } : fn);
    },
  });
}
const emit = net.Socket.prototype.emit;
net.Socket.prototype.emit = function (name, ...args) {
  if (name !== 'data') return emit.call(this, name, ...args);
  return timed('receive', this, emit, [name, ...args]);
};

process.on('exit', () => {
  const n = messages;
  const window = last - first;
  const cpu = lastCpu - firstCpu;
  const per = (ms) => (n ? +((ms * 1000) / n).toFixed(2) : 0);
  const busy = spent.send + spent.receive + spent.client;
  process.stderr.write(`@@phases ${JSON.stringify({
    messages: n, window_ms: +window.toFixed(3), send_us: per(spent.send), receive_us: per(spent.receive),
    client_us: per(spent.client), other_us: per(Math.max(0, cpu - busy)),
    idle_us: per(Math.max(0, window - Math.max(cpu, busy))), total_us: per(window),
  })}\n`);
});
