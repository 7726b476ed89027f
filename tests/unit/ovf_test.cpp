// ovf_test.cpp — the OVF reader, writer and mapping (ovf/): every section type and every error
// the reader reports (with its line), the CFM extension, the limits, the shared corpus of real
// descriptors (../shared/testdata/ovf: every `*_neg_*` file rejected, every other file read),
// and the round trip toModel(read(write(m))) == m over the samples and the corpus.
#include "ovf/reader.h"
#include "ovf/to_model.h"
#include "ovf/writer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace {

using namespace cfm;
namespace fs = std::filesystem;

const std::string kCorpusDir = CFM_SOURCE_DIR "/../shared/testdata/ovf";

// A 1.x envelope around BODY (sections and content), with the usual namespaces.
std::string envelope(const std::string &body, const std::string &refs = "<References/>") {
  return R"(<?xml version="1.0" encoding="UTF-8"?>
<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1"
    xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData"
    xmlns:vssd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData"
    xmlns:cfm="http://cfm.example/ns/ovf/1">
)" + refs +
         "\n" + body + "\n</Envelope>\n";
}

const char *kHardware = R"(<VirtualHardwareSection><Info/>
  <Item><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>2</rasd:VirtualQuantity></Item>
  <Item><rasd:AllocationUnits>byte * 2^20</rasd:AllocationUnits><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>512</rasd:VirtualQuantity></Item>
</VirtualHardwareSection>)";

std::string vs(const std::string &id, const std::string &sections = "") {
  return "<VirtualSystem ovf:id=\"" + id + "\"><Info/>" + sections + kHardware + "</VirtualSystem>";
}

Result<ovf::Envelope> readText(const std::string &text) { return ovf::read(text, "t.ovf"); }

// The error of reading TEXT as a person reads it, `t.ovf:LINE:COL: error: ...` ("" when it reads).
std::string errorOf(const std::string &text) {
  auto r = readText(text);
  return r ? std::string() : r.error().describe();
}

#define EXPECT_READ_ERROR(text, where, what)                                                                 \
  do {                                                                                                       \
    std::string msg_ = errorOf(text);                                                                        \
    EXPECT_NE(msg_.find(std::string("t.ovf:") + (where) + ": error: "), std::string::npos) << msg_;          \
    EXPECT_NE(msg_.find(what), std::string::npos) << msg_;                                                   \
  } while (0)

TEST(OvfReader, MinimalVirtualSystem) {
  auto r = readText(envelope(vs("vm1")));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->version, "1.x");
  EXPECT_FALSE(r->content.collection);
  EXPECT_EQ(r->content.id, "vm1");
  ASSERT_EQ(r->content.hardware.size(), 1u);
  EXPECT_EQ(r->content.hardware[0].items.size(), 2u);
}

TEST(OvfReader, ReferencesDisksNetworks) {
  auto r = readText(envelope(
      R"(<DiskSection><Info/>
  <Disk ovf:diskId="d1" ovf:fileRef="f1" ovf:capacity="4" ovf:capacityAllocationUnits="byte * 2^30" ovf:populatedSize="100"/>
  <Disk ovf:diskId="d2" ovf:capacity="${size}"/>
</DiskSection>
<NetworkSection><Info/><Network ovf:name="net"><Description>the net</Description></Network></NetworkSection>)" +
          vs("vm"),
      R"(<References><File ovf:id="f1" ovf:href="disk.vmdk" ovf:size="1234" ovf:compression="gzip"/></References>)"));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->files.size(), 1u);
  EXPECT_EQ(r->files[0].href, "disk.vmdk");
  EXPECT_EQ(*r->files[0].size, 1234u);
  EXPECT_EQ(r->files[0].compression, "gzip");
  ASSERT_EQ(r->disks.size(), 2u);
  EXPECT_EQ(r->disks[0].capacityUnits, "byte * 2^30");
  EXPECT_EQ(*r->disks[0].populatedSize, 100u);
  EXPECT_EQ(r->disks[1].capacity, "${size}");
  ASSERT_EQ(r->networks.size(), 1u);
  EXPECT_EQ(r->networks[0].description, "the net");
}

TEST(OvfReader, HardwareItemsDisksAndNics) {
  auto r = readText(envelope(
      R"(<DiskSection><Info/><Disk ovf:diskId="root" ovf:fileRef="img" ovf:capacity="8" ovf:capacityAllocationUnits="byte * 2^30"/></DiskSection>
<NetworkSection><Info/><Network ovf:name="lan"/></NetworkSection>
<VirtualSystem ovf:id="vm"><Info/><VirtualHardwareSection ovf:transport="iso"><Info/>
  <System><vssd:VirtualSystemType>vmx-13</vssd:VirtualSystemType></System>
  <Item><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>4</rasd:VirtualQuantity></Item>
  <Item><rasd:AllocationUnits>GigaBytes</rasd:AllocationUnits><rasd:InstanceID>2</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType><rasd:VirtualQuantity>2</rasd:VirtualQuantity></Item>
  <Item><rasd:InstanceID>3</rasd:InstanceID><rasd:ResourceType>6</rasd:ResourceType></Item>
  <Item><rasd:HostResource>ovf:/disk/root</rasd:HostResource><rasd:InstanceID>4</rasd:InstanceID><rasd:Parent>3</rasd:Parent><rasd:ResourceType>17</rasd:ResourceType></Item>
  <Item><rasd:Connection>lan</rasd:Connection><rasd:InstanceID>5</rasd:InstanceID><rasd:ResourceType>10</rasd:ResourceType></Item>
  <Item ovf:required="false"><rasd:InstanceID>6</rasd:InstanceID><rasd:ResourceType>99</rasd:ResourceType></Item>
</VirtualHardwareSection></VirtualSystem>)",
      R"(<References><File ovf:id="img" ovf:href="root.img"/></References>)"));
  ASSERT_TRUE(r) << r.error().message;
  const ovf::VirtualHardware &hw = r->content.hardware[0];
  EXPECT_EQ(hw.systemType, "vmx-13");
  EXPECT_EQ(hw.transport, "iso");
  ASSERT_EQ(hw.items.size(), 6u);
  EXPECT_FALSE(hw.items[5].required);
  auto m = ovf::toModel(*r, ovf::noFiles(), "t.ovf");
  ASSERT_TRUE(m) << m.error().message;
  const model::VMClass &c = m->vmClasses[0];
  EXPECT_EQ(c.cpus, 4);
  EXPECT_EQ(c.memoryMb, 2048);
  ASSERT_EQ(c.disks.size(), 1u);
  EXPECT_EQ(c.disks[0], (model::Disk{"root", 8192, "root.img"}));
  EXPECT_EQ(c.image, "root.img");
  EXPECT_EQ(c.networks, std::vector<std::string>{"lan"});
}

TEST(OvfReader, EthernetPortAndStorageItems) {
  auto r = readText(envelope(R"(<NetworkSection><Info/><Network ovf:name="net"/></NetworkSection>
<VirtualSystem ovf:id="vm"><Info/><VirtualHardwareSection><Info/>
  <EthernetPortItem xmlns:epasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_EthernetPortAllocationSettingData">
    <epasd:Connection>net</epasd:Connection><epasd:InstanceID>3</epasd:InstanceID><epasd:ResourceType>10</epasd:ResourceType></EthernetPortItem>
  <StorageItem xmlns:sasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_StorageAllocationSettingData">
    <sasd:AllocationUnits>byte*2^30</sasd:AllocationUnits><sasd:InstanceID>4</sasd:InstanceID><sasd:ResourceType>31</sasd:ResourceType><sasd:VirtualQuantity>3</sasd:VirtualQuantity></StorageItem>
</VirtualHardwareSection></VirtualSystem>)"));
  ASSERT_TRUE(r) << r.error().message;
  auto m = ovf::toModel(*r, ovf::noFiles(), "t.ovf");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->vmClasses[0].networks, std::vector<std::string>{"net"});
  ASSERT_EQ(m->vmClasses[0].disks.size(), 1u);
  EXPECT_EQ(m->vmClasses[0].disks[0].capacityMb, 3072);
}

