'use strict'
// The native module for this machine: a local build in a source checkout,
// else the per-platform package npm installed (lib/loader/load.ts picks).
// Its types are binding.d.ts, which `napi build` generates from the Rust.
module.exports = require('./lib/loader/load.js').loadNative()
