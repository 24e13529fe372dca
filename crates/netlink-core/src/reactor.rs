//! The I/O thread: one per process, serving every open socket through
//! epoll. It drains whatever is readable into a batch and hands the batch
//! over; it never blocks on a consumer.
//!
//! Handing over is coalesced (see `outbox`): a batch waits in the
//! registration's outbox until the consumer takes it, and what is read
//! meanwhile joins it, up to `BATCH_BYTES`. A lone message is noticed at
//! once; a stream of multicast messages at most once a
//! `NOTICE_INTERVAL`, whose timer this thread keeps. Reading never waits
//! for the consumer.
//!
//! While a stream's notice waits for its time, the socket rests: this
//! thread stops watching it, and reads what queued up when the notice is
//! due, right before sending it. The consumer gets the same messages at
//! the same time, and this thread wakes once an interval instead of once
//! a datagram or two. A send on the socket ends its rest at once, or
//! keeps it from starting, so a request's reply is not held up; and a
//! socket whose kernel buffer was more than `CROWDED` full after a rest
//! does not rest again until its stream pauses, so a stream faster than
//! the buffer can hold for an interval is read as it comes.
//!
//! Memory stays bounded when a consumer falls behind: each registration
//! counts the bytes handed over and not yet released, and above
//! `PAUSE_BYTES` the thread stops reading that socket. The kernel's receive
//! buffer then fills and the kernel reports the overrun (`ENOBUFS`), which
//! reaches the consumer once reading resumes below `RESUME_BYTES`.

use std::collections::HashMap;
use std::panic::{self, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, RwLock, RwLockReadGuard};
use std::time::{Duration, Instant};

use crate::batch::{Batch, BatchBuilder};
use crate::error::{Result, SysError};
use crate::handover::{Handover, Notice};
use crate::message::{
    align, frames, Header, NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK, NLM_F_DUMP,
    NLM_F_MULTI,
};
use crate::outbox::{self, Outbox};
use crate::socket::{slot_at, Datagram, NlSocket, RECV_SLOTS};

/// Bytes of datagrams one batch holds at most: what one burst may read,
/// and what bursts read while a batch waits may add to it. A few dump
/// chunks: enough to make crossings rare, few enough messages that
/// JavaScript routes a batch in about a millisecond and the event loop
/// can turn between batches.
pub const BATCH_BYTES: usize = 256 << 10;

/// Least time between two notices of a stream of multicast messages: the
/// consumer's thread then wakes about once an interval for a stream,
/// instead of once a message or two, at the price of that much delay for
/// messages that follow another closely. The first of a stream, replies
/// and acknowledgements are noticed at once.
pub const NOTICE_INTERVAL: Duration = Duration::from_millis(1);

/// The share of its receive buffer a socket may fill while it rests: one
/// filled more than this in one interval is read as data comes for the
/// rest of its stream.
pub const CROWDED: f64 = 0.25;

/// Free bytes a receive needs: the kernel sizes dump chunks to the reader's
/// buffer (up to 32 KiB), and larger datagrams must not be truncated.
pub const MIN_RECEIVE_SPACE: usize = 64 << 10;

/// Unreleased bytes at which reading a socket pauses.
pub const PAUSE_BYTES: usize = 32 << 20;

/// Unreleased bytes at which a paused socket is read again.
pub const RESUME_BYTES: usize = 8 << 20;

const WAKE_TOKEN: u64 = 0;