TEST(OvfReader, ProductSectionProperties) {
  auto r = readText(envelope(vs("vm", R"(<ProductSection ovf:class="app" ovf:instance="1"><Info/>
  <Product>P</Product><Vendor>V</Vendor><Version>1.0</Version><FullVersion>1.0.1</FullVersion>
  <ProductUrl>http://p</ProductUrl><VendorUrl>http://v</VendorUrl><AppUrl>http://a</AppUrl>
  <Category>Cat</Category>
  <Property ovf:key="port" ovf:type="uint16" ovf:value="8080" ovf:userConfigurable="true"><Label>Port</Label><Description>The port</Description></Property>
  <Property ovf:key="on" ovf:type="Boolean" ovf:value="TRUE"/>
  <Property ovf:key="n" ovf:type="int" ovf:value="-5"/>
  <Property ovf:key="x" ovf:type="real64" ovf:value="2.5"/>
</ProductSection>)")));
  ASSERT_TRUE(r) << r.error().message;
  const ovf::ProductSection &p = r->content.products[0];
  EXPECT_EQ(p.className, "app");
  EXPECT_EQ(p.instance, "1");
  EXPECT_EQ(p.product, "P");
  EXPECT_EQ(p.fullVersion, "1.0.1");
  EXPECT_EQ(p.appUrl, "http://a");
  ASSERT_EQ(p.properties.size(), 4u);
  EXPECT_EQ(p.properties[0].type, "uint16");
  EXPECT_TRUE(p.properties[0].userConfigurable);
  EXPECT_EQ(p.properties[0].label, "Port");
  EXPECT_EQ(p.properties[1].type, "boolean");
  EXPECT_EQ(p.properties[2].type, "sint32");
  auto m = ovf::toModel(*r, ovf::noFiles(), "t.ovf");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->vmClasses[0].properties[0].id(), "app.port.1");
}

TEST(OvfReader, StartupAnnotationEulaOsDeploymentOptions) {
  auto r = readText(envelope(R"(<DeploymentOptionSection><Info/>
  <Configuration ovf:id="small"><Label>Small</Label></Configuration>
  <Configuration ovf:id="big" ovf:default="true"><Label>Big</Label><Description>more</Description></Configuration>
</DeploymentOptionSection>
<VirtualSystemCollection ovf:id="all"><Info/><Name>All</Name>
  <AnnotationSection><Info/><Annotation>hello</Annotation></AnnotationSection>
  <EulaSection><Info/><License>be nice</License></EulaSection>
  <StartupSection><Info/>
    <Item ovf:id="a" ovf:order="1" ovf:startDelay="30" ovf:startAction="powerOn" ovf:waitingForGuest="true"/>
    <Item ovf:id="b" ovf:order="2" ovf:stopAction="powerOff" ovf:stopDelay="5"/>
  </StartupSection>
  <VirtualSystem ovf:id="a"><Info/><OperatingSystemSection ovf:id="101" ovf:version="12"><Info/><Description>Debian</Description></OperatingSystemSection>)" +
                             std::string(kHardware) + "</VirtualSystem>" + vs("b") +
                             "</VirtualSystemCollection>"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->defaultConfiguration(), "big");
  EXPECT_EQ(r->deploymentOptions[1].description, "more");
  EXPECT_TRUE(r->content.collection);
  EXPECT_EQ(r->content.annotations, std::vector<std::string>{"hello"});
  EXPECT_EQ(r->content.eulas, std::vector<std::string>{"be nice"});
  ASSERT_EQ(r->content.startup.size(), 2u);
  EXPECT_EQ(r->content.startup[0].startDelay, 30);
  EXPECT_TRUE(r->content.startup[0].waitingForGuest);
  EXPECT_EQ(r->content.startup[1].stopDelay, 5);
  ASSERT_EQ(r->content.children.size(), 2u);
  ASSERT_TRUE(r->content.children[0].os);
  EXPECT_EQ(r->content.children[0].os->id, 101);
  EXPECT_EQ(r->content.children[0].os->description, "Debian");
  auto m = ovf::toModel(*r, ovf::noFiles(), "t.ovf");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->name, "All");
  EXPECT_EQ(m->description, "hello");
  EXPECT_EQ(m->vmClasses[0].osType, "Debian");
}

TEST(OvfReader, ConfigurationSpecificItemsReplaceGeneralOnes) {
  auto r = readText(envelope(
      R"(<DeploymentOptionSection><Info/><Configuration ovf:id="small"/><Configuration ovf:id="large" ovf:default="true"/></DeploymentOptionSection>
<VirtualSystem ovf:id="vm"><Info/><VirtualHardwareSection><Info/>
  <Item><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>1</rasd:VirtualQuantity></Item>
  <Item configuration="large"><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>8</rasd:VirtualQuantity></Item>
  <Item ovf:configuration="small"><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType><rasd:VirtualQuantity>2</rasd:VirtualQuantity></Item>
</VirtualHardwareSection></VirtualSystem>)"));
  ASSERT_TRUE(r) << r.error().message;
  auto m = ovf::toModel(*r, ovf::noFiles(), "t.ovf");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->vmClasses[0].cpus, 8);
}

TEST(OvfReader, ScaleOutSectionGivesElementCounts) {
  auto r = readText(
      R"(<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/2" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/2"
    xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">
<References/>
<VirtualSystemCollection ovf:id="c"><Info/>
  <ScaleOutSection ovf:id="w"><Info/><InstanceCount ovf:minimum="2" ovf:default="3" ovf:maximum="unbounded"/></ScaleOutSection>
  )" + vs("w") +
      "</VirtualSystemCollection></Envelope>");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->version, "2.x");
  auto m = ovf::toModel(*r, ovf::noFiles(), "t.ovf");
  ASSERT_TRUE(m);
  EXPECT_EQ(m->elements[0].minInstances, 2);
  EXPECT_EQ(m->elements[0].instances, 3);
  EXPECT_EQ(m->elements[0].maxInstances, ovf::kUnboundedInstances);
}

TEST(OvfReader, Ovf09SectionsByXsiType) {
  auto r = readText(R"(<?xml version="1.0"?>
<ovf:Envelope xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:ovf="http://www.vmware.com/schema/ovf/1/envelope"
    xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData" ovf:version="0.9">
  <References><File ovf:id="f" ovf:href="d.vmdk"/></References>
  <Section xsi:type="ovf:DiskSection_Type"><Info/><Disk ovf:diskId="d" ovf:fileRef="f" ovf:capacity="1048576"/></Section>
  <Content xsi:type="ovf:VirtualSystem_Type" ovf:id="vm"><Info/>
    <Section xsi:type="ovf:VirtualHardwareSection_Type"><Info/>
      <Item><rasd:Caption>disk</rasd:Caption><rasd:InstanceId>6</rasd:InstanceId><rasd:ResourceType>17</rasd:ResourceType><rasd:HostResource>/disk/d</rasd:HostResource></Item>
    </Section>
  </Content>
</ovf:Envelope>)");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->version, "0.9");
  EXPECT_EQ(r->disks.size(), 1u);
  ASSERT_EQ(r->content.hardware.size(), 1u);
  EXPECT_EQ(r->content.hardware[0].items[0].elementName, "disk");
}

