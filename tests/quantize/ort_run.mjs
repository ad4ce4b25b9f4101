// Runs an ONNX model with ONNX Runtime (CPU) on .npy inputs and writes each output as .npy.
// Usage: NODE_PATH=$ORT/node_modules node ort_run.mjs MODEL.onnx OUT_DIR NAME=IN.npy ... [--opt all|disabled]
// Float32 and int64 inputs/outputs only (what the round-trip tests need).
import { createRequire } from 'module';
import fs from 'fs';
const require = createRequire(import.meta.url);
const ort = require('onnxruntime-node');

const args = process.argv.slice(2);
let level = 'all';
const pos = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--opt') level = args[++i];
  else pos.push(args[i]);
}
const [model, outDir, ...ins] = pos;

function readNpy(path) {
  const b = fs.readFileSync(path);
  if (b.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${path}: not .npy`);
  const major = b[6];
  const hlen = major === 1 ? b.readUInt16LE(8) : b.readUInt32LE(8);
  const off = major === 1 ? 10 : 12;
  const h = b.toString('latin1', off, off + hlen);
  const descr = /'descr':\s*'([^']+)'/.exec(h)[1];
  const shape = /'shape':\s*\(([^)]*)\)/.exec(h)[1].split(',').map(s => s.trim()).filter(s => s).map(Number);
  const data = b.subarray(off + hlen);
  const copy = new Uint8Array(data.length);
  copy.set(data);
  if (descr === '<f4') return new ort.Tensor('float32', new Float32Array(copy.buffer), shape);
  if (descr === '<i8') return new ort.Tensor('int64', new BigInt64Array(copy.buffer), shape);
  throw new Error(`${path}: dtype ${descr} not supported`);
}

function writeNpy(path, t) {
  const descr = t.type === 'float32' ? '<f4' : t.type === 'int64' ? '<i8' : null;
  if (!descr) throw new Error(`output type ${t.type} not supported`);
  const shape = t.dims.length === 1 ? `(${t.dims[0]},)` : `(${t.dims.join(', ')})`;
  let h = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  h += ' '.repeat((64 - ((10 + h.length + 1) % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  head.write('\x93NUMPY', 0, 'latin1');
  head[6] = 1; head[7] = 0;
  head.writeUInt16LE(h.length, 8);
  const d = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  fs.writeFileSync(path, Buffer.concat([head, Buffer.from(h, 'latin1'), d]));
}

const session = await ort.InferenceSession.create(model, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: level });
const feeds = {};
for (const a of ins) {
  const eq = a.indexOf('=');
  feeds[a.slice(0, eq)] = readNpy(a.slice(eq + 1));
}
const out = await session.run(feeds);
fs.mkdirSync(outDir, { recursive: true });
for (const [k, v] of Object.entries(out)) writeNpy(`${outDir}/${k.replace(/[^A-Za-z0-9_.-]/g, '_')}.npy`, v);
