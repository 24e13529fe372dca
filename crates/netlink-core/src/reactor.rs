//! The I/O thread: one per process, serving every open socket through
//! epoll. It drains whatever is readable into a batch and hands the batch
//! to the socket's sink in one call; it never blocks on a consumer.
//!
//! Memory stays bounded when a consumer falls behind: each registration
//! counts the bytes handed over and not yet released, and above
//! `PAUSE_BYTES` the thread stops reading that socket. The kernel's receive
//! buffer then fills and the kernel reports the overrun (`ENOBUFS`), which
//! reaches the consumer once reading resumes below `RESUME_BYTES`.

use std::collections::HashMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock, RwLockReadGuard};

use crate::batch::{Batch, BatchBuilder};
use crate::error::{Result, SysError};
use crate::message::{
    align, frames, Header, NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK, NLM_F_DUMP,
    NLM_F_MULTI,
};
use crate::outbox::{self, Outbox};
use crate::socket::{Datagram, NlSocket};

/// Bytes one burst may read before its batch is handed over. A few dump
/// chunks: enough to make crossings rare, few enough messages that
/// JavaScript routes a batch in about a millisecond and the event loop
/// can turn between batches.
pub const BATCH_BYTES: usize = 256 << 10;

/// Free bytes a receive needs: the kernel sizes dump chunks to the reader's
/// buffer (up to 32 KiB), and larger datagrams must not be truncated.
pub const MIN_RECEIVE_SPACE: usize = 64 << 10;

/// Unreleased bytes at which reading a socket pauses.
pub const PAUSE_BYTES: usize = 32 << 20;

/// Unreleased bytes at which a paused socket is read again.
pub const RESUME_BYTES: usize = 8 << 20;

const WAKE_TOKEN: u64 = 0;

/// Where a registration's batches go.
pub trait Sink: Send + Sync {
    /// Takes a batch. Returns false when the consumer is gone for good
    /// (its runtime shut down); the registration is then closed.
    fn deliver(&self, batch: Batch) -> bool;
}

/// Counters of what a registration saw; all monotonic.
#[derive(Debug, Default)]
pub struct Stats {
    /// Datagrams dropped because a userspace port sent them.
    pub dropped: AtomicU64,
    /// Overruns the kernel reported (`ENOBUFS`).
    pub overruns: AtomicU64,
    /// Datagrams cut by a too-small buffer.
    pub truncated: AtomicU64,
    /// Batches handed over.
    pub batches: AtomicU64,
    /// Datagrams received.
    pub datagrams: AtomicU64,
    /// Times reading paused because the consumer fell behind.
    pub pauses: AtomicU64,
}

/// What a registration reads, and how.
pub struct Options {
    /// Deliver datagrams from userspace ports, not only the kernel's.
    pub accept_userspace: bool,
    /// Deliver whole datagrams unparsed.
    pub raw: bool,
}

struct Entry {
    id: u64,
    socket: RwLock<Option<NlSocket>>,
    /// Held while a burst is read and handed over, by whichever thread
    /// reads: batches then reach the consumer in the order they were read.
    reader: Mutex<()>,
    sink: Box<dyn Sink>,
    options: Options,
    stats: Stats,
    unreleased: AtomicUsize,
    paused: AtomicBool,
    /// The caller's thread stopped the I/O thread watching the socket, to
    /// read replies itself, and has not called `watch` since.
    unwatched: AtomicBool,
    /// Datagrams the I/O thread is to send.
    outbox: Mutex<Outbox>,
}

struct Reactor {
    epoll: i32,
    wake: i32,
    entries: Mutex<HashMap<u64, Arc<Entry>>>,
    next_id: AtomicU64,
    /// Registrations whose outbox the I/O thread is to send.
    outgoing: Mutex<Vec<Arc<Entry>>>,
}

/// A socket served by the I/O thread. Sends and option calls go straight
/// to the socket from the caller's thread; receiving is the I/O thread's.
/// Dropping it closes the socket.
pub struct Registration {
    entry: Arc<Entry>,
    reactor: &'static Reactor,
}

