//! Socket options: the `NETLINK_*` options of `SOL_NETLINK`, buffer sizes
//! and classic BPF filters, set on a raw descriptor.

use std::mem;
use std::os::fd::RawFd;

use crate::error::{Result, SysError};

/// `SOL_NETLINK`, the level of the netlink socket options.
pub const SOL_NETLINK: i32 = 270;

/// `NETLINK_ADD_MEMBERSHIP` (2.6.14): join a multicast group.
pub const NETLINK_ADD_MEMBERSHIP: i32 = 1;
/// `NETLINK_DROP_MEMBERSHIP` (2.6.14): leave a multicast group.
pub const NETLINK_DROP_MEMBERSHIP: i32 = 2;
/// `NETLINK_PKTINFO` (2.6.14): a control message names each datagram's
/// multicast group.
pub const NETLINK_PKTINFO: i32 = 3;
/// `NETLINK_BROADCAST_ERROR` (2.6.30).
pub const NETLINK_BROADCAST_ERROR: i32 = 4;
/// `NETLINK_NO_ENOBUFS` (2.6.30).
pub const NETLINK_NO_ENOBUFS: i32 = 5;
/// `NETLINK_LISTEN_ALL_NSID` (4.2): a control message names the peer
/// namespace id of each datagram.
pub const NETLINK_LISTEN_ALL_NSID: i32 = 8;
/// `NETLINK_CAP_ACK` (4.3).
pub const NETLINK_CAP_ACK: i32 = 10;
/// `NETLINK_EXT_ACK` (4.12).
pub const NETLINK_EXT_ACK: i32 = 11;
/// `NETLINK_GET_STRICT_CHK` (4.20).
pub const NETLINK_GET_STRICT_CHK: i32 = 12;

/// The boolean options a caller may turn on or off.
pub const BOOLEAN_OPTIONS: [i32; 7] = [
    NETLINK_PKTINFO,
    NETLINK_BROADCAST_ERROR,
    NETLINK_NO_ENOBUFS,
    NETLINK_LISTEN_ALL_NSID,
    NETLINK_CAP_ACK,
    NETLINK_EXT_ACK,
    NETLINK_GET_STRICT_CHK,
];

/// One instruction of a classic BPF program (`struct sock_filter`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct BpfInstruction {
    pub code: u16,
    pub jt: u8,
    pub jf: u8,
    pub k: u32,
}

/// `BPF_MAXINSNS`: the longest program the kernel accepts.
pub const BPF_MAXINSNS: usize = 4096;

fn set_int(fd: RawFd, level: i32, name: i32, value: i32) -> Result<()> {
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            &value as *const i32 as *const libc::c_void,
            mem::size_of::<i32>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(SysError::last(&format!("setsockopt {}", name_of(name))));
    }
    Ok(())
}

fn get_int(fd: RawFd, level: i32, name: i32) -> Result<i32> {
    let mut value: i32 = 0;
    let mut len = mem::size_of::<i32>() as libc::socklen_t;
    let rc = unsafe {
        libc::getsockopt(
            fd,
            level,
            name,
            &mut value as *mut i32 as *mut libc::c_void,
            &mut len,
        )
    };
    if rc < 0 {
        return Err(SysError::last(&format!("getsockopt {}", name_of(name))));
    }
    Ok(value)
}

fn name_of(name: i32) -> &'static str {
    match name {
        NETLINK_ADD_MEMBERSHIP => "NETLINK_ADD_MEMBERSHIP",
        NETLINK_DROP_MEMBERSHIP => "NETLINK_DROP_MEMBERSHIP",
        NETLINK_PKTINFO => "NETLINK_PKTINFO",
        NETLINK_BROADCAST_ERROR => "NETLINK_BROADCAST_ERROR",
        NETLINK_NO_ENOBUFS => "NETLINK_NO_ENOBUFS",
        NETLINK_LISTEN_ALL_NSID => "NETLINK_LISTEN_ALL_NSID",
        NETLINK_CAP_ACK => "NETLINK_CAP_ACK",
        NETLINK_EXT_ACK => "NETLINK_EXT_ACK",
        NETLINK_GET_STRICT_CHK => "NETLINK_GET_STRICT_CHK",
        _ => "socket option",
    }
}

