// ec2_xml.h — the EC2 Query API's XML replies (API version 2016-11-15) as C++ values: what the
// EC2 driver reads from any EC2-compatible cloud (AWS, Eucalyptus, cfm-cloud) and what cfm-cloud
// writes (the writers below; reading what they write gives the same values back). One reader per reply shape
// the procedure API needs; every reader also recognises the error document
// (`<Response><Errors><Error><Code>`) and returns it as an ApiError.
//
// Readers are lenient where real clouds differ (an element may be missing or empty, the
// namespace may vary, Eucalyptus's TerminateInstances says `shutdownState` for `currentState`)
// and strict where a wrong value would mislead (a number that is not one, a reply of another
// action, a document that is not XML).
#pragma once

#include "base/result.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cfm::net::ec2 {

/// An error the cloud returned: `code` as EC2 spells it (`InvalidInstanceID.NotFound`).
struct ApiError {
  std::string code, message, requestId;
};

struct Tag {
  std::string key, value;
  bool operator==(const Tag &) const = default;
};

/// The EC2 instance state: its code (0 pending, 16 running, 32 shutting-down, 48 terminated,
/// 64 stopping, 80 stopped) and name.
struct InstanceState {
  int code = -1;
  std::string name;
  bool operator==(const InstanceState &) const = default;
};

struct BlockDevice {
  std::string deviceName, volumeId, status;
  bool operator==(const BlockDevice &) const = default;
};

struct Instance {
  std::string instanceId, imageId, instanceType, reservationId;
  InstanceState state;
  std::string privateIpAddress, ipAddress, privateDnsName, dnsName;
  std::string availabilityZone, launchTime, clientToken, keyName;
  std::string reason; // the state transition's reason, as text (`<reason>`)
  std::string stateReasonCode, stateReasonMessage;
  int amiLaunchIndex = 0;
  std::vector<BlockDevice> blockDevices;
  std::vector<Tag> tags;
  bool operator==(const Instance &) const = default;
};

/// What Start/Stop/TerminateInstances report per instance.
struct StateChange {
  std::string instanceId;
  InstanceState current, previous;
  bool operator==(const StateChange &) const = default;
};

struct VolumeAttachment {
  std::string volumeId, instanceId, device, status, attachTime;
  bool deleteOnTermination = false;
  bool operator==(const VolumeAttachment &) const = default;
};

struct Volume {
  std::string volumeId, snapshotId, availabilityZone, status, createTime, volumeType;
  int64_t sizeGiB = 0;
  std::vector<VolumeAttachment> attachments;
  std::vector<Tag> tags;
  bool operator==(const Volume &) const = default;
};

struct Address {
  std::string publicIp, allocationId, domain, instanceId, associationId, privateIpAddress;
  bool operator==(const Address &) const = default;
};

/// A reply: the value, or the error document the cloud sent. A reply that is neither (not XML,
/// another action's reply, a malformed number) is an Error of the Result around it.
template <typename T> struct Reply {
  std::optional<ApiError> error; // set: the cloud refused the request
  T value{};
  std::string requestId;
  std::string nextToken; // Describe*: more pages follow when not empty
};

/// The error document alone: nullopt when `xml` is not one.
std::optional<ApiError> readError(std::string_view xml);

/// RunInstances (one reservation) and DescribeInstances (all reservations), instances in order.
Result<Reply<std::vector<Instance>>> readInstances(std::string_view xml);
/// StartInstances, StopInstances, TerminateInstances.
Result<Reply<std::vector<StateChange>>> readStateChanges(std::string_view xml);
/// CreateVolume (the root is the volume) and DescribeVolumes.
Result<Reply<std::vector<Volume>>> readVolumes(std::string_view xml);
/// AttachVolume and DetachVolume.
Result<Reply<VolumeAttachment>> readAttachment(std::string_view xml);
/// AllocateAddress (the root is the address) and DescribeAddresses.
Result<Reply<std::vector<Address>>> readAddresses(std::string_view xml);
/// AssociateAddress: the association id (empty for EC2-Classic addresses).
Result<Reply<std::string>> readAssociation(std::string_view xml);
/// Replies that say only `<return>true</return>`: CreateTags, DeleteTags, DeleteVolume,
/// DisassociateAddress, ReleaseAddress, RebootInstances.
Result<Reply<bool>> readReturn(std::string_view xml);

// ---- writing (cfm-cloud): the same shapes, element names as botocore's EC2 model gives them ----

/// The namespace of every reply of API version 2016-11-15.
inline constexpr std::string_view kXmlns = "http://ec2.amazonaws.com/doc/2016-11-15/";

/// The error document (HTTP status chosen by the caller): `<Response><Errors><Error>...`.
std::string writeError(const ApiError &e);
/// RunInstancesResponse: one reservation (its id and owner) with its instances.
std::string writeRunInstances(std::string_view requestId, std::string_view reservationId,
                              std::string_view ownerId, const std::vector<Instance> &instances);
/// DescribeInstancesResponse: instances grouped by their reservationId, in order of first
/// appearance; `nextToken` when more pages follow.
std::string writeDescribeInstances(std::string_view requestId, std::string_view ownerId,
                                   const std::vector<Instance> &instances, std::string_view nextToken = {});
/// Start/Stop/TerminateInstancesResponse (`action` is "StartInstances" ...).
std::string writeStateChanges(std::string_view action, std::string_view requestId,
                              const std::vector<StateChange> &changes);
std::string writeCreateVolume(std::string_view requestId, const Volume &v);
std::string writeDescribeVolumes(std::string_view requestId, const std::vector<Volume> &vs,
                                 std::string_view nextToken = {});
/// Attach/DetachVolumeResponse (`action` is "AttachVolume" or "DetachVolume").
std::string writeAttachment(std::string_view action, std::string_view requestId, const VolumeAttachment &a);
std::string writeAllocateAddress(std::string_view requestId, const Address &a);
std::string writeDescribeAddresses(std::string_view requestId, const std::vector<Address> &as);
std::string writeAssociateAddress(std::string_view requestId, std::string_view associationId);
/// `<ActionResponse><requestId/><return>true</return>` (CreateTags, DeleteVolume ...).
std::string writeReturn(std::string_view action, std::string_view requestId, bool value = true);

} // namespace cfm::net::ec2
