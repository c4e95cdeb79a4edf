// Engine::inspect: the module at every stage of the pipeline (docs/cache.md).
#include "test_util.h"

namespace nomos::test {
namespace {

Bytes inspectModule() { return readFile(INSPECT_WASM); }

TEST(Inspect, EveryStageShowsTheFunction) {
  Engine engine;
  Bytes code = inspectModule();
  struct Case {
    Stage stage;
    std::string whole;    // in the whole module's text
    std::string function; // in --function square's text
  };
  for (const Case &c : {
           Case{Stage::Wasm, "(func $sum_squares", "(func $square"},
           Case{Stage::Metered, "(func $sum_squares", "(func $square"},
           Case{Stage::LLVM, "@w.sum_squares(", "@w.square("},
           Case{Stage::LLVMOpt, "@w.sum_squares(", "@w.square("},
           Case{Stage::Asm, "w.sum_squares:", "w.square:"},
       }) {
    SCOPED_TRACE(static_cast<int>(c.stage));
    auto whole = engine.inspect(code, c.stage);
    ASSERT_TRUE(whole) << whole.error().toString();
    EXPECT_NE(whole->find(c.whole), std::string::npos) << *whole;
    EXPECT_NE(whole->find(c.function), std::string::npos) << *whole;
    auto one = engine.inspect(code, c.stage, "square");
    ASSERT_TRUE(one) << one.error().toString();
    EXPECT_NE(one->find(c.function), std::string::npos) << *one;
    EXPECT_EQ(one->find("sum_squares"), std::string::npos) << *one;
    EXPECT_LT(one->size(), whole->size());
  }
  // Inspection compiles afresh and caches nothing.
  EXPECT_EQ(engine.compiledModules(), 0u);
}

TEST(Inspect, MeteredStageHasTheGasPass) {
  Engine engine;
  Bytes code = inspectModule();
  auto plain = engine.inspect(code, Stage::Wasm, "sum_squares");
  auto metered = engine.inspect(code, Stage::Metered, "sum_squares");
  ASSERT_TRUE(plain && metered);
  EXPECT_EQ(plain->find("global.set"), std::string::npos) << *plain;
  EXPECT_NE(metered->find("global.set"), std::string::npos) << *metered;
}

// Innermost counted loops without calls start on a 32-byte boundary; loops
// that call, and searches that stop at a value they load, keep the
// target's 16 (compiler/src/codegen.cpp, AlignInnerLoopsPass).
TEST(Inspect, CountedLoopsWithoutCallsAreAlignedTo32Bytes) {
  for (bool metered : {false, true}) {
    SCOPED_TRACE(metered ? "metered" : "unmetered");
    Engine engine(EngineOptions{.metering = metered});
    auto leaf = engine.inspect(inspectModule(), Stage::Asm, "hash");
    auto calling = engine.inspect(inspectModule(), Stage::Asm, "sum_squares");
    auto search = engine.inspect(inspectModule(), Stage::Asm, "find");
    ASSERT_TRUE(leaf && calling && search);
    EXPECT_NE(leaf->find(".p2align\t5"), std::string::npos) << *leaf;
    EXPECT_EQ(calling->find(".p2align\t5"), std::string::npos) << *calling;
    EXPECT_NE(calling->find(".p2align\t4"), std::string::npos) << *calling;
    EXPECT_EQ(search->find(".p2align\t5"), std::string::npos) << *search;
  }
  // Each function starts a 64-byte line (the directive comes before the
  // function's own text).
  auto whole = Engine().inspect(inspectModule(), Stage::Asm);
  ASSERT_TRUE(whole);
  EXPECT_NE(whole->find(".p2align\t6, 0x90\n\t.type\tw.g.hash"), std::string::npos) << *whole;
}

// A metered loop's counter comes around the back edge through an empty asm
// (compiler/src/gas_counter.cpp), which emits nothing.
TEST(Inspect, MeteredLoopCounterIsHiddenFromLoopStrengthReduction) {
  Engine metered;
  Engine unmetered(EngineOptions{.metering = false});
  auto ir = metered.inspect(inspectModule(), Stage::LLVMOpt, "hash");
  auto plain = unmetered.inspect(inspectModule(), Stage::LLVMOpt, "hash");
  ASSERT_TRUE(ir && plain);
  EXPECT_NE(ir->find("asm \"\", \"=r,0\""), std::string::npos) << *ir;
  EXPECT_EQ(plain->find("asm "), std::string::npos) << *plain;
  auto code = metered.inspect(inspectModule(), Stage::Asm, "hash");
  ASSERT_TRUE(code);
  EXPECT_NE(code->find("#APP"), std::string::npos) << *code; // the empty asm
}

// A stored float result is canonicalized with a branch around the rare NaN
// (ucomisd + jp), not a compare and blend on the value's path.
TEST(Inspect, StoredFloatsBranchAroundTheirNaNCanonicalization) {
  Engine engine(EngineOptions{.metering = false});
  auto code = engine.inspect(inspectModule(), Stage::Asm, "scale");
  ASSERT_TRUE(code);
  EXPECT_NE(code->find("ucomisd"), std::string::npos) << *code;
  EXPECT_NE(code->find("jp"), std::string::npos) << *code;
  EXPECT_EQ(code->find("cmpunordsd"), std::string::npos) << *code;
  EXPECT_EQ(code->find("blendv"), std::string::npos) << *code;
}

TEST(Inspect, UnknownFunctionAndStageNames) {
  Engine engine;
  auto missing = engine.inspect(inspectModule(), Stage::Asm, "nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::BadArguments);
  EXPECT_EQ(parseStage("llvm-opt"), Stage::LLVMOpt);
  EXPECT_EQ(parseStage("LLVM"), std::nullopt);
}

TEST(Inspect, MalformedModuleIsAnError) {
  Engine engine;
  Bytes garbage{0x00, 0x61, 0x73, 0x6d, 0x02};
  EXPECT_FALSE(engine.inspect(garbage, Stage::Wasm));
}

} // namespace
} // namespace nomos::test