/// Tells a registration's consumer that batches wait in its outbox.
pub trait Sink: Send + Sync {
    /// Says a batch waits; the consumer takes it with `Taker::take`, from
    /// any thread but not from inside this call. Not called again until
    /// the consumer took a batch since. Returns false when the consumer is
    /// gone for good (its runtime shut down); the registration is then
    /// closed.
    fn notify(&self) -> bool;
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
    /// Batches handed over: bursts read while a batch waited joined it.
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
    handover: Mutex<Handover>,
    options: Options,
    stats: Stats,
    /// Bytes of the batches in the outbox.
    unreleased: AtomicUsize,
    paused: AtomicBool,
    /// The I/O thread stopped watching the socket until a notice is due.
    resting: AtomicBool,
    /// Sends so far, counted after each: a rest that began as one was
    /// made ends at once.
    sends: AtomicU64,
    /// The socket may rest: its last rest left its buffer not crowded,
    /// or a stream started since.
    may_rest: AtomicBool,
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
        handover: Mutex::new(Handover::new(BATCH_BYTES, NOTICE_INTERVAL)),
        options,
        stats: Stats::default(),
        unreleased: AtomicUsize::new(0),
        paused: AtomicBool::new(false),
        resting: AtomicBool::new(false),
        sends: AtomicU64::new(0),
        may_rest: AtomicBool::new(true),
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
    /// caller left to tell. A send ends the socket's rest, so that the
    /// reply is read as it comes.
    pub fn send(&self, datagram: &[u8]) -> Result<()> {
        if !self.outbox().is_idle() {
            return self.enqueue(datagram);
        }
        self.with_socket(|socket| {
            socket.send(datagram)?;
            self.reactor.sent(&self.entry, socket);
            Ok(())
        })
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

    /// Takes the oldest batch waiting; see `Taker::take`.
    pub fn take(&self) -> Option<Batch> {
        take(&self.entry, self.reactor)
    }

    /// Sends `datagram`, then reads up to `max_datagrams` of what
    /// already arrived on the caller's thread: the kernel answers most
    /// requests inside `sendmsg`, and the trip through the I/O thread
    /// costs more than the request. Holding the reader lock across the send
    /// keeps the I/O thread, woken by the reply, from taking it first.
    ///
    /// Reads nothing (`Ok(None)`) while the I/O thread is reading, or while
    /// batches wait to be taken: what is read here must come after
    /// everything handed over before.
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
    /// when anything was read. A datagram of several requests is read
    /// for up to two datagrams a request (a reply and an acknowledgement)
    /// where that is more than `max_datagrams`.
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
                self.reactor.sent(entry, socket);
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
                let limit = read_limit(datagram, max_datagrams);
                ended = read_burst(socket, entry, builder, limit, awaited);
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

    /// A handle for `take` that can live apart from the registration (in
    /// a consumer's callback) without keeping the socket open.
    pub fn taker(&self) -> Taker {
        Taker {
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

/// Takes a registration's batches from a consumer's callback.
#[derive(Clone)]
pub struct Taker {
    entry: std::sync::Weak<Entry>,
    reactor: &'static Reactor,
}

impl Taker {
    /// Takes the oldest batch waiting in the outbox, which then counts no
    /// more against `PAUSE_BYTES`; `None` when none waits (the
    /// registration is gone, or a notice came twice). When more batches
    /// wait, the sink is notified again, from this thread: call this
    /// once per notice, and not while a `Sink::notify` call is running on
    /// this thread. Any thread may call it; batches come out in order.
    pub fn take(&self) -> Option<Batch> {
        let entry = self.entry.upgrade()?;
        take(&entry, self.reactor)
    }
}

fn take(entry: &Entry, reactor: &Reactor) -> Option<Batch> {
    let (parts, more) = entry.handover().take(Instant::now());
    if more {
        // A consumer that is gone is the I/O thread's to find out, at
        // its next notice.
        entry.sink.notify();
    }

    let batch = Batch::concat(parts?);
    let bytes = batch.bytes();
    let before = entry.unreleased.fetch_sub(bytes, Ordering::AcqRel);
    let after = before.saturating_sub(bytes);
    if entry.paused.load(Ordering::Acquire) && after <= RESUME_BYTES {
        reactor.wake();
    }
    Some(batch)
}

impl Entry {
    fn handover(&self) -> MutexGuard<'_, Handover> {
        lock(&self.handover)
    }

    /// Moves what `builder` recorded into the outbox: onto the batch that
    /// waits there when it has room, else as a batch of its own. Notifies
    /// the sink, unless a notice is out already or due later.
    fn hand_over(&self, builder: &mut BatchBuilder) -> Handed {
        self.unreleased.fetch_add(builder.bytes(), Ordering::AcqRel);
        let put = self.handover().put(builder, Instant::now());
        if put.new_batch {
            self.stats.batches.fetch_add(1, Ordering::Relaxed);
        }
        match put.notice {
            Notice::None => Handed::Noticed,
            Notice::Now => {
                // A stream (re)starts: it may rest.
                self.may_rest.store(true, Ordering::Relaxed);
                match self.sink.notify() {
                    true => Handed::Noticed,
                    false => Handed::Gone,
                }
            }
            Notice::At(at) => Handed::Due(at),
        }
    }

    /// Sends the notice that was due by `now`, if still owed. False when
    /// the consumer is gone.
    fn fire(&self, now: Instant) -> bool {
        let owed = self.handover().fire(now);
        !owed || self.sink.notify()
    }
}

/// What became of the notice of a hand-over.
enum Handed {
    /// It went out, or one already had, or none is needed.
    Noticed,
    /// It is due at this time (`Entry::fire`).
    Due(Instant),
    /// The consumer is gone for good.
    Gone,
}

/// Notices the I/O thread owes, by when.
#[derive(Default)]
struct Due(Vec<(Instant, Arc<Entry>)>);

impl Due {
    /// Time until the earliest, if any.
    fn timeout(&self) -> Option<Duration> {
        let now = Instant::now();
        let earliest = self.0.iter().map(|(at, _)| *at).min()?;
        Some(earliest.saturating_duration_since(now))
    }

    /// Sends those whose time came, reading resting sockets first.
    fn fire(&mut self, reactor: &Reactor, builder: &mut BatchBuilder) {
        if self.0.is_empty() {
            return;
        }
        let now = Instant::now();
        let mut later = Due::default();
        self.0.retain(|(at, entry)| {
            if *at > now {
                return true;
            }
            if entry.resting.swap(false, Ordering::SeqCst) {
                reactor.wake_up(entry, builder, &mut later);
            }
            reactor.fire_or_recover(entry, now);
            false
        });
        self.0.append(&mut later.0);
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
    let mut builder = io_builder();
    let mut events = [libc::epoll_event { events: 0, u64: 0 }; 64];
    let mut due = Due::default();

    loop {
        let n = wait(reactor.epoll, &mut events, due.timeout());
        due.fire(reactor, &mut builder);
        if n < 0 {
            continue; // EINTR: a signal landed on this thread.
        }

        for event in &events[..n as usize] {
            let token = event.u64;
            if token == WAKE_TOKEN {
                reactor.drain_wake();
                reactor.resume_paused();
                reactor.send_outgoing(&mut builder, &mut due);
                continue;
            }
            let entries = reactor.entries.lock();
            let entries = entries.unwrap_or_else(|e| e.into_inner());
            let entry = entries.get(&token).cloned();
            drop(entries);
            if let Some(entry) = entry {
                reactor.serve_or_recover(&entry, &mut builder, &mut due);
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
    fn send_outgoing(&self, builder: &mut BatchBuilder, due: &mut Due) {
        let outgoing = std::mem::take(&mut *lock(&self.outgoing));
        for entry in outgoing {
            if entry.paused.load(Ordering::Acquire) {
                continue;
            }
            let sent = panic::catch_unwind(AssertUnwindSafe(|| {
                self.send_queued(&entry, builder, due);
            }));
            // Requests were lost unsent, or their replies unread: the
            // overrun fails every execute still waiting, as the kernel's
            // own loss of data would.
            if sent.is_err() {
                lock(&entry.outbox).clear();
                *builder = io_builder();
                self.recover(&entry);
            }
        }
    }

    /// Sends `entry`'s outbox until it stays empty, reading and handing
    /// over the replies after each datagram, so that JavaScript routes
    /// the first replies while the kernel answers the next requests. A
    /// pause stops it; `resume_paused` brings the registration back.
    fn send_queued(
        &self,
        entry: &Arc<Entry>,
        builder: &mut BatchBuilder,
        due: &mut Due,
    ) {
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
                    let errno = err.errno;
                    self.report_failures(entry, builder, &failed, errno, due);
                }
                self.serve(entry, builder, due);
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
        due: &mut Due,
    ) {
        let _reading = entry.reader.lock().unwrap_or_else(|e| e.into_inner());
        builder.set_raw(entry.options.raw);
        for request in failed {
            if builder.spare_len() < align(outbox::FAILURE_LEN) {
                let sends = entry.sends.load(Ordering::SeqCst);
                self.hand_over(entry, builder, due, sends);
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

    /// Stops watching `entry`'s socket until its notice is due, when it
    /// may rest. `sends` is what `Entry::sends` was before the socket was
    /// last read: a send since may have a reply waiting, and ends the rest
    /// at once (if its own `sent` did not).
    fn rest(&self, entry: &Entry, sends: u64) {
        if !entry.may_rest.load(Ordering::Relaxed) {
            return;
        }
        self.arm(entry, false);
        entry.resting.store(true, Ordering::SeqCst);
        if entry.sends.load(Ordering::SeqCst) != sends {
            self.end_rest(entry);
        }
    }

    /// Notes a send on `entry`'s socket, ending its rest so the reply is
    /// read as it comes; from a thread that holds the socket open.
    fn sent(&self, entry: &Entry, socket: &NlSocket) {
        entry.sends.fetch_add(1, Ordering::SeqCst);
        let resting = entry.resting.swap(false, Ordering::SeqCst);
        if resting && may_watch(entry) {
            arm(self.epoll, socket.fd(), entry.id, true);
        }
    }

    /// Ends a rest early, from the I/O thread.
    fn end_rest(&self, entry: &Entry) {
        let resting = entry.resting.swap(false, Ordering::SeqCst);
        if resting && may_watch(entry) {
            self.arm(entry, true);
        }
    }

    /// Ends a rest whose notice is due: reads what queued up, then
    /// watches the socket again unless that paused it.
    fn wake_up(
        &self,
        entry: &Arc<Entry>,
        builder: &mut BatchBuilder,
        due: &mut Due,
    ) {
        let crowded = {
            let socket = entry.socket.read().unwrap_or_else(|e| e.into_inner());
            socket.as_ref().is_some_and(|socket| fill(socket) > CROWDED)
        };
        entry.may_rest.store(!crowded, Ordering::Relaxed);

        self.serve_or_recover(entry, builder, due);
        if may_watch(entry) {
            self.arm(entry, true);
        }
    }

    /// `serve`, surviving a panic: this thread reads every socket in the
    /// process, so one socket's fault must not stop the others. The burst
    /// may be lost; its consumer is handed an overrun record after what
    /// reached the outbox, which it reports like any other loss
    /// (`ENOBUFS`).
    fn serve_or_recover(
        &self,
        entry: &Arc<Entry>,
        builder: &mut BatchBuilder,
        due: &mut Due,
    ) {
        let served = panic::catch_unwind(AssertUnwindSafe(|| {
            self.serve(entry, builder, due);
        }));
        if served.is_err() {
            *builder = io_builder();
            self.recover(entry);
        }
    }

    /// Sends `entry`'s notice that was due by `now`, surviving a panic
    /// as `serve_or_recover` does.
    fn fire_or_recover(&self, entry: &Arc<Entry>, now: Instant) {
        let fired = panic::catch_unwind(AssertUnwindSafe(|| entry.fire(now)));
        match fired {
            Ok(true) => {}
            Ok(false) => close(entry, self),
            Err(_) => self.recover(entry),
        }
    }

    /// Reports a panic while serving `entry` as an overrun, and makes sure
    /// its consumer hears of it.
    fn recover(&self, entry: &Arc<Entry>) {
        entry.stats.overruns.fetch_add(1, Ordering::Relaxed);
        // The panic may have cut a notice short: send one more. A notice
        // too many finds nothing to take, which is harmless.
        entry.handover().forget_notice();
        let mut lost = BatchBuilder::new(0, false);
        lost.push_overrun();
        // An overrun is noticed at once.
        let told = panic::catch_unwind(AssertUnwindSafe(|| {
            entry.hand_over(&mut lost)
        }));
        if !matches!(told, Ok(Handed::Noticed)) {
            close(entry, self);
        }
    }

    /// Reads one burst from `entry`'s socket and hands it over, adding
    /// the notice to `due` when it waits.
    fn serve(
        &self,
        entry: &Arc<Entry>,
        builder: &mut BatchBuilder,
        due: &mut Due,
    ) {
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
        let sends = entry.sends.load(Ordering::SeqCst);
        {
            let socket = entry.socket.read().unwrap_or_else(|e| e.into_inner());
            let Some(socket) = socket.as_ref() else {
                return;
            };
            read_many(socket, entry, builder);
        }
        self.hand_over(entry, builder, due, sends);
    }

    /// Hands what `builder` recorded to `entry`, if anything, adding the
    /// notice to `due` when it waits and resting the socket meanwhile;
    /// `sends` is `Entry::sends` from before the socket was last read.
    fn hand_over(
        &self,
        entry: &Arc<Entry>,
        builder: &mut BatchBuilder,
        due: &mut Due,
        sends: u64,
    ) {
        if builder.is_empty() {
            return;
        }
        match entry.hand_over(builder) {
            Handed::Noticed => {}
            Handed::Due(at) => {
                due.0.push((at, entry.clone()));
                self.rest(entry, sends);
            }
            Handed::Gone => close(entry, self),
        }
    }
}

/// Whether the I/O thread may watch `entry`'s socket: not while reading
/// it is paused, nor while the caller's thread keeps it (`watch`).
fn may_watch(entry: &Entry) -> bool {
    !entry.paused.load(Ordering::SeqCst)
        && !entry.unwatched.load(Ordering::SeqCst)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
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
                if !counted(entry, &datagram) {
                    continue;
                }
                let ended = awaited.is_some_and(|awaited| {
                    awaited.ends_in(&datagram, builder.spare())
                });
                builder.push_datagram(&datagram);
                if ended {
                    return true;
                }
            }
            Err(err) => {
                if !read_on(entry, builder, &err) {
                    return false;
                }
            }
        }
    }
    false
}

/// The I/O thread's read: several datagrams a system call, until the
/// socket is drained or `BATCH_BYTES` were read. Each lands in a slot of
/// its own and is moved up against the one before; the first slot has
/// all the room the others leave, as much as `read_burst` would give.
fn read_many(socket: &NlSocket, entry: &Entry, builder: &mut BatchBuilder) {
    let mut datagrams = [Datagram::default(); RECV_SLOTS];
    while builder.data_len() < BATCH_BYTES
        && builder.spare_len() >= MIN_RECEIVE_SPACE
    {
        let room = builder.spare_len();
        let slots = (room / MIN_RECEIVE_SPACE).clamp(1, RECV_SLOTS);
        let received = socket.recv_many(
            builder.spare(),
            MIN_RECEIVE_SPACE,
            slots,
            &mut datagrams,
        );
        let count = match received {
            Ok(count) => count,
            Err(err) if read_on(entry, builder, &err) => continue,
            Err(_) => return,
        };

        for (i, datagram) in datagrams[..count].iter().enumerate() {
            let (start, size) = slot_at(room, MIN_RECEIVE_SPACE, slots, i);
            let pushed = room - builder.spare_len();
            let from = start - pushed;
            if from > 0 {
                let len = datagram.length.min(size);
                builder.spare().copy_within(from..from + len, 0);
            }

            if counted(entry, datagram) {
                builder.push_datagram(datagram);
            }
        }
    }
}

/// Counts a received datagram; false when it is dropped, for coming from
/// a userspace port the registration does not accept.
fn counted(entry: &Entry, datagram: &Datagram) -> bool {
    entry.stats.datagrams.fetch_add(1, Ordering::Relaxed);
    if datagram.port != 0 && !entry.options.accept_userspace {
        entry.stats.dropped.fetch_add(1, Ordering::Relaxed);
        return false;
    }
    if datagram.truncated {
        entry.stats.truncated.fetch_add(1, Ordering::Relaxed);
    }
    true
}

/// Records what a failed receive means; true when reading goes on (an
/// overrun, recorded, or a signal). EAGAIN means drained; anything else
/// ends the burst too, and the socket stays registered to be polled
/// again.
fn read_on(
    entry: &Entry,
    builder: &mut BatchBuilder,
    err: &std::io::Error,
) -> bool {
    match err.raw_os_error() {
        Some(libc::ENOBUFS) => {
            entry.stats.overruns.fetch_add(1, Ordering::Relaxed);
            builder.push_overrun();
            true
        }
        Some(libc::EINTR) => true,
        _ => false,
    }
}

/// The I/O thread's read buffer: `BATCH_BYTES`, and room for the other
/// slots of `read_many` past it.
fn io_builder() -> BatchBuilder {
    let extra = (RECV_SLOTS - 1) * MIN_RECEIVE_SPACE;
    BatchBuilder::new(BATCH_BYTES + extra, false)
}

/// Datagrams to read at once after sending `datagram`: `max`, or two for
/// each request it holds (a reply and an acknowledgement), all of which
/// the kernel answers inside `sendmsg`, where that is more.
fn read_limit(datagram: &[u8], max: usize) -> usize {
    max.max(2 * frames(datagram).count())
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

/// Waits for events on `epoll` for up to `timeout` (`None`: no limit);
/// returns their number, or -1 when interrupted. Uses `epoll_pwait2` for
/// a timeout finer than a millisecond, and on kernels before 5.11, which
/// lack it, `epoll_wait` with the timeout rounded up to one.
fn wait(
    epoll: i32,
    events: &mut [libc::epoll_event],
    timeout: Option<Duration>,
) -> i32 {
    static NO_PWAIT2: AtomicBool = AtomicBool::new(false);
    let max = events.len() as i32;
    let Some(timeout) = timeout else {
        return unsafe {
            libc::epoll_wait(epoll, events.as_mut_ptr(), max, -1)
        };
    };

    if !NO_PWAIT2.load(Ordering::Relaxed) {
        let spec = libc::timespec {
            tv_sec: timeout.as_secs() as libc::time_t,
            tv_nsec: timeout.subsec_nanos() as libc::c_long,
        };
        let n = unsafe {
            libc::syscall(
                libc::SYS_epoll_pwait2,
                epoll,
                events.as_mut_ptr(),
                max,
                &spec as *const libc::timespec,
                std::ptr::null::<libc::sigset_t>(),
                0usize,
            )
        };
        let missing = n < 0
            && std::io::Error::last_os_error().raw_os_error()
                == Some(libc::ENOSYS);
        if !missing {
            return n as i32;
        }
        NO_PWAIT2.store(true, Ordering::Relaxed);
    }
    let ms = timeout.as_micros().div_ceil(1000).min(i32::MAX as u128);
    unsafe { libc::epoll_wait(epoll, events.as_mut_ptr(), max, ms as i32) }
}

/// How full the receive buffer of `socket` is, from 0 to 1
/// (`SO_MEMINFO`); 0 when the kernel does not say.
fn fill(socket: &NlSocket) -> f64 {
    const SO_MEMINFO: i32 = 55;
    const SK_MEMINFO_VARS: usize = 9;
    let mut info = [0u32; SK_MEMINFO_VARS];
    let mut len = std::mem::size_of_val(&info) as libc::socklen_t;
    let rc = unsafe {
        libc::getsockopt(
            socket.fd(),
            libc::SOL_SOCKET,
            SO_MEMINFO,
            info.as_mut_ptr().cast(),
            &mut len,
        )
    };
    let used = info[libc::SK_MEMINFO_RMEM_ALLOC as usize] as f64;
    let size = info[libc::SK_MEMINFO_RCVBUF as usize] as f64;
    if rc < 0 || size == 0.0 {
        return 0.0;
    }
    used / size
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

    use super::*;
    use crate::batch::{field, kind};
    use crate::message::{Header, NLMSG_DONE, NLM_F_DUMP, NLM_F_REQUEST};
    use crate::socket::SocketConfig;

    const WAIT: Duration = Duration::from_secs(5);

    /// Passes notices on to a channel.
    struct ChannelSink(Mutex<mpsc::Sender<()>>);

    impl Sink for ChannelSink {
        fn notify(&self) -> bool {
            self.0.lock().unwrap().send(()).is_ok()
        }
    }

    fn open() -> (Registration, mpsc::Receiver<()>, i32) {
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

    /// Waits for a notice, then takes the batch it is for.
    fn next(
        registration: &Registration,
        notices: &mpsc::Receiver<()>,
    ) -> Batch {
        notices.recv_timeout(WAIT).unwrap();
        registration.take().expect("a batch for each notice")
    }

    #[test]
    fn a_dump_arrives_in_batches_ending_with_done() {
        let (registration, notices, _) = open();
        dump_links(&registration, 42);

        let mut messages = 0;
        loop {
            let batch = next(&registration, &notices);
            for index in 0..batch.len() {
                let record = batch.record(index);
                assert_eq!(record[field::KIND], kind::MESSAGE);
                assert_eq!(record[field::SEQUENCE], 42);

                // Datagrams read several at a time were moved together:
                // each record still points at its own header.
                let at = record[field::OFFSET] as usize;
                let header = Header::parse(&batch.data[at..]).unwrap();
                assert_eq!(header.length, record[field::LENGTH]);
                assert_eq!(header.sequence, 42);
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
        let (registration, notices, _) = open();
        dump_links(&registration, 1);
        registration.close();

        assert!(registration.is_closed());
        let err = registration.with_socket(|_| Ok(())).unwrap_err();
        assert_eq!(err.errno, libc::EBADF);
        let _ = notices.try_iter().count();
        assert!(notices.recv_timeout(Duration::from_millis(50)).is_err());

        // Closing again is harmless.
        registration.close();
    }

    #[test]
    fn a_registration_dropped_unclosed_is_closed() {
        let (registration, notices, _) = open();
        let stats_before = registration.stats().batches.load(Ordering::Relaxed);
        drop(registration);
        assert_eq!(stats_before, 0);
        assert!(notices.recv_timeout(Duration::from_millis(50)).is_err());
    }

    /// Panics on the notice numbered in its state (from 1), then passes
    /// notices on.
    struct PanickingSink(Mutex<(u32, mpsc::Sender<()>)>);

    impl Sink for PanickingSink {
        fn notify(&self) -> bool {
            let mut state = self.0.lock().unwrap_or_else(|e| e.into_inner());
            state.0 = state.0.saturating_sub(1);
            if state.0 == 0 {
                state.0 = u32::MAX;
                drop(state);
                panic!("a sink that fails once");
            }
            state.1.send(()).is_ok()
        }
    }

    /// Kinds of the records of the batches taken up to the one holding
    /// the DONE of `sequence`, that one included.
    fn kinds_until_done(
        registration: &Registration,
        notices: &mpsc::Receiver<()>,
        sequence: u32,
    ) -> Vec<u32> {
        let mut kinds = Vec::new();
        loop {
            let batch = next(registration, notices);
            let mut done = false;
            for index in 0..batch.len() {
                let record = batch.record(index);
                kinds.push(record[field::KIND]);
                let kind = record[field::TYPE_FLAGS] & 0xffff;
                done |= kind == NLMSG_DONE as u32
                    && record[field::SEQUENCE] == sequence;
            }
            if done {
                return kinds;
            }
        }
    }

    #[test]
    fn a_panic_while_serving_is_an_overrun_and_reading_goes_on() {
        let socket = NlSocket::open(&SocketConfig {
            family: libc::NETLINK_ROUTE,
            ..SocketConfig::default()
        })
        .unwrap();
        let (tx, notices) = mpsc::channel();
        let options = Options {
            accept_userspace: false,
            raw: false,
        };
        let sink = Box::new(PanickingSink(Mutex::new((1, tx))));
        let registration = register(socket, options, sink).unwrap();

        // The notice is lost to the panic; what may be lost is reported.
        dump_links(&registration, 1);
        let kinds = kinds_until_done(&registration, &notices, 1);
        assert_eq!(registration.stats().overruns.load(Ordering::Relaxed), 1);
        assert!(kinds.contains(&kind::OVERRUN), "{kinds:?}");

        // The thread lives on and serves the next request.
        dump_links(&registration, 2);
        let kinds = kinds_until_done(&registration, &notices, 2);
        assert!(kinds.iter().all(|&kind| kind == kind::MESSAGE));
    }

    /// A multicast group of `NETLINK_ROUTE` that nothing else sends to
    /// here (`RTNLGRP_PHONET_ROUTE`).
    const QUIET_GROUP: u32 = 22;

    /// A socket that sends to `QUIET_GROUP`, as only a privileged one may.
    struct GroupSender(NlSocket);

    impl GroupSender {
        fn open() -> GroupSender {
            let config = SocketConfig {
                family: libc::NETLINK_ROUTE,
                ..SocketConfig::default()
            };
            GroupSender(NlSocket::open(&config).unwrap())
        }

        /// Sends a message with `sequence` to the group; false when not
        /// permitted (`CAP_NET_ADMIN` is missing).
        fn send(&self, sequence: u32) -> bool {
            // Without NLM_F_REQUEST the kernel, which gets it too, ignores
            // it.
            let mut bytes = request(24, 0, sequence);
            bytes[6..8].copy_from_slice(&0u16.to_ne_bytes());
            let mut to: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
            to.nl_family = libc::AF_NETLINK as u16;
            to.nl_groups = 1 << (QUIET_GROUP - 1);
            let sent = unsafe {
                libc::sendto(
                    self.0.fd(),
                    bytes.as_ptr().cast(),
                    bytes.len(),
                    0,
                    (&to as *const libc::sockaddr_nl).cast(),
                    std::mem::size_of::<libc::sockaddr_nl>() as u32,
                )
            };
            if sent < 0 {
                let err = std::io::Error::last_os_error();
                assert_eq!(err.raw_os_error(), Some(libc::EPERM), "{err}");
                return false;
            }
            true
        }
    }

    /// A registration listening to `QUIET_GROUP`, taking messages from
    /// userspace ports.
    fn open_listener() -> (Registration, mpsc::Receiver<()>) {
        let (tx, rx) = mpsc::channel();
        let sink = Box::new(ChannelSink(Mutex::new(tx)));
        (listen_with(sink), rx)
    }

    fn listen_with(sink: Box<dyn Sink>) -> Registration {
        let socket = NlSocket::open(&SocketConfig {
            family: libc::NETLINK_ROUTE,
            groups: 1 << (QUIET_GROUP - 1),
            ..SocketConfig::default()
        })
        .unwrap();
        let options = Options {
            accept_userspace: true,
            raw: false,
        };
        register(socket, options, sink).unwrap()
    }

    /// Sequences of the messages `sender` sent in `batch`.
    fn sent_by(sender: &GroupSender, batch: &Batch) -> Vec<u32> {
        (0..batch.len())
            .map(|i| batch.record(i))
            .filter(|record| record[field::PORT] == sender.0.pid())
            .map(|record| record[field::SEQUENCE])
            .collect()
    }

    #[test]
    fn a_stream_of_multicast_messages_is_noticed_once_an_interval() {
        let (registration, notices) = open_listener();
        let sender = GroupSender::open();

        let first_sent = Instant::now();
        if !sender.send(1) {
            eprintln!("skipped: sending to a group needs CAP_NET_ADMIN");
            return;
        }
        let first = next(&registration, &notices);
        assert_eq!(sent_by(&sender, &first), [1]);

        // The rest follow closely: their notice waits for the interval
        // the first one started, and they arrive in order.
        for sequence in 2..=5 {
            assert!(sender.send(sequence));
        }
        let mut seen = Vec::new();
        while seen.len() < 4 {
            seen.extend(sent_by(&sender, &next(&registration, &notices)));
        }
        assert!(first_sent.elapsed() >= NOTICE_INTERVAL);
        assert_eq!(seen, [2, 3, 4, 5]);
    }

    #[test]
    fn a_panic_sending_a_due_notice_is_an_overrun_and_the_stream_goes_on() {
        // The first notice goes out at once, the second when due.
        let (tx, notices) = mpsc::channel();
        let sink = Box::new(PanickingSink(Mutex::new((2, tx))));
        let registration = listen_with(sink);
        let sender = GroupSender::open();
        if !sender.send(1) {
            eprintln!("skipped: sending to a group needs CAP_NET_ADMIN");
            return;
        }
        assert_eq!(sent_by(&sender, &next(&registration, &notices)), [1]);

        for sequence in 2..=4 {
            assert!(sender.send(sequence));
        }
        let (mut seen, mut overruns) = (Vec::new(), 0);
        while seen.len() < 3 {
            let batch = next(&registration, &notices);
            seen.extend(sent_by(&sender, &batch));
            overruns += (0..batch.len())
                .filter(|&i| batch.record(i)[field::KIND] == kind::OVERRUN)
                .count();
        }
        assert_eq!(seen, [2, 3, 4]);
        assert_eq!(overruns, 1);
        assert_eq!(registration.stats().overruns.load(Ordering::Relaxed), 1);
    }

    /// A builder holding one message of `size` bytes with `sequence`.
    fn one_message(sequence: u32, size: usize) -> BatchBuilder {
        let mut builder = BatchBuilder::new(size, false);
        let header = Header {
            length: size as u32,
            kind: 24,
            sequence,
            ..Header::default()
        };
        header.write(builder.spare());
        builder.push_datagram(&Datagram {
            length: size,
            ..Datagram::default()
        });
        builder
    }

    fn wait_until(what: &str, done: impl Fn() -> bool) {
        let start = Instant::now();
        while !done() {
            assert!(start.elapsed() < WAIT, "timed out waiting: {what}");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn reading_pauses_while_too_much_waits_and_resumes_in_order() {
        let (registration, notices, _) = open();
        let entry = &registration.entry;

        // Batches the consumer has not taken, as many as pause reading.
        let size = 192 << 10;
        let mut put = 0;
        while entry.unreleased.load(Ordering::Acquire) < PAUSE_BYTES {
            put += 1;
            assert!(matches!(
                entry.hand_over(&mut one_message(put, size)),
                Handed::Noticed
            ));
        }

        // The reply to a request stays in the kernel's buffer.
        let mut get = request(18, NLM_F_ACK, 9999);
        get[20..24].copy_from_slice(&1i32.to_ne_bytes()); // ifi_index: lo
        registration.with_socket(|s| s.send(&get)).unwrap();
        let stats = registration.stats();
        wait_until("a pause", || stats.pauses.load(Ordering::Relaxed) == 1);
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(stats.datagrams.load(Ordering::Relaxed), 0);

        // Taking the batches resumes reading; the reply comes after them.
        let mut sequences = Vec::new();
        while !sequences.contains(&9999) {
            let batch = next(&registration, &notices);
            sequences.extend((0..batch.len()).map(|i| {
                let record = batch.record(i);
                record[field::SEQUENCE]
            }));
        }
        let expected: Vec<u32> = (1..=put).chain([9999, 9999]).collect();
        assert_eq!(sequences, expected);
        assert_eq!(stats.pauses.load(Ordering::Relaxed), 1);
    }

    /// A request for link 1 (`lo`), acknowledged.
    fn get_lo(sequence: u32) -> Vec<u8> {
        let mut get = request(18, NLM_F_ACK, sequence);
        get[20..24].copy_from_slice(&1i32.to_ne_bytes()); // ifi_index
        get
    }

    /// Waits for batches until one holds a message with `sequence`.
    fn wait_for(
        registration: &Registration,
        notices: &mpsc::Receiver<()>,
        sequence: u32,
    ) {
        loop {
            let batch = next(registration, notices);
            let mut records = (0..batch.len()).map(|i| batch.record(i));
            if records.any(|r| r[field::SEQUENCE] == sequence) {
                return;
            }
        }
    }

    #[test]
    fn a_send_ends_a_rest() {
        let (registration, notices, _) = open();
        let (entry, reactor) = (&registration.entry, registration.reactor);
        reactor.rest(entry, entry.sends.load(Ordering::SeqCst));
        assert!(entry.resting.load(Ordering::SeqCst));

        // Resting, the socket is not watched: only the send's ending
        // the rest lets the reply be read.
        registration.send(&get_lo(71)).unwrap();
        assert!(!entry.resting.load(Ordering::SeqCst));
        wait_for(&registration, &notices, 71);
    }

    #[test]
    fn a_rest_begun_after_a_send_ends_at_once() {
        let (registration, notices, _) = open();
        let (entry, reactor) = (&registration.entry, registration.reactor);

        // As the I/O thread does: note the sends, read until dry, rest.
        let sends = entry.sends.load(Ordering::SeqCst);
        reactor.arm(entry, false);
        registration.send(&get_lo(72)).unwrap();
        reactor.rest(entry, sends);

        assert!(!entry.resting.load(Ordering::SeqCst));
        wait_for(&registration, &notices, 72);
    }

    #[test]
    fn fill_tells_how_much_waits_in_the_kernel() {
        let socket = NlSocket::open(&SocketConfig {
            family: libc::NETLINK_ROUTE,
            ..SocketConfig::default()
        })
        .unwrap();
        assert_eq!(fill(&socket), 0.0);

        let mut get = request(18, 0, 1);
        get[20..24].copy_from_slice(&1i32.to_ne_bytes()); // ifi_index: lo
        socket.send(&get).unwrap();
        let queued = fill(&socket);
        assert!(queued > 0.0 && queued < 1.0, "{queued}");
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

    #[test]
    fn gathered_requests_are_read_at_once_past_the_single_limit() {
        let (registration, _batches, _) = open();
        let mut builder = BatchBuilder::new(4 * MIN_RECEIVE_SPACE, false);
        let gathered: Vec<u8> = (0..8)
            .flat_map(|sequence| {
                let mut get = request(18, NLM_F_ACK, 20 + sequence);
                get[20..24].copy_from_slice(&1i32.to_ne_bytes()); // lo
                get
            })
            .collect();

        // Eight replies and eight acknowledgements: four times the limit
        // a lone request is read with.
        let batch = registration
            .send_then_read(&gathered, &mut builder, 4)
            .unwrap()
            .expect("the kernel answers inside sendmsg");
        assert_eq!(batch.len(), 16);
        let last = batch.record(15);
        assert_eq!(last[field::TYPE_FLAGS] & 0xffff, NLMSG_ERROR as u32);
        assert_eq!(last[field::SEQUENCE], 27);
    }

    #[test]
    fn the_read_limit_counts_the_requests_of_a_datagram() {
        let one = request(18, 0, 1);
        assert_eq!(read_limit(&one, 4), 4);
        let packed: Vec<u8> = (0..5).flat_map(|s| request(18, 0, s)).collect();
        assert_eq!(read_limit(&packed, 4), 10);
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
