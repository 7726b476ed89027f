// query_test.cpp — the EC2 Query codec (net/query.h): decoding (`+`, escapes, repeated and empty
// names and values), every rejection (bad escapes, invalid UTF-8, each limit at and past its
// value), encoding (botocore's request bodies in ../shared/testdata/ec2/botocore decode and encode
// back to the same bytes), and the readers and writers of EC2's flattened lists.
#include "net/query.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

namespace {

using namespace cfm::net;

/// The decoded pairs, or the EC2 code of the failure.
Params decoded(std::string_view text) {
  auto r = decodeForm(text);
  EXPECT_TRUE(r.ok()) << r.failure().message;
  return r.ok() ? r.value() : Params{};
}

std::string failure(std::string_view text) {
  auto r = decodeForm(text);
  return r.ok() ? "ok" : std::string(ec2ErrorCode(r.failure().code));
}

TEST(Query, Decode) {
  EXPECT_EQ(decoded("Action=RunInstances&ImageId=ami-1"),
            (Params{{"Action", "RunInstances"}, {"ImageId", "ami-1"}}));
  EXPECT_EQ(decoded("a+b=c+d%20e&plus=%2B&pct=%25"), (Params{{"a b", "c d e"}, {"plus", "+"}, {"pct", "%"}}));
  EXPECT_EQ(decoded("Empty=&NoEquals&&&x=1=2"), (Params{{"Empty", ""}, {"NoEquals", ""}, {"x", "1=2"}}));
  EXPECT_EQ(decoded("k=1&k=2&k=1"), (Params{{"k", "1"}, {"k", "2"}, {"k", "1"}})); // repeated, in order
  EXPECT_EQ(decoded("%E1%88%B4=%e1%88%b4"), (Params{{"\xE1\x88\xB4", "\xE1\x88\xB4"}}));
  EXPECT_EQ(decoded("raw=\xE1\x88\xB4"), (Params{{"raw", "\xE1\x88\xB4"}}));
  EXPECT_EQ(decoded(""), Params{});
  EXPECT_EQ(decoded("&&&"), Params{});
}

TEST(Query, MalformedEscapes) {
  for (const char *bad : {"a=%", "a=%4", "a=%zz", "a=%4g", "%G1=x", "a=1&b=%%41"})
    EXPECT_EQ(failure(bad), "MalformedQueryString") << bad;
  EXPECT_EQ(failure("=x"), "MalformedQueryString"); // empty name
  auto r = decodeForm("a=1&b=%x1");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.failure().message, "parameter 2 has a `%` not followed by two hex digits");
}

TEST(Query, InvalidUtf8) {
  for (const char *bad : {"a=%FF", "a=%C0%AF", "a=%C1%BF", "a=%E0%80%AF", "a=%ED%A0%80", "a=%F4%90%80%80",
                          "a=%F5%80%80%80", "a=%E1%88", "a=%80", "%FE=1", "a=\xC3", "a=x\xE2\x82"})
    EXPECT_EQ(failure(bad), "MalformedQueryString") << bad;
  for (const char *good : {"a=%C2%80", "a=%DF%BF", "a=%E0%A0%80", "a=%ED%9F%BF", "a=%EE%80%80",
                           "a=%F0%90%80%80", "a=%F4%8F%BF%BF", "a=%00"})
    EXPECT_EQ(failure(good), "ok") << good;
  EXPECT_TRUE(isValidUtf8("pl\xC3\xA4in \xF0\x9F\x98\x80"));
  EXPECT_FALSE(isValidUtf8("\xED\xBF\xBF"));
}

TEST(Query, LimitOnSize) {
  std::string atLimit = "a=" + std::string(kMaxQueryBytes - 2, 'x');
  EXPECT_EQ(failure(atLimit), "ok");
  EXPECT_EQ(failure(atLimit + "x"), "MalformedQueryString");
  // A megabyte of escapes decodes in one pass.
  std::string escapes = "a=";
  while (escapes.size() + 3 <= kMaxQueryBytes) escapes += "%41";
  EXPECT_EQ(decoded(escapes)[0].value.size(), (kMaxQueryBytes - 2) / 3);
}

TEST(Query, LimitOnCount) {
  auto many = [](size_t n) {
    std::string s;
    for (size_t i = 0; i < n; ++i)
      s += "InstanceId." + std::to_string(i + 1) + "=i-" + std::to_string(i) + "&";
    return s;
  };
  EXPECT_EQ(decoded(many(kMaxQueryParameters)).size(), kMaxQueryParameters);
  EXPECT_EQ(failure(many(kMaxQueryParameters + 1)), "MalformedQueryString");
  EXPECT_EQ(failure(many(10000)), "MalformedQueryString");
  // Empty pieces are not parameters.
  EXPECT_EQ(failure(many(kMaxQueryParameters) + std::string(5000, '&')), "ok");
}

