// Valid wasm that Binaryen 108 cannot read, which the front end rewrites
// before it does (metering/src/code_rewrite.h): blocks, loops and ifs with
// parameters, and table.init / elem.drop / table.copy / table.fill (calls of
// marker functions that the compiler turns into runtime calls). Each at -O0
// and -O2; the official block, loop, if, br_table, fac, bulk, elem and
// table_* files cover them at large.
#include "test_util.h"

#include <nomos/instance.h>

#include <bit>
#include <optional>

using namespace nomos;
using nomos::test::watModule;

namespace {

class Rewrite : public testing::TestWithParam<unsigned> {
protected:
  void SetUp() override {
    engine_ = std::make_unique<Engine>(EngineOptions{GetParam()});
    auto instance = Instance::create(*engine_, watModule("rewrite"));
    ASSERT_TRUE(instance) << instance.error().toString();
    instance_.emplace(std::move(*instance));
  }

  std::vector<Value> call(std::string_view name, std::vector<Value> args = {}) {
    auto r = instance_->call(name, args);
    if (!r) {
      ADD_FAILURE() << name << ": " << r.error().toString();
      return {};
    }
    return *r;
  }
  int64_t one(std::string_view name, std::vector<Value> args = {}) {
    std::vector<Value> r = call(name, std::move(args));
    if (r.size() != 1) {
      ADD_FAILURE() << name << " returned " << r.size() << " values";
      return 0;
    }
    return r[0].type == ValueType::I32 ? int64_t(int32_t(r[0].bits))
                                       : int64_t(r[0].bits);
  }
  ErrorKind trapOf(std::string_view name, std::vector<Value> args) {
    auto r = instance_->call(name, args);
    if (r) {
      ADD_FAILURE() << name << " did not trap";
      return ErrorKind::Unsupported;
    }
    return r.error().kind;
  }
  // The table's slots: each one's function result, -1 for null.
  std::vector<int64_t> slots() {
    std::vector<int64_t> out;
    for (int32_t i = 0; i < 4; ++i)
      out.push_back(one("slot", {Value::i32(i)}));
    return out;
  }

  std::unique_ptr<Engine> engine_;
  std::optional<Instance> instance_;
};

Value i32(int32_t v) { return Value::i32(v); }

} // namespace

TEST_P(Rewrite, LoopWithParametersCarriesAnAccumulator) {
  EXPECT_EQ(one("fac", {Value::i64(0)}), 1);
  EXPECT_EQ(one("fac", {Value::i64(5)}), 120);
  EXPECT_EQ(one("fac", {Value::i64(20)}), 2432902008176640000);
}

TEST_P(Rewrite, BrIfToALoopWithParameters) {
  // Taken four times, then not taken: the values fall through.
  auto r = call("count", {i32(5)});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].bits, 5u);
  EXPECT_EQ(r[1].bits, 10u);
  // Never taken.
  r = call("count", {i32(0)});
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].bits, 1u);
  EXPECT_EQ(r[1].bits, 0u);
}

TEST_P(Rewrite, IfWithParametersWithoutElse) {
  EXPECT_EQ(one("if-no-else", {i32(1)}), 15);
  EXPECT_EQ(one("if-no-else", {i32(0)}), 10);
}

TEST_P(Rewrite, BlockWithParametersOfSeveralTypes) {
  auto r = call("block-mixed");
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0], Value::i64(15));
  EXPECT_EQ(r[1], Value::f64Bits(std::bit_cast<uint64_t>(1.5)));
}

TEST_P(Rewrite, BrTableMixingLoopsWithParametersAndBlocks) {
  EXPECT_EQ(one("table-mix", {i32(0)}), 101);
  EXPECT_EQ(one("table-mix", {i32(3)}), 103);
  EXPECT_EQ(one("table-loops"), 2004);
  EXPECT_EQ(one("table-pair"), 1221);
}

TEST_P(Rewrite, BranchesInDeadCode) {
  EXPECT_EQ(trapOf("dead-table", {}), ErrorKind::Unreachable);
  EXPECT_EQ(one("dead-br", {i32(3)}), 3);
  EXPECT_EQ(trapOf("dead-br", {i32(0)}), ErrorKind::Unreachable);
}

