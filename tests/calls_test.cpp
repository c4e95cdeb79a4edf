// The fast call paths: Function handles (host->guest) and host functions
// that write their results in place (guest->host), their errors, and that
// a call through them allocates nothing.
#include "test_util.h"

#include <nomos/instance.h>

#include <atomic>
#include <bit>
#include <cstdlib>
#include <new>
#include <stdexcept>

// Counts this process's allocations, so that a test can check that a call
// makes none. (Replacing operator new is the standard's own hook for this.)
static std::atomic<long> allocations{0};

// GCC pairs the free() below with the new-expressions it inlines them into;
// they are this file's own operator new, which mallocs.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void *operator new(std::size_t size) {
  allocations.fetch_add(1, std::memory_order_relaxed);
  if (void *p = std::malloc(size ? size : 1))
    return p;
  throw std::bad_alloc();
}
void operator delete(void *p) noexcept { std::free(p); }
void operator delete(void *p, std::size_t) noexcept { std::free(p); }

namespace nomos {
namespace {

using test::watModule;

class CallsTest : public ::testing::Test {
protected:
  Instance instantiate(const char *name, const ImportResolver &imports = {}) {
    auto instance = Instance::create(engine_, watModule(name), imports);
    if (!instance)
      throw std::runtime_error(instance.error().toString());
    return std::move(*instance);
  }
  Function function(Instance &instance, const char *name) {
    auto fn = instance.function(name);
    if (!fn)
      throw std::runtime_error(fn.error().toString());
    return std::move(*fn);
  }

  Engine engine_{EngineOptions{.metering = false}};
};

TEST_F(CallsTest, HandleReturnsResults) {
  Instance instance = instantiate("arith");
  Function divS = function(instance, "div_s");
  EXPECT_EQ(divS.type(), (FunctionType{{ValueType::I32, ValueType::I32},
                                       {ValueType::I32}}));
  Value args[] = {Value::i32(-7), Value::i32(2)};
  Value result;
  ASSERT_TRUE(divS.call(args, {&result, 1}));
  EXPECT_EQ(result, Value::i32(-3));
  Value more[] = {Value::i32(100), Value::i32(-9)};
  ASSERT_TRUE(divS.call(more, {&result, 1}));
  EXPECT_EQ(result, Value::i32(-11));
  // The vector form gives the same.
  auto results = divS.call(more);
  ASSERT_TRUE(results);
  EXPECT_EQ(*results, std::vector<Value>{Value::i32(-11)});
}

TEST_F(CallsTest, TrapIsAnErrorAndTheHandleStillWorks) {
  Instance instance = instantiate("arith");
  Function divS = function(instance, "div_s");
  Value zero[] = {Value::i32(1), Value::i32(0)};
  Value result;
  auto trapped = divS.call(zero, {&result, 1});
  ASSERT_FALSE(trapped);
  EXPECT_EQ(trapped.error().kind, ErrorKind::IntegerDivideByZero);
  Value ok[] = {Value::i32(9), Value::i32(3)};
  ASSERT_TRUE(divS.call(ok, {&result, 1}));
  EXPECT_EQ(result, Value::i32(3));
}

TEST_F(CallsTest, MismatchedArgumentsAndResultsAreErrors) {
  Instance instance = instantiate("arith");
  Function divS = function(instance, "div_s");
  Value result;
  Value one[] = {Value::i32(1)};
  auto arity = divS.call(one, {&result, 1});
  ASSERT_FALSE(arity);
  EXPECT_EQ(arity.error().kind, ErrorKind::BadArguments);
  EXPECT_NE(arity.error().message.find("2 argument(s), 1 given"),
            std::string::npos)
      << arity.error().message;
  Value wrongType[] = {Value::i32(1), Value::i64(2)};
  auto type = divS.call(wrongType, {&result, 1});
  ASSERT_FALSE(type);
  EXPECT_EQ(type.error().kind, ErrorKind::BadArguments);
  EXPECT_NE(type.error().message.find("argument 2 must be i32, not i64"),
            std::string::npos)
      << type.error().message;
  Value args[] = {Value::i32(6), Value::i32(3)};
  Value two[2];
  auto room = divS.call(args, two);
  ASSERT_FALSE(room);
  EXPECT_EQ(room.error().kind, ErrorKind::BadArguments);
  auto none = divS.call(args, {});
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().kind, ErrorKind::BadArguments);
}

TEST_F(CallsTest, OnlyExportedFunctionsHaveHandles) {
  int32_t base = 0;
  Instance instance = instantiate(
      "host_import", [&](std::string_view, std::string_view name)
                         -> std::optional<Extern> {
        if (name == "add")
          return Extern::function(
              {{ValueType::I32, ValueType::I32}, {ValueType::I32}},
              [](std::span<const Value> a) -> Expected<std::vector<Value>> {
                return std::vector<Value>{Value::i32(a[0].asI32() + a[1].asI32())};
              });
        if (name == "fail")
          return Extern::function({}, [](std::span<const Value>)
                                          -> Expected<std::vector<Value>> {
            return std::vector<Value>{};
          });
        return Extern::global(Value::i32(base), false);
      });
  auto missing = instance.function("nope");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::UnknownExport);
  auto global = instance.function("counter"); // a global, not a function
  ASSERT_FALSE(global);
  EXPECT_EQ(global.error().kind, ErrorKind::UnknownExport);
}

