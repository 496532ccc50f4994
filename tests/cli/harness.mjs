// harness.mjs — what the node-driven CLI tests share: start a node peer from
// this folder and learn its port, run the `uniws` binary with input and a time
// limit, list the backends that reach the network, and count failed checks.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SKIP = 77; // ctest SKIP_RETURN_CODE

export function uniwsBinary() {
  const bin = process.argv[2];
  if (!bin || !existsSync(bin)) {
    console.error(`usage: node ${process.argv[1]} PATH/TO/uniws ...  (got ${bin})`);
    process.exit(2);
  }
  return bin;
}

// Starts `node SCRIPT ARGS...`; resolves with { proc, port } once the script
// printed its port as the first line of stdout.
export function startPeer(script, args = []) {
  const file = fileURLToPath(new URL(script, import.meta.url));
  const proc = spawn(process.execPath, [file, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      proc.kill();
      reject(new Error(`${script} did not print its port within 10 s`));
    }, 10000);
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (chunk) => {
      out += chunk;
      const nl = out.indexOf('\n');
      if (nl >= 0 && !proc.portSeen) {
        proc.portSeen = true;
        clearTimeout(timer);
        // Keep relaying the peer's log lines so failures can be read in ctest's output.
        proc.stdout.on('data', (more) => process.stdout.write(`  [${script}] ${more}`));
        const port = Number(out.slice(0, nl));
        if (!(port > 0)) reject(new Error(`${script} printed '${out.slice(0, nl)}', not a port`));
        else resolve({ proc, port });
        const rest = out.slice(nl + 1);
        if (rest) process.stdout.write(`  [${script}] ${rest}`);
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      if (!proc.portSeen) reject(new Error(`${script} exited with ${code} before printing a port`));
    });
  });
}

// Runs uniws synchronously. Returns { status, stdout, stderr }.
export function runUniws(bin, args, { input = '', timeoutMs = 60000, env = {} } = {}) {
  const r = spawnSync(bin, args, {
    input,
    timeout: timeoutMs,
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, ...env },
  });
  if (r.error && r.error.code === 'ETIMEDOUT') {
    return { status: 'timeout', stdout: r.stdout, stderr: `${r.stderr}\n(killed after ${timeoutMs} ms)` };
  }
  if (r.error) throw r.error;
  return { status: r.status === null ? `signal ${r.signal}` : r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

// The compiled backends that reach real hosts (capability "network").
export function networkBackends(bin) {
  const r = runUniws(bin, ['backends', '--json']);
  if (r.status !== 0) throw new Error(`uniws backends --json exited with ${r.status}: ${r.stderr}`);
  const info = JSON.parse(r.stdout.toString());
  return info.backends.filter((b) => b.caps.includes('network'));
}

export class Checks {
  constructor(name) {
    this.name = name;
    this.failed = 0;
    this.passed = 0;
  }

  ok(cond, what, detail = '') {
    if (cond) {
      this.passed++;
      console.log(`  ok    ${what}`);
    } else {
      this.failed++;
      console.log(`  FAIL  ${what}${detail ? '\n        ' + String(detail).trim().split('\n').join('\n        ') : ''}`);
    }
    return cond;
  }

  finish() {
    console.log(`${this.name}: ${this.passed} passed, ${this.failed} failed`);
    process.exit(this.failed ? 1 : 0);
  }
}
