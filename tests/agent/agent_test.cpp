// agent_test.cpp — cfm-agent as a real process against a real mosquitto, driven by a test
// manager that signs its requests (harness.h): presence and shutdown, outputs, exit codes,
// signals, timeouts that kill the whole process group, truncated output, concurrency limits,
// put_file (sizes, modes, atomicity, confinement against hundreds of hostile paths and a race),
// exactly-once answers (duplicates, agent restarts, a broker killed with 500 commands in flight)
// and the refusal of every kind of bad request with nothing run.
#include "harness.h"

#include "net/sigv4.h"

#include <gtest/gtest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

using namespace cfm;
using namespace cfm::agenttest;

namespace {

const std::string kInstance = "i-0123456789abcdef0";

struct Rig {
  TempDir dir;
  Broker broker{dir.path};
  std::unique_ptr<Agent> agent;
  std::unique_ptr<TestManager> manager;

  explicit Rig(int maxConcurrent = 8) {
    Agent::Config c;
    c.instance = kInstance;
    c.brokerUri = broker.uri();
    c.keyHex = testKeyHex();
    c.maxConcurrent = maxConcurrent;
    agent = std::make_unique<Agent>(dir.path, c);
    manager = std::make_unique<TestManager>(broker.uri(), kInstance, testKeyHex());
    EXPECT_TRUE(manager->waitPresence("up", std::chrono::seconds(30))) << agent->log();
  }
  ~Rig() {
    EXPECT_EQ(manager->badSignatures(), 0);
    manager.reset();
    agent.reset();
  }
  fs::path root() const { return agent->root(); }

  net::ExecResult run(const std::string &command, int64_t timeoutMs = 60000) {
    auto r = manager->call(manager->exec(command, timeoutMs));
    EXPECT_TRUE(r) << agent->log();
    if (!r) return {};
    EXPECT_EQ(r->status, net::AgentStatus::Ok) << r->message;
    auto e = net::decodeExecResult(r->resultJson);
    EXPECT_TRUE(e.ok());
    return e.ok() ? *e : net::ExecResult{};
  }

  std::optional<net::AgentReply> put(const std::string &path, const std::string &content,
                                     uint32_t mode = 0644) {
    net::AgentRequest req = manager->request(net::AgentOp::PutFile);
    req.putFile.path = path;
    req.putFile.content = content;
    req.putFile.mode = mode;
    req.putFile.sha256 = net::sha256Hex(content);
    return manager->call(req);
  }
};

bool processGone(pid_t pid) {
  if (::kill(pid, 0) != 0) return true;
  // A zombie waiting for its parent counts as gone.
  std::string stat = readFile("/proc/" + std::to_string(pid) + "/stat");
  size_t close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] == 'Z';
}

/// Every regular file beneath DIR with its content (links listed as "-> target").
std::map<std::string, std::string> snapshot(const fs::path &dir) {
  std::map<std::string, std::string> out;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
    if (it->is_symlink())
      out[it->path().string()] = "-> " + fs::read_symlink(it->path()).string();
    else if (it->is_regular_file())
      out[it->path().string()] = readFile(it->path());
  }
  return out;
}

} // namespace

TEST(Agent, CommandLine) {
  TempDir d;
  std::string out = d.path / "out.txt";
  ASSERT_EQ(std::system((std::string(CFM_AGENT_BIN) + " --version >" + out).c_str()), 0);
  EXPECT_EQ(readFile(out), "cfm-agent 0.1.0\n");
  ASSERT_EQ(std::system((std::string(CFM_AGENT_BIN) + " --help >" + out).c_str()), 0);
  EXPECT_NE(readFile(out).find("--instance-id"), std::string::npos);
  EXPECT_NE(std::system((std::string(CFM_AGENT_BIN) + " --bogus 2>" + out).c_str()), 0);
  EXPECT_NE(std::system((std::string(CFM_AGENT_BIN) + " --root / 2>" + out).c_str()), 0); // no instance id
}

