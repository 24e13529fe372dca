//! A non-blocking netlink socket on `netlink-sys`, with the parts that crate
//! lacks: `recvmsg` with the sender's address, truncation and control
//! messages, forced buffer sizes, and creation inside a namespace.

use std::mem;
use std::os::fd::{AsRawFd, RawFd};

use netlink_sys::{Socket, SocketAddr};

use crate::error::{Result, SysError};
use crate::netns::{self, Netns};
use crate::options;

/// How to open a socket.
#[derive(Clone, Debug, Default)]
pub struct SocketConfig {
    /// The netlink protocol (`NETLINK_ROUTE`, ...).
    pub family: i32,
    /// Port ID to bind; 0 lets the kernel pick.
    pub pid: u32,
    /// Multicast groups 1..32 to join at bind time, as a bitmask.
    pub groups: u32,
    /// The namespace to open the socket in; `None` for the caller's.
    pub netns: Option<Netns>,
    /// Turn on `NETLINK_GET_STRICT_CHK`.
    pub strict: bool,
    /// Receive buffer size to ask for, in bytes.
    pub read_buffer: Option<usize>,
}

/// What `recv` learned about one datagram besides its bytes.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Datagram {
    /// The datagram's full length; more than the buffer when truncated.
    pub length: usize,
    /// Whether the buffer was too small and the tail was lost.
    pub truncated: bool,
    /// The sender's port ID: 0 for the kernel.
    pub port: u32,
    /// The multicast group it was sent to, 0 for unicast
    /// (`NETLINK_PKTINFO`).
    pub group: u32,
    /// The peer namespace id, with `NETLINK_LISTEN_ALL_NSID`.
    pub nsid: Option<i32>,
}

/// An open, bound, non-blocking netlink socket. Not `Clone`: the
/// descriptor closes exactly once, when this is dropped.
#[derive(Debug)]
pub struct NlSocket {
    socket: Socket,
    pid: u32,
}

impl NlSocket {
    /// Opens and binds a socket as `config` says, entering its namespace on
    /// a helper thread when it names one. Extended acknowledgements and
    /// `NETLINK_PKTINFO` are turned on: replies carry the kernel's reasons,
    /// and each datagram says whether it was multicast.
    pub fn open(config: &SocketConfig) -> Result<NlSocket> {
        match &config.netns {
            Some(ns) => netns::within(ns, || NlSocket::create(config)),
            None => NlSocket::create(config),
        }
    }

    fn create(config: &SocketConfig) -> Result<NlSocket> {
        let mut socket = Socket::new(config.family as isize).map_err(|e| {
            let what = format!("open netlink family {}", config.family);
            SysError::from_io(&e, &what)
        })?;
        socket
            .set_non_blocking(true)
            .map_err(|e| SysError::from_io(&e, "set O_NONBLOCK"))?;

        let mut addr = SocketAddr::new(config.pid, config.groups);
        socket.bind(&addr).map_err(|e| bind_error(&e, config))?;
        socket
            .get_address(&mut addr)
            .map_err(|e| SysError::from_io(&e, "getsockname"))?;

        let fd = socket.as_raw_fd();
        options::set_flag(fd, options::NETLINK_PKTINFO, true)?;

        // Old kernels lack extended acks; the errno still arrives.
        let _ = options::set_flag(fd, options::NETLINK_EXT_ACK, true);
        if config.strict {
            options::set_flag(fd, options::NETLINK_GET_STRICT_CHK, true)?;
        }
        if let Some(bytes) = config.read_buffer {
            options::set_read_buffer(fd, bytes)?;
        }

        Ok(NlSocket {
            socket,
            pid: addr.port_number(),
        })
    }

    /// The bound port ID.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// The raw descriptor, for options and polling; owned by this value.
    pub fn fd(&self) -> RawFd {
        self.socket.as_raw_fd()
    }

