// http.cpp — the HTTP client on libcurl's multi interface (http.h): one thread, curl_multi_poll
// woken by curl_multi_wakeup when a request is submitted.
#include "net/http.h"

#include <atomic>
#include <curl/curl.h>
#include <deque>
#include <mutex>
#include <pthread.h>
#include <strings.h>
#include <thread>
#include <unordered_set>

namespace cfm::net {

std::string HttpClient::Response::header(std::string_view name) const {
  for (const auto &[k, v] : headers)
    if (k.size() == name.size() && strncasecmp(k.data(), name.data(), k.size()) == 0) return v;
  return {};
}

namespace {

struct Transfer {
  HttpClient::Request req;
  HttpClient::Done done;
  CURL *easy = nullptr;
  curl_slist *headers = nullptr;
  HttpClient::Response resp;
  bool tooBig = false;
  char errbuf[CURL_ERROR_SIZE] = {0};
  ~Transfer() {
    if (easy) curl_easy_cleanup(easy);
    curl_slist_free_all(headers);
  }
};

size_t onBody(char *p, size_t size, size_t n, void *user) {
  auto *t = static_cast<Transfer *>(user);
  size_t bytes = size * n;
  if (t->resp.body.size() + bytes > HttpClient::kMaxResponseBytes) {
    t->tooBig = true;
    return 0; // curl ends the transfer with CURLE_WRITE_ERROR
  }
  t->resp.body.append(p, bytes);
  return bytes;
}

size_t onHeader(char *p, size_t size, size_t n, void *user) {
  auto *t = static_cast<Transfer *>(user);
  std::string_view line(p, size * n);
  if (line.rfind("HTTP/", 0) == 0) {
    t->resp.headers.clear(); // a new response (after a 100 Continue, say)
    return line.size();
  }
  size_t colon = line.find(':');
  if (colon == std::string_view::npos) return line.size();
  auto trim = [](std::string_view s) {
    size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
    return b == std::string_view::npos ? std::string() : std::string(s.substr(b, e - b + 1));
  };
  t->resp.headers.emplace_back(trim(line.substr(0, colon)), trim(line.substr(colon + 1)));
  return line.size();
}

bool retryable(CURLcode c) {
  switch (c) {
  case CURLE_COULDNT_CONNECT:
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_OPERATION_TIMEDOUT:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_GOT_NOTHING:
  case CURLE_PARTIAL_FILE:
  case CURLE_SSL_CONNECT_ERROR: return true;
  default: return false;
  }
}

void curlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

} // namespace

struct HttpClient::Impl {
  CURLM *multi = nullptr;
  std::thread thread;
  mutable std::mutex mu;
  std::deque<std::unique_ptr<Transfer>> queue; // submitted, not yet added
  std::unordered_set<Transfer *> running;      // added to the multi handle (owned; thread only)
  bool stopping = false;
  std::atomic<uint64_t> submitted{0}, completed{0}, failed{0};
  std::atomic<size_t> inFlight{0};

  ~Impl() {
    if (multi) curl_multi_cleanup(multi);
  }

  static void fail(Transfer &t, std::string message, bool retry) {
    HttpClient::Outcome o;
    o.failure = {std::move(message), retry};
    t.done(std::move(o));
  }