TEST(OvfReader, UnknownSections) {
  // Not required: kept and ignored. Vendor (VMware) sections: understood as hints, kept.
  auto r = readText(envelope(R"(<x:Foo xmlns:x="urn:x" ovf:required="false"><Info/></x:Foo>
<vmw:StorageGroupSection xmlns:vmw="http://www.vmware.com/schema/ovf"/>
<TestSection ovf:required="false"><Info/></TestSection>)" +
                             vs("vm", R"(<x:Bar xmlns:x="urn:x" ovf:required="false"/>)")));
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->others.size(), 3u);
  EXPECT_EQ(r->others[0].name, "Foo");
  EXPECT_FALSE(r->others[0].required);
  EXPECT_TRUE(r->others[1].required);
  EXPECT_EQ(r->content.others.size(), 1u);
  EXPECT_READ_ERROR(envelope(R"(<x:Foo xmlns:x="urn:x"><Info/></x:Foo>)" + vs("vm")), "7:1",
                    "unknown section `x:Foo` is required");
  EXPECT_READ_ERROR(envelope(R"(<TestSection ovf:required="true"/>)" + vs("vm")), "7:1",
                    "unknown section `TestSection` is required");
  EXPECT_READ_ERROR(envelope(R"(<TestSection ovf:required="maybe"/>)" + vs("vm")), "7:1",
                    "`ovf:required` must be `true` or `false`");
}

// The error's parts, for `--format json` and a language server: kind, message and place apart.
TEST(OvfReader, ErrorsHaveKindAndPlace) {
  auto xmlError = readText("<a>\n<b></a>");
  ASSERT_FALSE(xmlError);
  EXPECT_EQ(xmlError.error().kind, ErrorKind::Syntax);
  ASSERT_TRUE(xmlError.error().loc);
  EXPECT_EQ(xmlError.error().loc->file, "t.ovf");
  EXPECT_EQ(xmlError.error().loc->line, 2);
  EXPECT_EQ(xmlError.error().loc->column, 6);
  EXPECT_EQ(xmlError.error().message.rfind("not well-formed XML", 0), 0u) << xmlError.error().message;
  auto ovfError = readText("<Envelope/>");
  ASSERT_FALSE(ovfError);
  EXPECT_EQ(ovfError.error().kind, ErrorKind::Ovf);
  ASSERT_TRUE(ovfError.error().loc);
  EXPECT_EQ(ovfError.error().loc->line, 1);
  EXPECT_EQ(ovfError.error().loc->column, 1);
  EXPECT_EQ(ovfError.error().describe(), "t.ovf:1:1: error: " + ovfError.error().message);
  auto big = readText(std::string(ovf::kMaxDescriptorBytes + 1, ' '));
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().kind, ErrorKind::Limit);
  ASSERT_TRUE(big.error().loc);
  EXPECT_EQ(big.error().loc->file, "t.ovf");
  EXPECT_EQ(big.error().loc->line, 0); // the whole file: the message names it
  EXPECT_EQ(big.error().describe(), big.error().message);
  EXPECT_NE(big.error().message.find("`t.ovf`"), std::string::npos) << big.error().message;
  auto missing = ovf::readFile("/nonexistent/cfm/d.ovf");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::Io);
  ASSERT_TRUE(missing.error().loc);
  EXPECT_EQ(missing.error().loc->file, "/nonexistent/cfm/d.ovf");
  EXPECT_EQ(missing.error().message, "cannot read `/nonexistent/cfm/d.ovf`: no such file or directory");
}

// Each error the reader reports, with its line and column.
TEST(OvfReader, XmlErrors) {
  EXPECT_EQ(errorOf(""), "t.ovf:1:1: error: the descriptor is empty");
  EXPECT_READ_ERROR("garbage<Envelope/>", "1:1", "text before the first tag");
  EXPECT_READ_ERROR("<a>\n<b></a>", "2:6", "not well-formed XML");
  EXPECT_READ_ERROR("<a>\x1c</a>", "1:4", "invalid XML character U+001C");
  EXPECT_READ_ERROR("<a>\xff</a>", "1:4", "invalid UTF-8");
  EXPECT_READ_ERROR("<a>\xc3</a>", "1:4", "invalid UTF-8");
  EXPECT_READ_ERROR("<a>\xc0\x80</a>", "1:4", "overlong");
  EXPECT_READ_ERROR("\n  <?xml version=\"1.0\"?><a/>", "2:3", "XML declaration must be at the very start");
  EXPECT_READ_ERROR("<a x=\"1\" x=\"2\"/>", "1:1", "attribute `x` is given twice");
  EXPECT_EQ(errorOf("\xff\xfe<\0a\0/\0>\0"),
            "t.ovf:1:1: error: the descriptor is UTF-16; CFM reads UTF-8 descriptors");
  // A byte order mark is fine, and columns count characters.
  EXPECT_EQ(errorOf("\xEF\xBB\xBF" + envelope(vs("vm"))), "");
  EXPECT_READ_ERROR("<é><b>\n</é>", "2:3", "not well-formed XML");
}

TEST(OvfReader, NamespaceErrors) {
  EXPECT_READ_ERROR("<FakeEnvelope><References/></FakeEnvelope>", "1:1",
                    "the root element is `FakeEnvelope`; an OVF descriptor's root is `Envelope`");
  EXPECT_READ_ERROR("<ovf:Envelope xmlns:ovf=\"http://nosuch/ovf\"/>", "1:1",
                    "`Envelope` is in namespace `http://nosuch/ovf`, which is not OVF");
  EXPECT_READ_ERROR("<ovf:Envelope/>", "1:1", "undeclared namespace prefix `ovf` in element `ovf:Envelope`");
  EXPECT_READ_ERROR(envelope("<References><File x:id=\"f\"/></References>" + vs("vm"), ""), "7:13",
                    "undeclared namespace prefix `x` in attribute `x:id`");
  EXPECT_READ_ERROR(envelope(vs("vm"), "<References a:b:c=\"1\"/>"), "6:1", "invalid attribute name `a:b:c`");
  EXPECT_READ_ERROR(
      envelope(vs("vm"),
               "<References ovf:x=\"1\" xmlns:o=\"http://schemas.dmtf.org/ovf/envelope/1\" o:x=\"2\"/>"),
      "6:1", "are the same attribute");
}

TEST(OvfReader, EnvelopeErrors) {
  const std::string open =
      R"(<Envelope xmlns="http://schemas.dmtf.org/ovf/envelope/1" xmlns:ovf="http://schemas.dmtf.org/ovf/envelope/1" )"
      R"(xmlns:rasd="http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData">)";
  EXPECT_READ_ERROR(open + "</Envelope>", "1:1", "the envelope is empty");
  EXPECT_READ_ERROR(open + vs("vm") + "</Envelope>", "1:1", "the envelope has no `References` element");
  EXPECT_READ_ERROR(open + "<References/></Envelope>", "1:1", "the envelope has no content");
  EXPECT_READ_ERROR(open + "<References/>\n<References/>" + vs("vm") + "</Envelope>", "2:1",
                    "a second `References`");
  EXPECT_READ_ERROR(open + "<References/>" + vs("a") + "\n" + vs("b") + "</Envelope>", "5:1",
                    "a second content element");
  EXPECT_READ_ERROR(open + "<References><Foo/></References>" + vs("a") + "</Envelope>", "1:218",
                    "unexpected `Foo` in `References`");
}

