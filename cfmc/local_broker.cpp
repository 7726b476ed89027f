// local_broker.cpp — the local broker's files (local_broker.h) that need libcrypto and Paho: the
// dynamic-security JSON with its password hashes, the passwords, and the MQTT probe. Built into
// libcfm_manager_module.so only (manager_module.h), so that cfmc does not map those libraries
// until `cfmc local up` writes a broker; the rest is local_broker_paths.cpp.
#include "cfmc/local_broker.h"

#include "base/atomic_file.h"
#include "net/agent_proto.h"
#include "net/mqtt.h"

#include <arpa/inet.h>
#include <cstdlib>
#include <filesystem>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <openssl/evp.h>
#include <pwd.h>
#include <sstream>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace cfm::driver {
namespace {

constexpr const char *kDynsecPlugin = "/usr/lib/x86_64-linux-gnu/mosquitto_dynamic_security.so";
constexpr int kHashIterations = 101; // what `mosquitto_ctrl dynsec` writes

std::string base64(const unsigned char *data, size_t n) {
  std::string out(4 * ((n + 2) / 3) + 1, '\0');
  int len = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()), data, static_cast<int>(n));
  out.resize(static_cast<size_t>(len));
  return out;
}

/// One dynamic-security client: the password as the plugin keeps it (PBKDF2-HMAC-SHA512 over a
/// random 12-byte salt, both base64) and its roles.
Result<nlohmann::ordered_json> dynsecClient(const std::string &user, const std::string &password,
                                            const std::string &role) {
  auto saltHex = net::randomHex(12);
  if (!saltHex) return saltHex.takeError();
  unsigned char salt[12], hash[64];
  for (size_t i = 0; i < 12; ++i)
    salt[i] = static_cast<unsigned char>(std::stoi(saltHex->substr(2 * i, 2), nullptr, 16));
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt, sizeof salt,
                        kHashIterations, EVP_sha512(), sizeof hash, hash) != 1)
    return Error{ErrorKind::Internal, "cannot hash a broker password (OpenSSL PBKDF2 failed)"};
  nlohmann::ordered_json c;
  c["username"] = user;
  c["textName"] = "written by cfmc local up";
  c["password"] = base64(hash, sizeof hash);
  c["salt"] = base64(salt, sizeof salt);
  c["iterations"] = kHashIterations;
  c["roles"] = nlohmann::ordered_json::array({{{"rolename", role}}});
  return c;
}

/// A role with ACLs given as (acltype, topic) pairs, all allowing.
nlohmann::ordered_json role(const std::string &name,
                            const std::vector<std::pair<const char *, const char *>> &acls) {
  nlohmann::ordered_json r;
  r["rolename"] = name;
  r["acls"] = nlohmann::ordered_json::array();
  for (const auto &[type, topic] : acls)
    r["acls"].push_back({{"acltype", type}, {"topic", topic}, {"allow", true}});
  return r;
}

/// A free TCP port on 127.0.0.1 (bound, read, closed: mosquitto binds it right after).
Result<int> freePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Error{ErrorKind::Io, "socket failed"};
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  bool ok = bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0 &&
            getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len) == 0;
  close(fd);
  if (!ok) return Error{ErrorKind::Io, "cannot find a free port on 127.0.0.1"};
  return static_cast<int>(ntohs(a.sin_port));
}

/// Writes a secret file, mode 0600 from its creation on.
Result<void> writeSecret(const std::string &path, const std::string &text) {
  mode_t old = umask(077);
  auto w = base::replaceFileAtomically(path, text);
  umask(old);
  if (!w) return w;
  chmod(path.c_str(), 0600);
  return {};
}

/// The name of the user running this process (mosquitto's `user`: it stays that user).
std::string userName() {
  passwd *pw = getpwuid(geteuid());
  return pw && pw->pw_name ? pw->pw_name : std::to_string(geteuid());
}

} // namespace

