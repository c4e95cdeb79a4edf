// A STDLIB guest for tests/wasi_test.cpp: what wasi-libc and libc++ do on
// Nomos's deterministic WASI (abort, assert, exit, clocks, randomness,
// stdin, stderr, global constructors, malloc).
#include <cassert>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

#define EXPORT(name) __attribute__((export_name(#name)))

namespace {
// Constructed by the export's wrapper in every call (a fresh instance).
std::map<std::string, int> numbers = {{"one", 1}, {"two", 2}};
int calls = 0;
}  // namespace

EXPORT(abort_now) void abort_now() { std::abort(); }

EXPORT(assert_fails) void assert_fails() {
  int two = int(numbers.size());
  assert(two == 3);
}

EXPORT(exit_3) void exit_3() { std::exit(3); }

EXPORT(clock) void read_clock() {
  timespec now{};
  int rc = clock_gettime(CLOCK_REALTIME, &now);
  std::printf("clock_gettime: %d errno %d\n", rc, errno);
  std::printf("time: %lld\n", static_cast<long long>(std::time(nullptr)));
}

EXPORT(random) void read_random() {
  unsigned char buffer[16];
  int rc = getentropy(buffer, sizeof buffer);
  std::printf("getentropy: %d errno %d\n", rc, errno);
}

EXPORT(open_file) void open_file() {
  FILE* file = std::fopen("notes.txt", "r");
  std::printf("fopen: %s errno %d\n", file ? "a file" : "null", errno);
}

// Needs entropy: libc++ aborts without it (no exceptions).
EXPORT(random_device) void random_device() {
  std::random_device device;
  std::printf("%u\n", device());
}

EXPORT(stdin_eof) void stdin_eof() {
  std::printf("getchar: %d\n", std::getchar());
}

EXPORT(globals) void globals() {
  ++calls;
  numbers["three"] = 3;
  std::printf("calls %d, numbers %zu\n", calls, numbers.size());
}

// Three writes to unbuffered stderr, one line; then text with no newline,
// flushed when the export returns.
EXPORT(streams) void streams() {
  std::cerr << "x = " << 42 << '\n';
  std::printf("no newline");
}

// 4 MiB of ints, from malloc (past the memory limit, operator new aborts).
EXPORT(allocate) void allocate() {
  std::vector<int> values(1 << 20);
  for (size_t i = 0; i < values.size(); ++i) values[i] = int(i);
  long long sum = 0;
  for (int v : values) sum += v;
  std::printf("sum %lld\n", sum);
}
