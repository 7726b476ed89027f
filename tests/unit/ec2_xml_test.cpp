// ec2_xml_test.cpp — the EC2 reply readers (net/ec2_xml.h) on real replies: the libcloud EC2
// fixtures in ../shared/testdata/ec2/libcloud, read as they are (the tests skip and say so when
// the shared data is absent), and on hostile or malformed documents.
#include "net/ec2_xml.h"

#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>

namespace cfm::net::ec2 {
namespace {

const std::string kFixtures = CFM_SOURCE_DIR "/../shared/testdata/ec2/libcloud";

/// The fixture's text, or empty when the shared data is not there.
std::string fixture(const std::string &name) {
  std::ifstream in(kFixtures + "/" + name, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

#define FIXTURE(var, name)                                                                                   \
  std::string var = fixture(name);                                                                           \
  if (var.empty()) GTEST_SKIP() << "the shared EC2 fixtures are not there: " << kFixtures

TEST(Ec2Xml, RunInstancesReply) {
  FIXTURE(xml, "run_instances.xml");
  auto r = readInstances(xml);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_FALSE(r->error);
  ASSERT_EQ(r->value.size(), 1u);
  const Instance &i = r->value[0];
  EXPECT_EQ(i.instanceId, "i-2ba64342");
  EXPECT_EQ(i.imageId, "ami-be3adfd7");
  EXPECT_EQ(i.reservationId, "r-47a5402e");
  EXPECT_EQ(i.state, (InstanceState{0, "pending"}));
  EXPECT_EQ(i.instanceType, "m1.small");
  EXPECT_EQ(i.availabilityZone, "us-east-1b");
  EXPECT_EQ(i.launchTime, "2007-08-07T11:51:50.000Z");
  EXPECT_EQ(i.keyName, "example-key-name");
}

TEST(Ec2Xml, DescribeInstancesReadsEveryReservation) {
  FIXTURE(xml, "describe_instances.xml");
  auto r = readInstances(xml);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->requestId, "ec0d2a7d-5080-4f4b-9b02-cb0d5d2d4274");
  ASSERT_GE(r->value.size(), 2u);
  const Instance &i = r->value[0];
  EXPECT_EQ(i.instanceId, "i-4382922a");
  EXPECT_EQ(i.reservationId, "r-fd67fb97");
  EXPECT_EQ(i.state, (InstanceState{80, "stopped"}));
  EXPECT_EQ(i.privateIpAddress, "10.211.11.211");
  EXPECT_EQ(i.ipAddress, "1.2.3.4");
  EXPECT_EQ(i.stateReasonCode, "Client.UserInitiatedShutdown");
  EXPECT_EQ(i.clientToken, "ifmxj1365530456668");
  ASSERT_EQ(i.blockDevices.size(), 1u);
  EXPECT_EQ(i.blockDevices[0], (BlockDevice{"/dev/sda1", "vol-5e312311", "attached"}));
  EXPECT_EQ(r->value[1].instanceId, "i-8474834a");
  EXPECT_EQ(r->value[1].reservationId, "r-88dc1bef");
  // Every instance of the fixture has an id and a state name.
  for (const Instance &x : r->value) {
    EXPECT_FALSE(x.instanceId.empty());
    EXPECT_FALSE(x.state.name.empty()) << x.instanceId;
  }
}

TEST(Ec2Xml, TagsOfInstances) {
  FIXTURE(xml, "describe_instances.xml");
  auto r = readInstances(xml);
  ASSERT_TRUE(r.ok()) << r.error().message;
  size_t tagged = 0;
  for (const Instance &x : r->value) tagged += x.tags.size();
  // The fixture tags its second instance (Name, user-key...): tags are read, keys never empty.
  EXPECT_GT(tagged, 0u);
  for (const Instance &x : r->value)
    for (const Tag &t : x.tags) EXPECT_FALSE(t.key.empty());
}

TEST(Ec2Xml, StateChangesIncludingEucalyptusShutdownState) {
  FIXTURE(term, "terminate_instances.xml");
  auto r = readStateChanges(term);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->value.size(), 1u);
  EXPECT_EQ(r->value[0].instanceId, "i-4382922a");
  EXPECT_EQ(r->value[0].current, (InstanceState{32, "shutting-down"}));
  EXPECT_EQ(r->value[0].previous, (InstanceState{16, "running"}));
  for (const char *name : {"start_instances.xml", "stop_instances.xml"}) {
    FIXTURE(xml, name);
    auto s = readStateChanges(xml);
    ASSERT_TRUE(s.ok()) << name << ": " << s.error().message;
    ASSERT_FALSE(s->value.empty()) << name;
    EXPECT_GE(s->value[0].current.code, 0) << name;
    EXPECT_FALSE(s->value[0].previous.name.empty()) << name;
  }
}

TEST(Ec2Xml, Volumes) {
  FIXTURE(create, "create_volume.xml");
  auto c = readVolumes(create);
  ASSERT_TRUE(c.ok()) << c.error().message;
  ASSERT_EQ(c->value.size(), 1u);
  EXPECT_EQ(c->value[0].volumeId, "vol-4d826724");
  EXPECT_EQ(c->value[0].sizeGiB, 10);
  EXPECT_EQ(c->value[0].status, "creating");
  EXPECT_EQ(c->value[0].availabilityZone, "us-east-1a");
  FIXTURE(describe, "describe_volumes.xml");
  auto d = readVolumes(describe);
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_EQ(d->value.size(), 3u);
  EXPECT_EQ(d->value[1].sizeGiB, 11);
  EXPECT_EQ(d->value[2].snapshotId, "snap-30d37269");
  ASSERT_EQ(d->value[2].attachments.size(), 1u);
  EXPECT_EQ(d->value[2].attachments[0], (VolumeAttachment{"vol-b6c851ec", "i-d334b4b3", "/dev/sda1",
                                                          "attached", "2013-06-25T02:04:12.000Z", true}));
}

TEST(Ec2Xml, AttachAndDetach) {
  FIXTURE(attach, "attach_volume.xml");
  auto a = readAttachment(attach);
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(a->value.volumeId, "vol-4d826724");
  EXPECT_EQ(a->value.instanceId, "i-6058a509");
  EXPECT_EQ(a->value.device, "/dev/sdh");
  EXPECT_EQ(a->value.status, "attaching");
  FIXTURE(detach, "detach_volume.xml");
  auto d = readAttachment(detach);
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_FALSE(d->value.volumeId.empty());
}

TEST(Ec2Xml, Addresses) {
  FIXTURE(alloc, "allocate_address.xml");
  auto a = readAddresses(alloc);
  ASSERT_TRUE(a.ok()) << a.error().message;
  ASSERT_EQ(a->value.size(), 1u);
  EXPECT_EQ(a->value[0].publicIp, "192.0.2.1");
  EXPECT_EQ(a->value[0].domain, "standard");
  FIXTURE(all, "describe_addresses_all.xml");
  auto d = readAddresses(all);
  ASSERT_TRUE(d.ok()) << d.error().message;
  ASSERT_GE(d->value.size(), 3u);
  EXPECT_EQ(d->value[0], (Address{"1.2.3.4", "eipalloc-602b5d01", "vpc", "i-4382922a", "eipassoc-cea049ab",
                                  "192.168.1.5"}));
  EXPECT_EQ(d->value[2].instanceId, ""); // not associated
  FIXTURE(assoc, "associate_address.xml");
  auto s = readAssociation(assoc);
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->value, ""); // EC2-Classic: no association id
  FIXTURE(vpc, "associate_vpc_address.xml");
  auto v = readAssociation(vpc);
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(v->value.rfind("eipassoc-", 0), 0u) << v->value;
}

TEST(Ec2Xml, ReturnReplies) {
  for (const char *name : {"create_tags.xml", "delete_tags.xml", "delete_volume.xml",
                           "disassociate_address.xml", "release_address.xml", "reboot_instances.xml"}) {
    FIXTURE(xml, name);
    auto r = readReturn(xml);
    ASSERT_TRUE(r.ok()) << name << ": " << r.error().message;
    EXPECT_FALSE(r->error) << name;
    EXPECT_TRUE(r->value) << name;
  }
}

TEST(Ec2Xml, ErrorDocuments) {
  FIXTURE(xml, "describe_key_pairs_doesnt_exist.xml");
  auto e = readError(xml);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, "InvalidKeyPair.NotFound");
  EXPECT_EQ(e->message, "The key pair 'test-key-pair' does not exist");
  EXPECT_EQ(e->requestId, "31b97300-eb8e-405e-9567-b0f57b791fed");
  // Any reader returns the error document as the cloud's refusal, not as a malformed reply.
  FIXTURE(mismatch, "run_instances_idem_mismatch.xml");
  auto r = readInstances(mismatch);
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_TRUE(r->error);
  EXPECT_EQ(r->error->code, "IdempotentParameterMismatch");
  EXPECT_EQ(r->error->message.rfind("Arguments on this idempotent request", 0), 0u) << r->error->message;
  EXPECT_EQ(r->requestId, "5dabd361-d2e0-4f79-937d-4b2852a3b719");
  EXPECT_FALSE(readError(fixture("run_instances.xml")));
}

