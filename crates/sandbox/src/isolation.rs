//! The isolation a worker runs in, and what this machine can offer.
//!
//! Every worker's zygote is started through `worker_command`, whose
//! `pre_exec` hook builds the walls once; runners forked by the zygote
//! inherit all of them:
//!
//! * **namespaces** (root): new PID, mount, network, IPC and UTS namespaces.
//!   The zygote is PID 1 of its own namespace, so a candidate sees and can
//!   signal only its own worker's processes, the kernel kills everything in
//!   the namespace when the zygote dies, and after each pair the zygote kills
//!   every other process in it — nothing a candidate starts outlives its pair.
//!   The network namespace has no interfaces up: no network at all. `/proc`
//!   is remounted for the new PID namespace and the scratch directory is a
//!   private, size-capped tmpfs.
//! * **cgroups** (root, cgroup v1): memory and process-count limits per worker.
//! * **landlock**: the whole filesystem is read-only except the scratch
//!   directory (and `/dev/null`); deleting or writing files elsewhere fails.
//! * **seccomp**: sockets other than `AF_UNIX`, and the syscalls that change
//!   the system (mount, ptrace, module loading, reboot, …), fail with `EPERM`.
//! * **capabilities**: all dropped, so the uid-0 zygote is not privileged.
//!
//! Where a layer is missing (no root, old kernel), [`IsolationReport`] says
//! which, the engine logs it once, and rlimits take over what they can.

use crate::cgroup::WorkerCgroup;
use crate::toolchain::{Launch, MemoryFallback};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;

/// Which isolation layers the engine is using on this machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IsolationReport {
    /// PID, mount, network, IPC and UTS namespaces, private `/proc` and tmpfs.
    pub namespaces: bool,
    /// Per-worker memory and pids cgroups.
    pub cgroups: bool,
    /// Landlock filesystem rules.
    pub landlock: bool,
    /// The seccomp syscall filter.
    pub seccomp: bool,
}

impl IsolationReport {
    /// Each layer by name, and whether it is in force: what a response
    /// header or a metric reports.
    pub fn layers(&self) -> [(&'static str, bool); 4] {
        [
            ("namespaces", self.namespaces),
            ("cgroups", self.cgroups),
            ("landlock", self.landlock),
            ("seccomp", self.seccomp),
        ]
    }

    /// What this machine appears to offer, before a worker has tried it.
    pub fn detect() -> IsolationReport {
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        IsolationReport {
            namespaces: root,
            cgroups: crate::cgroup::available(),
            landlock: landlock_abi() > 0,
            seccomp: true,
        }
    }

    /// The layers that are missing, as words for a warning; `fallback` is
    /// how the toolchain limits memory without cgroups.
    pub fn missing(&self, fallback: MemoryFallback) -> Vec<&'static str> {
        let mut out = Vec::new();
        if !self.namespaces {
            out.push("namespaces (network stays open; leftover processes are killed by process group only)");
        }
        if !self.cgroups {
            out.push(match fallback {
                MemoryFallback::AddressSpace { .. } => {
                    "cgroups (memory limited by RLIMIT_AS, processes by RLIMIT_NPROC)"
                }
                MemoryFallback::None => {
                    "cgroups (memory NOT limited: this runtime cannot start under RLIMIT_AS; processes limited by RLIMIT_NPROC)"
                }
            });
        }
        if !self.landlock {
            out.push("landlock (files outside the scratch directory are writable)");
        }
        if !self.seccomp {
            out.push("seccomp");
        }
        out
    }
}

/// The landlock ABI version the kernel supports, 0 if none.
fn landlock_abi() -> i64 {
    const LANDLOCK_CREATE_RULESET_VERSION: libc::c_uint = 1;
    // SAFETY: with a null attribute pointer and size 0 this call only queries.
    let v = unsafe {
        libc::syscall(
            libc::SYS_landlock_create_ruleset,
            std::ptr::null::<u8>(),
            0usize,
            LANDLOCK_CREATE_RULESET_VERSION,
        )
    };
    v.max(0)
}

