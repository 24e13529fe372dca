import { NetlinkError } from './errors'

/**
 * Calls into the binding and turns its errors, which carry the errno as
 * `"<errno>:<message>"`, into `NetlinkError`s of operation `op`.
 */
export function callNative<T>(op: string, call: () => T): T {
  try {
    return call()
  } catch (err) {
    throw fromNative(op, err)
  }
}

/** A `NetlinkError` for an error thrown by the binding. */
function fromNative(op: string, err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err)
  const match = /^(\d+):(.*)$/s.exec(message)
  if (match === null) return err instanceof Error ? err : new Error(message)

  return new NetlinkError(op, Number(match[1]), {
    detail: match[2],
    cause: err,
  })
}
