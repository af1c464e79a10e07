#!/usr/bin/env node
// ONNX Runtime baseline of the tyboxc benchmark (bench/run_bench.py runs it).
//
// usage: node ort_bench.js MODEL.onnx INPUT.f32 [--shape 1,3,224,224]
//            [--runs N] [--warmup N] [--out OUTPUT.f32]
//
// INPUT.f32 holds one or more samples of the model's (single) input, raw
// little-endian float32 back to back, like the input of tyboxc's model_run.
// The shape of one sample comes from --shape or else from the model's input
// metadata (a symbolic dimension counts as 1). Like model_run, every sample
// is run once and, with --out, the first output of each is written back to
// back as raw float32; then the first sample is run --warmup times untimed and
// --runs times timed. One JSON object goes to stdout:
//   {"engine": "onnxruntime-node", "version": ..., "median_ms": ..., ...}
//
// The session is single threaded (intraOpNumThreads = interOpNumThreads = 1,
// sequential execution) with all graph optimizations on, to compare with
// tyboxc's single-threaded C. Exit status 1 on any error, 2 on a usage error.
'use strict';

const fs = require('fs');

let ort;
try {
  ort = require('onnxruntime-node');
} catch (e) {
  process.stderr.write('error: cannot load onnxruntime-node (' + e.message +
                       '); run `npm ci --ignore-scripts` in bench/\n');
  process.exit(1);
}

function usage(message) {
  if (message) process.stderr.write('error: ' + message + '\n');
  process.stderr.write('usage: node ort_bench.js MODEL.onnx INPUT.f32 ' +
                       '[--shape D,D,...] [--runs N] [--warmup N] [--out FILE]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const args = {runs: 20, warmup: 3, shape: null, out: null, positional: []};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(a + ' needs a value');
      return argv[++i];
    };
    if (a === '--runs') args.runs = parseInt(value(), 10);
    else if (a === '--warmup') args.warmup = parseInt(value(), 10);
    else if (a === '--shape') args.shape = value().split(/[,x]/).map(Number);
    else if (a === '--out') args.out = value();
    else if (a === '-h' || a === '--help') usage();
    else if (a.startsWith('-')) usage('unknown option ' + a);
    else args.positional.push(a);
  }
  if (args.positional.length !== 2) usage('need MODEL.onnx and INPUT.f32');
  if (!(args.runs >= 1)) usage('--runs must be at least 1');
  if (!(args.warmup >= 0)) usage('--warmup must be at least 0');
  if (args.shape && args.shape.some((d) => !(Number.isInteger(d) && d > 0)))
    usage('bad --shape');
  return args;
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

function readF32(path) {
  const buf = fs.readFileSync(path);
  if (buf.length % 4) throw new Error(path + ': size ' + buf.length + ' is not a multiple of 4');
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(4 * i);
  return out;
}

function inputShape(session, given) {
  if (given) return given;
  const meta = session.inputMetadata && session.inputMetadata[0];
  if (!meta || !meta.isTensor || !meta.shape || meta.shape.length === 0)
    throw new Error('the model has no input shape in its metadata: pass --shape');
  return meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const [modelPath, inputPath] = args.positional;
  const options = {
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  };
  const t0 = process.hrtime.bigint();
  const session = await ort.InferenceSession.create(modelPath, options);
  const loadMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (session.inputNames.length !== 1)
    throw new Error('the model has ' + session.inputNames.length + ' inputs; only 1 is supported');
  const inputName = session.inputNames[0];
  const outputName = session.outputNames[0];
  const shape = inputShape(session, args.shape);
  const perSample = shape.reduce((a, b) => a * b, 1);
  const data = readF32(inputPath);
  if (data.length === 0 || data.length % perSample)
    throw new Error(inputPath + ' holds ' + data.length + ' floats, not a multiple of ' +
                    perSample + ' (shape ' + shape.join('x') + ')');
  const samples = data.length / perSample;
  const feed = (k) => ({
    [inputName]: new ort.Tensor('float32', data.subarray(k * perSample, (k + 1) * perSample), shape),
  });

  // Every sample once, outputs kept for the agreement check.
  const chunks = [];
  let outputShape = null;
  for (let k = 0; k < samples; k++) {
    const result = await session.run(feed(k));
    const out = result[outputName];
    outputShape = out.dims;
    chunks.push(Buffer.from(out.data.buffer, out.data.byteOffset, out.data.byteLength));
  }
  if (args.out) fs.writeFileSync(args.out, Buffer.concat(chunks));

  // Warm-up then timed runs of the first sample (the same tensor every time).
  const first = feed(0);
  for (let i = 0; i < args.warmup; i++) await session.run(first);
  const times = [];
  for (let i = 0; i < args.runs; i++) {
    const start = process.hrtime.bigint();
    await session.run(first);
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  const result = {
    engine: 'onnxruntime-node',
    version: ort.env.versions ? ort.env.versions.node || ort.env.versions.common : null,
    model: modelPath,
    input_shape: shape,
    output_shape: outputShape,
    samples: samples,
    runs: args.runs,
    warmup: args.warmup,
    load_ms: loadMs,
    median_ms: median(times),
    min_ms: Math.min(...times),
    mean_ms: times.reduce((a, b) => a + b, 0) / times.length,
    threads: 1,
  };
  process.stdout.write(JSON.stringify(result) + '\n');
  if (session.release) await session.release();
}

main().catch((e) => {
  process.stderr.write('error: ' + (e && e.message ? e.message : String(e)) + '\n');
  process.exit(1);
});
