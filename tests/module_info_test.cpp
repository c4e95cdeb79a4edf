// Tests of nomos::wasm::decodeModule on small hand-written binaries. The
// decoder is also checked against the whole WebAssembly 2.0 spec test suite
// (see the report of the change that added it); these tests pin the fields
// it fills and the error kinds of the common failures.
#include <nomos/metering/module_info.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

using namespace nomos;
using namespace nomos::wasm;

namespace {

using Bytes = std::vector<uint8_t>;

const Bytes kHeader = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};

// A section: id, size (one LEB byte; the tests keep sections < 128 bytes),
// then the content.
Bytes section(uint8_t id, std::initializer_list<uint8_t> content) {
  Bytes out = {id, static_cast<uint8_t>(content.size())};
  out.insert(out.end(), content);
  return out;
}

Bytes module(std::initializer_list<Bytes> sections) {
  Bytes out = kHeader;
  for (const Bytes &s : sections)
    out.insert(out.end(), s.begin(), s.end());
  return out;
}

// Type 0: [] -> []; one function of that type with the given body (locals
// and code, without the body size).
Bytes moduleWithBody(std::initializer_list<uint8_t> body) {
  Bytes code = {0x01, static_cast<uint8_t>(body.size())};
  code.insert(code.end(), body);
  Bytes codeSection = {0x0a, static_cast<uint8_t>(code.size())};
  codeSection.insert(codeSection.end(), code.begin(), code.end());
  return module({section(1, {0x01, 0x60, 0x00, 0x00}),
                 section(3, {0x01, 0x00}), codeSection});
}

// (module
//   (type (func)) (type (func (param i32) (result i32)))
//   (import "env" "g" (global i32))
//   (func $main) (func $run (param i32) (result i32)
//     (i32.add (local.get 0) (i32.const 1)))
//   (memory 1 2)
//   (export "run" (func $run)) (export "mem" (memory 0))
//   (start $main)
//   (data (i32.const 16) "hi"))
// plus a "name" section naming both functions.
Bytes validModule() {
  return module({
      section(1, {0x02, 0x60, 0x00, 0x00, 0x60, 0x01, 0x7f, 0x01, 0x7f}),
      section(2, {0x01, 0x03, 'e', 'n', 'v', 0x01, 'g', 0x03, 0x7f, 0x00}),
      section(3, {0x02, 0x00, 0x01}),
      section(5, {0x01, 0x01, 0x01, 0x02}),
      section(7, {0x02, 0x03, 'r', 'u', 'n', 0x00, 0x01, 0x03, 'm', 'e', 'm',
                  0x02, 0x00}),
      section(8, {0x00}),
      section(10, {0x02, 0x02, 0x00, 0x0b, 0x07, 0x00, 0x20, 0x00, 0x41, 0x01,
                   0x6a, 0x0b}),
      section(11, {0x01, 0x00, 0x41, 0x10, 0x0b, 0x02, 'h', 'i'}),
      section(0, {0x04, 'n', 'a', 'm', 'e', 0x01, 0x0c, 0x02, 0x00, 0x04, 'm',
                  'a', 'i', 'n', 0x01, 0x03, 'r', 'u', 'n'}),
  });
}

ErrorKind kindOf(const Bytes &bytes) {
  auto result = decodeModule(bytes);
  EXPECT_FALSE(result.has_value());
  return result ? ErrorKind::Unsupported : result.error().kind;
}

} // namespace

