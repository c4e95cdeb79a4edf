/* The C API (<nomos.h>), in C: the behaviour vm_test.cpp, gas_test.cpp and
 * state_test.cpp check through the C++ API (calls, traps, gas, children,
 * upgrade, a VM kept in LMDB), instances linked to host functions and to
 * each other, and the C API's own contract (errors as values, NULL
 * handles, ownership). A small harness: each test is a
 * function; `nomos_c_api_tests NAME` runs one (ctest runs each), no
 * argument runs all. A failed check prints file:line and fails the run. */
#include <nomos.h>
#include <nomos/abi.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int failures;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

#define CHECK_EQ(actual, expected)                                             \
  do {                                                                         \
    unsigned long long a_ = (unsigned long long)(actual);                      \
    unsigned long long e_ = (unsigned long long)(expected);                    \
    if (a_ != e_) {                                                            \
      fprintf(stderr, "%s:%d: %s is %llu, expected %s = %llu\n", __FILE__,    \
              __LINE__, #actual, a_, #expected, e_);                           \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

/* Fails the test (and returns from it) when expr returns an error. */
#define REQUIRE_OK(expr)                                                       \
  do {                                                                         \
    nomos_error_t *e_ = (expr);                                                \
    if (e_) {                                                                  \
      fprintf(stderr, "%s:%d: %s failed: %s: %s\n", __FILE__, __LINE__,       \
              #expr, nomos_error_kind_name(nomos_error_kind(e_)),              \
              nomos_error_message(e_));                                        \
      nomos_error_free(e_);                                                    \
      ++failures;                                                              \
      return;                                                                  \
    }                                                                          \
  } while (0)

#define REQUIRE(cond)                                                          \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: REQUIRE(%s) failed\n", __FILE__, __LINE__,      \
              #cond);                                                          \
      ++failures;                                                              \
      return;                                                                  \
    }                                                                          \
  } while (0)

/* Checks that `error` is an error of `kind` whose message contains `text`
 * (NULL: any), and frees it. */
static void check_error(nomos_error_t *error, nomos_error_kind_t kind,
                        const char *text, int line) {
  if (!error) {
    fprintf(stderr, "%s:%d: expected a %s error, got success\n", __FILE__,
            line, nomos_error_kind_name(kind));
    ++failures;
    return;
  }
  if (nomos_error_kind(error) != kind ||
      (text && !strstr(nomos_error_message(error), text))) {
    fprintf(stderr, "%s:%d: expected %s (\"%s\"), got %s: %s\n", __FILE__,
            line, nomos_error_kind_name(kind), text ? text : "",
            nomos_error_kind_name(nomos_error_kind(error)),
            nomos_error_message(error));
    ++failures;
  }
  nomos_error_free(error);
}
#define CHECK_ERROR(expr, kind, text) check_error((expr), (kind), (text), __LINE__)

/* ---- helpers ------------------------------------------------------------- */

typedef struct {
  uint8_t *data;
  size_t size;
} file_t;

static file_t read_file(const char *path) {
  file_t file = {NULL, 0};
  FILE *in = fopen(path, "rb");
  if (!in) {
    fprintf(stderr, "cannot open %s\n", path);
    ++failures;
    return file;
  }
  fseek(in, 0, SEEK_END);
  long size = ftell(in);
  rewind(in);
  file.data = malloc(size > 0 ? (size_t)size : 1);
  file.size = fread(file.data, 1, (size_t)size, in);
  fclose(in);
  return file;
}

static file_t wat_module(const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s.wasm", WAT_DIR, name);
  return read_file(path);
}

/* A VM for code that must load, or NULL (a failure). */
static nomos_vm_t *load_vm(file_t code, const nomos_vm_options_t *options) {
  nomos_vm_t *vm = NULL;
  nomos_error_t *error = nomos_vm_new(code.data, code.size, options, &vm);
  if (error) {
    fprintf(stderr, "module failed to load: %s\n", nomos_error_message(error));
    nomos_error_free(error);
    ++failures;
  }
  free(code.data);
  return vm;
}

static void set_u64(nomos_vm_t *vm, const char *key, uint64_t value) {
  uint8_t bytes[8];
  nomos_encode_u64(value, bytes);
  nomos_error_t *error = nomos_vm_set(vm, key, strlen(key), bytes, 8);
  CHECK(error == NULL);
  nomos_error_free(error);
}

static void set_file(nomos_vm_t *vm, const char *key, file_t file) {
  nomos_error_t *error = nomos_vm_set(vm, key, strlen(key), file.data, file.size);
  CHECK(error == NULL);
  nomos_error_free(error);
  free(file.data);
}

/* A u64 key's value; UINT64_MAX when absent or malformed (a failure). */
static uint64_t get_u64(const nomos_vm_t *vm, const char *key) {
  nomos_bytes_t bytes;
  bool found = false;
  uint64_t value = UINT64_MAX;
  nomos_error_t *error = nomos_vm_get(vm, key, strlen(key), &bytes, &found);
  CHECK(error == NULL && found);
  nomos_error_free(error);
  if (error || !found)
    return value;
  error = nomos_decode_u64(bytes.data, bytes.size, &value);
  CHECK(error == NULL);
  nomos_error_free(error);
  nomos_bytes_free(&bytes);
  return value;
}

/* Whether `key` holds exactly `expected` (NULL: is absent). */
static bool has_value(const nomos_vm_t *vm, const char *key,
                      const char *expected) {
  nomos_bytes_t bytes;
  bool found = false;
  nomos_error_t *error = nomos_vm_get(vm, key, strlen(key), &bytes, &found);
  CHECK(error == NULL);
  nomos_error_free(error);
  if (!found)
    return expected == NULL;
  bool same = expected && bytes.size == strlen(expected) &&
              memcmp(bytes.data, expected, bytes.size) == 0;
  nomos_bytes_free(&bytes);
  return same;
}

/* The i32 an export returns; INT32_MIN when it fails (a failure). */
static int32_t call_i32(nomos_vm_t *vm, const char *name,
                        const nomos_value_t *args, size_t arg_count,
                        uint64_t gas) {
  nomos_call_result_t *result = NULL;
  nomos_error_t *error =
      nomos_vm_call_with_gas(vm, name, args, arg_count, gas, &result);
  if (error) {
    fprintf(stderr, "call %s failed: %s\n", name, nomos_error_message(error));
    nomos_error_free(error);
    ++failures;
    return INT32_MIN;
  }
  CHECK_EQ(nomos_call_result_count(result), 1);
  int32_t value = nomos_value_as_i32(nomos_call_result_value(result, 0));
  nomos_call_result_free(result);
  return value;
}

static int32_t version(nomos_vm_t *vm) {
  return call_i32(vm, "version", NULL, 0, 1000000);
}

static uint64_t last_gas_used(const nomos_vm_t *vm) {
  nomos_gas_report_t gas;
  nomos_vm_last_call_gas(vm, &gas);
  return gas.used;
}

typedef struct {
  size_t entries;
  uint64_t bytes;
} tally_t;

static void tally(void *context, const uint8_t *key, size_t key_size,
                  const uint8_t *value, size_t value_size) {
  tally_t *t = context;
  (void)key;
  (void)value;
  ++t->entries;
  t->bytes += key_size + value_size;
}

/* ---- calls ----------------------------------------------------------------- */

static void seed_example(void) {
  nomos_vm_t *vm = load_vm(read_file(COUNTER_WASM), NULL);
  REQUIRE(vm);
  set_u64(vm, "count", 10);
  REQUIRE_OK(nomos_vm_call(vm, "increment", NULL, 0, NULL));
  REQUIRE_OK(nomos_vm_call(vm, "increment", NULL, 0, NULL));
  CHECK_EQ(get_u64(vm, "count"), 12);

  set_file(vm, "doubler", read_file(DOUBLER_WASM));
  nomos_call_result_t *result = NULL;
  REQUIRE_OK(nomos_vm_call(vm, "exec_other", NULL, 0, &result));
  CHECK_EQ(get_u64(vm, "count"), 24);
  CHECK_EQ(nomos_call_result_count(result), 0);
  /* child_new alone costs 10,000 + the code's bytes. */
  CHECK(nomos_call_result_gas_used(result) > 10000);
  nomos_call_result_free(result);
  nomos_vm_free(vm);
}

static void calls_take_arguments_and_return_results(void) {
  nomos_vm_t *vm = load_vm(wat_module("gas"), NULL);
  REQUIRE(vm);
  for (int n = 0; n <= 100; n += 10) {
    nomos_value_t arg = nomos_value_i32(n);
    CHECK_EQ(call_i32(vm, "loop", &arg, 1, 1000000), n * (n + 1) / 2);
  }
  /* Wrong arguments and unknown exports are errors, not traps. */
  nomos_error_t *error = nomos_vm_call(vm, "loop", NULL, 0, NULL);
  REQUIRE(error);
  CHECK(!nomos_error_is_trap(error));
  CHECK_ERROR(error, NOMOS_ERROR_BAD_ARGUMENTS, NULL);
  nomos_value_t wrong = nomos_value_i64(1);
  CHECK_ERROR(nomos_vm_call(vm, "loop", &wrong, 1, NULL),
              NOMOS_ERROR_BAD_ARGUMENTS, NULL);
  CHECK_ERROR(nomos_vm_call(vm, "nope", NULL, 0, NULL),
              NOMOS_ERROR_UNKNOWN_EXPORT, "straight");
  nomos_vm_free(vm);
}

static void logs_come_back_with_the_result(void) {
  nomos_vm_t *vm = load_vm(read_file(ROUNDTRIP_WASM), NULL);
  REQUIRE(vm);
  nomos_call_result_t *result = NULL;
  REQUIRE_OK(nomos_vm_call(vm, "log_hello", NULL, 0, &result));
  CHECK_EQ(nomos_call_result_log_count(result), 1);
  CHECK(strcmp(nomos_call_result_log(result, 0), "hello") == 0);
  CHECK(nomos_call_result_log(result, 1) == NULL);
  nomos_call_result_free(result);
  nomos_vm_free(vm);
}

static void exports_are_listed_with_their_types(void) {
  nomos_vm_t *vm = load_vm(wat_module("gas"), NULL);
  REQUIRE(vm);
  nomos_exports_t *exports = nomos_vm_exports(vm);
  REQUIRE(exports);
  bool seen = false;
  for (size_t i = 0; i < nomos_exports_count(exports); ++i) {
    if (strcmp(nomos_exports_name(exports, i), "loop") != 0)
      continue;
    seen = true;
    const nomos_value_type_t *types = NULL;
    CHECK_EQ(nomos_exports_params(exports, i, &types), 1);
    CHECK(types && types[0] == NOMOS_I32);
    CHECK_EQ(nomos_exports_results(exports, i, &types), 1);
    CHECK(types && types[0] == NOMOS_I32);
  }
  CHECK(seen);
  CHECK(nomos_exports_name(exports, nomos_exports_count(exports)) == NULL);
  nomos_exports_free(exports);
  nomos_vm_free(vm);
}

static void bad_modules_are_errors(void) {
  const uint8_t bad_version[] = {0, 'a', 's', 'm', 2, 0, 0, 0};
  nomos_vm_t *vm = NULL;
  CHECK_ERROR(nomos_vm_new(bad_version, sizeof bad_version, NULL, &vm),
              NOMOS_ERROR_MALFORMED_MODULE, NULL);
  CHECK(vm == NULL);
  file_t link_error = wat_module("link_error");
  CHECK_ERROR(nomos_vm_new(link_error.data, link_error.size, NULL, &vm),
              NOMOS_ERROR_LINK_ERROR, NULL);
  free(link_error.data);
  CHECK(vm == NULL);
}

/* ---- traps ----------------------------------------------------------------- */

static void traps_have_a_kind_and_a_message_and_the_vm_goes_on(void) {
  nomos_vm_t *vm = load_vm(read_file(ROUNDTRIP_WASM), NULL);
  REQUIRE(vm);
  for (int i = 0; i < 2; ++i) {
    nomos_error_t *error = nomos_vm_call(vm, "oob_store", NULL, 0, NULL);
    REQUIRE(error);
    CHECK(nomos_error_is_trap(error));
    CHECK(strlen(nomos_error_message(error)) > 0);
    /* Frames past the end are NULL. */
    CHECK(nomos_error_backtrace_frame(error, nomos_error_backtrace_size(error),
                                      NULL) == NULL);
    CHECK_ERROR(error, NOMOS_ERROR_MEMORY_OUT_OF_BOUNDS, NULL);
  }
  REQUIRE_OK(nomos_vm_call(vm, "log_hello", NULL, 0, NULL));
  CHECK(strcmp(nomos_error_kind_name(NOMOS_ERROR_OUT_OF_GAS), "out_of_gas") == 0);
  nomos_vm_free(vm);
}

static void a_trapped_call_writes_nothing(void) {
  nomos_vm_t *vm = load_vm(read_file(COUNTER_WASM), NULL);
  REQUIRE(vm);
  set_u64(vm, "count", 1);
  /* No code at "doubler": the counter aborts, and its write is dropped. */
  CHECK_ERROR(nomos_vm_call(vm, "exec_other", NULL, 0, NULL),
              NOMOS_ERROR_GUEST_ABORT, "not_found");
  CHECK_EQ(get_u64(vm, "count"), 1);
  nomos_vm_free(vm);
}

static void division_by_zero_traps(void) {
  nomos_vm_t *vm = load_vm(wat_module("gas"), NULL);
  REQUIRE(vm);
  nomos_value_t zero = nomos_value_i32(0);
  CHECK_ERROR(nomos_vm_call_with_gas(vm, "trap_mid", &zero, 1, 1000, NULL),
              NOMOS_ERROR_INTEGER_DIVIDE_BY_ZERO, NULL);
  CHECK_EQ(last_gas_used(vm), 6);
  nomos_vm_free(vm);
}

/* ---- gas ------------------------------------------------------------------- */

static void gas_used_and_left(void) {
  nomos_vm_t *vm = load_vm(wat_module("gas"), NULL);
  REQUIRE(vm);
  nomos_call_result_t *result = NULL;
  REQUIRE_OK(nomos_vm_call_with_gas(vm, "straight", NULL, 0, 1000, &result));
  CHECK_EQ(nomos_value_as_i32(nomos_call_result_value(result, 0)), 43);
  CHECK_EQ(nomos_call_result_gas_used(result), 5);
  CHECK_EQ(nomos_call_result_gas_left(result), 995);
  nomos_call_result_free(result);
  for (int n = 0; n <= 1000; n += 250) {
    nomos_value_t arg = nomos_value_i32(n);
    REQUIRE_OK(nomos_vm_call_with_gas(vm, "loop", &arg, 1, 1000000, &result));
    CHECK_EQ(nomos_call_result_gas_used(result), 12 * n + 4);
    nomos_call_result_free(result);
  }
  /* Without a limit: the VM's (Limits::gas). */
  REQUIRE_OK(nomos_vm_call(vm, "straight", NULL, 0, &result));
  nomos_limits_t limits;
  nomos_vm_limits(vm, &limits);
  CHECK_EQ(nomos_call_result_gas_left(result), limits.gas - 5);
  nomos_call_result_free(result);
  nomos_vm_free(vm);
}

static void out_of_gas_traps_and_reports_all_gas_used(void) {
  nomos_vm_t *vm = load_vm(wat_module("gas"), NULL);
  REQUIRE(vm);
  /* straight costs 5: 4 is not enough. */
  CHECK_ERROR(nomos_vm_call_with_gas(vm, "straight", NULL, 0, 4, NULL),
              NOMOS_ERROR_OUT_OF_GAS, NULL);
  nomos_gas_report_t gas;
  nomos_vm_last_call_gas(vm, &gas);
  CHECK_EQ(gas.limit, 4);
  CHECK_EQ(gas.used, 4);
  CHECK_EQ(gas.left, 0);
  CHECK_ERROR(nomos_vm_call_with_gas(vm, "spin", NULL, 0, 1000000, NULL),
              NOMOS_ERROR_OUT_OF_GAS, NULL);
  CHECK_EQ(last_gas_used(vm), 1000000);
  CHECK_EQ(call_i32(vm, "straight", NULL, 0, 5), 43);
  nomos_vm_free(vm);
}

static void limits_apply_to_calls(void) {
  nomos_vm_options_t options;
  nomos_vm_options_init(&options);
  options.limits.gas = 1000;
  options.limits.call_depth = 100;
  nomos_vm_t *vm = load_vm(wat_module("gas"), &options);
  REQUIRE(vm);
  CHECK_ERROR(nomos_vm_call(vm, "spin", NULL, 0, NULL), NOMOS_ERROR_OUT_OF_GAS,
              NULL);
  CHECK_EQ(last_gas_used(vm), 1000);
  /* 100 frames, each paying its call (5). */
  CHECK_ERROR(nomos_vm_call_with_gas(vm, "recurse", NULL, 0, 1000000, NULL),
              NOMOS_ERROR_STACK_EXHAUSTED, NULL);
  CHECK_EQ(last_gas_used(vm), 5 * 100);
  nomos_limits_t limits;
  nomos_vm_limits(vm, &limits);
  CHECK_EQ(limits.call_depth, 100);
  nomos_vm_free(vm);
}

static void engine_without_metering_uses_no_gas(void) {
  nomos_engine_options_t options;
  nomos_engine_options_init(&options);
  CHECK_EQ(options.opt_level, 2);
  CHECK(options.metering);
  options.metering = false;
  nomos_engine_t *engine = NULL;
  REQUIRE_OK(nomos_engine_new(&options, &engine));
  nomos_vm_options_t vm_options;
  nomos_vm_options_init(&vm_options);
  vm_options.engine = engine;
  nomos_vm_t *vm = load_vm(wat_module("gas"), &vm_options);
  nomos_engine_free(engine); /* the VM keeps the engine alive */
  REQUIRE(vm);
  nomos_call_result_t *result = NULL;
  nomos_value_t arg = nomos_value_i32(10);
  REQUIRE_OK(nomos_vm_call_with_gas(vm, "loop", &arg, 1, 10, &result));
  CHECK_EQ(nomos_call_result_gas_used(result), 0);
  nomos_call_result_free(result);
  nomos_vm_free(vm);
}

static void gas_schedule_text_changes_costs(void) {
  nomos_engine_options_t options;
  nomos_engine_options_init(&options);
  options.gas_schedule = "simple = 2\n";
  nomos_engine_t *engine = NULL;
  REQUIRE_OK(nomos_engine_new(&options, &engine));
  nomos_vm_options_t vm_options;
  nomos_vm_options_init(&vm_options);
  vm_options.engine = engine;
  nomos_vm_t *vm = load_vm(wat_module("gas"), &vm_options);
  REQUIRE(vm);
  CHECK_EQ(call_i32(vm, "straight", NULL, 0, 1000), 43);
  CHECK(last_gas_used(vm) > 5);
  nomos_vm_free(vm);
  nomos_engine_free(engine);
  options.gas_schedule = "no_such_cost = 1\n";
  engine = NULL;
  CHECK_ERROR(nomos_engine_new(&options, &engine), NOMOS_ERROR_BAD_ARGUMENTS,
              "no_such_cost");
  CHECK(engine == NULL);
}

/* ---- children ---------------------------------------------------------------- */

static void child_store_lives_inside_the_parents(void) {
  nomos_store_t *store = nomos_memory_store_new();
  nomos_vm_options_t options;
  nomos_vm_options_init(&options);
  options.store = store;
  nomos_vm_t *vm = load_vm(read_file(COUNTER_WASM), &options);
  REQUIRE(vm);
  set_u64(vm, "count", 5);
  set_file(vm, "doubler", read_file(DOUBLER_WASM));
  REQUIRE_OK(nomos_vm_call(vm, "exec_other", NULL, 0, NULL));
  CHECK_EQ(get_u64(vm, "count"), 10);
  nomos_byte_view_t path[] = {{"doubler", 7}};
  nomos_bytes_t value;
  bool found = false;
  REQUIRE_OK(nomos_vm_get_child(vm, path, 1, "count", 5, &value, &found));
  REQUIRE(found);
  uint64_t count = 0;
  REQUIRE_OK(nomos_decode_u64(value.data, value.size, &count));
  CHECK_EQ(count, 10);
  nomos_bytes_free(&value);
  CHECK(value.data == NULL);
  REQUIRE_OK(nomos_vm_get_child(vm, path, 1, "doubler", 7, &value, &found));
  CHECK(!found);
  /* The parent's count and doubler, and the child's own count. */
  tally_t t = {0, 0};
  REQUIRE_OK(nomos_store_for_each(store, tally, &t));
  CHECK_EQ(t.entries, 3);
  nomos_store_free(store);
  nomos_vm_free(vm);
}

static void a_trapping_child_loses_only_its_own_writes(void) {
  nomos_vm_t *vm = load_vm(wat_module("child_parent"), NULL);
  REQUIRE(vm);
  set_file(vm, "c", wat_module("child_trap"));
  CHECK_EQ(call_i32(vm, "go", NULL, 0, 1000000),
           NOMOS_TRAP_UNREACHABLE * 1000 - 1);
  CHECK(has_value(vm, "a", "a"));
  CHECK(has_value(vm, "b", "b"));
  CHECK(has_value(vm, "k", NULL));
  nomos_vm_free(vm);
}

static void child_gas_is_charged_to_its_parent(void) {
  nomos_vm_t *vm = load_vm(wat_module("gas_parent"), NULL);
  REQUIRE(vm);
  set_file(vm, "spin", wat_module("gas_spin"));
  nomos_value_t small = nomos_value_i64(1000), large = nomos_value_i64(2000);
  CHECK_EQ(call_i32(vm, "run", &small, 1, 1000000), NOMOS_TRAP_OUT_OF_GAS);
  uint64_t small_used = last_gas_used(vm);
  CHECK_EQ(call_i32(vm, "run", &large, 1, 1000000), NOMOS_TRAP_OUT_OF_GAS);
  CHECK_EQ(last_gas_used(vm) - small_used, 1000);
  nomos_vm_free(vm);
}

/* ---- upgrade ----------------------------------------------------------------- */

static void guest_upgrade_takes_effect_when_the_call_commits(void) {
  nomos_vm_t *vm = load_vm(read_file(STATEFUL_WASM), NULL);
  REQUIRE(vm);
  set_file(vm, "next", read_file(STATEFUL_V2_WASM));
  REQUIRE_OK(nomos_vm_set(vm, "x", 1, "kept", 4));
  CHECK_EQ(version(vm), 1);
  /* Rolled back when the call traps. */
  CHECK_ERROR(nomos_vm_call(vm, "do_upgrade_then_trap", NULL, 0, NULL),
              NOMOS_ERROR_GUEST_ABORT, NULL);
  CHECK_EQ(version(vm), 1);
  CHECK_EQ(nomos_vm_code_history_size(vm), 1);
  REQUIRE_OK(nomos_vm_call(vm, "do_upgrade", NULL, 0, NULL));
  CHECK_EQ(version(vm), 2);
  CHECK(has_value(vm, "x", "kept"));
  REQUIRE(nomos_vm_code_history_size(vm) == 2);
  uint8_t first[32], second[32];
  CHECK(nomos_vm_code_history_at(vm, 0, first));
  CHECK(nomos_vm_code_history_at(vm, 1, second));
  CHECK(memcmp(first, second, 32) != 0);
  CHECK(!nomos_vm_code_history_at(vm, 2, second));
  nomos_vm_free(vm);
}

static void host_upgrade_runs_migrate_or_changes_nothing(void) {
  nomos_vm_t *vm = load_vm(read_file(STATEFUL_WASM), NULL);
  REQUIRE(vm);
  const char bad[] = "bad";
  CHECK_ERROR(nomos_vm_upgrade(vm, bad, 3), NOMOS_ERROR_MALFORMED_MODULE, NULL);
  file_t trap = wat_module("migrate_trap");
  CHECK_ERROR(nomos_vm_upgrade(vm, trap.data, trap.size),
              NOMOS_ERROR_UNREACHABLE, NULL);
  free(trap.data);
  CHECK(has_value(vm, "migrated", NULL));
  CHECK_EQ(version(vm), 1);
  CHECK_EQ(nomos_vm_code_history_size(vm), 1);
  file_t v3 = wat_module("migrate_v3");
  REQUIRE_OK(nomos_vm_upgrade(vm, v3.data, v3.size));
  free(v3.data);
  CHECK(has_value(vm, "migrated", "m"));
  CHECK_EQ(version(vm), 3);
  CHECK_EQ(nomos_vm_code_history_size(vm), 2);
  nomos_vm_free(vm);
}

static void child_upgrades_itself(void) {
  file_t v1 = read_file(STATEFUL_WASM);
  nomos_vm_t *vm = NULL;
  REQUIRE_OK(nomos_vm_new(v1.data, v1.size, NULL, &vm));
  REQUIRE_OK(nomos_vm_set(vm, "child_code", 10, v1.data, v1.size));
  set_file(vm, "next", read_file(STATEFUL_V2_WASM));
  REQUIRE_OK(nomos_vm_call(vm, "child_upgrade", NULL, 0, NULL));
  nomos_bytes_t child_v;
  bool found = false;
  REQUIRE_OK(nomos_vm_get(vm, "child_v", 7, &child_v, &found));
  REQUIRE(found);
  uint32_t child_version = 0;
  REQUIRE_OK(nomos_decode_u32(child_v.data, child_v.size, &child_version));
  nomos_bytes_free(&child_v);
  CHECK_EQ(child_version, 2);
  CHECK_EQ(version(vm), 1); /* the parent's code is unchanged */
  free(v1.data);
  nomos_vm_free(vm);
}

/* ---- stores ------------------------------------------------------------------ */

static void store_api_and_entry_limits(void) {
  nomos_store_t *store = nomos_memory_store_new();
  REQUIRE(store);
  CHECK(!nomos_store_durable(store));
  REQUIRE_OK(nomos_store_set(store, "k1", 2, "one", 3));
  REQUIRE_OK(nomos_store_set(store, "k2", 2, "two!", 4));
  CHECK_EQ(nomos_store_bytes_used(store), 2 + 3 + 2 + 4);
  tally_t t = {0, 0};
  REQUIRE_OK(nomos_store_for_each(store, tally, &t));
  CHECK_EQ(t.entries, 2);
  CHECK_EQ(t.bytes, 11);
  bool existed = false;
  REQUIRE_OK(nomos_store_remove(store, "k1", 2, &existed));
  CHECK(existed);
  REQUIRE_OK(nomos_store_remove(store, "k1", 2, &existed));
  CHECK(!existed);
  /* Past the 511-byte key limit: the C++ API throws, the C API returns. */
  char key[600];
  memset(key, 'k', sizeof key);
  CHECK_ERROR(nomos_store_set(store, key, sizeof key, "v", 1),
              NOMOS_ERROR_STORAGE_LIMIT, NULL);
  nomos_vm_t *vm = load_vm(read_file(COUNTER_WASM), NULL);
  REQUIRE(vm);
  CHECK_ERROR(nomos_vm_set(vm, key, sizeof key, "v", 1),
              NOMOS_ERROR_STORAGE_LIMIT, NULL);
  /* The VM's own store, shared: its keys are namespaced (0x00 key). */
  set_u64(vm, "count", 7);
  nomos_store_t *vm_store = nomos_vm_store(vm);
  nomos_vm_free(vm);
  nomos_bytes_t value;
  bool found = false;
  REQUIRE_OK(nomos_store_get(vm_store, "\0count", 6, &value, &found));
  CHECK(found && value.size == 8 && value.data[0] == 7);
  nomos_bytes_free(&value);
  nomos_store_free(vm_store);
  nomos_store_free(store);
}

static void null_handles_are_bad_arguments(void) {
  nomos_vm_t *vm = NULL;
  CHECK_ERROR(nomos_vm_new("x", 1, NULL, NULL), NOMOS_ERROR_BAD_ARGUMENTS,
              "out");
  CHECK_ERROR(nomos_vm_call(NULL, "f", NULL, 0, NULL),
              NOMOS_ERROR_BAD_ARGUMENTS, "vm");
  CHECK_ERROR(nomos_vm_open(NULL, NULL, &vm), NOMOS_ERROR_BAD_ARGUMENTS,
              "store");
  CHECK_ERROR(nomos_engine_load(NULL, "x", 1), NOMOS_ERROR_BAD_ARGUMENTS,
              "engine");
  uint64_t out = 0;
  CHECK_ERROR(nomos_decode_u64("abc", 3, &out), NOMOS_ERROR_DECODE_ERROR, "8");
  /* Free functions take NULL. */
  nomos_vm_free(NULL);
  nomos_error_free(NULL);
  nomos_bytes_free(NULL);
  nomos_store_free(NULL);
  nomos_engine_free(NULL);
  nomos_call_result_free(NULL);
  nomos_exports_free(NULL);
  nomos_string_free(NULL);
}

/* A VM kept in LMDB: reopened with its upgraded code and its state. */
static void lmdb_vm_reopens_upgraded(void) {
  char dir[] = "/tmp/nomos-c-api-XXXXXX";
  REQUIRE(mkdtemp(dir));
  char path[256], lock[300];
  snprintf(path, sizeof path, "%s/vm.mdb", dir);
  snprintf(lock, sizeof lock, "%s-lock", path);
  nomos_store_t *store = NULL;
  REQUIRE_OK(nomos_lmdb_store_open(path, NULL, &store));
  CHECK(nomos_store_durable(store));
  nomos_vm_t *vm = NULL;
  CHECK_ERROR(nomos_vm_open(store, NULL, &vm), NOMOS_ERROR_IO_ERROR, NULL);
  nomos_vm_options_t options;
  nomos_vm_options_init(&options);
  options.store = store;
  vm = load_vm(read_file(STATEFUL_WASM), &options);
  nomos_store_free(store);
  REQUIRE(vm);
  set_file(vm, "next", read_file(STATEFUL_V2_WASM));
  REQUIRE_OK(nomos_vm_set(vm, "x", 1, "kept", 4));
  REQUIRE_OK(nomos_vm_call(vm, "do_upgrade", NULL, 0, NULL));
  nomos_vm_free(vm); /* closes the store: the VM held the last handle */

  nomos_lmdb_options_t lmdb;
  nomos_lmdb_options_init(&lmdb);
  lmdb.sync = false;
  REQUIRE_OK(nomos_lmdb_store_open(path, &lmdb, &store));
  vm = NULL;
  REQUIRE_OK(nomos_vm_open(store, NULL, &vm));
  nomos_store_free(store);
  CHECK_EQ(version(vm), 2);
  CHECK(has_value(vm, "x", "kept"));
  CHECK_EQ(nomos_vm_code_history_size(vm), 2);
  nomos_vm_free(vm);
  unlink(path);
  unlink(lock);
  rmdir(dir);
}

/* ---- engines: cache and inspection --------------------------------------------- */

static void engine_caches_and_inspects(void) {
  nomos_engine_t *engine = NULL;
  REQUIRE_OK(nomos_engine_new(NULL, &engine));
  file_t code = wat_module("inspect");
  REQUIRE_OK(nomos_engine_load(engine, code.data, code.size));
  REQUIRE_OK(nomos_engine_load(engine, code.data, code.size));
  nomos_engine_stats_t stats;
  nomos_engine_stats(engine, &stats);
  CHECK_EQ(stats.compiles, 1);
  CHECK_EQ(stats.memory_hits, 1);
  CHECK_EQ(nomos_engine_compiled_modules(engine), 1);
  char *text = NULL;
  REQUIRE_OK(nomos_engine_inspect(engine, code.data, code.size,
                                  NOMOS_STAGE_LLVM_OPT, "square", &text));
  CHECK(strstr(text, "@w.square(") != NULL);
  CHECK(strstr(text, "sum_squares") == NULL);
  nomos_string_free(text);
  CHECK_ERROR(nomos_engine_inspect(engine, code.data, code.size,
                                   NOMOS_STAGE_ASM, "nope", &text),
              NOMOS_ERROR_BAD_ARGUMENTS, "nope");
  CHECK_ERROR(nomos_engine_load(engine, "bad", 3),
              NOMOS_ERROR_MALFORMED_MODULE, NULL);
  free(code.data);
  nomos_engine_free(engine);
}

static void disk_cache_serves_a_second_engine(void) {
  char dir[] = "/tmp/nomos-c-cache-XXXXXX";
  REQUIRE(mkdtemp(dir));
  nomos_engine_options_t options;
  nomos_engine_options_init(&options);
  options.cache_dir = dir;
  file_t code = wat_module("gas");
  nomos_engine_stats_t stats;
  for (int round = 0; round < 2; ++round) {
    nomos_engine_t *engine = NULL;
    REQUIRE_OK(nomos_engine_new(&options, &engine));
    REQUIRE_OK(nomos_engine_load(engine, code.data, code.size));
    nomos_engine_stats(engine, &stats);
    nomos_engine_free(engine);
    CHECK_EQ(stats.compiles, round == 0 ? 1 : 0);
    CHECK_EQ(stats.disk_hits, round == 0 ? 0 : 1);
  }
  free(code.data);
  char command[512];
  snprintf(command, sizeof command, "rm -rf '%s'", dir);
  CHECK(system(command) == 0);
}

static void store_batches_are_all_or_nothing(void) {
  nomos_store_t *store = nomos_memory_store_new();
  REQUIRE(store);
  REQUIRE_OK(nomos_store_set(store, "gone", 4, "x", 1));
  nomos_store_write_t writes[] = {
      {"a", 1, "1", 1, false}, {"gone", 4, NULL, 0, true}, {"b", 1, "2", 1, false}};
  REQUIRE_OK(nomos_store_apply(store, writes, 3));
  tally_t t = {0, 0};
  REQUIRE_OK(nomos_store_for_each(store, tally, &t));
  CHECK_EQ(t.entries, 2);
  /* One entry past the key limit: nothing of the batch is written. */
  char key[600];
  memset(key, 'k', sizeof key);
  nomos_store_write_t bad[] = {{"c", 1, "3", 1, false},
                               {key, sizeof key, "v", 1, false}};
  CHECK_ERROR(nomos_store_apply(store, bad, 2), NOMOS_ERROR_STORAGE_LIMIT, NULL);
  nomos_bytes_t value;
  bool found = true;
  REQUIRE_OK(nomos_store_get(store, "c", 1, &value, &found));
  CHECK(!found);
  nomos_store_free(store);
}

static void values_print_and_parse(void) {
  nomos_value_t value;
  REQUIRE_OK(nomos_value_parse(NOMOS_I32, "-7", &value));
  CHECK(value.type == NOMOS_I32);
  CHECK(nomos_value_as_i32(value) == -7);
  REQUIRE_OK(nomos_value_parse(NOMOS_F32, "nan:0x200000", &value));
  CHECK_EQ(value.bits, 0x7fa00000u);
  char *text = nomos_value_to_string(value);
  REQUIRE(text);
  CHECK(strcmp(text, "nan:0x200000") == 0);
  nomos_string_free(text);
  text = nomos_value_to_string(nomos_value_i64(-42));
  CHECK(text && strcmp(text, "-42") == 0);
  nomos_string_free(text);
  CHECK_ERROR(nomos_value_parse(NOMOS_I32, "forty", &value),
              NOMOS_ERROR_BAD_ARGUMENTS, NULL);
}

static void version_and_encoding(void) {
  CHECK(strcmp(nomos_version(), NOMOS_VERSION) == 0);
  uint8_t bytes[8];
  nomos_encode_i64(-2, bytes);
  CHECK(bytes[0] == 0xfe && bytes[7] == 0xff);
  int64_t back = 0;
  REQUIRE_OK(nomos_decode_i64(bytes, 8, &back));
  CHECK_EQ(back, -2);
  nomos_encode_u32(0x01020304u, bytes);
  CHECK(bytes[0] == 4 && bytes[3] == 1);
}

/* ---- instances and host functions ------------------------------------------------ */

typedef struct {
  int calls;
  int finalized;
} host_state_t;

static nomos_error_t *host_add(void *context, const nomos_value_t *args,
                               size_t arg_count, nomos_value_t *results,
                               size_t result_count) {
  host_state_t *state = context;
  ++state->calls;
  if (arg_count != 2 || result_count != 1)
    return nomos_error_new(NOMOS_ERROR_BAD_ARGUMENTS, "add: wrong arity");
  results[0] = nomos_value_i32(nomos_value_as_i32(args[0]) +
                               nomos_value_as_i32(args[1]));
  return NULL;
}

static nomos_error_t *host_fail(void *context, const nomos_value_t *args,
                                size_t arg_count, nomos_value_t *results,
                                size_t result_count) {
  (void)context, (void)args, (void)arg_count, (void)results, (void)result_count;
  return nomos_error_new(NOMOS_ERROR_IO_ERROR, "the disk is gone");
}

static void finalize_state(void *context) {
  ((host_state_t *)context)->finalized++;
}

typedef struct {
  const nomos_extern_t *add, *fail, *base, *first_bump;
} imports_t;

static bool is(const char *text, size_t size, const char *expected) {
  return size == strlen(expected) && memcmp(text, expected, size) == 0;
}

static const nomos_extern_t *resolve(void *context, const char *module,
                                     size_t module_size, const char *name,
                                     size_t name_size) {
  const imports_t *imports = context;
  if (is(module, module_size, "first") && is(name, name_size, "bump"))
    return imports->first_bump;
  if (!is(module, module_size, "env"))
    return NULL;
  if (is(name, name_size, "add"))
    return imports->add;
  if (is(name, name_size, "fail"))
    return imports->fail;
  if (is(name, name_size, "base"))
    return imports->base;
  return NULL;
}

static void instances_call_host_functions_and_keep_state(void) {
  host_state_t state = {0, 0};
  nomos_value_type_t i32x2[] = {NOMOS_I32, NOMOS_I32};
  imports_t imports = {NULL, NULL, NULL, NULL};
  nomos_extern_t *add = nomos_extern_function(i32x2, 2, i32x2, 1, host_add,
                                              &state, finalize_state);
  nomos_extern_t *fail =
      nomos_extern_function(NULL, 0, NULL, 0, host_fail, NULL, NULL);
  nomos_extern_t *base = nomos_extern_global(nomos_value_i32(100), false);
  REQUIRE(add && fail && base);
  CHECK(nomos_extern_kind(add) == NOMOS_EXTERN_FUNCTION);
  imports.add = add;
  imports.fail = fail;
  imports.base = base;

  nomos_engine_t *engine = NULL;
  REQUIRE_OK(nomos_engine_new(NULL, &engine));
  file_t code = wat_module("host_import");
  nomos_instance_t *first = NULL;
  REQUIRE_OK(nomos_instance_new(engine, code.data, code.size, resolve,
                                &imports, NULL, &first));
  /* Without the imports it does not link; the message names the import. */
  nomos_instance_t *unlinked = NULL;
  CHECK_ERROR(nomos_instance_new(engine, code.data, code.size, NULL, NULL,
                                 NULL, &unlinked),
              NOMOS_ERROR_LINK_ERROR, "add");
  free(code.data);
  nomos_extern_free(add); /* the instance keeps the function */

  nomos_value_t five = nomos_value_i32(5);
  nomos_call_result_t *result = NULL;
  REQUIRE_OK(nomos_instance_call(first, "run", &five, 1, &result));
  CHECK_EQ(nomos_value_as_i32(nomos_call_result_value(result, 0)), 115);
  nomos_call_result_free(result);
  CHECK_EQ(state.calls, 1);
  /* A failing host function traps the guest with HOST_ERROR and its text. */
  CHECK_ERROR(nomos_instance_call(first, "call_fail", NULL, 0, NULL),
              NOMOS_ERROR_HOST_ERROR, "the disk is gone");

  /* State lives across calls: the exported global counts. */
  REQUIRE_OK(nomos_instance_call(first, "bump", NULL, 0, NULL));
  nomos_extern_t *counter = nomos_instance_export(first, "counter");
  REQUIRE(counter);
  CHECK(nomos_extern_kind(counter) == NOMOS_EXTERN_GLOBAL);
  CHECK_EQ(nomos_value_as_i64(nomos_extern_global_value(counter)), 1);
  CHECK(nomos_instance_export(first, "nope") == NULL);
  CHECK_EQ(nomos_instance_export_count(first), 4);
  CHECK(strcmp(nomos_instance_export_name(first, 0), "counter") == 0);

  /* A second instance imports the first's bump. */
  imports.first_bump = nomos_instance_export(first, "bump");
  REQUIRE(imports.first_bump);
  code = wat_module("host_link");
  nomos_instance_t *second = NULL;
  REQUIRE_OK(nomos_instance_new(engine, code.data, code.size, resolve,
                                &imports, NULL, &second));
  free(code.data);
  REQUIRE_OK(nomos_instance_call(second, "bump_twice", NULL, 0, &result));
  CHECK_EQ(nomos_value_as_i64(nomos_call_result_value(result, 0)), 3);
  nomos_call_result_free(result);
  CHECK_EQ(nomos_value_as_i64(nomos_extern_global_value(counter)), 3);

  nomos_extern_free((nomos_extern_t *)imports.first_bump);
  nomos_extern_free(counter);
  nomos_instance_free(second);
  CHECK_EQ(state.finalized, 0);
  nomos_instance_free(first);
  /* The last user of add is gone: its context is finalized, once. */
  CHECK_EQ(state.finalized, 1);
  nomos_extern_free(fail);
  nomos_extern_free(base);
  nomos_engine_free(engine);
}

/* A function handle: resolved once, arguments checked, results written in
 * place; it keeps the instance's state (and so its imports) alive. */
static void function_handles_call_an_export(void) {
  host_state_t state = {0, 0};
  nomos_value_type_t i32x2[] = {NOMOS_I32, NOMOS_I32};
  imports_t imports = {NULL, NULL, NULL, NULL};
  imports.add = nomos_extern_function(i32x2, 2, i32x2, 1, host_add, &state,
                                      finalize_state);
  imports.fail = nomos_extern_function(NULL, 0, NULL, 0, host_fail, NULL, NULL);
  imports.base = nomos_extern_global(nomos_value_i32(7), false);
  REQUIRE(imports.add && imports.fail && imports.base);
  nomos_engine_t *engine = NULL;
  REQUIRE_OK(nomos_engine_new(NULL, &engine));
  file_t code = wat_module("host_import");
  nomos_instance_t *instance = NULL;
  REQUIRE_OK(nomos_instance_new(engine, code.data, code.size, resolve,
                                &imports, NULL, &instance));
  free(code.data);
  nomos_extern_free((nomos_extern_t *)imports.add);
  nomos_extern_free((nomos_extern_t *)imports.fail);
  nomos_extern_free((nomos_extern_t *)imports.base);

  nomos_function_t *run = NULL;
  REQUIRE_OK(nomos_instance_function(instance, "run", &run));
  nomos_value_t arg = nomos_value_i32(5);
  nomos_value_t out = nomos_value_i64(-1);
  REQUIRE_OK(nomos_function_call(run, &arg, 1, &out, 1));
  CHECK(out.type == NOMOS_I32);
  CHECK_EQ(nomos_value_as_i32(out), 5 + 10 + 7);
  CHECK_EQ(state.calls, 1);
  CHECK_ERROR(nomos_function_call(run, NULL, 0, &out, 1),
              NOMOS_ERROR_BAD_ARGUMENTS, "1 argument(s), 0 given");
  nomos_value_t wide = nomos_value_i64(5);
  CHECK_ERROR(nomos_function_call(run, &wide, 1, &out, 1),
              NOMOS_ERROR_BAD_ARGUMENTS, "must be i32");
  CHECK_ERROR(nomos_function_call(run, &arg, 1, NULL, 0),
              NOMOS_ERROR_BAD_ARGUMENTS, "1 result(s)");
  CHECK_ERROR(nomos_function_call(NULL, NULL, 0, NULL, 0),
              NOMOS_ERROR_BAD_ARGUMENTS, NULL);
  CHECK_EQ(state.calls, 1);

  nomos_function_t *fail = NULL;
  REQUIRE_OK(nomos_instance_function(instance, "call_fail", &fail));
  CHECK_ERROR(nomos_function_call(fail, NULL, 0, NULL, 0),
              NOMOS_ERROR_HOST_ERROR, "the disk is gone");
  nomos_function_free(fail);
  nomos_function_t *missing = NULL;
  CHECK_ERROR(nomos_instance_function(instance, "counter", &missing),
              NOMOS_ERROR_UNKNOWN_EXPORT, "counter");
  CHECK(missing == NULL);

  /* The handle outlives the instance handle: calls go on, add stays. */
  nomos_instance_free(instance);
  CHECK_EQ(state.finalized, 0);
  arg = nomos_value_i32(1);
  REQUIRE_OK(nomos_function_call(run, &arg, 1, &out, 1));
  CHECK_EQ(nomos_value_as_i32(out), 1 + 10 + 7);
  nomos_function_free(run);
  CHECK_EQ(state.finalized, 1);
  nomos_engine_free(engine);
}

static void host_memories_tables_and_globals(void) {
  nomos_extern_t *memory = NULL;
  uint32_t max = 2;
  REQUIRE_OK(nomos_extern_memory(1, &max, &memory));
  CHECK(nomos_extern_kind(memory) == NOMOS_EXTERN_MEMORY);
  nomos_extern_free(memory);
  memory = NULL;
  CHECK_ERROR(nomos_extern_memory(3, &max, &memory), NOMOS_ERROR_BAD_ARGUMENTS,
              NULL);
  CHECK(memory == NULL);
  nomos_extern_t *table = NULL;
  REQUIRE_OK(nomos_extern_table(NOMOS_FUNCREF, 4, NULL, &table));
  CHECK(nomos_extern_kind(table) == NOMOS_EXTERN_TABLE);
  nomos_extern_free(table);
  CHECK_ERROR(nomos_extern_table(NOMOS_I32, 4, NULL, &table),
              NOMOS_ERROR_BAD_ARGUMENTS, "funcref");
  nomos_extern_t *global = nomos_extern_global(nomos_value_i64(-7), true);
  nomos_value_t value = nomos_extern_global_value(global);
  CHECK(value.type == NOMOS_I64);
  CHECK_EQ(nomos_value_as_i64(value), -7);
  nomos_extern_free(global);
}

/* ---- the runner ------------------------------------------------------------------ */

typedef struct {
  const char *name;
  void (*run)(void);
} test_t;

#define TEST(name) {#name, name}
static const test_t tests[] = {
    TEST(seed_example),
    TEST(calls_take_arguments_and_return_results),
    TEST(logs_come_back_with_the_result),
    TEST(exports_are_listed_with_their_types),
    TEST(bad_modules_are_errors),
    TEST(traps_have_a_kind_and_a_message_and_the_vm_goes_on),
    TEST(a_trapped_call_writes_nothing),
    TEST(division_by_zero_traps),
    TEST(gas_used_and_left),
    TEST(out_of_gas_traps_and_reports_all_gas_used),
    TEST(limits_apply_to_calls),
    TEST(engine_without_metering_uses_no_gas),
    TEST(gas_schedule_text_changes_costs),
    TEST(child_store_lives_inside_the_parents),
    TEST(a_trapping_child_loses_only_its_own_writes),
    TEST(child_gas_is_charged_to_its_parent),
    TEST(guest_upgrade_takes_effect_when_the_call_commits),
    TEST(host_upgrade_runs_migrate_or_changes_nothing),
    TEST(child_upgrades_itself),
    TEST(store_api_and_entry_limits),
    TEST(null_handles_are_bad_arguments),
    TEST(lmdb_vm_reopens_upgraded),
    TEST(engine_caches_and_inspects),
    TEST(disk_cache_serves_a_second_engine),
    TEST(store_batches_are_all_or_nothing),
    TEST(values_print_and_parse),
    TEST(version_and_encoding),
    TEST(instances_call_host_functions_and_keep_state),
    TEST(function_handles_call_an_export),
    TEST(host_memories_tables_and_globals),
};

int main(int argc, char **argv) {
  size_t count = sizeof tests / sizeof tests[0];
  if (argc > 1 && strcmp(argv[1], "--list") == 0) {
    for (size_t i = 0; i < count; ++i)
      printf("%s\n", tests[i].name);
    return 0;
  }
  bool ran = false;
  for (size_t i = 0; i < count; ++i) {
    if (argc > 1 && strcmp(argv[1], tests[i].name) != 0)
      continue;
    int before = failures;
    tests[i].run();
    printf("%s %s\n", failures == before ? "PASS" : "FAIL", tests[i].name);
    ran = true;
  }
  if (!ran) {
    fprintf(stderr, "no test named %s\n", argv[1]);
    return 2;
  }
  return failures ? 1 : 0;
}
