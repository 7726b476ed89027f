// sigv4.cpp — AWS Signature Version 4, signing and verifying (see sigv4.h for the steps and the
// errors). SHA-256 and HMAC come from OpenSSL's libcrypto.
#include "net/sigv4.h"

#include "base/hex.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <ctime>
#include <utility>

namespace cfm::net {

namespace {

constexpr std::string_view kTerminator = "aws4_request";
std::array<unsigned char, 32> hmacSha256(const unsigned char *key, size_t keyLen, std::string_view data) {
  std::array<unsigned char, 32> out{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), key, int(keyLen), reinterpret_cast<const unsigned char *>(data.data()), data.size(),
       out.data(), &len);
  return out;
}

char asciiLower(char c) { return c >= 'A' && c <= 'Z' ? char(c - 'A' + 'a') : c; }

std::string lowerAscii(std::string_view s) {
  std::string out(s);
  for (char &c : out) c = asciiLower(c);
  return out;
}

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (asciiLower(a[i]) != asciiLower(b[i])) return false;
  return true;
}

bool isSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && isSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && isSpace(s.back())) s.remove_suffix(1);
  return s;
}

/// `name:value\n` for each of `names` (lower case, sorted), the request's values of that header
/// joined by commas.
std::string canonicalHeaders(const HttpRequest &request, const std::vector<std::string> &names) {
  std::string out;
  for (const std::string &name : names) {
    out += name;
    out += ':';
    bool first = true;
    for (std::string_view v : request.headerValues(name)) {
      if (!first) out += ',';
      out += canonicalHeaderValue(v);
      first = false;
    }
    out += '\n';
  }
  return out;
}

std::string joinNames(const std::vector<std::string> &names) {
  std::string out;
  for (const std::string &n : names) {
    if (!out.empty()) out += ';';
    out += n;
  }
  return out;
}

/// Steps 1, 2 and 4 from the pieces the signer and the verifier both have.
SignatureParts computeSignature(const HttpRequest &request, const std::string &canonicalQueryString,
                                const std::vector<std::string> &signedNames, std::string_view amzDate,
                                std::string_view secret, std::string_view region, std::string_view service,
                                bool normalizePath) {
  SignatureParts parts;
  parts.signedHeaders = joinNames(signedNames);
  parts.canonicalRequest = request.method + "\n" + canonicalPath(request.path, normalizePath) + "\n" +
                           canonicalQueryString + "\n" + canonicalHeaders(request, signedNames) + "\n" +
                           parts.signedHeaders + "\n" + sha256Hex(request.body);
  std::string_view date8 = amzDate.substr(0, 8);
  parts.credentialScope = std::string(date8) + "/" + std::string(region) + "/" + std::string(service) + "/" +
                          std::string(kTerminator);
  parts.stringToSign = std::string(kSigV4Algorithm) + "\n" + std::string(amzDate) + "\n" +
                       parts.credentialScope + "\n" + sha256Hex(parts.canonicalRequest);
  auto key = deriveSigningKey(secret, date8, region, service);
  auto sig = hmacSha256(key.data(), key.size(), parts.stringToSign);
  parts.signature = base::hexLower(sig.data(), sig.size());
  return parts;
}

/// The lower-case names of the request's headers plus `extra`, sorted, without duplicates or
/// Authorization.
std::vector<std::string> namesToSign(const HttpRequest &request, const std::vector<Header> &extra) {
  std::vector<std::string> names;
  for (const Header &h : request.headers) names.push_back(lowerAscii(h.name));
  for (const Header &h : extra) names.push_back(lowerAscii(h.name));
  std::sort(names.begin(), names.end());
  names.erase(std::unique(names.begin(), names.end()), names.end());
  std::erase(names, "authorization");
  return names;
}

Ec2Failure incomplete(std::string message) {
  return ec2Fail(Ec2Error::IncompleteSignature, std::move(message));
}
Ec2Failure mismatch(std::string message) {
  return ec2Fail(Ec2Error::SignatureDoesNotMatch, std::move(message));
}

/// What a request's signature claims, from either form.
struct Claim {
  std::string credential;    // KEY/YYYYMMDD/REGION/SERVICE/aws4_request
  std::string signedHeaders; // "host;x-amz-date"
  std::string signature;
  std::string amzDate;
  std::string sessionToken;
  std::optional<std::string> expires; // presigned only
  bool presigned = false;
};