// The handle shares the instance's state: calls go on, with its globals,
// after the Instance is gone.
TEST_F(CallsTest, HandleKeepsTheInstanceAlive) {
  std::optional<Function> bump;
  {
    Instance instance = instantiate(
        "host_import", [](std::string_view, std::string_view name)
                           -> std::optional<Extern> {
          FunctionType type = name == "add"
                                  ? FunctionType{{ValueType::I32, ValueType::I32},
                                                 {ValueType::I32}}
                                  : FunctionType{};
          if (name == "base")
            return Extern::global(Value::i32(0), false);
          return Extern::function(type, [](std::span<const Value>,
                                           std::span<Value>) -> Expected<void> {
            return {};
          });
        });
    bump = function(instance, "bump");
    ASSERT_TRUE(instance.call("bump"));
  }
  Value count;
  ASSERT_TRUE(bump->call({}, {&count, 1}));
  EXPECT_EQ(count, Value::i64(2));
  ASSERT_TRUE(bump->call({}, {&count, 1}));
  EXPECT_EQ(count, Value::i64(3));
}

// env.add and env.fail as allocation-free host functions.
class InPlaceHostTest : public CallsTest {
protected:
  void SetUp() override {
    FunctionType addType{{ValueType::I32, ValueType::I32}, {ValueType::I32}};
    add_ = Extern::function(
        addType, [this](std::span<const Value> args,
                        std::span<Value> results) -> Expected<void> {
          ++calls_;
          if (wrongType_)
            results[0] = Value::i64(0);
          else
            results[0] = Value::i32(args[0].asI32() + args[1].asI32());
          return {};
        });
    fail_ = Extern::function(
        {}, [](std::span<const Value>, std::span<Value>) -> Expected<void> {
          return makeError(ErrorKind::BadArguments, "the host refuses");
        });
    instance_.emplace(instantiate(
        "host_import",
        [this](std::string_view, std::string_view name) -> std::optional<Extern> {
          if (name == "add")
            return *add_;
          if (name == "fail")
            return *fail_;
          return Extern::global(Value::i32(1000), false);
        }));
  }

  std::optional<Extern> add_, fail_;
  std::optional<Instance> instance_;
  int calls_ = 0;
  bool wrongType_ = false;
};

TEST_F(InPlaceHostTest, ResultsComeBackToTheGuest) {
  Function run = function(*instance_, "run");
  Value arg = Value::i32(5);
  Value result;
  ASSERT_TRUE(run.call({&arg, 1}, {&result, 1}));
  EXPECT_EQ(result, Value::i32(5 + 10 + 1000));
  EXPECT_EQ(calls_, 1);
  EXPECT_EQ(add_->functionType(),
            (FunctionType{{ValueType::I32, ValueType::I32}, {ValueType::I32}}));
}

TEST_F(InPlaceHostTest, AnErrorTrapsTheGuest) {
  auto failed = instance_->call("call_fail");
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().kind, ErrorKind::HostError);
  EXPECT_NE(failed.error().message.find("the host refuses"), std::string::npos)
      << failed.error().message;
}

