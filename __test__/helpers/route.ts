/**
 * Typed rtnetlink for kernel tests: a RouteConn in the test's namespace,
 * closed when the test ends, and `ip -j` output to compare it with.
 */
import type { ExecutionContext } from 'ava'
import { dialRoute, type RouteConn } from '../../rtnetlink'
import { closeQuietly } from './conn'
import { ipIn } from './netns'

/** Opens a RouteConn in `ns`, closed when the test ends. */
export function routeIn(t: ExecutionContext, ns: string): RouteConn {
  const rt = dialRoute({ netns: ns })

  t.teardown(() => closeQuietly(rt.conn))
  return rt
}

/** Runs `ip -n ns -j args...` and parses its JSON. */
export function ipJson<T = Record<string, unknown>[]>(
  ns: string,
  ...args: string[]
): T {
  return JSON.parse(ipIn(ns, '-j', ...args)) as T
}

/** Link indexes by name, from `ip -j link show`. */
export function linkIndexes(ns: string): Map<string, number> {
  const links = ipJson<{ ifname: string; ifindex: number }[]>(
    ns,
    'link',
    'show',
  )
  return new Map(links.map((l) => [l.ifname, l.ifindex]))
}