  /// Makes the easy handle; false (and the transfer failed) when curl refuses an option.
  bool prepare(Transfer &t) {
    t.easy = curl_easy_init();
    if (!t.easy) return false;
    CURL *e = t.easy;
    bool ok = curl_easy_setopt(e, CURLOPT_URL, t.req.url.c_str()) == CURLE_OK;
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_PRIVATE, &t);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t.errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, onBody);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, onHeader);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(t.req.timeoutMs));
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(t.req.connectTimeoutMs));
    if (t.req.method == "HEAD") {
      curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (t.req.method != "GET" || !t.req.body.empty()) {
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, t.req.method.c_str());
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, t.req.body.data());
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t.req.body.size()));
    }
    for (const auto &[k, v] : t.req.headers) t.headers = curl_slist_append(t.headers, (k + ": " + v).c_str());
    t.headers = curl_slist_append(t.headers, "Expect:"); // no 100-continue round trip
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, t.headers);
    return ok;
  }

  void finish(Transfer *t, CURLcode code) {
    curl_multi_remove_handle(multi, t->easy);
    running.erase(t);
    std::unique_ptr<Transfer> own(t);
    --inFlight;
    if (code == CURLE_OK) {
      curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &t->resp.status);
      ++completed;
      HttpClient::Outcome o;
      o.ok = true;
      o.response = std::move(t->resp);
      t->done(std::move(o));
      return;
    }
    ++failed;
    std::string why = t->tooBig
                          ? "the reply is longer than " + std::to_string(kMaxResponseBytes >> 20) + " MiB"
                      : t->errbuf[0] ? std::string(t->errbuf)
                                     : std::string(curl_easy_strerror(code));
    fail(*t, t->req.method + " " + t->req.url + ": " + why, !t->tooBig && retryable(code));
  }

  void run() {
    while (true) {
      std::deque<std::unique_ptr<Transfer>> fresh;
      bool stop;
      {
        std::lock_guard<std::mutex> g(mu);
        fresh.swap(queue);
        stop = stopping;
      }
      if (stop) {
        for (auto &t : fresh) fail(*t, "the HTTP client stopped", true);
        break;
      }
      for (auto &t : fresh) {
        if (!prepare(*t)) {
          ++failed;
          fail(*t, "cannot make a request of `" + t->req.url + "`", false);
          continue;
        }
        ++inFlight;
        curl_multi_add_handle(multi, t->easy);
        running.insert(t.release()); // owned through `running` until it finishes
      }
      int active = 0;
      curl_multi_perform(multi, &active);
      int left = 0;
      while (CURLMsg *m = curl_multi_info_read(multi, &left)) {
        if (m->msg != CURLMSG_DONE) continue;
        Transfer *t = nullptr;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char **>(&t));
        finish(t, m->data.result);
      }
      curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
    }
    // Stopping: what is still in flight fails.
    for (Transfer *t : running) {
      curl_multi_remove_handle(multi, t->easy);
      std::unique_ptr<Transfer> own(t);
      --inFlight;
      ++failed;
      fail(*t, "the HTTP client stopped", true);
    }
    running.clear();
  }
};

HttpClient::HttpClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<HttpClient>> HttpClient::start() {
  curlOnce();
  auto impl = std::make_unique<Impl>();
  impl->multi = curl_multi_init();
  if (!impl->multi)
    return Error{ErrorKind::Internal, "cannot start the HTTP client (curl_multi_init failed)"};
  curl_multi_setopt(impl->multi, CURLMOPT_MAX_HOST_CONNECTIONS, kMaxConnectionsPerHost);
  Impl *raw = impl.get();
  raw->thread = std::thread([raw] {
    pthread_setname_np(pthread_self(), "cfm-http"); // what `top -H` and benchmarks count
    raw->run();
  });
  return std::unique_ptr<HttpClient>(new HttpClient(std::move(impl)));
}

HttpClient::~HttpClient() {
  {
    std::lock_guard<std::mutex> g(impl_->mu);
    impl_->stopping = true;
  }
  curl_multi_wakeup(impl_->multi);
  impl_->thread.join();
}

void HttpClient::submit(HttpClient::Request request, Done done) {
  auto t = std::make_unique<Transfer>();
  t->req = std::move(request);
  t->done = std::move(done);
  ++impl_->submitted;
  {
    std::lock_guard<std::mutex> g(impl_->mu);
    if (!impl_->stopping) {
      impl_->queue.push_back(std::move(t));
      t = nullptr;
    }
  }
  if (t) {
    Impl::fail(*t, "the HTTP client stopped", true);
    return;
  }
  curl_multi_wakeup(impl_->multi);
}

HttpClient::Stats HttpClient::stats() const {
  Stats s;
  s.submitted = impl_->submitted;
  s.completed = impl_->completed;
  s.failed = impl_->failed;
  s.inFlight = impl_->inFlight;
  return s;
}

} // namespace cfm::net
