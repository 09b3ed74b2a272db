// How fast this machine hands out fresh memory: maps SIZE MB, and fills it with THREADS threads
// by memset (MODE 0) or MADV_POPULATE_WRITE (MODE 1), with huge pages if HUGE is 1.
// Build and run: cc -O2 -o /tmp/fresh Scripts/fresh_memory.c -lpthread && /tmp/fresh 256 1 1 1
// Run it twice in a row, then again after a few seconds idle: on this VM the first touch of
// memory the guest has not used for a while is ~20x slower (the host backs it again).
#define _GNU_SOURCE
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <time.h>
#include <string.h>
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
static double now(){struct timespec t; clock_gettime(CLOCK_MONOTONIC,&t); return t.tv_sec+t.tv_nsec*1e-9;}
typedef struct {char*p; size_t n; int mode;} A;
static void* work(void*a_){A*a=a_; if(a->mode==0) memset(a->p,0,a->n); else madvise(a->p,a->n,MADV_POPULATE_WRITE); return 0;}
int main(int argc,char**argv){
  size_t n=(size_t)atoi(argv[1])<<20; int threads=atoi(argv[2]); int mode=atoi(argv[3]); int huge=atoi(argv[4]);
  char*p=mmap(0,n,PROT_READ|PROT_WRITE,MAP_PRIVATE|MAP_ANONYMOUS,-1,0);
  if(huge) madvise(p,n,MADV_HUGEPAGE);
  double t0=now();
  pthread_t th[8]; A a[8];
  for(int i=0;i<threads;i++){a[i].p=p+n/threads*i; a[i].n=n/threads; a[i].mode=mode; pthread_create(&th[i],0,work,&a[i]);}
  for(int i=0;i<threads;i++) pthread_join(th[i],0);
  double t1=now();
  printf("%zu MB threads %d mode %s huge %d: %.3f s (%.2f GB/s)\n", n>>20, threads, mode?"populate":"memset", huge, t1-t0, n/1e9/(t1-t0));
}