TEST_P(Rewrite, TableInit) {
  EXPECT_EQ(slots(), (std::vector<int64_t>{1, -1, -1, -1}));
  call("init", {i32(1), i32(0), i32(3)});
  EXPECT_EQ(slots(), (std::vector<int64_t>{1, 1, 2, 3}));
  call("init", {i32(0), i32(2), i32(1)});
  EXPECT_EQ(slots(), (std::vector<int64_t>{3, 1, 2, 3}));
  // n = 0 at the end of the table and of the segment is fine.
  call("init", {i32(4), i32(3), i32(0)});
  // Out of bounds (table, segment, or only n = 0 past the end): a trap, and
  // nothing written.
  EXPECT_EQ(trapOf("init", {i32(2), i32(0), i32(3)}),
            ErrorKind::TableOutOfBounds);
  EXPECT_EQ(trapOf("init", {i32(0), i32(1), i32(3)}),
            ErrorKind::TableOutOfBounds);
  EXPECT_EQ(trapOf("init", {i32(5), i32(0), i32(0)}),
            ErrorKind::TableOutOfBounds);
  EXPECT_EQ(trapOf("init", {i32(0), i32(4), i32(0)}),
            ErrorKind::TableOutOfBounds);
  EXPECT_EQ(slots(), (std::vector<int64_t>{3, 1, 2, 3}));
}

TEST_P(Rewrite, ElemDrop) {
  call("drop");
  call("drop"); // dropping twice is fine
  // A dropped segment is empty: n = 0 at offset 0 works, anything else
  // traps.
  call("init", {i32(0), i32(0), i32(0)});
  EXPECT_EQ(trapOf("init", {i32(0), i32(0), i32(1)}),
            ErrorKind::TableOutOfBounds);
  EXPECT_EQ(trapOf("init", {i32(0), i32(1), i32(0)}),
            ErrorKind::TableOutOfBounds);
  EXPECT_EQ(slots(), (std::vector<int64_t>{1, -1, -1, -1}));
}

TEST_P(Rewrite, TableCopy) {
  call("init", {i32(1), i32(0), i32(3)}); // 1 1 2 3
  call("copy", {i32(0), i32(1), i32(3)}); // overlapping, downwards
  EXPECT_EQ(slots(), (std::vector<int64_t>{1, 2, 3, 3}));
  call("copy", {i32(1), i32(0), i32(3)}); // overlapping, upwards
  EXPECT_EQ(slots(), (std::vector<int64_t>{1, 1, 2, 3}));
  call("copy", {i32(4), i32(0), i32(0)});
  EXPECT_EQ(trapOf("copy", {i32(1), i32(0), i32(4)}),
            ErrorKind::TableOutOfBounds);
  EXPECT_EQ(trapOf("copy", {i32(0), i32(5), i32(0)}),
            ErrorKind::TableOutOfBounds);
  EXPECT_EQ(trapOf("copy", {i32(0), i32(1), i32(-1)}),
            ErrorKind::TableOutOfBounds);
  EXPECT_EQ(slots(), (std::vector<int64_t>{1, 1, 2, 3}));
}

TEST_P(Rewrite, TableFill) {
  call("fill", {i32(1), i32(2)});
  EXPECT_EQ(slots(), (std::vector<int64_t>{1, 3, 3, -1}));
  call("fill", {i32(4), i32(0)});
  EXPECT_EQ(trapOf("fill", {i32(5), i32(0)}), ErrorKind::TableOutOfBounds);
  EXPECT_EQ(trapOf("fill", {i32(3), i32(2)}), ErrorKind::TableOutOfBounds);
  EXPECT_EQ(slots(), (std::vector<int64_t>{1, 3, 3, -1}));

  call("fill-extern", {i32(0), Value::externRef(42), i32(2)});
  EXPECT_EQ(call("get-extern", {i32(1)}),
            (std::vector<Value>{Value::externRef(42)}));
  EXPECT_EQ(call("get-extern", {i32(2)}),
            (std::vector<Value>{Value::nullRef(ValueType::ExternRef)}));
  EXPECT_EQ(trapOf("fill-extern", {i32(2), Value::externRef(7), i32(2)}),
            ErrorKind::TableOutOfBounds);
  EXPECT_EQ(call("get-extern", {i32(2)}),
            (std::vector<Value>{Value::nullRef(ValueType::ExternRef)}));
}

INSTANTIATE_TEST_SUITE_P(OptLevels, Rewrite, testing::Values(0u, 2u),
                         [](const auto &info) {
                           return "O" + std::to_string(info.param);
                         });
