// store_test.cpp — the SQLite store (runtime/store): save and load, updates that bump versions
// only where something changed, a failed import that changes nothing, migrations from an older
// schema, running state (VM and element instances), the store's settings (WAL, foreign keys),
// read-only opening (no store created, none written, an unwritable store read as another user),
// procedure files (put, list, remove, the version they move, limits, migration 7) and
// concurrent writers on a new store.
#include "base/sha256.h"
#include "ovf/to_model.h"
#include "runtime/store/store.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <grp.h>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

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
  EXPECT_EQ((*list)[0].templates, 5u);
  // Reopened from the file: the same.
  st.reset();
  st = open();
  auto again = st->loadSystem("web3");
  ASSERT_TRUE(again && *again);
  EXPECT_EQ(**again, expected);
}

TEST_F(StoreTest, ElementClassAnswersWhatTheWholeSystemWould) {
  // run_vm's one query: by name or id, each element's VM class as loadSystem gives it.
  auto st = open();
  ASSERT_TRUE(st);
  model::BusinessSystem m = web3();
  auto saved = st->saveSystem(m);
  ASSERT_TRUE(saved) << saved.error().message;
  auto whole = st->loadSystem("web3");
  ASSERT_TRUE(whole && *whole);
  ASSERT_FALSE((*whole)->elements.empty());
  for (const std::string &key : {std::string("web3"), saved->id})
    for (const model::BusinessSystemElement &e : (*whole)->elements) {
      auto got = st->elementClass(key, e.name);
      ASSERT_TRUE(got && *got) << key << " " << e.name;
      EXPECT_EQ((*got)->systemId, saved->id);
      EXPECT_EQ((*got)->systemName, "web3");
      EXPECT_TRUE((*got)->elementFound);
      ASSERT_TRUE((*got)->vmClass);
      const model::VMClass *cls = (*whole)->vmClass(e.vmClass);
      ASSERT_TRUE(cls);
      EXPECT_EQ((*got)->vmClass->name, cls->name);
      EXPECT_EQ((*got)->vmClass->image, cls->image);
      EXPECT_EQ((*got)->vmClass->cpus, cls->cpus);
      EXPECT_EQ((*got)->vmClass->memoryMb, cls->memoryMb);
      EXPECT_EQ((*got)->vmClass->osType, cls->osType);
    }
  auto noElement = st->elementClass("web3", "nope");
  ASSERT_TRUE(noElement && *noElement);
  EXPECT_FALSE((*noElement)->elementFound);
  EXPECT_FALSE((*noElement)->vmClass);
  EXPECT_EQ((*noElement)->systemName, "web3");
  auto noSystem = st->elementClass("nope", (*whole)->elements[0].name);
  ASSERT_TRUE(noSystem);
  EXPECT_FALSE(*noSystem);
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
  EXPECT_EQ(count(*st, "SELECT count(*) FROM config_template"), 4);
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
  EXPECT_EQ(st->schemaVersion(), store::latestSchemaVersion());
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
  EXPECT_NE(old.error().message.find("the store's schema version is " +
                                     std::to_string(store::latestSchemaVersion()) +
                                     ", newer than this program's 1"),
            std::string::npos);
}

TEST_F(StoreTest, AgentCredentialsAreKeptPerVmUntilRemoved) {
  auto st = open();
  ASSERT_TRUE(st);
  auto none = st->agentCredentials("i-1");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  ASSERT_TRUE(st->saveAgentCredentials("i-1", {"aa", "pw1"}));
  ASSERT_TRUE(st->saveAgentCredentials("i-2", {"bb", "pw2"}));
  ASSERT_TRUE(st->saveAgentCredentials("i-1", {"cc", "pw3"})); // replaced
  auto one = st->agentCredentials("i-1");
  ASSERT_TRUE(one && *one);
  EXPECT_EQ((*one)->keyHex, "cc");
  EXPECT_EQ((*one)->password, "pw3");
  ASSERT_TRUE(st->removeAgentCredentials("i-1"));
  EXPECT_FALSE(*st->agentCredentials("i-1"));
  EXPECT_EQ((*st->agentCredentials("i-2"))->password, "pw2");
}

