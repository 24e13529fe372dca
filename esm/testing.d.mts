// Types of esm/testing.mjs: those of the CommonJS build it re-exports.
export * from '../testing.js'