/// Builds the seccomp program once; workers share it.
pub(crate) fn seccomp_program() -> io::Result<Arc<BpfProgram>> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    let not_unix = SeccompCondition::new(
        0,
        SeccompCmpArgLen::Dword,
        SeccompCmpOp::Ne,
        libc::AF_UNIX as u64,
    )
    .map_err(io::Error::other)?;
    rules.insert(
        libc::SYS_socket,
        vec![SeccompRule::new(vec![not_unix]).map_err(io::Error::other)?],
    );
    for sys in [
        libc::SYS_ptrace,
        libc::SYS_mount,
        libc::SYS_umount2,
        libc::SYS_pivot_root,
        libc::SYS_chroot,
        libc::SYS_unshare,
        libc::SYS_setns,
        libc::SYS_kexec_load,
        libc::SYS_init_module,
        libc::SYS_finit_module,
        libc::SYS_delete_module,
        libc::SYS_reboot,
        libc::SYS_swapon,
        libc::SYS_swapoff,
        libc::SYS_bpf,
        libc::SYS_perf_event_open,
        libc::SYS_userfaultfd,
        libc::SYS_process_vm_writev,
        libc::SYS_keyctl,
        libc::SYS_add_key,
        libc::SYS_request_key,
    ] {
        rules.insert(sys, vec![]);
    }
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Allow,
        SeccompAction::Errno(libc::EPERM as u32),
        std::env::consts::ARCH
            .try_into()
            .map_err(io::Error::other)?,
    )
    .map_err(io::Error::other)?;
    let program: BpfProgram = filter.try_into().map_err(io::Error::other)?;
    Ok(Arc::new(program))
}

/// Everything needed to start one worker's zygote.
pub(crate) struct WorkerSpec<'a> {
    pub launch: &'a Launch,
    pub scratch: &'a Path,
    pub cgroup: Option<&'a WorkerCgroup>,
    pub layers: IsolationReport,
    pub seccomp: Arc<BpfProgram>,
    pub tmpfs_bytes: u64,
}

/// Data the `pre_exec` hook needs, prepared before the fork so the hook
/// allocates as little as possible.
struct HookData {
    cgroup_fds: Vec<File>,
    scratch: PathBuf,
    scratch_c: std::ffi::CString,
    tmpfs_opts: std::ffi::CString,
    layers: IsolationReport,
    seccomp: Arc<BpfProgram>,
}

/// The command that starts a zygote inside the requested layers.
pub(crate) fn worker_command(spec: &WorkerSpec<'_>) -> io::Result<Command> {
    let mut cmd = Command::new(&spec.launch.program);
    cmd.args(&spec.launch.args);
    cmd.env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("LANG", "C.UTF-8")
        .env("OMP_NUM_THREADS", "1")
        .env("OPENBLAS_NUM_THREADS", "1")
        .env("HOME", spec.scratch)
        .env("TMPDIR", spec.scratch)
        .env("CODEJURY_SCRATCH", spec.scratch)
        .current_dir(spec.scratch)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in &spec.launch.env {
        cmd.env(k, v);
    }
    let mut cgroup_fds = Vec::new();
    if let Some(group) = spec.cgroup {
        cmd.env("CODEJURY_OOM_CONTROL", group.oom_control());
        for path in group.procs_files() {
            cgroup_fds.push(OpenOptions::new().write(true).open(path)?);
        }
    }
    let to_c = |s: &str| std::ffi::CString::new(s).map_err(io::Error::other);
    let data = HookData {
        cgroup_fds,
        scratch: spec.scratch.to_path_buf(),
        scratch_c: to_c(&spec.scratch.to_string_lossy())?,
        tmpfs_opts: to_c(&format!("size={},mode=0700", spec.tmpfs_bytes))?,
        layers: spec.layers,
        seccomp: spec.seccomp.clone(),
    };
    // SAFETY: the hook runs between fork and exec. It calls only syscalls,
    // plus the landlock crate's ruleset construction, which allocates; glibc
    // keeps malloc usable in a forked child of a multi-threaded parent.
    unsafe {
        cmd.pre_exec(move || enter_sandbox(&data));
    }
    Ok(cmd)
}