/// The Authorization header's `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`.
Ec2Result<Claim> parseAuthorization(std::string_view value) {
  value = trim(value);
  size_t space = value.find(' ');
  std::string_view algorithm = value.substr(0, space);
  if (algorithm != kSigV4Algorithm)
    return incomplete("unsupported signature algorithm `" + std::string(algorithm) + "` (only " +
                      std::string(kSigV4Algorithm) + ")");
  Claim claim;
  bool seen[3] = {false, false, false};
  std::string_view rest = space == std::string_view::npos ? std::string_view() : value.substr(space + 1);
  while (!trim(rest).empty()) {
    size_t comma = rest.find(',');
    std::string_view item = trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    size_t eq = item.find('=');
    if (eq == std::string_view::npos)
      return incomplete("authorization header component `" + std::string(item) + "` has no `=`");
    std::string_view key = item.substr(0, eq), val = item.substr(eq + 1);
    int slot = key == "Credential" ? 0 : key == "SignedHeaders" ? 1 : key == "Signature" ? 2 : -1;
    if (slot < 0) return incomplete("unknown authorization header component `" + std::string(key) + "`");
    if (seen[slot])
      return incomplete("authorization header component `" + std::string(key) + "` is repeated");
    seen[slot] = true;
    (slot == 0 ? claim.credential : slot == 1 ? claim.signedHeaders : claim.signature) = std::string(val);
  }
  static constexpr std::string_view kNames[3] = {"Credential", "SignedHeaders", "Signature"};
  for (int i = 0; i < 3; ++i)
    if (!seen[i])
      return incomplete("authorization header requires a `" + std::string(kNames[i]) + "` component");
  return claim;
}

/// The X-Amz-* parameters of a presigned query string.
Ec2Result<Claim> parsePresigned(const std::vector<std::pair<std::string, std::string>> &pairs) {
  static constexpr std::string_view kNames[] = {"X-Amz-Algorithm",     "X-Amz-Credential", "X-Amz-Date",
                                                "X-Amz-SignedHeaders", "X-Amz-Signature",  "X-Amz-Expires",
                                                "X-Amz-Security-Token"};
  std::optional<std::string> found[7];
  for (const auto &[name, value] : pairs)
    for (int i = 0; i < 7; ++i)
      if (name == kNames[i]) {
        if (found[i]) return incomplete("query parameter `" + name + "` is repeated");
        found[i] = value;
      }
  for (int i = 0; i < 6; ++i)
    if (!found[i])
      return incomplete("a presigned request requires the query parameter `" + std::string(kNames[i]) + "`");
  if (*found[0] != kSigV4Algorithm)
    return incomplete("unsupported signature algorithm `" + *found[0] + "` (only " +
                      std::string(kSigV4Algorithm) + ")");
  Claim claim;
  claim.credential = *found[1];
  claim.amzDate = *found[2];
  claim.signedHeaders = *found[3];
  claim.signature = *found[4];
  claim.expires = *found[5];
  if (found[6]) claim.sessionToken = *found[6];
  claim.presigned = true;
  return claim;
}

/// The query's pairs, percent-decoded as the canonical query reads them.
std::vector<std::pair<std::string, std::string>> queryPairs(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  forEachRawPair(query, [&](std::string_view name, std::string_view value) {
    out.emplace_back(uriDecodeLenient(name), uriDecodeLenient(value));
    return true;
  });
  return out;
}

bool isLowerHex64(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

} // namespace

// --- the pieces ---------------------------------------------------------------------------------

void HttpRequest::setTarget(std::string_view target) {
  size_t q = target.find('?');
  path = std::string(target.substr(0, q));
  query = q == std::string_view::npos ? std::string() : std::string(target.substr(q + 1));
}

std::vector<std::string_view> HttpRequest::headerValues(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const Header &h : headers)
    if (equalsIgnoreCase(h.name, name)) out.push_back(h.value);
  return out;
}

std::string sha256Hex(std::string_view data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char *>(data.data()), data.size(), digest);
  return base::hexLower(digest, sizeof digest);
}

std::array<unsigned char, 32> deriveSigningKey(std::string_view secretAccessKey, std::string_view date8,
                                               std::string_view region, std::string_view service) {
  std::string first = "AWS4" + std::string(secretAccessKey);
  auto k = hmacSha256(reinterpret_cast<const unsigned char *>(first.data()), first.size(), date8);
  k = hmacSha256(k.data(), k.size(), region);
  k = hmacSha256(k.data(), k.size(), service);
  k = hmacSha256(k.data(), k.size(), kTerminator);
  OPENSSL_cleanse(first.data(), first.size());
  return k;
}

