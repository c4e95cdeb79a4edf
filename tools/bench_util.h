// What the benchmark programs share: reading files and the kernel table of
// ../shared/bench/README.md, medians and timing. Header-only, for tools.
#pragma once

#include <nomos/bytes.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <string>
#include <vector>

namespace nomos::bench {

// A file's bytes; a missing file ends the program (a benchmark cannot go on).
inline Bytes readFileOrExit(const std::filesystem::path &path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    std::fprintf(stderr, "cannot read %s\n", path.c_str());
    std::exit(2);
  }
  return Bytes(std::istreambuf_iterator<char>(file), {});
}

inline double median(std::vector<double> v) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

template <class F> double secondsOf(F &&run) {
  auto start = std::chrono::steady_clock::now();
  run();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

// A kernel's row of the README: run(workDefault) returns checksum.
struct KernelInfo {
  int workDefault = 0;
  int64_t checksum = 0;
};

// The README's kernel table, by kernel name (file name without ".c"):
//   | `fib.c` | ... | 41 | `165582139668291` |
inline std::map<std::string, KernelInfo>
readKernelTable(const std::filesystem::path &readme) {
  std::map<std::string, KernelInfo> table;
  std::ifstream in(readme);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("| `", 0) != 0 || line.find(".c`") == std::string::npos)
      continue;
    std::vector<std::string> cells;
    size_t pos = 1;
    while (pos < line.size()) {
      size_t next = line.find('|', pos);
      if (next == std::string::npos)
        break;
      std::string cell = line.substr(pos, next - pos);
      cell.erase(0, cell.find_first_not_of(" `"));
      cell.erase(cell.find_last_not_of(" `") + 1);
      cells.push_back(cell);
      pos = next + 1;
    }
    if (cells.size() < 4)
      continue;
    std::string name = cells[0].substr(0, cells[0].size() - 2); // drop ".c"
    table[name] = {std::stoi(cells[2]), std::stoll(cells[3])};
  }
  return table;
}

} // namespace nomos::bench