TEST_F(InPlaceHostTest, AResultOfTheWrongTypeTrapsTheGuest) {
  wrongType_ = true;
  auto failed = instance_->call("run", std::vector<Value>{Value::i32(1)});
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().kind, ErrorKind::HostError);
  EXPECT_NE(failed.error().message.find("wrong type"), std::string::npos)
      << failed.error().message;
}

// The point of both fast paths: a call into the guest that calls the host
// back allocates nothing, where Instance::call does.
TEST_F(InPlaceHostTest, CallsAllocateNothing) {
  Function run = function(*instance_, "run");
  Value arg = Value::i32(1);
  Value result;
  ASSERT_TRUE(run.call({&arg, 1}, {&result, 1})); // warm: first-call setup
  long before = allocations.load();
  for (int i = 0; i < 100; ++i)
    ASSERT_TRUE(run.call({&arg, 1}, {&result, 1}));
  EXPECT_EQ(allocations.load() - before, 0);
  EXPECT_EQ(result, Value::i32(1011));
  // The counter sees the library's allocations: Instance::call's vector.
  std::vector<Value> args{arg};
  before = allocations.load();
  ASSERT_TRUE(instance_->call("run", args));
  EXPECT_GT(allocations.load() - before, 0);
}

Value f32(float v) { return Value::f32Bits(std::bit_cast<uint32_t>(v)); }
Value f64(double v) { return Value::f64Bits(std::bit_cast<uint64_t>(v)); }

// Host functions made with Extern::wrap: typed C++ callables that generated
// code calls directly (wrapped_function.h).
class WrappedHostTest : public CallsTest {
protected:
  void SetUp() override {
    instance_.emplace(instantiate(
        "host_wrapped",
        [this](std::string_view, std::string_view name) -> std::optional<Extern> {
          if (name == "mix")
            return Extern::wrap([this](int32_t a, int64_t b, float c, double d) {
              ++mixCalls_;
              return a * 1000.0 + double(b) + double(c) + d;
            });
          if (name == "tick")
            return Extern::wrap([this](uint32_t n) { ticks_ += n; });
          if (name == "fail")
            return Extern::wrap([this]() -> Expected<int64_t> {
              if (failKind_)
                return makeError(*failKind_, "the host refuses");
              return 42;
            });
          if (name == "throw")
            return Extern::wrap([]() { throw std::runtime_error("host bug"); });
          return std::nullopt;
        }));
  }

  std::optional<Instance> instance_;
  int mixCalls_ = 0;
  uint64_t ticks_ = 0;
  std::optional<ErrorKind> failKind_;
};

TEST_F(WrappedHostTest, TheSignatureFollowsFromTheCallable) {
  Extern mix = Extern::wrap([](int32_t, int64_t, float, double) { return 0.0; });
  EXPECT_EQ(mix.functionType(),
            (FunctionType{{ValueType::I32, ValueType::I64, ValueType::F32,
                           ValueType::F64},
                          {ValueType::F64}}));
  Extern none = Extern::wrap([](uint64_t) mutable {});
  EXPECT_EQ(none.functionType(), (FunctionType{{ValueType::I64}, {}}));
  Extern checked = Extern::wrap(+[]() -> Expected<float> { return 1.0f; });
  EXPECT_EQ(checked.functionType(), (FunctionType{{}, {ValueType::F32}}));
}

TEST_F(WrappedHostTest, ArgumentsAndResultsOfEveryTypeArrive) {
  std::vector<Value> args{Value::i32(-3), Value::i64(1LL << 40),
                          f32(0.5f), f64(0.125)};
  auto result = instance_->call("run", args);
  ASSERT_TRUE(result) << result.error().toString();
  EXPECT_EQ(*result, std::vector<Value>{f64(-3000.0 + double(1LL << 40) +
                                                   0.5 + 0.125)});
  EXPECT_EQ(mixCalls_, 1);
  // The unsigned parameter sees the i32's bits.
  EXPECT_EQ(ticks_, uint64_t(uint32_t(-3)));
}

