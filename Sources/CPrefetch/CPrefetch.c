// Most of this target is header-only (include/CPrefetch.h). What is here needs state of its
// own: the guard for files mapped read-only while they are read.
#include "CPrefetch.h"
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

// A mapped file that another process truncates (a profiler rewriting its output, say) raises
// SIGBUS on the first touch of a page past the new end. For the pages of a guarded mapping the
// handler maps a zero page there instead and notes it, so the reader sees NUL bytes (never
// valid JSON), stops with an error, and the caller says the file changed; any other SIGBUS goes
// to the handler that was there before (the viewer's terminal restore) or to the default.
enum { SLOTS = 16 };
static uintptr_t slot_lo[SLOTS], slot_hi[SLOTS];
static int slot_hit[SLOTS];
static uintptr_t page_mask;
static struct sigaction previous;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void on_bus(int sig, siginfo_t *info, void *context) {
    uintptr_t a = (uintptr_t)info->si_addr;
    for (int i = 0; i < SLOTS; i++) {
        uintptr_t lo = __atomic_load_n(&slot_lo[i], __ATOMIC_ACQUIRE);
        uintptr_t hi = __atomic_load_n(&slot_hi[i], __ATOMIC_ACQUIRE);
        if (lo <= a && a < hi) {
            void *page = (void *)(a & ~page_mask);
            if (mmap(page, page_mask + 1, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != MAP_FAILED) {
                __atomic_store_n(&slot_hit[i], 1, __ATOMIC_RELEASE);
                return;
            }
        }
    }
    if (previous.sa_flags & SA_SIGINFO) {
        previous.sa_sigaction(sig, info, context);
    } else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
        previous.sa_handler(sig);
    } else {
        // Returning re-runs the faulting access, which the default action then ends.
        signal(sig, SIG_DFL);
    }
}

int perftop_guard_mapping(const void *base, size_t length) {
    pthread_mutex_lock(&lock);
    page_mask = (uintptr_t)sysconf(_SC_PAGESIZE) - 1;
    struct sigaction now;
    sigaction(SIGBUS, NULL, &now);
    // Someone (the viewer's terminal set-up) may have replaced it since: chain to them now.
    if (!((now.sa_flags & SA_SIGINFO) && now.sa_sigaction == on_bus)) {
        struct sigaction sa = {0};
        sa.sa_sigaction = on_bus;
        sa.sa_flags = SA_SIGINFO;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGBUS, &sa, &previous);
    }
    int slot = -1;
    for (int i = 0; i < SLOTS && slot < 0; i++) {
        if (__atomic_load_n(&slot_hi[i], __ATOMIC_ACQUIRE) == 0) slot = i;
    }
    if (slot >= 0) {
        __atomic_store_n(&slot_hit[slot], 0, __ATOMIC_RELEASE);
        __atomic_store_n(&slot_lo[slot], (uintptr_t)base, __ATOMIC_RELEASE);
        __atomic_store_n(&slot_hi[slot], (uintptr_t)base + length, __ATOMIC_RELEASE);
    }
    pthread_mutex_unlock(&lock);
    return slot;
}

int perftop_mapping_was_cut(int slot) {
    return slot >= 0 && slot < SLOTS && __atomic_load_n(&slot_hit[slot], __ATOMIC_ACQUIRE);
}

void perftop_unguard_mapping(int slot) {
    if (slot < 0 || slot >= SLOTS) return;
    pthread_mutex_lock(&lock);
    __atomic_store_n(&slot_hi[slot], 0, __ATOMIC_RELEASE);
    __atomic_store_n(&slot_lo[slot], 0, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&lock);
}