TEST(Agent, WithoutConfigurationWaitsForSigterm) {
  using UserData = Agent::Config::UserData;
  for (auto [kind, why] :
       {std::pair{UserData::NoAgentMember, "has no `cfm_agent` member"},
        std::pair{UserData::Script, "is not JSON"}, std::pair{UserData::Missing, "does not exist"}}) {
    TempDir d;
    Agent::Config c;
    c.userData = kind;
    Agent a(d.path, c);
    ASSERT_TRUE(eventually([&] { return a.log().find("no agent configuration, idle") != std::string::npos; }))
        << a.log();
    EXPECT_NE(a.log().find(why), std::string::npos) << a.log();
    EXPECT_FALSE(processGone(a.pid())); // idle, not exited
    a.stop(SIGTERM);
    EXPECT_TRUE(WIFEXITED(a.exitStatus()) && WEXITSTATUS(a.exitStatus()) == 0) << a.log();
  }
}

TEST(Agent, MakesItsStateDirectoryAndItsParents) {
  TempDir d;
  Broker broker{d.path};
  Agent::Config c;
  c.brokerUri = broker.uri();
  c.keyHex = testKeyHex();
  c.defaultStateDir = true; // ROOT/var/lib/cfm-agent, and ROOT has no var/
  Agent a(d.path, c);
  TestManager manager(broker.uri(), c.instance, testKeyHex());
  ASSERT_TRUE(manager.waitPresence("up", std::chrono::seconds(30))) << a.log(); // subscribed
  auto r = manager.call(manager.request(net::AgentOp::Ping));
  ASSERT_TRUE(r) << a.log();
  EXPECT_EQ(r->status, net::AgentStatus::Ok) << r->message;
  struct stat st {};
  ASSERT_EQ(::stat(a.state().c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_TRUE(fs::exists(a.state() / "agent.db"));
}

TEST(Agent, PresenceAndCleanShutdown) {
  Rig rig;
  EXPECT_EQ(rig.manager->presenceState(), "up");
  rig.agent->stop(SIGTERM);
  EXPECT_TRUE(WIFEXITED(rig.agent->exitStatus()) && WEXITSTATUS(rig.agent->exitStatus()) == 0);
  EXPECT_TRUE(rig.manager->waitPresence("down", std::chrono::seconds(30)));
  EXPECT_EQ(rig.agent->log().find(testKeyHex()), std::string::npos); // no secret in the log
}

TEST(Agent, LastWillWhenKilled) {
  Rig rig;
  rig.agent->stop(SIGKILL);
  EXPECT_TRUE(rig.manager->waitPresence("down", std::chrono::seconds(90)));
}

TEST(Agent, PingAndExecBasics) {
  Rig rig;
  auto p = rig.manager->call(rig.manager->request(net::AgentOp::Ping));
  ASSERT_TRUE(p);
  EXPECT_EQ(p->status, net::AgentStatus::Ok);
  EXPECT_NE(p->resultJson.find("\"agent_version\":\"0.1.0\""), std::string::npos);

  auto r = rig.run("echo out; echo err >&2; pwd; echo \"$CFM_VM_ROOT\"; exit 3");
  EXPECT_EQ(r.exitCode, 3);
  EXPECT_EQ(r.signal, 0);
  std::string root = fs::canonical(rig.root()).string();
  EXPECT_EQ(r.stdoutText, "out\n" + root + "\n" + root + "\n");
  EXPECT_EQ(r.stderrText, "err\n");
  EXPECT_FALSE(r.truncated);
  EXPECT_FALSE(r.timedOut);

  net::AgentRequest req = rig.manager->exec("printf '%s|%s' \"$A\" \"$B\"");
  req.exec.env = {{"A", "1 2"}, {"B", "é"}};
  auto er = rig.manager->call(req);
  ASSERT_TRUE(er);
  EXPECT_EQ(net::decodeExecResult(er->resultJson)->stdoutText, "1 2|é");

  auto s = rig.run("kill -9 $$");
  EXPECT_EQ(s.exitCode, -1);
  EXPECT_EQ(s.signal, 9);
  auto bin = rig.run("printf 'a\\377b'");
  EXPECT_EQ(bin.stdoutText, "a\xef\xbf\xbd"
                            "b");
}

TEST(Agent, TimeoutKillsTheWholeGroup) {
  Rig rig;
  auto r = rig.run("sleep 1000 & echo $! > grandchild; sleep 1000", 300);
  EXPECT_TRUE(r.timedOut);
  EXPECT_EQ(r.exitCode, -1);
  EXPECT_EQ(r.signal, SIGTERM);
  pid_t g = std::stoi(readFile(rig.root() / "grandchild"));
  EXPECT_TRUE(eventually([&] { return processGone(g); }));
}

TEST(Agent, TimeoutEscalatesToSigkill) {
  Rig rig;
  // SIGTERM ignored by the shell and (inherited) by its child: SIGKILL 5 s later ends both.
  auto r = rig.run("trap '' TERM; sleep 1000 & echo $! > grandchild; sleep 1000", 300);
  EXPECT_TRUE(r.timedOut);
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_GE(r.durationMs, 5000);
  pid_t g = std::stoi(readFile(rig.root() / "grandchild"));
  EXPECT_TRUE(processGone(g));
}

TEST(Agent, LargeOutputIsTruncated) {
  Rig rig;
  auto r = rig.run(
      "head -c 5242880 /dev/zero | tr '\\0' x; head -c 3000000 /dev/zero | tr '\\0' y >&2; echo done");
  EXPECT_TRUE(r.truncated);
  EXPECT_EQ(r.exitCode, 0);
  EXPECT_EQ(r.stdoutText.size(), 1u << 20);
  EXPECT_EQ(r.stderrText.size(), 1u << 20);
  EXPECT_EQ(r.stdoutText.find_first_not_of('x'), std::string::npos);
}

TEST(Agent, HundredConcurrentCommandsWithALimit) {
  Rig rig(4);
  fs::create_directories(rig.root() / "running");
  std::vector<std::string> ids;
  for (int i = 0; i < 100; ++i) {
    auto w = rig.manager->wire(rig.manager->exec(
        "touch running/$$; n=$(ls running | wc -l); echo $n >> counts; sleep 0.05; rm running/$$; echo " +
        std::to_string(i)));
    ASSERT_TRUE(rig.manager->send(w));
    ids.push_back(w.id);
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    auto r = rig.manager->await(ids[i]);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, net::AgentStatus::Ok);
    EXPECT_EQ(net::decodeExecResult(r->resultJson)->stdoutText, std::to_string(i) + "\n");
  }
  std::istringstream counts(readFile(rig.root() / "counts"));
  int n = 0, lines = 0, most = 0;
  while (counts >> n) {
    ++lines;
    most = std::max(most, n);
  }
  EXPECT_EQ(lines, 100);
  EXPECT_LE(most, 4);
  EXPECT_GE(most, 1);
}

TEST(Agent, PutFileSizesModesAndChecks) {
  Rig rig;
  auto empty = rig.put("/etc/empty.conf", "", 0600);
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, net::AgentStatus::Ok) << empty->message;
  EXPECT_EQ(fs::file_size(rig.root() / "etc/empty.conf"), 0u);
  struct stat st;
  ASSERT_EQ(::stat((rig.root() / "etc/empty.conf").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);

  std::string big(50u << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = char('a' + i % 26);
  auto b = rig.put("/var/big.bin", big, 0640);
  ASSERT_TRUE(b);
  EXPECT_EQ(b->status, net::AgentStatus::Ok) << b->message;
  EXPECT_EQ(b->resultJson, "{\"bytes\":52428800}");
  EXPECT_TRUE(readFile(rig.root() / "var/big.bin") == big);

  net::AgentRequest bad = rig.manager->request(net::AgentOp::PutFile);
  bad.putFile.path = "/etc/x";
  bad.putFile.content = "abc";
  bad.putFile.sha256 = net::sha256Hex("abd");
  auto m = rig.manager->call(bad);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->status, net::AgentStatus::Error);
  EXPECT_EQ(m->code, "io");
  EXPECT_FALSE(fs::exists(rig.root() / "etc/x"));
}

TEST(Agent, PutFileIsAtomic) {
  Rig rig;
  const std::string a(4096, 'a'), b(65536, 'b');
  ASSERT_EQ(rig.put("/data/file", a)->status, net::AgentStatus::Ok);
  std::atomic<bool> done{false};
  std::atomic<int> reads{0}, mixed{0};
  std::thread reader([&] {
    while (!done) {
      std::string s = readFile(rig.root() / "data/file");
      if (s != a && s != b) ++mixed;
      ++reads;
    }
  });
  for (int i = 0; i < 1000; ++i) {
    auto r = rig.put("/data/file", i % 2 ? a : b);
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, net::AgentStatus::Ok) << r->message;
  }
  done = true;
  reader.join();
  EXPECT_EQ(mixed.load(), 0);
  EXPECT_GT(reads.load(), 0);
  // No temporary file left behind.
  int entries = 0;
  for (auto &e : fs::directory_iterator(rig.root() / "data"))
    entries += e.path().filename() == "file" ? 0 : 1;
  EXPECT_EQ(entries, 0);
}

