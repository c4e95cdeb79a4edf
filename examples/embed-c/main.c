/* The seed example from C: the counter counts to 12, then has a child
 * running the doubler double it. Prints "count is 12" and "count is 24".
 *   embed_c [COUNTER.wasm DOUBLER.wasm]   */
#include <nomos.h>

#include <stdio.h>
#include <stdlib.h>

#ifndef COUNTER_WASM
#define COUNTER_WASM "counter.wasm"
#define DOUBLER_WASM "doubler.wasm"
#endif

/* The whole file, malloc'd, or NULL. */
static uint8_t *read_file(const char *path, size_t *size) {
  FILE *file = fopen(path, "rb");
  if (!file)
    return NULL;
  fseek(file, 0, SEEK_END);
  long length = ftell(file);
  rewind(file);
  uint8_t *data = length > 0 ? malloc((size_t)length) : NULL;
  if (data && fread(data, 1, (size_t)length, file) != (size_t)length) {
    free(data);
    data = NULL;
  }
  fclose(file);
  *size = data ? (size_t)length : 0;
  return data;
}

/* Prints and frees the error; the exit code. */
static int fail(nomos_error_t *error) {
  fprintf(stderr, "embed_c: %s: %s\n",
          nomos_error_kind_name(nomos_error_kind(error)),
          nomos_error_message(error));
  nomos_error_free(error);
  return 1;
}

static int print_count(const nomos_vm_t *vm) {
  nomos_bytes_t value;
  bool found = false;
  uint64_t count = 0;
  nomos_error_t *error = nomos_vm_get(vm, "count", 5, &value, &found);
  if (error)
    return fail(error);
  if (found) {
    error = nomos_decode_u64(value.data, value.size, &count);
    nomos_bytes_free(&value);
    if (error)
      return fail(error);
  }
  printf("count is %llu\n", (unsigned long long)count);
  return 0;
}

int main(int argc, char **argv) {
  const char *counter_path = argc > 2 ? argv[1] : COUNTER_WASM;
  const char *doubler_path = argc > 2 ? argv[2] : DOUBLER_WASM;
  size_t counter_size = 0, doubler_size = 0;
  uint8_t *counter = read_file(counter_path, &counter_size);
  uint8_t *doubler = read_file(doubler_path, &doubler_size);
  if (!counter || !doubler) {
    fprintf(stderr, "embed_c: cannot read %s or %s\n", counter_path,
            doubler_path);
    return 1;
  }

  nomos_vm_t *vm = NULL;
  nomos_error_t *error = nomos_vm_new(counter, counter_size, NULL, &vm);
  if (error)
    return fail(error);
  uint8_t ten[8];
  nomos_encode_u64(10, ten);
  if ((error = nomos_vm_set(vm, "count", 5, ten, sizeof ten)))
    return fail(error);
  for (int i = 0; i < 2; ++i)
    if ((error = nomos_vm_call(vm, "increment", NULL, 0, NULL)))
      return fail(error);
  if (print_count(vm))
    return 1;

  /* The counter runs the doubler as a child, from code in its own store. */
  if ((error = nomos_vm_set(vm, "doubler", 7, doubler, doubler_size)))
    return fail(error);
  nomos_call_result_t *result = NULL;
  if ((error = nomos_vm_call(vm, "exec_other", NULL, 0, &result)))
    return fail(error);
  printf("exec_other used %llu gas\n",
         (unsigned long long)nomos_call_result_gas_used(result));
  nomos_call_result_free(result);
  int status = print_count(vm);

  nomos_vm_free(vm);
  free(counter);
  free(doubler);
  return status;
}
