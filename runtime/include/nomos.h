/* Nomos's C API: engines, stores and VMs (calls, traps, gas, limits,
 * children's stores, upgrade, the disk cache and inspection), and instances
 * linked to host functions and to each other, for programs in
 * C or any language with a C FFI. The C++ API is <nomos/nomos.h>; this header
 * wraps it (runtime/src/c_api.cpp) and shares its behaviour and docs (the
 * README's "The C++ API").
 *
 * Conventions:
 * - Handles are opaque; every handle a function gives you has a free
 *   function, and NULL may be passed to every free function.
 * - A function that can fail returns a nomos_error_t* (NULL on success) that
 *   the caller frees with nomos_error_free; its out-parameters are written
 *   only on success. No C++ exception crosses this API.
 * - Bytes given to Nomos are (pointer, size) pairs read during the call;
 *   bytes Nomos gives back (nomos_bytes_t, char*) are the caller's, freed
 *   with nomos_bytes_free / nomos_string_free.
 * - Engines and stores are shared: a VM keeps the engine and store it was
 *   made with alive, so their handles may be freed at any time.
 * - A VM, like its store, is used from one thread at a time. */
#ifndef NOMOS_C_H
#define NOMOS_C_H

#include <nomos/version.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The same visibility macro as the C++ headers' (nomos/error.h). */
#ifndef NOMOS_API
#define NOMOS_API __attribute__((visibility("default")))
#endif

/* The library's version, e.g. "0.1.0" (NOMOS_VERSION is the headers'). */
NOMOS_API const char *nomos_version(void);

/* ---- errors ------------------------------------------------------------- */

/* Error kinds, as nomos::ErrorKind. Below 64 they are traps: a call that
 * started and did not return normally. */
typedef enum nomos_error_kind {
  NOMOS_ERROR_UNREACHABLE = 1,
  NOMOS_ERROR_MEMORY_OUT_OF_BOUNDS = 2,
  NOMOS_ERROR_TABLE_OUT_OF_BOUNDS = 3,
  NOMOS_ERROR_INDIRECT_CALL_NULL = 4,
  NOMOS_ERROR_INDIRECT_CALL_TYPE_MISMATCH = 5,
  NOMOS_ERROR_INTEGER_DIVIDE_BY_ZERO = 6,
  NOMOS_ERROR_INTEGER_OVERFLOW = 7,
  NOMOS_ERROR_INVALID_CONVERSION = 8,
  NOMOS_ERROR_STACK_EXHAUSTED = 9,
  NOMOS_ERROR_OUT_OF_GAS = 10,
  NOMOS_ERROR_MEMORY_LIMIT = 11,
  NOMOS_ERROR_STORAGE_LIMIT = 12,
  NOMOS_ERROR_HOST_ERROR = 13,
  NOMOS_ERROR_GUEST_ABORT = 14,
  NOMOS_ERROR_MALFORMED_MODULE = 64, /* not a well-formed wasm binary */
  NOMOS_ERROR_INVALID_MODULE,        /* well-formed, fails validation */
  NOMOS_ERROR_UNSUPPORTED,           /* valid wasm Nomos does not run */
  NOMOS_ERROR_LINK_ERROR,            /* an import Nomos cannot provide */
  NOMOS_ERROR_UNKNOWN_EXPORT,        /* no function export of that name */
  NOMOS_ERROR_BAD_ARGUMENTS,         /* wrong arguments (NULL handles too) */
  NOMOS_ERROR_COMPILE_ERROR,         /* LLVM failed to compile or link */
  NOMOS_ERROR_RESOURCE_ERROR,        /* the host ran out of something */
  NOMOS_ERROR_DECODE_ERROR,          /* bytes of the wrong shape */
  NOMOS_ERROR_IO_ERROR               /* files, LMDB */
} nomos_error_kind_t;

typedef struct nomos_error nomos_error_t;

NOMOS_API nomos_error_kind_t nomos_error_kind(const nomos_error_t *error);
/* Valid until the error is freed. */
NOMOS_API const char *nomos_error_message(const nomos_error_t *error);
NOMOS_API bool nomos_error_is_trap(const nomos_error_t *error);
/* A trap's wasm frames, innermost first: the function's index and its name
 * (from the name section, else "func[N]"; valid until the error is freed).
 * NULL past the end. */