TEST_F(WrappedHostTest, ThroughATableAndReExportedToTheHost) {
  auto indirect = instance_->call("run_indirect", std::vector<Value>{Value::i32(7)});
  ASSERT_TRUE(indirect) << indirect.error().toString();
  EXPECT_EQ(*indirect, std::vector<Value>{f64(7002.75)});
  std::vector<Value> args{Value::i32(1), Value::i64(2), f32(4.0f),
                          f64(8.0)};
  auto direct = instance_->call("mix", args);
  ASSERT_TRUE(direct) << direct.error().toString();
  EXPECT_EQ(*direct, std::vector<Value>{f64(1014.0)});
  EXPECT_EQ(mixCalls_, 2);
}

TEST_F(WrappedHostTest, AnErrorTrapsTheGuestAndTheInstanceGoesOn) {
  auto ok = instance_->call("call_fail");
  ASSERT_TRUE(ok) << ok.error().toString();
  EXPECT_EQ(*ok, std::vector<Value>{Value::i64(42)});
  // An error that is not a trap becomes a HostError with its message...
  failKind_ = ErrorKind::BadArguments;
  auto failed = instance_->call("call_fail");
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().kind, ErrorKind::HostError);
  EXPECT_NE(failed.error().message.find("the host refuses"), std::string::npos)
      << failed.error().message;
  // The backtrace starts at the guest function that called the host
  // (call_fail: function 7, after 4 imports and 3 functions).
  ASSERT_FALSE(failed.error().backtrace.empty());
  EXPECT_EQ(failed.error().backtrace[0].functionIndex, 7u);
  // ...a trap keeps its kind...
  failKind_ = ErrorKind::Unreachable;
  failed = instance_->call("call_fail");
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().kind, ErrorKind::Unreachable);
  // ...and the instance goes on.
  failKind_.reset();
  ok = instance_->call("call_fail");
  ASSERT_TRUE(ok) << ok.error().toString();
}

TEST_F(WrappedHostTest, AnExceptionTrapsTheGuest) {
  auto failed = instance_->call("call_throw");
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().kind, ErrorKind::HostError);
  EXPECT_NE(failed.error().message.find("host bug"), std::string::npos)
      << failed.error().message;
  std::vector<Value> args{Value::i32(5)};
  ASSERT_TRUE(instance_->call("tick_n", args));
  EXPECT_EQ(ticks_, 5u);
}

TEST_F(WrappedHostTest, ALinkOfTheWrongTypeIsALinkError) {
  auto instance = Instance::create(
      engine_, watModule("host_wrapped"),
      [](std::string_view, std::string_view) -> std::optional<Extern> {
        return Extern::wrap([](int32_t) { return int32_t(0); });
      });
  ASSERT_FALSE(instance);
  EXPECT_EQ(instance.error().kind, ErrorKind::LinkError);
}

int64_t answerFromAFunction() { return 77; }

TEST_F(WrappedHostTest, APlainFunctionPointerIsCalledToo) {
  auto instance = Instance::create(
      engine_, watModule("host_wrapped"),
      [](std::string_view, std::string_view name) -> std::optional<Extern> {
        if (name == "fail")
          return Extern::wrap(&answerFromAFunction);
        if (name == "mix")
          return Extern::wrap(+[](int32_t, int64_t, float, double) { return 0.0; });
        if (name == "tick")
          return Extern::wrap(+[](uint32_t) {});
        return Extern::wrap(+[]() {});
      });
  ASSERT_TRUE(instance) << instance.error().toString();
  auto result = instance->call("call_fail");
  ASSERT_TRUE(result) << result.error().toString();
  EXPECT_EQ(*result, std::vector<Value>{Value::i64(77)});
}

