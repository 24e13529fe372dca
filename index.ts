/**
 * netlink-node: Linux netlink sockets for Node.js.
 *
 * `dial` opens a `Conn`; the rest of this module is the vocabulary of the
 * protocol (constants, message types, errors) and the attribute codec that
 * family modules build on.
 */
export { Family, HeaderFlags, HeaderType, ConnOption } from './lib/constants'
export type { Header, Message, MessageInit } from './lib/message'
export { HEADER_LENGTH, align } from './lib/message'
export { NetlinkError } from './lib/errors'
export type {
  ExtendedAck,
  ExtendedAckPolicy,
  NetlinkErrorOptions,
} from './lib/errors'
export { Conn, dial } from './lib/conn'
export { plainMessage } from './lib/batch'
export type {
  Config,
  ConnStats,
  OpenTransport,
  Transport,
  BatchHandler,
  BpfInstruction,
  ReceivedMessage,
} from './lib/conn'
export {
  AttributeEncoder,
  AttributeDecoder,
  AttributeError,
  marshalAttributes,
  unmarshalAttributes,
  NLA_F_NESTED,
  NLA_F_NET_BYTEORDER,
  NLA_TYPE_MASK,
} from './lib/attribute'
export type {
  Attribute,
  AttributeEntry,
  AttributeOptions,
  ByteOrder,
} from './lib/attribute'
export type {
  BatchJs,
  ExtAckJs,
  NativeConn,
  NativeStats,
  OpenOptions,
  PolicyJs,
} from './binding'
export { marshalMessage, parseMessages, MessageError } from './lib/codec'
export type { MessageLike } from './lib/codec'
export { formatFlags, formatMessage, formatAttributes } from './lib/format'
