// store_test.cpp — the SQLite store (runtime/store): save and load, updates that bump versions
// only where something changed, a failed import that changes nothing, migrations from an older
// schema, running state (VM and element instances), and the store's settings (WAL, foreign keys).
#include "ovf/to_model.h"
#include "runtime/store/store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <unistd.h>

namespace {

using namespace cfm;
namespace fs = std::filesystem;

class StoreTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("cfm-store-test-" + std::to_string(getpid()) + "-" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    path_ = (dir_ / "state.db").string();
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::unique_ptr<store::Store> open(int target = store::latestSchemaVersion()) {
    auto st = store::Store::open(path_, target);
    EXPECT_TRUE(st) << (st ? "" : st.error().message);
    return st ? std::move(*st) : nullptr;
  }

  int64_t count(store::Store &st, const std::string &sql) {
    auto s = st.db().prepare(sql);
    EXPECT_TRUE(s);
    auto row = s->step();
    EXPECT_TRUE(row && *row);
    return s->i64(0);
  }

  fs::path dir_;
  std::string path_;
};

model::BusinessSystem web3() {
  auto m = ovf::importFile(CFM_SOURCE_DIR "/samples/web3/web3.ovf");
  EXPECT_TRUE(m) << (m ? "" : m.error().message);
  return m ? *m : model::BusinessSystem{};
}

TEST_F(StoreTest, SettingsAndSchemaVersion) {
  auto st = open();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->schemaVersion(), store::latestSchemaVersion());
  auto mode = st->db().prepare("PRAGMA journal_mode");
  ASSERT_TRUE(mode && *mode->step());
  EXPECT_EQ(mode->text(0), "wal");
  EXPECT_EQ(count(*st, "PRAGMA foreign_keys"), 1);
  EXPECT_EQ(count(*st, "SELECT version FROM schema_version"), store::latestSchemaVersion());
  // Every table carries a version column.
  auto tables =
      st->db().prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'schema_version'");
  ASSERT_TRUE(tables);
  int n = 0;
  while (*tables->step()) {
    ++n;
    EXPECT_EQ(count(*st, "SELECT count(*) FROM pragma_table_info('" + tables->text(0) +
                             "') WHERE name = 'version'"),
              1)
        << tables->text(0);
  }
  EXPECT_GE(n, 14);
}

TEST_F(StoreTest, SaveAndLoadByNameOrId) {
  auto st = open();
  ASSERT_TRUE(st);
  model::BusinessSystem m = web3();
  auto saved = st->saveSystem(m);
  ASSERT_TRUE(saved) << saved.error().message;
  EXPECT_TRUE(saved->created);
  EXPECT_EQ(saved->version, 1);
  EXPECT_EQ(saved->id.size(), 36u);
  auto byName = st->loadSystem("web3");
  ASSERT_TRUE(byName && *byName);
  model::BusinessSystem expected = m;
  expected.id = saved->id;
  EXPECT_EQ(**byName, expected);
  auto byId = st->loadSystem(saved->id);
  ASSERT_TRUE(byId && *byId);
  EXPECT_EQ(**byId, expected);
  auto none = st->loadSystem("nope");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  auto list = st->listSystems();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].elements, 5u);
  EXPECT_EQ((*list)[0].templates, 4u);
  // Reopened from the file: the same.
  st.reset();
  st = open();
  auto again = st->loadSystem("web3");
  ASSERT_TRUE(again && *again);
  EXPECT_EQ(**again, expected);
}

TEST_F(StoreTest, SamplesAndCorpusSurviveTheStore) {
  auto st = open();
  ASSERT_TRUE(st);
  auto hadoop = ovf::importFile(CFM_SOURCE_DIR "/samples/hadoop/hadoop.ovf");
  ASSERT_TRUE(hadoop);
  auto saved = st->saveSystem(*hadoop);
  ASSERT_TRUE(saved) << saved.error().message;
  auto loaded = st->loadSystem("hadoop");
  ASSERT_TRUE(loaded && *loaded);
  hadoop->id = saved->id;
  EXPECT_EQ(**loaded, *hadoop);
}

