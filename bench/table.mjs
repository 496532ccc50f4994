// table.mjs — turns bench/run.sh's JSON lines into the markdown table:
// the median of the repetitions per workload and client (the idle CPU row:
// the least), and ratios
// (uniws on backend X vs raw X; the best uniws vs node `ws` and plain TCP,
// or TLS over TCP on wss, and vs raw-ws, WebSocket with nothing else, where
// it ran). One table per transport (ws, wss) when the runs
// have more than one, each followed by the drift-controlled ratios of the
// rows compared with the ceiling when run.sh made them (--pairs).
//   node bench/table.mjs runs.jsonl "command that produced it"
import fs from 'node:fs';
import os from 'node:os';

const [file, cmd] = process.argv.slice(2);
const allRuns = fs.readFileSync(file, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
const transports = [...new Set(allRuns.map((r) => r.transport ?? 'ws'))];

// The rows compared with the ceiling, also in the drift-controlled table.
const bigRows = { '1m': '1 MiB, 4 in flight', '16m': '16 MiB, one at a time' };
const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
// The table (and the CPU table) of one transport's runs, as lines.
function tables(runs, transport) {
const ceiling = transport === 'wss' ? 'tls' : 'tcp';
const cells = {}; // workload -> label -> [runs]
const labels = [];
for (const r of runs) {
  ((cells[r.workload] ??= {})[r.label] ??= []).push(r);
  if (!labels.includes(r.label)) labels.push(r.label);
}
const least = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x));
  return s.length ? Math.min(...s) : NaN;
};
const get = (w, l, f, agg = median) => {
  const rs = cells[w]?.[l];
  if (!rs) return NaN;
  if (rs.some((r) => !r.run.ok)) return NaN; // a failed run voids the cell
  return agg(rs.map((r) => f(r)));
};

// Each row: workload, what is measured, and whether larger is better.
const rows = [
  { w: 'small', name: '64 B, 64 in flight (msgs/s)', f: (r) => r.run.msgs_per_s, up: true, fmt: (v) => `${(v / 1000).toFixed(0)} k` },
  { w: 'rtt', name: '64 B, one at a time (RTT p50 µs)', f: (r) => r.run.rtt_p50_us, up: false, fmt: (v) => v.toFixed(1) },
  { w: '4k', name: '4 KiB, 64 in flight (MiB/s)', f: (r) => r.run.mib_per_s, up: true, fmt: (v) => v.toFixed(0) },
  { w: '1m', name: `${bigRows['1m']} (MiB/s)`, f: (r) => r.run.mib_per_s, up: true, fmt: (v) => v.toFixed(0) },
  { w: '16m', name: `${bigRows['16m']} (MiB/s)`, f: (r) => r.run.mib_per_s, up: true, fmt: (v) => v.toFixed(0) },
  { w: 'conn', name: 'RSS per connection (KiB), N connections', f: (r) => r.run.rss_per_conn_kib, up: false, fmt: (v) => v.toFixed(1) },
  { w: 'conn', name: 'open + one echo each, N connections (ms)', f: (r) => r.run.open_ms + r.run.echo_ms, up: false, fmt: (v) => v.toFixed(0) },
  { w: 'pmd-4k', name: '4 KiB text, permessage-deflate, 64 in flight (MiB/s)', f: (r) => r.run.mib_per_s, up: true, fmt: (v) => v.toFixed(0) },
  { w: 'pmd-1m', name: '1 MiB text, permessage-deflate, 4 in flight (MiB/s)', f: (r) => r.run.mib_per_s, up: true, fmt: (v) => v.toFixed(0) },
  // The least of the repetitions, not the median: what else lands in the
  // window only adds (docs/performance.md, "The idle rows").
  { w: 'idle', name: 'CPU % of an idle loop with 1,000 sockets (least of the runs)', f: (r) => r.run.idle_cpu_pct, up: false, fmt: (v) => v.toFixed(4), agg: least },
  { w: 'idle', name: 'wake-ups per second of that idle loop', f: (r) => r.run.idle_wakeups_per_s, up: false, fmt: (v) => v.toFixed(2) },
].filter((r) => cells[r.w]);

