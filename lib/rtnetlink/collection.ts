/**
 * What the rtnetlink collections (`Links`, `Addresses`, `Routes`,
 * `Neighbours`, `Rules`) are built on: the Conn their requests go over.
 */
import type { Conn } from '../conn'
import { checkConn } from './arguments'

/**
 * A collection of one kind of rtnetlink object, spoken for over one
 * Conn. It holds nothing but the Conn, so its methods may run
 * concurrently; each fails with the Conn's `EBADF` once it is closed.
 */
export class Collection {
  readonly #conn: Conn

  /**
   * Wraps `conn`, a `NETLINK_ROUTE` Conn (opened with `strict: true`,
   * so that the kernel filters dumps); throws a TypeError for anything
   * that is not a Conn.
   */
  constructor(conn: Conn) {
    this.#conn = checkConn(conn)
  }

  /** The `NETLINK_ROUTE` Conn every request goes over. */
  protected get conn(): Conn {
    return this.#conn
  }
}
