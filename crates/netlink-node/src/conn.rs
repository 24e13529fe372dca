//! `NativeConn`: one netlink socket registered with the I/O thread, and the
//! threadsafe function its batches reach JavaScript through.

use std::cell::RefCell;
use std::sync::{Arc, OnceLock};

use napi::bindgen_prelude::{Buffer, Function};
use napi::threadsafe_function::{
    ThreadsafeCallContext, ThreadsafeFunction, ThreadsafeFunctionCallMode,
};
use napi::{Env, Status};
use napi_derive::napi;
use netlink_core::batch::BatchBuilder;
use netlink_core::netns::Netns;
use netlink_core::options::{self, BpfInstruction};
use netlink_core::reactor::{self, Registration, Sink, Taker};
use netlink_core::socket::{NlSocket, SocketConfig};

use crate::batch::{self, BatchArgs, BatchJs};
use crate::error::{invalid, to_napi};
use crate::handles;
use crate::panic::Point;

/// How to open a socket; validated by the caller, checked again here.
#[napi(object)]
pub struct OpenOptions {
    pub family: u32,
    pub pid: u32,
    pub groups: u32,
    pub netns_path: Option<String>,
    pub netns_fd: Option<i32>,
    pub strict: bool,
    pub read_buffer_size: Option<u32>,
    pub accept_userspace: bool,
    pub raw: bool,
}

/// Counters of one Conn's socket.
#[napi(object)]
pub struct NativeStats {
    pub dropped: f64,
    pub overruns: f64,
    pub truncated: f64,
    pub batches: f64,
    pub datagrams: f64,
    pub pauses: f64,
}

/// Datagrams `send_then_read` takes at most: enough for a reply and its
/// acknowledgement, few enough that a dump, whose next chunk the kernel
/// builds inside each receive, is left to the I/O thread.
const READ_NOW_DATAGRAMS: usize = 4;

thread_local! {
    /// The read buffer of `send_then_read`, one per JavaScript thread.
    static READ_NOW: RefCell<BatchBuilder> = RefCell::new(BatchBuilder::new(
        READ_NOW_DATAGRAMS * reactor::MIN_RECEIVE_SPACE,
        false,
    ));
}

type BatchFunction =
    ThreadsafeFunction<(), (), BatchArgs, Status, false, true, 0>;

/// Passes the I/O thread's notices on through the threadsafe function,
/// never blocking; its callback takes the batch.
struct FunctionSink(Arc<BatchFunction>);

impl Sink for FunctionSink {
    fn notify(&self) -> bool {
        let mode = ThreadsafeFunctionCallMode::NonBlocking;
        self.0.call((), mode) == Status::Ok
    }
}

/// One socket. Methods run on the JavaScript thread; receiving is the I/O
/// thread's. The socket closes on `close()`, when this is collected, or
/// when the JavaScript environment that opened it is torn down (a worker
/// thread terminated), whichever comes first.
#[napi]
pub struct NativeConn {
    pub(crate) registration: Arc<Registration>,
    function: Arc<BatchFunction>,
    pid: u32,
    id: u32,
}

impl Drop for NativeConn {
    fn drop(&mut self) {
        handles::forget(self.id, &self.registration);
    }
}