TEST(ModuleInfo, DecodesValidModule) {
  auto result = decodeModule(validModule());
  ASSERT_TRUE(result.has_value()) << result.error().message;
  const ModuleInfo &m = *result;

  ASSERT_EQ(m.types.size(), 2u);
  EXPECT_TRUE(m.types[0].params.empty());
  EXPECT_EQ(m.types[1], (FuncType{{ValType::I32}, {ValType::I32}}));

  ASSERT_EQ(m.imports.size(), 1u);
  EXPECT_EQ(m.imports[0].module, "env");
  EXPECT_EQ(m.imports[0].name, "g");
  EXPECT_EQ(m.imports[0].kind, ExternKind::Global);
  EXPECT_EQ(m.imports[0].global.type, ValType::I32);
  EXPECT_FALSE(m.imports[0].global.isMutable);
  EXPECT_EQ(m.importedGlobals, 1u);
  ASSERT_EQ(m.globals.size(), 1u);
  EXPECT_TRUE(m.definedGlobals.empty());

  EXPECT_EQ(m.importedFunctions, 0u);
  EXPECT_EQ(m.functions, (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(m.funcType(1).results, std::vector<ValType>{ValType::I32});

  ASSERT_EQ(m.memories.size(), 1u);
  EXPECT_EQ(m.importedMemories, 0u);
  EXPECT_EQ(m.memories[0].min, 1u);
  EXPECT_EQ(m.memories[0].max, std::optional<uint64_t>(2));
  EXPECT_TRUE(m.tables.empty());

  ASSERT_EQ(m.exports.size(), 2u);
  const Export *run = m.findExport("run");
  ASSERT_NE(run, nullptr);
  EXPECT_EQ(run->kind, ExternKind::Func);
  EXPECT_EQ(run->index, 1u);
  const Export *mem = m.findExport("mem");
  ASSERT_NE(mem, nullptr);
  EXPECT_EQ(mem->kind, ExternKind::Memory);
  EXPECT_EQ(m.findExport("missing"), nullptr);

  EXPECT_EQ(m.start, std::optional<uint32_t>(0));

  ASSERT_EQ(m.datas.size(), 1u);
  EXPECT_EQ(m.datas[0].mode, DataSegment::Mode::Active);
  EXPECT_EQ(m.datas[0].memory, 0u);
  EXPECT_EQ(m.datas[0].offset.op, ConstExpr::Op::I32Const);
  EXPECT_EQ(m.datas[0].offset.bits[0], 16u);
  EXPECT_EQ(m.datas[0].bytes, (Bytes{'h', 'i'}));
  EXPECT_FALSE(m.dataCount.has_value());
  EXPECT_TRUE(m.elems.empty());

  EXPECT_EQ(m.functionNames, (std::vector<std::string>{"main", "run"}));
  EXPECT_FALSE(m.usesSimd);
}

TEST(ModuleInfo, DecodesElementsGlobalsAndSimd) {
  // (table 1 funcref) (global f32 (f32.const 1.0))
  // (func (drop (v128.const i64x2 0 0)) (drop (ref.func 0)))
  // (elem (i32.const 0) func 0)
  Bytes m = module({
      section(1, {0x01, 0x60, 0x00, 0x00}),
      section(3, {0x01, 0x00}),
      section(4, {0x01, 0x70, 0x00, 0x01}),
      section(6, {0x01, 0x7d, 0x00, 0x43, 0x00, 0x00, 0x80, 0x3f, 0x0b}),
      section(9, {0x01, 0x00, 0x41, 0x00, 0x0b, 0x01, 0x00}),
      section(10, {0x01, 0x18, 0x00, 0xfd, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                   0, 0, 0, 0, 0, 0, 0x1a, 0xd2, 0x00, 0x1a, 0x0b}),
  });
  auto result = decodeModule(m);
  ASSERT_TRUE(result.has_value()) << result.error().message;
  ASSERT_EQ(result->tables.size(), 1u);
  EXPECT_EQ(result->tables[0].elemType, ValType::FuncRef);
  ASSERT_EQ(result->definedGlobals.size(), 1u);
  EXPECT_EQ(result->definedGlobals[0].init.op, ConstExpr::Op::F32Const);
  EXPECT_EQ(result->definedGlobals[0].init.bits[0], 0x3f800000u);
  ASSERT_EQ(result->elems.size(), 1u);
  EXPECT_EQ(result->elems[0].mode, ElemSegment::Mode::Active);
  ASSERT_EQ(result->elems[0].items.size(), 1u);
  EXPECT_EQ(result->elems[0].items[0].op, ConstExpr::Op::RefFunc);
  EXPECT_EQ(result->elems[0].items[0].index, 0u);
  EXPECT_TRUE(result->usesSimd);
  EXPECT_EQ(result->functionNames, std::vector<std::string>{""});
}

TEST(ModuleInfo, RejectsBadMagic) {
  Bytes m = validModule();
  m[1] = 'b';
  auto result = decodeModule(m);
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, ErrorKind::MalformedModule);
  EXPECT_NE(result.error().message.find("magic"), std::string::npos);
  EXPECT_EQ(kindOf({}), ErrorKind::MalformedModule);
}

TEST(ModuleInfo, RejectsTruncatedModule) {
  const Bytes full = validModule();
  // Cut inside the code section: the body of $run is incomplete.
  const Bytes cut(full.begin(), full.begin() + 70);
  EXPECT_EQ(kindOf(cut), ErrorKind::MalformedModule);
  // Every other prefix is malformed too, except those that end at a section
  // boundary and still form a module: the bare header, header + types,
  // + imports, and the module without its data and/or name sections.
  std::vector<size_t> accepted;
  for (size_t n = 0; n < full.size(); ++n) {
    auto result = decodeModule(std::span<const uint8_t>(full.data(), n));
    if (result) {
      accepted.push_back(n);
      continue;
    }
    EXPECT_EQ(result.error().kind, ErrorKind::MalformedModule) << n;
  }
  EXPECT_EQ(accepted, (std::vector<size_t>{8, 19, 31, 74, 84}));
}

TEST(ModuleInfo, RejectsIllTypedBody) {
  // (func (drop (i32.add (i64.const 0) (i64.const 0))))
  auto result =
      decodeModule(moduleWithBody({0x00, 0x42, 0x00, 0x42, 0x00, 0x6a, 0x1a,
                                   0x0b}));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, ErrorKind::InvalidModule);
  EXPECT_NE(result.error().message.find(
                "type mismatch in i32.add: expected i32, got i64"),
            std::string::npos)
      << result.error().message;
  EXPECT_NE(result.error().message.find("function 0"), std::string::npos);
}

