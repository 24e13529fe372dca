/**
 * RouteConn: a `NETLINK_ROUTE` Conn with a typed collection for each kind
 * of object and a monitor of their changes.
 */
import { Conn, dial, type Config } from '../conn'
import { Family } from '../constants'
import * as check from '../validate'
import { Addresses } from './address'
import { Links } from './links'
import {
  checkMonitorOptions,
  monitor,
  type MonitorOptions,
  type RouteEvent,
} from './monitor'
import { Neighbours } from './neighbour'
import { Routes } from './route'
import { Rules } from './rule'

/**
 * Opens a `RouteConn`: a `NETLINK_ROUTE` socket with strict checking of
 * dump requests (`NETLINK_GET_STRICT_CHK`), so lists are filtered by the
 * kernel. `config` is the core `dial`'s, `netns` included. Synchronous;
 * throws a `NetlinkError` when the kernel refuses.
 */
export function dialRoute(config: Config = {}): RouteConn {
  const given = check.optionalObject('config', config)
  const options = { strict: true, ...given } as Config
  return new RouteConn(dial(Family.ROUTE, options), options)
}

/**
 * A Conn speaking rtnetlink. The collections share its socket; any number
 * of their requests may be in flight at once. Each `monitor()` opens a
 * socket of its own (with the same config) unless the RouteConn was made
 * over a given Conn, whose `receive()` it then uses. `close()` ends the
 * socket and rejects what is pending with `EBADF`.
 */
export class RouteConn {
  /** The core Conn underneath, for requests the collections lack. */
  readonly conn: Conn
  /** Network interfaces. */
  readonly links: Links
  /** IPv4 and IPv6 addresses of the links. */
  readonly addresses: Addresses
  /** Routes of every table. */
  readonly routes: Routes
  /** The neighbour (ARP and NDP) tables. */
  readonly neighbours: Neighbours
  /** Policy routing rules. */
  readonly rules: Rules

  #config: Config | undefined
  #monitors = new Set<Conn>()

  /**
   * A RouteConn over `conn`, a `NETLINK_ROUTE` Conn (a test double from
   * `netlink-node/testing` too). With `config`, monitors open their own
   * sockets with it; without, they use `conn`.
   */
  constructor(conn: Conn, config?: Config) {
    if (!(conn instanceof Conn)) {
      throw check.typeError(`conn must be a Conn, got ${check.describe(conn)}`)
    }
    this.conn = conn
    this.links = new Links(conn)
    this.addresses = new Addresses(conn)
    this.routes = new Routes(conn)
    this.neighbours = new Neighbours(conn)
    this.rules = new Rules(conn)
    this.#config = config
  }

  /**
   * Follows changes of links, addresses, routes and neighbours as typed
   * events, until the loop is left, `options.signal` aborts, or the
   * RouteConn closes. The first `next()` joins the groups; changes from
   * then on are seen. Resync dumps go over this RouteConn's own socket.
   * See `MonitorOptions`.
   */
  monitor(options: MonitorOptions = {}): AsyncIterableIterator<RouteEvent> {
    const { readBufferSize, maxQueuedBytes } = checkMonitorOptions(options)
    const config = this.#config
    if (config === undefined) {
      return monitor(this.conn, this.conn, false, options)
    }

    const conn = dial(Family.ROUTE, {
      ...config,
      ...(readBufferSize === undefined ? {} : { readBufferSize }),
      ...(maxQueuedBytes === undefined ? {} : { maxQueuedBytes }),
    })
    this.#monitors.add(conn)
    const events = monitor(conn, this.conn, true, options)

    // Forget the monitor's socket once it is closed, by either side.
    const done = () => this.#monitors.delete(conn)
    const end = events.return.bind(events)
    events.return = (v) => end(v).finally(done)
    return events
  }

  /** Closes the socket and those of its monitors; idempotent. */
  async close(): Promise<void> {
    const monitors = [...this.#monitors]
    this.#monitors.clear()
    await Promise.all([this.conn.close(), ...monitors.map((c) => c.close())])
  }

  /** Closes the socket, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}