TEST(Ec2Xml, EveryFixtureIsXmlThatTheGenericErrorReaderDoesNotMistake) {
  if (!std::filesystem::is_directory(kFixtures))
    GTEST_SKIP() << "the shared EC2 fixtures are not there: " << kFixtures;
  size_t n = 0, errors = 0;
  for (const auto &e : std::filesystem::directory_iterator(kFixtures)) {
    if (e.path().extension() != ".xml") continue;
    ++n;
    std::string xml = fixture(e.path().filename().string());
    if (auto err = readError(xml)) {
      ++errors;
      EXPECT_FALSE(err->code.empty()) << e.path();
    }
  }
  EXPECT_EQ(n, 84u);
  EXPECT_EQ(errors, 2u); // the two error documents among them
}

TEST(Ec2Xml, MalformedReplies) {
  auto notXml = readInstances("<RunInstancesResponse><instancesSet>");
  ASSERT_FALSE(notXml.ok());
  EXPECT_NE(notXml.error().message.find("not XML"), std::string::npos) << notXml.error().message;
  auto other = readInstances("<DescribeVolumesResponse/>");
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().message,
            "malformed EC2 reply: expected <RunInstancesResponse> or <DescribeInstancesResponse>, got "
            "<DescribeVolumesResponse>");
  auto size =
      readVolumes("<CreateVolumeResponse><volumeId>vol-1</volumeId><size>ten</size></CreateVolumeResponse>");
  ASSERT_FALSE(size.ok());
  EXPECT_EQ(size.error().message,
            "malformed EC2 reply: <size> in <CreateVolumeResponse> is not a whole number: `ten`");
  auto noId = readInstances("<RunInstancesResponse><instancesSet><item><imageId>a</imageId></item>"
                            "</instancesSet></RunInstancesResponse>");
  ASSERT_FALSE(noId.ok());
  EXPECT_EQ(noId.error().message, "malformed EC2 reply: an instance without <instanceId>");
  auto noReturn = readReturn("<CreateTagsResponse/>");
  ASSERT_FALSE(noReturn.ok());
  // An entity-expansion bomb is not expanded (no DTD processing): it is simply not a reply.
  std::string bomb = "<!DOCTYPE r [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">]>"
                     "<CreateTagsResponse><return>&b;</return></CreateTagsResponse>";
  auto b = readReturn(bomb);
  EXPECT_FALSE(b.ok());
}

