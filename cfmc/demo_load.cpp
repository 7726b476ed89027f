// demo_load.cpp — LoadGenerator (demo_load.h): each thread alternates a write (POST /rows) and a
// read of a row it wrote (GET /rows/N) against the current endpoint, with a short pause after an
// error so a dead endpoint is not hammered. HTTP through libcurl's easy interface; this file
// is built into libcfm_manager_module.so (cfmc/manager_module.h), which links libcurl.
#include "cfmc/demo_load.h"

#include <curl/curl.h>
#include <nlohmann/json.hpp>

#include <chrono>

namespace cfm::driver {

namespace {

int64_t nowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct Reply {
  long status = 0; // 0: no answer
  std::string body, cloud;
};

size_t onBody(char *p, size_t size, size_t n, void *out) {
  static_cast<Reply *>(out)->body.append(p, size * n);
  return size * n;
}

size_t onHeader(char *p, size_t size, size_t n, void *out) {
  std::string_view h(p, size * n);
  constexpr std::string_view kName = "x-cloud:";
  if (h.size() > kName.size()) {
    bool match = true;
    for (size_t i = 0; i < kName.size() && match; ++i)
      match = std::tolower(static_cast<unsigned char>(h[i])) == kName[i];
    if (match) {
      std::string_view v = h.substr(kName.size());
      while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
      while (!v.empty() && (v.back() == '\r' || v.back() == '\n' || v.back() == ' ')) v.remove_suffix(1);
      static_cast<Reply *>(out)->cloud = std::string(v);
    }
  }
  return size * n;
}

/// One request (`body` set: a POST of it); a reused easy handle keeps its connection.
Reply request(CURL *c, const std::string &url, const std::string &path, const std::string *body,
              long timeoutMs) {
  Reply r;
  std::string target = url;
  while (!target.empty() && target.back() == '/') target.pop_back();
  target += path;
  curl_easy_reset(c);
  curl_easy_setopt(c, CURLOPT_URL, target.c_str());
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeoutMs);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeoutMs);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, onBody);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, onHeader);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
  struct curl_slist *headers = nullptr;
  if (body) {
    headers = curl_slist_append(headers, "Content-Type: text/plain");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, long(body->size()));
  }
  if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r.status);
  if (headers) curl_slist_free_all(headers);
  return r;
}

/// Whether the reply is a row whose "value" is `value`.
bool rowHas(const Reply &r, const std::string &value) {
  if (r.status != 200) return false;
  auto j = nlohmann::json::parse(r.body, nullptr, false);
  return j.is_object() && j.contains("value") && j["value"] == value;
}

struct Easy {
  CURL *c = curl_easy_init();
  ~Easy() {
    if (c) curl_easy_cleanup(c);
  }
};

} // namespace

LoadGenerator::LoadGenerator(int threads) : threads_(threads) {
  curl_global_init(CURL_GLOBAL_DEFAULT); // before the threads (reference-counted by libcurl)
}

LoadGenerator::~LoadGenerator() { stop(); }

void LoadGenerator::setEndpoint(const std::string &url) {
  {
    std::lock_guard<std::mutex> l(mu_);
    url_ = url;
  }
  if (workers_.empty())
    for (int i = 0; i < threads_; ++i) workers_.emplace_back([this, i] { loop(i); });
}

void LoadGenerator::stop() {
  stop_ = true;
  for (std::thread &t : workers_)
    if (t.joinable()) t.join();
}

LoadCounts LoadGenerator::counts() const {
  std::lock_guard<std::mutex> l(mu_);
  LoadCounts c = counts_;
  c.acked = int64_t(acked_.size());
  return c;
}

int64_t LoadGenerator::firstAnswerFrom(const std::string &cloud, int64_t sinceMs,
                                       const std::string &url) const {
  std::lock_guard<std::mutex> l(mu_);
  for (const Answer &a : good_)
    if (a.sentMs >= sinceMs && a.cloud == cloud && (url.empty() || a.url == url)) return a.atMs;
  return 0;
}

void LoadGenerator::loop(int index) {
  Easy easy;
  int64_t n = 0;
  while (!stop_) {
    std::string url;
    {
      std::lock_guard<std::mutex> l(mu_);
      url = url_;
    }
    if (url.empty() || !easy.c) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      continue;
    }
    std::string value = "demo " + std::to_string(index) + "-" + std::to_string(++n);
    int64_t sent = nowMs();
    Reply r = request(easy.c, url, "/rows", &value, 2000);
    int64_t at = nowMs();
    bool ok = false;
    int64_t id = 0;
    if (r.status == 201) {
      auto j = nlohmann::json::parse(r.body, nullptr, false);
      if (j.is_object() && j.contains("id") && j["id"].is_number_integer()) {
        ok = true;
        id = j["id"].get<int64_t>();
      }
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      if (ok) {
        ++counts_.ok;
        ++counts_.byCloud[r.cloud.empty() ? "?" : r.cloud];
        acked_[id] = value;
        good_.push_back({sent, at, r.cloud, url});
      } else {
        ++counts_.errors;
      }
    }
    if (!ok) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
      continue;
    }
    // Read the row back: a wrong answer is an error too.
    int64_t readSent = nowMs();
    Reply g = request(easy.c, url, "/rows/" + std::to_string(id), nullptr, 2000);
    std::lock_guard<std::mutex> l(mu_);
    if (rowHas(g, value)) {
      ++counts_.ok;
      ++counts_.byCloud[g.cloud.empty() ? "?" : g.cloud];
      good_.push_back({readSent, nowMs(), g.cloud, url});
    } else {
      ++counts_.errors;
    }
  }
}

int64_t LoadGenerator::verify(const std::string &url, int64_t &checked) const {
  std::map<int64_t, std::string> rows;
  {
    std::lock_guard<std::mutex> l(mu_);
    rows = acked_;
  }
  checked = int64_t(rows.size());
  Easy easy;
  if (!easy.c) return checked;
  int64_t missing = 0;
  for (const auto &[id, value] : rows)
    if (!rowHas(request(easy.c, url, "/rows/" + std::to_string(id), nullptr, 5000), value)) ++missing;
  return missing;
}

} // namespace cfm::driver
