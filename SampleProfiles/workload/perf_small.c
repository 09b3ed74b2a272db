/* A tiny CPU workload for the golden perf-script case (Tests/Golden/perf-script):
 * three call paths of different weight, built with frame pointers so `perf record -g` sees them. */
#include <stdio.h>

static volatile unsigned long sink;

static void spin(unsigned long n) { for (unsigned long i = 0; i < n; i++) sink += i * i; }
static void leaf_a(void) { spin(30000000UL); }
static void leaf_b(void) { spin(10000000UL); }
static void middle(int depth) { if (depth > 0) middle(depth - 1); else leaf_b(); }

int main(void) {
    leaf_a();
    middle(3);
    spin(5000000UL);
    printf("%lu\n", sink);
    return 0;
}