#[napi]
impl NativeConn {
    /// Opens a socket and starts serving it; `on_batch(data, records,
    /// extAcks)` is called for each batch, in order.
    #[napi(
        factory,
        catch_unwind,
        ts_args_type = "options: OpenOptions, onBatch: (data: Buffer, \
                        records: Uint32Array, extAcks: Array<ExtAckJs>) \
                        => void"
    )]
    pub fn open(
        env: Env,
        options: OpenOptions,
        on_batch: Function<'_, BatchArgs, ()>,
    ) -> napi::Result<Self> {
        let config = socket_config(&options)?;
        let socket = NlSocket::open(&config).map_err(to_napi)?;
        let pid = socket.pid();

        // The callback takes a batch per notice; the registration that
        // gives it the means to exists only after the function does.
        let taker: Arc<OnceLock<Taker>> = Arc::new(OnceLock::new());
        let take_in_callback = taker.clone();
        let function: Arc<BatchFunction> = Arc::new(
            on_batch
                .build_threadsafe_function::<()>()
                .weak::<true>()
                .callee_handled::<false>()
                .build_callback(move |_: ThreadsafeCallContext<()>| {
                    // None only for a notice too many, or once closed.
                    let taken = take_in_callback.get().and_then(Taker::take);
                    Ok(batch::to_js_or_overrun(taken.unwrap_or_default()))
                })?,
        );

        let reactor_options = reactor::Options {
            accept_userspace: options.accept_userspace,
            raw: options.raw,
        };
        let sink = Box::new(FunctionSink(function.clone()));
        let registration = reactor::register(socket, reactor_options, sink)
            .map_err(to_napi)?;
        let _ = taker.set(registration.taker());
        let registration = Arc::new(registration);
        crate::env::track(&env, &registration)?;

        let id = handles::insert(&registration).map_err(to_napi)?;
        Ok(NativeConn {
            registration,
            function,
            pid,
            id,
        })
    }

    /// The bound port ID.
    #[napi(getter)]
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// This socket's number on its JavaScript thread, for the plain
    /// functions that take one (`sendThenReadInto`); free once closed.
    #[napi(getter)]
    pub fn handle(&self) -> u32 {
        self.id
    }

    /// Sends one datagram (one or more messages) to the kernel. While
    /// datagrams given to `enqueue` are still unsent, it is queued behind
    /// them instead, and a failure comes back as an error reply.
    #[napi(catch_unwind)]
    pub fn send(&self, datagram: Buffer) -> napi::Result<()> {
        self.registration.send(&datagram).map_err(to_napi)
    }

    /// Queues one datagram for the I/O thread to send, behind any queued
    /// before; its replies arrive through the batch callback. A send that
    /// fails is answered by an error reply with the errno, as the kernel
    /// would answer a request it refused. For requests made while others
    /// are in flight.
    #[napi(catch_unwind)]
    pub fn enqueue(&self, datagram: Buffer) -> napi::Result<()> {
        self.registration.enqueue(&datagram).map_err(to_napi)
    }

    /// Sends like `send`, then returns what already arrived if it can be
    /// read on this thread in order; `null` leaves it to the I/O thread.
    #[napi(catch_unwind)]
    pub fn send_then_read(
        &self,
        datagram: Buffer,
    ) -> napi::Result<Option<BatchJs>> {
        READ_NOW.with(|builder| {
            let mut builder = builder.try_borrow_mut().map_err(|_| {
                invalid("send_then_read re-entered on one thread")
            })?;
            let batch = self
                .registration
                .send_then_read(&datagram, &mut builder, READ_NOW_DATAGRAMS)
                .map_err(to_napi)?;
            Ok(batch.map(batch::to_object_or_overrun))
        })
    }

    /// Lets the I/O thread watch the socket again after a `sendThenRead`
    /// or `sendThenReadInto` that read a whole reply left it to this
    /// thread. Call it when the event loop turns; cheap when there is
    /// nothing to do.
    #[napi]
    pub fn watch(&self) {
        self.registration.watch();
    }

    /// Joins a multicast group.
    #[napi(catch_unwind)]
    pub fn join_group(&self, group: u32) -> napi::Result<()> {
        self.with_fd(|fd| options::join_group(fd, group))
    }

    /// Leaves a multicast group.
    #[napi(catch_unwind)]
    pub fn leave_group(&self, group: u32) -> napi::Result<()> {
        self.with_fd(|fd| options::leave_group(fd, group))
    }

    /// Turns a `NETLINK_*` boolean option on or off.
    #[napi(catch_unwind)]
    pub fn set_option(&self, option: i32, enabled: bool) -> napi::Result<()> {
        self.with_fd(|fd| options::set_flag(fd, option, enabled))
    }

    /// Attaches a classic BPF program given as packed little-endian
    /// `sock_filter`s.
    #[napi(catch_unwind)]
    pub fn set_bpf(&self, program: Buffer) -> napi::Result<()> {
        if !program.len().is_multiple_of(8) {
            return Err(invalid("a bpf program is 8 bytes an instruction"));
        }
        let instructions: Vec<BpfInstruction> = program
            .chunks_exact(8)
            .map(|c| BpfInstruction {
                code: u16::from_le_bytes([c[0], c[1]]),
                jt: c[2],
                jf: c[3],
                k: u32::from_le_bytes([c[4], c[5], c[6], c[7]]),
            })
            .collect();
        self.with_fd(|fd| options::attach_filter(fd, &instructions))
    }

    /// Removes the BPF program.
    #[napi(catch_unwind)]
    pub fn remove_bpf(&self) -> napi::Result<()> {
        self.with_fd(options::detach_filter)
    }

    /// Sets the receive buffer; true when the forced size applied.
    #[napi(catch_unwind)]
    pub fn set_read_buffer(&self, bytes: u32) -> napi::Result<bool> {
        self.with_fd(|fd| options::set_read_buffer(fd, bytes as usize))
    }

    /// Sets the send buffer; true when the forced size applied.
    #[napi(catch_unwind)]
    pub fn set_write_buffer(&self, bytes: u32) -> napi::Result<bool> {
        self.with_fd(|fd| options::set_write_buffer(fd, bytes as usize))
    }

    /// The receive buffer's size as the kernel reports it.
    #[napi(catch_unwind)]
    pub fn read_buffer(&self) -> napi::Result<u32> {
        self.with_fd(|fd| options::read_buffer(fd).map(|n| n as u32))
    }

    /// The send buffer's size as the kernel reports it.
    #[napi(catch_unwind)]
    pub fn write_buffer(&self) -> napi::Result<u32> {
        self.with_fd(|fd| options::write_buffer(fd).map(|n| n as u32))
    }

    /// Whether the pending batches keep the event loop alive.
    #[napi(catch_unwind)]
    pub fn set_ref(&self, env: Env, on: bool) -> napi::Result<()> {
        if self.registration.is_closed() {
            return Ok(());
        }
        set_function_ref(&env, &self.function, on)
    }

    /// Counters of what the socket saw.
    #[napi(catch_unwind)]
    pub fn stats(&self) -> NativeStats {
        use std::sync::atomic::Ordering::Relaxed;
        crate::panic::at(Point::Method);
        let s = self.registration.stats();
        NativeStats {
            dropped: s.dropped.load(Relaxed) as f64,
            overruns: s.overruns.load(Relaxed) as f64,
            truncated: s.truncated.load(Relaxed) as f64,
            batches: s.batches.load(Relaxed) as f64,
            datagrams: s.datagrams.load(Relaxed) as f64,
            pauses: s.pauses.load(Relaxed) as f64,
        }
    }

    /// Closes the socket; the descriptor is closed when this returns.
    #[napi(catch_unwind)]
    pub fn close(&self, env: Env) -> napi::Result<()> {
        if !self.registration.is_closed() {
            set_function_ref(&env, &self.function, false)?;
        }
        self.registration.close();
        handles::forget(self.id, &self.registration);
        Ok(())
    }

    fn with_fd<T>(
        &self,
        op: impl FnOnce(i32) -> netlink_core::Result<T>,
    ) -> napi::Result<T> {
        self.registration
            .with_socket(|socket| op(socket.fd()))
            .map_err(to_napi)
    }
}

