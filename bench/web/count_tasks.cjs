// count_tasks.cjs — preloaded into a Node.js client by run-web.mjs --check
// (node --require): counts the engine tasks the program posts with
// setImmediate and prints "@@tasks N" on stderr at exit, so the check can
// tell whether a received message costs the web loop a task of its own.
'use strict';
let n = 0;
const setImmediate0 = global.setImmediate;
global.setImmediate = function (...args) {
  n++;
  return setImmediate0.apply(this, args);
};
process.on('exit', () => process.stderr.write(`@@tasks ${n}\n`));
