// Loops run in an unchecked copy when a test before them shows that they
// cannot trap (compiler/src/loop_versioning.cpp): the copy and the loop it
// stands for must be indistinguishable. Every case below runs at every
// optimization level, metered (counter in a register or not) and not, and
// must give the same result, trap, gas and memory; the cases put the test
// on both sides: in bounds and out, with gas to spare and short of it,
// arrays that overlap, 32-bit addresses that wrap.
#include "test_util.h"

#include <binaryen-c.h>

#include <random>

namespace nomos::test {
namespace {

struct Case {
  const char *function; // tests/wat/loop_versioning.wat
  uint32_t dst, src, n;
  uint64_t gas;
};

constexpr uint64_t kPlenty = 10'000'000;

// Both memory strategies are set explicitly (the suite also runs again with
// NOMOS_MEMORY=explicit): guard pages version on loads and gas, explicit
// checks on their bounds checks and gas.
std::shared_ptr<Engine> engineWith(unsigned opt, bool metering, bool inRegister,
                                   MemoryStrategy memory = MemoryStrategy::GuardPages) {
  EngineOptions options;
  options.optLevel = opt;
  options.metering = metering;
  options.gasInRegister = inRegister;
  options.memory = memory;
  return std::make_shared<Engine>(options);
}

constexpr MemoryStrategy kStrategies[] = {MemoryStrategy::GuardPages,
                                          MemoryStrategy::ExplicitChecks};

// What one call of `function` in `code` leaves: its result or trap, the
// gas it used (metered), and a digest of the memory after it. The module's
// init and digest run in a second instance on the same memory, with gas to
// spare.
std::string callAndDigest(Engine &engine, const Bytes &code, const char *function,
                          const std::vector<Value> &args, uint64_t gas, bool metered) {
  auto memory = Extern::memory(1, std::nullopt, engine.options().memory);
  if (!memory)
    return memory.error().toString();
  auto imports = [&](std::string_view, std::string_view) -> std::optional<Extern> {
    return *memory;
  };
  Limits limits;
  limits.gas = kPlenty;
  auto checker = Instance::create(engine, code, imports, limits);
  limits.gas = gas;
  auto worker = Instance::create(engine, code, imports, limits);
  if (!checker || !worker)
    return "instantiation failed: " +
           (checker ? worker.error().toString() : checker.error().toString());
  if (!checker->call("init", std::vector<Value>{}))
    return "init failed";
  auto result = worker->call(function, args);
  std::string text = result ? "ok" : std::string(errorKindName(result.error().kind));
  if (metered)
    text += " gas " + std::to_string(worker->lastCallGas().used);
  auto digest = checker->call("digest", std::vector<Value>{});
  return text + " digest " + (digest ? toString(digest->at(0)) : digest.error().toString());
}

std::string run(Engine &engine, const Case &c, bool metered) {
  const Value a = Value::f64Bits(0x3ff8000000000000); // 1.5
  return callAndDigest(engine, watModule("loop_versioning"), c.function,
                       {Value::i32(c.dst), Value::i32(c.src), Value::i32(c.n), a}, c.gas,
                       metered);
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
  // The dropped load's last element is out of bounds: a trap, after the
  // stores before it.
  all.push_back({"probe", 1024, 65536 - 8 * 40 + 8, 40, kPlenty});
  // State carried around the loop: in bounds (gas to spare, exactly enough,
  // one less), the last store out, the last load out.
  all.push_back({"pairs", 1024, 8192, 100, kPlenty});
  all.push_back({"pairs", 1024, 8192, 100, 0});
  all.push_back({"pairs", 1024, 8192, 100, 1});
  all.push_back({"pairs", 65536 - 8 * 40 + 8, 8192, 40, kPlenty});
  all.push_back({"pairs", 1024, 65536 - 8 * 40, 40, kPlenty});
  // State that rotates (unrolled four times): in bounds (gas to spare,
  // exactly enough, one less), a load out halfway.
  all.push_back({"rounds", 1024, 8192, 0, kPlenty});
  all.push_back({"rounds", 1024, 8192, 0, 0});
  all.push_back({"rounds", 1024, 8192, 0, 1});
  all.push_back({"rounds", 1024, 65536 - 128, 0, kPlenty});
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
  for (MemoryStrategy memory : kStrategies)
    for (unsigned opt : {0u, 1u, 2u, 3u})
      for (int config = 0; config < 3; ++config) {
        bool metering = config != 2;
        auto engine = engineWith(opt, metering, config == 0, memory);
        for (size_t i = 0; i < all.size(); ++i) {
          SCOPED_TRACE(std::string(all[i].function) + " case " + std::to_string(i) + " -O" +
                       std::to_string(opt) + " config " + std::to_string(config) +
                       (memory == MemoryStrategy::GuardPages ? "" : ", explicit checks"));
          EXPECT_EQ(run(*engine, all[i], metering), metering ? metered[i] : unmetered[i]);
        }
      }
  // The reference itself, by hand: in bounds the call completes and
  // changes memory; one gas short it runs out, having written part of it;
  // the overlapping and out-of-bounds cases end as wasm says.
  ASSERT_EQ(all.size(), 42u);
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
  EXPECT_EQ(unmetered[32].substr(0, 20), "memory_out_of_bounds") << unmetered[32];
  // pairs and rounds: gas to spare, exactly enough, one less; then out.
  for (size_t base : {33u, 38u}) {
    EXPECT_EQ(metered[base].substr(0, 2), "ok") << metered[base];
    EXPECT_EQ(metered[base + 1], metered[base]);
    EXPECT_EQ(metered[base + 2].substr(0, 10), "out_of_gas") << metered[base + 2];
  }
  for (size_t outside : {36u, 37u, 41u})
    EXPECT_EQ(unmetered[outside].substr(0, 20), "memory_out_of_bounds") << unmetered[outside];
  EXPECT_NE(unmetered[36].substr(unmetered[36].find("digest")),
            unmetered[37].substr(unmetered[37].find("digest")));
  // Both forms of the loop compute the same (at another cost).
  EXPECT_EQ(metered[0].substr(metered[0].find("digest")),
            metered[14].substr(metered[14].find("digest")));
}

// At -O2 the copy without checks is vectorized with whole vectors: the
// loop the guest's compiler unrolled by two is rolled up again first
// (otherwise each vector is shuffled in and out: `<i32 0, i32 2, ...>`),
// and its 32-bit addresses are 64-bit inductions (otherwise gathers). The
// checked loop stays: with guard pages its loads are volatile, with
// explicit checks it traps out of bounds (trap code 2).
TEST(LoopVersioning, UncheckedCopyIsVectorizedWithoutShuffles) {
  Bytes code = watModule("loop_versioning");
  for (MemoryStrategy memory : kStrategies)
    for (bool metering : {false, true})
      for (const char *function : {"axpy", "axpy_i32"}) {
        bool guard = memory == MemoryStrategy::GuardPages;
        SCOPED_TRACE(std::string(function) + (metering ? " metered" : "") +
                     (guard ? "" : ", explicit checks"));
        Engine engine(EngineOptions{.metering = metering, .memory = memory});
        auto ir = engine.inspect(code, Stage::LLVMOpt, function);
        ASSERT_TRUE(ir) << ir.error().toString();
        EXPECT_NE(ir->find("fmul <"), std::string::npos) << *ir;
        EXPECT_EQ(ir->find("<i32 0, i32 2"), std::string::npos) << *ir;
        EXPECT_EQ(ir->find("gather"), std::string::npos) << *ir;
        EXPECT_NE(ir->find(guard ? "load volatile" : "@nomos_rt_trap(ptr nonnull %0, i32 2)"),
                  std::string::npos)
            << *ir;
      }
}

// Without checks to lose (unmetered, guard pages), a loop that carries state
// from one iteration to the next will not vectorize, but its 32-bit
// addresses become 64-bit inductions in the copy (one register per step
// where LSR kept one per offset: sha256's message schedule), so it is
// versioned too.
TEST(LoopVersioning, CarriedStateIsVersionedForItsAddresses) {
  Engine engine(EngineOptions{.metering = false, .memory = MemoryStrategy::GuardPages});
  auto ir = engine.inspect(watModule("loop_versioning"), Stage::LLVMOpt, "pairs");
  ASSERT_TRUE(ir) << ir.error().toString();
  EXPECT_NE(ir->find(".fast:"), std::string::npos) << *ir;
  EXPECT_NE(ir->find("load volatile"), std::string::npos) << *ir; // the checked loop
}

// SHA-256's round loop, whose state rotates (h = g, g = f, f = e, ...), is
// unrolled as many times as a value takes to go round (codegen.cpp,
// UnrollRotations): four copies of the body in the copy that cannot trap,
// metered or not. (LLVM alone leaves a loop body of this size whole.)
TEST(LoopVersioning, RotatingStateIsUnrolled) {
  for (bool metering : {false, true}) {
    Engine engine(EngineOptions{.metering = metering});
    auto ir = engine.inspect(watModule("loop_versioning"), Stage::LLVMOpt, "rounds");
    ASSERT_TRUE(ir) << ir.error().toString();
    size_t fast = ir->find("\nloop.fast:");
    ASSERT_NE(fast, std::string::npos) << *ir;
    size_t rotates = 0;
    for (size_t at = ir->find("@llvm.fshl.i32(i32", fast); at != std::string::npos;
         at = ir->find("@llvm.fshl.i32(i32", at + 1))
      ++rotates;
    EXPECT_EQ(rotates, 4u * 6) << *ir; // six rotates a round
  }
}

// Random counted loops over memory, built with Binaryen's C API: each
// iteration does `copies` times `dst[i + j] = src[i + j] OP x` (x: dst's
// own element, a constant, or state rotating through locals), with the
// element's address either an offset= or an i32.add, as compilers emit
// both. Plus `init` and `digest` (what tests/wat/loop_versioning.wat has),
// for the memory they share.
class RandomLoop {
public:
  explicit RandomLoop(std::mt19937 &random) : random_(random) {}