/// Runs in the forked child before `exec`.
///
/// # Safety
/// Must only be called between `fork` and `exec`.
unsafe fn enter_sandbox(data: &HookData) -> io::Result<()> {
    for f in &data.cgroup_fds {
        write_pid(f.as_raw_fd())?;
    }
    // Die with the thread that spawned us, so a crashed engine leaves nothing.
    check(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL))?;
    if data.layers.namespaces {
        let flags = libc::CLONE_NEWPID
            | libc::CLONE_NEWNS
            | libc::CLONE_NEWNET
            | libc::CLONE_NEWIPC
            | libc::CLONE_NEWUTS;
        check(libc::unshare(flags))?;
        let pid = libc::fork();
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        if pid > 0 {
            stay_as_reaper(pid);
        }
        // PID 1 of the new namespace from here on.
        check(libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL))?;
        let none = std::ptr::null::<libc::c_char>();
        check(libc::mount(
            none,
            c"/".as_ptr(),
            none,
            libc::MS_REC | libc::MS_PRIVATE,
            std::ptr::null(),
        ))?;
        check(libc::mount(
            c"proc".as_ptr(),
            c"/proc".as_ptr(),
            c"proc".as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV | libc::MS_NOEXEC,
            std::ptr::null(),
        ))?;
        check(libc::mount(
            c"tmpfs".as_ptr(),
            data.scratch_c.as_ptr(),
            c"tmpfs".as_ptr(),
            libc::MS_NOSUID | libc::MS_NODEV,
            data.tmpfs_opts.as_ptr().cast(),
        ))?;
    } else {
        check(libc::setsid())?;
    }
    if data.layers.landlock {
        restrict_filesystem(&data.scratch)?;
    }
    if data.layers.namespaces {
        drop_capabilities()?;
    }
    check(libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))?;
    if data.layers.seccomp {
        seccompiler::apply_filter(&data.seccomp).map_err(io::Error::other)?;
    }
    Ok(())
}

/// The intermediate process outside the new PID namespace: it only waits for
/// the namespace's init and exits with its status. It closes every file
/// descriptor so the parent sees the child's pipes (and `exec` report) as
/// the child's alone.
unsafe fn stay_as_reaper(child: libc::pid_t) -> ! {
    libc::syscall(libc::SYS_close_range, 0u32, u32::MAX, 0u32);
    let mut status = 0;
    loop {
        let r = libc::waitpid(child, &mut status, 0);
        if r == child || (r < 0 && *libc::__errno_location() != libc::EINTR) {
            break;
        }
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        128 + libc::WTERMSIG(status)
    };
    libc::_exit(code)
}

fn check(r: libc::c_int) -> io::Result<()> {
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// Writes this process's pid in decimal to `fd` without allocating.
unsafe fn write_pid(fd: RawFd) -> io::Result<()> {
    let mut pid = libc::getpid() as u32;
    let mut buf = [0u8; 12];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (pid % 10) as u8;
        pid /= 10;
        if pid == 0 {
            break;
        }
    }
    let n = libc::write(fd, buf[i..].as_ptr().cast(), buf.len() - i);
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Read-only everywhere, read-write in the scratch directory.
fn restrict_filesystem(scratch: &Path) -> io::Result<()> {
    use landlock::{
        Access, AccessFs, PathBeneath, PathFd, Ruleset, RulesetAttr, RulesetCreatedAttr,
        RulesetStatus, ABI,
    };
    let abi = ABI::V5;
    let root = PathFd::new("/").map_err(io::Error::other)?;
    let scratch = PathFd::new(scratch).map_err(io::Error::other)?;
    let null = PathFd::new("/dev/null").map_err(io::Error::other)?;
    let status = Ruleset::default()
        .handle_access(AccessFs::from_all(abi))
        .and_then(|r| r.create())
        .and_then(|r| r.add_rule(PathBeneath::new(root, AccessFs::from_read(abi))))
        .and_then(|r| r.add_rule(PathBeneath::new(scratch, AccessFs::from_all(abi))))
        .and_then(|r| {
            r.add_rule(PathBeneath::new(
                null,
                AccessFs::ReadFile | AccessFs::WriteFile,
            ))
        })
        .and_then(|r| r.restrict_self())
        .map_err(io::Error::other)?;
    if status.ruleset == RulesetStatus::NotEnforced {
        return Err(io::Error::other("landlock is not enforced by this kernel"));
    }
    Ok(())
}

/// Empties the bounding, effective, permitted and inheritable sets.
unsafe fn drop_capabilities() -> io::Result<()> {
    for cap in 0..64 {
        // Capabilities the kernel does not know give EINVAL: that's fine.
        libc::prctl(libc::PR_CAPBSET_DROP, cap, 0, 0, 0);
    }
    #[repr(C)]
    struct Header {
        version: u32,
        pid: libc::c_int,
    }
    #[repr(C)]
    #[derive(Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let header = Header {
        version: 0x2008_0522,
        pid: 0,
    };
    let data = [Data {
        effective: 0,
        permitted: 0,
        inheritable: 0,
    }; 2];
    let r = libc::syscall(libc::SYS_capset, &header as *const Header, data.as_ptr());
    if r < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