TEST_F(StoreTest, UpdateBumpsVersionsOfChangedRowsOnly) {
  auto st = open();
  ASSERT_TRUE(st);
  model::BusinessSystem m = web3();
  ASSERT_TRUE(st->saveSystem(m));
  // The same again: nothing changes.
  auto same = st->saveSystem(m);
  ASSERT_TRUE(same);
  EXPECT_FALSE(same->created);
  EXPECT_FALSE(same->changed);
  EXPECT_EQ(same->version, 1);
  EXPECT_EQ(count(*st, "SELECT max(version) FROM element"), 1);
  // One element changes, one template goes, one property is added.
  m.elements[1].maxInstances = 12;
  m.templates.pop_back();
  m.properties.push_back({"web3", "region", "", "string", "eu", "", "", false});
  auto upd = st->saveSystem(m);
  ASSERT_TRUE(upd) << upd.error().message;
  EXPECT_TRUE(upd->changed);
  EXPECT_EQ(upd->version, 2);
  EXPECT_EQ(count(*st, "SELECT version FROM element WHERE name = 'web'"), 2);
  EXPECT_EQ(count(*st, "SELECT version FROM element WHERE name = 'lb'"), 1);
  EXPECT_EQ(count(*st, "SELECT count(*) FROM config_template"), 3);
  EXPECT_EQ(count(*st, "SELECT count(*) FROM system_property"), 6);
  auto loaded = st->loadSystem("web3");
  ASSERT_TRUE(loaded && *loaded);
  m.id = upd->id;
  EXPECT_EQ(**loaded, m);
  // Renaming by id works; the element rows stay the same rows.
  int64_t lbRow = count(*st, "SELECT id FROM element WHERE name = 'lb'");
  m.name = "web3-renamed";
  auto renamed = st->saveSystem(m);
  ASSERT_TRUE(renamed);
  EXPECT_EQ(renamed->version, 3);
  EXPECT_EQ(count(*st, "SELECT id FROM element WHERE name = 'lb'"), lbRow);
  EXPECT_TRUE(*st->loadSystem("web3-renamed"));
}

TEST_F(StoreTest, FailedImportChangesNothing) {
  auto st = open();
  ASSERT_TRUE(st);
  model::BusinessSystem m = web3();
  auto saved = st->saveSystem(m);
  ASSERT_TRUE(saved);
  ASSERT_TRUE(st->saveElementInstance("web3", {"lb", 0, "i-1", "running"}));
  // A new version of the system that changes much and drops `lb`, which has an instance: the
  // store refuses it after it has already written other rows, and rolls all of it back.
  model::BusinessSystem next = m;
  next.description = "changed";
  next.properties.clear();
  next.vmClasses[0].cpus = 64;
  next.templates[0].text = "changed";
  next.elements.erase(next.elements.begin());
  for (model::ConfigTemplate &t : next.templates)
    if (t.element == "lb") t.element = "";
  auto failed = st->saveSystem(next);
  ASSERT_FALSE(failed);
  EXPECT_NE(
      failed.error().message.find("cannot remove element `lb` from system `web3`: it has 1 instance(s)"),
      std::string::npos)
      << failed.error().message;
  auto loaded = st->loadSystem("web3");
  ASSERT_TRUE(loaded && *loaded);
  m.id = saved->id;
  EXPECT_EQ(**loaded, m);
  EXPECT_EQ(*st->systemVersion("web3"), 1);
  EXPECT_EQ(count(*st, "SELECT max(version) FROM vm_class"), 1);
  // A model whose element names a missing class is refused before anything is written.
  model::BusinessSystem bad = m;
  bad.elements[0].vmClass = "nope";
  auto refused = st->saveSystem(bad);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("names vm class `nope`"), std::string::npos);
  // A new system whose id belongs to another: refused, nothing added.
  model::BusinessSystem other = m;
  other.name = "other";
  other.id = "another-id";
  other.properties = {{"", "k", "", "string", "", "", "", false}, {"", "k", "", "string", "", "", "", false}};
  auto dup = st->saveSystem(other);
  ASSERT_FALSE(dup);
  EXPECT_EQ(count(*st, "SELECT count(*) FROM business_system"), 1);
  EXPECT_EQ(count(*st, "SELECT count(*) FROM vm_class"), 4);
}

