// cloud_config_test.cpp — a manager's configuration (runtime/cloud/config.h): the format, its
// errors with line and column, AWS shared-credentials files, and the mapping of VMClasses to a
// cloud's images and instance types.
#include "runtime/cloud/config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <unistd.h>

namespace cfm::rt::cloud {
namespace {

const char *kExample = R"([manager]
name = "a"
store = "a/store.db"

[cloud]
name = "cloud-a"
endpoint = "http://127.0.0.1:8601/"
region = "local-a"
credentials = "aws/credentials"
profile = "cfm-a"

[mapping]
default_image = "cfm-default"
images = { "debian-12" = "ami-0abc" }
instance_types = [
  { name = "c1.large", vcpus = 4, memory_mib = 8192 },
  { name = "c1.small", vcpus = 1, memory_mib = 1024 },
  { name = "c1.medium", vcpus = 2, memory_mib = 4096 },
]
[mapping.vm_classes.db]
instance_type = "m9.huge"
[mapping.vm_classes.cache]
image = "ami-cache"
)";

ManagerConfig example() {
  auto c = parseManagerConfig(kExample, "/etc/cfm/a.toml");
  EXPECT_TRUE(c.ok()) << c.error().message;
  return *c;
}

TEST(ManagerConfig, ReadsEveryPartAndResolvesPathsAgainstTheFile) {
  ManagerConfig c = example();
  EXPECT_EQ(c.managerName, "a");
  EXPECT_EQ(c.storePath, "/etc/cfm/a/store.db");
  EXPECT_EQ(c.cloudName, "cloud-a");
  EXPECT_EQ(c.endpoint, "http://127.0.0.1:8601/");
  EXPECT_EQ(c.region, "local-a");
  EXPECT_EQ(c.credentialsPath, "/etc/cfm/aws/credentials");
  EXPECT_EQ(c.profile, "cfm-a");
  EXPECT_EQ(c.images.at("debian-12"), "ami-0abc");
  ASSERT_EQ(c.instanceTypes.size(), 3u);
  EXPECT_EQ(c.vmClasses.at("db").instanceType, "m9.huge");
}

TEST(ManagerConfig, PlacesVMClasses) {
  ManagerConfig c = example();
  auto web = placeVMClass(c, "web", "debian-12", 2, 2048);
  ASSERT_TRUE(web.ok()) << web.error().message;
  EXPECT_EQ(web->imageId, "ami-0abc");
  EXPECT_EQ(web->instanceType, "c1.medium"); // the smallest that fits, whatever the listed order
  auto other = placeVMClass(c, "app", "centos", 1, 512);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->imageId, "cfm-default");
  EXPECT_EQ(other->instanceType, "c1.small");
  auto db = placeVMClass(c, "db", "debian-12", 64, 1 << 20);
  ASSERT_TRUE(db.ok()); // a fixed type, however large the class
  EXPECT_EQ(db->instanceType, "m9.huge");
  auto cache = placeVMClass(c, "cache", "debian-12", 1, 256);
  ASSERT_TRUE(cache.ok());
  EXPECT_EQ(cache->imageId, "ami-cache");
  auto big = placeVMClass(c, "analytics", "debian-12", 8, 1024);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.error().message,
            "VMClass `analytics`: cloud `cloud-a` has no instance type with 8 CPUs and 1024 MiB (list one in "
            "mapping.instance_types or set [mapping.vm_classes.analytics] instance_type in /etc/cfm/a.toml)");
  c.defaultImage.clear();
  auto noImage = placeVMClass(c, "app", "centos", 1, 512);
  ASSERT_FALSE(noImage.ok());
  EXPECT_EQ(noImage.error().message,
            "VMClass `app`: cloud `cloud-a` has no image for `centos` (add it to [mapping.images] or set "
            "mapping.default_image in /etc/cfm/a.toml)");
}

std::string errorOf(const std::string &text) {
  auto c = parseManagerConfig(text, "m.toml");
  return c.ok() ? "<ok>" : c.error().describe();
}

