// test_autobahn.mjs — `uniws autobahn` against fuzzingserver.mjs (an
// Autobahn-style server on the npm `ws` package), once per compiled network
// backend: every case must be run, reported, and judged OK by the server.
//
//   node test_autobahn.mjs PATH/TO/uniws REPORT_DIR
import fs from 'node:fs';
import path from 'node:path';
import { Checks, SKIP, networkBackends, runUniws, startPeer, uniwsBinary } from './harness.mjs';

const bin = uniwsBinary();
const outdir = process.argv[3];
if (!outdir) {
  console.error('usage: node test_autobahn.mjs PATH/TO/uniws REPORT_DIR');
  process.exit(2);
}

async function main() {
  const t = new Checks('cli.autobahn');
  const backends = networkBackends(bin);
  if (!backends.length) {
    console.log('skipped: no compiled backend has the "network" capability');
    process.exit(SKIP);
  }
  fs.rmSync(outdir, { recursive: true, force: true });
  const { proc, port } = await startPeer('fuzzingserver.mjs', ['--outdir', outdir]);
  const url = `ws://127.0.0.1:${port}`;
  const agents = [];
  let caseCount = 0;
  try {
    const count = runUniws(bin, ['connect', `${url}/getCaseCount`, '-q', '-b', backends[0].name]);
    caseCount = Number(count.stdout.toString().trim());
    t.ok(caseCount > 0, `the fuzzing server has cases (${caseCount})`, count.stderr);

    for (const b of backends) {
      const agent = `uniws test/${b.name}`; // a space and a slash: must be URL-encoded
      agents.push([b.name, agent]);
      const r = runUniws(bin, ['autobahn', '--url', `${url}/`, '--agent', agent, '--backend', b.name],
        { timeoutMs: 120000 });
      const out = r.stdout.toString();
      process.stdout.write(out.replace(/\n$/, "").replace(/^/gm, `  [uniws ${b.name}] `) + "\n");
      t.ok(r.status === 0, `${b.name}: uniws autobahn exits 0`, `status ${r.status}: ${r.stderr}`);
      const progress = out.split('\n').filter((l) => /^\[\d+\/\d+\] case \d+: /.test(l));
      t.ok(progress.length === caseCount, `${b.name}: one progress line per case`,
        `${progress.length} lines for ${caseCount} cases`);
      t.ok(out.includes(`reports updated for agent ${agent}`), `${b.name}: reports updated`);
    }

    // --cases runs a subset.
    const sub = runUniws(bin, ['autobahn', '--url', url, '--agent', 'subset', '--backend', backends[0].name,
      '--cases', '2-3']);
    const lines = sub.stdout.toString().split('\n').filter((l) => /^\[\d+\/\d+\] case \d+: /.test(l));
    t.ok(sub.status === 0 && lines.length === 2 && lines[0].startsWith('[1/2] case 2:'),
      '--cases 2-3 runs exactly cases 2 and 3', sub.stdout.toString() + sub.stderr);

    const bad = runUniws(bin, ['autobahn', '--url', url, '--cases', '5-2']);
    t.ok(bad.status === 1, '--cases 5-2 is a usage error', `status ${bad.status}`);
  } finally {
    proc.kill();
  }

  const file = path.join(outdir, 'index.json');
  t.ok(fs.existsSync(file), `the server wrote ${file}`);
  const index = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, 'utf8')) : {};
  for (const [name, agent] of agents) {
    const byCase = index[agent] || {};
    const ids = Object.keys(byCase);
    t.ok(ids.length === caseCount, `${name}: the report has all ${caseCount} cases for agent '${agent}'`,
      `found ${ids.length}: ${ids.join(' ')}`);
    for (const id of ids) {
      const v = byCase[id];
      t.ok(v.behavior === 'OK', `${name}: case ${id} ${v.description}: ${v.behavior}`,
        `${v.detail} (close ${v.remoteCloseCode})`);
    }
  }
  t.finish();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