    /// Sends one datagram to the kernel (port 0). Several messages may be
    /// packed in it.
    pub fn send(&self, datagram: &[u8]) -> Result<()> {
        let kernel = SocketAddr::new(0, 0);
        let sent = self
            .socket
            .send_to(datagram, &kernel, 0)
            .map_err(|e| SysError::from_io(&e, "sendto"))?;
        if sent != datagram.len() {
            return Err(SysError::new(
                libc::EMSGSIZE,
                format!("sendto sent {sent} of {} bytes", datagram.len()),
            ));
        }
        Ok(())
    }

    /// Receives one datagram into `buf` without blocking. Asks for the
    /// real length (`MSG_TRUNC`) so a datagram larger than `buf` is
    /// reported as truncated rather than silently cut.
    pub fn recv(&self, buf: &mut [u8]) -> std::io::Result<Datagram> {
        let mut addr: libc::sockaddr_nl = unsafe { mem::zeroed() };
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr() as *mut libc::c_void,
            iov_len: buf.len(),
        };
        let mut control = [0u64; 8];
        let mut msg: libc::msghdr = unsafe { mem::zeroed() };
        point(&mut msg, &mut addr, &mut iov, &mut control);

        let flags = libc::MSG_TRUNC | libc::MSG_DONTWAIT;
        let n = unsafe { libc::recvmsg(self.fd(), &mut msg, flags) };
        if n < 0 {
            return Err(std::io::Error::last_os_error());
        }

        let length = n as usize;
        let mut datagram = Datagram {
            length,
            truncated: length > buf.len()
                || msg.msg_flags & libc::MSG_TRUNC != 0,
            port: addr.nl_pid,
            ..Datagram::default()
        };
        read_control(&msg, &mut datagram);
        Ok(datagram)
    }
}

/// Datagrams `recv_many` receives in one system call at most.
pub const RECV_SLOTS: usize = 4;

