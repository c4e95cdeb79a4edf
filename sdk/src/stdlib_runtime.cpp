// Linked into every Nomos guest built with the standard library
// (nomos_add_guest(... STDLIB)), ahead of wasi-libc, whose definitions of
// these it replaces: wasi-libc's abort() is a bare `unreachable` (a trap
// without a message) and its assert prints to stderr, which a trapping call
// loses. Here both trap with NOMOS_TRAP_GUEST_ABORT and say why.
#include <nomos/abi.h>

#include <stdio.h>
#include <string.h>

#if !defined(__wasm__)
#error "stdlib_runtime.cpp is for wasm32 guests"
#endif

extern "C" {

[[noreturn]] void abort(void) {
  static const char message[] = "abort() called";
  nomos_abort(message, sizeof message - 1);
}

// assert(expr) failing, as <assert.h> declares it in wasi-libc.
[[noreturn]] void __assert_fail(const char* expr, const char* file, int line,
                                const char* func) {
  char message[512];
  int length = snprintf(message, sizeof message,
                        "Assertion failed: %s (%s: %s: %d)", expr, file, func,
                        line);
  if (length < 0) length = 0;
  if (length >= int(sizeof message)) length = sizeof message - 1;
  nomos_abort(message, uint32_t(length));
}

} // extern "C"