// Gas is the guest's: the same whichever form the host function takes.
TEST(WrappedHostGasTest, GasIsTheSameAsWithACallback) {
  Engine engine{EngineOptions{.metering = true}};
  auto gasOf = [&](bool wrapped) -> uint64_t {
    auto instance = Instance::create(
        engine, watModule("host_wrapped"),
        [&](std::string_view, std::string_view name) -> std::optional<Extern> {
          Extern fn =
              name == "mix"    ? Extern::wrap([](int32_t, int64_t, float,
                                                 double) { return 0.0; })
              : name == "tick" ? Extern::wrap([](int32_t) {})
              : name == "fail" ? Extern::wrap([]() -> int64_t { return 0; })
                               : Extern::wrap([]() {});
          if (wrapped)
            return fn;
          return Extern::function(
              fn.functionType(),
              [](std::span<const Value>, std::span<Value>) -> Expected<void> {
                return {};
              });
        });
    if (!instance)
      throw std::runtime_error(instance.error().toString());
    EXPECT_TRUE(instance->call("tick_n", std::vector<Value>{Value::i32(10)}));
    return instance->lastCallGas().used;
  };
  uint64_t wrapped = gasOf(true);
  EXPECT_GT(wrapped, 10u);
  EXPECT_EQ(wrapped, gasOf(false));
}

// A host function that calls back into its caller's instance: the gas the
// nested call uses is the outer call's, with either form of host function.
TEST(WrappedHostGasTest, ANestedCallsGasIsTheCallersToo) {
  Engine engine{EngineOptions{.metering = true}};
  auto gasOf = [&](bool wrapped, bool nested) -> uint64_t {
    std::optional<Function> burn;
    auto reenter = [&]() -> Expected<void> {
      if (nested)
        return burn->call({}, {});
      return {};
    };
    auto instance = Instance::create(
        engine, watModule("host_reenter"),
        [&](std::string_view, std::string_view) -> std::optional<Extern> {
          if (wrapped)
            return Extern::wrap(reenter);
          return Extern::function(
              FunctionType{}, [&](std::span<const Value>, std::span<Value>) {
                return reenter();
              });
        });
    if (!instance)
      throw std::runtime_error(instance.error().toString());
    burn.emplace(*instance->function("burn"));
    auto result = instance->call("outer");
    EXPECT_TRUE(result) << result.error().toString();
    return instance->lastCallGas().used;
  };
  uint64_t alone = gasOf(true, false);
  uint64_t nested = gasOf(true, true);
  EXPECT_GT(nested, alone + 10); // burn's loop ran 10 times
  EXPECT_EQ(alone, gasOf(false, false));
  EXPECT_EQ(nested, gasOf(false, true));
}

// A nested call into another instance runs on the outer call's gas and
// leaves that instance's own last-call figure alone.
TEST(WrappedHostGasTest, ANestedCallIntoAnotherInstanceLeavesItsLastCallGas) {
  Engine engine{EngineOptions{.metering = true}};
  auto idle = [](std::string_view, std::string_view) -> std::optional<Extern> {
    return Extern::wrap([] {});
  };
  auto other = Instance::create(engine, watModule("host_reenter"), idle);
  ASSERT_TRUE(other) << other.error().toString();
  ASSERT_TRUE(other->call("burn"));
  GasReport burnAlone = other->lastCallGas();
  Function burn = *other->function("burn");
  auto gasOf = [&](bool nested) {
    auto outer = Instance::create(
        engine, watModule("host_reenter"),
        [&](std::string_view, std::string_view) -> std::optional<Extern> {
          return Extern::wrap([&, nested]() -> Expected<void> {
            return nested ? burn.call({}, {}) : Expected<void>{};
          });
        });
    if (!outer)
      throw std::runtime_error(outer.error().toString());
    EXPECT_TRUE(outer->call("outer"));
    return outer->lastCallGas().used;
  };
  EXPECT_EQ(gasOf(true), gasOf(false) + burnAlone.used);
  GasReport after = other->lastCallGas();
  EXPECT_EQ(after.used, burnAlone.used);
  EXPECT_EQ(after.left, burnAlone.left);
}

TEST_F(WrappedHostTest, CallsAllocateNothing) {
  Function tickN = function(*instance_, "tick_n");
  Value n = Value::i32(1000);
  ASSERT_TRUE(tickN.call({&n, 1}, {})); // warm: first-call setup
  long before = allocations.load();
  for (int i = 0; i < 10; ++i)
    ASSERT_TRUE(tickN.call({&n, 1}, {}));
  EXPECT_EQ(allocations.load() - before, 0);
  EXPECT_EQ(ticks_, 11000u);
}