std::string formatAmzDate(int64_t time) {
  std::time_t t = static_cast<std::time_t>(time);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::optional<int64_t> parseAmzDate(std::string_view text) {
  if (text.size() != 16 || text[8] != 'T' || text[15] != 'Z') return std::nullopt;
  auto number = [&](size_t from, size_t len) -> int {
    int v = 0;
    for (size_t i = from; i < from + len; ++i) {
      if (text[i] < '0' || text[i] > '9') return -1;
      v = v * 10 + (text[i] - '0');
    }
    return v;
  };
  int year = number(0, 4), month = number(4, 2), day = number(6, 2);
  int hour = number(9, 2), minute = number(11, 2), second = number(13, 2);
  if (year < 1970 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 ||
      minute > 59 || second < 0 || second > 59)
    return std::nullopt;
  static constexpr int kDays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (day > kDays[month - 1] + (month == 2 && leap ? 1 : 0)) return std::nullopt;
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  return int64_t(timegm(&tm));
}

std::string canonicalPath(std::string_view path, bool normalize) {
  if (path.empty()) return "/";
  if (!normalize) return uriEncode(path, /*keepSlash=*/true);
  // RFC 3986's remove_dot_segments, with empty segments dropped too (`//a//` is `/a/`); a path
  // ending in `/`, `/.` or `/..` keeps a trailing slash.
  std::vector<std::string_view> segments;
  bool trailingSlash = false;
  forEachPiece(path.front() == '/' ? path.substr(1) : path, '/', [&](std::string_view seg) {
    trailingSlash = seg.empty() || seg == "." || seg == "..";
    if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else if (!trailingSlash) {
      segments.push_back(seg);
    }
    return true;
  });
  std::string out;
  for (std::string_view seg : segments) {
    out += '/';
    out += uriEncode(seg);
  }
  if (out.empty() || trailingSlash) out += '/';
  return out;
}

std::string canonicalQuery(std::string_view query, std::string_view skipName) {
  std::vector<std::pair<std::string, std::string>> encoded;
  for (auto &[name, value] : queryPairs(query)) {
    if (!skipName.empty() && name == skipName) continue;
    encoded.emplace_back(uriEncode(name), uriEncode(value));
  }
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto &[name, value] : encoded) {
    if (!out.empty()) out += '&';
    out += name;
    out += '=';
    out += value;
  }
  return out;
}

std::string canonicalHeaderValue(std::string_view value) {
  value = trim(value);
  std::string out;
  out.reserve(value.size());
  bool inSpace = false;
  for (char c : value) {
    if (isSpace(c)) {
      inSpace = true;
      continue;
    }
    if (inSpace) out += ' ';
    inSpace = false;
    out += c;
  }
  return out;
}

// --- signing ------------------------------------------------------------------------------------

HeaderSignature signWithHeaders(const HttpRequest &request, const Credentials &credentials,
                                const SigningOptions &options) {
  HeaderSignature result;
  std::string amzDate = formatAmzDate(options.time);
  std::vector<Header> signedExtra; // added before signing
  bool hasToken = !request.headerValues("X-Amz-Security-Token").empty();
  if (!credentials.sessionToken.empty() && !hasToken && options.signSessionToken)
    signedExtra.push_back(Header{"X-Amz-Security-Token", credentials.sessionToken});
  if (request.headerValues("X-Amz-Date").empty()) signedExtra.push_back(Header{"X-Amz-Date", amzDate});
  if (options.signBody) signedExtra.push_back(Header{"x-amz-content-sha256", sha256Hex(request.body)});

  HttpRequest withExtra = request;
  withExtra.headers.insert(withExtra.headers.end(), signedExtra.begin(), signedExtra.end());
  result.parts =
      computeSignature(withExtra, canonicalQuery(request.query), namesToSign(request, signedExtra), amzDate,
                       credentials.secretAccessKey, options.region, options.service, options.normalizePath);

  if (!credentials.sessionToken.empty() && !hasToken && !options.signSessionToken)
    result.headersToAdd.push_back(Header{"X-Amz-Security-Token", credentials.sessionToken});
  result.headersToAdd.insert(result.headersToAdd.end(), signedExtra.begin(), signedExtra.end());
  result.headersToAdd.push_back(Header{
      "Authorization", std::string(kSigV4Algorithm) + " Credential=" + credentials.accessKeyId + "/" +
                           result.parts.credentialScope + ", SignedHeaders=" + result.parts.signedHeaders +
                           ", Signature=" + result.parts.signature});
  return result;
}

