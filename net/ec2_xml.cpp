// ec2_xml.cpp — reading the EC2 Query API's XML replies with pugixml (ec2_xml.h).
#include "net/ec2_xml.h"

#include <charconv>
#include <pugixml.hpp>

namespace cfm::net::ec2 {

namespace {

Error bad(std::string what) { return Error{ErrorKind::Syntax, "malformed EC2 reply: " + std::move(what)}; }

std::string trimmed(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string_view::npos ? std::string() : std::string(s.substr(b, e - b + 1));
}

/// A child's text, trimmed; empty when the child is missing or empty.
std::string text(pugi::xml_node n, const char *child) { return trimmed(n.child(child).text().get()); }

/// A child holding a whole number; missing or empty gives `dflt`, anything else not a number
/// is an error (a cloud that says `<size>ten</size>` must not read as 0).
Result<int64_t> number(pugi::xml_node n, const char *child, int64_t dflt) {
  std::string s = text(n, child);
  if (s.empty()) return dflt;
  int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size())
    return bad("<" + std::string(child) + "> in <" + n.name() + "> is not a whole number: `" + s + "`");
  return v;
}

Result<bool> boolean(pugi::xml_node n, const char *child) {
  std::string s = text(n, child);
  if (s.empty() || s == "false") return false;
  if (s == "true") return true;
  return bad("<" + std::string(child) + "> is not true or false: `" + s + "`");
}

/// The `<item>`s of a set (`instancesSet`, `tagSet`...); none when the set is absent.
template <typename F> Result<void> eachItem(pugi::xml_node parent, const char *set, F f) {
  for (pugi::xml_node item : parent.child(set).children("item")) CFM_CHECK(f(item));
  return success();
}

Result<std::vector<Tag>> tags(pugi::xml_node n) {
  std::vector<Tag> out;
  for (pugi::xml_node item : n.child("tagSet").children("item"))
    out.push_back({text(item, "key"), text(item, "value")});
  return out;
}

Result<InstanceState> state(pugi::xml_node n) {
  InstanceState s;
  s.code = static_cast<int>(CFM_TRY(number(n, "code", -1)));
  s.name = text(n, "name");
  // The low byte is the state; the high byte is for AWS's internal use (documented).
  if (s.code >= 0) s.code &= 0xff;
  return s;
}

/// Parses the document; `roots` are the element names the reply may have (the action's
/// `<Action>Response`). The error document is returned in `error` instead.
struct Doc {
  pugi::xml_document doc;
  pugi::xml_node root;
  std::optional<ApiError> error;
};

std::optional<ApiError> errorOf(pugi::xml_node root) {
  std::string_view name = root.name();
  if (name != "Response" && name != "ErrorResponse") return std::nullopt;
  pugi::xml_node e = root.child("Errors").child("Error");
  if (!e) e = root.child("Error");
  if (!e || text(e, "Code").empty()) return std::nullopt;
  ApiError a{text(e, "Code"), text(e, "Message"), text(root, "RequestID")};
  if (a.requestId.empty()) a.requestId = text(root, "RequestId");
  return a;
}

Result<void> parse(std::string_view xml, std::initializer_list<std::string_view> roots, Doc &d) {
  // No DTDs or entities: a reply has none, and expanding them is how XML bombs work.
  pugi::xml_parse_result r =
      d.doc.load_buffer(xml.data(), xml.size(), pugi::parse_default & ~pugi::parse_doctype);
  if (!r)
    return bad(std::string("not XML (") + r.description() + " at offset " + std::to_string(r.offset) + ")");
  d.root = d.doc.document_element();
  if ((d.error = errorOf(d.root))) return success();
  for (std::string_view want : roots)
    if (want == d.root.name()) return success();
  std::string expected;
  for (std::string_view want : roots)
    expected += (expected.empty() ? "<" : " or <") + std::string(want) + ">";
  return bad("expected " + expected + ", got <" + d.root.name() + ">");
}

template <typename T> Reply<T> replyOf(const Doc &d) {
  Reply<T> r;
  r.error = d.error;
  if (!d.error) {
    r.requestId = text(d.root, "requestId");
    r.nextToken = text(d.root, "nextToken");
  } else {
    r.requestId = d.error->requestId;
  }
  return r;
}

Result<Instance> instance(pugi::xml_node n, const std::string &reservationId) {
  Instance i;
  i.instanceId = text(n, "instanceId");
  if (i.instanceId.empty()) return bad("an instance without <instanceId>");
  i.imageId = text(n, "imageId");
  i.instanceType = text(n, "instanceType");
  i.reservationId = reservationId;
  i.state = CFM_TRY(state(n.child("instanceState")));
  i.privateIpAddress = text(n, "privateIpAddress");
  i.ipAddress = text(n, "ipAddress");
  i.privateDnsName = text(n, "privateDnsName");
  i.dnsName = text(n, "dnsName");
  i.availabilityZone = text(n.child("placement"), "availabilityZone");
  i.launchTime = text(n, "launchTime");
  i.clientToken = text(n, "clientToken");
  i.keyName = text(n, "keyName");
  i.reason = text(n, "reason");
  i.stateReasonCode = text(n.child("stateReason"), "code");
  i.stateReasonMessage = text(n.child("stateReason"), "message");
  i.amiLaunchIndex = static_cast<int>(CFM_TRY(number(n, "amiLaunchIndex", 0)));
  for (pugi::xml_node b : n.child("blockDeviceMapping").children("item"))
    i.blockDevices.push_back(
        {text(b, "deviceName"), text(b.child("ebs"), "volumeId"), text(b.child("ebs"), "status")});
  i.tags = CFM_TRY(tags(n));
  return i;
}

Result<VolumeAttachment> attachment(pugi::xml_node n) {
  VolumeAttachment a;
  a.volumeId = text(n, "volumeId");
  a.instanceId = text(n, "instanceId");
  a.device = text(n, "device");
  a.status = text(n, "status");
  a.attachTime = text(n, "attachTime");
  a.deleteOnTermination = CFM_TRY(boolean(n, "deleteOnTermination"));
  return a;
}

Result<Volume> volume(pugi::xml_node n) {
  Volume v;
  v.volumeId = text(n, "volumeId");
  if (v.volumeId.empty()) return bad("a volume without <volumeId>");
  v.sizeGiB = CFM_TRY(number(n, "size", 0));
  v.snapshotId = text(n, "snapshotId");
  v.availabilityZone = text(n, "availabilityZone");
  v.status = text(n, "status");
  v.createTime = text(n, "createTime");
  v.volumeType = text(n, "volumeType");
  CFM_CHECK(eachItem(n, "attachmentSet", [&](pugi::xml_node a) -> Result<void> {
    v.attachments.push_back(CFM_TRY(attachment(a)));
    return success();
  }));
  v.tags = CFM_TRY(tags(n));
  return v;
}

Address address(pugi::xml_node n) {
  return {text(n, "publicIp"),   text(n, "allocationId"),  text(n, "domain"),
          text(n, "instanceId"), text(n, "associationId"), text(n, "privateIpAddress")};
}

} // namespace