// A host function imported by one instance and reached from another (its
// export, a shared table, or a function of its importer), calling back into
// the second: the nested call's gas is the outer call's, whatever the path.
class ReenterAcrossInstancesTest
    : public ::testing::TestWithParam<std::tuple<bool, const char *>> {
protected:
  struct Run {
    Expected<std::vector<Value>> result;
    GasReport gas;
  };

  // Calls `entry` of the second instance; the host calls burn when `nested`.
  Run run(bool nested, const char *entry, uint64_t gas = Limits{}.gas) {
    std::optional<Function> burn;
    auto reenter = [&]() -> Expected<void> {
      return nested ? burn->call({}, {}) : Expected<void>{};
    };
    Extern host =
        std::get<0>(GetParam())
            ? Extern::wrap(reenter)
            : Extern::function(FunctionType{},
                               [&](std::span<const Value>, std::span<Value>) {
                                 return reenter();
                               });
    auto exporter = Instance::create(
        engine_, watModule("host_reexport"),
        [&](std::string_view, std::string_view) { return host; });
    if (!exporter)
      throw std::runtime_error(exporter.error().toString());
    auto caller = Instance::create(
        engine_, watModule("host_reenter_other"),
        [&](std::string_view, std::string_view name) {
          return exporter->exported(name);
        },
        Limits{.gas = gas});
    if (!caller)
      throw std::runtime_error(caller.error().toString());
    burn.emplace(*caller->function("burn"));
    Run outcome{caller->call(entry), caller->lastCallGas()};
    if (nested) { // burn from the host, for the figure it adds
      EXPECT_TRUE(caller->call("burn"));
      burnGas_ = caller->lastCallGas().used;
    }
    return outcome;
  }

  Engine engine_{EngineOptions{.metering = true}};
  uint64_t burnGas_ = 0;
};

TEST_P(ReenterAcrossInstancesTest, TheNestedCallsGasIsTheOuterCalls) {
  const char *entry = std::get<1>(GetParam());
  Run alone = run(false, entry);
  Run nested = run(true, entry);
  ASSERT_TRUE(alone.result) << alone.result.error().toString();
  ASSERT_TRUE(nested.result) << nested.result.error().toString();
  EXPECT_GT(burnGas_, 10u); // burn's loop ran 10 times
  EXPECT_EQ(nested.gas.used, alone.gas.used + burnGas_);
}

TEST_P(ReenterAcrossInstancesTest, TheNestedCallRunsOutOfTheOuterCallsGas) {
  const char *entry = std::get<1>(GetParam());
  uint64_t needed = run(true, entry).gas.used;
  Run enough = run(true, entry, needed);
  ASSERT_TRUE(enough.result) << enough.result.error().toString();
  EXPECT_EQ(enough.gas.left, 0u);
  Run short_ = run(true, entry, needed - 1);
  ASSERT_FALSE(short_.result);
  EXPECT_EQ(short_.result.error().kind, ErrorKind::OutOfGas);
  EXPECT_EQ(short_.gas.used, needed - 1);
}

INSTANTIATE_TEST_SUITE_P(
    , ReenterAcrossInstancesTest,
    ::testing::Combine(::testing::Bool(),
                       ::testing::Values("direct", "through_function",
                                         "through_table")),
    [](const auto &info) {
      return std::string(std::get<0>(info.param) ? "Wrapped_" : "Callback_") +
             std::get<1>(info.param);
    });

// The call-depth limit (Limits::callDepth frame units) counts every wasm
// frame between the host and the innermost call, whichever way each call
// was made: direct, through a table, or from a host function calling back
// in (which continues its caller's count).
class CallDepthTest : public ::testing::TestWithParam<bool> {
protected:
  static constexpr uint32_t kLimit = 100;

  CallDepthTest() {
    Extern reenter = Extern::wrap([this](int32_t m) -> Expected<void> {
      auto done = down_->call({{Value::i32(m)}}, {});
      if (!done)
        nestedErrors_.push_back(done.error().kind);
      return done;
    });
    auto instance = Instance::create(
        engine_, watModule("call_depth"),
        [&](std::string_view, std::string_view) { return reenter; },
        Limits{.callDepth = kLimit});
    if (!instance)
      throw std::runtime_error(instance.error().toString());
    instance_.emplace(std::move(*instance));
    down_.emplace(*instance_->function("down"));
  }

