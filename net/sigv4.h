// sigv4.h — AWS Signature Version 4 (algorithm AWS4-HMAC-SHA256), both directions: the EC2 driver
// SIGNS its requests (an Authorization header, or a presigned query string), cfm-cloud VERIFIES
// every request it is sent (either form) and answers a refusal with the EC2 error the failure
// names (ec2_errors.def: AuthFailure, SignatureDoesNotMatch, RequestExpired, IncompleteSignature,
// MissingAuthenticationToken).
//
// The steps (AWS General Reference, "Signature Version 4 signing process"; the suites in
// ../shared/testdata/sigv4 fix every detail):
//   1. canonical request = method \n canonical path \n canonical query \n canonical headers \n
//      signed headers \n hex(SHA-256(body));
//   2. string to sign = "AWS4-HMAC-SHA256" \n X-Amz-Date \n scope \n hex(SHA-256(canonical request)),
//      scope = YYYYMMDD/region/service/aws4_request;
//   3. signing key = HMAC chain over "AWS4"+secret, YYYYMMDD, region, service, "aws4_request";
//   4. signature = hex(HMAC(signing key, string to sign)).
// The path rules are those of every service but S3 (EC2's): the path as sent is normalised (empty
// and `.` segments dropped, `..` applied) and then URI-encoded once more, so `%20` on the wire is
// `%2520` in the canonical path (AWS calls this double encoding; S3 alone skips both steps).
//
// Nothing here throws, prints or keeps state; the secret lookup is the caller's callback.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "net/ec2_error.h"
#include "net/query.h"

namespace cfm::net {

constexpr std::string_view kSigV4Algorithm = "AWS4-HMAC-SHA256";
/// How far a header-signed request's X-Amz-Date may be from the server's clock, either way, and
/// how far in the future a presigned one may start: 15 minutes, as AWS allows.
constexpr int64_t kSigV4ClockSkewSeconds = 15 * 60;
/// The longest X-Amz-Expires of a presigned request: 7 days, as AWS allows.
constexpr int64_t kSigV4MaxExpiresSeconds = 7 * 24 * 60 * 60;
/// The most headers a verified request may sign (real clients sign 2 to 6).
constexpr size_t kSigV4MaxSignedHeaders = 64;

/// One header as sent: the name in any case, the value untrimmed (a folded header keeps its line
/// breaks; canonicalisation folds them).
struct Header {
  std::string name;
  std::string value;
};

/// An HTTP request as the signer and the verifier see it.
struct HttpRequest {
  std::string method;          // "GET", "POST"
  std::string path;            // as on the wire, before any `?` ("/", "/example%20space/")
  std::string query;           // as on the wire, after the `?` (without it); empty when none
  std::vector<Header> headers; // in order; a name may repeat
  std::string body;