TEST(Query, LimitOnNameLength) {
  EXPECT_EQ(failure(std::string(kMaxParameterNameBytes, 'n') + "=1"), "ok");
  EXPECT_EQ(failure(std::string(kMaxParameterNameBytes + 1, 'n') + "=1"), "MalformedQueryString");
}

TEST(Query, Encode) {
  EXPECT_EQ(uriEncode("AZaz09-._~"), "AZaz09-._~");
  EXPECT_EQ(uriEncode("a b+c/d=e&f%\xE1\x88\xB4"), "a%20b%2Bc%2Fd%3De%26f%25%E1%88%B4");
  EXPECT_EQ(uriEncode("/a b/", true), "/a%20b/");
  Params p{{"Action", "RunInstances"}, {"UserData", "IyEvYmluL3NoCmVjaG8gaGk="}, {"Tag", "a b&c"}};
  std::string text = encodeForm(p);
  EXPECT_EQ(text, "Action=RunInstances&UserData=IyEvYmluL3NoCmVjaG8gaGk%3D&Tag=a%20b%26c");
  EXPECT_EQ(decoded(text), p);
}

TEST(Query, BotocoreRequestBodiesRoundTrip) {
  std::filesystem::path file =
      CFM_SOURCE_DIR "/../shared/testdata/ec2/botocore/protocol-tests/input-ec2.json";
  if (!std::filesystem::exists(file))
    GTEST_SKIP()
        << "../shared/testdata/ec2/botocore is not there (shared test data beside the repository); skipped";
  std::ifstream in(file);
  std::ostringstream s;
  s << in.rdbuf();
  std::string json = s.str();
  std::regex body("\"body\": \"([^\"\\\\]*)\"");
  int bodies = 0;
  for (auto it = std::sregex_iterator(json.begin(), json.end(), body); it != std::sregex_iterator(); ++it) {
    std::string text = (*it)[1];
    SCOPED_TRACE(text);
    ++bodies;
    auto params = decodeForm(text);
    ASSERT_TRUE(params.ok()) << params.failure().message;
    EXPECT_EQ(encodeForm(params.value()), text);
    auto ec2 = Ec2Params::from(params.value());
    ASSERT_TRUE(ec2.ok()) << ec2.failure().message;
    EXPECT_TRUE(ec2->find("Action"));
  }
  EXPECT_GT(bodies, 20);
  // One of them read as a list: ListArg.1..3 (QueryLists).
  auto lists = Ec2Params::from(decoded("Action=QueryLists&Version=2020-01-08&ListArg.1=foo&ListArg.2=bar&"
                                       "ListArg.3=baz&ComplexListArg.1.Hi=hello&ComplexListArg.2.Hi=hola"));
  ASSERT_TRUE(lists.ok());
  EXPECT_EQ(lists->list("ListArg").value(), (std::vector<std::string>{"foo", "bar", "baz"}));
  EXPECT_EQ(lists->list("ComplexListArg").failure().code, Ec2Error::UnknownParameter);
}

// --- Ec2Params --------------------------------------------------------------------------------------

Ec2Params params(std::string_view text) {
  auto p = Ec2Params::from(decoded(text));
  EXPECT_TRUE(p.ok()) << p.failure().message;
  return p.ok() ? std::move(p.value()) : Ec2Params{};
}

TEST(QueryEc2, ScalarsAndDuplicates) {
  Ec2Params p = params("Action=DescribeInstances&Version=2016-11-15&MaxResults=5");
  ASSERT_TRUE(p.find("MaxResults"));
  EXPECT_EQ(*p.find("MaxResults"), "5");
  EXPECT_EQ(p.find("NextToken"), nullptr);
  EXPECT_EQ(p.required("Action").value(), "DescribeInstances");
  auto missing = p.required("ImageId");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.failure().code, Ec2Error::MissingParameter);
  EXPECT_EQ(missing.failure().message, "the request must contain the parameter `ImageId`");
  auto dup = Ec2Params::from(decoded("Action=A&Action=B"));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.failure().code, Ec2Error::InvalidParameterValue);
}

TEST(QueryEc2, Lists) {
  Ec2Params p = params("InstanceId.2=i-b&InstanceId.10=i-j&InstanceId.1=i-a&InstanceIdX.1=no&Other.1=no");
  EXPECT_EQ(p.list("InstanceId").value(), (std::vector<std::string>{"i-a", "i-b", "i-j"}));
  EXPECT_TRUE(params("Action=X").list("InstanceId").value().empty());
  for (const char *bad : {"InstanceId.0=i", "InstanceId.01=i", "InstanceId.x=i", "InstanceId.=i",
                          "InstanceId.100001=i", "InstanceId.99999999999999999999=i", "InstanceId.-1=i"}) {
    auto r = params(bad).list("InstanceId");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.failure().code, Ec2Error::InvalidParameterValue) << bad;
  }
  EXPECT_TRUE(params("InstanceId.100000=i").list("InstanceId").ok());
  auto unknown = params("InstanceId.1.Id=i").list("InstanceId");
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.failure().code, Ec2Error::UnknownParameter);
  EXPECT_EQ(unknown.failure().message, "unknown parameter `InstanceId.1.Id`");
}