  Bytes build() {
    module_ = BinaryenModuleCreate();
    BinaryenModuleSetFeatures(module_, BinaryenFeatureMVP());
    BinaryenSetMemory(module_, 1, 0xffffffffu, nullptr, nullptr, nullptr, nullptr, nullptr, 0,
                      false);
    BinaryenAddMemoryImport(module_, nullptr, "env", "memory", 0);
    addKernel();
    addInit();
    addDigest();
    if (!BinaryenModuleValidate(module_))
      throw std::runtime_error("the random loop is not valid wasm");
    bool debugInfo = BinaryenGetDebugInfo(); // a name section, for inspect
    BinaryenSetDebugInfo(true);
    BinaryenModuleAllocateAndWriteResult written =
        BinaryenModuleAllocateAndWrite(module_, nullptr);
    BinaryenSetDebugInfo(debugInfo);
    const auto *data = static_cast<const uint8_t *>(written.binary);
    Bytes binary(data, data + written.binaryBytes);
    free(written.binary);
    free(written.sourceMap);
    BinaryenModuleDispose(module_);
    return binary;
  }

  unsigned stride() const { return copies_ * bytes_; } // bytes per iteration

private:
  uint32_t pick(uint32_t n) { return random_() % n; }
  BinaryenExpressionRef get(BinaryenIndex local) {
    return BinaryenLocalGet(module_, local, BinaryenTypeInt32());
  }
  BinaryenExpressionRef i32(int32_t value) {
    return BinaryenConst(module_, BinaryenLiteralInt32(value));
  }

