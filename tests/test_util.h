#pragma once

#include <nomos/nomos.h>

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>

namespace nomos::test {

inline Bytes readFile(const std::string &path) {
  std::ifstream file(path, std::ios::binary);
  EXPECT_TRUE(file.good()) << "cannot open " << path;
  return Bytes(std::istreambuf_iterator<char>(file), {});
}

inline Bytes watModule(const std::string &name) {
  return readFile(std::string(WAT_DIR) + "/" + name + ".wasm");
}

// A VM for a module that must load.
inline VM loadVM(const Bytes &code, VMOptions options = {}) {
  auto vm = VM::create(code, std::move(options));
  if (!vm) // gtest reports the exception as this test's failure
    throw std::runtime_error("module failed to load: " + vm.error().toString());
  return std::move(*vm);
}

} // namespace nomos::test