/// Hands `socket` to the I/O thread, starting the thread on first use.
/// Batches of what arrives go to `sink`, in arrival order.
pub fn register(
    socket: NlSocket,
    options: Options,
    sink: Box<dyn Sink>,
) -> Result<Registration> {
    let reactor = reactor()?;
    let id = reactor.next_id.fetch_add(1, Ordering::Relaxed);
    let fd = socket.fd();
    let entry = Arc::new(Entry {
        id,
        socket: RwLock::new(Some(socket)),
        reader: Mutex::new(()),
        sink,
        options,
        stats: Stats::default(),
        unreleased: AtomicUsize::new(0),
        paused: AtomicBool::new(false),
        unwatched: AtomicBool::new(false),
        outbox: Mutex::new(Outbox::default()),
    });

    reactor.entries.lock().unwrap().insert(id, entry.clone());
    if let Err(err) = epoll_ctl(reactor.epoll, libc::EPOLL_CTL_ADD, fd, id) {
        reactor.entries.lock().unwrap().remove(&id);
        return Err(err);
    }
    Ok(Registration { entry, reactor })
}

impl Registration {
    /// The socket; `None` once closed. Holds off `close` while the guard
    /// lives: keep it short.
    fn socket(&self) -> RwLockReadGuard<'_, Option<NlSocket>> {
        self.entry.socket.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs `op` on the open socket; `EBADF` once it is closed. `close`
    /// waits for `op` to return.
    pub fn with_socket<T>(
        &self,
        op: impl FnOnce(&NlSocket) -> Result<T>,
    ) -> Result<T> {
        let socket = self.socket();
        op(socket.as_ref().ok_or_else(SysError::closed)?)
    }

    /// Sends `datagram` from this thread, or, while requests queued with
    /// `enqueue` are not all sent, queues it behind them: the kernel sees
    /// requests in the order they were made. A queued send that fails is
    /// answered by an error reply in the kernel's form, since there is no
    /// caller left to tell.
    pub fn send(&self, datagram: &[u8]) -> Result<()> {
        if !self.outbox().is_idle() {
            return self.enqueue(datagram);
        }
        self.with_socket(|socket| socket.send(datagram))
    }

    /// Queues `datagram` for the I/O thread to send; the replies reach the
    /// sink like any others. The kernel builds most replies inside
    /// `sendmsg`, so this moves that work off the caller's thread: worth
    /// it while other requests are in flight, not for a lone one.
    pub fn enqueue(&self, datagram: &[u8]) -> Result<()> {
        self.with_socket(|socket| {
            // Replies to come may span more than what is read at once.
            self.watch_socket(socket);
            Ok(())
        })?;
        if self.outbox().push(datagram) {
            let mut outgoing = lock(&self.reactor.outgoing);
            outgoing.push(self.entry.clone());
            drop(outgoing);
            self.reactor.wake();
        }
        Ok(())
    }