const uniws = labels.filter((l) => l.startsWith('uniws-'));
const pairs = uniws.map((u) => [u, `raw-${u.slice(6)}`]).filter(([, raw]) => labels.includes(raw));
// ratio > 1 always means uniws does better
const ratio = (u, b, up) => {
  if (!Number.isFinite(u) || !Number.isFinite(b) || u === 0 || b === 0) return '—';
  return `${(up ? u / b : b / u).toFixed(2)}×`;
};

const conns = runs.find((r) => r.workload === 'conn')?.run.connections;
const head = ['workload', ...labels,
  ...pairs.map(([u, raw]) => `${u} / ${raw}`),
  ...(uniws.length && labels.includes('node-ws') ? ['best uniws / node-ws'] : []),
  ...(uniws.length && labels.includes(ceiling) ? [`best uniws / ${ceiling}`] : []),
  ...(uniws.length && labels.includes('raw-ws') ? ['best uniws / raw-ws'] : [])];
const out = [];
out.push(`| ${head.join(' | ')} |`);
out.push(`|${head.map((_, i) => (i ? '---:' : '---')).join('|')}|`);
for (const row of rows) {
  const vals = labels.map((l) => get(row.w, l, row.f, row.agg));
  const best = uniws.map((u) => get(row.w, u, row.f, row.agg)).filter(Number.isFinite)
    .reduce((a, v) => (Number.isNaN(a) ? v : (row.up ? Math.max(a, v) : Math.min(a, v))), NaN);
  const line = [row.name.replace('N connections', `${conns ?? 'N'} connections`),
    ...vals.map((v) => (Number.isFinite(v) ? row.fmt(v) : '—')),
    ...pairs.map(([u, raw]) => ratio(get(row.w, u, row.f, row.agg), get(row.w, raw, row.f, row.agg), row.up))];
  if (uniws.length && labels.includes('node-ws')) line.push(ratio(best, get(row.w, 'node-ws', row.f, row.agg), row.up));
  if (uniws.length && labels.includes(ceiling)) line.push(ratio(best, get(row.w, ceiling, row.f, row.agg), row.up));
  if (uniws.length && labels.includes('raw-ws')) line.push(ratio(best, get(row.w, 'raw-ws', row.f, row.agg), row.up));
  out.push(`| ${line.join(' | ')} |`);
}

// Is the server ever the bottleneck? Its CPU over the whole client process
// (an over-estimate: it includes start-up) next to the client's own.
const cpu = ['', '| workload | ' + labels.map((l) => `${l} client / server CPU %`).join(' | ') + ' |',
  `|---|${labels.map(() => '---:').join('|')}|`];
for (const w of Object.keys(cells)) {
  if (w === 'conn' || w === 'idle') continue;
  cpu.push(`| ${w} | ${labels.map((l) => {
    const c = get(w, l, (r) => r.run.cpu_pct);
    const s = get(w, l, (r) => 100 * r.server_cpu_s / r.wall_s);
    return Number.isFinite(c) ? `${c.toFixed(0)} / ${s.toFixed(0)}` : '—';
  }).join(' | ')} |`);
}
return cpu.length > 3 ? [...out, ...cpu] : out;
}