TEST(ManagerConfig, ErrorsNameTheFileLineAndKey) {
  const std::string base = "[manager]\nname = \"a\"\nstore = \"s.db\"\n[cloud]\nname = \"c\"\n"
                           "endpoint = \"http://127.0.0.1:1/\"\nregion = \"r\"\ncredentials = \"k\"\n";
  EXPECT_EQ(errorOf(base), "<ok>");
  EXPECT_EQ(errorOf(base + "regoin = \"x\"\n"), "m.toml:9:1: error: unknown key `regoin` in [cloud]");
  EXPECT_EQ(errorOf("[manager]\nstore = \"s\"\n"), "m.toml:1:1: error: missing `manager.name` (a string)");
  EXPECT_EQ(errorOf("[manager]\nname = 5\n"), "m.toml:2:8: error: `manager.name` must be a string");
  EXPECT_EQ(errorOf("[manager]\nname = \"a\"\nstore = \"s\"\n"), "missing table [cloud] in m.toml");
  EXPECT_EQ(
      errorOf("[manager]\nname = \"a\"\nstore = \"s.db\"\n[cloud]\nname = \"c\"\nendpoint = \"ftp://x/\"\n"),
      "m.toml:6:12: error: `cloud.endpoint` must be an http:// or https:// URL, not `ftp://x/`");
  EXPECT_EQ(errorOf(base + "[mapping]\ninstance_types = [{ name = \"t\", vcpus = 0, memory_mib = 1 }]\n"),
            "m.toml:10:41: error: `vcpus` must be a whole number of at least 1");
  EXPECT_EQ(errorOf(base + "[mapping.vm_classes.web]\nsize = \"x\"\n"),
            "m.toml:10:1: error: unknown key `size` in [mapping.vm_classes.web]");
  const std::string broker = "[broker]\nurl = \"tcp://127.0.0.1:1883\"\nusername = \"manager-a\"\n"
                             "password_file = \"p\"\n";
  EXPECT_EQ(errorOf(base + "[federation]\nfollow = [\"web\"]\n"),
            "m.toml:9:1: error: [federation] needs a [broker] section: managers share events through it");
  EXPECT_EQ(errorOf(base + broker + "[federation]\nfollow = \"web\"\n"),
            "m.toml:14:10: error: `federation.follow` must be a list of system names or ids");
  EXPECT_EQ(
      errorOf(base + broker + "[federation]\nfollow = [\"a/b\"]\n"),
      "m.toml:14:11: error: `federation.follow` lists system names or ids: non-empty strings without / + #");
  EXPECT_EQ(errorOf(base + broker + "[federation]\nfollow = [\"web\", \"db\"]\n"), "<ok>");
  auto fed = parseManagerConfig(base + broker + "[federation]\nfollow = [\"web\", \"db\"]\n", "m.toml");
  ASSERT_TRUE(fed.ok());
  EXPECT_EQ(fed->follow, (std::vector<std::string>{"web", "db"}));
  // [[standing]]: the runs cfmd starts
  auto st = parseManagerConfig(base + "[[standing]]\nfile = \"p/serve.cfp\"\nargs = { sys = \"web3\", n = 3, "
                                      "dry = true }\n[[standing]]\nfile = \"/abs/w.cfp\"\nproc = \"watch\"\n"
                                      "engine = \"interp\"\n",
                               "/etc/cfm/m.toml");
  ASSERT_TRUE(st.ok()) << st.error().message;
  ASSERT_EQ(st->standing.size(), 2u);
  EXPECT_EQ(st->standing[0].file, "/etc/cfm/p/serve.cfp");
  EXPECT_EQ(st->standing[0].proc, "main");
  EXPECT_EQ(st->standing[0].engine, "jit");
  EXPECT_EQ(st->standing[0].args,
            (std::map<std::string, std::string>{{"dry", "true"}, {"n", "3"}, {"sys", "web3"}}));
  EXPECT_EQ(st->standing[1].file, "/abs/w.cfp");
  EXPECT_EQ(st->standing[1].proc, "watch");
  EXPECT_EQ(st->standing[1].engine, "interp");
  // With `system`, `file` names a stored procedure file: not resolved against the folder.
  auto stored = parseManagerConfig(base + "[[standing]]\nsystem = \"web3\"\nfile = \"lib/peer.cfp\"\n",
                                   "/etc/cfm/m.toml");
  ASSERT_TRUE(stored.ok()) << stored.error().message;
  EXPECT_EQ(stored->standing[0].system, "web3");
  EXPECT_EQ(stored->standing[0].file, "lib/peer.cfp");
  EXPECT_EQ(st->standing[0].system, "");
  EXPECT_EQ(errorOf(base + "[[standing]]\nproc = \"x\"\n"),
            "m.toml:9:1: error: missing `standing.file` (a string)");
  EXPECT_EQ(errorOf(base + "[[standing]]\nfile = \"f\"\nargs = { x = 1.5 }\n"),
            "m.toml:11:14: error: `standing.args.x` must be a string, an integer or a boolean");
  EXPECT_EQ(errorOf("standing = 3\n" + base),
            "m.toml:1:12: error: `standing` must be [[standing]] tables { file, proc, engine, args }");
  std::string bad = errorOf("[manager\n");
  EXPECT_EQ(bad.rfind("m.toml:1:", 0), 0u) << bad; // toml++'s own syntax message, placed
}

class TempDir {
public:
  TempDir() {
    char t[] = "/tmp/cfm-config-XXXXXX";
    path = mkdtemp(t);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string write(const std::string &name, const std::string &text) const {
    std::ofstream(path + "/" + name) << text;
    return path + "/" + name;
  }
  std::string path;
};

TEST(ManagerConfig, CredentialsInTheAwsSharedFormat) {
  TempDir d;
  std::string f =
      d.write("credentials", "# comment\n[default]\naws_access_key_id = AKD\naws_secret_access_key = SD\n\n"
                             "[cfm-a]\naws_access_key_id=AKIDA\n aws_secret_access_key = secret/a+b \n"
                             "[half]\naws_access_key_id = X\n");
  auto a = readCredentials(f, "cfm-a");
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->accessKeyId, "AKIDA");
  EXPECT_EQ(a->secretAccessKey, "secret/a+b");
  auto dflt = readCredentials(f, "default");
  ASSERT_TRUE(dflt.ok());
  EXPECT_EQ(dflt->accessKeyId, "AKD");
  auto missing = readCredentials(f, "cfm-b");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().message, "no profile [cfm-b] in the credentials " + f);
  auto half = readCredentials(f, "half");
  ASSERT_FALSE(half.ok());
  EXPECT_EQ(half.error().message,
            "profile [half] in " + f + " needs aws_access_key_id and aws_secret_access_key");
  auto none = readCredentials(d.path + "/nope", "default");
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("cannot read the credentials"), std::string::npos);
  auto cfg = readManagerConfig(d.path);
  ASSERT_FALSE(cfg.ok()); // a directory
  EXPECT_NE(cfg.error().message.find("is a directory"), std::string::npos) << cfg.error().message;
}

} // namespace
} // namespace cfm::rt::cloud
