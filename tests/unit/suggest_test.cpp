// suggest_test.cpp — edit distance and closest_match ("did you mean ...?").
//
// Thread rules: single-threaded tests.
#include "common/suggest.h"

#include <gtest/gtest.h>

namespace mmcfs {
namespace {

TEST(EditDistance, CountsInsertDeleteSubstitute) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("alowed_partitions", "allowed_partitions"), 1u);
}

TEST(EditDistance, SwapOfNeighboursIsOneEdit) {
  EXPECT_EQ(edit_distance("hsot", "host"), 1u);
  EXPECT_EQ(edit_distance("prot", "port"), 1u);
}

TEST(EditDistance, IgnoresCase) {
  EXPECT_EQ(edit_distance("PORT", "port"), 0u);
  EXPECT_EQ(edit_distance("Host", "hosts"), 1u);
}

TEST(ClosestMatch, FindsTheNearCandidate) {
  const std::vector<std::string> keys = {
      "name", "host", "port", "workspace", "allowed_partitions", "allowed_gpu_types"};
  EXPECT_EQ(closest_match("alowed_partitions", keys), "allowed_partitions");
  EXPECT_EQ(closest_match("hots", keys), "host");
  EXPECT_EQ(closest_match("nme", keys), "name");
  EXPECT_EQ(closest_match("workspce", keys), "workspace");
  EXPECT_EQ(closest_match("allowed_gpu_type", keys), "allowed_gpu_types");
  EXPECT_EQ(closest_match("Port", keys), "port");
}

TEST(ClosestMatch, ReturnsEmptyWhenNothingIsClose) {
  const std::vector<std::string> keys = {"name", "host", "port"};
  EXPECT_EQ(closest_match("zzzzzz", keys), "");
  EXPECT_EQ(closest_match("xy", keys), "");
  EXPECT_EQ(closest_match("partition", keys), "");
  EXPECT_EQ(closest_match("name", {}), "");
}

TEST(ClosestMatch, ExactWordReturnsItself) {
  EXPECT_EQ(closest_match("host", {"name", "host"}), "host");
}

TEST(ClosestMatch, TieGoesToTheFirstCandidate) {
  EXPECT_EQ(closest_match("cat", {"bat", "hat"}), "bat");
  EXPECT_EQ(closest_match("cat", {"hat", "bat"}), "hat");
}

TEST(ClosestMatch, LongerWordsAllowMoreEdits) {
  // 12 letters: up to 4 edits.
  EXPECT_EQ(closest_match("gpu_cache_ss", {"gpu_cache_seconds"}), "");
  EXPECT_EQ(closest_match("gpu_cach_secs", {"gpu_cache_seconds"}), "gpu_cache_seconds");
}

}  // namespace
}  // namespace mmcfs