NOMOS_API size_t nomos_error_backtrace_size(const nomos_error_t *error);
NOMOS_API const char *nomos_error_backtrace_frame(const nomos_error_t *error,
                                                    size_t index,
                                                    uint32_t *function_index);
NOMOS_API void nomos_error_free(nomos_error_t *error);
/* "out_of_gas", "invalid_module", ...: static strings. */
NOMOS_API const char *nomos_error_kind_name(nomos_error_kind_t kind);

/* ---- bytes -------------------------------------------------------------- */

/* Bytes Nomos hands to the caller: free with nomos_bytes_free. */
typedef struct nomos_bytes {
  uint8_t *data;
  size_t size;
} nomos_bytes_t;

/* Bytes the caller lends to Nomos (a key of a child's store path). */
typedef struct nomos_byte_view {
  const void *data;
  size_t size;
} nomos_byte_view_t;

/* Frees bytes->data and empties *bytes. */
NOMOS_API void nomos_bytes_free(nomos_bytes_t *bytes);
NOMOS_API void nomos_string_free(char *text);

/* bincode 1.x integers (fixed-width little-endian), as the guest SDK's
 * read_value/write_value. Decoding bytes of the wrong size is a
 * NOMOS_ERROR_DECODE_ERROR. */
NOMOS_API void nomos_encode_u64(uint64_t value, uint8_t out[8]);
NOMOS_API void nomos_encode_i64(int64_t value, uint8_t out[8]);
NOMOS_API void nomos_encode_u32(uint32_t value, uint8_t out[4]);
NOMOS_API void nomos_encode_i32(int32_t value, uint8_t out[4]);
NOMOS_API nomos_error_t *nomos_decode_u64(const void *data, size_t size,
                                            uint64_t *out);
NOMOS_API nomos_error_t *nomos_decode_i64(const void *data, size_t size,
                                            int64_t *out);
NOMOS_API nomos_error_t *nomos_decode_u32(const void *data, size_t size,
                                            uint32_t *out);
NOMOS_API nomos_error_t *nomos_decode_i32(const void *data, size_t size,
                                            int32_t *out);

/* ---- values ------------------------------------------------------------- */

typedef enum nomos_value_type {
  NOMOS_I32,
  NOMOS_I64,
  NOMOS_F32,
  NOMOS_F64,
  NOMOS_V128,
  NOMOS_FUNCREF,
  NOMOS_EXTERNREF
} nomos_value_type_t;

/* A wasm value, as nomos::Value: numbers keep their exact bits (i32 and f32
 * in the low 32 bits of `bits`, v128 in bits and hi); a null reference is 0. */
typedef struct nomos_value {
  nomos_value_type_t type;
  uint64_t bits;
  uint64_t hi;
} nomos_value_t;

static inline nomos_value_t nomos_value_i32(int32_t v) {
  nomos_value_t value = {NOMOS_I32, (uint32_t)v, 0};
  return value;
}
static inline nomos_value_t nomos_value_i64(int64_t v) {
  nomos_value_t value = {NOMOS_I64, (uint64_t)v, 0};
  return value;
}
static inline int32_t nomos_value_as_i32(nomos_value_t value) {
  return (int32_t)(uint32_t)value.bits;
}
static inline int64_t nomos_value_as_i64(nomos_value_t value) {
  return (int64_t)value.bits;
}

/* The value as the CLI prints it ("42", "-0.5", "nan:0x200000"): free it
 * with nomos_string_free. */
NOMOS_API char *nomos_value_to_string(nomos_value_t value);
/* Parses text as a value of `type` ("42", "0x2a", "1.5", "inf", "nan",
 * "nan:0x<payload>"); BAD_ARGUMENTS when it does not parse. */
NOMOS_API nomos_error_t *nomos_value_parse(nomos_value_type_t type,
                                           const char *text,
                                           nomos_value_t *out);

/* ---- engines ------------------------------------------------------------ */

typedef enum nomos_stage {
  NOMOS_STAGE_WASM,     /* the input as wasm text */
  NOMOS_STAGE_METERED,  /* the wasm text after the gas pass */
  NOMOS_STAGE_LLVM,     /* LLVM IR before optimization */
  NOMOS_STAGE_LLVM_OPT, /* LLVM IR after optimization */
  NOMOS_STAGE_ASM       /* native assembly */
} nomos_stage_t;

