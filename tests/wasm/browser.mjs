// browser.mjs — launches the system's headless Chromium (Debian's
// /usr/bin/chromium) through playwright-core from tests/node; no browser is
// ever downloaded. Exits with 77 (ctest's "skipped") when either is missing.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const SKIP = 77;

const here = path.dirname(fileURLToPath(import.meta.url));

export function findChromium(explicit) {
  const candidates = [explicit, process.env.UNIWS_CHROMIUM, '/usr/bin/chromium',
    '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
  return candidates.find((p) => p && existsSync(p)) || null;
}

// extraArgs: more command-line flags (e.g. the run's certificate trust).
export async function launchChromium(explicit, extraArgs = []) {
  const exe = findChromium(explicit);
  if (!exe) {
    console.error('SKIP: no Chromium found (scripts/bootstrap.sh --web installs Debian\'s)');
    process.exit(SKIP);
  }
  let chromium;
  try {
    const require = createRequire(path.join(here, '..', 'node', 'package.json'));
    ({ chromium } = require('playwright-core'));
  } catch (e) {
    console.error('SKIP: playwright-core is not installed in tests/node (npm install there)');
    process.exit(SKIP);
  }
  const args = ['--disable-gpu', '--disable-dev-shm-usage', ...extraArgs];
  // Chromium refuses to run its sandbox as root (containers, CI).
  if (process.getuid && process.getuid() === 0) args.push('--no-sandbox');
  const browser = await chromium.launch({ executablePath: exe, headless: true, args });
  return browser;
}