TEST_F(StoreTest, CloudEventsAreSequencedStoredOnceAndLeaveTheOutboxWhenSent) {
  auto st = open();
  ASSERT_TRUE(st);
  EXPECT_EQ(*st->lastEventId(), 0);
  // Publishing numbers each (system, source) from 1, into the history and the outbox at once.
  auto a1 = st->publishEvent("sys-1", "a", "scale_out", R"({"n":1})", 1000);
  auto a2 = st->publishEvent("sys-1", "a", "scale_out", "", 1001);
  auto b1 = st->publishEvent("sys-2", "a", "other", "null", 1002);
  ASSERT_TRUE(a1 && a2 && b1);
  EXPECT_EQ(a1->seq, 1);
  EXPECT_EQ(a2->seq, 2);
  EXPECT_EQ(a2->dataJson, "null");
  EXPECT_EQ(b1->seq, 1);
  EXPECT_EQ(*st->outboxSize(), 3);
  EXPECT_FALSE(st->publishEvent("", "a", "x", "null", 1));

  // Receiving: once per (system, source, seq); duplicates are reported, not stored.
  store::Store::CloudEventRow r{0, "sys-1", "b", "done", R"({"ok":true})", 1, 900, 1003};
  auto fresh = st->receiveEvent(r);
  ASSERT_TRUE(fresh);
  EXPECT_TRUE(*fresh);
  EXPECT_GT(r.id, b1->id);
  store::Store::CloudEventRow dup = r;
  dup.id = 0;
  dup.name = "changed";
  auto again = st->receiveEvent(dup);
  ASSERT_TRUE(again);
  EXPECT_FALSE(*again);
  EXPECT_EQ(dup.id, 0);
  store::Store::CloudEventRow own = *a1; // our own event coming back from the broker
  own.id = 0;
  EXPECT_FALSE(*st->receiveEvent(own));
  EXPECT_EQ(*st->lastEventId(), r.id);

  // Gaps: seq 2 missing, 3 and 4 there.
  for (int64_t seq : {3, 4}) {
    store::Store::CloudEventRow g{0, "sys-1", "b", "done", "null", seq, 900 + seq, 1004};
    ASSERT_TRUE(*st->receiveEvent(g));
  }
  auto gap = st->seqState("sys-1", "b");
  ASSERT_TRUE(gap);
  EXPECT_EQ(gap->contiguous, 1);
  EXPECT_EQ(gap->highest, 4);
  auto none = st->seqState("sys-1", "nobody");
  EXPECT_EQ(none->contiguous, 0);
  EXPECT_EQ(none->highest, 0);
  store::Store::CloudEventRow late{0, "sys-1", "b", "done", "null", 2, 902, 1005};
  ASSERT_TRUE(*st->receiveEvent(late));
  EXPECT_EQ(st->seqState("sys-1", "b")->contiguous, 4);
  store::Store::CloudEventRow skipFirst{0, "sys-1", "c", "done", "null", 2, 1, 1006};
  ASSERT_TRUE(*st->receiveEvent(skipFirst));
  EXPECT_EQ(st->seqState("sys-1", "c")->contiguous, 0);
  EXPECT_EQ(st->seqState("sys-1", "c")->highest, 2);

  // Reading: by arrival order with filters; one source's range by seq.
  auto all = st->eventsAfter(0, "", "", 100);
  ASSERT_TRUE(all);
  EXPECT_EQ(all->size(), 8u);
  auto done = st->eventsAfter(a2->id, "sys-1", "done", 100);
  ASSERT_TRUE(done);
  ASSERT_EQ(done->size(), 5u);
  EXPECT_EQ((*done)[0].dataJson, R"({"ok":true})");
  EXPECT_EQ((*done)[0].publishedAt, 900);
  EXPECT_EQ(st->eventsAfter(0, "sys-1", "", 2)->size(), 2u);
  auto range = st->eventsOfSource("sys-1", "b", 2, 3);
  ASSERT_TRUE(range);
  ASSERT_EQ(range->size(), 2u);
  EXPECT_EQ((*range)[0].seq, 2);
  EXPECT_EQ((*range)[1].seq, 3);

  // The outbox holds only our own unacknowledged events, oldest first.
  auto box = st->outbox(10);
  ASSERT_TRUE(box);
  ASSERT_EQ(box->size(), 3u);
  EXPECT_EQ((*box)[0].id, a1->id);
  ASSERT_TRUE(st->markSent(a1->id));
  ASSERT_TRUE(st->markSent(a1->id)); // twice is harmless
  EXPECT_EQ(*st->outboxSize(), 2);
  EXPECT_EQ(st->outbox(1)->front().id, a2->id);

  // After a restart the next seq continues, and the outbox is still there.
  st.reset();
  st = open();
  auto a3 = st->publishEvent("sys-1", "a", "scale_out", "null", 2000);
  ASSERT_TRUE(a3);
  EXPECT_EQ(a3->seq, 3);
  EXPECT_EQ(*st->outboxSize(), 3);
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
  // found by its instance id alone, with its system's key; element instances on it marked at once
  auto found = st->findVmInstance("i-0001");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->first, (*st->loadSystem("web3"))->id); // its uid, given when it was saved
  EXPECT_EQ((*found)->second, vm);
  auto none = st->findVmInstance("i-none");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  ASSERT_TRUE(st->setElementInstanceStateOfVm("web3", "i-0001", "terminated"));
  EXPECT_EQ((*st->elementInstances("web3"))[0].state, "terminated");
  EXPECT_EQ(count(*st, "SELECT version FROM element_instance"), 3);
  ASSERT_TRUE(st->setElementInstanceStateOfVm("web3", "i-0001", "terminated")); // no change: same version
  EXPECT_EQ(count(*st, "SELECT version FROM element_instance"), 3);
  ASSERT_TRUE(st->saveElementInstance("web3", {"lb", 0, "i-0001", "stopped"}));
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