fn set_function_ref(
    env: &Env,
    function: &BatchFunction,
    on: bool,
) -> napi::Result<()> {
    // An aborted function belongs to an environment being torn down.
    if function.aborted() {
        return Ok(());
    }
    let status = unsafe {
        if on {
            napi::sys::napi_ref_threadsafe_function(env.raw(), function.raw())
        } else {
            napi::sys::napi_unref_threadsafe_function(env.raw(), function.raw())
        }
    };
    if status != napi::sys::Status::napi_ok {
        return Err(napi::Error::from_status(Status::from(status)));
    }
    Ok(())
}

fn socket_config(options: &OpenOptions) -> napi::Result<SocketConfig> {
    let netns = match (&options.netns_path, options.netns_fd) {
        (Some(_), Some(_)) => {
            return Err(invalid("netns is a path or an fd, not both"))
        }
        (Some(spec), None) => {
            Some(Netns::from_name_or_path(spec).map_err(to_napi)?)
        }
        (None, Some(fd)) if fd < 0 => {
            return Err(invalid(format!("netns fd {fd} is negative")))
        }
        (None, Some(fd)) => Some(Netns::Fd(fd)),
        (None, None) => None,
    };

    Ok(SocketConfig {
        family: options.family as i32,
        pid: options.pid,
        groups: options.groups,
        netns,
        strict: options.strict,
        read_buffer: options.read_buffer_size.map(|n| n as usize),
    })
}