  // kernel(dst, src, n): n iterations (n = 0: the 32-bit count wraps).
  void addKernel() {
    static BinaryenType (*const types[])() = {BinaryenTypeInt32, BinaryenTypeInt64,
                                              BinaryenTypeFloat32, BinaryenTypeFloat64};
    unsigned kind = pick(4);
    BinaryenType type = types[kind]();
    bytes_ = kind % 2 ? 8 : 4;
    copies_ = 1 + pick(4);
    bool readDst = pick(2);
    std::vector<BinaryenOp> ops = kind == 0   ? std::vector{BinaryenAddInt32(), BinaryenMulInt32(),
                                                          BinaryenXorInt32()}
                                  : kind == 1 ? std::vector{BinaryenAddInt64(), BinaryenSubInt64()}
                                  : kind == 2 ? std::vector{BinaryenAddFloat32(), BinaryenMulFloat32()}
                                              : std::vector{BinaryenAddFloat64(), BinaryenSubFloat64()};
    BinaryenOp op = ops[pick(ops.size())];
    BinaryenExpressionRef constant =
        kind == 0   ? i32(int32_t(random_()))
        : kind == 1 ? BinaryenConst(module_, BinaryenLiteralInt64(int64_t(random_()) << 7))
        : kind == 2 ? BinaryenConst(module_, BinaryenLiteralFloat32(1.5f))
                    : BinaryenConst(module_, BinaryenLiteralFloat64(-0.75));
    // One kernel in two carries state that rotates through 3 to 5 locals
    // (r0 -> r1 -> ..., a hash's rounds): each element reads the last of
    // them, and the last element stored goes into r0. Half of those run a
    // constant number of iterations, a multiple of the rotation, which the
    // compiler unrolls (UnrollRotations); n only sets the others' count.
    unsigned rotation = pick(2) ? 3 + pick(3) : 0;
    uint32_t constantTrips = rotation && pick(2) ? rotation * (1 + pick(6)) : 0;
    // locals: 0 dst, 1 src, 2 n, 3 i, 4 end, then the rotation's
    enum : BinaryenIndex { Dst, Src, N, I, End, Rotation };
    auto rotated = [&](unsigned k) { return BinaryenLocalGet(module_, Rotation + k, type); };
    std::vector<BinaryenExpressionRef> body;
    for (unsigned j = 0; j < copies_; ++j) {
      bool explicitAdd = pick(2);
      uint32_t offset = explicitAdd ? 0 : j * bytes_;
      auto address = [&](BinaryenIndex base) {
        BinaryenExpressionRef at = BinaryenBinary(module_, BinaryenAddInt32(), get(base), get(I));
        return explicitAdd ? BinaryenBinary(module_, BinaryenAddInt32(), at, i32(j * bytes_)) : at;
      };
      BinaryenExpressionRef x =
          rotation  ? rotated(rotation - 1)
          : readDst ? BinaryenLoad(module_, bytes_, false, offset, 1, type, address(Dst))
                    : BinaryenExpressionCopy(constant, module_);
      BinaryenExpressionRef value = BinaryenBinary(
          module_, op, BinaryenLoad(module_, bytes_, false, offset, 1, type, address(Src)), x);
      body.push_back(BinaryenStore(module_, bytes_, offset, 1, address(Dst), value, type));
      if (rotation && j + 1 == copies_) {
        for (unsigned k = rotation - 1; k > 0; --k)
          body.push_back(BinaryenLocalSet(module_, Rotation + k, rotated(k - 1)));
        body.push_back(BinaryenLocalSet(
            module_, Rotation, BinaryenLoad(module_, bytes_, false, offset, 1, type, address(Dst))));
      }
    }
    body.push_back(BinaryenBreak(
        module_, "l",
        BinaryenBinary(module_, BinaryenNeInt32(),
                       BinaryenLocalTee(module_, I,
                                        BinaryenBinary(module_, BinaryenAddInt32(), get(I),
                                                       i32(stride())),
                                        BinaryenTypeInt32()),
                       get(End)),
        nullptr));
    BinaryenExpressionRef loop =
        BinaryenLoop(module_, "l", BinaryenBlock(module_, nullptr, body.data(), body.size(),
                                                 BinaryenTypeNone()));
    BinaryenExpressionRef start[] = {
        BinaryenLocalSet(module_, End,
                         constantTrips ? i32(int32_t(constantTrips * stride()))
                                       : BinaryenBinary(module_, BinaryenMulInt32(), get(N),
                                                        i32(stride()))),
        loop};
    BinaryenType params[] = {BinaryenTypeInt32(), BinaryenTypeInt32(), BinaryenTypeInt32()};
    std::vector<BinaryenType> locals = {BinaryenTypeInt32(), BinaryenTypeInt32()};
    locals.insert(locals.end(), rotation, type);
    BinaryenAddFunction(module_, "kernel", BinaryenTypeCreate(params, 3), BinaryenTypeNone(),
                        locals.data(), locals.size(),
                        BinaryenBlock(module_, nullptr, start, 2, BinaryenTypeNone()));
    BinaryenAddFunctionExport(module_, "kernel", "kernel");
  }

