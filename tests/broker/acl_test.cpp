// acl_test.cpp — the broker refuses what an agent's account may not do (docs/agent-protocol.md
// "Broker accounts"; issue 14 "Security"): a real local federation (`cfmc local up`: cfm-cloud,
// mosquitto with the dynamic-security plugin), two VMs started by `cfmc run` (run_vm makes each
// agent's account through $CONTROL), the clouds then killed (`cfmc local kill a`: the agents stop,
// the broker and the accounts stay), and a client logging in with the first VM's credentials
// (from its user data): it may subscribe to its own request topic and publish its replies, and
// is refused another agent's request topic, a wildcard over all agents, and a manager's topic.
//   cfm-broker-acl-test CFMC SOURCE_DIR
#include "net/agent_proto.h"
#include "net/mqtt.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace fs = std::filesystem;

namespace {

std::string gCfmc, gSource;

std::string readAll(const fs::path &p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Runs a shell command line; its stdout.
std::string run(const std::string &cmd, int &status) {
  std::string out;
  FILE *f = popen(cmd.c_str(), "r");
  if (!f) {
    status = -1;
    return out;
  }
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  status = pclose(f);
  return out;
}

TEST(BrokerAcl, AnAgentAccountIsConfinedToItsOwnTopics) {
  char tmpl[] = "/tmp/cfm-acl-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string dir = tmpl, fed = dir + "/fed", ctx = "CFM_CONTEXT=" + fed + "/context.json ";
  struct Down {
    std::string cmd;
    ~Down() { (void)std::system(cmd.c_str()); }
  } down{gCfmc + " local down --purge --dir " + fed + " >/dev/null 2>&1; rm -rf " + dir};
  int st = 0;
  run(gCfmc + " local up --clouds 1 --dir " + fed + " --boot-delay 50ms 2>&1", st);
  ASSERT_EQ(st, 0) << "cfmc local up failed";
  run(ctx + gCfmc + " ovf import " + gSource + "/samples/web3/web3.ovf --manager a 2>&1", st);
  ASSERT_EQ(st, 0);
  std::ofstream(dir + "/two.cfp") << "procedure main(sys: BusinessSystem) {\n"
                                     "  let vms = wait([async run_vm(sys, \"web\", timeout: 1m),\n"
                                     "                  async run_vm(sys, \"web\", timeout: 1m)]);\n"
                                     "  for v in vms { print(v.id); }\n"
                                     "}\n";
  std::string ids = run(ctx + gCfmc + " run " + dir + "/two.cfp --manager a --arg sys=web3", st);
  ASSERT_EQ(st, 0) << ids;
  std::istringstream lines(ids);
  std::string me, other;
  lines >> me >> other;
  ASSERT_FALSE(me.empty());
  ASSERT_FALSE(other.empty());
  auto ud = cfm::net::decodeAgentUserData(readAll(fed + "/a/state/instances/" + me + "/user-data"));
  ASSERT_TRUE(ud && *ud) << "no agent configuration in " << me << "'s user data";
  std::string broker = (*ud)->broker, password = (*ud)->password;
  run(gCfmc + " local kill a --dir " + fed + " 2>&1", st); // the agents stop; the broker stays
  ASSERT_EQ(st, 0);

  cfm::net::MqttOptions o;
  o.uri = broker;
  o.clientId = me;
  o.username = me;
  o.password = password;
  auto c = cfm::net::MqttClient::create(o);
  ASSERT_TRUE(c);
  ASSERT_TRUE((*c)->connect(std::chrono::seconds(20))) << "the agent's account cannot log in";
  EXPECT_TRUE((*c)->subscribe(cfm::net::agentRequestTopic(me), 1)) << "its own request topic";
  cfm::net::MqttMessage reply;
  reply.topic = cfm::net::agentReplyTopic(me);
  reply.payload = "{}";
  EXPECT_TRUE((*c)->publish(reply)) << "its own reply topic";
  EXPECT_FALSE((*c)->subscribe(cfm::net::agentRequestTopic(other), 1)) << "another agent's requests";
  EXPECT_FALSE((*c)->subscribe("cfm/v1/agents/+/requests", 1)) << "every agent's requests";
  EXPECT_FALSE((*c)->subscribe("cfm/v1/agents/+/replies", 1)) << "the manager's replies";
  cfm::net::MqttMessage forged;
  forged.topic = cfm::net::agentRequestTopic(other);
  forged.payload = "{}";
  EXPECT_FALSE((*c)->publish(forged)) << "publishing a request (a manager's topic)";
  forged.topic = cfm::net::agentReplyTopic(other);
  EXPECT_FALSE((*c)->publish(forged)) << "publishing another agent's reply";
  forged.topic = "$CONTROL/dynamic-security/v1";
  EXPECT_FALSE((*c)->publish(forged)) << "publishing to the dynamic-security plugin";
  (void)(*c)->disconnect();
}

} // namespace

int main(int argc, char **argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (argc < 3) {
    std::fprintf(stderr, "usage: cfm-broker-acl-test CFMC SOURCE_DIR\n");
    return 2;
  }
  gCfmc = argv[1];
  gSource = argv[2];
  return RUN_ALL_TESTS();
}