TEST(Ec2Xml, StateCodeHighByteIsIgnored) {
  auto r =
      readInstances("<RunInstancesResponse><instancesSet><item><instanceId>i-1</instanceId><instanceState>"
                    "<code>272</code><name>running</name></instanceState></item></instancesSet>"
                    "</RunInstancesResponse>");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->value[0].state, (InstanceState{16, "running"}));
}

// ---- writing: what cfm-cloud writes reads back as the same values ----

Instance sampleInstance(std::string id, std::string reservation) {
  Instance i;
  i.instanceId = std::move(id);
  i.imageId = "cfm-default";
  i.instanceType = "c1.small";
  i.reservationId = std::move(reservation);
  i.state = {16, "running"};
  i.privateIpAddress = "127.1.0.2";
  i.ipAddress = "127.1.1.2";
  i.availabilityZone = "local-1a";
  i.launchTime = "2026-12-04T10:00:00.000Z";
  i.clientToken = "tok-1";
  i.reason = "User initiated <&> \"quoted\"";
  i.blockDevices = {{"/dev/sdf", "vol-1", "attached"}};
  i.tags = {{"cfm:system", "web3"}, {"Name", "web & db"}};
  return i;
}

TEST(Ec2XmlWrite, InstancesRoundTrip) {
  std::vector<Instance> run = {sampleInstance("i-1", "r-1"), sampleInstance("i-2", "r-1")};
  run[1].amiLaunchIndex = 1;
  auto r = readInstances(writeRunInstances("req-1", "r-1", "owner", run));
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->value, run);
  EXPECT_EQ(r->requestId, "req-1");
  // Describe groups by reservation (r-1's two instances together) and keeps the page token.
  std::vector<Instance> all = {run[0], sampleInstance("i-3", "r-2"), run[1]};
  auto d = readInstances(writeDescribeInstances("req-2", "owner", all, "page-2"));
  ASSERT_TRUE(d.ok()) << d.error().message;
  EXPECT_EQ(d->value, (std::vector<Instance>{run[0], run[1], all[1]}));
  EXPECT_EQ(d->nextToken, "page-2");
}

