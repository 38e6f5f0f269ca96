'use strict';
// Runs an Asyncify runtime of a glue fixture against a simulated wasm module, for the Asyncify
// shapes that cannot be built here (tests/asyncify_sim.rs).
//
// usage: node asyncify_sim.cjs <fixture.js> [--header 12|24] [--bigint-pointers]
//        node asyncify_sim.cjs <closure-glue.js> --closure-glue --stack-size N [--header 24]
//
// Object mode: the fixture's `var Asyncify = {…}` runs unmodified inside `with (env)`, so its
// free names (`_malloc`, `HEAPU8`, `_asyncify_start_unwind`, `Module`, `wasmExports`,
// `MainLoop`…) are the simulator's.
// Closure mode: the fixture is Closure Compiler output of such a runtime plus a little glue,
// which puts `handleSleep`, `instrumentWasmExports`, `setWasm(exports, buffer)` and optionally
// `setStackSize` on `globalThis.Module`; its `malloc`, `free` and `asyncify_*` are the
// simulator's exports.
//
// The simulated program is one export that sleeps SLEEPS times through an import calling
// `handleSleep`, the way Asyncify-instrumented wasm does: the export returns while unwinding,
// and the rewind calls it again, so the import runs again and `handleSleep` sees the Rewinding
// state. Halfway through, the program doubles the stack size, when the runtime lets it (as
// quickjs's `set_asyncify_stack_size` does).
//
// `malloc` is a bump allocator over a buffer that starts nearly full, so the first data block
// grows "memory": the buffer is detached and replaced, and the heap views with it, so a view
// that the import took in `startAsync` goes dead exactly like a real one (its length becomes
// 0). Every `asyncify_start_unwind(data)` checks the header growsafe must keep right: stack
// pointer = data + header, limit = stack pointer + stack size, and the rewind goes back to the
// same block.
//
// Prints one JSON line: counts, dead views, header errors.

const fs = require('fs');
const vm = require('vm');

const file = process.argv[2];
const arg = (name) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? null : process.argv[i + 1];
};
const HEADER = Number(arg('--header') || 12);
const BIGINT = process.argv.includes('--bigint-pointers');
const CLOSURE = process.argv.includes('--closure-glue');
let stackSize = Number(arg('--stack-size') || 0);
const SLEEPS = 8;

const report = {
  sleeps: 0,
  mallocs: 0,
  frees: 0,
  grows: 0,
  deadViews: 0,
  headerErrors: [],
  results: [],
  done: false,
};

// Memory: an ArrayBuffer replaced on growth, as wasm memory growth detaches the old one.
let buffer = new ArrayBuffer(64 * 1024);
let top = buffer.byteLength - 256; // nearly full: the first data block grows memory
const env = {};
let glue = null;
function updateViews() {
  env.HEAP8 = new Int8Array(buffer);
  env.HEAPU8 = new Uint8Array(buffer);
  env.HEAP16 = new Int16Array(buffer);
  env.HEAPU16 = new Uint16Array(buffer);
  env.HEAP32 = new Int32Array(buffer);
  env.HEAPU32 = new Uint32Array(buffer);
  env.HEAP64 = new BigInt64Array(buffer);
  env.HEAPU64 = new BigUint64Array(buffer);
  if (glue) glue.setWasm(rawExports, buffer);
}
updateViews();
const num = (p) => Number(p);
const ptr = (n) => (BIGINT ? BigInt(n) : n);

env._malloc = (size) => {
  report.mallocs++;
  size = num(size);
  const p = (top + 15) & ~15;
  if (p + size > buffer.byteLength) {
    const grown = new ArrayBuffer(Math.ceil((p + size) / 65536) * 65536 + 65536);
    new Uint8Array(grown).set(new Uint8Array(buffer));
    // Detach the old buffer, as WebAssembly.Memory.grow does.
    structuredClone(buffer, { transfer: [buffer] });
    buffer = grown;
    updateViews();
    report.grows++;
  }
  top = p + size;
  return ptr(p);
};
env._free = (p) => {
  if (p) report.frees++;
};