    fn outbox(&self) -> std::sync::MutexGuard<'_, Outbox> {
        lock(&self.entry.outbox)
    }

    /// Counters of what this registration saw.
    pub fn stats(&self) -> &Stats {
        &self.entry.stats
    }

    /// Whether the socket was closed.
    pub fn is_closed(&self) -> bool {
        self.socket().is_none()
    }

    /// Says the consumer is done with `bytes` of what it was handed (a
    /// batch's `Batch::bytes`). Wakes the I/O thread when that lets a
    /// paused socket be read again.
    pub fn release(&self, bytes: usize) {
        release(&self.entry, bytes, self.reactor);
    }

    /// Sends `datagram`, then reads up to `max_datagrams` of what
    /// already arrived on the caller's thread: the kernel answers most
    /// requests inside `sendmsg`, and the trip through the I/O thread
    /// costs more than the request. Holding the reader lock across the send
    /// keeps the I/O thread, woken by the reply, from taking it first.
    ///
    /// Reads nothing (`Ok(None)`) while the I/O thread is reading, or while
    /// the consumer has batches not yet released: what is read here must
    /// come after everything handed over before.
    ///
    /// When the whole reply was read, the I/O thread is left not watching
    /// the socket until `watch` is called, so that a run of requests pays
    /// for stopping and resuming the watch once, not each time. Call
    /// `watch` soon after (when the caller's event loop turns): until
    /// then, what else arrives waits in the kernel's buffer.
    pub fn send_then_read(
        &self,
        datagram: &[u8],
        builder: &mut BatchBuilder,
        max_datagrams: usize,
    ) -> Result<Option<Batch>> {
        let read = self.send_then_fill(datagram, builder, max_datagrams)?;
        Ok(read.then(|| builder.take()))
    }

    /// `send_then_read`, leaving what it read recorded in `builder`, for
    /// the caller to take as it likes (`BatchBuilder::take_into`); true
    /// when anything was read.
    pub fn send_then_fill(
        &self,
        datagram: &[u8],
        builder: &mut BatchBuilder,
        max_datagrams: usize,
    ) -> Result<bool> {
        let entry = &self.entry;
        if !self.outbox().is_idle() {
            self.enqueue(datagram)?;
            return Ok(false);
        }
        let reading = entry.reader.try_lock().ok();
        self.with_socket(|socket| {
            let idle = entry.unreleased.load(Ordering::Acquire) == 0;
            if reading.is_none() || !idle {
                // The I/O thread reads this reply: let it see it.
                self.watch_socket(socket);
                socket.send(datagram)?;
                return Ok(false);
            }

            // Unwatched while this thread reads, the reply wakes nobody
            // else.
            let epoll = self.reactor.epoll;
            if !entry.unwatched.swap(true, Ordering::AcqRel) {
                arm(epoll, socket.fd(), entry.id, false);
            }
            let sent = socket.send(datagram);
            let mut ended = false;
            if sent.is_ok() {
                builder.set_raw(entry.options.raw);
                let awaited = Awaited::of(datagram);
                ended =
                    read_burst(socket, entry, builder, max_datagrams, awaited);
            }

            // The rest of the reply is the I/O thread's to read.
            if !ended {
                self.watch_socket(socket);
            }
            sent?;
            Ok(!builder.is_empty())
        })
    }

    /// Lets the I/O thread watch the socket again after `send_then_read`
    /// read a whole reply; does nothing when it already does.
    pub fn watch(&self) {
        let _ = self.with_socket(|socket| {
            self.watch_socket(socket);
            Ok(())
        });
    }

    fn watch_socket(&self, socket: &NlSocket) {
        let entry = &self.entry;
        if entry.unwatched.swap(false, Ordering::SeqCst)
            && !entry.paused.load(Ordering::SeqCst)
        {
            arm(self.reactor.epoll, socket.fd(), entry.id, true);
        }
    }

    /// A handle for `release` that can live apart from the registration
    /// (in a consumer's callback) without keeping the socket open.
    pub fn releaser(&self) -> Releaser {
        Releaser {
            entry: Arc::downgrade(&self.entry),
            reactor: self.reactor,
        }
    }

    /// Closes the socket: the I/O thread stops serving it and the
    /// descriptor is closed before this returns. Idempotent.
    pub fn close(&self) {
        close(&self.entry, self.reactor);
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.close();
    }
}

/// Releases bytes of a registration's batches from a consumer's callback.
#[derive(Clone)]
pub struct Releaser {
    entry: std::sync::Weak<Entry>,
    reactor: &'static Reactor,
}

impl Releaser {
    /// See `Registration::release`.
    pub fn release(&self, bytes: usize) {
        if let Some(entry) = self.entry.upgrade() {
            release(&entry, bytes, self.reactor);
        }
    }
}

fn release(entry: &Entry, bytes: usize, reactor: &Reactor) {
    let before = entry.unreleased.fetch_sub(bytes, Ordering::AcqRel);
    let after = before.saturating_sub(bytes);
    if entry.paused.load(Ordering::Acquire) && after <= RESUME_BYTES {
        reactor.wake();
    }
}

fn close(entry: &Entry, reactor: &Reactor) {
    reactor.entries.lock().unwrap().remove(&entry.id);

    // The thread may be reading this socket: the write lock waits for it.
    let mut socket = entry.socket.write().unwrap_or_else(|e| e.into_inner());
    lock(&entry.outbox).clear();
    if let Some(open) = socket.take() {
        let _ = epoll_ctl(reactor.epoll, libc::EPOLL_CTL_DEL, open.fd(), 0);
        drop(open);
        reactor.wake();
    }
}

