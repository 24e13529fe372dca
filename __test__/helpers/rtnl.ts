/**
 * Just enough rtnetlink (`NETLINK_ROUTE`) for the kernel tests: message
 * types, groups and attributes from `<linux/rtnetlink.h>` and
 * `<linux/if_link.h>`, requests for links, and a decoder for the links
 * the kernel sends back.
 */
import {
  AttributeDecoder,
  AttributeEncoder,
  HeaderFlags,
  type Message,
  type MessageInit,
} from '../../index'

export const RTM_NEWLINK = 16
export const RTM_DELLINK = 17
export const RTM_GETLINK = 18
export const RTM_NEWADDR = 20
export const RTM_DELADDR = 21
export const RTM_GETADDR = 22
export const RTM_NEWROUTE = 24
export const RTM_GETROUTE = 26
export const RTM_NEWNEXTHOP = 104

export const IFLA_ADDRESS = 1
export const IFLA_IFNAME = 3
export const IFLA_MTU = 4
export const IFLA_OPERSTATE = 16
export const IFLA_LINKINFO = 18
export const IFLA_INFO_KIND = 1

export const IFA_ADDRESS = 1
export const IFA_LOCAL = 2
export const IFA_LABEL = 3

/** Multicast groups (`RTNLGRP_*`): numbers for `joinGroup`. */
export const RTNLGRP_LINK = 1
export const RTNLGRP_IPV4_IFADDR = 5
export const RTNLGRP_IPV4_ROUTE = 7
export const RTNLGRP_IPV6_IFADDR = 9
export const RTNLGRP_NEXTHOP = 32

export const IFF_UP = 0x1
export const IFF_LOWER_UP = 0x10000
export const IFF_RUNNING = 0x40

export const AF_UNSPEC = 0
export const AF_INET = 2
export const AF_INET6 = 10

/** Size of `struct ifinfomsg`. */
export const IFINFOMSG_LENGTH = 16

/** Returns the bitmask `Config.groups` wants for `group` (1..32). */
export function groupMask(group: number): number {
  return 2 ** (group - 1)
}

/** The fixed part of an `RTM_*LINK` message (`struct ifinfomsg`). */
export interface IfInfo {
  family: number
  type: number
  index: number
  flags: number
  change: number
}

/** Encodes a `struct ifinfomsg`; fields left out are zero. */
export function ifinfomsg(fields: Partial<IfInfo> = {}): Buffer {
  const b = Buffer.alloc(IFINFOMSG_LENGTH)

  b.writeUInt8(fields.family ?? AF_UNSPEC, 0)
  b.writeUInt16LE(fields.type ?? 0, 2)
  b.writeInt32LE(fields.index ?? 0, 4)
  b.writeUInt32LE(fields.flags ?? 0, 8)
  b.writeUInt32LE(fields.change ?? 0, 12)
  return b
}

/** A request to dump every link (`RTM_GETLINK` with `NLM_F_DUMP`). */
export function getLinkDump(): MessageInit {
  return {
    header: { type: RTM_GETLINK, flags: HeaderFlags.Dump },
    data: ifinfomsg(),
  }
}

/** A request for the one link with interface index `index`. */
export function getLink(index: number, flags = 0): MessageInit {
  return {
    header: { type: RTM_GETLINK, flags },
    data: ifinfomsg({ index }),
  }
}

/**
 * A request to create a link called `name` of kind `kind` ('veth',
 * 'bridge', ...). It asks for an acknowledgement and fails if the name
 * is taken; pass `flags` to ask for something else.
 */
export function newLink(
  name: string,
  kind: string,
  flags = HeaderFlags.Create | HeaderFlags.Excl | HeaderFlags.Acknowledge,
): MessageInit {
  const attrs = new AttributeEncoder()
    .string(IFLA_IFNAME, name)
    .nested(IFLA_LINKINFO, (e) => e.string(IFLA_INFO_KIND, kind))
    .encode()

  return {
    header: { type: RTM_NEWLINK, flags },
    data: Buffer.concat([ifinfomsg(), attrs]),
  }
}

/** A link as an `RTM_NEWLINK` message describes it. */
export interface Link extends IfInfo {
  name?: string
  mtu?: number
  kind?: string
}

/** Decodes the `struct ifinfomsg` and the attributes the tests read. */
export function parseLink(m: Message): Link {
  const data = m.data
  if (data.length < IFINFOMSG_LENGTH) {
    throw new Error(`link message of ${data.length} bytes is too short`)
  }

  const link: Link = {
    family: data.readUInt8(0),
    type: data.readUInt16LE(2),
    index: data.readInt32LE(4),
    flags: data.readUInt32LE(8),
    change: data.readUInt32LE(12),
  }

  const d = new AttributeDecoder(data.subarray(IFINFOMSG_LENGTH))
  while (d.next()) {
    switch (d.type) {
      case IFLA_IFNAME:
        link.name = d.string()
        break
      case IFLA_MTU:
        link.mtu = d.uint32()
        break
      case IFLA_LINKINFO:
        d.nested((info) => {
          while (info.next()) {
            if (info.type === IFLA_INFO_KIND) {
              link.kind = info.string()
            }
          }
        })
        break
    }
  }
  if (d.err) {
    throw d.err
  }
  return link
}

/** The names of the links in `messages`, in the order they came. */
export function linkNames(messages: Message[]): string[] {
  return messages
    .filter((m) => m.header.type === RTM_NEWLINK)
    .map((m) => parseLink(m).name ?? '')
}