TEST_F(StoreTest, PreparedStatementsAreReusedAndIndependent) {
  auto st = open();
  ASSERT_TRUE(st);
  sql::Db &db = st->db();
  ASSERT_TRUE(db.exec("CREATE TABLE t(a INTEGER, b TEXT)"));
  const std::string ins = "INSERT INTO t VALUES (?, ?)";
  for (int64_t i = 0; i < 3; ++i) {
    auto s = db.prepare(ins); // the second and third reuse the first's compiled statement
    ASSERT_TRUE(s);
    s->bind(1, i).bind(2, std::string("x") + std::to_string(i));
    ASSERT_TRUE(s->run());
  }
  auto reused = db.prepare(ins); // bindings of the last use are cleared: NULLs
  ASSERT_TRUE(reused);
  ASSERT_TRUE(reused->run());
  EXPECT_EQ(count(*st, "SELECT count(*) FROM t WHERE a IS NULL AND b IS NULL"), 1);
  // the same text twice at once: two statements, each with its own cursor
  const std::string sel = "SELECT a FROM t WHERE a IS NOT NULL ORDER BY a";
  auto one = db.prepare(sel), two = db.prepare(sel);
  ASSERT_TRUE(one && two);
  ASSERT_TRUE(*one->step());
  ASSERT_TRUE(*one->step());
  ASSERT_TRUE(*two->step());
  EXPECT_EQ(one->i64(0), 1);
  EXPECT_EQ(two->i64(0), 0);
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
  // The errors of opening are placed in the store's file; the kind tells SQLite's refusal apart.
  EXPECT_EQ(notDb.error().kind, ErrorKind::Store);
  ASSERT_TRUE(notDb.error().loc);
  EXPECT_EQ(notDb.error().loc->file, path_);
  auto notDbRead = store::Store::openReadOnly(path_);
  ASSERT_FALSE(notDbRead);
  EXPECT_EQ(notDbRead.error().kind, ErrorKind::Store);
  ASSERT_TRUE(notDbRead.error().loc);
  EXPECT_EQ(notDbRead.error().loc->file, path_);
  EXPECT_EQ(notDbRead.error().message.rfind("store `" + path_ + "`: ", 0), 0u) << notDbRead.error().message;
}