TEST(OvfReader, ReferenceAndDiskErrors) {
  EXPECT_READ_ERROR(envelope(vs("vm"), "<References>\n<File ovf:href=\"x\"/></References>"), "7:1",
                    "`File` has no `ovf:id`");
  EXPECT_READ_ERROR(envelope(vs("vm"), "<References>\n<File ovf:id=\"f\"/></References>"), "7:1",
                    "file `f` has no `ovf:href`");
  EXPECT_READ_ERROR(
      envelope(vs("vm"), "<References>\n<File ovf:id=\"f\" ovf:href=\"x\" ovf:size=\"big\"/></References>"),
      "7:1", "`ovf:size` is not a number: `big`");
  EXPECT_READ_ERROR(envelope(vs("vm"), "<References><File ovf:id=\"f\" ovf:href=\"x\"/>\n<File ovf:id=\"f\" "
                                       "ovf:href=\"y\"/></References>"),
                    "7:1", "duplicate file id `f` in `References` (first at line 6)");
  auto disks = [](const std::string &d) {
    return envelope("<DiskSection><Info/>\n" + d + "</DiskSection>" + vs("vm"));
  };
  EXPECT_READ_ERROR(disks("<Disk ovf:capacity=\"1\"/>"), "8:1", "`Disk` has no `ovf:diskId`");
  EXPECT_READ_ERROR(disks("<Disk ovf:diskId=\"d\"/>"), "8:1", "disk `d` has no `ovf:capacity`");
  EXPECT_READ_ERROR(disks("<Disk ovf:diskId=\"d\" ovf:capacity=\"lots\"/>"), "8:1",
                    "`ovf:capacity` is not a number or `${property}`: `lots`");
  EXPECT_READ_ERROR(
      disks("<Disk ovf:diskId=\"d\" ovf:capacity=\"1\" ovf:capacityAllocationUnits=\"furlongs\"/>"), "8:1",
      "unknown allocation units `furlongs`");
  EXPECT_READ_ERROR(disks("<Disk ovf:diskId=\"d\" ovf:capacity=\"1\" ovf:fileRef=\"nope\"/>"), "8:1",
                    "disk `d` refers to file `nope`, which is not in `References`");
  EXPECT_READ_ERROR(
      disks("<Disk ovf:diskId=\"d\" ovf:capacity=\"1\"/>\n<Disk ovf:diskId=\"d\" ovf:capacity=\"2\"/>"),
      "9:1", "duplicate disk id `d` in `DiskSection` (first at line 8)");
  EXPECT_READ_ERROR(
      envelope(
          "<NetworkSection><Info/>\n<Network ovf:name=\"n\"/>\n<Network ovf:name=\"n\"/></NetworkSection>" +
          vs("vm")),
      "9:1", "duplicate network `n` (first at line 8)");
  EXPECT_READ_ERROR(envelope("<DeploymentOptionSection><Info/>\n<Configuration "
                             "ovf:id=\"a\"/>\n<Configuration ovf:id=\"a\"/></DeploymentOptionSection>" +
                             vs("vm")),
                    "9:1", "duplicate deployment option `a`");
}

TEST(OvfReader, ContentErrors) {
  EXPECT_READ_ERROR(envelope("<VirtualSystem><Info/></VirtualSystem>"), "7:1",
                    "`VirtualSystem` has no `ovf:id`");
  EXPECT_READ_ERROR(envelope("<VirtualSystem ovf:id=\"vm\"><Info/></VirtualSystem>"), "7:1",
                    "virtual system `vm` has no `VirtualHardwareSection`");
  EXPECT_READ_ERROR(envelope("<VirtualSystemCollection ovf:id=\"c\">" + vs("a") + "\n" + vs("a") +
                             "</VirtualSystemCollection>"),
                    "11:1", "duplicate content id `a`");
  EXPECT_READ_ERROR(envelope("<VirtualSystem ovf:id=\"vm\">" + vs("a") + "</VirtualSystem>"), "7:28",
                    "a `VirtualSystem` cannot contain `VirtualSystem`");
  EXPECT_READ_ERROR(envelope("<VirtualSystemCollection ovf:id=\"c\"><StartupSection><Info/>\n<Item "
                             "ovf:id=\"zz\" ovf:order=\"1\"/></StartupSection>" +
                             vs("a") + "</VirtualSystemCollection>"),
                    "8", "startup item `zz` names no child of collection `c`");
  EXPECT_READ_ERROR(envelope(vs("vm", "<StartupSection/>")), "7:35",
                    "`StartupSection` belongs in a `VirtualSystemCollection`");
  EXPECT_READ_ERROR(envelope("<ProductSection/>" + vs("vm")), "7:1",
                    "`ProductSection` belongs in a `VirtualSystem`");
  EXPECT_READ_ERROR(envelope(vs("vm", "<DiskSection/>")), "7:35", "`DiskSection` belongs in the `Envelope`");
  EXPECT_READ_ERROR(envelope(vs("vm", "<OperatingSystemSection ovf:id=\"linux\"/>")), "7:35",
                    "needs a numeric `ovf:id`, not `linux`");
}