fn reactor() -> Result<&'static Reactor> {
    static REACTOR: OnceLock<std::result::Result<Reactor, SysError>> =
        OnceLock::new();
    let started = REACTOR.get_or_init(|| {
        let created = Reactor::new()?;

        // The thread waits in `reactor()` until this initialiser returns.
        std::thread::Builder::new()
            .name("netlink-io".into())
            .spawn(|| run(reactor()))
            .map_err(|e| {
                SysError::from_io(&e, "spawn the netlink I/O thread")
            })?;
        Ok(created)
    });
    started.as_ref().map_err(Clone::clone)
}

fn run(reactor: Result<&'static Reactor>) {
    let Ok(reactor) = reactor else { return };
    let mut builder = BatchBuilder::new(BATCH_BYTES, false);
    let mut events = [libc::epoll_event { events: 0, u64: 0 }; 64];

    loop {
        let n = unsafe {
            libc::epoll_wait(reactor.epoll, events.as_mut_ptr(), 64, -1)
        };
        if n < 0 {
            continue; // EINTR: a signal landed on this thread.
        }

        for event in &events[..n as usize] {
            let token = event.u64;
            if token == WAKE_TOKEN {
                reactor.drain_wake();
                reactor.resume_paused();
                reactor.send_outgoing(&mut builder);
                continue;
            }
            let entries = reactor.entries.lock();
            let entries = entries.unwrap_or_else(|e| e.into_inner());
            let entry = entries.get(&token).cloned();
            drop(entries);
            if let Some(entry) = entry {
                reactor.serve_or_recover(&entry, &mut builder);
            }
        }
    }
}

impl Reactor {
    fn new() -> Result<Reactor> {
        let epoll = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
        if epoll < 0 {
            return Err(SysError::last("epoll_create1"));
        }
        let flags = libc::EFD_CLOEXEC | libc::EFD_NONBLOCK;
        let wake = unsafe { libc::eventfd(0, flags) };
        if wake < 0 {
            return Err(SysError::last("eventfd"));
        }
        epoll_ctl(epoll, libc::EPOLL_CTL_ADD, wake, WAKE_TOKEN)?;

        Ok(Reactor {
            epoll,
            wake,
            entries: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(WAKE_TOKEN + 1),
            outgoing: Mutex::new(Vec::new()),
        })
    }

    fn wake(&self) {
        let one: u64 = 1;
        unsafe { libc::write(self.wake, &one as *const u64 as *const _, 8) };
    }

    fn drain_wake(&self) {
        let mut count: u64 = 0;
        unsafe { libc::read(self.wake, &mut count as *mut u64 as *mut _, 8) };
    }

    fn resume_paused(&self) {
        let entries: Vec<Arc<Entry>> =
            self.entries.lock().unwrap().values().cloned().collect();
        for entry in entries {
            let below =
                entry.unreleased.load(Ordering::Acquire) <= RESUME_BYTES;
            if entry.paused.load(Ordering::Acquire) && below {
                // `watch_socket` arms it when the caller's thread has it.
                entry.paused.store(false, Ordering::SeqCst);
                if !entry.unwatched.load(Ordering::SeqCst) {
                    self.arm(&entry, true);
                }
                // Sends held back by the pause can go now.
                if !lock(&entry.outbox).is_idle() {
                    lock(&self.outgoing).push(entry.clone());
                }
            }
        }
    }

    /// Sends what the registrations queued, then reads and hands over the
    /// replies the kernel made meanwhile. A paused registration keeps its
    /// queue until it resumes: its replies could not be read.
    fn send_outgoing(&self, builder: &mut BatchBuilder) {
        let outgoing = std::mem::take(&mut *lock(&self.outgoing));
        for entry in outgoing {
            if entry.paused.load(Ordering::Acquire) {
                continue;
            }
            let sent = panic::catch_unwind(AssertUnwindSafe(|| {
                self.send_queued(&entry, builder);
            }));
            if sent.is_err() {
                lock(&entry.outbox).clear();
                self.serve_or_recover(&entry, builder);
            }
        }
    }