  // Whether `name(args)` ran without a trap; a trap must be StackExhausted.
  bool fits(const char *name, std::vector<Value> args) {
    auto result = instance_->call(name, args);
    if (!result) {
      EXPECT_EQ(nestedErrors_.empty() ? result.error().kind
                                      : nestedErrors_.back(),
                ErrorKind::StackExhausted)
          << result.error().toString();
    }
    return bool(result);
  }

  Engine engine_{EngineOptions{.metering = GetParam()}};
  std::optional<Instance> instance_;
  std::optional<Function> down_;
  std::vector<ErrorKind> nestedErrors_;
};

TEST_P(CallDepthTest, DirectCallsCountEachFrame) {
  // down(n) is n + 1 frames.
  EXPECT_FALSE(fits("down", {Value::i32(kLimit)}));
  EXPECT_TRUE(fits("down", {Value::i32(kLimit - 1)}));
}

TEST_P(CallDepthTest, IndirectCallsCountTheSame) {
  EXPECT_FALSE(fits("down_indirect", {Value::i32(kLimit)}));
  EXPECT_TRUE(fits("down_indirect", {Value::i32(kLimit - 1)}));
}

TEST_P(CallDepthTest, ANestedCallContinuesItsCallersCount) {
  // then_host(k, m): k + 1 frames, the host, then down(m): m + 1 more.
  for (uint32_t k : {0u, 10u, 50u}) {
    int32_t most = int32_t(kLimit - 2 - k);
    EXPECT_TRUE(fits("then_host", {Value::i32(k), Value::i32(most)})) << k;
    EXPECT_FALSE(fits("then_host", {Value::i32(k), Value::i32(most + 1)})) << k;
    EXPECT_EQ(nestedErrors_.size(), 1u) << "the nested call trapped";
    nestedErrors_.clear();
  }
}

TEST_P(CallDepthTest, CallsBetweenNestedOnesLeaveNoDepthBehind) {
  // Both trips through the host start one frame deep, before and after a
  // descent of 91 frames through the table (whose calls leave their depth
  // in the context); so do calls after a trap.
  EXPECT_TRUE(fits("host_around_calls", {Value::i32(kLimit - 2)}));
  EXPECT_FALSE(fits("host_around_calls", {Value::i32(kLimit - 1)}));
  nestedErrors_.clear();
  EXPECT_TRUE(fits("host_around_calls", {Value::i32(kLimit - 2)}));
  EXPECT_TRUE(fits("down", {Value::i32(kLimit - 1)}));
}

INSTANTIATE_TEST_SUITE_P(, CallDepthTest, ::testing::Bool(),
                         [](const auto &info) {
                           return info.param ? "Metered" : "Unmetered";
                         });

// Frames small enough in units (the call-depth limit set far off) run into
// the native stack limit, the safety net under it: StackExhausted, and the
// gas is exact there too. The counter goes to a direct callee in a register,
// so the trap must write it back (it did not: the call reported the gas of
// before the recursion).
TEST(NativeStackTest, GasIsExactWhenTheNativeStackRunsOut) {
  for (bool inRegister : {true, false}) {
    Engine engine{EngineOptions{.gasInRegister = inRegister}};
    auto instance =
        Instance::create(engine, watModule("native_stack"), {},
                         Limits{.callDepth = 100'000'000});
    ASSERT_TRUE(instance) << instance.error().toString();
    std::vector<Value> args{Value::i32(0)};
    auto result = instance->call("down", args);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().kind, ErrorKind::StackExhausted);
    GasReport gas = instance->lastCallGas();
    auto deepest = instance->call("deepest");
    ASSERT_TRUE(deepest) << deepest.error().toString();
    uint64_t frames = uint64_t((*deepest)[0].asI32()) + 1; // each paid 11
    EXPECT_GT(frames, 1000u);
    EXPECT_EQ(gas.used, 11 * frames) << inRegister;
  }
}

} // namespace
} // namespace nomos