TEST(OvfReader, PropertyErrors) {
  auto prop = [](const std::string &p) {
    return envelope(vs("vm", "<ProductSection><Info/>\n" + p + "</ProductSection>"));
  };
  EXPECT_READ_ERROR(prop("<Property ovf:type=\"string\"/>"), "8:1", "`Property` has no `ovf:key`");
  EXPECT_READ_ERROR(prop("<Property ovf:key=\"k\"/>"), "8:1", "property `k` has no `ovf:type`");
  EXPECT_READ_ERROR(prop("<Property ovf:key=\"k\" ovf:type=\"nosuchtype\"/>"), "8:1",
                    "property `k` has invalid type `nosuchtype`");
  EXPECT_READ_ERROR(prop("<Property ovf:key=\"a.b\" ovf:type=\"string\"/>"), "8:1",
                    "property key `a.b` has an invalid character");
  EXPECT_READ_ERROR(prop("<Property ovf:key=\"a:b\" ovf:type=\"string\"/>"), "8:1", "invalid character");
  EXPECT_EQ(errorOf(prop("<Property ovf:key=\"guestinfo.x.y\" ovf:type=\"string\"/><Property "
                         "ovf:key=\"vami.tz\" ovf:type=\"string\"/>")),
            "");
  EXPECT_READ_ERROR(prop("<Property ovf:key=\"k\" ovf:type=\"uint8\" ovf:value=\"256\"/>"), "8:1",
                    "property `k`: value `256` is not a uint8");
  EXPECT_READ_ERROR(prop("<Property ovf:key=\"k\" ovf:type=\"sint8\" ovf:value=\"-129\"/>"), "8:1",
                    "is not a sint8");
  EXPECT_READ_ERROR(prop("<Property ovf:key=\"k\" ovf:type=\"boolean\" ovf:value=\"yes\"/>"), "8:1",
                    "is not a boolean");
  EXPECT_READ_ERROR(prop("<Property ovf:key=\"k\" ovf:type=\"real32\" ovf:value=\"1.5x\"/>"), "8:1",
                    "is not a real32");
  EXPECT_READ_ERROR(prop("<Property ovf:key=\"k\" ovf:type=\"string\" ovf:userConfigurable=\"sure\"/>"),
                    "8:1", "`ovf:userConfigurable` must be `true` or `false`");
  EXPECT_READ_ERROR(
      prop("<Property ovf:key=\"k\" ovf:type=\"string\"/>\n<Property ovf:key=\"k\" ovf:type=\"uint8\"/>"),
      "9:1", "duplicate property key `k` (first at line 8)");
  // The same key in another class is another property.
  EXPECT_EQ(
      errorOf(envelope(vs("vm", R"(<ProductSection><Property ovf:key="k" ovf:type="string"/></ProductSection>
<ProductSection ovf:class="c"><Property ovf:key="k" ovf:type="string"/></ProductSection>)"))),
      "");
}

TEST(OvfReader, HardwareErrors) {
  auto hw = [](const std::string &items) {
    return envelope("<VirtualSystem ovf:id=\"vm\"><VirtualHardwareSection>\n" + items +
                    "</VirtualHardwareSection></VirtualSystem>");
  };
  EXPECT_READ_ERROR(hw("<Item><rasd:ResourceType>3</rasd:ResourceType></Item>"), "8:1",
                    "has no `rasd:InstanceID`");
  EXPECT_READ_ERROR(hw("<Item><rasd:InstanceID>1</rasd:InstanceID></Item>"), "8:1",
                    "has no `rasd:ResourceType`");
  EXPECT_READ_ERROR(
      hw("<Item><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>cpu</rasd:ResourceType></Item>"),
      "8:1", "`rasd:ResourceType` `cpu` is not a resource type number");
  EXPECT_READ_ERROR(hw("<Item><rasd:ElementName>odd</rasd:ElementName><rasd:InstanceID>3</"
                       "rasd:InstanceID><rasd:ResourceType>35</rasd:ResourceType></Item>"),
                    "8:1",
                    "unsupported resource type 35 in hardware item `Item` `odd` (`rasd:InstanceID` 3)");
  EXPECT_READ_ERROR(
      hw("<Item><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</rasd:ResourceType></Item>\n"
         "<Item><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType></Item>"),
      "9:1", "duplicate `rasd:InstanceID` `1` in `VirtualHardwareSection` (first at line 8)");
  EXPECT_READ_ERROR(hw("<Item><rasd:InstanceID>1</rasd:InstanceID><rasd:ResourceType>3</"
                       "rasd:ResourceType>\n<rasd:VirtualQuantity>two</rasd:VirtualQuantity></Item>"),
                    "9:1", "`rasd:VirtualQuantity` is not a number: `two`");
  EXPECT_READ_ERROR(hw("<Item><rasd:AllocationUnits>bushels</rasd:AllocationUnits><rasd:InstanceID>1</"
                       "rasd:InstanceID><rasd:ResourceType>4</rasd:ResourceType></Item>"),
                    "8:1", "unknown allocation units `bushels`");
  EXPECT_READ_ERROR(hw("<Item><rasd:HostResource>ovf:/disk/nope</rasd:HostResource><rasd:InstanceID>1</"
                       "rasd:InstanceID><rasd:ResourceType>17</rasd:ResourceType></Item>"),
                    "8:1", "refers to disk `nope`, which is not in `DiskSection`");
  EXPECT_READ_ERROR(hw("<Item><rasd:HostResource>ovf:/file/nope</rasd:HostResource><rasd:InstanceID>1</"
                       "rasd:InstanceID><rasd:ResourceType>15</rasd:ResourceType></Item>"),
                    "8:1", "refers to file `nope`, which is not in `References`");
}

// VirtualBox's sound card (35) is accepted where VirtualBox's namespace is declared.
TEST(OvfReader, VirtualBoxSoundCard) {
  std::string text = envelope(vs("vm", ""));
  text.replace(text.find("<VirtualHardwareSection><Info/>") + 31, 0,
               "<Item><rasd:InstanceID>9</rasd:InstanceID><rasd:ResourceType>35</rasd:ResourceType></Item>");
  EXPECT_NE(errorOf(text), "");
  text.replace(text.find("xmlns:cfm"), 0, "xmlns:vbox=\"http://www.virtualbox.org/ovf/machine\" ");
  EXPECT_EQ(errorOf(text), "");
}

TEST(OvfReader, Limits) {
  auto nested = [](int depth) {
    std::string s;
    for (int i = 0; i < depth; ++i) s += "<x:a xmlns:x=\"urn:x\">";
    for (int i = 0; i < depth; ++i) s += "</x:a>";
    return s;
  };
  // kMaxXmlDepth levels under the root's section are fine; one more is an error.
  std::string ok = envelope(
      vs("vm", "<x:S xmlns:x=\"urn:x\" ovf:required=\"false\">" + nested(ovf::kMaxXmlDepth - 2) + "</x:S>"));
  EXPECT_EQ(errorOf(ok), "");
  std::string deep = envelope(
      vs("vm", "<x:S xmlns:x=\"urn:x\" ovf:required=\"false\">" + nested(ovf::kMaxXmlDepth - 1) + "</x:S>"));
  EXPECT_NE(errorOf(deep).find("elements nested deeper than 256 levels"), std::string::npos) << errorOf(deep);
  auto collections = [](int depth) {
    std::string s;
    for (int i = 0; i < depth; ++i) s += "<VirtualSystemCollection ovf:id=\"c" + std::to_string(i) + "\">";
    for (int i = 0; i < depth; ++i) s += "</VirtualSystemCollection>";
    return s;
  };
  EXPECT_EQ(errorOf(envelope(collections(ovf::kMaxCollectionDepth + 1))), "");
  EXPECT_NE(errorOf(envelope(collections(ovf::kMaxCollectionDepth + 2))).find("nested deeper than 32"),
            std::string::npos);
  std::string big(ovf::kMaxDescriptorBytes + 1, ' ');
  EXPECT_NE(errorOf(big).find("the limit is"), std::string::npos);
}

// --- the CFM extension ------------------------------------------------------------------------------

std::string cfmSystem(const std::string &section, const std::string &refs = "<References/>") {
  return envelope("<VirtualSystemCollection ovf:id=\"sys\"><Info/>\n" + section + "\n" + vs("web") +
                      vs("db") + "</VirtualSystemCollection>",
                  refs);
}

TEST(OvfCfm, ElementsTemplatesVolumesAddresses) {
  auto r = readText(cfmSystem(R"(<cfm:BusinessSystemSection ovf:required="false" id="42" name="shop"><Info/>
  <cfm:Description>a shop</cfm:Description>
  <cfm:Element name="db" virtualSystem="db"><cfm:Volume name="data" sizeMb="100" device="/dev/sdb" mount="/data"/></cfm:Element>
  <cfm:Element name="web" min="2" max="5" instances="3" image="web.img">
    <cfm:DependsOn element="db"/><cfm:Address name="pub" kind="public"/>
  </cfm:Element>
  <cfm:Template name="conf" element="web" path="/etc/web.conf" mode="0600"><![CDATA[
listen {{ port }};
{% for s in servers %}server {{ s }};
{% end %}]]></cfm:Template>
  <cfm:Template name="motd" path="/etc/motd">hello {{ name }}</cfm:Template>
  <cfm:Template name="file" path="/etc/x" fileRef="tpl"/>
</cfm:BusinessSystemSection>)",
                              R"(<References><File ovf:id="tpl" ovf:href="x.tpl"/></References>)"));
  ASSERT_TRUE(r) << r.error().message;
  auto load = [](const ovf::FileRef &f) -> Result<std::string> { return std::string("from " + f.href); };
  auto m = ovf::toModel(*r, load, "t.ovf");
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->id, "42");
  EXPECT_EQ(m->name, "shop");
  EXPECT_EQ(m->description, "a shop");
  ASSERT_EQ(m->elements.size(), 2u);
  EXPECT_EQ(m->elements[0].volumes[0], (model::Volume{"data", 100, "/dev/sdb", "/data"}));
  const model::BusinessSystemElement &web = m->elements[1];
  EXPECT_EQ(web.vmClass, "web");
  EXPECT_EQ(web.minInstances, 2);
  EXPECT_EQ(web.instances, 3);
  EXPECT_EQ(web.maxInstances, 5);
  EXPECT_EQ(web.dependsOn, std::vector<std::string>{"db"});
  EXPECT_EQ(web.addresses[0], (model::Address{"pub", "public", ""}));
  EXPECT_EQ(m->vmClass("web")->image, "web.img");
  ASSERT_EQ(m->templates.size(), 3u);
  EXPECT_EQ(m->templates[0].text, "listen {{ port }};\n{% for s in servers %}server {{ s }};\n{% end %}");
  EXPECT_EQ(m->templates[0].mode, "0600");
  EXPECT_EQ(m->templates[1].text, "hello {{ name }}");
  EXPECT_EQ(m->templates[1].mode, "0644");
  EXPECT_EQ(m->templates[2].text, "from x.tpl");
  // The loader's failure is the import's, with the template's line.
  auto failing = ovf::toModel(*r, ovf::noFiles(), "t.ovf");
  ASSERT_FALSE(failing);
  EXPECT_NE(failing.error().describe().find("t.ovf:19: error: template `file`: file `tpl` cannot be read"),
            std::string::npos)
      << failing.error().describe();
}