// Issue 12: only a command that writes creates a store; reading a path with no store says so
// and leaves nothing there.
TEST_F(StoreTest, ReadOnlyOpenNeverCreates) {
  auto st = store::Store::openReadOnly(path_);
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().message, "no store at `" + path_ + "`");
  EXPECT_EQ(st.error().kind, ErrorKind::Io);
  ASSERT_TRUE(st.error().loc);
  EXPECT_EQ(st.error().loc->file, path_);
  EXPECT_FALSE(fs::exists(path_));
  auto inMissingDir = store::Store::openReadOnly((dir_ / "nope" / "x.db").string());
  ASSERT_FALSE(inMissingDir);
  EXPECT_NE(inMissingDir.error().message.find("no store at"), std::string::npos);
  fs::create_directory(dir_ / "d");
  auto directory = store::Store::openReadOnly((dir_ / "d").string());
  ASSERT_FALSE(directory);
  EXPECT_NE(directory.error().message.find("is not a regular file"), std::string::npos);
  ASSERT_EQ(mkfifo((dir_ / "fifo").c_str(), 0600), 0); // never opened, so never waited on
  EXPECT_FALSE(store::Store::openReadOnly((dir_ / "fifo").string()));
  EXPECT_FALSE(store::Store::open((dir_ / "fifo").string()));
  { std::ofstream((dir_ / "empty.db").string()); }
  auto empty = store::Store::openReadOnly((dir_ / "empty.db").string());
  ASSERT_FALSE(empty);
  EXPECT_NE(empty.error().message.find("not a CFM store"), std::string::npos) << empty.error().message;
}

// A store opened for reading cannot be written, and closing it leaves no -wal/-shm behind.
TEST_F(StoreTest, ReadOnlyOpenCannotWriteAndLeavesNothingBehind) {
  {
    auto st = open();
    ASSERT_TRUE(st);
    ASSERT_TRUE(st->saveSystem(web3()));
  }
  ASSERT_FALSE(fs::exists(path_ + "-wal"));
  {
    auto ro = store::Store::openReadOnly(path_);
    ASSERT_TRUE(ro) << ro.error().message;
    auto sys = (*ro)->loadSystem("web3");
    ASSERT_TRUE(sys && *sys);
    model::BusinessSystem changed = **sys;
    changed.description = "changed";
    auto saved = (*ro)->saveSystem(changed);
    ASSERT_FALSE(saved);
    EXPECT_NE(saved.error().message.find("readonly"), std::string::npos) << saved.error().message;
  }
  EXPECT_FALSE(fs::exists(path_ + "-wal"));
  EXPECT_FALSE(fs::exists(path_ + "-shm"));
  auto again = store::Store::openReadOnly(path_);
  ASSERT_TRUE(again);
  EXPECT_EQ((*(*again)->loadSystem("web3"))->description, web3().description);
}

