// Types of esm/index.mjs: those of the CommonJS build it re-exports.
export * from '../index.js'
