// ws-module.mjs — finds the npm `ws` package that scripts/bootstrap.sh
// installs into tests/node/node_modules, so the node test peers in this folder
// can import it; fails with a clear message when it is missing.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const nodeDir = fileURLToPath(new URL('../node/', import.meta.url));

export function loadWs() {
  const dir = nodeDir + 'node_modules/ws';
  if (!existsSync(dir + '/package.json')) {
    console.error(`tests/cli: the npm package 'ws' is missing (${dir}); ` +
      'run scripts/bootstrap.sh (it runs npm install in tests/node)');
    process.exit(2);
  }
  return createRequire(nodeDir + 'package.json')('ws');
}