typedef struct nomos_engine_options {
  unsigned opt_level;   /* LLVM's optimization level, 0..3 (2) */
  bool metering;        /* gas metering (true) */
  bool gas_in_register; /* metering's register optimization (true) */
  /* The disk cache's directory (docs/cache.md), or NULL (the default) for
   * none. Copied by nomos_engine_new. */
  const char *cache_dir;
  /* Gas costs as `key = value` lines (docs/metering.md), or NULL for the
   * defaults. Copied by nomos_engine_new. */
  const char *gas_schedule;
} nomos_engine_options_t;

typedef struct nomos_engine_stats {
  uint64_t compiles;      /* modules compiled (Binaryen and LLVM ran) */
  uint64_t memory_hits;   /* loads answered by the memory cache */
  uint64_t disk_hits;     /* loads answered by the disk cache */
  uint64_t disk_misses;   /* no entry on disk: compiled, then written */
  uint64_t disk_rejected; /* corrupt or stale entries, rebuilt */
} nomos_engine_stats_t;

typedef struct nomos_engine nomos_engine_t;

/* The defaults, as nomos::EngineOptions{}. */
NOMOS_API void nomos_engine_options_init(nomos_engine_options_t *options);
/* options NULL: the defaults. A bad gas schedule is BAD_ARGUMENTS. */
NOMOS_API nomos_error_t *
nomos_engine_new(const nomos_engine_options_t *options, nomos_engine_t **out);
NOMOS_API void nomos_engine_free(nomos_engine_t *engine);
/* Decodes, validates and compiles code into the engine's caches (memory,
 * and disk with a cache_dir), as a VM's creation would. */
NOMOS_API nomos_error_t *nomos_engine_load(nomos_engine_t *engine,
                                             const void *code, size_t size);
NOMOS_API void nomos_engine_stats(const nomos_engine_t *engine,
                                    nomos_engine_stats_t *out);
/* Distinct modules the engine has loaded. */
NOMOS_API size_t nomos_engine_compiled_modules(const nomos_engine_t *engine);
/* The code's text at a stage of the pipeline, compiled with the engine's
 * options; `function` (NULL: the whole module) names one wasm function.
 * *out is NUL-terminated: free it with nomos_string_free. */
NOMOS_API nomos_error_t *nomos_engine_inspect(const nomos_engine_t *engine,
                                                const void *code, size_t size,
                                                nomos_stage_t stage,
                                                const char *function,
                                                char **out);
/* $XDG_CACHE_HOME/nomos, else ~/.cache/nomos, or NULL: free it with
 * nomos_string_free. */
NOMOS_API char *nomos_default_cache_dir(void);

/* ---- stores ------------------------------------------------------------- */

typedef struct nomos_store nomos_store_t;

typedef struct nomos_lmdb_options {
  size_t map_size; /* the most the file may grow to (1 GiB) */
  bool sync;       /* fsync every commit (true) */
} nomos_lmdb_options_t;

/* Visits one entry; the bytes are valid during the call only. */
typedef void (*nomos_store_visit_t)(void *context, const uint8_t *key,
                                    size_t key_size, const uint8_t *value,
                                    size_t value_size);

NOMOS_API nomos_store_t *nomos_memory_store_new(void);
NOMOS_API void nomos_lmdb_options_init(nomos_lmdb_options_t *options);
/* A durable store in the LMDB file `path` (lock file `path-lock`); options
 * NULL: the defaults. */
NOMOS_API nomos_error_t *
nomos_lmdb_store_open(const char *path, const nomos_lmdb_options_t *options,
                      nomos_store_t **out);
NOMOS_API void nomos_store_free(nomos_store_t *store);
/* Raw stored keys (a VM's own keys are namespaced: README, "The C++ API").
 * *found tells whether the key is there; *out is set only when it is. */
NOMOS_API nomos_error_t *nomos_store_get(const nomos_store_t *store,
                                           const void *key, size_t key_size,
                                           nomos_bytes_t *out, bool *found);
NOMOS_API nomos_error_t *nomos_store_set(nomos_store_t *store,
                                           const void *key, size_t key_size,
                                           const void *value,
                                           size_t value_size);
/* One write of a batch: set key to value, or remove key. */
typedef struct nomos_store_write {
  const void *key;
  size_t key_size;
  const void *value;
  size_t value_size;
  bool remove;
} nomos_store_write_t;