std::optional<ApiError> readError(std::string_view xml) {
  pugi::xml_document doc;
  if (!doc.load_buffer(xml.data(), xml.size(), pugi::parse_default & ~pugi::parse_doctype))
    return std::nullopt;
  return errorOf(doc.document_element());
}

Result<Reply<std::vector<Instance>>> readInstances(std::string_view xml) {
  Doc d;
  CFM_CHECK(parse(xml, {"RunInstancesResponse", "DescribeInstancesResponse"}, d));
  auto r = replyOf<std::vector<Instance>>(d);
  if (d.error) return r;
  auto reservation = [&](pugi::xml_node res) -> Result<void> {
    std::string id = text(res, "reservationId");
    return eachItem(res, "instancesSet", [&](pugi::xml_node n) -> Result<void> {
      r.value.push_back(CFM_TRY(instance(n, id)));
      return success();
    });
  };
  if (std::string_view(d.root.name()) == "RunInstancesResponse")
    CFM_CHECK(reservation(d.root));
  else
    CFM_CHECK(eachItem(d.root, "reservationSet", reservation));
  return r;
}

Result<Reply<std::vector<StateChange>>> readStateChanges(std::string_view xml) {
  Doc d;
  CFM_CHECK(parse(xml, {"StartInstancesResponse", "StopInstancesResponse", "TerminateInstancesResponse"}, d));
  auto r = replyOf<std::vector<StateChange>>(d);
  if (d.error) return r;
  CFM_CHECK(eachItem(d.root, "instancesSet", [&](pugi::xml_node n) -> Result<void> {
    StateChange c;
    c.instanceId = text(n, "instanceId");
    if (c.instanceId.empty()) return bad("a state change without <instanceId>");
    pugi::xml_node cur = n.child("currentState");
    if (!cur) cur = n.child("shutdownState"); // Eucalyptus
    c.current = CFM_TRY(state(cur));
    c.previous = CFM_TRY(state(n.child("previousState")));
    r.value.push_back(std::move(c));
    return success();
  }));
  return r;
}