/// Runs F in a child process as a user who cannot write what root owns (nobody, when the tests
/// run as root, as in CI; the test's own user otherwise) and returns its exit status.
template <typename F> int asUnprivilegedUser(F f) {
  pid_t pid = fork();
  if (pid == 0) {
    if (geteuid() == 0 && (setgroups(0, nullptr) != 0 || setgid(65534) != 0 || setuid(65534) != 0)) _exit(99);
    _exit(f());
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// In a child: opens PATH read-only and checks that it holds web3 (exit 0), else exits 1..3.
int readsWeb3(const std::string &path) {
  auto ro = store::Store::openReadOnly(path);
  if (!ro) {
    fprintf(stderr, "%s\n", ro.error().message.c_str());
    return 1;
  }
  auto list = (*ro)->listSystems();
  if (!list || list->size() != 1 || (*list)[0].name != "web3") return 2;
  auto sys = (*ro)->loadSystem("web3");
  return sys && *sys && (*sys)->elements.size() == 5 ? 0 : 3;
}

// Issue 12: a store the user can read but not write can be read (show, export, run --state),
// and nothing is created next to it.
TEST_F(StoreTest, UnwritableStoreIsReadable) {
  {
    auto st = open();
    ASSERT_TRUE(st);
    ASSERT_TRUE(st->saveSystem(web3()));
  }
  fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec);
  fs::permissions(path_, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read |
                             fs::perms::others_read);
  // Its directory read-only (and the file too, to the unprivileged user).
  fs::permissions(dir_, fs::perms::owner_write, fs::perm_options::remove);
  EXPECT_EQ(asUnprivilegedUser([&] { return readsWeb3(path_); }), 0);
  EXPECT_FALSE(fs::exists(path_ + "-wal"));
  EXPECT_FALSE(fs::exists(path_ + "-shm"));
  fs::permissions(dir_, fs::perms::owner_write, fs::perm_options::add);
  // The directory writable by all, the file read-only.
  fs::permissions(dir_, fs::perms::all);
  fs::permissions(path_, fs::perms::owner_read | fs::perms::group_read | fs::perms::others_read);
  EXPECT_EQ(asUnprivilegedUser([&] { return readsWeb3(path_); }), 0);
  EXPECT_FALSE(fs::exists(path_ + "-wal"));
  EXPECT_FALSE(fs::exists(path_ + "-shm"));
  // While a writer has it open (its -wal and -shm exist, owned by the writer): the reader uses them
  // and sees what is only in the -wal yet.
  fs::permissions(path_, fs::perms::owner_write, fs::perm_options::add);
  auto writer = open();
  ASSERT_TRUE(writer);
  model::BusinessSystem changed = web3();
  changed.description = "in the wal";
  ASSERT_TRUE(writer->saveSystem(changed));
  ASSERT_TRUE(fs::exists(path_ + "-wal"));
  fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                            fs::perms::others_read | fs::perms::others_exec);
  if (geteuid() != 0) fs::permissions(dir_, fs::perms::owner_write, fs::perm_options::remove);
  EXPECT_EQ(asUnprivilegedUser([&] {
              int r = readsWeb3(path_);
              if (r != 0) return r;
              auto ro = store::Store::openReadOnly(path_);
              return ro && (*(*ro)->loadSystem("web3"))->description == "in the wal" ? 0 : 4;
            }),
            0);
  fs::permissions(dir_, fs::perms::owner_all);
}

// Issue 12: eight writers on one new store (creating it, switching it to WAL, migrating it and
// saving at the same time) all succeed; none fails with `database is locked`.
TEST_F(StoreTest, ConcurrentWritersOnANewStoreAllSucceed) {
  constexpr int kWriters = 8;
  model::BusinessSystem base = web3();
  std::vector<std::string> errors(kWriters);
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i)
    threads.emplace_back([&, i] {
      auto st = store::Store::open(path_);
      if (!st) {
        errors[i] = st.error().message;
        return;
      }
      model::BusinessSystem sys = base;
      sys.name = "web3-" + std::to_string(i);
      auto saved = (*st)->saveSystem(sys);
      if (!saved) errors[i] = saved.error().message;
    });
  for (std::thread &t : threads) t.join();
  for (int i = 0; i < kWriters; ++i) EXPECT_EQ(errors[i], "") << "writer " << i;
  auto st = open();
  ASSERT_TRUE(st);
  auto list = st->listSystems();
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), size_t(kWriters));
  EXPECT_EQ(count(*st, "SELECT count(*) FROM schema_version"), 1);
}

} // namespace

