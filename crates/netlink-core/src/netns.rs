//! Network namespaces: creating a socket inside another namespace without
//! moving the calling thread.
//!
//! A socket belongs to the namespace its creator was in when it called
//! `socket(2)`, for its whole life. So the socket is made on a short-lived
//! helper thread that enters the namespace with `setns(2)` and ends; the
//! caller's thread, usually JavaScript's, never changes namespace.

use std::ffi::CString;
use std::os::fd::RawFd;
use std::path::{Path, PathBuf};

use crate::error::{Result, SysError};

/// Where iproute2 keeps named namespaces (`ip netns add NAME`).
pub const NAMED_NAMESPACES: &str = "/var/run/netns";

/// A network namespace to create a socket in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Netns {
    /// A path to a namespace file: `/var/run/netns/NAME`,
    /// `/proc/PID/ns/net`.
    Path(PathBuf),
    /// An open descriptor of a namespace file, borrowed: never closed here.
    Fd(RawFd),
}

impl Netns {
    /// A namespace given by path or by bare name; a name without a slash is
    /// looked up under `NAMED_NAMESPACES`.
    pub fn from_name_or_path(spec: &str) -> Result<Netns> {
        if spec.is_empty() || spec.contains('\0') {
            return Err(SysError::new(
                libc::EINVAL,
                "a netns is a non-empty name or path without NUL bytes",
            ));
        }
        if spec.contains('/') {
            return Ok(Netns::Path(PathBuf::from(spec)));
        }
        if spec == "." || spec == ".." {
            return Err(SysError::new(
                libc::EINVAL,
                format!("{spec:?} is not a namespace name"),
            ));
        }
        Ok(Netns::Path(Path::new(NAMED_NAMESPACES).join(spec)))
    }

    fn describe(&self) -> String {
        match self {
            Netns::Path(path) => path.display().to_string(),
            Netns::Fd(fd) => format!("fd {fd}"),
        }
    }
}

/// Runs `work` on a helper thread that has entered `netns`, and returns
/// what it returns. The helper thread ends with the call, taking its
/// namespace with it.
pub fn within<T, F>(netns: &Netns, work: F) -> Result<T>
where
    T: Send,
    F: FnOnce() -> Result<T> + Send,
{
    let (fd, owned) = open(netns)?;
    let outcome = std::thread::scope(|scope| {
        let helper = scope.spawn(|| {
            enter(fd, netns)?;
            work()
        });
        helper.join()
    });
    if owned {
        unsafe { libc::close(fd) };
    }

    match outcome {
        Ok(result) => result,
        Err(_) => Err(SysError::new(
            libc::EIO,
            "the network namespace helper thread panicked",
        )),
    }
}

fn open(netns: &Netns) -> Result<(RawFd, bool)> {
    let path = match netns {
        Netns::Fd(fd) => return Ok((*fd, false)),
        Netns::Path(path) => path,
    };

    let c_path = CString::new(path.as_os_str().as_encoded_bytes())
        .map_err(|_| SysError::new(libc::EINVAL, "netns path has a NUL"))?;
    let fd = unsafe {
        libc::open(c_path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC)
    };
    if fd < 0 {
        let err = SysError::last(&format!(
            "open network namespace {}",
            path.display()
        ));
        return Err(err);
    }
    Ok((fd, true))
}

fn enter(fd: RawFd, netns: &Netns) -> Result<()> {
    if unsafe { libc::setns(fd, libc::CLONE_NEWNET) } == 0 {
        return Ok(());
    }

    let err = SysError::last("setns");
    let message = match err.errno {
        libc::EPERM => format!(
            "entering network namespace {} requires CAP_SYS_ADMIN",
            netns.describe()
        ),
        libc::EINVAL => {
            format!("{} is not a network namespace", netns.describe())
        }
        _ => format!("enter network namespace {}: {}", netns.describe(), err),
    };
    Err(SysError::new(err.errno, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_names_resolve_under_var_run_netns() {
        let ns = Netns::from_name_or_path("blue").unwrap();
        assert_eq!(ns, Netns::Path(PathBuf::from("/var/run/netns/blue")));
    }

    #[test]
    fn paths_are_kept_as_given() {
        let ns = Netns::from_name_or_path("/proc/1/ns/net").unwrap();
        assert_eq!(ns, Netns::Path(PathBuf::from("/proc/1/ns/net")));
    }

    #[test]
    fn empty_dot_and_nul_names_are_rejected() {
        for spec in ["", ".", "..", "a\0b"] {
            let err = Netns::from_name_or_path(spec).unwrap_err();
            assert_eq!(err.errno, libc::EINVAL, "{spec:?}");
        }
    }

    #[test]
    fn a_missing_namespace_is_enoent_naming_it() {
        let ns = Netns::Path(PathBuf::from("/var/run/netns/nl-absent-ns"));
        let err = within(&ns, || Ok(())).unwrap_err();
        assert_eq!(err.errno, libc::ENOENT);
        assert!(err.message.contains("nl-absent-ns"), "{}", err.message);
    }

    #[test]
    fn a_file_that_is_no_namespace_is_einval() {
        let ns = Netns::Path(PathBuf::from("/proc/self/status"));
        let err = within(&ns, || Ok(())).unwrap_err();
        assert_eq!(err.errno, libc::EINVAL, "{}", err.message);
    }

    #[test]
    fn the_callers_namespace_does_not_change() {
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("skipped: entering a namespace needs CAP_SYS_ADMIN");
            return;
        }
        let before = std::fs::read_link("/proc/thread-self/ns/net").unwrap();
        let ns = Netns::Path(PathBuf::from("/proc/self/ns/net"));
        let inside = within(&ns, || {
            Ok(std::fs::read_link("/proc/thread-self/ns/net").unwrap())
        });
        assert!(inside.is_ok());
        let after = std::fs::read_link("/proc/thread-self/ns/net").unwrap();
        assert_eq!(before, after);
    }
}
