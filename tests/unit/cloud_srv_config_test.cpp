// cloud_srv_config_test.cpp — cfm-cloud's TOML configuration (cfm-cloud/config.h): defaults,
// every key read, relative state_dir, and refusals of unknown keys and bad values.
#include "cfm-cloud/config.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace {

using cfm::cloud::parseConfig;

constexpr const char *kKey = "[[access_keys]]\nid = \"AKID1\"\nsecret = \"s\"\n";

TEST(CloudConfigFile, Defaults) {
  auto c = parseConfig(std::string("[cloud]\nname = \"a\"\n") + kKey, "t.toml", "/base", "");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->index, 1);
  EXPECT_EQ(c->listenHost, "127.0.0.1");
  EXPECT_EQ(c->listenPort, 0);
  EXPECT_EQ(c->region, "local-a");
  EXPECT_EQ(c->zones, std::vector<std::string>{"local-a-1"});
  EXPECT_EQ(c->stateDir, "/base/state");
  EXPECT_EQ(c->bootDelayMs, 200);
  EXPECT_EQ(c->forwardPorts, (std::vector<int>{22, 80, 443, 5432, 8080, 9000}));
  EXPECT_EQ(c->quotaInstances, 20);
  EXPECT_EQ(c->quotaVcpus, 64);
  EXPECT_EQ(c->quotaAddresses, 5);
  ASSERT_EQ(c->images.size(), 1u);
  EXPECT_EQ(c->images[0].id, "ami-cfm-default");
  EXPECT_EQ(c->images[0].command, (std::vector<std::string>{"/bin/sleep", "infinity"}));
  ASSERT_EQ(c->instanceTypes.size(), 5u);
  EXPECT_EQ(c->instanceTypes[0].name, "c1.micro");
  EXPECT_EQ(c->instanceTypes[4].vcpus, 8);
}

// The default image runs what is beside cfm-cloud: cfm-agent first, else cfm-vm-idle, else
// /bin/sleep (as in Defaults, with no folder given).
TEST(CloudConfigFile, DefaultImagePrefersTheAgentThenTheIdleProgram) {
  namespace fs = std::filesystem;
  fs::path dir = fs::temp_directory_path() / ("cfm-cloud-selfdir-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  auto defaultCommand = [&]() {
    auto c = parseConfig(std::string("[cloud]\nname = \"a\"\n") + kKey, "t.toml", "/base", dir.string());
    EXPECT_TRUE(c) << c.error().message;
    return c ? c->images.at(0).command : std::vector<std::string>{};
  };
  EXPECT_EQ(defaultCommand(), (std::vector<std::string>{"/bin/sleep", "infinity"}));
  std::ofstream(dir / "cfm-vm-idle") << "x";
  EXPECT_EQ(defaultCommand(), std::vector<std::string>{(dir / "cfm-vm-idle").string()});
  std::ofstream(dir / "cfm-agent") << "x";
  EXPECT_EQ(defaultCommand(), std::vector<std::string>{(dir / "cfm-agent").string()});
  fs::remove_all(dir);
}

TEST(CloudConfigFile, EveryKey) {
  std::string text =
      "[cloud]\nname = \"b\"\nindex = 7\nlisten = \"127.0.0.1:8773\"\nregion = \"r\"\n"
      "zones = [\"z1\", \"z2\"]\nstate_dir = \"/abs/state\"\nboot_delay_ms = 5\nstop_delay_ms = 6\n"
      "forward_ports = [22]\n" +
      std::string(kKey) +
      "[quotas]\ninstances = 3\nvcpus = 4\naddresses = 1\n[throttle]\nrate = 2.5\nburst = 7\n"
      "[[images]]\nid = \"ami-x\"\ncommand = [\"/bin/true\"]\n"
      "[[instance_types]]\nname = \"t\"\nvcpus = 2\nmemory_mib = 100\n";
  auto c = parseConfig(text, "t.toml", "/base", "");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->index, 7);
  EXPECT_EQ(c->listenPort, 8773);
  EXPECT_EQ(c->region, "r");
  EXPECT_EQ(c->zones.size(), 2u);
  EXPECT_EQ(c->stateDir, "/abs/state");
  EXPECT_EQ(c->stopDelayMs, 6);
  EXPECT_EQ(c->forwardPorts, std::vector<int>{22});
  EXPECT_EQ(c->quotaVcpus, 4);
  EXPECT_EQ(c->throttleRate, 2.5);
  EXPECT_EQ(c->throttleBurst, 7.0);
  EXPECT_EQ(c->images[0].name, "ami-x");
  ASSERT_EQ(c->instanceTypes.size(), 1u);
  EXPECT_EQ(c->instanceTypes[0].memoryMib, 100);
}

TEST(CloudConfigFile, Refusals) {
  auto bad = [](const std::string &text) { return !parseConfig(text, "t.toml", "/base", ""); };
  EXPECT_TRUE(bad(kKey));                                                       // no [cloud]
  EXPECT_TRUE(bad("[cloud]\nname = \"a\"\n"));                                  // no access key
  EXPECT_TRUE(bad(std::string("[cloud]\nname = \"a\"\nindex = 255\n") + kKey)); // index out of range
  EXPECT_TRUE(bad(std::string("[cloud]\nname = \"a\"\nlisten = \"nohost\"\n") + kKey));
  EXPECT_TRUE(bad(std::string("[cloud]\nname = \"a\"\nlisten = \"h:70000\"\n") + kKey));
  EXPECT_TRUE(bad(std::string("[cloud]\nname = \"a\"\ncolour = 1\n") + kKey)); // unknown key
  EXPECT_TRUE(bad(std::string("[cloud]\nname = \"a b\"\n") + kKey));
  EXPECT_TRUE(bad(std::string("[cloud]\nname = \"a\"\n") + kKey + "[[images]]\nid = \"x\"\ncommand = []\n"));
  EXPECT_TRUE(bad(std::string("[cloud]\nname = \"a\"\n") + kKey + "[throttle]\nrate = 0\n"));
  EXPECT_TRUE(bad("[cloud\n"));
}

} // namespace
