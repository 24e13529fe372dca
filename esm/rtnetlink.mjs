// The ES module entry of netlink-node/rtnetlink: the exports of the CommonJS
// build under the same names. Both entries share one module instance, so
// what either returns is of the same classes.
export * from '../rtnetlink.js'