  /// Sets path and query from a request target ("/path?query").
  void setTarget(std::string_view target);
  /// The values of the headers named `name` (any case), in order.
  std::vector<std::string_view> headerValues(std::string_view name) const;
};

struct Credentials {
  std::string accessKeyId;
  std::string secretAccessKey;
  std::string sessionToken; // empty: none
};

struct SigningOptions {
  std::string region;  // "us-east-1", or the cloud's region name
  std::string service; // "ec2"
  int64_t time = 0;    // the signing time, seconds since the epoch (UTC)
  bool normalizePath = true;
  /// Adds and signs `x-amz-content-sha256` (header signing only).
  bool signBody = false;
  /// false: X-Amz-Security-Token is added after the signature and so not signed (the STS
  /// "header after" form some services want).
  bool signSessionToken = true;
  /// X-Amz-Expires of a presigned request, 1 to kSigV4MaxExpiresSeconds.
  int64_t expiresSeconds = 3600;
};

/// What a signature was computed from: the suites compare each, and a SignatureDoesNotMatch
/// message quotes the canonical request as AWS does.
struct SignatureParts {
  std::string canonicalRequest;
  std::string stringToSign;
  std::string credentialScope; // "20150830/us-east-1/ec2/aws4_request"
  std::string signedHeaders;   // "host;x-amz-date"
  std::string signature;       // 64 lower-case hex digits
};

/// A request signed with an Authorization header.
struct HeaderSignature {
  SignatureParts parts;
  /// The headers to add to the request, in this order: X-Amz-Security-Token (when there is a
  /// token and the request has none), X-Amz-Date (unless the request has one), x-amz-content-sha256
  /// (signBody), Authorization.
  std::vector<Header> headersToAdd;
};

/// A presigned request: the parameters travel in the query string.
struct QuerySignature {
  SignatureParts parts;
  /// The parameters to append, in this order: X-Amz-Algorithm, X-Amz-Credential, X-Amz-Date,
  /// X-Amz-SignedHeaders, X-Amz-Expires, X-Amz-Security-Token (when there is a token),
  /// X-Amz-Signature.
  Params paramsToAdd;
  /// The request's query string with them appended, encoded (what goes after the `?`).
  std::string query;
};

/// Signs `request` with an Authorization header. Every header of the request is signed except
/// Authorization; a request that already carries X-Amz-Date or X-Amz-Security-Token keeps it
/// (signed as it is; its X-Amz-Date must then be `options.time`).
HeaderSignature signWithHeaders(const HttpRequest &request, const Credentials &credentials,
                                const SigningOptions &options);

/// Presigns `request`: every header of the request is signed (Authorization excepted), the
/// payload hash is that of the body.
QuerySignature presign(const HttpRequest &request, const Credentials &credentials,
                       const SigningOptions &options);

struct VerifyOptions {
  std::string region;  // the credential scope must name this region...
  std::string service; // ...and this service ("ec2")
  int64_t now = 0;     // the server's clock, seconds since the epoch
  bool normalizePath = true;
  /// The secret access key of an access key id, or nullopt when the key is unknown.
  std::function<std::optional<std::string>(std::string_view accessKeyId)> secretFor;
};

/// Who signed a request that verified.
struct VerifiedRequest {
  std::string accessKeyId;
  std::string sessionToken; // as sent (X-Amz-Security-Token), empty when none; the caller judges it
  int64_t signedAt = 0;     // X-Amz-Date
  bool presigned = false;
};

/// Verifies the signature of `request` (an Authorization header or a presigned query string).
/// The failures, in the order they are checked:
///   MissingAuthenticationToken — neither form is present;
///   IncompleteSignature — both forms, or a malformed or partial one: an algorithm other than
///     AWS4-HMAC-SHA256, a missing or repeated Credential / SignedHeaders / Signature (or
///     X-Amz-* parameter), a credential not of the form KEY/YYYYMMDD/REGION/SERVICE/aws4_request,
///     X-Amz-Date missing or not YYYYMMDDTHHMMSSZ, signed headers unsorted, over
///     kSigV4MaxSignedHeaders, without `host` (or, in the header form, `x-amz-date`) or naming a
///     header the request lacks, X-Amz-Expires not 1 to kSigV4MaxExpiresSeconds;
///   SignatureDoesNotMatch — the credential's date, region, service or terminator is not this
///     request's (AWS answers so);
///   AuthFailure — the access key is unknown;
///   RequestExpired — X-Amz-Date further than kSigV4ClockSkewSeconds from `now` (header form),
///     or a presigned request not yet valid or past X-Amz-Expires;
///   SignatureDoesNotMatch — the recomputed signature differs (compared in constant time).
Ec2Result<VerifiedRequest> verify(const HttpRequest &request, const VerifyOptions &options);

// --- the pieces, exposed for the driver, the server and the tests --------------------------------

/// hex(SHA-256(data)), lower case.
std::string sha256Hex(std::string_view data);
/// The signing key of step 3.
std::array<unsigned char, 32> deriveSigningKey(std::string_view secretAccessKey, std::string_view date8,
                                               std::string_view region, std::string_view service);
/// "20150830T123600Z" for 2015-08-30 12:36:00 UTC.
std::string formatAmzDate(int64_t time);
/// The inverse of formatAmzDate; nullopt unless `text` is exactly YYYYMMDDTHHMMSSZ with a valid
/// date and time.
std::optional<int64_t> parseAmzDate(std::string_view text);
/// The canonical path of step 1 (see the file comment).
std::string canonicalPath(std::string_view path, bool normalize);
/// The canonical query of step 1 from the query as sent: each pair percent-decoded and encoded
/// again (uriEncode), sorted by name then value. Pairs named `skipName` are left out (the
/// verifier leaves out X-Amz-Signature).
std::string canonicalQuery(std::string_view query, std::string_view skipName = {});
/// A header value as canonical headers write it: trimmed, each run of white space (line breaks
/// of folded headers included) one space.
std::string canonicalHeaderValue(std::string_view value);

} // namespace cfm::net
