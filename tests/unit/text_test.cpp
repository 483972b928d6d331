// text_test.cpp — tables, JSON strings, ages.
#include "common/text.h"

#include <gtest/gtest.h>

namespace mmcfs {
namespace {

TEST(TextTest, TableAlignsColumnsAndTrimsTrailingSpace) {
  EXPECT_EQ(format_table({{"TYPE", "FREE"}, {"A6000", "2"}, {"H100", ""}}),
            "TYPE   FREE\n"
            "A6000  2\n"
            "H100\n");
}

TEST(TextTest, JsonStringEscapesWhatJsonRequires) {
  EXPECT_EQ(json_string("plain"), "\"plain\"");
  EXPECT_EQ(json_string("a\"b\\c\nd\te"), "\"a\\\"b\\\\c\\nd\\te\"");
  EXPECT_EQ(json_string(std::string("\x01", 1)), "\"\\u0001\"");
  EXPECT_EQ(json_string("ünï"), "\"ünï\"") << "valid UTF-8 passes through";
  EXPECT_EQ(json_string("\xff"), "\"\\ufffd\"") << "invalid bytes become U+FFFD";
}

TEST(TextTest, AgesAreShortAndNeverNegative) {
  using namespace std::chrono;
  EXPECT_EQ(format_age(seconds(5)), "5 s");
  EXPECT_EQ(format_age(seconds(-5)), "0 s");
  EXPECT_EQ(format_age(minutes(5)), "5 min");
  EXPECT_EQ(format_age(hours(3)), "3 h");
  EXPECT_EQ(format_age(hours(72)), "3 d");
}

TEST(TextTest, Iso8601IsUtc) {
  EXPECT_EQ(iso8601_utc(WallTime(std::chrono::seconds(0))), "1970-01-01T00:00:00Z");
}

TEST(TextTest, CaseInsensitiveCompare) {
  EXPECT_TRUE(iequals("A6000", "a6000"));
  EXPECT_FALSE(iequals("A6000", "a600"));
  EXPECT_EQ(to_lower("H100_80GB"), "h100_80gb");
}

}  // namespace
}  // namespace mmcfs