TEST(Agent, SameRequestTwiceRunsOnce) {
  Rig rig;
  auto w = rig.manager->wire(rig.manager->exec("echo ran >> once; date +%s%N"));
  ASSERT_TRUE(rig.manager->send(w));
  auto first = rig.manager->await(w.id);
  ASSERT_TRUE(first);
  ASSERT_TRUE(rig.manager->send(w)); // a manager's resend of the same bytes
  ASSERT_TRUE(eventually([&] { return rig.manager->replies(w.id) == 2; }));
  EXPECT_EQ(readFile(rig.root() / "once"), "ran\n");

  rig.agent->stop(SIGTERM);
  rig.agent->start();
  ASSERT_TRUE(rig.manager->waitPresence("up", std::chrono::seconds(30)));
  ASSERT_TRUE(rig.manager->send(w));
  ASSERT_TRUE(eventually([&] { return rig.manager->replies(w.id) == 3; }));
  EXPECT_EQ(readFile(rig.root() / "once"), "ran\n");
  // The same answer each time (the command printed a timestamp: a rerun would differ).
  auto again = rig.manager->await(w.id);
  EXPECT_EQ(net::encodeAgentReply(*again), net::encodeAgentReply(*first));
}

TEST(Agent, InterruptedRequestIsNotRunAgain) {
  Rig rig;
  auto w = rig.manager->wire(rig.manager->exec("echo $$ > pid; echo started >> log; exec sleep 1000"));
  ASSERT_TRUE(rig.manager->send(w));
  ASSERT_TRUE(eventually([&] { return readFile(rig.root() / "log") == "started\n"; }));
  rig.agent->stop(SIGKILL);
  rig.agent->start();
  auto r = rig.manager->await(w.id); // published at the restart
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, net::AgentStatus::Error);
  EXPECT_EQ(r->code, "io");
  EXPECT_NE(r->message.find("may have run"), std::string::npos);
  ASSERT_TRUE(rig.manager->send(w));
  ASSERT_TRUE(eventually([&] { return rig.manager->replies(w.id) >= 2; }));
  EXPECT_EQ(readFile(rig.root() / "log"), "started\n");
  ::kill(std::stoi(readFile(rig.root() / "pid")), SIGKILL); // the orphan of the killed agent, by PID
}

