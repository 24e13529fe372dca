//! The Conns of one JavaScript environment (the main thread, a worker
//! thread, an Electron renderer), closed when that environment goes
//! away: terminating a worker releases its sockets and registrations even
//! though the garbage collector never got to its Conns.
//!
//! Node.js runs each environment on a thread of its own, so the list of
//! an environment's Conns is kept per thread.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::{Arc, Weak};

use napi::Env;
use netlink_core::reactor::Registration;

/// Registrations opened in this thread's environment. Closed and
/// collected ones are pruned as new ones come, so the list stays about
/// as long as the number of open Conns.
#[derive(Default)]
struct Opened {
    registrations: Vec<Weak<Registration>>,
    prune_at: usize,
}

const FIRST_PRUNE: usize = 64;

thread_local! {
    /// This thread's list, once its environment has a cleanup hook.
    static OPENED: RefCell<Option<Rc<RefCell<Opened>>>> =
        const { RefCell::new(None) };
}

/// Adds `registration` to the Conns closed when the environment of `env`
/// is torn down, installing the cleanup hook on first use. Call on the
/// JavaScript thread that opened it.
pub fn track(env: &Env, registration: &Arc<Registration>) -> napi::Result<()> {
    let opened = match OPENED.with(|o| o.borrow().clone()) {
        Some(opened) => opened,
        None => {
            let opened = Rc::new(RefCell::new(Opened::default()));
            env.add_env_cleanup_hook(opened.clone(), close_all)?;
            OPENED.with(|o| *o.borrow_mut() = Some(opened.clone()));
            opened
        }
    };

    let mut opened = opened.borrow_mut();
    if opened.registrations.len() >= opened.prune_at {
        opened
            .registrations
            .retain(|weak| weak.upgrade().is_some_and(|r| !r.is_closed()));
        opened.prune_at = FIRST_PRUNE.max(2 * opened.registrations.len());
    }
    opened.registrations.push(Arc::downgrade(registration));
    Ok(())
}

/// The cleanup hook: closes every Conn the environment still has open.
fn close_all(opened: Rc<RefCell<Opened>>) {
    // Nothing may unwind out of a hook that the runtime calls.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _ = OPENED.try_with(|o| o.borrow_mut().take());
        let registrations =
            std::mem::take(&mut opened.borrow_mut().registrations);
        for registration in registrations.iter().filter_map(Weak::upgrade) {
            registration.close();
        }
    }));
}