namespace {

TEST_F(StoreTest, RunsAndTheirOutputAreKeptAndARunningOneIsInterruptedLater) {
  auto st = open();
  using R = store::Store::RunRecord;
  ASSERT_TRUE(st->saveRun(R{"r-1", 1, "a.cfp", "main", "running", 0, 1000, 0}).ok());
  ASSERT_TRUE(st->saveRun(R{"r-2", 2, "b.cfp", "slow", "running", 0, 2000, 0}).ok());
  ASSERT_TRUE(st->appendRunOutput("r-1", 0, {{false, "one"}, {true, "two"}}).ok());
  ASSERT_TRUE(st->appendRunOutput("r-1", 2, {{false, "three"}}).ok());
  ASSERT_TRUE(st->saveRun(R{"r-1", 1, "a.cfp", "main", "failed", 1, 1000, 1500}).ok());
  auto out = st->runOutput("r-1", 1, 10);
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->size(), 2u);
  EXPECT_TRUE((*out)[0].err);
  EXPECT_EQ((*out)[0].text, "two");
  EXPECT_EQ((*out)[1].text, "three");
  EXPECT_EQ(*st->runOutputRange("r-1"), (std::pair<int64_t, int64_t>(0, 3)));
  EXPECT_EQ(*st->interruptRunningRuns(9000), 1); // r-2 only: r-1 ended
  auto runs = st->lastRuns(10);
  ASSERT_TRUE(runs.ok());
  ASSERT_EQ(runs->size(), 2u);
  EXPECT_EQ((*runs)[0].id, "r-1");
  EXPECT_EQ((*runs)[0].state, "failed");
  EXPECT_EQ((*runs)[0].endedMs, 1500);
  EXPECT_EQ((*runs)[1].state, "interrupted");
  EXPECT_EQ((*runs)[1].exitCode, 1);
  EXPECT_EQ((*runs)[1].endedMs, 9000);
  EXPECT_EQ(st->lastRuns(1)->front().id, "r-2"); // the last ones
  // Past kMaxRunLines the oldest lines go.
  std::vector<store::Store::RunLine> many(store::Store::kMaxRunLines, {false, "x"});
  ASSERT_TRUE(st->appendRunOutput("r-2", 0, many).ok());
  ASSERT_TRUE(st->appendRunOutput("r-2", store::Store::kMaxRunLines, {{false, "last"}}).ok());
  EXPECT_EQ(*st->runOutputRange("r-2"), (std::pair<int64_t, int64_t>(1, store::Store::kMaxRunLines + 1)));
}

} // namespace

namespace {

TEST_F(StoreTest, ProcedureFilesArePutListedRemovedAndMoveTheSystemsVersion) {
  auto st = open();
  ASSERT_TRUE(st);
  auto saved = st->saveSystem(web3());
  ASSERT_TRUE(saved);
  EXPECT_EQ(saved->version, 1);
  auto put = st->putProcedureFiles("web3", {{"web3.cfp", "proc main() { print(1); }\n"},
                                            {"lib/helpers.cfp", "proc help() -> Int { return 2; }\n"}});
  ASSERT_TRUE(put) << put.error().message;
  EXPECT_TRUE(put->changed);
  EXPECT_EQ(put->version, 2); // one transaction, one version
  auto list = st->procedureFiles("web3", false);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "lib/helpers.cfp"); // by name
  EXPECT_EQ((*list)[1].name, "web3.cfp");
  EXPECT_EQ((*list)[1].text, ""); // without texts
  EXPECT_EQ((*list)[1].size, 26);
  EXPECT_EQ((*list)[1].hash, base::sha256Hex("proc main() { print(1); }\n"));
  // The same text again changes nothing; another text moves the versions once more.
  auto again = st->putProcedureFiles(saved->id, {{"web3.cfp", "proc main() { print(1); }\n"}});
  ASSERT_TRUE(again);
  EXPECT_FALSE(again->changed);
  EXPECT_EQ(again->version, 2);
  ASSERT_TRUE(st->putProcedureFiles("web3", {{"web3.cfp", "proc main() { print(3); }\n"}}));
  auto one = st->procedureFile("web3", "web3.cfp");
  ASSERT_TRUE(one && *one);
  EXPECT_EQ((*one)->text, "proc main() { print(3); }\n");
  EXPECT_EQ((*one)->version, 2);
  EXPECT_EQ(*st->systemVersion("web3"), 3);
  // A model save without procedure files leaves them; removing one moves the version.
  ASSERT_TRUE(st->saveSystem(web3()));
  EXPECT_EQ(st->procedureFiles("web3")->size(), 2u);
  EXPECT_EQ(*st->removeProcedureFile("web3", "lib/helpers.cfp"), true);
  EXPECT_EQ(*st->removeProcedureFile("web3", "lib/helpers.cfp"), false);
  EXPECT_EQ(*st->systemVersion("web3"), 4);
  EXPECT_FALSE(*st->procedureFile("web3", "lib/helpers.cfp"));
  // A save with procedure files replaces the whole set (a configuration from another manager).
  std::vector<store::ProcedureFile> set = {{"a.cfp", "proc main() {}\n", "", 0, 0}};
  auto replaced = st->saveSystem(web3(), &set);
  ASSERT_TRUE(replaced);
  EXPECT_TRUE(replaced->changed);
  EXPECT_EQ(replaced->version, 5);
  list = st->procedureFiles("web3");
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, "a.cfp");
  EXPECT_EQ((*list)[0].hash, base::sha256Hex("proc main() {}\n"));
  EXPECT_FALSE(st->saveSystem(web3(), &set)->changed);
  // Removing the system removes its files (cascade).
  ASSERT_TRUE(st->removeSystem("web3"));
  EXPECT_EQ(count(*st, "SELECT count(*) FROM procedure_file"), 0);
}