Result<Reply<std::vector<Volume>>> readVolumes(std::string_view xml) {
  Doc d;
  CFM_CHECK(parse(xml, {"CreateVolumeResponse", "DescribeVolumesResponse"}, d));
  auto r = replyOf<std::vector<Volume>>(d);
  if (d.error) return r;
  if (std::string_view(d.root.name()) == "CreateVolumeResponse") {
    r.value.push_back(CFM_TRY(volume(d.root)));
    return r;
  }
  CFM_CHECK(eachItem(d.root, "volumeSet", [&](pugi::xml_node n) -> Result<void> {
    r.value.push_back(CFM_TRY(volume(n)));
    return success();
  }));
  return r;
}

Result<Reply<VolumeAttachment>> readAttachment(std::string_view xml) {
  Doc d;
  CFM_CHECK(parse(xml, {"AttachVolumeResponse", "DetachVolumeResponse"}, d));
  auto r = replyOf<VolumeAttachment>(d);
  if (d.error) return r;
  r.value = CFM_TRY(attachment(d.root));
  if (r.value.volumeId.empty()) return bad("an attachment without <volumeId>");
  return r;
}

Result<Reply<std::vector<Address>>> readAddresses(std::string_view xml) {
  Doc d;
  CFM_CHECK(parse(xml, {"AllocateAddressResponse", "DescribeAddressesResponse"}, d));
  auto r = replyOf<std::vector<Address>>(d);
  if (d.error) return r;
  if (std::string_view(d.root.name()) == "AllocateAddressResponse") {
    r.value.push_back(address(d.root));
  } else {
    for (pugi::xml_node n : d.root.child("addressesSet").children("item")) r.value.push_back(address(n));
  }
  for (const Address &a : r.value)
    if (a.publicIp.empty()) return bad("an address without <publicIp>");
  return r;
}

Result<Reply<std::string>> readAssociation(std::string_view xml) {
  Doc d;
  CFM_CHECK(parse(xml, {"AssociateAddressResponse"}, d));
  auto r = replyOf<std::string>(d);
  if (d.error) return r;
  if (!CFM_TRY(boolean(d.root, "return"))) return bad("AssociateAddress returned false");
  r.value = text(d.root, "associationId");
  return r;
}

Result<Reply<bool>> readReturn(std::string_view xml) {
  Doc d;
  CFM_CHECK(parse(xml,
                  {"CreateTagsResponse", "DeleteTagsResponse", "DeleteVolumeResponse",
                   "DisassociateAddressResponse", "ReleaseAddressResponse", "RebootInstancesResponse"},
                  d));
  auto r = replyOf<bool>(d);
  if (d.error) return r;
  if (!d.root.child("return")) return bad("<" + std::string(d.root.name()) + "> without <return>");
  r.value = CFM_TRY(boolean(d.root, "return"));
  return r;
}

} // namespace cfm::net::ec2

// ---- writing ----

