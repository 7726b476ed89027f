// control_api_test.cpp — cfmd's run table and control API (cfmd/) served by a real
// UnixHttpServer: POST /runs, GET /runs and /runs/ID, output whole and followed to the end,
// cancel, two runs at once, and the 4xx answers. The daemon's engine runs are not in these
// tests: the starter here runs a thread of the test that writes lines to the run table, so the
// routes and the table are exercised exactly as the daemon's runs will use them.
#include "cfmd/control_api.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>
#include <unistd.h>

namespace {

using namespace cfm::cfmd;

std::string tempDir() {
  std::string t = (std::filesystem::temp_directory_path() / "cfm-cfmd-XXXXXX").string();
  EXPECT_NE(::mkdtemp(t.data()), nullptr);
  return t;
}

// A run of this test: prints the lines of its main file's text, one per line, then ends with
// the exit status given as argument `exit`; argument `block=1` makes it wait for a cancel.
class TestRuns {
public:
  explicit TestRuns(RunTable &t) : table_(t) {}
  ~TestRuns() {
    for (auto &t : threads_) t.join();
  }
  cfm::Result<std::string> start(RunRequest r) {
    if (r.proc == "nope") return cfm::Error{cfm::ErrorKind::Usage, "no procedure `nope`"};
    std::string id = table_.create(r.main, r.proc);
    auto stop = std::make_shared<std::atomic<bool>>(false);
    auto mu = std::make_shared<std::mutex>();
    auto cv = std::make_shared<std::condition_variable>();
    table_.setCancelHook(id, [stop, mu, cv] {
      std::lock_guard<std::mutex> lock(*mu);
      *stop = true;
      cv->notify_all();
    });
    threads_.emplace_back([this, id, r, stop, mu, cv] {
      std::string text = r.files.at(r.main);
      size_t start = 0, nl;
      while ((nl = text.find('\n', start)) != std::string::npos) {
        table_.append(id, text.compare(start, 4, "err:") == 0, text.substr(start, nl - start));
        start = nl + 1;
      }
      if (r.args.count("block")) {
        std::unique_lock<std::mutex> lock(*mu);
        cv->wait(lock, [&] { return stop->load(); });
        table_.append(id, true, "error: task cancelled");
        table_.finish(id, 1);
        return;
      }
      table_.finish(id, r.args.count("exit") ? std::stoi(r.args.at("exit")) : 0);
    });
    return id;
  }

private:
  RunTable &table_;
  std::vector<std::thread> threads_;
};

class ControlApiTest : public ::testing::Test {
protected:
  void SetUp() override {
    dir_ = tempDir();
    path_ = dir_ + "/cfmd.sock";
    api_ = std::make_unique<ControlApi>(table_, [this](RunRequest r) { return runs_.start(std::move(r)); });
    auto s =
        cfm::net::UnixHttpServer::listen(path_, [this](const cfm::net::UnixHttpRequest &q,
                                                       cfm::net::HttpResponder &o) { api_->handle(q, o); });
    ASSERT_TRUE(s.ok()) << s.error().message;
    server_ = std::move(*s);
  }
  void TearDown() override {
    table_.close();
    server_->stop();
    std::filesystem::remove_all(dir_);
  }
  std::string post(const std::string &text, std::map<std::string, std::string> args = {},
                   std::string proc = "main") {
    RunRequest r;
    r.main = "a.cfp";
    r.files["a.cfp"] = text;
    r.files["lib/b.cfp"] = "imported\n";
    r.args = std::move(args);
    r.proc = std::move(proc);
    auto rep = cfm::net::unixHttpRequest(path_, "POST", "/runs", runRequestJson(r));
    EXPECT_TRUE(rep.ok());
    EXPECT_EQ(rep->status, 201) << rep->body;
    auto id = rep->body.find("\"id\":\"");
    return id == std::string::npos ? "" : rep->body.substr(id + 6, rep->body.find('"', id + 6) - id - 6);
  }
  std::string get(const std::string &target, int expect = 200) {
    auto rep = cfm::net::unixHttpRequest(path_, "GET", target);
    EXPECT_TRUE(rep.ok());
    EXPECT_EQ(rep->status, expect) << rep->body;
    return rep->body;
  }
  RunTable table_;
  TestRuns runs_{table_};
  std::unique_ptr<ControlApi> api_;
  std::unique_ptr<cfm::net::UnixHttpServer> server_;
  std::string dir_, path_;
};

TEST_F(ControlApiTest, RunListGetFollow) {
  std::string id = post("hello\nerr:oops\n", {{"exit", "3"}});
  EXPECT_EQ(id, "r-1");
  std::string out = get("/runs/" + id + "/output?follow=1");
  EXPECT_EQ(out, "{\"stream\":\"out\",\"text\":\"hello\"}\n"
                 "{\"stream\":\"err\",\"text\":\"err:oops\"}\n"
                 "{\"end\":true,\"state\":\"failed\",\"exit\":3}\n");
  std::string info = get("/runs/" + id);
  EXPECT_NE(info.find("\"state\":\"failed\""), std::string::npos);
  EXPECT_NE(info.find("\"file\":\"a.cfp\""), std::string::npos);
  EXPECT_EQ(get("/runs/" + id + "/output?from=1"), "{\"stream\":\"err\",\"text\":\"err:oops\"}\n"
                                                   "{\"end\":true,\"state\":\"failed\",\"exit\":3}\n");
  std::string id2 = post("x\n");
  EXPECT_EQ(id2, "r-2");
  get("/runs/" + id2 + "/output?follow=1");
  std::string list = get("/runs");
  EXPECT_NE(list.find("\"id\":\"r-1\""), std::string::npos);
  EXPECT_NE(list.find("\"id\":\"r-2\""), std::string::npos);
  EXPECT_NE(get("/runs/" + id2).find("\"state\":\"succeeded\""), std::string::npos);
}

TEST_F(ControlApiTest, CancelAndTwoAtOnce) {
  std::string a = post("first\n", {{"block", "1"}});
  std::string b = post("second\n", {{"block", "1"}});
  // Both are running: a follower of each sees its first line before either ends.
  std::string seen;
  bool cancelled = false; // once: later pieces of the same stream must not cancel again
  auto rep = cfm::net::unixHttpRequest(
      path_, "GET", "/runs/" + a + "/output?follow=1", {}, {}, [&](std::string_view piece) {
        seen.append(piece);
        if (!cancelled && seen.find("first") != std::string::npos) {
          cancelled = true;
          EXPECT_NE(get("/runs/" + b).find("\"state\":\"running\""), std::string::npos);
          auto c = cfm::net::unixHttpRequest(path_, "POST", "/runs/" + a + "/cancel");
          EXPECT_TRUE(c.ok());
          EXPECT_EQ(c->status, 202);
        }
        return true;
      });
  ASSERT_TRUE(rep.ok());
  EXPECT_NE(seen.find("task cancelled"), std::string::npos);
  EXPECT_NE(seen.find("\"state\":\"cancelled\""), std::string::npos);
  EXPECT_NE(get("/runs/" + b).find("\"state\":\"running\""), std::string::npos);
  auto again = cfm::net::unixHttpRequest(path_, "POST", "/runs/" + a + "/cancel");
  EXPECT_EQ(again->status, 409);
  auto cb = cfm::net::unixHttpRequest(path_, "POST", "/runs/" + b + "/cancel");
  EXPECT_EQ(cb->status, 202);
  EXPECT_NE(get("/runs/" + b + "/output?follow=1").find("cancelled"), std::string::npos);
}

TEST_F(ControlApiTest, Refusals) {
  get("/runs/r-99", 404);
  get("/nothing", 404);
  get("/runs/r-1/output?from=x", 404); // no run yet
  auto bad = cfm::net::unixHttpRequest(path_, "POST", "/runs", "{not json");
  EXPECT_EQ(bad->status, 400);
  bad = cfm::net::unixHttpRequest(path_, "POST", "/runs", R"({"main":"a.cfp","files":{"../x":"t"}})");
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("not a relative path"), std::string::npos);
  bad = cfm::net::unixHttpRequest(path_, "POST", "/runs", R"({"main":"a.cfp","files":{"b.cfp":"t"}})");
  EXPECT_EQ(bad->status, 400);
  bad = cfm::net::unixHttpRequest(path_, "POST", "/runs",
                                  R"({"main":"a.cfp","files":{"a.cfp":"t"},"engine":"x"})");
  EXPECT_EQ(bad->status, 400);
  RunRequest r;
  r.main = "a.cfp";
  r.files["a.cfp"] = "t\n";
  r.proc = "nope";
  bad = cfm::net::unixHttpRequest(path_, "POST", "/runs", runRequestJson(r));
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("no procedure"), std::string::npos);
  bad = cfm::net::unixHttpRequest(path_, "DELETE", "/runs");
  EXPECT_EQ(bad->status, 405);
  std::string id = post("x\n");
  get("/runs/" + id + "/output?from=x", 400);
}

