// peer.mjs — starts the native scripted peer (`uniws serve`, from the native
// build) for the WebAssembly tests, and finds a loopback port nobody listens
// on. Everything binds to 127.0.0.1 only.
import { spawn } from 'node:child_process';
import net from 'node:net';

// Starts `uniws serve` with extra arguments; resolves to
// { port, proc, stop() } once it printed "listening on ws://HOST:PORT".
export function startPeer(uniws, extraArgs = [], { verbose = false } = {}) {
  return new Promise((resolve, reject) => {
    const args = ['serve', '--host', '127.0.0.1', '--port', '0', ...extraArgs];
    const proc = spawn(uniws, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    const fail = (why) => {
      proc.kill('SIGKILL');
      reject(new Error(`${uniws} ${args.join(' ')}: ${why}\n${err}`));
    };
    const timer = setTimeout(() => fail('did not print its port within 10 s'), 10000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on \w+:\/\/[^:\s]+:(\d+)/.exec(out);
      if (m && timer) {
        clearTimeout(timer);
        const port = Number(m[1]);
        const stop = () =>
          new Promise((res) => {
            if (proc.exitCode !== null || proc.signalCode !== null) return res();
            proc.once('exit', () => res());
            proc.kill('SIGTERM');
            setTimeout(() => proc.kill('SIGKILL'), 3000).unref();
          });
        resolve({ port, proc, stop });
      }
    });
    proc.stderr.on('data', (d) => {
      err += d;
      if (verbose) process.stderr.write(d);
    });
    proc.on('error', (e) => fail(e.message));
    proc.on('exit', (code, sig) => {
      clearTimeout(timer);
      fail(`exited early (status ${code}, signal ${sig})`);
    });
  });
}

// A port on 127.0.0.1 that was free a moment ago (bound, then released).
export function closedPort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}
