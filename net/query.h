// query.h — the EC2 Query protocol's parameters (version 2016-11-15): the form decoder cfm-cloud
// runs on every request body and query string, the encoder the EC2 driver writes requests with,
// and the readers of EC2's flattened lists (`InstanceId.1`, `Filter.1.Value.2`,
// `TagSpecification.1.Tag.2.Key`) into structures, and their writers.
//
// Everything here is bounded by the named limits below and never throws: hostile input (ten
// thousand parameters, a megabyte of `%`, invalid UTF-8) is an Ec2Failure, never a crash or a
// quadratic walk.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "net/ec2_error.h"

namespace cfm::net {

/// The largest body (or query string) decodeForm reads: 1 MiB. A real EC2 request is a few KiB;
/// the largest legitimate value, RunInstances' UserData, is at most 16 KiB before base64.
constexpr size_t kMaxQueryBytes = size_t(1) << 20;
/// The most parameters one request may carry. DescribeInstances accepts up to 1,000
/// `InstanceId.N`; with Action, Version, filters and paging that needs a little more than 1,000,
/// so the limit is twice that.
constexpr size_t kMaxQueryParameters = 2000;
/// The longest parameter name (after decoding). EC2's longest names are under 100 bytes.
constexpr size_t kMaxParameterNameBytes = 256;
/// The largest N in `Name.N` (1-based, decimal, no leading zero). Indexes need not be
/// consecutive; they give the order.
constexpr uint32_t kMaxListIndex = 100000;

/// One name=value pair, decoded.
struct Param {
  std::string name;
  std::string value;
  bool operator==(const Param &) const = default;
};
using Params = std::vector<Param>;

/// RFC 3986 percent-encoding as SigV4 and botocore write it: the unreserved characters
/// (A-Z a-z 0-9 - . _ ~) stay, every other byte becomes %XX with upper-case hex (a space is %20,
/// never `+`). With `keepSlash`, `/` stays too (paths).
std::string uriEncode(std::string_view s, bool keepSlash = false);

/// Calls `fn(piece)` for each piece of `text` between `sep`s, empty ones included ("a//b" by `/`
/// is "a", "", "b"); stops when `fn` returns false.
void forEachPiece(std::string_view text, char sep, const std::function<bool(std::string_view)> &fn);

/// Calls `fn(name, value)` with the raw (still encoded) halves of each non-empty `&`-separated
/// piece of `text`, split at the first `=` (no `=`: an empty value); stops when `fn` returns false.
void forEachRawPair(std::string_view text, const std::function<bool(std::string_view, std::string_view)> &fn);

/// Percent-decoding as SigV4's canonical query needs it: each well-formed `%XX` becomes its byte;
/// `+` and a stray `%` stay as they are (the signature covers the bytes as sent).
std::string uriDecodeLenient(std::string_view s);

/// Decodes application/x-www-form-urlencoded text (an EC2 Query body or a query string): pairs
/// separated by `&`, name and value split at the first `=` (no `=`: an empty value), `+` is a
/// space, `%XX` a byte; empty pieces (`a=1&&b=2`) are skipped; repeated names are all kept, in
/// order. Fails with MalformedQueryString when the text is over kMaxQueryBytes, has more than
/// kMaxQueryParameters pairs, a `%` not followed by two hex digits, a decoded name over
/// kMaxParameterNameBytes or empty, or a decoded name or value that is not UTF-8.
Ec2Result<Params> decodeForm(std::string_view text);

/// Encodes pairs in their order: `name=value` joined by `&`, both uriEncode'd.
std::string encodeForm(const Params &params);

/// Whether `s` is well-formed UTF-8 (RFC 3629: no overlong forms, surrogates or values past
/// U+10FFFF).
bool isValidUtf8(std::string_view s);

struct Ec2Filter {
  std::string name;
  std::vector<std::string> values;
  bool operator==(const Ec2Filter &) const = default;
};
struct Ec2Tag {
  std::string key;
  std::string value;
  bool operator==(const Ec2Tag &) const = default;
};
struct Ec2TagSpecification {
  std::string resourceType;
  std::vector<Ec2Tag> tags;
  bool operator==(const Ec2TagSpecification &) const = default;
};

/// The parameters of one EC2 request by name, with readers for EC2's flattened lists. Built from
/// decodeForm's pairs; a name given twice is refused (InvalidParameterValue), since EC2 gives it
/// no meaning. The readers fail with InvalidParameterValue on a bad index (`Filter.0.Name`,
/// `InstanceId.01`, `InstanceId.x`), UnknownParameter on a member the shape does not have
/// (`Filter.1.Nmae`) and MissingParameter on a required member that is absent (a tag's Key).
class Ec2Params {
public:
  static Ec2Result<Ec2Params> from(Params params);

  /// The value of `name`, or null.
  const std::string *find(std::string_view name) const;
  /// The value of `name`, or MissingParameter.
  Ec2Result<std::string> required(std::string_view name) const;

  /// `prefix.1`, `prefix.2`, ... in index order (InstanceId.N, ResourceId.N, ...).
  Ec2Result<std::vector<std::string>> list(std::string_view prefix) const;
  /// `prefix.N.Name` and `prefix.N.Value.M` (DescribeInstances' Filter.N); Name is required.
  Ec2Result<std::vector<Ec2Filter>> filters(std::string_view prefix = "Filter") const;
  /// `prefix.N.Key` (required) and `prefix.N.Value` (default empty), as CreateTags' Tag.N.
  Ec2Result<std::vector<Ec2Tag>> tags(std::string_view prefix = "Tag") const;
  /// `prefix.N.ResourceType` (required) and `prefix.N.Tag.M.Key/Value` (RunInstances,
  /// CreateVolume).
  Ec2Result<std::vector<Ec2TagSpecification>>
  tagSpecifications(std::string_view prefix = "TagSpecification") const;

  /// Every parameter, by name.
  const std::map<std::string, std::string, std::less<>> &all() const { return byName_; }

private:
  std::map<std::string, std::string, std::less<>> byName_;
};

/// Writers for the driver, the inverse of the readers above (indexes from 1).
void appendList(Params &out, std::string_view prefix, const std::vector<std::string> &values);
void appendFilters(Params &out, const std::vector<Ec2Filter> &filters, std::string_view prefix = "Filter");
void appendTags(Params &out, const std::vector<Ec2Tag> &tags, std::string_view prefix = "Tag");
void appendTagSpecifications(Params &out, const std::vector<Ec2TagSpecification> &specs,
                             std::string_view prefix = "TagSpecification");

} // namespace cfm::net
