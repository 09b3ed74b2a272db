#include <zlib.h>

/* inflateInit2 is a macro; wrap it so Swift can call it. */
static inline int perftop_inflateInit2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}
