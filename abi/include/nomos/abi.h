/* The Nomos guest ABI: one header compiled by the host runtime and by guest
 * programs (clang-19 --target=wasm32), so both sides agree on names,
 * signatures and status codes.
 *
 * Every import lives in the wasm module "nomos". Pointers and lengths are i32
 * offsets into the guest's linear memory; the host bounds-checks each one and
 * traps (NOMOS_TRAP_MEMORY_OUT_OF_BOUNDS) when a range leaves memory. */
#ifndef NOMOS_ABI_H
#define NOMOS_ABI_H

#include <stdint.h>

#define NOMOS_IMPORT_MODULE "nomos"

/* Statuses returned by imports (negative values are errors). */
enum nomos_status {
  NOMOS_OK = 0,
  NOMOS_ERR_NOT_FOUND = -1,     /* key or code key absent */
  NOMOS_ERR_BAD_HANDLE = -2,    /* child handle not open */
  NOMOS_ERR_INVALID_CODE = -3,  /* child code failed to load or compile */
  NOMOS_ERR_LIMIT = -4,         /* requested limits exceed what is left */
  NOMOS_ERR_DEPTH = -5,         /* child nesting depth exhausted */
  NOMOS_ERR_TOO_MANY = -6       /* too many open child handles */
};

/* Trap codes. child_call returns one of these (0 when the child returned
 * normally); the host API reports the same codes as nomos::ErrorKind. */
enum nomos_trap {
  NOMOS_TRAP_NONE = 0,
  NOMOS_TRAP_UNREACHABLE = 1,
  NOMOS_TRAP_MEMORY_OUT_OF_BOUNDS = 2,
  NOMOS_TRAP_TABLE_OUT_OF_BOUNDS = 3,
  NOMOS_TRAP_INDIRECT_CALL_NULL = 4,
  NOMOS_TRAP_INDIRECT_CALL_TYPE = 5,
  NOMOS_TRAP_INTEGER_DIVIDE_BY_ZERO = 6,
  NOMOS_TRAP_INTEGER_OVERFLOW = 7,
  NOMOS_TRAP_INVALID_CONVERSION = 8,
  NOMOS_TRAP_STACK_EXHAUSTED = 9,
  NOMOS_TRAP_OUT_OF_GAS = 10,
  NOMOS_TRAP_MEMORY_LIMIT = 11,
  NOMOS_TRAP_STORAGE_LIMIT = 12,
  NOMOS_TRAP_HOST_ERROR = 13,
  NOMOS_TRAP_GUEST_ABORT = 14,
  NOMOS_TRAP_UNKNOWN_EXPORT = 15 /* child_call named no callable export */
};

/* The imports, as (name, wasm signature "params:results") pairs.
 * i = i32, I = i64. The host binds exactly these; a guest importing any
 * other "nomos" name fails to link with an error naming it. */
#define NOMOS_ABI_IMPORTS(X)                                                   \
  X(read, "iiii:i")                                                            \
  X(write, "iiii:")                                                            \
  X(remove, "ii:i")                                                            \
  X(child_new, "iiiiII:i")                                                     \
  X(child_set, "iiiii:i")                                                      \
  X(child_get, "iiiii:i")                                                      \
  X(child_remove, "iii:i")                                                     \
  X(child_call, "iii:i")                                                       \
  X(child_drop, "i:")                                                          \
  X(log, "ii:")                                                                \
  X(abort, "ii:")                                                              \
  X(gas_left, ":I")                                                            \
  X(upgrade, "ii:i")

/* The WASI functions (module "wasi_snapshot_preview1") the host answers for
 * guests built with the C/C++ standard library (wasi-libc, libc++), in the
 * same notation; each returns a WASI errno (0 = success) except proc_exit.
 * The answers are deterministic: fd_write to fds 1 and 2 appends to the
 * call's log, there are no files (no other fd, no preopened directory:
 * EBADF), clocks and randomness are refused with ENOSYS, and proc_exit traps
 * (NOMOS_TRAP_GUEST_ABORT). Any other WASI import fails to link. The host
 * side and the rules are in runtime/src/host_functions.cpp and
 * sdk/README.md ("The standard library"). Guests do not call these: libc
 * does. */