QuerySignature presign(const HttpRequest &request, const Credentials &credentials,
                       const SigningOptions &options) {
  QuerySignature result;
  std::string amzDate = formatAmzDate(options.time);
  std::vector<std::string> names = namesToSign(request, {});
  std::string scope =
      amzDate.substr(0, 8) + "/" + options.region + "/" + options.service + "/" + std::string(kTerminator);
  Params &add = result.paramsToAdd;
  add.push_back(Param{"X-Amz-Algorithm", std::string(kSigV4Algorithm)});
  add.push_back(Param{"X-Amz-Credential", credentials.accessKeyId + "/" + scope});
  add.push_back(Param{"X-Amz-Date", amzDate});
  add.push_back(Param{"X-Amz-SignedHeaders", joinNames(names)});
  add.push_back(Param{"X-Amz-Expires", std::to_string(options.expiresSeconds)});
  bool hasToken = !credentials.sessionToken.empty();
  if (hasToken && options.signSessionToken)
    add.push_back(Param{"X-Amz-Security-Token", credentials.sessionToken});

  std::string query = request.query;
  std::string encoded = encodeForm(add);
  query += query.empty() ? encoded : "&" + encoded;
  result.parts = computeSignature(request, canonicalQuery(query), names, amzDate, credentials.secretAccessKey,
                                  options.region, options.service, options.normalizePath);
  Params tail;
  if (hasToken && !options.signSessionToken)
    tail.push_back(Param{"X-Amz-Security-Token", credentials.sessionToken});
  tail.push_back(Param{"X-Amz-Signature", result.parts.signature});
  query += "&" + encodeForm(tail);
  add.insert(add.end(), tail.begin(), tail.end());
  result.query = std::move(query);
  return result;
}

// --- verifying ----------------------------------------------------------------------------------

