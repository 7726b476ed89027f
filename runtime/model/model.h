// model.h — the model objects of a business system (the paper's table 1, BRIEF.md "Model
// objects"): BusinessSystem, BusinessSystemElement, BusinessSystemElementInstance, ConfigTemplate,
// VMClass and VMInstance, as plain values.
//
// The configuration part (a system with its elements, VM classes, templates and properties) comes
// from OVF (ovf/to_model.h) and is kept in the SQLite store (runtime/store/store.h); instances are
// what the manager records while systems run. Equality is structural (every field, in order), which
// is what "import(export(m)) == m" and the store's round trip are checked with.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cfm::model {

/// A ProductSection property. Its id is `class.key.instance` without the empty parts (DSP0243 9.5).
struct Property {
  std::string className; ///< ovf:class ("" when absent)
  std::string key;
  std::string instance;        ///< ovf:instance ("" when absent)
  std::string type = "string"; ///< the OVF type, lower case (string, boolean, uint8 ... real64)
  std::string value;
  std::string label;
  std::string description;
  bool userConfigurable = false;

  std::string id() const;
  bool operator==(const Property &) const = default;
};

/// A virtual disk of a VM class (from DiskSection and the disk items of the hardware).
struct Disk {
  std::string id;         ///< ovf:diskId ("" for a disk given only by a hardware item)
  int64_t capacityMb = 0; ///< rounded up to whole MiB
  std::string file;       ///< href of the disk's image file in References ("" for a blank disk)
  bool operator==(const Disk &) const = default;
};

/// A VM template: CPUs, memory, image, disks, networks (one OVF VirtualSystem).
struct VMClass {
  std::string name; ///< the VirtualSystem's ovf:id
  int cpus = 1;
  int64_t memoryMb = 0;
  std::string image;  ///< the machine image (cfm:image, or the href of the first disk's file)
  std::string osType; ///< OperatingSystemSection: vmw:osType or the CIM id, "" when not given
  std::vector<Disk> disks;
  std::vector<std::string> networks; ///< the networks its NICs connect to, in item order
  std::vector<Property> properties;  ///< the VirtualSystem's own ProductSection properties
  bool operator==(const VMClass &) const = default;
};

/// A volume every instance of an element gets (cfm:Volume).
struct Volume {
  std::string name;
  int64_t sizeMb = 0;
  std::string device;    ///< e.g. /dev/sdb ("" lets the cloud choose)
  std::string mountPath; ///< "" when the procedure mounts it itself
  bool operator==(const Volume &) const = default;
};

/// An address every instance of an element gets (cfm:Address).
struct Address {
  std::string name;
  std::string kind = "private"; ///< `private` (from the network) or `public` (an elastic address)
  std::string network;          ///< the OVF network, "" for the default
  bool operator==(const Address &) const = default;
};

/// A service template: which VM class, how many instances, what it depends on.
struct BusinessSystemElement {
  std::string name;
  std::string vmClass;
  int minInstances = 1;
  int maxInstances = 1;
  int instances = 1;                  ///< how many to start with (min <= instances <= max)
  std::vector<std::string> dependsOn; ///< element names that start before this one
  std::vector<Volume> volumes;
  std::vector<Address> addresses;
  bool operator==(const BusinessSystemElement &) const = default;
};

/// A config-file template with its destination path; the text uses the template syntax of
/// LANGUAGE.md ("Templates") and is rendered by procedures.
struct ConfigTemplate {
  std::string name;
  std::string element; ///< the element whose instances get the file ("" = system-wide)
  std::string path;    ///< absolute destination path on the VM
  std::string mode = "0644";
  std::string text;
  bool operator==(const ConfigTemplate &) const = default;
};

/// A business system: its elements, VM classes, templates and properties.
struct BusinessSystem {
  std::string id; ///< stable id shared between managers ("" until stored or given in the OVF)
  std::string name;
  std::string description;
  std::vector<BusinessSystemElement> elements;
  std::vector<VMClass> vmClasses;
  std::vector<ConfigTemplate> templates;
  std::vector<Property> properties; ///< the system-level ProductSection properties

  const BusinessSystemElement *element(std::string_view name) const;
  const VMClass *vmClass(std::string_view name) const;
  const ConfigTemplate *configTemplate(std::string_view name) const;
  /// A system property by id (`class.key.instance` without empty parts), or null.
  const Property *property(std::string_view id) const;
  bool operator==(const BusinessSystem &) const = default;
};

/// A running VM.
struct VMInstance {
  std::string id; ///< the cloud's instance id, e.g. i-0123abcd
  std::string vmClass;
  std::string cloud;
  std::string state = "pending"; ///< pending, running, stopping, stopped, terminated
  std::string privateAddress;
  std::string publicAddress;
  std::vector<std::string> volumes; ///< ids of the attached volumes
  bool operator==(const VMInstance &) const = default;
};

/// A running service: one instance of an element, on one VM.
struct BusinessSystemElementInstance {
  std::string element;
  int index = 0;                 ///< 0-based, unique per element
  std::string vmInstance;        ///< VMInstance::id, "" until the VM exists
  std::string state = "pending"; ///< pending, starting, running, stopping, stopped, failed
  bool operator==(const BusinessSystemElementInstance &) const = default;
};

/// A short human-readable dump (for `cfmc ovf show`).
std::string describe(const BusinessSystem &sys);

} // namespace cfm::model