TEST(Agent, BrokerKilledWithFiveHundredInFlight) {
  Rig rig(8);
  std::vector<TestManager::Wire> wires;
  for (int i = 0; i < 500; ++i)
    wires.push_back(rig.manager->wire(rig.manager->exec("echo " + std::to_string(i) + " >> lines")));
  for (size_t i = 0; i < wires.size(); ++i) {
    if (i == 200) rig.broker.kill(); // mid-stream: the rest cannot be sent until it is back
    if (i == 260) rig.broker.start();
    rig.manager->send(wires[i]); // may fail while the broker is away
  }
  // The manager resends what is unanswered, the same bytes, until every request is answered.
  ASSERT_TRUE(eventually(
      [&] {
        int missing = 0;
        for (const auto &w : wires)
          if (rig.manager->replies(w.id) == 0) {
            ++missing;
            if (rig.manager->client().connected()) rig.manager->send(w);
          }
        if (missing) std::this_thread::sleep_for(std::chrono::milliseconds(500));
        return missing == 0;
      },
      std::chrono::seconds(50)))
      << rig.agent->log();
  std::map<int, int> seen;
  std::istringstream lines(readFile(rig.root() / "lines"));
  int n = 0;
  while (lines >> n) ++seen[n];
  EXPECT_EQ(seen.size(), 500u);
  for (const auto &[k, count] : seen) EXPECT_EQ(count, 1) << "command " << k;
  for (const auto &w : wires) {
    auto r = rig.manager->await(w.id);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, net::AgentStatus::Ok) << r->message;
  }
}