TEST(QueryEc2, Filters) {
  Ec2Params p = params("Filter.1.Name=instance-state-name&Filter.1.Value.1=running&Filter.1.Value.2=pending&"
                       "Filter.2.Name=tag%3AName&Filter.2.Value.1=web%201&Filter.3.Name=tag-key");
  EXPECT_EQ(p.filters().value(),
            (std::vector<Ec2Filter>{
                {"instance-state-name", {"running", "pending"}}, {"tag:Name", {"web 1"}}, {"tag-key", {}}}));
  auto noName = params("Filter.1.Value.1=running").filters();
  ASSERT_FALSE(noName.ok());
  EXPECT_EQ(noName.failure().code, Ec2Error::MissingParameter);
  EXPECT_EQ(noName.failure().message, "the request must contain the parameter `Filter.1.Name`");
  EXPECT_EQ(params("Filter.1.Name=a&Filter.1.Nmae=b").filters().failure().code, Ec2Error::UnknownParameter);
  EXPECT_EQ(params("Filter.1.Name=a&Filter.1.Value=b").filters().failure().code, Ec2Error::UnknownParameter);
  EXPECT_EQ(params("Filter.1.Name=a&Filter.1.Value.0=b").filters().failure().code,
            Ec2Error::InvalidParameterValue);
}

TEST(QueryEc2, TagsAndTagSpecifications) {
  Ec2Params p = params("ResourceId.1=i-1&Tag.1.Key=Name&Tag.1.Value=web&Tag.2.Key=empty&"
                       "TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=Name&"
                       "TagSpecification.1.Tag.1.Value=db&TagSpecification.1.Tag.2.Key=tier&"
                       "TagSpecification.1.Tag.2.Value=2&TagSpecification.2.ResourceType=volume");
  EXPECT_EQ(p.tags().value(), (std::vector<Ec2Tag>{{"Name", "web"}, {"empty", ""}}));
  EXPECT_EQ(
      p.tagSpecifications().value(),
      (std::vector<Ec2TagSpecification>{{"instance", {{"Name", "db"}, {"tier", "2"}}}, {"volume", {}}}));
  auto noKey =
      params("TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.2.Value=x").tagSpecifications();
  ASSERT_FALSE(noKey.ok());
  EXPECT_EQ(noKey.failure().code, Ec2Error::MissingParameter);
  EXPECT_EQ(noKey.failure().message, "the request must contain the parameter `TagSpecification.1.Tag.2.Key`");
  auto noType = params("TagSpecification.3.Tag.1.Key=k").tagSpecifications();
  ASSERT_FALSE(noType.ok());
  EXPECT_EQ(noType.failure().message,
            "the request must contain the parameter `TagSpecification.3.ResourceType`");
  EXPECT_EQ(params("TagSpecification.1.ResourceType=instance&TagSpecification.1.Tags.1.Key=k")
                .tagSpecifications()
                .failure()
                .code,
            Ec2Error::UnknownParameter);
}

TEST(QueryEc2, WritersRoundTrip) {
  std::vector<Ec2Filter> filters{{"instance-state-name", {"running", "stopped"}}, {"tag:team", {"a b"}}};
  std::vector<Ec2TagSpecification> specs{{"instance", {{"Name", "web"}, {"cfm:element", "db/1"}}}};
  Params out{{"Action", "RunInstances"}};
  appendList(out, "InstanceId", {"i-1", "i-2"});
  appendFilters(out, filters);
  appendTags(out, {{"k", "v"}});
  appendTagSpecifications(out, specs);
  std::string text = encodeForm(out);
  EXPECT_EQ(text.substr(0, 88),
            "Action=RunInstances&InstanceId.1=i-1&InstanceId.2=i-2&Filter.1.Name=instance-state-name&");
  Ec2Params back = params(text);
  EXPECT_EQ(back.list("InstanceId").value(), (std::vector<std::string>{"i-1", "i-2"}));
  EXPECT_EQ(back.filters().value(), filters);
  EXPECT_EQ(back.tags().value(), (std::vector<Ec2Tag>{{"k", "v"}}));
  EXPECT_EQ(back.tagSpecifications().value(), specs);
}

TEST(QueryEc2, ErrorCodes) {
  EXPECT_EQ(ec2ErrorCode(Ec2Error::AuthFailure), "AuthFailure");
  EXPECT_EQ(ec2ErrorCode(Ec2Error::MalformedQueryString), "MalformedQueryString");
  EXPECT_EQ(ec2HttpStatus(Ec2Error::SignatureDoesNotMatch), 403);
  EXPECT_EQ(ec2HttpStatus(Ec2Error::MissingParameter), 400);
}

} // namespace