/* Applies the writes in order, atomically where the backend can (LMDB: one
 * transaction). On an error (STORAGE_LIMIT, IO_ERROR) nothing was written. */
NOMOS_API nomos_error_t *nomos_store_apply(nomos_store_t *store,
                                           const nomos_store_write_t *writes,
                                           size_t count);
/* existed may be NULL. */
NOMOS_API nomos_error_t *nomos_store_remove(nomos_store_t *store,
                                              const void *key, size_t key_size,
                                              bool *existed);
NOMOS_API uint64_t nomos_store_bytes_used(const nomos_store_t *store);
NOMOS_API bool nomos_store_durable(const nomos_store_t *store);
/* Every entry in key order; BAD_ARGUMENTS for a store that cannot list. */
NOMOS_API nomos_error_t *nomos_store_for_each(const nomos_store_t *store,
                                                nomos_store_visit_t visit,
                                                void *context);

/* ---- VMs ---------------------------------------------------------------- */

/* As nomos::Limits (README, "The C++ API"). */
typedef struct nomos_limits {
  uint32_t memory_pages;  /* 64 KiB pages of linear memory */
  uint32_t call_depth;    /* wasm frames at once, children included */
  uint32_t child_depth;   /* children inside children */
  uint32_t open_children; /* child handles open at once in one call */
  uint64_t gas;           /* default gas limit of a call */
  uint64_t storage_bytes; /* keys + values in the store, children's too */
} nomos_limits_t;

typedef struct nomos_vm_options {
  nomos_engine_t *engine; /* NULL: a new engine with the defaults */
  nomos_store_t *store;   /* NULL: a new memory store */
  nomos_limits_t limits;
} nomos_vm_options_t;

typedef struct nomos_gas_report {
  uint64_t limit;
  uint64_t used;
  uint64_t left;
} nomos_gas_report_t;

typedef struct nomos_vm nomos_vm_t;
typedef struct nomos_call_result nomos_call_result_t;
typedef struct nomos_exports nomos_exports_t;

NOMOS_API void nomos_limits_init(nomos_limits_t *limits);
/* No engine, no store, the default limits. */
NOMOS_API void nomos_vm_options_init(nomos_vm_options_t *options);

/* Loads code (compiling it, or finding it in the engine's caches); options
 * NULL: the defaults. Errors: MALFORMED_MODULE, INVALID_MODULE,
 * UNSUPPORTED, LINK_ERROR, COMPILE_ERROR. */
NOMOS_API nomos_error_t *nomos_vm_new(const void *code, size_t size,
                                        const nomos_vm_options_t *options,
                                        nomos_vm_t **out);
/* Reopens the VM kept in a durable store (its upgraded code and history);
 * options' engine and limits apply, its store is ignored. IO_ERROR when the
 * store holds no VM. */
NOMOS_API nomos_error_t *nomos_vm_open(nomos_store_t *store,
                                         const nomos_vm_options_t *options,
                                         nomos_vm_t **out);
NOMOS_API void nomos_vm_free(nomos_vm_t *vm);

/* Runs an export on a fresh instance, in a transaction: its writes commit
 * when it returns and are discarded when it traps (the error's kind is then
 * a trap kind, nomos_error_is_trap). out may be NULL; otherwise free *out
 * with nomos_call_result_free. */
NOMOS_API nomos_error_t *nomos_vm_call(nomos_vm_t *vm, const char *name,
                                         const nomos_value_t *args,
                                         size_t arg_count,
                                         nomos_call_result_t **out);
/* The same with this call's gas limit. */
NOMOS_API nomos_error_t *
nomos_vm_call_with_gas(nomos_vm_t *vm, const char *name,
                       const nomos_value_t *args, size_t arg_count,
                       uint64_t gas_limit, nomos_call_result_t **out);
/* Gas of the last call, whether it returned or trapped. */
NOMOS_API void nomos_vm_last_call_gas(const nomos_vm_t *vm,
                                        nomos_gas_report_t *out);

NOMOS_API size_t nomos_call_result_count(const nomos_call_result_t *result);
/* The index-th result (a zero i32 past the end). */
NOMOS_API nomos_value_t nomos_call_result_value(
    const nomos_call_result_t *result, size_t index);
/* Lines the guest logged; NULL past the end; valid until the result is
 * freed. */
