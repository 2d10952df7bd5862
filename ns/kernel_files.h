// What of the kernel's host-wide state the sandbox's /proc and /sys let a command see or
// change. A fresh /proc still holds files that act on the whole machine, and with the
// real-root id map (host uid 0 is the sandbox's uid 0) their permission checks, which
// compare uids rather than capabilities, let a script write them: /proc/sys/kernel/*
// (core_pattern runs a pipe as host root), /proc/sysrq-trigger. As runc, crun and Docker
// do, in every id mode:
//  - kReadOnlyProcPaths are bound read-only onto themselves;
//  - kMaskedPaths (files: /dev/null bound over them; directories: an empty read-only
//    tmpfs) show nothing: the kernel's memory, keys, timers and firmware tables.
// The command cannot undo either: mounts are denied by its seccomp filter and
// CAP_SYS_ADMIN is not in its bounding set.
#pragma once
#include <vector>

namespace strata::ns {

// Relative to /proc: sys, sysrq-trigger, irq, bus, fs.
extern const std::vector<const char*> kReadOnlyProcPaths;
// Absolute: /proc/{kcore,keys,timer_list,timer_stats,latency_stats,sched_debug,acpi,
// asound,scsi}, /sys/firmware, /sys/devices/virtual/powercap.
extern const std::vector<const char*> kMaskedPaths;

// Applies both lists to a /proc just mounted (proc_dir: an fd of its root directory)
// and a /sys (sys_dir: its root, or -1 when the sandbox has none). Paths the kernel
// does not have are skipped. Throws WorkError when one cannot be covered.
void confine_kernel_files(int proc_dir, int sys_dir);

} // namespace strata::ns
