// Hello world, freestanding (no libc): the size baseline (README, "Writing
// guests"); tests/wasi_test.cpp runs it.
#include <nomos/guest.h>

NOMOS_EXPORT(hello) void hello() { nomos::log("hello, world"); }