NOMOS_API size_t nomos_call_result_log_count(const nomos_call_result_t *result);
NOMOS_API const char *nomos_call_result_log(const nomos_call_result_t *result,
                                              size_t index);
NOMOS_API uint64_t nomos_call_result_gas_used(const nomos_call_result_t *result);
NOMOS_API uint64_t nomos_call_result_gas_left(const nomos_call_result_t *result);
NOMOS_API void nomos_call_result_free(nomos_call_result_t *result);

/* The VM's own keys. The host's writes commit at once. */
NOMOS_API nomos_error_t *nomos_vm_set(nomos_vm_t *vm, const void *key,
                                        size_t key_size, const void *value,
                                        size_t value_size);
/* *found tells whether the key is there; *out is set only when it is. */
NOMOS_API nomos_error_t *nomos_vm_get(const nomos_vm_t *vm, const void *key,
                                        size_t key_size, nomos_bytes_t *out,
                                        bool *found);
/* existed may be NULL. */
NOMOS_API nomos_error_t *nomos_vm_remove(nomos_vm_t *vm, const void *key,
                                           size_t key_size, bool *existed);
/* A key of a child's store: path lists store keys from the VM's program
 * down (one for a child, two for a grandchild). */
NOMOS_API nomos_error_t *nomos_vm_get_child(const nomos_vm_t *vm,
                                              const nomos_byte_view_t *path,
                                              size_t depth, const void *key,
                                              size_t key_size,
                                              nomos_bytes_t *out, bool *found);

/* Replaces the VM's code (its `migrate` export, if any, runs once in a
 * transaction of its own; a trap there is returned and nothing changes). On
 * an error the code is unchanged. */
NOMOS_API nomos_error_t *nomos_vm_upgrade(nomos_vm_t *vm, const void *code,
                                            size_t size);
/* BLAKE3 of every code version the VM has had, oldest first. false past the
 * end. */
NOMOS_API size_t nomos_vm_code_history_size(const nomos_vm_t *vm);
NOMOS_API bool nomos_vm_code_history_at(const nomos_vm_t *vm, size_t index,
                                          uint8_t out[32]);

/* A new handle on the VM's store (free it with nomos_store_free). */
NOMOS_API nomos_store_t *nomos_vm_store(nomos_vm_t *vm);
NOMOS_API void nomos_vm_limits(const nomos_vm_t *vm, nomos_limits_t *out);

/* The current code's exported functions: free with nomos_exports_free.
 * Names and types are valid until then; NULL / 0 past the end (types may
 * be NULL when only the count is wanted). */
NOMOS_API nomos_exports_t *nomos_vm_exports(const nomos_vm_t *vm);
NOMOS_API size_t nomos_exports_count(const nomos_exports_t *exports);
NOMOS_API const char *nomos_exports_name(const nomos_exports_t *exports,
                                           size_t index);
NOMOS_API size_t nomos_exports_params(const nomos_exports_t *exports,
                                        size_t index,
                                        const nomos_value_type_t **types);
NOMOS_API size_t nomos_exports_results(const nomos_exports_t *exports,
                                         size_t index,
                                         const nomos_value_type_t **types);
NOMOS_API void nomos_exports_free(nomos_exports_t *exports);

/* ---- instances (the lower-level API) -------------------------------------- */

/* Instances live across calls and link to each other and to host-made
 * functions, globals, memories and tables through their imports (README,
 * "Instances"). */
typedef struct nomos_extern nomos_extern_t;
typedef struct nomos_instance nomos_instance_t;

typedef enum nomos_extern_kind {
  NOMOS_EXTERN_FUNCTION,
  NOMOS_EXTERN_TABLE,
  NOMOS_EXTERN_MEMORY,
  NOMOS_EXTERN_GLOBAL
} nomos_extern_kind_t;

/* A host function's body: reads arg_count arguments, writes result_count
 * results (its type's), and returns NULL, or an error (nomos_error_new)
 * that traps the calling guest: HOST_ERROR with the error's text, unless
 * its kind is a trap kind. Nomos frees the returned error. */
typedef nomos_error_t *(*nomos_host_callback_t)(void *context,
                                                const nomos_value_t *args,
                                                size_t arg_count,
                                                nomos_value_t *results,
                                                size_t result_count);