TEST(OvfCfm, Errors) {
  auto sec = [](const std::string &body) {
    return cfmSystem("<cfm:BusinessSystemSection name=\"s\">\n" + body + "</cfm:BusinessSystemSection>");
  };
  EXPECT_READ_ERROR(sec("<cfm:Element/>"), "9:1", "`cfm:Element` has no `name`");
  EXPECT_READ_ERROR(sec("<cfm:Element name=\"x\"/>"), "9:1",
                    "names virtual system `x`, which is not in the envelope");
  EXPECT_READ_ERROR(sec("<cfm:Element name=\"c\" virtualSystem=\"sys\"/>"), "9:1",
                    "a `VirtualSystemCollection`");
  EXPECT_READ_ERROR(sec("<cfm:Element name=\"web\"/>\n<cfm:Element name=\"web\"/>"), "10:1",
                    "duplicate element `web`");
  EXPECT_READ_ERROR(sec("<cfm:Element name=\"web\" min=\"3\" max=\"2\"/>"), "9:1",
                    "needs min <= instances <= max");
  EXPECT_READ_ERROR(sec("<cfm:Element name=\"web\" min=\"-1\"/>"), "9:1", "`min` must be a count");
  EXPECT_READ_ERROR(sec("<cfm:Element name=\"web\" colour=\"red\"/>"), "9:1",
                    "unknown attribute `colour` on `cfm:Element`");
  EXPECT_READ_ERROR(sec("<cfm:Element name=\"web\"><cfm:DependsOn element=\"nope\"/></cfm:Element>"), "9:1",
                    "element `web` depends on `nope`, which is not an element");
  EXPECT_READ_ERROR(sec("<cfm:Element name=\"web\"><cfm:DependsOn element=\"web\"/></cfm:Element>"), "9:1",
                    "element `web` depends on itself");
  EXPECT_READ_ERROR(sec("<cfm:Element name=\"web\"><cfm:DependsOn element=\"db\"/></cfm:Element>\n"
                        "<cfm:Element name=\"db\"><cfm:DependsOn element=\"web\"/></cfm:Element>"),
                    "9:1", "dependency cycle among elements `web`, `db`");
  EXPECT_READ_ERROR(sec("<cfm:Element name=\"web\"><cfm:Volume name=\"v\"/></cfm:Element>"), "9:25",
                    "volume `v` needs `sizeMb`");
  EXPECT_READ_ERROR(sec("<cfm:Element name=\"web\"><cfm:Address name=\"a\" kind=\"magic\"/></cfm:Element>"),
                    "9:25", "`kind` is `private` or `public`, not `magic`");
  EXPECT_READ_ERROR(sec("<cfm:Element name=\"web\"><cfm:Frob/></cfm:Element>"), "9:25",
                    "unexpected `cfm:Frob` in `cfm:Element`");
  EXPECT_READ_ERROR(sec("<cfm:Template name=\"t\" path=\"/x\"/>"), "9:1",
                    "template `t` has no text and no `fileRef`");
  EXPECT_READ_ERROR(sec("<cfm:Template name=\"t\" path=\"/x\" fileRef=\"f\">text</cfm:Template>"), "9:1",
                    "has both text and `fileRef`");
  EXPECT_READ_ERROR(sec("<cfm:Template name=\"t\" path=\"/x\" fileRef=\"f\"/>"), "9:1",
                    "refers to file `f`, which is not in `References`");
  EXPECT_READ_ERROR(sec("<cfm:Template name=\"t\" path=\"relative\">x</cfm:Template>"), "9:1",
                    "an absolute destination path");
  EXPECT_READ_ERROR(sec("<cfm:Template name=\"t\" path=\"/x\" mode=\"rw\">x</cfm:Template>"), "9:1",
                    "octal file mode");
  EXPECT_READ_ERROR(sec("<cfm:Template name=\"t\" path=\"/x\" element=\"nope\">x</cfm:Template>"), "9:1",
                    "names element `nope`, which is not an element");
  EXPECT_READ_ERROR(sec("<cfm:Template name=\"t\" path=\"/x\">x<b/></cfm:Template>"), "9:35",
                    "unexpected `b` in template `t`");
  EXPECT_READ_ERROR(sec("<cfm:Template name=\"t\" path=\"/x\">a</cfm:Template>\n<cfm:Template name=\"t\" "
                        "path=\"/y\">b</cfm:Template>"),
                    "10:1", "duplicate template `t`");
  EXPECT_READ_ERROR(sec("<cfm:Nope/>"), "9:1", "unexpected `cfm:Nope` in `cfm:BusinessSystemSection`");
  EXPECT_READ_ERROR(cfmSystem("<cfm:Other/>"), "8:1", "unknown CFM section `cfm:Other`");
  EXPECT_READ_ERROR(cfmSystem("<cfm:BusinessSystemSection/>\n<cfm:BusinessSystemSection/>"), "9:1",
                    "a second `cfm:BusinessSystemSection`");
  // Two elements of one virtual system that want different images.
  auto r = readText(sec("<cfm:Element name=\"a\" virtualSystem=\"web\" image=\"x\"/>\n"
                        "<cfm:Element name=\"b\" virtualSystem=\"web\" image=\"y\"/>"));
  ASSERT_TRUE(r) << r.error().message;
  auto m = ovf::toModel(*r, ovf::noFiles(), "t.ovf");
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().describe().find("t.ovf:10: error: element `b` gives virtual system `web` image `y`"),
            std::string::npos);
  EXPECT_EQ(m.error().kind, ErrorKind::Ovf);
}

// --- the writer -------------------------------------------------------------------------------------

model::BusinessSystem roundTrip(const model::BusinessSystem &m) {
  auto text = ovf::write(m);
  EXPECT_TRUE(text) << (text ? "" : text.error().message);
  if (!text) return {};
  auto back = ovf::importText(*text, "export.ovf", ovf::noFiles());
  EXPECT_TRUE(back) << (back ? "" : back.error().message) << "\n" << *text;
  return back ? *back : model::BusinessSystem{};
}

TEST(OvfWriter, RoundTripOfAHandBuiltModel) {
  model::BusinessSystem m;
  m.id = "id-1";
  m.name = "sys";
  m.description = "desc & <more>";
  m.properties = {{"c", "k", "", "uint16", "80", "Label", "Desc", true},
                  {"", "other", "i", "string", "a\nb", "", "", false}};
  model::VMClass c;
  c.name = "sys"; // the same name as the system: the collection id must differ
  c.cpus = 3;
  c.memoryMb = 1536;
  c.image = "custom.img";
  c.osType = "linux";
  c.disks = {{"root", 100, "root.img"}, {"", 50, ""}};
  c.networks = {"a", "b", ""};
  c.properties = {{"", "p", "", "boolean", "true", "", "", false}};
  m.vmClasses = {c};
  model::BusinessSystemElement e;
  e.name = "e";
  e.vmClass = "sys";
  e.minInstances = 0;
  e.instances = 2;
  e.maxInstances = 9;
  e.volumes = {{"v", 10, "", ""}};
  e.addresses = {{"a", "public", "a"}};
  model::BusinessSystemElement e2 = e;
  e2.name = "e2";
  e2.dependsOn = {"e"};
  m.elements = {e, e2};
  m.templates = {{"t", "e", "/etc/t", "0600", "\nstarts with a newline ]]> and ends without"},
                 {"u", "", "/etc/u", "0644", ""}};
  EXPECT_EQ(roundTrip(m), m);
}

