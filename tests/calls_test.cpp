// The fast call paths: Function handles (host->guest) and host functions
// that write their results in place (guest->host), their errors, and that
// a call through them allocates nothing.
#include "test_util.h"

#include <nomos/instance.h>

#include <atomic>
#include <cstdlib>
#include <new>

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

} // namespace
} // namespace nomos