/* Finds the extern bound to an import (module, name; not NUL-terminated), or
 * returns NULL when there is none (a LINK_ERROR names it). The extern stays
 * the caller's: Nomos takes its own reference. */
typedef const nomos_extern_t *(*nomos_import_resolver_t)(
    void *context, const char *module, size_t module_size, const char *name,
    size_t name_size);

/* An error for a host callback to return. */
NOMOS_API nomos_error_t *nomos_error_new(nomos_error_kind_t kind,
                                         const char *message);

/* A host function of type params -> results. `finalize` (may be NULL) is
 * called with `context` once no instance or handle uses the function. */
NOMOS_API nomos_extern_t *
nomos_extern_function(const nomos_value_type_t *params, size_t param_count,
                      const nomos_value_type_t *results, size_t result_count,
                      nomos_host_callback_t callback, void *context,
                      void (*finalize)(void *context));
NOMOS_API nomos_extern_t *nomos_extern_global(nomos_value_t initial,
                                              bool is_mutable);
/* maximum_pages NULL: no maximum. */
NOMOS_API nomos_error_t *nomos_extern_memory(uint32_t minimum_pages,
                                             const uint32_t *maximum_pages,
                                             nomos_extern_t **out);
/* element_type NOMOS_FUNCREF or NOMOS_EXTERNREF; maximum NULL: none. */
NOMOS_API nomos_error_t *nomos_extern_table(nomos_value_type_t element_type,
                                            uint32_t minimum,
                                            const uint32_t *maximum,
                                            nomos_extern_t **out);
NOMOS_API nomos_extern_kind_t nomos_extern_kind(const nomos_extern_t *ext);
/* A global's current value (an i32 0 for another kind). */
NOMOS_API nomos_value_t nomos_extern_global_value(const nomos_extern_t *ext);
/* Frees the handle; instances keep what they imported or exported alive. */
NOMOS_API void nomos_extern_free(nomos_extern_t *ext);

/* Loads code in the engine, binds its imports through `resolve` (NULL: the
 * module may import nothing) and instantiates it (segments, start
 * function). limits NULL: the defaults. Errors: the load errors, LINK_ERROR,
 * or a trap. */
NOMOS_API nomos_error_t *
nomos_instance_new(nomos_engine_t *engine, const void *code, size_t size,
                   nomos_import_resolver_t resolve, void *context,
                   const nomos_limits_t *limits, nomos_instance_t **out);
NOMOS_API void nomos_instance_free(nomos_instance_t *instance);
/* Calls an exported function (the instance keeps its state across calls).
 * out may be NULL; its values are the results (no logs; gas 0). */
NOMOS_API nomos_error_t *nomos_instance_call(nomos_instance_t *instance,
                                             const char *name,
                                             const nomos_value_t *args,
                                             size_t arg_count,
                                             nomos_call_result_t **out);
/* An exported function resolved once, for fast calls: a call through it
 * looks nothing up and allocates nothing when it returns. It shares the
 * instance's state, which lives until both the instance and every handle are
 * freed; not for concurrent calls. Free it with nomos_function_free.
 * Errors: UNKNOWN_EXPORT. */
typedef struct nomos_function nomos_function_t;
NOMOS_API nomos_error_t *nomos_instance_function(const nomos_instance_t *instance,
                                                 const char *name,
                                                 nomos_function_t **out);
/* Calls it with arg_count args (its parameters' number and types) and writes
 * its results to results[0..result_count) (result_count must be its number
 * of results). Errors: BAD_ARGUMENTS, or the trap. */
NOMOS_API nomos_error_t *nomos_function_call(nomos_function_t *function,
                                             const nomos_value_t *args,
                                             size_t arg_count,
                                             nomos_value_t *results,
                                             size_t result_count);
NOMOS_API void nomos_function_free(nomos_function_t *function);
/* An export (free it with nomos_extern_free), or NULL when there is none. */
NOMOS_API nomos_extern_t *nomos_instance_export(const nomos_instance_t *instance,
                                                const char *name);
/* Every export's name, in the module's order; NULL past the end. */
NOMOS_API size_t nomos_instance_export_count(const nomos_instance_t *instance);
NOMOS_API const char *
nomos_instance_export_name(const nomos_instance_t *instance, size_t index);

#ifdef __cplusplus
}
#endif

#endif /* NOMOS_C_H */