TEST_F(StoreTest, ProcedureFileNamesSizesAndUnknownSystemsAreRefused) {
  auto st = open();
  ASSERT_TRUE(st);
  ASSERT_TRUE(st->saveSystem(web3()));
  for (const char *bad : {"", "/abs.cfp", "../up.cfp", "a/../b.cfp", "./a.cfp", "a//b.cfp", "a b.cfp",
                          "a.txt", "lib/", ".cfp"}) {
    auto r = st->putProcedureFiles("web3", {{bad, "proc main() {}"}});
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::Usage) << bad;
    EXPECT_NE(store::Store::procedureNameProblem(bad), "") << bad;
  }
  EXPECT_EQ(store::Store::procedureNameProblem("lib/x-1_2.cfp"), "");
  EXPECT_EQ(store::Store::procedureNameProblem(std::string(196, 'a') + ".cfp"), ""); // at the limit
  EXPECT_NE(store::Store::procedureNameProblem(std::string(197, 'a') + ".cfp"), ""); // past it
  std::string atLimit(store::Store::kMaxProcedureFileBytes, ' ');
  EXPECT_TRUE(st->putProcedureFiles("web3", {{"big.cfp", atLimit}}));
  auto tooBig = st->putProcedureFiles("web3", {{"big2.cfp", atLimit + " "}});
  ASSERT_FALSE(tooBig);
  EXPECT_EQ(tooBig.error().kind, ErrorKind::Limit);
  EXPECT_NE(tooBig.error().message.find("over the limit of 524288"), std::string::npos)
      << tooBig.error().message;
  // The system's total: 8 files at the per-file limit is 4 MiB; a ninth byte more is refused.
  std::vector<std::pair<std::string, std::string>> many;
  for (int i = 0; i < 7; ++i) many.push_back({"f" + std::to_string(i) + ".cfp", atLimit});
  EXPECT_TRUE(st->putProcedureFiles("web3", many));
  auto total = st->putProcedureFiles("web3", {{"one-more.cfp", "x"}});
  ASSERT_FALSE(total);
  EXPECT_EQ(total.error().kind, ErrorKind::Limit);
  auto unknown = st->putProcedureFiles("nope", {{"a.cfp", ""}});
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("no business system `nope`"), std::string::npos);
  EXPECT_FALSE(st->procedureFiles("nope"));
  EXPECT_FALSE(st->removeProcedureFile("nope", "a.cfp"));
  auto twice = st->putProcedureFiles("web3", {{"a.cfp", "1"}, {"a.cfp", "2"}});
  ASSERT_FALSE(twice);
  EXPECT_NE(twice.error().message.find("given twice"), std::string::npos);
}

