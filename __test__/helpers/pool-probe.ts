/**
 * Run in a child process started with --expose-gc, inside a namespace
 * with a few hundred links: dumps the links once and keeps the messages,
 * then dumps them again and again, dropping each result and collecting
 * garbage, so that the batch memory JavaScript let go of is reused. Prints
 * what a test needs to tell whether the kept messages were ever written.
 */
import { pooledBytes } from '../../binding'
import { Family, dial, type Message } from '../../index'
import { getLinkDump } from './rtnl'

/** What the probe prints, as JSON. */
export interface PoolReport {
  /** Messages of the first dump, kept. */
  kept: number
  /** Bytes the pool held right after the first dump, before any collection. */
  pooledAfterFirstDump: number
  /** Whether their bytes still equal a copy taken when they came. */
  intact: boolean
  /** Most bytes the pool held after a collection. */
  pooledAfterCollection: number
  /** Least bytes the pool held right after a dump. */
  pooledAfterDump: number
}

function bytesOf(messages: Message[]): Buffer {
  return Buffer.concat(messages.map((m) => Buffer.from(m.data)))
}

async function collect(): Promise<void> {
  ;(globalThis as { gc?: () => void }).gc?.()
  // Finalizers of external memory run after the collection.
  await new Promise((resolve) => setImmediate(resolve))
}

export async function main(rounds: number): Promise<void> {
  const conn = dial(Family.ROUTE)
  const kept = await conn.execute(getLinkDump())
  const pooledAfterFirstDump = pooledBytes()
  const copy = bytesOf(kept)

  let pooledAfterCollection = 0
  let pooledAfterDump = Infinity
  for (let i = 0; i < rounds; i++) {
    await collect()
    pooledAfterCollection = Math.max(pooledAfterCollection, pooledBytes())
    await conn.execute(getLinkDump())
    pooledAfterDump = Math.min(pooledAfterDump, pooledBytes())
  }
  await conn.close()

  const report: PoolReport = {
    kept: kept.length,
    pooledAfterFirstDump,
    intact: bytesOf(kept).equals(copy),
    pooledAfterCollection,
    pooledAfterDump,
  }
  process.stdout.write(JSON.stringify(report))
}
