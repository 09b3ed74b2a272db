// Why a load on this VM is fast one minute and slow the next (BENCHMARKS.md before 2026-12-02, "Why the same
// binary measures ..."): the first touch of 128 MB of fresh memory, one write a 4 KiB page,
//   huge  an aligned mapping with MADV_HUGEPAGE (as ZeroedMemory maps the child index)
//   4k    a plain mapping
// Run it straight after another process freed memory, then after some idle seconds: this
// guest reports free 8 MB blocks to the host (page_reporting.page_reporting_order=11), which
// takes them back, and huge pages are cut from such blocks.
// Build and run: cc -O2 -o /tmp/coldtouch Scripts/coldtouch.c &&
//   /tmp/coldtouch; /tmp/coldtouch; sleep 3; /tmp/coldtouch
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static double touch(size_t n, int huge) {
    const size_t two = 2u << 20;
    char *p = mmap(0, n + two, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) { perror("mmap"); return -1; }
    char *a = (char *)(((unsigned long)p + two - 1) & ~(two - 1));
    if (huge) madvise(a, n, MADV_HUGEPAGE);
    double t = now();
    for (size_t i = 0; i < n; i += 4096) a[i] = 1;
    t = now() - t;
    munmap(p, n + two);
    return t;
}

int main(void) {
    size_t n = 128u << 20;
    double h = touch(n, 1), k = touch(n, 0);
    printf("first touch of 128 MB: huge pages %.1f ms, 4 KiB pages %.1f ms\n", h * 1e3, k * 1e3);
    return 0;
}