Ec2Result<VerifiedRequest> verify(const HttpRequest &request, const VerifyOptions &options) {
  std::vector<std::string_view> authorization = request.headerValues("Authorization");
  auto pairs = queryPairs(request.query);
  bool presigned = std::any_of(pairs.begin(), pairs.end(), [](const auto &p) {
    return p.first == "X-Amz-Signature" || p.first == "X-Amz-Algorithm" || p.first == "X-Amz-Credential";
  });
  if (authorization.empty() && !presigned)
    return ec2Fail(Ec2Error::MissingAuthenticationToken,
                   "the request carries no signature (neither an Authorization header nor X-Amz-Signature)");
  if (!authorization.empty() && presigned)
    return incomplete("the request is signed both in an Authorization header and in its query string");
  if (authorization.size() > 1) return incomplete("the request has more than one Authorization header");

  Claim claim;
  if (presigned) {
    claim = CFM_NET_TRY(parsePresigned(pairs));
  } else {
    claim = CFM_NET_TRY(parseAuthorization(authorization[0]));
    std::vector<std::string_view> dates = request.headerValues("X-Amz-Date");
    if (dates.size() != 1) return incomplete("a signed request requires exactly one `X-Amz-Date` header");
    claim.amzDate = std::string(trim(dates[0]));
    std::vector<std::string_view> tokens = request.headerValues("X-Amz-Security-Token");
    if (tokens.size() > 1) return incomplete("the request has more than one `X-Amz-Security-Token` header");
    if (!tokens.empty()) claim.sessionToken = std::string(trim(tokens[0]));
  }

  std::optional<int64_t> signedAt = parseAmzDate(claim.amzDate);
  if (!signedAt)
    return incomplete("X-Amz-Date `" + claim.amzDate + "` is not a date of the form YYYYMMDDTHHMMSSZ");

  // Credential = KEY/YYYYMMDD/REGION/SERVICE/aws4_request.
  std::vector<std::string_view> scope;
  forEachPiece(claim.credential, '/', [&](std::string_view part) {
    scope.push_back(part);
    return scope.size() <= 5;
  });
  if (scope.size() != 5 || scope[0].empty())
    return incomplete("credential `" + claim.credential +
                      "` is not of the form ACCESS_KEY/YYYYMMDD/REGION/SERVICE/aws4_request");

  // Signed headers: lower case, sorted, without repeats, `host` among them.
  std::vector<std::string> names;
  forEachPiece(claim.signedHeaders, ';', [&](std::string_view name) {
    names.emplace_back(name);
    return names.size() <= kSigV4MaxSignedHeaders;
  });
  if (names.size() > kSigV4MaxSignedHeaders)
    return incomplete("the request signs more than " + std::to_string(kSigV4MaxSignedHeaders) + " headers");
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty() || names[i] != lowerAscii(names[i]) || (i > 0 && names[i - 1] >= names[i]))
      return incomplete("signed headers `" + claim.signedHeaders +
                        "` must be lower-case names, sorted, separated by `;`");
    if (request.headerValues(names[i]).empty())
      return incomplete("signed header `" + names[i] + "` is not in the request");
  }
  if (!std::binary_search(names.begin(), names.end(), std::string("host")))
    return incomplete("signed headers must include `host`");
  if (!presigned && !std::binary_search(names.begin(), names.end(), std::string("x-amz-date")))
    return incomplete("signed headers must include `x-amz-date`");

  std::optional<int64_t> expires;
  if (claim.expires) {
    const std::string &e = *claim.expires;
    bool digits = !e.empty() && e.size() <= 7 &&
                  std::all_of(e.begin(), e.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (digits) expires = std::stoll(e);
    if (!expires || *expires < 1 || *expires > kSigV4MaxExpiresSeconds)
      return incomplete("X-Amz-Expires `" + e + "` must be a number of seconds from 1 to " +
                        std::to_string(kSigV4MaxExpiresSeconds));
  }
  if (!isLowerHex64(claim.signature)) return incomplete("the signature must be 64 lower-case hex digits");

  if (scope[1] != std::string_view(claim.amzDate).substr(0, 8))
    return mismatch("date in credential scope `" + std::string(scope[1]) + "` does not match X-Amz-Date `" +
                    claim.amzDate + "`");
  if (scope[2] != options.region)
    return mismatch("credential should be scoped to a valid region, not `" + std::string(scope[2]) + "`");
  if (scope[3] != options.service)
    return mismatch("credential should be scoped to the service `" + options.service + "`, not `" +
                    std::string(scope[3]) + "`");
  if (scope[4] != kTerminator)
    return mismatch("credential should be scoped with the terminator `aws4_request`, not `" +
                    std::string(scope[4]) + "`");

  std::optional<std::string> secret = options.secretFor ? options.secretFor(scope[0]) : std::nullopt;
  if (!secret)
    return ec2Fail(Ec2Error::AuthFailure,
                   "AWS was not able to validate the provided access credentials (unknown access key `" +
                       std::string(scope[0]) + "`)");

  if (presigned) {
    if (options.now < *signedAt - kSigV4ClockSkewSeconds)
      return ec2Fail(Ec2Error::RequestExpired, "the presigned request is not valid before " + claim.amzDate);
    if (options.now > *signedAt + *expires)
      return ec2Fail(Ec2Error::RequestExpired, "the presigned request expired " +
                                                   std::to_string(options.now - *signedAt - *expires) +
                                                   " seconds ago (X-Amz-Date " + claim.amzDate +
                                                   ", X-Amz-Expires " + *claim.expires + ")");
  } else if (options.now > *signedAt + kSigV4ClockSkewSeconds ||
             options.now < *signedAt - kSigV4ClockSkewSeconds) {
    return ec2Fail(Ec2Error::RequestExpired,
                   "request has expired: X-Amz-Date " + claim.amzDate + " is more than " +
                       std::to_string(kSigV4ClockSkewSeconds / 60) + " minutes from the server's time " +
                       formatAmzDate(options.now));
  }

  SignatureParts parts =
      computeSignature(request, canonicalQuery(request.query, presigned ? "X-Amz-Signature" : ""), names,
                       claim.amzDate, *secret, options.region, options.service, options.normalizePath);
  OPENSSL_cleanse(secret->data(), secret->size());
  if (CRYPTO_memcmp(parts.signature.data(), claim.signature.data(), parts.signature.size()) != 0)
    return mismatch("the request signature we calculated does not match the signature you provided; the "
                    "canonical request was:\n" +
                    parts.canonicalRequest);

  VerifiedRequest out;
  out.accessKeyId = std::string(scope[0]);
  out.sessionToken = std::move(claim.sessionToken);
  out.signedAt = *signedAt;
  out.presigned = presigned;
  return out;
}

} // namespace cfm::net
