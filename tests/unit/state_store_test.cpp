// state_store_test.cpp — SQLite state: creation, migrations, round trips.
#include "backend/state_store.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>

namespace mmcfs::backend {
namespace {

class StateStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("mmcfs-state-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(StateStoreTest, CreatesDirectoryAndMigratesToLatest) {
  auto store = StateStore::open((dir_ / "nested").string());
  ASSERT_TRUE(store.ok()) << store.error().describe();
  EXPECT_EQ((*store)->schema_version(), StateStore::latest_schema_version());
  EXPECT_TRUE(std::filesystem::exists(dir_ / "nested" / "state.db"));
  auto perms = std::filesystem::status(dir_ / "nested").permissions();
  EXPECT_EQ(perms & std::filesystem::perms::others_all, std::filesystem::perms::none);
}

TEST_F(StateStoreTest, InventoryRoundTripsAndSurvivesReopen) {
  RawInventory raw;
  raw.fetched_at = WallTime(std::chrono::milliseconds(1'763'900'000'123));
  raw.version = "slurm 22.05.8\n";
  raw.nodes = "NodeName=n1 State=IDLE\n";
  raw.partitions = "PartitionName=general\n";
  raw.pending = "";
  {
    auto store = StateStore::open(dir_.string());
    ASSERT_TRUE(store.ok());
    EXPECT_FALSE((*store)->load_inventory("alpha")->has_value());
    ASSERT_TRUE((*store)->save_inventory("alpha", raw).ok());
    raw.version = "slurm 22.05.9\n";
    ASSERT_TRUE((*store)->save_inventory("alpha", raw).ok()) << "saving again replaces";
  }
  auto store = StateStore::open(dir_.string());
  ASSERT_TRUE(store.ok());
  auto loaded = (*store)->load_inventory("alpha");
  ASSERT_TRUE(loaded.ok());
  ASSERT_TRUE(loaded->has_value());
  EXPECT_EQ((**loaded).fetched_at, raw.fetched_at);
  EXPECT_EQ((**loaded).version, "slurm 22.05.9\n");
  EXPECT_EQ((**loaded).nodes, raw.nodes);
  EXPECT_FALSE((*store)->load_inventory("beta")->has_value());
}

TEST_F(StateStoreTest, RefusesADatabaseFromANewerVersion) {
  ASSERT_TRUE(StateStore::open(dir_.string()).ok());
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open((dir_ / "state.db").c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, "PRAGMA user_version = 99", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(db);
  auto store = StateStore::open(dir_.string());
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("newer"), std::string::npos) << store.error().message;
}

TEST_F(StateStoreTest, UnusableDirectoryIsAClearError) {
  std::filesystem::create_directories(dir_);
  std::filesystem::path file = dir_ / "file";
  { FILE* f = std::fopen(file.c_str(), "w"); std::fclose(f); }
  auto store = StateStore::open((file / "sub").string());
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("--state"), std::string::npos) << store.error().message;
}

}  // namespace
}  // namespace mmcfs::backend