TEST(OvfWriter, ModelsOvfCannotCarry) {
  model::BusinessSystem m;
  m.name = "s";
  model::VMClass a{"a", 1, 1, "", "", {{"d", 1, ""}}, {}, {}};
  model::VMClass b{"b", 1, 1, "", "", {{"d", 2, ""}}, {}, {}};
  m.vmClasses = {a, b};
  auto t = ovf::write(m);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("disk `d`"), std::string::npos);
  m.vmClasses = {{"a", 1, 1, "img", "", {}, {}, {}}};
  t = ovf::write(m);
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("has image `img`"), std::string::npos);
}

TEST(OvfSamples, ImportAndRoundTrip) {
  for (const char *sample : {"/samples/web3/web3.ovf", "/samples/hadoop/hadoop.ovf"}) {
    auto m = ovf::importFile(std::string(CFM_SOURCE_DIR) + sample);
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_EQ(roundTrip(*m), *m) << sample;
  }
  auto web3 = ovf::importFile(CFM_SOURCE_DIR "/samples/web3/web3.ovf");
  ASSERT_TRUE(web3);
  EXPECT_EQ(web3->elements.size(), 5u);
  EXPECT_EQ(web3->element("lb")->instances, 2);
  EXPECT_EQ(web3->element("db-standby")->vmClass, "db");
  EXPECT_EQ(web3->vmClass("db")->memoryMb, 16384);
  EXPECT_EQ(web3->property("web3.web_port")->value, "8080");
  EXPECT_NE(web3->configTemplate("app-properties")->text.find("db.pool.size={{ pool_size }}"),
            std::string::npos);
  auto hadoop = ovf::importFile(CFM_SOURCE_DIR "/samples/hadoop/hadoop.ovf");
  ASSERT_TRUE(hadoop);
  EXPECT_EQ(hadoop->element("worker")->maxInstances, 32);
  EXPECT_EQ(hadoop->configTemplate("core-site")->text.substr(0, 38),
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
}

// --- the shared corpus ------------------------------------------------------------------------------

std::vector<fs::path> corpusFiles() {
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto &e : fs::directory_iterator(kCorpusDir, ec))
    if (e.path().extension() == ".ovf") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

TEST(OvfCorpus, NegativeFilesAreRejectedWithALocation) {
  auto files = corpusFiles();
  if (files.empty()) GTEST_SKIP() << "the shared OVF corpus is not there: " << kCorpusDir;
  int negatives = 0;
  for (const fs::path &p : files) {
    if (p.filename().string().find("_neg_") == std::string::npos) continue;
    ++negatives;
    auto m = ovf::importFile(p.string());
    ASSERT_FALSE(m) << p << " was read";
    // `PATH:LINE:COL: error: ...`
    const std::string msg = m.error().describe();
    EXPECT_EQ(msg.rfind(p.string() + ":", 0), 0u) << msg;
    EXPECT_NE(msg.find(": error: "), std::string::npos) << msg;
  }
  EXPECT_EQ(negatives, 15);
}

TEST(OvfCorpus, NegativeFilesSayWhatIsWrong) {
  if (corpusFiles().empty()) GTEST_SKIP() << "the shared OVF corpus is not there: " << kCorpusDir;
  const std::pair<const char *, const char *> expected[] = {
      {"govmomi_neg_ImportOvf2014_invalid.ovf", ":10:5: error: `VirtualSystem` has no `ovf:id`"},
      {"govmomi_neg_OVFTool_DiskSection10_dup_diskid.ovf", ":10:2: error: duplicate disk id `vmdisk1`"},
      {"govmomi_neg_OVFTool_DiskSection10_no_capacity.ovf",
       ":8:9: error: disk `vmdisk1` has no `ovf:capacity`"},
      {"govmomi_neg_OVFTool_Envelope10_invalid_empty_env.ovf", ":2:1: error: the envelope is empty"},
      {"govmomi_neg_OVFTool_Envelope10_invalid_env.ovf", ":2:1: error: the root element is `FakeEnvelope`"},
      {"govmomi_neg_OVFTool_Envelope10_invalid_namespace.ovf",
       ":2:1: error: `Envelope` is in namespace "
       "`http://nosuchspec.com/ovf/envelope/1`, which is not OVF"},
      {"govmomi_neg_OVFTool_Envelope10_invalid_ref_dup_id.ovf", ":5:2: error: duplicate file id `file1`"},
      {"govmomi_neg_OVFTool_Envelope10_no_content.ovf", ":2:1: error: the envelope has no content"},
      {"govmomi_neg_OVFTool_ProductSection10_prop_dup_keys.ovf",
       ":61:5: error: duplicate property key `imunique`"},
      {"govmomi_neg_OVFTool_ProductSection10_prop_invalid_type.ovf",
       ":57:4: error: property `imunique` has invalid "
       "type `nosuchtype`"},
      {"govmomi_neg_OVFTool_VirtualHardware10_dup_instanceid.ovf",
       ":31:6: error: duplicate `rasd:InstanceID` `6`"},
      {"govmomi_neg_OVFTool_VirtualHardware10_no_vh.ovf", ":6:5: error: virtual system `PTC01_VM` has no "
                                                          "`VirtualHardwareSection`"},
      {"govmomi_neg_invalid-property-key.ovf",
       ":13:7: error: property key `invalid.key` has an invalid character"},
      {"govmomi_neg_jeos_corrupted.ovf", ":1:1: error: text before the first tag"},
      {"govmomi_neg_unsupported-resourcetype.ovf", ":45:8: error: unsupported resource type 35"},
  };
  for (const auto &[file, what] : expected) {
    auto m = ovf::importFile(kCorpusDir + "/" + file);
    ASSERT_FALSE(m) << file;
    EXPECT_NE(m.error().describe().find(what), std::string::npos) << m.error().describe();
  }
}

TEST(OvfCorpus, EveryOtherFileIsReadAndRoundTrips) {
  auto files = corpusFiles();
  if (files.empty()) GTEST_SKIP() << "the shared OVF corpus is not there: " << kCorpusDir;
  int positives = 0;
  for (const fs::path &p : files) {
    if (p.filename().string().find("_neg_") != std::string::npos) continue;
    ++positives;
    auto m = ovf::importFile(p.string());
    ASSERT_TRUE(m) << m.error().message;
    EXPECT_EQ(roundTrip(*m), *m) << p;
  }
  EXPECT_EQ(positives, 24);
}

TEST(OvfCorpus, SomeFacts) {
  if (corpusFiles().empty()) GTEST_SKIP() << "the shared OVF corpus is not there: " << kCorpusDir;
  auto vcsa = ovf::readFile(kCorpusDir + "/govmomi_VMware-vCenter-Server-Appliance-9.1.0.0_OVF10.ovf");
  ASSERT_TRUE(vcsa);
  EXPECT_EQ(vcsa->deploymentOptions.size(), 16u);
  auto ovf2 = ovf::importFile(kCorpusDir + "/govmomi_virtualsystemcollection_ovf2.ovf");
  ASSERT_TRUE(ovf2);
  EXPECT_EQ(ovf2->vmClasses.size(), 2u);
  EXPECT_EQ(ovf2->vmClasses[0].memoryMb, 1024);
  auto v09 = ovf::readFile(kCorpusDir + "/govmomi_OVFTool_Envelope09_valid_vmdk_ovf0.9.ovf");
  ASSERT_TRUE(v09);
  EXPECT_EQ(v09->version, "0.9");
  auto vbox = ovf::readFile(kCorpusDir + "/virtmanager_CentOS-6.4-i386-Gnome_virtualbox.ovf");
  ASSERT_TRUE(vbox);
  EXPECT_FALSE(vbox->content.others.empty()); // vbox:Machine, kept
}

// Issue 12: pugixml skips a DTD, keeps an unknown entity as written and drops an invalid
// character reference; the reader refuses all three, with the line and column.
TEST(OvfReader, DtdsAndEntitiesAreRefused) {
  EXPECT_READ_ERROR("<?xml version=\"1.0\"?>\n<!DOCTYPE Envelope [<!ENTITY x \"y\">]>\n<Envelope/>", "2:1",
                    "a document type declaration (`<!DOCTYPE`) is not allowed");
  EXPECT_READ_ERROR("<!DOCTYPE Envelope SYSTEM \"file:///etc/passwd\"><Envelope/>", "1:1",
                    "document type declaration");
  EXPECT_READ_ERROR("<a>\n x &foo;</a>", "2:4", "entity reference `&foo;` is not allowed");
  EXPECT_READ_ERROR("<a b=\"&bar;\"/>", "1:7", "entity reference `&bar;` is not allowed");
  EXPECT_READ_ERROR("<a>&#0;</a>", "1:4", "character reference `&#0;` is not an XML character (U+0000)");
  EXPECT_READ_ERROR("<a>&#xD800;</a>", "1:4",
                    "character reference `&#xD800;` is not an XML character (U+D800)");
  EXPECT_READ_ERROR("<a b='&#xFFFE;'/>", "1:7", "(U+FFFE)");
  EXPECT_READ_ERROR("<a>&#1114112;</a>", "1:4", "is not an XML character (out of range)");
  EXPECT_READ_ERROR("<a>&#99999999999999999999;</a>", "1:4", "(out of range)");
  EXPECT_READ_ERROR("<a>&#12a;</a>", "1:4", "malformed character reference `&#12a;`");
  EXPECT_READ_ERROR("<a>AT&T</a>", "1:6", "`&` that starts no entity or character reference");
  EXPECT_READ_ERROR("<a>AT& T;</a>", "1:6", "`&` that starts no entity or character reference");
  // The five predefined entities and character references to XML characters are read; CDATA,
  // comments and processing instructions hold `&` as plain text.
  auto r = readText(envelope(
      "<!-- &nope; --><?pi &nope;?><VirtualSystem ovf:id=\"vm\"><Info>a &lt; b &amp;&gt; &#233;&#x1F600; "
      "&quot;q&apos; <![CDATA[&nope;]]></Info>" +
      std::string(kHardware) + "</VirtualSystem>"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->content.info, "a < b &> \xC3\xA9\xF0\x9F\x98\x80 \"q' &nope;");
}

// DSP0243: every network a NIC connects to is declared in the NetworkSection.
TEST(OvfReader, NicConnectionsNameDeclaredNetworks) {
  auto nic = [](const std::string &connection) {
    return "<VirtualSystem ovf:id=\"vm\"><Info/><VirtualHardwareSection><Info/>\n<Item><rasd:Connection>" +
           connection +
           "</rasd:Connection><rasd:InstanceID>5</rasd:InstanceID><rasd:ResourceType>10</rasd:ResourceType></"
           "Item>\n</VirtualHardwareSection></VirtualSystem>";
  };
  std::string lan = "<NetworkSection><Info/><Network ovf:name=\"lan\"/></NetworkSection>\n";
  EXPECT_EQ(errorOf(envelope(lan + nic("lan"))), "");
  EXPECT_READ_ERROR(envelope(lan + nic("wan")), "9:7",
                    "`rasd:Connection` names network `wan`, which `NetworkSection` does not declare");
  EXPECT_READ_ERROR(envelope(nic("lan")), "8:7",
                    "names network `lan`, which `NetworkSection` does not declare (the envelope has no "
                    "`NetworkSection`)");
  EXPECT_EQ(errorOf(envelope(nic(""))), ""); // an unconnected NIC names no network
}

// Issue 12: a template's fileRef is read only from beneath the descriptor's directory (a link
// leading out of it is refused, the issue's case being a link to /etc/passwd), only as a regular
// file (a FIFO is refused at once, never waited on), and at most kMaxTemplateBytes of it.
TEST(OvfImport, TemplateFilesAreConfinedToTheDescriptorsDirectory) {
  fs::path dir = fs::temp_directory_path() / ("cfm-ovf-test-" + std::to_string(getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "pkg" / "t");
  std::ofstream(dir / "outside.txt") << "outside";
  std::ofstream(dir / "pkg" / "t" / "real.tpl") << "real {{ x }}";
  auto descriptor = [&](const std::string &href) {
    std::string path = (dir / "pkg" / "d.ovf").string();
    std::ofstream(path) << cfmSystem(
        R"(<cfm:BusinessSystemSection ovf:required="false" name="s"><Info/>
  <cfm:Template name="file" path="/etc/x" fileRef="tpl"/>
</cfm:BusinessSystemSection>)",
        "<References><File ovf:id=\"tpl\" ovf:href=\"" + href + "\"/></References>");
    return path;
  };
  auto errorOfImport = [&](const std::string &href) {
    auto m = ovf::importFile(descriptor(href));
    return m ? "read: " + m->templates[0].text : m.error().describe();
  };
  EXPECT_EQ(errorOfImport("t/real.tpl"), "read: real {{ x }}");
  fs::create_symlink("/etc/passwd", dir / "pkg" / "t" / "passwd");
  EXPECT_NE(errorOfImport("t/passwd")
                .find("template `file`: cannot read `" + (dir / "pkg").string() +
                      "/t/passwd`: leaves its directory"),
            std::string::npos)
      << errorOfImport("t/passwd");
  fs::create_symlink("../../outside.txt", dir / "pkg" / "t" / "up");
  EXPECT_NE(errorOfImport("t/up").find("leaves its directory"), std::string::npos) << errorOfImport("t/up");
  fs::create_symlink(dir, dir / "pkg" / "parent");
  EXPECT_NE(errorOfImport("parent/outside.txt").find("leaves its directory"), std::string::npos);
  fs::create_symlink("real.tpl", dir / "pkg" / "t" / "alias.tpl"); // stays inside: followed
  EXPECT_EQ(errorOfImport("t/alias.tpl"), "read: real {{ x }}");
  ASSERT_EQ(mkfifo((dir / "pkg" / "t" / "fifo").c_str(), 0600), 0);
  EXPECT_NE(errorOfImport("t/fifo").find("is not a regular file"), std::string::npos)
      << errorOfImport("t/fifo");
  std::ofstream(dir / "pkg" / "t" / "big.tpl") << std::string(ovf::kMaxTemplateBytes + 1, 'x');
  EXPECT_NE(errorOfImport("t/big.tpl").find("is larger than the limit of 1 MiB"), std::string::npos)
      << errorOfImport("t/big.tpl");
  // The descriptor itself: regular files only.
  auto fifoDescriptor = ovf::readFile((dir / "pkg" / "t" / "fifo").string());
  ASSERT_FALSE(fifoDescriptor);
  EXPECT_NE(fifoDescriptor.error().message.find("is not a regular file"), std::string::npos);
  fs::remove_all(dir);
}

} // namespace
