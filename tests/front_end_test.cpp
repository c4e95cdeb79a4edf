// The front end hands Binaryen a rewrite of the module (function bodies and
// the declarations they need; metering/src/binaryen_input.h), so valid
// constructs that Binaryen 108's reader refuses by ending the process load
// and run: NUL bytes in names, declarative and externref element segments,
// custom sections it cannot parse, name-section names that clash with its
// default names.
#include "test_util.h"

#include <cstdint>
#include <string_view>
#include <vector>

using namespace nomos;
using namespace std::string_view_literals;

namespace {

using Buffer = std::vector<uint8_t>;

void leb(Buffer &out, uint32_t value) {
  do {
    uint8_t byte = value & 0x7f;
    value >>= 7;
    out.push_back(value ? byte | 0x80 : byte);
  } while (value);
}

void name(Buffer &out, std::string_view s) {
  leb(out, s.size());
  out.insert(out.end(), s.begin(), s.end());
}

void append(Buffer &out, const Buffer &bytes) {
  out.insert(out.end(), bytes.begin(), bytes.end());
}

void section(Buffer &out, uint8_t id, const Buffer &payload) {
  out.push_back(id);
  leb(out, payload.size());
  append(out, payload);
}

void customSection(Buffer &out, std::string_view sectionName,
                   const Buffer &contents) {
  Buffer payload;
  name(payload, sectionName);
  append(payload, contents);
  section(out, 0, payload);
}

// Five functions of type () -> i32:
//   0  i32.const 42                         named "1" in the name section
//   1  call 0, +1 (43)                      unnamed; exported as "a\0b"
//   2  ref.is_null (ref.func 0) (0)         named "x\0y"; exported as "ref\0"
//   3  call_indirect table[0] (f1: 43)      named "fimport$0"; exported "call"
//   4  memory.init of passive segment 1 at 8, then mem[8] + mem[0] (7 + 'h')
//      exported as "mem"
// The element section has an active funcref segment (f1 at 0), a
// declarative segment of expressions (ref.func 0) and a passive externref
// segment; the data section an active segment ("hi" at 0) and a passive one.
Bytes frontEndModule() {
  Buffer m = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
  section(m, 1, {0x01, 0x60, 0x00, 0x01, 0x7f});             // type
  section(m, 3, {0x05, 0x00, 0x00, 0x00, 0x00, 0x00});       // function
  section(m, 4, {0x01, 0x70, 0x00, 0x01});                   // table
  section(m, 5, {0x01, 0x00, 0x01});                         // memory
  Buffer exports = {0x04};
  const std::pair<std::string_view, uint32_t> exported[] = {
      {"a\0b"sv, 1}, {"ref\0"sv, 2}, {"call"sv, 3}, {"mem"sv, 4}};
  for (auto [exportName, index] : exported) {
    name(exports, exportName);
    exports.push_back(0x00);
    leb(exports, index);
  }
  section(m, 7, exports);
  section(m, 9, {0x03,
                 0x00, 0x41, 0x00, 0x0b, 0x01, 0x01,  // active: f1 at 0
                 0x07, 0x70, 0x01, 0xd2, 0x00, 0x0b,  // declarative exprs
                 0x05, 0x6f, 0x01, 0xd0, 0x6f, 0x0b}); // passive externref
  section(m, 12, {0x02});                                    // data count
  Buffer code = {0x05};
  for (const Buffer &body : {
           Buffer{0x00, 0x41, 0x2a, 0x0b},
           Buffer{0x00, 0x10, 0x00, 0x41, 0x01, 0x6a, 0x0b},
           Buffer{0x00, 0xd2, 0x00, 0xd1, 0x0b},
           Buffer{0x00, 0x41, 0x00, 0x11, 0x00, 0x00, 0x0b},
           Buffer{0x00,
                  0x41, 0x08, 0x41, 0x00, 0x41, 0x01, 0xfc, 0x08, 0x01, 0x00,
                  0x41, 0x00, 0x2d, 0x00, 0x08,   // i32.load8_u offset=8
                  0x41, 0x00, 0x2d, 0x00, 0x00,   // i32.load8_u offset=0
                  0x6a, 0x0b}}) {
    leb(code, body.size());
    append(code, body);
  }
  section(m, 10, code);
  section(m, 11, {0x02,
                  0x00, 0x41, 0x00, 0x0b, 0x02, 'h', 'i', // active at 0
                  0x01, 0x01, 0x07});                      // passive {7}
  // Function names Binaryen 108 would refuse: "1" (the default name it gives
  // unnamed function 1), a NUL byte, and "fimport$0".
  Buffer names = {0x03};
  const std::pair<uint32_t, std::string_view> named[] = {
      {0, "1"sv}, {2, "x\0y"sv}, {3, "fimport$0"sv}};
  for (auto [index, functionName] : named) {
    leb(names, index);
    name(names, functionName);
  }
  Buffer nameSection = {0x01};
  leb(nameSection, names.size());
  append(nameSection, names);
  customSection(m, "name", nameSection);
  // Contents Binaryen's "target_features" parser rejects, and a custom
  // section whose name has a NUL byte.
  customSection(m, "target_features", {0xff});
  customSection(m, "a\0"sv, {0x01, 0x02});
  return Bytes(m.begin(), m.end());
}

int32_t callI32(VM &vm, std::string_view exportName) {
  auto r = vm.call(exportName, {});
  if (!r) {
    ADD_FAILURE() << exportName << ": " << r.error().toString();
    return -1;
  }
  if (r->results.size() != 1 || r->results[0].type != ValueType::I32) {
    ADD_FAILURE() << exportName << ": expected one i32 result";
    return -1;
  }
  return r->results[0].asI32();
}

} // namespace

TEST(FrontEnd, ModuleBinaryenWouldRefuseLoadsAndRuns) {
  VM vm = nomos::test::loadVM(frontEndModule());
  EXPECT_EQ(callI32(vm, "a\0b"sv), 43);
  EXPECT_EQ(callI32(vm, "ref\0"sv), 0);
  EXPECT_EQ(callI32(vm, "call"), 43);
  EXPECT_EQ(callI32(vm, "mem"), 7 + 'h');
  // The NUL byte is part of the name.
  auto truncated = vm.call("a", {});
  ASSERT_FALSE(truncated);
  EXPECT_EQ(truncated.error().kind, ErrorKind::UnknownExport);
}
