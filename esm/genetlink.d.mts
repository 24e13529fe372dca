// Types of esm/genetlink.mjs: those of the CommonJS build it re-exports.
export * from '../genetlink.js'