#define NOMOS_WASI_MODULE "wasi_snapshot_preview1"
#define NOMOS_WASI_IMPORTS(X)                                                  \
  X(args_get, "ii:i")                                                          \
  X(args_sizes_get, "ii:i")                                                    \
  X(environ_get, "ii:i")                                                       \
  X(environ_sizes_get, "ii:i")                                                 \
  X(clock_res_get, "ii:i")                                                     \
  X(clock_time_get, "iIi:i")                                                   \
  X(fd_close, "i:i")                                                           \
  X(fd_fdstat_get, "ii:i")                                                     \
  X(fd_fdstat_set_flags, "ii:i")                                               \
  X(fd_prestat_get, "ii:i")                                                    \
  X(fd_prestat_dir_name, "iii:i")                                              \
  X(fd_read, "iiii:i")                                                         \
  X(fd_seek, "iIii:i")                                                         \
  X(fd_write, "iiii:i")                                                        \
  X(fd_filestat_get, "ii:i")                                                   \
  X(fd_readdir, "iiiIi:i")                                                     \
  X(path_open, "iiiiiIIii:i")                                                  \
  X(path_filestat_get, "iiiii:i")                                              \
  X(path_create_directory, "iii:i")                                            \
  X(path_remove_directory, "iii:i")                                            \
  X(path_unlink_file, "iii:i")                                                 \
  X(poll_oneoff, "iiii:i")                                                     \
  X(proc_exit, "i:")                                                           \
  X(random_get, "ii:i")                                                        \
  X(sched_yield, ":i")

#if defined(__wasm__)
#define NOMOS_IMPORT(name)                                                     \
  __attribute__((import_module(NOMOS_IMPORT_MODULE), import_name(#name)))

#ifdef __cplusplus
extern "C" {
#endif
/* Value length, or NOMOS_ERR_NOT_FOUND; copies min(length, out_cap) bytes. */
NOMOS_IMPORT(read)
int32_t nomos_read(const void *key, uint32_t key_len, void *out,
                   uint32_t out_cap);
/* Sets a key; traps with NOMOS_TRAP_STORAGE_LIMIT past the storage limit. */
NOMOS_IMPORT(write)
void nomos_write(const void *key, uint32_t key_len, const void *value,
                 uint32_t value_len);
/* 1 if the key existed, 0 otherwise. */
NOMOS_IMPORT(remove) int32_t nomos_remove(const void *key, uint32_t key_len);
/* Opens a child running the code stored at code_key, whose store lives
 * under store_key inside this program's store. Returns a handle (>= 0) or a
 * nomos_status error. */
NOMOS_IMPORT(child_new)
int32_t nomos_child_new(const void *code_key, uint32_t code_key_len,
                        const void *store_key, uint32_t store_key_len,
                        int64_t gas, int64_t storage);
NOMOS_IMPORT(child_set)
int32_t nomos_child_set(int32_t child, const void *key, uint32_t key_len,
                        const void *value, uint32_t value_len);
NOMOS_IMPORT(child_get)
int32_t nomos_child_get(int32_t child, const void *key, uint32_t key_len,
                        void *out, uint32_t out_cap);
NOMOS_IMPORT(child_remove)
int32_t nomos_child_remove(int32_t child, const void *key, uint32_t key_len);
/* Calls an export taking and returning nothing; 0, a nomos_trap code, or a
 * negative nomos_status. A trapping child loses that call's writes. */
NOMOS_IMPORT(child_call)
int32_t nomos_child_call(int32_t child, const void *name, uint32_t name_len);
NOMOS_IMPORT(child_drop) void nomos_child_drop(int32_t child);
/* Appends a line to the call's log. */
NOMOS_IMPORT(log) void nomos_log(const void *msg, uint32_t msg_len);
/* Gas left to this call, after paying for this host call (see
 * docs/metering.md). */
NOMOS_IMPORT(gas_left) int64_t nomos_gas_left(void);
/* Replaces this program's code with the code stored at code_key (in its own
 * store) when the current call commits; the running call finishes on the old
 * code, and a trap rolls the upgrade back. NOMOS_OK, or NOMOS_ERR_NOT_FOUND
 * when the key is absent; code that fails to load (decode, validate,
 * compile, or imports outside this ABI) traps with NOMOS_TRAP_HOST_ERROR. */
NOMOS_IMPORT(upgrade)
int32_t nomos_upgrade(const void *code_key, uint32_t code_key_len);
/* Traps with NOMOS_TRAP_GUEST_ABORT and the message. */
NOMOS_IMPORT(abort)
__attribute__((noreturn)) void nomos_abort(const void *msg, uint32_t msg_len);
#ifdef __cplusplus
}
#endif
#endif /* __wasm__ */

#endif /* NOMOS_ABI_H */