/// Turns one of `BOOLEAN_OPTIONS` on or off.
pub fn set_flag(fd: RawFd, option: i32, on: bool) -> Result<()> {
    if !BOOLEAN_OPTIONS.contains(&option) {
        return Err(SysError::new(
            libc::ENOPROTOOPT,
            format!("unknown netlink option {option}"),
        ));
    }
    set_int(fd, SOL_NETLINK, option, on as i32)
}

/// Joins multicast group `group` (any number, including those above 31).
pub fn join_group(fd: RawFd, group: u32) -> Result<()> {
    set_int(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group as i32).map_err(
        |e| match e.errno {
            libc::EPERM => SysError::new(
                e.errno,
                format!("joining multicast group {group} needs CAP_NET_ADMIN"),
            ),
            _ => SysError::new(e.errno, format!("join group {group}: {}", e)),
        },
    )
}

/// Leaves multicast group `group`.
pub fn leave_group(fd: RawFd, group: u32) -> Result<()> {
    set_int(fd, SOL_NETLINK, NETLINK_DROP_MEMBERSHIP, group as i32).map_err(
        |e| SysError::new(e.errno, format!("leave group {group}: {}", e)),
    )
}

/// Sets the receive buffer: `SO_RCVBUFFORCE` where the caller has
/// `CAP_NET_ADMIN`, else `SO_RCVBUF`, which the kernel caps at
/// `net.core.rmem_max`. Returns whether the forced size was applied.
pub fn set_read_buffer(fd: RawFd, bytes: usize) -> Result<bool> {
    let size = bytes.min(i32::MAX as usize / 2) as i32;
    if set_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, size).is_ok() {
        return Ok(true);
    }
    set_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, size)?;
    Ok(false)
}

/// Sets the send buffer: `SO_SNDBUFFORCE`, falling back to `SO_SNDBUF`.
pub fn set_write_buffer(fd: RawFd, bytes: usize) -> Result<bool> {
    let size = bytes.min(i32::MAX as usize / 2) as i32;
    if set_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUFFORCE, size).is_ok() {
        return Ok(true);
    }
    set_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUF, size)?;
    Ok(false)
}

/// The receive buffer's size as the kernel reports it (twice what was
/// asked, for its bookkeeping).
pub fn read_buffer(fd: RawFd) -> Result<usize> {
    Ok(get_int(fd, libc::SOL_SOCKET, libc::SO_RCVBUF)? as usize)
}

/// The send buffer's size as the kernel reports it.
pub fn write_buffer(fd: RawFd) -> Result<usize> {
    Ok(get_int(fd, libc::SOL_SOCKET, libc::SO_SNDBUF)? as usize)
}

/// Attaches a classic BPF program (`SO_ATTACH_FILTER`) that runs on every
/// datagram before it is queued to the socket.
pub fn attach_filter(fd: RawFd, program: &[BpfInstruction]) -> Result<()> {
    if program.is_empty() || program.len() > BPF_MAXINSNS {
        return Err(SysError::new(
            libc::EINVAL,
            format!(
                "a bpf program has 1 to {BPF_MAXINSNS} instructions, not {}",
                program.len()
            ),
        ));
    }

    let fprog = libc::sock_fprog {
        len: program.len() as u16,
        filter: program.as_ptr() as *mut libc::sock_filter,
    };
    let rc = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            &fprog as *const libc::sock_fprog as *const libc::c_void,
            mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        return Err(SysError::last("setsockopt SO_ATTACH_FILTER"));
    }
    Ok(())
}

/// Removes the BPF program (`SO_DETACH_FILTER`); no program is not an
/// error.
pub fn detach_filter(fd: RawFd) -> Result<()> {
    match set_int(fd, libc::SOL_SOCKET, libc::SO_DETACH_FILTER, 0) {
        Err(e) if e.errno == libc::ENOENT => Ok(()),
        other => other,
    }
}