TEST(Agent, BadRequestsAreRejectedAndNothingRuns) {
  Rig rig;
  auto cmd = [&] { return rig.manager->exec("echo ran >> ran"); };
  auto expectRejected = [&](const TestManager::Wire &w, const std::string &what) {
    ASSERT_TRUE(rig.manager->send(w));
    auto r = rig.manager->await(w.id.empty() ? std::string() : w.id);
    ASSERT_TRUE(r) << what;
    EXPECT_EQ(r->status, net::AgentStatus::Rejected) << what;
    EXPECT_EQ(r->code, "rejected") << what;
  };
  auto w = rig.manager->wire(cmd());
  w.sig = "";
  expectRejected(w, "unsigned");
  w = rig.manager->wire(cmd());
  w.payload.replace(w.payload.find("ran >>"), 3, "RAN");
  expectRejected(w, "tampered");
  w = rig.manager->wire(cmd());
  w.sig = net::signAgentMessage(std::string(32, 'k'), net::agentRequestTopic(kInstance), w.payload);
  expectRejected(w, "another key");
  auto other = cmd();
  other.instance = "i-someoneelse";
  expectRejected(rig.manager->wire(other), "another instance");
  auto old = cmd();
  old.ts -= 120000;
  expectRejected(rig.manager->wire(old), "expired");
  auto future = cmd();
  future.ts += 120000;
  expectRejected(rig.manager->wire(future), "from the future");
  auto v2 = cmd();
  v2.version = 2;
  auto wv2 = rig.manager->wire(v2);
  ASSERT_TRUE(rig.manager->send(wv2));
  auto rv2 = rig.manager->await(wv2.id);
  ASSERT_TRUE(rv2);
  EXPECT_EQ(rv2->status, net::AgentStatus::Rejected);
  EXPECT_EQ(rv2->message, "unsupported protocol version 2");
  // A nonce used before (by a request that ran), under a new id: a replay.
  auto ran = rig.manager->exec("true");
  ASSERT_EQ(rig.manager->call(ran)->status, net::AgentStatus::Ok);
  auto replay = cmd();
  replay.nonce = ran.nonce;
  expectRejected(rig.manager->wire(replay), "replayed nonce");
  // A known id with another nonce.
  auto reuse = cmd();
  reuse.id = ran.id;
  auto wr = rig.manager->wire(reuse);
  ASSERT_TRUE(rig.manager->send(wr));
  ASSERT_TRUE(eventually([&] { return rig.manager->replies(ran.id) == 2; }));
  // Malformed, yet signed.
  TestManager::Wire junk{*net::randomHex(16), "{\"v\":1,\"op\":\"exec\"}", ""};
  junk.sig = net::signAgentMessage(*net::parseAgentKey(testKeyHex()), net::agentRequestTopic(kInstance),
                                   junk.payload);
  ASSERT_TRUE(rig.manager->send(junk));
  ASSERT_TRUE(rig.manager->send(rig.manager->wire(rig.manager->exec("echo probe > probe"))));
  ASSERT_TRUE(eventually([&] { return fs::exists(rig.root() / "probe"); }));
  EXPECT_FALSE(fs::exists(rig.root() / "ran")) << "a refused request ran";
  EXPECT_FALSE(fs::exists(rig.root() / "RAN"));
}