    /// Sends `entry`'s outbox until it stays empty, reading and handing
    /// over the replies after each datagram, so that JavaScript routes
    /// the first replies while the kernel answers the next requests. A
    /// pause stops it; `resume_paused` brings the registration back.
    fn send_queued(&self, entry: &Arc<Entry>, builder: &mut BatchBuilder) {
        while !entry.paused.load(Ordering::Acquire) {
            let taken = lock(&entry.outbox).take();
            let Some(queued) = taken else { return };
            for datagram in queued.datagrams() {
                let sent = {
                    let socket = entry.socket.read();
                    let socket = socket.unwrap_or_else(|e| e.into_inner());
                    let Some(socket) = socket.as_ref() else {
                        lock(&entry.outbox).clear();
                        return;
                    };
                    socket.send(datagram)
                };
                if let Err(err) = sent {
                    let failed = outbox::request_headers(datagram);
                    self.report_failures(entry, builder, &failed, err.errno);
                }
                self.serve(entry, builder);
            }
        }
    }

    /// Records an error reply for each request whose send failed, handing
    /// over a full batch first where there is no room left.
    fn report_failures(
        &self,
        entry: &Arc<Entry>,
        builder: &mut BatchBuilder,
        failed: &[Header],
        errno: i32,
    ) {
        let _reading = entry.reader.lock().unwrap_or_else(|e| e.into_inner());
        builder.set_raw(entry.options.raw);
        for request in failed {
            if builder.spare_len() < align(outbox::FAILURE_LEN) {
                self.hand_over(entry, builder);
            }
            let Some(length) =
                outbox::write_failure(builder.spare(), request, errno)
            else {
                continue;
            };
            builder.push_datagram(&Datagram {
                length,
                ..Datagram::default()
            });
        }
    }

    fn arm(&self, entry: &Entry, readable: bool) {
        let socket = entry.socket.read().unwrap_or_else(|e| e.into_inner());
        if let Some(socket) = socket.as_ref() {
            arm(self.epoll, socket.fd(), entry.id, readable);
        }
    }

    /// `serve`, surviving a panic: this thread reads every socket in the
    /// process, so one socket's fault must not stop the others. The burst
    /// is lost; its consumer is handed an overrun record instead, which
    /// it reports like any other loss (`ENOBUFS`).
    fn serve_or_recover(&self, entry: &Arc<Entry>, builder: &mut BatchBuilder) {
        let served = panic::catch_unwind(AssertUnwindSafe(|| {
            self.serve(entry, builder);
        }));
        if served.is_ok() {
            return;
        }

        *builder = BatchBuilder::new(BATCH_BYTES, false);
        entry.stats.overruns.fetch_add(1, Ordering::Relaxed);
        let mut lost = BatchBuilder::new(0, false);
        lost.push_overrun();
        let batch = lost.take();
        entry.unreleased.fetch_add(batch.bytes(), Ordering::AcqRel);
        let told =
            panic::catch_unwind(AssertUnwindSafe(|| entry.sink.deliver(batch)));
        if !matches!(told, Ok(true)) {
            close(entry, self);
        }
    }

    /// Reads one burst from `entry`'s socket and hands it over.
    fn serve(&self, entry: &Arc<Entry>, builder: &mut BatchBuilder) {
        if entry.unreleased.load(Ordering::Acquire) >= PAUSE_BYTES {
            entry.paused.store(true, Ordering::Release);
            entry.stats.pauses.fetch_add(1, Ordering::Relaxed);
            self.arm(entry, false);
            // A release may have come in between: look again.
            self.wake();
            return;
        }

        let _reading = entry.reader.lock().unwrap_or_else(|e| e.into_inner());
        builder.set_raw(entry.options.raw);
        {
            let socket = entry.socket.read().unwrap_or_else(|e| e.into_inner());
            let Some(socket) = socket.as_ref() else {
                return;
            };
            read_burst(socket, entry, builder, usize::MAX, None);
        }
        self.hand_over(entry, builder);
    }

