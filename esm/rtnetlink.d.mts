// Types of esm/rtnetlink.mjs: those of the CommonJS build it re-exports.
export * from '../rtnetlink.js'