TEST(Ec2XmlWrite, OtherRepliesRoundTrip) {
  std::vector<StateChange> changes = {{"i-1", {32, "shutting-down"}, {16, "running"}}};
  auto c = readStateChanges(writeStateChanges("TerminateInstances", "req", changes));
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(c->value, changes);
  Volume v{"vol-1", "", "local-1a", "in-use", "2026-12-04T10:00:00.000Z", "standard", 8, {}, {{"k", "v"}}};
  v.attachments = {{"vol-1", "i-1", "/dev/sdf", "attached", "2026-12-04T10:01:00.000Z", false}};
  auto dv = readVolumes(writeDescribeVolumes("req", {v}));
  ASSERT_TRUE(dv.ok()) << dv.error().message;
  EXPECT_EQ(dv->value, std::vector<Volume>{v});
  Volume created = v;
  created.attachments.clear();
  auto cv = readVolumes(writeCreateVolume("req", created));
  ASSERT_TRUE(cv.ok()) << cv.error().message;
  EXPECT_EQ(cv->value, std::vector<Volume>{created});
  auto at = readAttachment(writeAttachment("AttachVolume", "req", v.attachments[0]));
  ASSERT_TRUE(at.ok()) << at.error().message;
  EXPECT_EQ(at->value, v.attachments[0]);
  Address a{"127.1.1.2", "eipalloc-1", "vpc", "i-1", "eipassoc-1", "127.1.0.2"};
  auto al =
      readAddresses(writeAllocateAddress("req", Address{a.publicIp, a.allocationId, a.domain, "", "", ""}));
  ASSERT_TRUE(al.ok()) << al.error().message;
  EXPECT_EQ(al->value[0].allocationId, "eipalloc-1");
  auto da = readAddresses(writeDescribeAddresses("req", {a}));
  ASSERT_TRUE(da.ok()) << da.error().message;
  EXPECT_EQ(da->value, std::vector<Address>{a});
  auto as = readAssociation(writeAssociateAddress("req", "eipassoc-1"));
  ASSERT_TRUE(as.ok()) << as.error().message;
  EXPECT_EQ(as->value, "eipassoc-1");
  auto rt = readReturn(writeReturn("CreateTags", "req"));
  ASSERT_TRUE(rt.ok()) << rt.error().message;
  EXPECT_TRUE(rt->value);
  ApiError e{"InvalidInstanceID.NotFound", "The instance ID 'i-9' does not exist", "req-9"};
  auto err = readError(writeError(e));
  ASSERT_TRUE(err);
  EXPECT_EQ(err->code, e.code);
  EXPECT_EQ(err->message, e.message);
  EXPECT_EQ(err->requestId, e.requestId);
}

} // namespace
} // namespace cfm::net::ec2