TEST_F(StoreTest, MigrationFromSchemaVersion1) {
  {
    auto st = open(1);
    ASSERT_TRUE(st);
    EXPECT_EQ(st->schemaVersion(), 1);
    EXPECT_EQ(count(*st, "SELECT count(*) FROM sqlite_master WHERE name = 'element_volume'"), 0);
    // A system as version 1 stored it (no modes, volumes or addresses yet).
    ASSERT_TRUE(st->db().exec(R"(
INSERT INTO business_system (id, uid, name, description) VALUES (1, 'u-1', 'old', 'from v1');
INSERT INTO vm_class (id, system_id, name, pos, cpus, memory_mb, image, os_type) VALUES (1, 1, 'vm', 0, 2, 512, 'i.img', '');
INSERT INTO element (id, system_id, name, pos, vm_class_id, min_instances, max_instances, instances) VALUES (1, 1, 'e', 0, 1, 1, 3, 2);
INSERT INTO config_template (system_id, name, pos, element, path, text) VALUES (1, 't', 0, 'e', '/etc/t', 'x={{ x }}');
)"));
  }
  auto st = open();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->schemaVersion(), 2);
  auto loaded = st->loadSystem("old");
  ASSERT_TRUE(loaded && *loaded) << (loaded ? "" : loaded.error().message);
  const model::BusinessSystem &m = **loaded;
  EXPECT_EQ(m.id, "u-1");
  EXPECT_EQ(m.vmClasses[0].cpus, 2);
  EXPECT_EQ(m.elements[0].instances, 2);
  EXPECT_TRUE(m.elements[0].volumes.empty());
  EXPECT_EQ(m.templates[0].mode, "0644"); // the default migration 2 gives old rows
  EXPECT_EQ(m.templates[0].text, "x={{ x }}");
  // And the migrated store takes what version 2 adds.
  model::BusinessSystem next = m;
  next.elements[0].volumes = {{"data", 10, "", "/data"}};
  ASSERT_TRUE(st->saveSystem(next));
  EXPECT_EQ((*st->loadSystem("old"))->elements[0].volumes.size(), 1u);
}

TEST_F(StoreTest, NewerStoreIsRefused) {
  ASSERT_TRUE(open());
  auto old = store::Store::open(path_, 1);
  ASSERT_FALSE(old);
  EXPECT_NE(old.error().message.find("the store's schema version is 2, newer than this program's 1"),
            std::string::npos);
}

TEST_F(StoreTest, InstancesAndRemoval) {
  auto st = open();
  ASSERT_TRUE(st);
  ASSERT_TRUE(st->saveSystem(web3()));
  model::VMInstance vm{"i-0001", "lb", "cloud-a", "running", "10.0.1.10", "203.0.113.5", {"vol-1", "vol-2"}};
  ASSERT_TRUE(st->saveVmInstance("web3", vm));
  ASSERT_TRUE(st->saveElementInstance("web3", {"lb", 0, "i-0001", "running"}));
  auto vms = st->vmInstances("web3");
  ASSERT_TRUE(vms);
  ASSERT_EQ(vms->size(), 1u);
  EXPECT_EQ((*vms)[0], vm);
  vm.state = "stopped";
  vm.volumes = {"vol-1"};
  ASSERT_TRUE(st->saveVmInstance("web3", vm));
  EXPECT_EQ((*st->vmInstances("web3"))[0], vm);
  EXPECT_EQ(count(*st, "SELECT version FROM vm_instance"), 2);
  ASSERT_TRUE(st->saveElementInstance("web3", {"lb", 0, "i-0001", "stopped"}));
  auto insts = st->elementInstances("web3");
  ASSERT_TRUE(insts);
  ASSERT_EQ(insts->size(), 1u);
  EXPECT_EQ((*insts)[0].state, "stopped");
  EXPECT_EQ(count(*st, "SELECT version FROM element_instance"), 2);
  auto noElement = st->saveElementInstance("web3", {"nope", 0, "", "pending"});
  ASSERT_FALSE(noElement);
  EXPECT_NE(noElement.error().message.find("has no element `nope`"), std::string::npos);
  // A system with VMs cannot be removed; without them it can, with its configuration.
  auto refused = st->removeSystem("web3");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("it has 1 VM instance(s)"), std::string::npos);
  ASSERT_TRUE(st->db().exec("DELETE FROM vm_instance"));
  auto removed = st->removeSystem("web3");
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(count(*st, "SELECT count(*) FROM element"), 0);
  EXPECT_EQ(count(*st, "SELECT count(*) FROM config_template"), 0);
  EXPECT_FALSE(st->removeSystem("web3"));
}

TEST_F(StoreTest, OpenErrors) {
  auto st = store::Store::open((dir_ / "no-such-dir" / "x.db").string());
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("sqlite: "), std::string::npos);
  {
    FILE *f = fopen(path_.c_str(), "wb");
    ASSERT_TRUE(f);
    fputs("this is not a database, just text that is long enough to be looked at as a header......", f);
    fclose(f);
  }
  auto notDb = store::Store::open(path_);
  ASSERT_FALSE(notDb);
  EXPECT_NE(notDb.error().message.find("not a database"), std::string::npos) << notDb.error().message;
}

} // namespace