TEST_F(StoreTest, MigrationFromSchemaVersion7IndexesElementInstancesByVm) {
  {
    auto st = open(7);
    ASSERT_TRUE(st);
    ASSERT_TRUE(st->saveSystem(web3()));
    ASSERT_TRUE(st->saveElementInstance("web3", {"lb", 0, "i-0001", "running"}));
    EXPECT_EQ(count(*st, "SELECT count(*) FROM sqlite_master WHERE name = 'element_instance_by_vm'"), 0);
  }
  auto st = open();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->schemaVersion(), 8);
  EXPECT_EQ(count(*st, "SELECT count(*) FROM sqlite_master WHERE name = 'element_instance_by_vm'"), 1);
  // terminate_vm's update finds the instance through it, and the rows are as they were
  std::string plan;
  {
    auto q =
        st->db().prepare("EXPLAIN QUERY PLAN UPDATE element_instance SET state = 'x' WHERE vm_instance = ?");
    ASSERT_TRUE(q);
    while (*q->step()) plan += q->text(3) + "\n";
  }
  EXPECT_NE(plan.find("element_instance_by_vm"), std::string::npos) << plan;
  ASSERT_TRUE(st->setElementInstanceStateOfVm("web3", "i-0001", "terminated"));
  EXPECT_EQ((*st->elementInstances("web3"))[0].state, "terminated");
}

TEST_F(StoreTest, ClaimsTakeTheLowestFreeIndexAndSavesOfBothInstancesAreOneTransaction) {
  auto st = open();
  ASSERT_TRUE(st);
  ASSERT_TRUE(st->saveSystem(web3()));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(*st->claimElementInstance("web3", "web"), i);
  // a gap (an instance row removed by hand) is filled first, then the count goes on
  ASSERT_TRUE(st->db().exec("DELETE FROM element_instance WHERE idx = 1"));
  EXPECT_EQ(*st->claimElementInstance("web3", "web"), 1);
  EXPECT_EQ(*st->claimElementInstance("web3", "web"), 3);
  ASSERT_TRUE(st->db().exec("DELETE FROM element_instance WHERE idx = 0"));
  EXPECT_EQ(*st->claimElementInstance("web3", "web"), 0);
  EXPECT_EQ(*st->claimElementInstance("web3", "web"), 4);

  model::VMInstance vm{"i-0002", "web", "cloud-a", "pending", "10.0.1.11", "", {}};
  ASSERT_TRUE(st->saveVmAndElementInstance("web3", vm, {"web", 4, "i-0002", "starting"}));
  EXPECT_EQ((*st->vmInstances("web3"))[0], vm);
  EXPECT_EQ(count(*st, "SELECT count(*) FROM element_instance WHERE idx = 4 AND vm_instance = 'i-0002' AND "
                       "state = 'starting'"),
            1);
  // an element that does not exist fails the whole save: the VM's new state is not kept either
  vm.state = "running";
  auto bad = st->saveVmAndElementInstance("web3", vm, {"nope", 0, "i-0002", "running"});
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("has no element `nope`"), std::string::npos);
  EXPECT_EQ((*st->vmInstances("web3"))[0].state, "pending");
  EXPECT_FALSE(st->saveVmAndElementInstance("web3", {}, {"web", 4, "", "running"})); // no VM id
}

TEST_F(StoreTest, MigrationFromSchemaVersion6AddsProcedureFiles) {
  {
    auto st = open(6);
    ASSERT_TRUE(st);
    EXPECT_EQ(count(*st, "SELECT count(*) FROM sqlite_master WHERE name = 'procedure_file'"), 0);
    ASSERT_TRUE(st->saveSystem(web3()));
    EXPECT_FALSE(st->procedureFiles("web3")); // no table yet
  }
  auto st = open();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->schemaVersion(), store::latestSchemaVersion());
  EXPECT_EQ(*st->systemVersion("web3"), 1); // the migration changes no system
  EXPECT_TRUE(st->procedureFiles("web3")->empty());
  auto put = st->putProcedureFiles("web3", {{"web3.cfp", "proc main() {}\n"}});
  ASSERT_TRUE(put) << put.error().message;
  EXPECT_EQ(put->version, 2);
}

TEST(Sha256, KnownDigests) {
  EXPECT_EQ(base::sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(base::sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // 56 bytes: the padding takes a second block.
  EXPECT_EQ(base::sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(base::sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

} // namespace
