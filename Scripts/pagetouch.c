// What a first touch of fresh memory costs on this machine, the figure behind
// Sources/ProfileModel/Model/BigArrays.swift. Touches 60 MB of fresh 6 MB malloc blocks
// (mapped on their own, as big Swift arrays are) one byte per 4 KiB page, three ways:
//   4k        plain 4 KiB pages
//   huge      MADV_HUGEPAGE after malloc (its header already maps the first 2 MiB small)
//   collapse  that, and MADV_COLLAPSE of the first 2 MiB
// Build and run: cc -O2 -o /tmp/pagetouch Scripts/pagetouch.c && /tmp/pagetouch
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>

#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static long faults(void) {
    struct rusage r;
    getrusage(RUSAGE_SELF, &r);
    return r.ru_minflt;
}

int main(void) {
    const size_t huge = 2 << 20, block = (6 << 20) - 96;    // maps exactly 6 MiB, 2 MiB aligned
    mallopt(M_MMAP_THRESHOLD, 2 << 20);
    const char *names[] = {"4k", "huge", "collapse"};
    for (int round = 0; round < 2; round++) {
        for (int mode = 0; mode < 3; mode++) {
            double t = now();
            long f = faults();
            for (int k = 0; k < 10; k++) {
                char *p = malloc(block);
                char *start = (char *)((uintptr_t)p & ~(uintptr_t)(huge - 1));
                if (mode >= 1) madvise(start, 6 << 20, MADV_HUGEPAGE);
                if (mode == 2) madvise(start, huge, MADV_COLLAPSE);
                for (size_t i = 0; i < block; i += 4096) ((volatile char *)p)[i] = 1;
                free(p);
            }
            printf("%-9s %6.1f ms %6ld faults (60 MB)\n", names[mode], (now() - t) * 1e3, faults() - f);
        }
    }
    return 0;
}
