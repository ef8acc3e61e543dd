//! The few system calls std does not offer, declared against the C library.
//! Every other module goes through the safe wrappers here, so all `unsafe`
//! of the runner sits in this one file.

use std::ffi::{CStr, CString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Command;

const PR_SET_DUMPABLE: i32 = 4;
const SIGKILL: i32 = 9;
const WNOHANG: i32 = 1;
const IPC_RMID: i32 = 0;
const PRIO_PROCESS: i32 = 0;
const O_WRONLY: i32 = 1;
const O_CLOEXEC: i32 = 0o2000000;
/// Resources a program's process can lower on the runner (prlimit), which
/// the next program would inherit: every RLIMIT_* of Linux.
pub const RLIMITS: i32 = 16;

#[repr(C)]
struct Rusage {
    utime: [i64; 2],
    stime: [i64; 2],
    maxrss: i64,
    rest: [i64; 13],
}

#[repr(C)]
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct Rlimit {
    pub soft: u64,
    pub hard: u64,
}

extern "C" {
    fn prctl(option: i32, arg2: u64, arg3: u64, arg4: u64, arg5: u64) -> i32;
    fn open(path: *const i8, flags: i32, ...) -> i32;
    fn write(fd: i32, buf: *const u8, count: usize) -> isize;
    fn close(fd: i32) -> i32;
    fn kill(pid: i32, sig: i32) -> i32;
    fn wait4(pid: i32, status: *mut i32, options: i32, rusage: *mut Rusage) -> i32;
    fn shmctl(id: i32, cmd: i32, buf: *mut u8) -> i32;
    fn semctl(id: i32, num: i32, cmd: i32, ...) -> i32;
    fn msgctl(id: i32, cmd: i32, buf: *mut u8) -> i32;
    fn llistxattr(path: *const i8, list: *mut u8, size: usize) -> isize;
    fn lremovexattr(path: *const i8, name: *const i8) -> i32;
    fn getrlimit(resource: i32, limit: *mut Rlimit) -> i32;
    fn setrlimit(resource: i32, limit: *const Rlimit) -> i32;
    fn getpriority(which: i32, who: u32) -> i32;
    fn sched_getscheduler(pid: i32) -> i32;
    fn sched_getaffinity(pid: i32, size: usize, mask: *mut u8) -> i32;
    fn sched_setaffinity(pid: i32, size: usize, mask: *const u8) -> i32;
}

/// Makes this process non-dumpable: no ptrace, and its /proc entries belong
/// to root, so a program of the same user cannot open /proc/1/{mem,fd}.
pub fn set_non_dumpable() {
    // SAFETY: prctl with integer arguments only changes this process's flag.
    unsafe {
        prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
    }
}

/// Makes the process `command` starts, and every process it will start,
/// the OOM killer's first choice (oom_score_adj 1000, inherited), so
/// that a program that exhausts the sandbox's memory is killed rather than
/// the runner, which shares its memory cgroup and must report the run. Only
/// async-signal-safe system calls on static data: nothing is allocated
/// after a fork of a threaded process. The runner is not dumpable, so its
/// /proc files, a fresh child's included, belong to root until the child is
/// made dumpable again (exec would do so anyway); raising one's own score
/// needs no privilege. Best effort: a failure leaves the default score.
pub fn prefer_for_oom_kill(command: &mut Command) {
    // SAFETY: the hook runs between fork and exec and makes only
    // async-signal-safe system calls.
    unsafe {
        command.pre_exec(|| {
            prefer_for_oom_kill_in_child();
            Ok(())
        });
    }
}

fn prefer_for_oom_kill_in_child() {
    const PATH: &[u8] = b"/proc/self/oom_score_adj\0";
    const MOST: &[u8] = b"1000";
    // SAFETY: prctl, open, write and close are async-signal-safe and read
    // only the static buffers above.
    unsafe {
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
        let fd = open(PATH.as_ptr().cast(), O_WRONLY | O_CLOEXEC);
        if fd >= 0 {
            write(fd, MOST.as_ptr(), MOST.len());
            close(fd);
        }
    }
}

/// SIGKILL to every process of the sandbox but this one.
pub fn kill_all() {
    // SAFETY: plain syscall; -1 never includes the caller (nor init).
    unsafe {
        kill(-1, SIGKILL);
    }
}

/// One reaped child: its pid, wait status and peak resident set (bytes).
pub struct Reaped {
    pub pid: i32,
    pub status: i32,
    pub max_rss: u64,
}

/// Reaps one child (blocking unless `nohang`). `Ok(None)`: none has ended
/// yet (only with `nohang`); an error of ECHILD: no child is left.
pub fn reap_one(nohang: bool) -> io::Result<Option<Reaped>> {
    let mut status = 0;
    let mut usage = Rusage {
        utime: [0; 2],
        stime: [0; 2],
        maxrss: 0,
        rest: [0; 13],
    };
    let options = if nohang { WNOHANG } else { 0 };
    // SAFETY: wait4 writes only into `status` and `usage`, both ours.
    let pid = unsafe { wait4(-1, &mut status, options, &mut usage) };
    match pid {
        0 => Ok(None),
        pid if pid > 0 => Ok(Some(Reaped {
            pid,
            status,
            // Linux counts it in KiB.
            max_rss: (usage.maxrss.max(0) as u64) * 1024,
        })),
        _ => Err(io::Error::last_os_error()),
    }
}

/// The three kinds of System V IPC object.
#[derive(Clone, Copy)]
pub enum Ipc {
    SharedMemory,
    Semaphores,
    MessageQueue,
}

/// Removes one System V IPC object by id.
pub fn remove_ipc(kind: Ipc, id: i32) -> io::Result<()> {
    // SAFETY: IPC_RMID reads no buffer; a null pointer is what it expects.
    let result = unsafe {
        match kind {
            Ipc::SharedMemory => shmctl(id, IPC_RMID, std::ptr::null_mut()),
            Ipc::Semaphores => semctl(id, 0, IPC_RMID),
            Ipc::MessageQueue => msgctl(id, IPC_RMID, std::ptr::null_mut()),
        }
    };
    if result < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

pub fn get_rlimit(resource: i32) -> Option<Rlimit> {
    let mut limit = Rlimit { soft: 0, hard: 0 };
    // SAFETY: getrlimit writes only into `limit`.
    let result = unsafe { getrlimit(resource, &mut limit) };
    (result == 0).then_some(limit)
}

pub fn set_rlimit(resource: i32, limit: Rlimit) -> io::Result<()> {
    // SAFETY: setrlimit only reads `limit`.
    if unsafe { setrlimit(resource, &limit) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// This thread's nice value (setpriority by another process of the same
/// user targets it by its id).
pub fn nice() -> i32 {
    // SAFETY: plain syscall. getpriority returns the nice value itself.
    unsafe { getpriority(PRIO_PROCESS, 0) }
}

/// This thread's scheduling policy (0: the normal one).
pub fn scheduler() -> i32 {
    // SAFETY: plain syscall.
    unsafe { sched_getscheduler(0) }
}

/// This thread's CPU affinity mask (up to 1024 CPUs).
pub fn affinity() -> Vec<u8> {
    let mut mask = vec![0u8; 128];
    // SAFETY: the kernel writes at most `mask.len()` bytes into it.
    let result = unsafe { sched_getaffinity(0, mask.len(), mask.as_mut_ptr()) };
    if result < 0 {
        mask.clear();
    }
    mask
}

/// Sets this thread's CPU affinity mask back (any CPU of the container's
/// cpuset is the process's own to choose).
pub fn set_affinity(mask: &[u8]) {
    // SAFETY: the kernel reads at most `mask.len()` bytes of it.
    unsafe {
        sched_setaffinity(0, mask.len(), mask.as_ptr());
    }
}

fn c_path(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a NUL in a path"))
}

/// The names of the extended attributes of `path` (a symlink's own).
pub fn xattr_names(path: &Path) -> io::Result<Vec<CString>> {
    let path = c_path(path)?;
    let mut list = vec![0u8; 64 * 1024];
    // SAFETY: the kernel writes at most `list.len()` bytes into it.
    let size = unsafe { llistxattr(path.as_ptr(), list.as_mut_ptr(), list.len()) };
    if size < 0 {
        return Err(io::Error::last_os_error());
    }
    list.truncate(size as usize);
    Ok(list
        .split(|byte| *byte == 0)
        .filter(|name| !name.is_empty())
        .filter_map(|name| CString::new(name).ok())
        .collect())
}

pub fn remove_xattr(path: &Path, name: &CStr) -> io::Result<()> {
    let path = c_path(path)?;
    // SAFETY: both are NUL-terminated strings that outlive the call.
    if unsafe { lremovexattr(path.as_ptr(), name.as_ptr()) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