impl NlSocket {
    /// Receives up to `slots` datagrams in one system call (`recvmmsg`),
    /// without blocking, into `datagrams`; returns how many arrived. The
    /// last `slots - 1` slots are `slot` bytes at the end of `buf`; the
    /// first takes all the room before them, so a large datagram fits as
    /// well as it would with `recv`. `slot_at` says where each begins.
    /// Like `recv`, a datagram larger than its slot is reported truncated.
    pub fn recv_many(
        &self,
        buf: &mut [u8],
        slot: usize,
        slots: usize,
        datagrams: &mut [Datagram; RECV_SLOTS],
    ) -> std::io::Result<usize> {
        let slots = slots.clamp(1, RECV_SLOTS).min(buf.len() / slot.max(1));
        if slots <= 1 {
            datagrams[0] = self.recv(buf)?;
            return Ok(1);
        }

        let mut addrs: [libc::sockaddr_nl; RECV_SLOTS] =
            unsafe { mem::zeroed() };
        let mut controls = [[0u64; 8]; RECV_SLOTS];
        let mut iovs: [libc::iovec; RECV_SLOTS] = unsafe { mem::zeroed() };
        let mut msgs: [libc::mmsghdr; RECV_SLOTS] = unsafe { mem::zeroed() };
        let base = buf.as_mut_ptr();
        for i in 0..slots {
            let (start, len) = slot_at(buf.len(), slot, slots, i);
            iovs[i] = libc::iovec {
                iov_base: unsafe { base.add(start) } as *mut libc::c_void,
                iov_len: len,
            };
            let msg = &mut msgs[i].msg_hdr;
            point(msg, &mut addrs[i], &mut iovs[i], &mut controls[i]);
        }

        let flags = libc::MSG_TRUNC | libc::MSG_DONTWAIT;
        let n = unsafe {
            libc::recvmmsg(
                self.fd(),
                msgs.as_mut_ptr(),
                slots as u32,
                flags,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            return Err(std::io::Error::last_os_error());
        }

        for i in 0..n as usize {
            let msg = &msgs[i];
            let length = msg.msg_len as usize;
            let (_, room) = slot_at(buf.len(), slot, slots, i);
            datagrams[i] = Datagram {
                length,
                truncated: length > room
                    || msg.msg_hdr.msg_flags & libc::MSG_TRUNC != 0,
                port: addrs[i].nl_pid,
                ..Datagram::default()
            };
            read_control(&msg.msg_hdr, &mut datagrams[i]);
        }
        Ok(n as usize)
    }
}

/// Points `msg` at the sender's address, one buffer and the control
/// space a receive fills in.
fn point(
    msg: &mut libc::msghdr,
    addr: &mut libc::sockaddr_nl,
    iov: &mut libc::iovec,
    control: &mut [u64; 8],
) {
    msg.msg_name = addr as *mut libc::sockaddr_nl as *mut _;
    msg.msg_namelen = mem::size_of::<libc::sockaddr_nl>() as u32;
    msg.msg_iov = iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
    msg.msg_controllen = mem::size_of_val(control);
}

/// Where slot `i` of `recv_many` begins in a buffer of `len` bytes, and
/// its size.
pub fn slot_at(
    len: usize,
    slot: usize,
    slots: usize,
    i: usize,
) -> (usize, usize) {
    let first = len - (slots - 1) * slot;
    if i == 0 {
        (0, first)
    } else {
        (first + (i - 1) * slot, slot)
    }
}

fn bind_error(err: &std::io::Error, config: &SocketConfig) -> SysError {
    let errno = err.raw_os_error().unwrap_or(libc::EIO);
    let message = match errno {
        libc::EADDRINUSE => format!("port ID {} is in use", config.pid),
        libc::EPERM => format!(
            "binding to multicast groups {:#x} of family {} needs \
             CAP_NET_ADMIN",
            config.groups, config.family
        ),
        _ => return SysError::from_io(err, "bind"),
    };
    SysError::new(errno, message)
}

fn read_control(msg: &libc::msghdr, datagram: &mut Datagram) {
    let mut cmsg = unsafe { libc::CMSG_FIRSTHDR(msg) };
    while !cmsg.is_null() {
        let header = unsafe { &*cmsg };
        let data = unsafe { libc::CMSG_DATA(cmsg) } as *const i32;
        let has_int =
            header.cmsg_len as usize >= unsafe { libc::CMSG_LEN(4) } as usize;

        if header.cmsg_level == options::SOL_NETLINK && has_int {
            let value = unsafe { data.read_unaligned() };
            match header.cmsg_type {
                options::NETLINK_PKTINFO => datagram.group = value as u32,
                options::NETLINK_LISTEN_ALL_NSID => datagram.nsid = Some(value),
                _ => {}
            }
        }
        cmsg = unsafe { libc::CMSG_NXTHDR(msg, cmsg) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::message::{Header, NLM_F_DUMP, NLM_F_REQUEST};

    const RTM_GETLINK: u16 = 18;

    fn route_socket() -> NlSocket {
        NlSocket::open(&SocketConfig {
            family: libc::NETLINK_ROUTE,
            ..SocketConfig::default()
        })
        .expect("open NETLINK_ROUTE")
    }

    fn link_dump(pid: u32) -> Vec<u8> {
        let mut request = vec![0u8; 32];
        let header = Header {
            length: 32,
            kind: RTM_GETLINK,
            flags: NLM_F_REQUEST | NLM_F_DUMP,
            sequence: 7,
            pid,
        };
        header.write(&mut request);
        request
    }

    fn recv_blocking(socket: &NlSocket, buf: &mut [u8]) -> Datagram {
        for _ in 0..1000 {
            match socket.recv(buf) {
                Ok(datagram) => return datagram,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(std::time::Duration::from_millis(1))
                }
                Err(e) => panic!("recv: {e}"),
            }
        }
        panic!("no datagram within a second");
    }

    #[test]
    fn binds_a_port_and_reports_it() {
        let socket = route_socket();
        assert_ne!(socket.pid(), 0);
    }

    #[test]
    fn a_reply_comes_from_the_kernel_as_unicast() {
        let socket = route_socket();
        socket.send(&link_dump(socket.pid())).unwrap();

        let mut buf = vec![0u8; 64 << 10];
        let datagram = recv_blocking(&socket, &mut buf);
        assert!(!datagram.truncated);
        assert_eq!(datagram.port, 0);
        assert_eq!(datagram.group, 0);
        let header = Header::parse(&buf[..datagram.length]).unwrap();
        assert_eq!(header.sequence, 7);
    }

    #[test]
    fn a_datagram_larger_than_the_buffer_is_reported_truncated() {
        let socket = route_socket();
        socket.send(&link_dump(socket.pid())).unwrap();

        // Every link message is larger than this.
        let mut buf = vec![0u8; 64];
        let datagram = recv_blocking(&socket, &mut buf);
        assert!(datagram.truncated);
        assert!(datagram.length > buf.len(), "{}", datagram.length);
    }

    #[test]
    fn recv_many_takes_several_datagrams_in_one_call() {
        let socket = route_socket();
        socket.send(&link_dump(socket.pid())).unwrap();
        let mut probe = vec![0u8; 64 << 10];
        let first = recv_blocking(&socket, &mut probe);
        assert!(!first.truncated);

        // Three requests the kernel refuses: three error replies queue up.
        std::thread::sleep(std::time::Duration::from_millis(20));
        let mut drained = 0;
        while socket.recv(&mut probe).is_ok() {
            drained += 1;
        }
        assert!(drained < 1000);
        for _ in 0..3 {
            let mut request = link_dump(socket.pid());
            request[0..4].copy_from_slice(&32u32.to_ne_bytes());
            request[4..6].copy_from_slice(&RTM_GETLINK.to_ne_bytes());
            request[6..8].copy_from_slice(&NLM_F_REQUEST.to_ne_bytes());
            socket.send(&request).unwrap();
        }

        let mut buf = vec![0u8; 4 * (64 << 10)];
        let mut datagrams = [Datagram::default(); RECV_SLOTS];
        let n = socket
            .recv_many(&mut buf, 64 << 10, RECV_SLOTS, &mut datagrams)
            .unwrap();
        assert_eq!(n, 3);
        for (i, datagram) in datagrams[..n].iter().enumerate() {
            let (start, _) = slot_at(buf.len(), 64 << 10, RECV_SLOTS, i);
            let header = Header::parse(&buf[start..]).unwrap();
            assert_eq!(header.kind, crate::message::NLMSG_ERROR);
            assert_eq!(header.length as usize, datagram.length);
            assert!(!datagram.truncated);
        }
    }

    #[test]
    fn the_first_slot_takes_the_room_the_others_leave() {
        assert_eq!(slot_at(1000, 100, 4, 0), (0, 700));
        assert_eq!(slot_at(1000, 100, 4, 1), (700, 100));
        assert_eq!(slot_at(1000, 100, 4, 3), (900, 100));
    }

    #[test]
    fn binding_a_port_in_use_is_eaddrinuse() {
        let first = route_socket();
        let err = NlSocket::open(&SocketConfig {
            family: libc::NETLINK_ROUTE,
            pid: first.pid(),
            ..SocketConfig::default()
        })
        .unwrap_err();
        assert_eq!(err.errno, libc::EADDRINUSE);
        assert!(err.message.contains("in use"), "{}", err.message);
    }

    #[test]
    fn an_unknown_family_is_an_error_naming_it() {
        let err = NlSocket::open(&SocketConfig {
            family: 30,
            ..SocketConfig::default()
        })
        .unwrap_err();
        assert!(err.message.contains("family 30"), "{}", err.message);
    }
}