TEST(Agent, PutFileStaysInsideTheRoot) {
  Rig rig;
  fs::path outside = rig.dir.path / "outside";
  fs::create_directories(outside / "deep");
  std::ofstream(outside / "target") << "original";
  fs::path root = rig.root();
  fs::create_directories(root / "sub/inner");
  fs::create_symlink(outside, root / "abs");                 // absolute, out
  fs::create_symlink("../outside", root / "rel");            // relative, out
  fs::create_symlink("../../outside", root / "sub/up");      // relative, out from below
  fs::create_symlink("sub", root / "inside");                // relative, staying in
  fs::create_symlink(root / "sub", root / "absinside");      // absolute, pointing in
  fs::create_symlink(outside / "target", root / "filelink"); // a file link, out
  fs::create_symlink("/proc/self/cwd", root / "magic");      // a magic link
  fs::create_symlink("loop", root / "loop");                 // a loop
  auto before = snapshot(outside);

  const std::vector<std::string> prefixes = {
      "/..",
      "/../..",
      "/../../..",
      "/./..",
      "//..",
      "/sub/../..",
      "/sub/inner/../../..",
      "/abs",
      "/abs/deep",
      "/rel",
      "/rel/deep",
      "/sub/up",
      "/sub/up/deep",
      "/inside",
      "/inside/inner",
      "/absinside",
      "/magic",
      "/loop",
      "/filelink",
      "/sub/../abs",
      "/./abs/.",
      "/inside/../rel",
      "/sub/inner/../up",
      "/..//..",
      "/sub/./../../outside",
      "/abs/../abs",
      "/rel/..",
      "/sub/up/..",
      "/inside/up",
      "/..%2f..",
  };
  const std::vector<std::string> names = {"x", "target", "deep/y",    "../target", "../../outside/target",
                                          ".", "new",    "deep/../z", "a/b/c",     "..."};
  int requests = 0, ok = 0;
  for (const auto &p : prefixes)
    for (const auto &n : names) {
      auto r = rig.put(p + "/" + n, "pwned");
      ASSERT_TRUE(r);
      ++requests;
      if (r->status == net::AgentStatus::Ok) ++ok;
    }
  // Paths that are not absolute, or name no file.
  for (std::string p : {"", "relative/x", "../x", "/", "/.", "//", "x/../../y"}) {
    auto r = rig.put(p, "pwned");
    ASSERT_TRUE(r);
    ++requests;
    EXPECT_NE(r->status, net::AgentStatus::Ok) << p;
  }
  EXPECT_GE(requests, 300);
  EXPECT_EQ(snapshot(outside), before) << "a write left the root";
  // The last component being a link: the link is replaced, its target untouched.
  auto fl = rig.put("/filelink", "replaced");
  ASSERT_TRUE(fl);
  EXPECT_EQ(fl->status, net::AgentStatus::Ok);
  EXPECT_FALSE(fs::is_symlink(root / "filelink"));
  EXPECT_EQ(readFile(outside / "target"), "original");
  // Some hostile-looking paths are harmless and written inside (`...`, `..%2f..`).
  EXPECT_GT(ok, 0);
}

TEST(Agent, PutFileRaceSwappingADirectoryForALink) {
  Rig rig;
  fs::path outside = rig.dir.path / "outside";
  fs::create_directories(outside);
  fs::path root = rig.root();
  std::atomic<bool> done{false};
  std::thread swapper([&] {
    fs::path race = root / "race", tmp = root / "race.tmp";
    std::error_code ec;
    while (!done) {
      fs::remove_all(race, ec);
      fs::create_directory(race, ec);
      fs::remove(tmp, ec);
      fs::create_symlink(outside, tmp, ec);
      ::rename(tmp.c_str(), race.c_str()); // fails when race is a non-empty directory
      fs::remove_all(race, ec);
      fs::create_symlink(outside, race, ec);
    }
  });
  int requests = 0;
  for (int i = 0; i < 200; ++i) {
    auto r = rig.put("/race/f" + std::to_string(i % 5), "pwned");
    ASSERT_TRUE(r);
    ++requests;
  }
  done = true;
  swapper.join();
  EXPECT_EQ(requests, 200);
  EXPECT_TRUE(fs::is_empty(outside)) << "a write left the root through the race";
}
