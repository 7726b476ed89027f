// client_resend_test.cpp — the manager's agent client (runtime/agent/client.h) against a real
// mosquitto and a real cfm-agent: a request the broker lost (it was killed while the request waited
// for the agent) is published again after the reconnection with the identical bytes, the agent
// runs it once, and the call returns its result.
#include "harness.h"

#include "runtime/agent/client.h"
#include "runtime/runtime.h"
#include "runtime/sched/scheduler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <thread>

namespace cfm::agenttest {
namespace {

using Body = std::function<bool()>;
bool callBody(void *env, rt::Slot *) { return (*static_cast<Body *>(env))(); }

/// Runs B as the main task of a scheduler on this thread: false leaves its error pending.
bool onTask(Body b) {
  rt::Slot r{0};
  return rt::sched::runMain(callBody, &b, &r);
}

std::string takeMessage() {
  rt::ErrorVal *e = rt::takeError();
  if (!e) return "";
  std::string m(e->message->view());
  rt::release(e);
  return m;
}

TEST(AgentClient, ResendsTheSameRequestAfterTheBrokerLostIt) {
  TempDir dir;
  Broker broker{dir.path};
  Agent::Config c;
  c.brokerUri = broker.uri();
  c.keyHex = testKeyHex();
  Agent agent(dir.path, c);
  ASSERT_TRUE(eventually([&] { return agent.log().find("waiting for requests") != std::string::npos; }))
      << agent.log();
  // The agent goes away cleanly: the broker keeps its session and queues the request for it.
  agent.stop(SIGTERM);

  rt::agent::ClientOptions o;
  o.url = broker.uri();
  o.clientId = "manager-resend-test";
  auto client = rt::agent::AgentClient::connect(o, std::chrono::seconds(30));
  ASSERT_TRUE(client.ok()) << client.error().message;

  // Once the call is under way: the broker dies with the queued request (no persistence), comes
  // back empty, and the agent starts again. Only a resend can reach it now.
  std::atomic<bool> calling{false};
  std::thread chaos([&] {
    while (!calling) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    std::this_thread::sleep_for(std::chrono::milliseconds(300)); // the publish is acknowledged
    broker.kill();
    broker.start();
    agent.start();
  });
  std::string key = *net::parseAgentKey(testKeyHex());
  model::Manager::CommandResult out;
  bool ok = onTask([&] {
    calling = true;
    return (*client)->runCommand(c.instance, key, "echo ran >> ran; echo hello", {}, 60000, out);
  });
  chaos.join();
  ASSERT_TRUE(ok) << takeMessage() << "\n" << agent.log();
  EXPECT_EQ(out.exitCode, 0);
  EXPECT_EQ(out.stdoutText, "hello\n");
  EXPECT_EQ(readFile(agent.root() / "ran"), "ran\n"); // once
}

} // namespace
} // namespace cfm::agenttest