namespace cfm::net::ec2 {

namespace {

/// A tiny XML writer: elements with escaped text, nothing else (replies need no attributes but
/// the root's namespace).
class Xml {
public:
  Xml &open(std::string_view name) {
    s_ += '<';
    s_ += name;
    s_ += '>';
    return *this;
  }
  Xml &close(std::string_view name) {
    s_ += "</";
    s_ += name;
    s_ += '>';
    return *this;
  }
  Xml &root(std::string_view name) {
    s_ += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<";
    s_ += name;
    s_ += " xmlns=\"";
    s_ += kXmlns;
    s_ += "\">";
    return *this;
  }
  /// An element with text; skipped when the text is empty and `always` is false.
  Xml &leaf(std::string_view name, std::string_view text, bool always = false) {
    if (text.empty() && !always) return *this;
    open(name);
    for (char c : text) {
      switch (c) {
      case '&': s_ += "&amp;"; break;
      case '<': s_ += "&lt;"; break;
      case '>': s_ += "&gt;"; break;
      case '"': s_ += "&quot;"; break;
      default: s_ += c;
      }
    }
    return close(name);
  }
  Xml &leaf(std::string_view name, int64_t v) { return leaf(name, std::to_string(v), true); }
  Xml &flag(std::string_view name, bool v) { return leaf(name, v ? "true" : "false", true); }
  std::string take() { return std::move(s_); }

private:
  std::string s_;
};

void state(Xml &x, std::string_view name, const InstanceState &s) {
  x.open(name).leaf("code", s.code).leaf("name", s.name, true).close(name);
}

void tags(Xml &x, const std::vector<Tag> &ts) {
  if (ts.empty()) return;
  x.open("tagSet");
  for (const Tag &t : ts) x.open("item").leaf("key", t.key, true).leaf("value", t.value, true).close("item");
  x.close("tagSet");
}

void instance(Xml &x, const Instance &i) {
  x.open("item").leaf("instanceId", i.instanceId, true).leaf("imageId", i.imageId, true);
  state(x, "instanceState", i.state);
  x.leaf("privateDnsName", i.privateDnsName, true).leaf("dnsName", i.dnsName, true);
  x.leaf("reason", i.reason, true);
  x.leaf("keyName", i.keyName).leaf("amiLaunchIndex", i.amiLaunchIndex);
  x.leaf("instanceType", i.instanceType, true).leaf("launchTime", i.launchTime);
  x.open("placement").leaf("availabilityZone", i.availabilityZone, true).close("placement");
  x.open("monitoring").leaf("state", "disabled").close("monitoring");
  x.leaf("privateIpAddress", i.privateIpAddress).leaf("ipAddress", i.ipAddress);
  if (!i.stateReasonCode.empty())
    x.open("stateReason")
        .leaf("code", i.stateReasonCode)
        .leaf("message", i.stateReasonMessage)
        .close("stateReason");
  if (!i.blockDevices.empty()) {
    x.open("blockDeviceMapping");
    for (const BlockDevice &b : i.blockDevices)
      x.open("item")
          .leaf("deviceName", b.deviceName, true)
          .open("ebs")
          .leaf("volumeId", b.volumeId, true)
          .leaf("status", b.status, true)
          .close("ebs")
          .close("item");
    x.close("blockDeviceMapping");
  }
  x.leaf("clientToken", i.clientToken);
  tags(x, i.tags);
  x.close("item");
}

void reservation(Xml &x, std::string_view reservationId, std::string_view ownerId,
                 const std::vector<Instance> &is, size_t from, size_t to) {
  x.leaf("reservationId", reservationId, true).leaf("ownerId", ownerId, true);
  x.open("groupSet").close("groupSet").open("instancesSet");
  for (size_t k = from; k < to; ++k) instance(x, is[k]);
  x.close("instancesSet");
}

void attachment(Xml &x, const VolumeAttachment &a) {
  x.leaf("volumeId", a.volumeId, true).leaf("instanceId", a.instanceId, true).leaf("device", a.device, true);
  x.leaf("status", a.status, true)
      .leaf("attachTime", a.attachTime)
      .flag("deleteOnTermination", a.deleteOnTermination);
}

void volume(Xml &x, const Volume &v) {
  x.leaf("volumeId", v.volumeId, true).leaf("size", v.sizeGiB).leaf("snapshotId", v.snapshotId, true);
  x.leaf("availabilityZone", v.availabilityZone, true).leaf("status", v.status, true);
  x.leaf("createTime", v.createTime).leaf("volumeType", v.volumeType);
}

void address(Xml &x, const Address &a) {
  x.leaf("publicIp", a.publicIp, true).leaf("allocationId", a.allocationId).leaf("domain", a.domain);
  x.leaf("instanceId", a.instanceId)
      .leaf("associationId", a.associationId)
      .leaf("privateIpAddress", a.privateIpAddress);
}

std::string response(std::string_view action) { return std::string(action) + "Response"; }

} // namespace

std::string writeError(const ApiError &e) {
  Xml x;
  std::string s = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  x.open("Response").open("Errors").open("Error").leaf("Code", e.code, true).leaf("Message", e.message, true);
  x.close("Error").close("Errors").leaf("RequestID", e.requestId, true).close("Response");
  return s + x.take();
}

std::string writeRunInstances(std::string_view requestId, std::string_view reservationId,
                              std::string_view ownerId, const std::vector<Instance> &instances) {
  Xml x;
  x.root("RunInstancesResponse").leaf("requestId", requestId, true);
  reservation(x, reservationId, ownerId, instances, 0, instances.size());
  return x.close("RunInstancesResponse").take();
}

std::string writeDescribeInstances(std::string_view requestId, std::string_view ownerId,
                                   const std::vector<Instance> &instances, std::string_view nextToken) {
  Xml x;
  x.root("DescribeInstancesResponse").leaf("requestId", requestId, true).open("reservationSet");
  // Instances of one reservation are written together, reservations in order of first appearance.
  std::vector<bool> done(instances.size(), false);
  for (size_t i = 0; i < instances.size(); ++i) {
    if (done[i]) continue;
    std::vector<Instance> group;
    for (size_t k = i; k < instances.size(); ++k)
      if (!done[k] && instances[k].reservationId == instances[i].reservationId) {
        done[k] = true;
        group.push_back(instances[k]);
      }
    x.open("item");
    reservation(x, instances[i].reservationId, ownerId, group, 0, group.size());
    x.close("item");
  }
  x.close("reservationSet").leaf("nextToken", nextToken);
  return x.close("DescribeInstancesResponse").take();
}

std::string writeStateChanges(std::string_view action, std::string_view requestId,
                              const std::vector<StateChange> &changes) {
  Xml x;
  std::string root = response(action);
  x.root(root).leaf("requestId", requestId, true).open("instancesSet");
  for (const StateChange &c : changes) {
    x.open("item").leaf("instanceId", c.instanceId, true);
    state(x, "currentState", c.current);
    state(x, "previousState", c.previous);
    x.close("item");
  }
  return x.close("instancesSet").close(root).take();
}

std::string writeCreateVolume(std::string_view requestId, const Volume &v) {
  Xml x;
  x.root("CreateVolumeResponse").leaf("requestId", requestId, true);
  volume(x, v);
  tags(x, v.tags);
  return x.close("CreateVolumeResponse").take();
}

std::string writeDescribeVolumes(std::string_view requestId, const std::vector<Volume> &vs,
                                 std::string_view nextToken) {
  Xml x;
  x.root("DescribeVolumesResponse").leaf("requestId", requestId, true).open("volumeSet");
  for (const Volume &v : vs) {
    x.open("item");
    volume(x, v);
    x.open("attachmentSet");
    for (const VolumeAttachment &a : v.attachments) {
      x.open("item");
      attachment(x, a);
      x.close("item");
    }
    x.close("attachmentSet");
    tags(x, v.tags);
    x.close("item");
  }
  x.close("volumeSet").leaf("nextToken", nextToken);
  return x.close("DescribeVolumesResponse").take();
}

std::string writeAttachment(std::string_view action, std::string_view requestId, const VolumeAttachment &a) {
  Xml x;
  std::string root = response(action);
  x.root(root).leaf("requestId", requestId, true);
  attachment(x, a);
  return x.close(root).take();
}

std::string writeAllocateAddress(std::string_view requestId, const Address &a) {
  Xml x;
  x.root("AllocateAddressResponse").leaf("requestId", requestId, true);
  address(x, a);
  return x.close("AllocateAddressResponse").take();
}

std::string writeDescribeAddresses(std::string_view requestId, const std::vector<Address> &as) {
  Xml x;
  x.root("DescribeAddressesResponse").leaf("requestId", requestId, true).open("addressesSet");
  for (const Address &a : as) {
    x.open("item");
    address(x, a);
    x.close("item");
  }
  return x.close("addressesSet").close("DescribeAddressesResponse").take();
}

std::string writeAssociateAddress(std::string_view requestId, std::string_view associationId) {
  Xml x;
  x.root("AssociateAddressResponse").leaf("requestId", requestId, true).flag("return", true);
  x.leaf("associationId", associationId);
  return x.close("AssociateAddressResponse").take();
}

std::string writeReturn(std::string_view action, std::string_view requestId, bool value) {
  Xml x;
  std::string root = response(action);
  x.root(root).leaf("requestId", requestId, true).flag("return", value);
  return x.close(root).take();
}

} // namespace cfm::net::ec2
