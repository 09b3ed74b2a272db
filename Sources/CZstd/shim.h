/* zstd's streaming decoder, for Tachyon's compressed sample data (FORMATS.md §8.1). */
#include <zstd.h>
