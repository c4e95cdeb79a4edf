// Loops run in an unchecked copy when a test before them shows that they
// cannot trap (compiler/src/loop_versioning.cpp): the copy and the loop it
// stands for must be indistinguishable. Every case below runs at every
// optimization level, metered (counter in a register or not) and not, and
// must give the same result, trap, gas and memory; the cases put the test
// on both sides: in bounds and out, with gas to spare and short of it,
// arrays that overlap, 32-bit addresses that wrap.
#include "test_util.h"

namespace nomos::test {
namespace {

struct Case {
  const char *function; // tests/wat/loop_versioning.wat
  uint32_t dst, src, n;
  uint64_t gas;
};

constexpr uint64_t kPlenty = 10'000'000;

std::shared_ptr<Engine> engineWith(unsigned opt, bool metering, bool inRegister) {
  EngineOptions options;
  options.optLevel = opt;
  options.metering = metering;
  options.gasInRegister = inRegister;
  return std::make_shared<Engine>(options);
}

// What one call leaves: its result or trap, the gas it used (metered), and
// a digest of the memory after it.
std::string run(Engine &engine, const Case &c, bool metered) {
  auto memory = Extern::memory(1, std::nullopt);
  if (!memory)
    return memory.error().toString();
  auto imports = [&](std::string_view, std::string_view) -> std::optional<Extern> {
    return *memory;
  };
  Limits limits;
  limits.gas = kPlenty;
  auto checker = Instance::create(engine, watModule("loop_versioning"), imports, limits);
  limits.gas = c.gas;
  auto worker = Instance::create(engine, watModule("loop_versioning"), imports, limits);
  if (!checker || !worker)
    return "instantiation failed";
  if (!checker->call("init", std::vector<Value>{}))
    return "init failed";
  auto result = worker->call(c.function, std::vector<Value>{Value::i32(c.dst), Value::i32(c.src),
                                                           Value::i32(c.n), Value::f64Bits(0x3ff8000000000000) /* 1.5 */});
  std::string text = result ? "ok" : std::string(errorKindName(result.error().kind));
  if (metered)
    text += " gas " + std::to_string(worker->lastCallGas().used);
  auto digest = checker->call("digest", std::vector<Value>{});
  return text + " digest " + (digest ? toString(digest->at(0)) : digest.error().toString());
}

std::vector<Case> cases() {
  std::vector<Case> all;
  for (const char *function : {"axpy", "axpy_i32"}) {
    // In bounds, with gas to spare, exactly enough (computed at -O0 by the
    // test below) and short of it.
    all.push_back({function, 1024, 8192, 100, kPlenty});
    all.push_back({function, 1024, 8192, 100, 0}); // 0: exactly what it needs
    all.push_back({function, 1024, 8192, 100, 1});  // 1: one less
    all.push_back({function, 1024, 8192, 100, 2});  // 2: half
    // Overlapping arrays, both ways: each element reads what an earlier
    // one wrote, so order matters.
    all.push_back({function, 1032, 1024, 50, kPlenty});
    all.push_back({function, 1024, 1032, 50, kPlenty});
    all.push_back({function, 1024, 1024, 50, kPlenty});
    // Out of bounds: the last element, the first, from the source.
    all.push_back({function, 65536 - 16 * 40 + 8, 8192, 40, kPlenty});
    all.push_back({function, 65536, 8192, 4, kPlenty});
    all.push_back({function, 1024, 65536 - 16 * 40 + 8, 40, kPlenty});
    // n = 0: the count wraps (2^28 iterations), out of bounds at the end
    // of memory; with a gas limit, out of gas first.
    all.push_back({function, 1024, 8192, 0, kPlenty});
    all.push_back({function, 1024, 8192, 0, 5000});
    // 32-bit addresses that wrap: 0xffffff00 + i comes back to 0 after
    // 256 bytes (the first access is out of bounds before that).
    all.push_back({function, 0xffffff00u, 8192, 100, kPlenty});
    all.push_back({function, 1024, 0xffffff00u, 100, kPlenty});
  }
  // A wasm address's 32 bits wrap where its exact value would not: out of
  // bounds, although p - 16 + 16 = p is inside.
  all.push_back({"scale_back", 8, 8192, 10, kPlenty});
  all.push_back({"scale_back", 1024, 8, 10, kPlenty});
  all.push_back({"scale_back", 1024, 8192, 100, kPlenty});
  all.push_back({"stagger", 1024, 0, 100, kPlenty});
  return all;
}

TEST(LoopVersioning, SameResultTrapGasAndMemoryEverywhere) {
  // Gas needed by each in-bounds call, measured at -O0 (which versions
  // nothing), for the cases that ask for exactly that, one less, or half.
  auto reference = engineWith(0, true, true);
  std::vector<Case> all = cases();
  for (Case &c : all) {
    if (c.gas > 2)
      continue;
    Case full = c;
    full.gas = kPlenty;
    std::string text = run(*reference, full, true);
    ASSERT_EQ(text.substr(0, 7), "ok gas ") << text;
    uint64_t needed = std::stoull(text.substr(7));
    c.gas = c.gas == 0 ? needed : c.gas == 1 ? needed - 1 : needed / 2;
  }
  std::vector<std::string> metered, unmetered;
  for (const Case &c : all)
    metered.push_back(run(*reference, c, true));
  auto plain = engineWith(0, false, true);
  for (const Case &c : all)
    unmetered.push_back(run(*plain, c, false));
  for (unsigned opt : {0u, 1u, 2u, 3u})
    for (int config = 0; config < 3; ++config) {
      bool metering = config != 2;
      auto engine = engineWith(opt, metering, config == 0);
      for (size_t i = 0; i < all.size(); ++i) {
        SCOPED_TRACE(std::string(all[i].function) + " case " + std::to_string(i) + " -O" +
                     std::to_string(opt) + " config " + std::to_string(config));
        EXPECT_EQ(run(*engine, all[i], metering), metering ? metered[i] : unmetered[i]);
      }
    }
  // The reference itself, by hand: in bounds the call completes and
  // changes memory; one gas short it runs out, having written part of it;
  // the overlapping and out-of-bounds cases end as wasm says.
  ASSERT_EQ(all.size(), 32u);
  for (size_t base : {0u, 14u}) {
    EXPECT_EQ(metered[base].substr(0, 2), "ok");
    EXPECT_EQ(metered[base + 1], metered[base]);
    EXPECT_EQ(metered[base + 2].substr(0, 10), "out_of_gas");
    EXPECT_EQ(metered[base + 3].substr(0, 10), "out_of_gas");
    EXPECT_NE(metered[base + 2].substr(metered[base + 2].find("digest")),
              metered[base + 3].substr(metered[base + 3].find("digest")));
    for (size_t overlap : {4u, 5u, 6u})
      EXPECT_EQ(metered[base + overlap].substr(0, 2), "ok");
    for (size_t outside : {7u, 8u, 9u, 10u, 12u, 13u})
      EXPECT_EQ(unmetered[base + outside].substr(0, 20), "memory_out_of_bounds")
          << unmetered[base + outside];
    EXPECT_EQ(metered[base + 11].substr(0, 14), "out_of_gas gas");
  }
  EXPECT_EQ(unmetered[28].substr(0, 20), "memory_out_of_bounds") << unmetered[28];
  EXPECT_EQ(unmetered[29].substr(0, 20), "memory_out_of_bounds") << unmetered[29];
  EXPECT_EQ(unmetered[30].substr(0, 2), "ok") << unmetered[30];
  EXPECT_EQ(unmetered[31].substr(0, 2), "ok") << unmetered[31];
  // Both forms of the loop compute the same (at another cost).
  EXPECT_EQ(metered[0].substr(metered[0].find("digest")),
            metered[14].substr(metered[14].find("digest")));
}

// At -O2 the copy without checks is vectorized with whole vectors: the
// loop the guest's compiler unrolled by two is rolled up again first
// (otherwise each vector is shuffled in and out: `<i32 0, i32 2, ...>`),
// and its 32-bit addresses are 64-bit inductions (otherwise gathers). The
// checked loop stays, with its volatile loads.
TEST(LoopVersioning, UncheckedCopyIsVectorizedWithoutShuffles) {
  Bytes code = watModule("loop_versioning");
  for (bool metering : {false, true})
    for (const char *function : {"axpy", "axpy_i32"}) {
      SCOPED_TRACE(std::string(function) + (metering ? " metered" : ""));
      Engine engine(EngineOptions{.metering = metering});
      auto ir = engine.inspect(code, Stage::LLVMOpt, function);
      ASSERT_TRUE(ir) << ir.error().toString();
      EXPECT_NE(ir->find("fmul <"), std::string::npos) << *ir;
      EXPECT_EQ(ir->find("<i32 0, i32 2"), std::string::npos) << *ir;
      EXPECT_EQ(ir->find("gather"), std::string::npos) << *ir;
      EXPECT_NE(ir->find("load volatile"), std::string::npos) << *ir;
    }
}

} // namespace
} // namespace nomos::test