TEST(RunRequest, RoundTrip) {
  RunRequest r;
  r.main = "dir/main.cfp";
  r.files = {{"dir/main.cfp", "import \"lib.cfp\"\n"}, {"dir/lib.cfp", "proc f() {}\n"}};
  r.proc = "deploy";
  r.args = {{"n", "3"}, {"sys", "web"}};
  r.engine = "interp";
  auto back = parseRunRequest(runRequestJson(r));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->main, r.main);
  EXPECT_EQ(back->files, r.files);
  EXPECT_EQ(back->proc, r.proc);
  EXPECT_EQ(back->args, r.args);
  EXPECT_EQ(back->engine, r.engine);
  EXPECT_TRUE(back->stdDir.empty());
  EXPECT_TRUE(back->stdFiles.empty());
}

// The standard library modules a program imports travel beside its files (`std`: the client's
// folder and the modules by their path in it); a malformed `std` is refused.
TEST(RunRequest, StdModulesRoundTripAndChecks) {
  RunRequest r;
  r.main = "main.cfp";
  r.files = {{"main.cfp", "import \"std/retry.cfp\";\n"}};
  r.stdDir = "/opt/cfm/share/cfm/stdlib";
  r.stdFiles = {{"retry.cfp", "fn f() {}\n"}, {"net/http.cfp", ""}};
  auto back = parseRunRequest(runRequestJson(r));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->stdDir, r.stdDir);
  EXPECT_EQ(back->stdFiles, r.stdFiles);
  const std::string head = R"({"main":"m.cfp","files":{"m.cfp":""},"std":)";
  for (const char *bad : {R"([])", R"({"files":{}})", R"({"dir":"rel","files":{}})", R"({"dir":"/s"})",
                          R"({"dir":"/s","files":{"../x.cfp":""}})", R"({"dir":"/s","files":{"x.cfp":1}})"}) {
    auto p = parseRunRequest(head + bad + "}");
    EXPECT_FALSE(p.ok()) << bad;
  }
}

// A stored run names a system and one of its procedure files; the daemon fills the files in.
TEST(RunRequest, StoredRunRoundTripAndChecks) {
  RunRequest r;
  r.main = "lib/peer.cfp";
  r.storedSystem = "web3";
  auto back = parseRunRequest(runRequestJson(r));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->storedSystem, "web3");
  EXPECT_EQ(back->main, "lib/peer.cfp");
  EXPECT_TRUE(back->files.empty());
  EXPECT_TRUE(parseRunRequest(R"({"main":"a.cfp","stored":"web3"})").ok()); // no `files` at all
  EXPECT_FALSE(parseRunRequest(R"({"main":"../a.cfp","stored":"web3"})").ok());
  EXPECT_FALSE(parseRunRequest(R"({"main":"a.cfp","stored":7})").ok());
  EXPECT_FALSE(parseRunRequest(R"({"main":"a.cfp","files":{}})").ok()); // not stored: main must be sent
}

} // namespace
