// envelope.h — an OVF descriptor as read (DSP0243 0.9, 1.x and 2.x): the envelope's references,
// disks, networks and deployment options, and its content, a VirtualSystem or a (nested)
// VirtualSystemCollection with its sections, plus CFM's extension (ovf/README.md). Every part
// remembers the line it came from so that later checks (ovf/to_model.cpp) can say where.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cfm::ovf {

/// The namespaces the reader knows (ovf/README.md lists them).
inline constexpr const char *kOvf1Ns = "http://schemas.dmtf.org/ovf/envelope/1";
inline constexpr const char *kOvf2Ns = "http://schemas.dmtf.org/ovf/envelope/2";
inline constexpr const char *kOvf09Ns = "http://www.vmware.com/schema/ovf/1/envelope";
inline constexpr const char *kCfmNs = "http://cfm.example/ns/ovf/1";
inline constexpr const char *kVmwareNs = "http://www.vmware.com/schema/ovf";
inline constexpr const char *kVboxNs = "http://www.virtualbox.org/ovf/machine";
inline constexpr const char *kRasdNs =
    "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData";
inline constexpr const char *kVssdNs =
    "http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData";
inline constexpr const char *kXsiNs = "http://www.w3.org/2001/XMLSchema-instance";

/// Limits on what the reader accepts (each has a test at the limit and one past it).
inline constexpr size_t kMaxDescriptorBytes = 16 * 1024 * 1024; ///< 16 MiB of XML
inline constexpr int kMaxXmlDepth = 256;                        ///< nested elements in the document
inline constexpr int kMaxCollectionDepth = 32;                  ///< nested VirtualSystemCollections

struct FileRef { // References/File
  std::string id, href;
  std::optional<uint64_t> size;
  std::string compression; ///< ovf:compression ("" or gzip)
  int line = 0;
};

struct DiskDesc { // DiskSection/Disk
  std::string diskId, fileRef, format;
  std::string capacity;      ///< as written: a number or a `${property}` reference
  std::string capacityUnits; ///< ovf:capacityAllocationUnits ("" = byte)
  std::optional<uint64_t> populatedSize;
  int line = 0;
};

struct NetworkDesc { // NetworkSection/Network
  std::string name, description;
  int line = 0;
};

struct DeploymentOption { // DeploymentOptionSection/Configuration
  std::string id, label, description;
  bool isDefault = false;
  int line = 0;
};

struct PropertyDesc { // ProductSection/Property
  std::string key;
  std::string type; ///< lower case; `int` is read as sint32 (a common shorthand)
  std::string value, label, description, qualifiers;
  bool userConfigurable = false;
  int line = 0;
};

struct ProductSection {
  std::string className, instance; ///< ovf:class, ovf:instance
  std::string product, vendor, version, fullVersion, productUrl, vendorUrl, appUrl;
  std::vector<PropertyDesc> properties;
  bool required = true;
  int line = 0;
};

/// A hardware item: rasd:Item, epasd:EthernetPortItem or sasd:StorageItem.
struct HardwareItem {
  std::string element; ///< Item, EthernetPortItem or StorageItem
  std::string instanceId, elementName, description;
  int resourceType = 0;
  std::string resourceSubType;
  std::optional<uint64_t> virtualQuantity;
  std::string allocationUnits;
  std::vector<std::string> hostResources, connections;
  std::string address, addressOnParent, parent;
  std::string configuration; ///< ovf:configuration: the deployment options it belongs to ("" = all)
  std::string bound;         ///< ovf:bound: `min`, `max` or `normal` ("" = normal)
  bool required = true;
  int line = 0;
};

struct VirtualHardware {  // VirtualHardwareSection
  std::string systemType; ///< vssd:VirtualSystemType, e.g. vmx-13
  std::string transport;
  std::vector<HardwareItem> items;
  int line = 0;
};

struct StartupItem { // StartupSection/Item
  std::string id, startAction, stopAction;
  int order = 0, startDelay = 0, stopDelay = 0;
  bool waitingForGuest = false;
  int line = 0;
};

struct ScaleOut { // ScaleOutSection (OVF 2)
  std::string id;
  int minimum = 1, initial = 1, maximum = 1;
  int line = 0;
};

struct OperatingSystem { // OperatingSystemSection
  int id = 0;
  std::string version, osType, description;
  int line = 0;
};

/// A section the reader does not interpret but keeps: unknown sections marked
/// ovf:required="false", standard sections CFM has no use for, and vendor sections.
struct OtherSection {
  std::string ns, name;
  bool required = true;
  int line = 0;
};

// --- CFM extension (namespace kCfmNs, ovf/README.md) -------------------------------------------

struct CfmVolume {
  std::string name, device, mountPath;
  int64_t sizeMb = 0;
  int line = 0;
};

struct CfmAddress {
  std::string name, kind, network;
  int line = 0;
};

struct CfmElement { // cfm:Element
  std::string name, virtualSystem;
  std::optional<int> minimum, initial, maximum;
  std::vector<std::string> dependsOn;
  std::vector<CfmVolume> volumes;
  std::vector<CfmAddress> addresses;
  std::string image; ///< cfm:image, overrides the image taken from the disks
  int line = 0;
};

struct CfmTemplate { // cfm:Template
  std::string name, element, path, mode, fileRef;
  std::optional<std::string> text; ///< inline text; absent when fileRef names a References/File
  int line = 0;
};

struct CfmSystem { // cfm:BusinessSystemSection
  std::string id, name, description;
  std::vector<CfmElement> elements;
  std::vector<CfmTemplate> templates;
  int line = 0;
};

/// A VirtualSystem, or a VirtualSystemCollection with its children.
struct VirtualSystem {
  bool collection = false;
  std::string id, info, name;
  std::optional<OperatingSystem> os;
  std::vector<VirtualHardware> hardware;
  std::vector<ProductSection> products;
  std::vector<std::string> annotations;
  std::vector<std::string> eulas;
  std::vector<StartupItem> startup;
  std::vector<ScaleOut> scaleOut;
  std::vector<OtherSection> others;
  std::optional<CfmSystem> cfm;
  std::vector<VirtualSystem> children; ///< only for collections
  int line = 0;
};

struct Envelope {
  std::string ns;      ///< the envelope's namespace (kOvf1Ns, kOvf2Ns or kOvf09Ns)
  std::string version; ///< "0.9", "1.x" or "2.x"
  std::vector<FileRef> files;
  std::vector<DiskDesc> disks;
  std::vector<NetworkDesc> networks;
  std::vector<DeploymentOption> deploymentOptions;
  std::vector<OtherSection> others;
  std::optional<CfmSystem> cfm; ///< a cfm:BusinessSystemSection at envelope level
  VirtualSystem content;

  const FileRef *file(const std::string &id) const;
  const DiskDesc *disk(const std::string &id) const;
  /// The default deployment option's id (ovf:default="true", else the first), "" when none.
  std::string defaultConfiguration() const;
};

} // namespace cfm::ovf
