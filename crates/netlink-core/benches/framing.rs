//! `cargo bench -p netlink-core`: the framing code alone, without sockets.
//! Times the walk over a datagram's messages (`message::frames`) and the
//! batch builder's split of datagrams into records, over datagrams laid
//! out as the kernel lays out a route dump: 32 KiB chunks of 60-byte
//! RTM_NEWROUTE messages. Plain `std::time`, no harness: each figure is the
//! median of several timed rounds.

use std::hint::black_box;
use std::time::{Duration, Instant};

use netlink_core::batch::BatchBuilder;
use netlink_core::message::{self, Header, NLM_F_MULTI};
use netlink_core::socket::Datagram;

/// The size of one RTM_NEWROUTE message of a /32 IPv4 route.
const ROUTE_MESSAGE: usize = 60;
/// The dump chunk the kernel fills for a reader with a large buffer.
const CHUNK: usize = 32 << 10;
/// Chunks per round: about 65,536 routes.
const CHUNKS: usize = 120;
const ROUNDS: usize = 31;

fn main() {
    let chunk = route_chunk();
    let messages = chunk.len() / ROUTE_MESSAGE * CHUNKS;

    let walk = median(|| {
        let mut seen = 0usize;
        for _ in 0..CHUNKS {
            for frame in message::frames(black_box(&chunk)) {
                seen += frame.map(|f| f.payload.len()).unwrap_or(0);
            }
        }
        black_box(seen);
    });
    report("frames: walk the headers", messages, walk);

    let mut builder = BatchBuilder::new(CHUNKS * CHUNK, false);
    let split = median(|| {
        for _ in 0..CHUNKS {
            builder.spare()[..chunk.len()].copy_from_slice(&chunk);
            builder.push_datagram(&Datagram {
                length: chunk.len(),
                ..Datagram::default()
            });
        }
        black_box(builder.take());
    });
    report("batch: copy, split and take", messages, split);
}

/// One dump chunk full of route messages with made-up attributes.
fn route_chunk() -> Vec<u8> {
    let count = CHUNK / ROUTE_MESSAGE;
    let mut chunk = vec![0u8; count * ROUTE_MESSAGE];
    for (i, message) in chunk.chunks_exact_mut(ROUTE_MESSAGE).enumerate() {
        let header = Header {
            length: ROUTE_MESSAGE as u32,
            kind: 24,
            flags: NLM_F_MULTI,
            sequence: 1,
            pid: 4242,
        };
        header.write(message);
        message[16] = 2; // rtm_family: AF_INET
        message[20..24].copy_from_slice(&(i as u32).to_ne_bytes());
    }
    chunk
}

/// The median time of `ROUNDS` runs of `round`, after one to warm up.
fn median(mut round: impl FnMut()) -> Duration {
    round();
    let mut times: Vec<Duration> = (0..ROUNDS)
        .map(|_| {
            let start = Instant::now();
            round();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[ROUNDS / 2]
}

fn report(what: &str, messages: usize, took: Duration) {
    let per = took.as_nanos() as f64 / messages as f64;
    let rate = messages as f64 / took.as_secs_f64() / 1e6;
    println!("{what:32} {per:7.2} ns/message  {rate:8.1} M messages/s");
}