  // Every 4-byte word: a multiplicative hash of its address.
  void addInit() {
    BinaryenExpressionRef body[] = {
        BinaryenStore(module_, 4, 0, 1, get(0),
                      BinaryenBinary(module_, BinaryenMulInt32(), get(0), i32(-1640531535)),
                      BinaryenTypeInt32()),
        BinaryenBreak(module_, "l",
                      BinaryenBinary(module_, BinaryenNeInt32(),
                                     BinaryenLocalTee(module_, 0,
                                                      BinaryenBinary(module_, BinaryenAddInt32(),
                                                                     get(0), i32(4)),
                                                      BinaryenTypeInt32()),
                                     i32(65536)),
                      nullptr)};
    BinaryenType locals[] = {BinaryenTypeInt32()};
    BinaryenAddFunction(module_, "init", BinaryenTypeNone(), BinaryenTypeNone(), locals, 1,
                        BinaryenLoop(module_, "l", BinaryenBlock(module_, nullptr, body, 2,
                                                                BinaryenTypeNone())));
    BinaryenAddFunctionExport(module_, "init", "init");
  }

  // FNV-1a over the memory's 8-byte words.
  void addDigest() {
    auto h = [&] { return BinaryenLocalGet(module_, 1, BinaryenTypeInt64()); };
    BinaryenExpressionRef body[] = {
        BinaryenLocalSet(
            module_, 1,
            BinaryenBinary(module_, BinaryenMulInt64(),
                           BinaryenBinary(module_, BinaryenXorInt64(), h(),
                                          BinaryenLoad(module_, 8, false, 0, 1,
                                                       BinaryenTypeInt64(), get(0))),
                           BinaryenConst(module_, BinaryenLiteralInt64(0x100000001b3)))),
        BinaryenBreak(module_, "l",
                      BinaryenBinary(module_, BinaryenNeInt32(),
                                     BinaryenLocalTee(module_, 0,
                                                      BinaryenBinary(module_, BinaryenAddInt32(),
                                                                     get(0), i32(8)),
                                                      BinaryenTypeInt32()),
                                     i32(65536)),
                      nullptr)};
    BinaryenExpressionRef all[] = {
        BinaryenLoop(module_, "l",
                     BinaryenBlock(module_, nullptr, body, 2, BinaryenTypeNone())),
        h()};
    BinaryenType locals[] = {BinaryenTypeInt32(), BinaryenTypeInt64()};
    BinaryenAddFunction(module_, "digest", BinaryenTypeNone(), BinaryenTypeInt64(), locals, 2,
                        BinaryenBlock(module_, nullptr, all, 2, BinaryenTypeInt64()));
    BinaryenAddFunctionExport(module_, "digest", "digest");
  }

