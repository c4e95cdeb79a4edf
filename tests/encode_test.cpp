#include <nomos/encode.h>

#include <gtest/gtest.h>

using namespace nomos;

TEST(Encode, IntegersAreFixedWidthLittleEndian) {
  EXPECT_EQ(encode<uint64_t>(0x0102030405060708ull),
            (Bytes{8, 7, 6, 5, 4, 3, 2, 1}));
  EXPECT_EQ(encode<int32_t>(-2), (Bytes{0xfe, 0xff, 0xff, 0xff}));
  EXPECT_EQ(encode<uint16_t>(0xabcd), (Bytes{0xcd, 0xab}));
  EXPECT_EQ(encode<bool>(true), (Bytes{1}));
}

TEST(Encode, ByteStringsHaveAU64LengthPrefix) {
  EXPECT_EQ(encode(std::string("hi")), (Bytes{2, 0, 0, 0, 0, 0, 0, 0, 'h', 'i'}));
  EXPECT_EQ(encode(Bytes{}), (Bytes(8, 0)));
}

TEST(Encode, DecodeInvertsEncode) {
  EXPECT_EQ(*decode<int64_t>(encode<int64_t>(INT64_MIN)), INT64_MIN);
  EXPECT_EQ(*decode<uint8_t>(encode<uint8_t>(200)), 200);
  EXPECT_EQ(*decode<std::string>(encode(std::string("nomos"))), "nomos");
  EXPECT_EQ(*decode<bool>(Bytes{0}), false);
}

TEST(Encode, DecodeRejectsWrongShapes) {
  auto shortInt = decode<uint64_t>(Bytes{1, 2, 3});
  ASSERT_FALSE(shortInt);
  EXPECT_EQ(shortInt.error().kind, ErrorKind::DecodeError);
  EXPECT_FALSE(decode<bool>(Bytes{2}));
  // Length prefix says 5 bytes, 2 follow.
  EXPECT_FALSE(decode<Bytes>(Bytes{5, 0, 0, 0, 0, 0, 0, 0, 'a', 'b'}));
  EXPECT_FALSE(decode<std::string>(Bytes{1, 2}));
}