    /// Hands what `builder` recorded to `entry`'s sink, if anything.
    fn hand_over(&self, entry: &Arc<Entry>, builder: &mut BatchBuilder) {
        if builder.is_empty() {
            return;
        }

        let batch = builder.take();
        entry.unreleased.fetch_add(batch.bytes(), Ordering::AcqRel);
        entry.stats.batches.fetch_add(1, Ordering::Relaxed);
        if !entry.sink.deliver(batch) {
            close(entry, self);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// Reads until the socket is drained, the builder is full, or
/// `max_datagrams` were read; with `awaited`, also right after the
/// datagram that ends that reply, sparing the receive that would only
/// find the socket empty. True when that datagram was read.
fn read_burst(
    socket: &NlSocket,
    entry: &Entry,
    builder: &mut BatchBuilder,
    max_datagrams: usize,
    awaited: Option<Awaited>,
) -> bool {
    let mut read = 0;
    while builder.spare_len() >= MIN_RECEIVE_SPACE && read < max_datagrams {
        read += 1;
        match socket.recv(builder.spare()) {
            Ok(datagram) => {
                entry.stats.datagrams.fetch_add(1, Ordering::Relaxed);
                if datagram.port != 0 && !entry.options.accept_userspace {
                    entry.stats.dropped.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                if datagram.truncated {
                    entry.stats.truncated.fetch_add(1, Ordering::Relaxed);
                }
                let ended = awaited.is_some_and(|awaited| {
                    awaited.ends_in(&datagram, builder.spare())
                });
                builder.push_datagram(&datagram);
                if ended {
                    return true;
                }
            }
            Err(err) => match err.raw_os_error() {
                Some(libc::ENOBUFS) => {
                    entry.stats.overruns.fetch_add(1, Ordering::Relaxed);
                    builder.push_overrun();
                }
                Some(libc::EINTR) => {}
                // EAGAIN: drained. Anything else ends the burst too; the
                // socket stays registered and is polled again.
                _ => return false,
            },
        }
    }
    false
}

/// The reply a single request waits for, read from the request itself:
/// its sequence, and whether it ends with an acknowledgement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Awaited {
    sequence: u32,
    acknowledged: bool,
}

impl Awaited {
    /// What ends the reply to `datagram`, when it holds one request that
    /// is not a dump; `None` otherwise (read on until the socket is dry).
    fn of(datagram: &[u8]) -> Option<Awaited> {
        let header = Header::parse(datagram)?;
        let single = align(header.length as usize) >= datagram.len();
        let dump = header.flags & NLM_F_DUMP != 0;
        (single && !dump).then_some(Awaited {
            sequence: header.sequence,
            acknowledged: header.flags & NLM_F_ACK != 0,
        })
    }

    /// Whether the kernel's unicast `datagram`, whose bytes start `buf`,
    /// ends the reply: an error or acknowledgement for the sequence, or,
    /// without an acknowledgement asked for, its last part.
    fn ends_in(&self, datagram: &Datagram, buf: &[u8]) -> bool {
        if datagram.port != 0 || datagram.group != 0 || datagram.truncated {
            return false;
        }
        let bytes = &buf[..datagram.length.min(buf.len())];
        frames(bytes).filter_map(|frame| frame.ok()).any(|frame| {
            let header = frame.header;
            let last = header.kind == NLMSG_ERROR
                || (!self.acknowledged
                    && (header.kind == NLMSG_DONE
                        || header.flags & NLM_F_MULTI == 0));
            header.sequence == self.sequence && last
        })
    }
}

/// Watches `fd` for input again, or stops watching it, keeping it
/// registered.
fn arm(epoll: i32, fd: i32, token: u64, readable: bool) {
    let events = if readable { libc::EPOLLIN as u32 } else { 0 };
    let mut event = libc::epoll_event { events, u64: token };
    unsafe { libc::epoll_ctl(epoll, libc::EPOLL_CTL_MOD, fd, &mut event) };
}

fn epoll_ctl(epoll: i32, op: i32, fd: i32, token: u64) -> Result<()> {
    let mut event = libc::epoll_event {
        events: libc::EPOLLIN as u32,
        u64: token,
    };
    if unsafe { libc::epoll_ctl(epoll, op, fd, &mut event) } < 0 {
        return Err(SysError::last("epoll_ctl"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;
    use crate::batch::{field, kind};
    use crate::message::{Header, NLMSG_DONE, NLM_F_DUMP, NLM_F_REQUEST};
    use crate::socket::SocketConfig;

    struct ChannelSink(Mutex<mpsc::Sender<Batch>>);

    impl Sink for ChannelSink {
        fn deliver(&self, batch: Batch) -> bool {
            self.0.lock().unwrap().send(batch).is_ok()
        }
    }

    fn open() -> (Registration, mpsc::Receiver<Batch>, i32) {
        let socket = NlSocket::open(&SocketConfig {
            family: libc::NETLINK_ROUTE,
            ..SocketConfig::default()
        })
        .unwrap();
        let fd = socket.fd();
        let (tx, rx) = mpsc::channel();
        let options = Options {
            accept_userspace: false,
            raw: false,
        };
        let sink = Box::new(ChannelSink(Mutex::new(tx)));
        (register(socket, options, sink).unwrap(), rx, fd)
    }

    fn dump_links(registration: &Registration, sequence: u32) {
        let mut request = vec![0u8; 32];
        Header {
            length: 32,
            kind: 18,
            flags: NLM_F_REQUEST | NLM_F_DUMP,
            sequence,
            pid: 0,
        }
        .write(&mut request);
        registration.with_socket(|s| s.send(&request)).unwrap();
    }

    #[test]
    fn a_dump_arrives_in_batches_ending_with_done() {
        let (registration, batches, _) = open();
        dump_links(&registration, 42);

        let mut messages = 0;
        loop {
            let batch = batches.recv_timeout(Duration::from_secs(5)).unwrap();
            registration.release(batch.bytes());
            for index in 0..batch.len() {
                let record = batch.record(index);
                assert_eq!(record[field::KIND], kind::MESSAGE);
                assert_eq!(record[field::SEQUENCE], 42);
                messages += 1;
                if record[field::TYPE_FLAGS] & 0xffff == NLMSG_DONE as u32 {
                    assert!(messages > 1, "at least lo before DONE");
                    return;
                }
            }
        }
    }

    #[test]
    fn close_releases_the_descriptor_and_stops_delivery() {
        let (registration, batches, _) = open();
        dump_links(&registration, 1);
        registration.close();

        assert!(registration.is_closed());
        let err = registration.with_socket(|_| Ok(())).unwrap_err();
        assert_eq!(err.errno, libc::EBADF);
        let _ = batches.try_iter().count();
        assert!(batches.recv_timeout(Duration::from_millis(50)).is_err());

        // Closing again is harmless.
        registration.close();
    }

    #[test]
    fn a_registration_dropped_unclosed_is_closed() {
        let (registration, batches, _) = open();
        let stats_before = registration.stats().batches.load(Ordering::Relaxed);
        drop(registration);
        assert_eq!(stats_before, 0);
        assert!(batches.recv_timeout(Duration::from_millis(50)).is_err());
    }

    /// Panics on its first batch, then passes batches on.
    struct PanickingSink(Mutex<(bool, mpsc::Sender<Batch>)>);

    impl Sink for PanickingSink {
        fn deliver(&self, batch: Batch) -> bool {
            let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
            if !state.0 {
                state.0 = true;
                drop(state);
                panic!("a sink that fails once");
            }
            state.1.send(batch).is_ok()
        }
    }

    #[test]
    fn a_panic_while_serving_is_an_overrun_and_reading_goes_on() {
        let socket = NlSocket::open(&SocketConfig {
            family: libc::NETLINK_ROUTE,
            ..SocketConfig::default()
        })
        .unwrap();
        let (tx, batches) = mpsc::channel();
        let options = Options {
            accept_userspace: false,
            raw: false,
        };
        let sink = Box::new(PanickingSink(Mutex::new((false, tx))));
        let registration = register(socket, options, sink).unwrap();

        // The first batch is lost to the panic, and reported.
        dump_links(&registration, 1);
        let wait = Duration::from_secs(5);
        let first = batches.recv_timeout(wait).unwrap();
        assert_eq!(first.record(0)[field::KIND], kind::OVERRUN);
        assert_eq!(registration.stats().overruns.load(Ordering::Relaxed), 1);

        // The thread lives on and serves the next request.
        dump_links(&registration, 2);
        loop {
            let batch = batches.recv_timeout(wait).unwrap();
            registration.release(batch.bytes());
            let last = batch.record(batch.len() - 1);
            if last[field::SEQUENCE] == 2
                && last[field::TYPE_FLAGS] & 0xffff == NLMSG_DONE as u32
            {
                break;
            }
        }
    }

    #[test]
    fn many_registrations_share_one_thread() {
        let opened: Vec<_> = (0..32).map(|_| open()).collect();
        assert_eq!(io_threads(), 1);
        drop(opened);
    }

    fn request(kind: u16, flags: u16, sequence: u32) -> Vec<u8> {
        let mut bytes = vec![0u8; 32];
        Header {
            length: 32,
            kind,
            flags: NLM_F_REQUEST | flags,
            sequence,
            pid: 0,
        }
        .write(&mut bytes);
        bytes
    }

    fn unicast(bytes: &[u8]) -> Datagram {
        Datagram {
            length: bytes.len(),
            ..Datagram::default()
        }
    }

    #[test]
    fn a_get_is_answered_by_its_single_reply() {
        let awaited = Awaited::of(&request(18, 0, 5)).unwrap();
        let other = request(16, 0, 4);
        let reply = request(16, 0, 5);
        assert!(!awaited.ends_in(&unicast(&other), &other));
        assert!(awaited.ends_in(&unicast(&reply), &reply));
    }

    #[test]
    fn an_acknowledged_request_is_answered_by_its_ack() {
        let awaited = Awaited::of(&request(18, NLM_F_ACK, 5)).unwrap();
        let reply = request(16, 0, 5);
        let ack = request(NLMSG_ERROR, 0, 5);
        assert!(!awaited.ends_in(&unicast(&reply), &reply));
        assert!(awaited.ends_in(&unicast(&ack), &ack));
    }

    #[test]
    fn a_multipart_reply_is_answered_by_done() {
        let awaited = Awaited::of(&request(18, 0, 5)).unwrap();
        let part = request(16, NLM_F_MULTI, 5);
        let done = request(NLMSG_DONE, NLM_F_MULTI, 5);
        assert!(!awaited.ends_in(&unicast(&part), &part));
        assert!(awaited.ends_in(&unicast(&done), &done));
    }

    #[test]
    fn a_multicast_message_answers_nothing() {
        let awaited = Awaited::of(&request(18, 0, 5)).unwrap();
        let event = request(16, 0, 5);
        let multicast = Datagram {
            group: 1,
            ..unicast(&event)
        };
        assert!(!awaited.ends_in(&multicast, &event));
    }

    #[test]
    fn dumps_and_packed_requests_are_read_until_the_socket_is_dry() {
        assert_eq!(Awaited::of(&request(18, NLM_F_DUMP, 5)), None);
        let packed = [request(18, 0, 5), request(18, 0, 6)].concat();
        assert_eq!(Awaited::of(&packed), None);
    }

    #[test]
    fn a_reply_read_at_once_holds_the_data_and_its_ack() {
        let (registration, _batches, _) = open();
        let mut builder = BatchBuilder::new(4 * MIN_RECEIVE_SPACE, false);
        let mut get = request(18, NLM_F_ACK, 9);
        get[20..24].copy_from_slice(&1i32.to_ne_bytes()); // ifi_index: lo

        let batch = registration
            .send_then_read(&get, &mut builder, 4)
            .unwrap()
            .expect("the kernel answers inside sendmsg");
        let kinds: Vec<u32> = (0..batch.len())
            .map(|i| batch.record(i)[field::TYPE_FLAGS] & 0xffff)
            .collect();
        assert_eq!(kinds, [16, NLMSG_ERROR as u32]);
    }

    fn io_threads() -> usize {
        let tasks = std::fs::read_dir("/proc/self/task").unwrap();
        tasks
            .filter_map(|task| {
                let comm = task.ok()?.path().join("comm");
                std::fs::read_to_string(comm).ok()
            })
            .filter(|name| name.trim() == "netlink-io")
            .count()
    }
}
