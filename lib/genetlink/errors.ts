/**
 * GenericError reports a generic netlink message that cannot be read: a
 * payload too short for the 4-byte generic header, or a controller reply
 * missing what every family has (its id or name), holding a value out of
 * range (a version over 255), or naming a group without its name or id.
 * The kernel never sends such messages; a fake or a broken peer can.
 * Kernel errors stay `NetlinkError`s.
 */
export class GenericError extends Error {
  override readonly name = 'GenericError'
  readonly code = 'ERR_NETLINK_GENERIC'

  constructor(message: string, options?: ErrorOptions) {
    super(message, options)
  }
}
