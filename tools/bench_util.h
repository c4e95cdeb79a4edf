// What the benchmark programs share: reading modules, medians, and the
// kernels of ../shared/bench built into the build tree.
#pragma once

#include <nomos/bytes.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace nomos::benchmark {

inline Bytes readFile(const std::filesystem::path &path) {
  std::ifstream file(path, std::ios::binary);
  return Bytes(std::istreambuf_iterator<char>(file), {});
}

inline double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Builds the kernels of `bench` (its build.sh) into `out` unless they are
// there already; false (after saying why) if that fails.
inline bool ensureKernels(const std::filesystem::path &bench,
                          const std::filesystem::path &out, const char *tool) {
  if (std::filesystem::exists(out / "fib.wasm"))
    return true;
  std::string command = (bench / "build.sh").string() + " " +
                        (bench / "kernels").string() + " " + out.string() +
                        " >&2";
  if (std::system(command.c_str()) == 0)
    return true;
  std::fprintf(stderr, "%s: %s failed\n", tool, command.c_str());
  return false;
}

} // namespace nomos::benchmark