// The "wasm" exports and the Asyncify ABI.
const State = { Normal: 0, Unwinding: 1, Rewinding: 2 };
let abi = State.Normal;
let unwound = null;
function readHeader(data) {
  const d = num(data);
  if (HEADER === 24) {
    return {
      stack: Number(env.HEAPU64[d / 8]),
      limit: Number(env.HEAPU64[d / 8 + 1]),
      id: env.HEAP32[(d + 16) / 4],
    };
  }
  return { stack: env.HEAPU32[d >> 2], limit: env.HEAPU32[(d + 4) >> 2], id: env.HEAP32[(d + 8) >> 2] };
}
const asyncify = {
  asyncify_start_unwind(data) {
    const h = readHeader(data);
    const d = num(data);
    const size = CLOSURE ? stackSize : Number(env.Asyncify.StackSize);
    if (h.stack !== d + HEADER) report.headerErrors.push(`sleep ${report.sleeps}: stack ${h.stack} != ${d} + ${HEADER}`);
    if (h.limit !== h.stack + size) report.headerErrors.push(`sleep ${report.sleeps}: limit ${h.limit} != stack + ${size}`);
    unwound = { data: d, id: h.id };
    abi = State.Unwinding;
  },
  asyncify_stop_unwind() {
    abi = State.Normal;
  },
  asyncify_start_rewind(data) {
    if (!unwound || num(data) !== unwound.data) report.headerErrors.push('rewind with another block');
    abi = State.Rewinding;
  },
  asyncify_stop_rewind() {
    abi = State.Normal;
  },
};

// The program: main() sleeps SLEEPS times; rewinding re-enters it at the sleeping import.
let step = 0;
let handleSleep;
function sleepImport() {
  return handleSleep((wakeUp) => {
    const view = env.HEAPU8.subarray(0, 4);
    setTimeout(() => {
      if (view.length === 0) report.deadViews++;
      wakeUp(100 + step);
    }, 0);
  });
}
function main() {
  for (;;) {
    if (step === SLEEPS) {
      report.done = true;
      return 0;
    }
    if (step === SLEEPS / 2 && abi === State.Normal && report.results.length === step) {
      if (!CLOSURE) env.Asyncify.StackSize *= 2;
      else if (glue.setStackSize) glue.setStackSize((stackSize *= 2));
    }
    const value = sleepImport();
    if (abi === State.Unwinding) {
      report.sleeps++;
      return;
    }
    report.results.push(value);
    step++;
  }
}

Object.assign(env, {
  ABORT: false,
  Module: {},
  abort: (what) => {
    throw new Error(`abort: ${what}`);
  },
  assert: (cond, what) => {
    if (!cond) throw new Error(`assertion failed: ${what}`);
  },
  runAndAbortIfError: (f) => f(),
  callUserCallback: (f) => f(),
  runtimeKeepalivePush: () => {},
  runtimeKeepalivePop: () => {},
  createNamedFunction: (name, f) => f,
  out: () => {},
  err: () => {},
});
for (const [name, f] of Object.entries(asyncify)) {
  env['_' + name] = f;
  env.Module['_' + name] = f;
}

const source = fs.readFileSync(file, 'utf8');
// The ABI functions are raw wasm exports too.
const rawExports = {
  main,
  malloc: (size) => env._malloc(size),
  free: (p) => env._free(p),
  ...asyncify,
};
let instrumented;
if (CLOSURE) {
  globalThis.Module = {};
  vm.runInThisContext(source, { filename: file });
  glue = globalThis.Module;
  glue.setWasm(rawExports, buffer);
  handleSleep = glue.handleSleep;
  instrumented = glue.instrumentWasmExports(rawExports);
} else {
  const run = vm.runInThisContext(
    '(function (env) { with (env) {\n' + source + '\n;env.Asyncify = Asyncify; } })',
    { filename: file },
  );
  run(env);
  handleSleep = env.Asyncify.handleSleep;
  instrumented = env.Asyncify.instrumentWasmExports(rawExports);
  env.Module.asm = instrumented; // 3.1.x: Module['asm'][name]
  env.wasmExports = instrumented; // 3.1.4x-4.0.9: wasmExports[name]
}

process.on('exit', () => {
  console.log(JSON.stringify(report));
});
instrumented.main();