// The drift-controlled rounds of the rows compared with the ceiling (run.sh
// --pairs: ceiling A B C ceiling A B C ... ceiling): each client's run over
// the geometric mean of the ceiling runs either side of it, the median over
// the rounds (and the least and greatest), as lines.
function pairedTable(pruns, transport) {
  const ceiling = transport === 'wss' ? 'tls' : 'tcp';
  const clients = ['uniws-lws', 'uniws-curl', 'raw-ws'].filter((c) => pruns.some((r) => r.label === c));
  const uniws = clients.filter((c) => c.startsWith('uniws-'));
  if (!uniws.length || !pruns.some((r) => r.label === ceiling)) return [];
  const rawws = clients.includes('raw-ws');
  const mib = (w, label, round) => {
    const r = pruns.find((x) => x.workload === w && x.label === label && x.round === round);
    return r && r.run.ok && r.run.mib_per_s > 0 ? r.run.mib_per_s : NaN;
  };
  const fmt = (xs) => {
    const ok = xs.filter(Number.isFinite);
    if (!ok.length) return ['—', NaN];
    const m = median(xs);
    return [`${m.toFixed(2)}× (${Math.min(...ok).toFixed(2)}–${Math.max(...ok).toFixed(2)})`, m];
  };
  const head = ['workload', 'rounds', ...clients.map((c) => `${c} / ${ceiling}`), `best uniws / ${ceiling}`,
    ...(rawws ? ['best uniws / raw-ws'] : [])];
  const out = [`| ${head.join(' | ')} |`, `|${head.map((_, i) => (i ? '---:' : '---')).join('|')}|`];
  for (const w of Object.keys(bigRows).filter((x) => pruns.some((r) => r.workload === x))) {
    const n = Math.max(...pruns.filter((r) => r.workload === w && r.label === ceiling).map((r) => r.round));
    const rounds = [...Array(Math.max(n, 0)).keys()];
    const vsCeil = (c) => rounds.map((i) => mib(w, c, i) / Math.sqrt(mib(w, ceiling, i) * mib(w, ceiling, i + 1)));
    const cells = clients.map((c) => fmt(vsCeil(c)));
    const best = (ms) => ms.filter(Number.isFinite).reduce((a, v) => (Number.isNaN(a) ? v : Math.max(a, v)), NaN);
    const bestCeil = best(uniws.map((c) => cells[clients.indexOf(c)][1]));
    const line = [bigRows[w], rounds.length, ...cells.map((c) => c[0]), Number.isFinite(bestCeil) ? `${bestCeil.toFixed(2)}×` : '—'];
    if (rawws) {
      const b = best(uniws.map((c) => median(rounds.map((i) => mib(w, c, i) / mib(w, 'raw-ws', i)))));
      line.push(Number.isFinite(b) ? `${b.toFixed(2)}×` : '—');
    }
    out.push(`| ${line.join(' | ')} |`);
  }
  return ['', `Against the ceiling, drift-controlled (${ceiling} before and after each round; ` +
    'each run over the geometric mean of the two; median of the rounds, least–greatest):', '', ...out];
}

const runs = allRuns.filter((r) => r.pass !== 'paired');
const paired = allRuns.filter((r) => r.pass === 'paired');

const failures = allRuns.filter((r) => !r.run.ok);
const versions = {};
for (const r of runs) if (r.run.backend) versions[r.label] = r.run.backend;
const reps = Math.max(...runs.map((r) => r.rep));
const rttRuns = Math.max(0, ...Object.values(runs.filter((r) => r.workload === 'rtt')
  .reduce((a, r) => ({...a, [r.label]: (a[r.label] || 0) + 1}), {})));
console.log(`Medians of ${reps} interleaved run(s)` +
  (rttRuns > reps ? ` (${rttRuns} of the round trip)` : '') +
  ` on ${os.cpus().length} × ${os.cpus()[0].model.trim()}, ` +
  `server pinned to core 0, client to core 1. Ratio > 1× means uniws does better.\n`);
for (const t of transports) {
  if (transports.length > 1 || t !== 'ws') {
    const tls = runs.find((r) => (r.transport ?? 'ws') === t && r.run.tls)?.run.tls;
    console.log(`### ${t}${t === 'wss' ? ` (TLS${tls ? `: ${tls}` : ''}; tls = TLS over TCP, the ceiling)` : ''}\n`);
  }
  console.log(tables(runs.filter((r) => (r.transport ?? 'ws') === t), t).join('\n'));
  const pt = pairedTable(paired.filter((r) => (r.transport ?? 'ws') === t), t);
  if (pt.length) console.log(pt.join('\n'));
  if (transports.length > 1) console.log('');
}
console.log(`\nClients: ${Object.entries(versions).map(([l, v]) => `${l} = ${v}`).join('; ')}.`);
if (failures.length) {
  console.log(`\n**${failures.length} run(s) failed** (cells left empty):`);
  for (const f of failures) console.log(`- ${f.workload} ${f.transport ?? 'ws'} ${f.label} ${f.pass ? `${f.pass} round ${f.round}` : `rep ${f.rep}`}: ${f.run.error}`);
}
console.log(`\nProduced by \`${cmd}\` on ${new Date().toISOString().slice(0, 10)}.`);
