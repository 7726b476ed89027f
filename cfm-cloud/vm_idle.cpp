// vm_idle.cpp — `cfm-vm-idle`: the cheapest process a local instance can be, for images whose
// instances only need to exist (benchmarks of the cloud API, tests that start hundreds of VMs).
// It waits for signals until one ends it (stop and terminate send SIGTERM, then SIGKILL).
//
// On x86-64 Linux it is built freestanding and static (no C library, no dynamic loader): its exec
// costs a fraction of a dynamically linked `/bin/sleep`'s (0.8 ms of CPU against 4.3 ms on the
// 2-core guests CI runs on; bench/README.md "cloud"), which matters when one cloud starts a
// thousand instances at once. Elsewhere it is an ordinary program doing the same.
#if defined(CFM_VM_IDLE_FREESTANDING) && defined(__x86_64__) && defined(__linux__)
#include <sys/syscall.h>

extern "C" [[noreturn]] void _start() {
  for (;;) {
    long ret;
    // pause(2): sleeps until a signal is delivered; the default dispositions end the process
    asm volatile("syscall" : "=a"(ret) : "a"(long(SYS_pause)) : "rcx", "r11", "memory");
  }
}
#else
#include <unistd.h>

int main() {
  for (;;) pause();
}
#endif