Result<BrokerFiles> writeBrokerFiles(const std::string &dir, const std::vector<std::string> &managers) {
  BrokerFiles b;
  b.dir = (fs::path(dir) / "broker").string();
  b.config = b.dir + "/mosquitto.conf";
  b.log = b.dir + "/mosquitto.log";
  std::error_code ec;
  fs::create_directories(b.dir + "/data", ec);
  if (ec) return Error{ErrorKind::Io, "cannot create " + b.dir + "/data: " + ec.message()};
  chmod(b.dir.c_str(), 0700);
  auto port = freePort();
  if (!port) return port.takeError();
  b.url = "tcp://127.0.0.1:" + std::to_string(*port);
  auto admin = net::randomHex(32);
  if (!admin) return admin.takeError();
  b.adminPassword = *admin;

  nlohmann::ordered_json ds;
  ds["clients"] = nlohmann::ordered_json::array();
  auto adminClient = dynsecClient("cfm-admin", b.adminPassword, "admin");
  if (!adminClient) return adminClient.takeError();
  ds["clients"].push_back(*adminClient);
  for (const std::string &m : managers) {
    auto password = net::randomHex(32);
    if (!password) return password.takeError();
    auto c = dynsecClient("manager-" + m, *password, "manager");
    if (!c) return c.takeError();
    ds["clients"].push_back(*c);
    fs::create_directories(fs::path(dir) / m, ec);
    if (auto w = writeSecret(managerPasswordFile(dir, m), *password + "\n"); !w) return w.takeError();
  }
  const char *control = "$CONTROL/dynamic-security/#";
  ds["roles"] =
      nlohmann::ordered_json::array({role("admin", {{"publishClientSend", control},
                                                    {"publishClientReceive", control},
                                                    {"subscribePattern", control}}),
                                     role("manager", {{"publishClientSend", "cfm/v1/agents/+/requests"},
                                                      {"subscribePattern", "cfm/v1/agents/+/replies"},
                                                      {"subscribePattern", "cfm/v1/agents/+/presence"},
                                                      {"publishClientSend", "cfm/v1/systems/#"},
                                                      {"subscribePattern", "cfm/v1/systems/#"},
                                                      {"publishClientSend", "cfm/v1/managers/#"},
                                                      {"subscribePattern", "cfm/v1/managers/#"},
                                                      {"publishClientSend", control},
                                                      {"publishClientReceive", control},
                                                      {"subscribePattern", control}})});
  ds["defaultACLAccess"] = {{"publishClientSend", false},
                            {"publishClientReceive", true},
                            {"subscribe", false},
                            {"unsubscribe", true}};
  if (auto w = writeSecret(b.dir + "/dynsec.json", ds.dump(1, '\t') + "\n"); !w) return w.takeError();
  if (auto w = writeSecret(b.dir + "/admin-password", b.adminPassword + "\n"); !w) return w.takeError();

  std::ostringstream conf;
  conf << "# mosquitto.conf — the local federation's broker, written by `cfmc local up`\n"
       << "# (docs/local-federation.md): one loopback listener, accounts by the dynamic-security plugin\n"
       << "# started as root, mosquitto would become user `mosquitto` and not read the 0600 files\n"
       << "user " << userName() << "\n"
       << "listener " << *port << " 127.0.0.1\n"
       << "allow_anonymous false\n"
       << "# small QoS-1 messages are not held back for the peer's delayed ACK (bench/README.md, Agents)\n"
       << "set_tcp_nodelay true\n"
       << "persistence true\n"
       << "persistence_location " << b.dir << "/data/\n"
       << "log_dest stdout\n"
       << "plugin " << kDynsecPlugin << "\n"
       << "plugin_opt_config_file " << b.dir << "/dynsec.json\n";
  if (auto w = base::replaceFileAtomically(b.config, conf.str()); !w) return w.takeError();
  return b;
}

Result<void> brokerAnswers(const BrokerFiles &b, std::chrono::milliseconds timeout) {
  net::MqttOptions o;
  o.uri = b.url;
  o.clientId = "cfmc-local-" + std::to_string(getpid());
  o.username = "cfm-admin";
  o.password = b.adminPassword;
  auto client = net::MqttClient::create(o);
  if (!client) return client.takeError();
  if (auto c = (*client)->connect(timeout); !c) return c.takeError();
  (void)(*client)->disconnect();
  return {};
}

} // namespace cfm::driver