// The disk cache's hit decodes code validated before: bodies are only
// delimited, the declarations are still decoded and checked.
TEST(ModuleInfo, BodiesCanBeLeftUnvalidated) {
  const DecodeOptions declarationsOnly{.validateFunctionBodies = false};
  Bytes illTyped =
      moduleWithBody({0x00, 0x42, 0x00, 0x42, 0x00, 0x6a, 0x1a, 0x0b});
  auto info = decodeModule(illTyped, declarationsOnly);
  ASSERT_TRUE(info) << info.error().message;
  EXPECT_EQ(info->functions.size(), 1u);
  EXPECT_EQ(decodeModule(validModule(), declarationsOnly)->exports.size(), 2u);
  // A body running past its section is still malformed.
  Bytes cut = moduleWithBody({0x00, 0x0b});
  cut[cut.size() - 3] = 0x09; // the body's size
  EXPECT_EQ(decodeModule(cut, declarationsOnly).error().kind,
            ErrorKind::MalformedModule);
}

TEST(ModuleInfo, UnreachableCodeIsPolymorphic) {
  // (func unreachable i32.add drop) is valid; with an i64 operand it is not.
  EXPECT_TRUE(decodeModule(moduleWithBody({0x00, 0x00, 0x6a, 0x1a, 0x0b})));
  EXPECT_EQ(kindOf(moduleWithBody({0x00, 0x00, 0x42, 0x00, 0x6a, 0x1a, 0x0b})),
            ErrorKind::InvalidModule);
}

TEST(ModuleInfo, RejectsUnknownOpcodes) {
  EXPECT_EQ(kindOf(moduleWithBody({0x00, 0xff, 0x0b})),
            ErrorKind::MalformedModule);
  // return_call (tail calls) and atomic.fence (threads) are not 2.0.
  EXPECT_EQ(kindOf(moduleWithBody({0x00, 0x12, 0x00, 0x0b})),
            ErrorKind::MalformedModule);
  EXPECT_EQ(kindOf(moduleWithBody({0x00, 0xfe, 0x03, 0x00, 0x0b})),
            ErrorKind::MalformedModule);
}

TEST(ModuleInfo, RejectsTwoMemories) {
  auto result = decodeModule(module({section(5, {0x02, 0x00, 0x01, 0x00, 0x01})}));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, ErrorKind::InvalidModule);
  EXPECT_NE(result.error().message.find("multiple memories"),
            std::string::npos);
}

TEST(ModuleInfo, RejectsDuplicateExport) {
  // Two exports named "m" of the same memory.
  auto result = decodeModule(module({
      section(5, {0x01, 0x00, 0x01}),
      section(7, {0x02, 0x01, 'm', 0x02, 0x00, 0x01, 'm', 0x02, 0x00}),
  }));
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, ErrorKind::InvalidModule);
  EXPECT_NE(result.error().message.find("duplicate export name \"m\""),
            std::string::npos);
}

TEST(ModuleInfo, RejectsMalformedLeb) {
  // Memory limits min 1 written with a sixth byte.
  EXPECT_EQ(kindOf(module({section(
                5, {0x01, 0x00, 0x81, 0x80, 0x80, 0x80, 0x80, 0x00})})),
            ErrorKind::MalformedModule);
}

TEST(ModuleInfo, RejectsUndeclaredFunctionReference) {
  // (func (drop (ref.func 0))) with no element segment, export or global
  // mentioning function 0.
  EXPECT_EQ(kindOf(moduleWithBody({0x00, 0xd2, 0x00, 0x1a, 0x0b})),
            ErrorKind::InvalidModule);
}

TEST(ModuleInfo, ValTypeNames) {
  EXPECT_STREQ(valTypeName(ValType::I32), "i32");
  EXPECT_STREQ(valTypeName(ValType::V128), "v128");
  EXPECT_STREQ(valTypeName(ValType::ExternRef), "externref");
}