  std::mt19937 &random_;
  BinaryenModuleRef module_ = nullptr;
  unsigned bytes_ = 4;
  unsigned copies_ = 1;
};

std::string runKernel(Engine &engine, const Bytes &code, uint32_t dst, uint32_t src, uint32_t n,
                      uint64_t gas, bool metered) {
  return callAndDigest(engine, code, "kernel",
                       {Value::i32(dst), Value::i32(src), Value::i32(n)}, gas, metered);
}

// Random loops, random arguments (in bounds, the last element or the
// first out, overlapping, wrapping, n = 0) and gas limits (plenty, or part
// of what the call needs): -O2 and -O3 must do what -O0 does, metered or
// not. At -O0 nothing is versioned; at -O2 most of these loops are (the
// test checks that it sees some), so both the unchecked copy and the
// fallback are compared with the plain loop.
TEST(LoopVersioning, RandomCountedLoopsAgreeWithO0) {
  std::mt19937 random(20261126);
  auto o0 = engineWith(0, true, true), o0Plain = engineWith(0, false, true);
  auto o2 = engineWith(2, true, true), o3 = engineWith(3, true, false),
       o2Plain = engineWith(2, false, true),
       o2Explicit = engineWith(2, true, true, MemoryStrategy::ExplicitChecks);
  int versioned = 0, versionedExplicit = 0;
  for (int m = 0; m < 24; ++m) {
    RandomLoop loop(random);
    Bytes code = loop.build();
    auto ir = o2->inspect(code, Stage::LLVMOpt, "kernel");
    ASSERT_TRUE(ir) << ir.error().toString();
    auto explicitIr = o2Explicit->inspect(code, Stage::LLVMOpt, "kernel");
    ASSERT_TRUE(explicitIr) << explicitIr.error().toString();
    versioned += ir->find(".fast:") != std::string::npos;
    versionedExplicit += explicitIr->find(".fast:") != std::string::npos;
    uint32_t stride = loop.stride();
    for (int a = 0; a < 6; ++a) {
      uint32_t n = 1 + random() % 300, dst = random() % 20000, src = random() % 20000;
      switch (a) {
      case 1: dst = 65536 - stride * n + loop.stride() / 2; break; // the last one out
      case 2: src = dst + (random() % 3) * 4; break;               // overlapping
      case 3: dst = src; break;
      case 4: n = random() % 2 ? 0 : n; src = 0xffffff00u + random() % 64; break;
      default: break;
      }
      std::string full = runKernel(*o0, code, dst, src, n, kPlenty, true);
      uint64_t gas = kPlenty;
      if (a == 5 && full.substr(0, 7) == "ok gas ")
        gas = std::stoull(full.substr(7)) * (1 + random() % 9) / 10;
      std::string expected = runKernel(*o0, code, dst, src, n, gas, true);
      std::string plain = runKernel(*o0Plain, code, dst, src, n, gas, false);
      SCOPED_TRACE("module " + std::to_string(m) + " args " + std::to_string(dst) + ", " +
                   std::to_string(src) + ", " + std::to_string(n) + " gas " +
                   std::to_string(gas));
      EXPECT_EQ(runKernel(*o2, code, dst, src, n, gas, true), expected);
      EXPECT_EQ(runKernel(*o3, code, dst, src, n, gas, true), expected);
      EXPECT_EQ(runKernel(*o2Plain, code, dst, src, n, gas, false), plain);
      EXPECT_EQ(runKernel(*o2Explicit, code, dst, src, n, gas, true), expected);
    }
  }
  EXPECT_GE(versioned, 12) << "the random loops no longer exercise loop versioning";
  EXPECT_GE(versionedExplicit, 12) << "nor with explicit checks";
}

} // namespace
} // namespace nomos::test
