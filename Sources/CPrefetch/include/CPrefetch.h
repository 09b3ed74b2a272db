#ifndef PERFTOP_CPREFETCH_H
#define PERFTOP_CPREFETCH_H

// Swift has no prefetch; the tree builder uses this to start the cache misses of a stack's
// child-index probes together instead of one after another (BENCHMARKS.md, folded read).
static inline void perftop_prefetch(const void *p) { __builtin_prefetch(p, 1, 3); }

#if __has_include(<malloc.h>)
#include <malloc.h>
#endif
#if defined(M_MMAP_THRESHOLD)
// Swift's Glibc module leaves out malloc.h. From the first call on, blocks from `bytes` on
// get mappings of their own, and freeing one no longer raises that threshold (BigArrays.swift).
static inline void perftop_pin_mmap_threshold(int bytes) {
    static int pinned;
    if (!__atomic_exchange_n(&pinned, 1, __ATOMIC_RELAXED)) mallopt(M_MMAP_THRESHOLD, bytes);
}
#else
static inline void perftop_pin_mmap_threshold(int bytes) { (void)bytes; }
#endif

#include <stddef.h>
// A file mapped read-only while it is read: SIGBUS from its pages (the file was cut meanwhile)
// reads zeros instead (CPrefetch.c). Returns a slot for the two calls below, or -1 when all
// are taken (then the mapping must not be used).
int perftop_guard_mapping(const void *base, size_t length);
// Whether a page of the slot's mapping was past the file's end when touched.
int perftop_mapping_was_cut(int slot);
// Before the mapping goes.
void perftop_unguard_mapping(int slot);

#endif
