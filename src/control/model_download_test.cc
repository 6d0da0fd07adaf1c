// model_download_test.cc — download_file() against a real local HTTP server (maas::http::Server)
// that serves a few MiB of random bytes the way the hub does: X-Linked-Etag digests, Range
// requests (206 / 416), redirects, errors, a transfer cut mid-body and a server ignoring Range.
#include "control/model_download.h"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include "control/crypto.h"
#include "http/http.h"

namespace maas {
namespace {

namespace fs = std::filesystem;
using http::Header;
using http::Request;
using http::Responder;

constexpr char kToken[] = "secret-token";

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_all(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

// Serves `data` under several paths, each showing one server behaviour.
class FileServer {
 public:
  FileServer() : data_(random_bytes((3 << 20) + 123)), sha_(sha256_hex(data_)) {
    http::ServerOptions o;
    o.port = 0;
    o.max_write_buffer_bytes = 16 << 20;
    server_ = std::make_unique<http::Server>(o, [this](Request&& r, std::shared_ptr<Responder> s) {
      handle(std::move(r), std::move(s));
    });
    CHECK(server_->start().ok());
  }
  ~FileServer() {
    server_->stop();
    std::lock_guard lock(mu_);
    for (std::thread& t : threads_) t.join();
  }

  std::string url(const std::string& path) const { return "http://127.0.0.1:" + std::to_string(server_->port()) + path; }
  const std::string& data() const { return data_; }
  const std::string& sha() const { return sha_; }
  int requests(const std::string& path) {
    std::lock_guard lock(mu_);
    return counts_[path];
  }
  std::vector<std::string> ranges(const std::string& path) {
    std::lock_guard lock(mu_);
    return ranges_[path];
  }

 private:
  void handle(Request&& r, std::shared_ptr<Responder> s) {
    const std::string* range = r.header("range");
    int n_before;
    {
      std::lock_guard lock(mu_);
      n_before = counts_[r.path]++;
      ranges_[r.path].push_back(range != nullptr ? *range : "");
    }
    const std::string& p = r.path;
    std::vector<Header> digest = {{"X-Linked-Etag", "\"" + sha_ + "\""}};
    if (p == "/repo/resolve/main/model.gguf") return serve(range, digest, s);
    if (p == "/redirect") return s->send(302, {{"Location", "/repo/resolve/main/model.gguf"}}, "");
    if (p == "/loop") return s->send(302, {{"Location", "/loop"}}, "");
    if (p == "/etag") return serve(range, {{"ETag", "W/\"" + sha_ + "\""}}, s);
    if (p == "/noetag") return serve(range, {{"ETag", "\"abc123\""}}, s);
    if (p == "/norange") return s->send(200, digest, data_);
    if (p == "/flaky" && n_before > 0) return serve(range, digest, s);
    if (p == "/flaky") return spawn([this, s, digest] { cut_after_half(s, digest); });
    if (p == "/slow") return spawn([this, s, digest] { trickle(s, digest); });
    if (p == "/gated") {
      const std::string* auth = r.header("authorization");
      if (auth != nullptr && *auth == std::string("Bearer ") + kToken) return serve(range, digest, s);
      return s->send(401, {}, "{\"error\":\"gated\"}");
    }
    s->send(404, {}, "Entry not found");
  }

  // 200, or 206 / 416 for "Range: bytes=N-".
  void serve(const std::string* range, std::vector<Header> headers, const std::shared_ptr<Responder>& s) {
    const size_t size = data_.size();
    if (range == nullptr) return s->send(200, std::move(headers), data_);
    CHECK(range->rfind("bytes=", 0) == 0 && range->back() == '-');
    const size_t start = std::stoull(range->substr(6, range->size() - 7));
    if (start >= size) {
      headers.push_back({"Content-Range", "bytes */" + std::to_string(size)});
      return s->send(416, std::move(headers), "");
    }
    headers.push_back({"Content-Range", "bytes " + std::to_string(start) + "-" + std::to_string(size - 1) + "/" +
                                            std::to_string(size)});
    s->send(206, std::move(headers), data_.substr(start));
  }

  // A chunked 200 (no length) that stops after half the body and drops the connection.
  void cut_after_half(std::shared_ptr<Responder> s, std::vector<Header> headers) {
    s->start_stream(200, std::move(headers));
    s->write(data_.substr(0, data_.size() / 2));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // let the bytes reach the client
    s.reset();                                                     // abandoned stream: connection closed
  }

  // 64 KiB every 20 ms until the client goes away.
  void trickle(std::shared_ptr<Responder> s, std::vector<Header> headers) {
    s->start_stream(200, std::move(headers));
    for (size_t pos = 0; pos < data_.size(); pos += 65536) {
      if (!s->write(data_.substr(pos, 65536))) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    s->end_stream();
  }

  void spawn(std::function<void()> fn) {
    std::lock_guard lock(mu_);
    threads_.emplace_back(std::move(fn));
  }

  const std::string data_, sha_;
  std::unique_ptr<http::Server> server_;
  std::mutex mu_;
  std::map<std::string, int> counts_;                     // guarded by mu_
  std::map<std::string, std::vector<std::string>> ranges_;  // guarded by mu_ ("" = no Range)
  std::vector<std::thread> threads_;                      // guarded by mu_
};

class DownloadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "maas-download-XXXXXX").string();
    ASSERT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    dest_ = dir_ + "/models/model.gguf";
    part_ = dest_ + ".part";
  }
  void TearDown() override { fs::remove_all(dir_); }

  DownloadOptions options(const std::string& path) {
    DownloadOptions o;
    o.url = server_.url(path);
    o.dest_path = dest_;
    return o;
  }

  FileServer server_;
  std::string dir_, dest_, part_;
};

TEST(HfResolveUrl, HubScheme) {
  EXPECT_EQ(hf_resolve_url("https://huggingface.co", "bartowski/Llama-3.2-1B-Instruct-GGUF", "Llama-3.2-1B-Instruct-Q4_K_M.gguf"),
            "https://huggingface.co/bartowski/Llama-3.2-1B-Instruct-GGUF/resolve/main/Llama-3.2-1B-Instruct-Q4_K_M.gguf");
  EXPECT_EQ(hf_resolve_url("http://h:1/", "o/r", "sub dir/a+b.gguf", "refs/pr/1"),
            "http://h:1/o/r/resolve/refs%2Fpr%2F1/sub%20dir/a%2Bb.gguf");
}

TEST_F(DownloadTest, FullDownloadVerifiedByLinkedEtag) {
  DownloadOptions o = options("/repo/resolve/main/model.gguf");
  uint64_t last_done = 0, last_total = 0;
  int calls = 0;
  o.progress = [&](uint64_t done, uint64_t total) {
    EXPECT_GE(done, last_done);
    last_done = done, last_total = total, ++calls;
  };
  auto r = download_file(o);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->path, dest_);
  EXPECT_EQ(r->sha256, server_.sha());
  EXPECT_EQ(r->bytes, server_.data().size());
  EXPECT_FALSE(r->resumed);
  EXPECT_FALSE(r->reused);
  EXPECT_EQ(read_all(dest_), server_.data());
  EXPECT_FALSE(fs::exists(part_));
  EXPECT_GE(calls, 1);
  EXPECT_EQ(last_done, server_.data().size());
  EXPECT_EQ(last_total, server_.data().size());
}

TEST_F(DownloadTest, FollowsRedirectAndAcceptsQuotedEtag) {
  auto r = download_file(options("/redirect"));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(read_all(dest_), server_.data());
  EXPECT_EQ(server_.requests("/repo/resolve/main/model.gguf"), 1);
  fs::remove(dest_);
  r = download_file(options("/etag"));  // W/"<sha>" in ETag, no X-Linked-Etag
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->sha256, server_.sha());
}

TEST_F(DownloadTest, TooManyRedirects) {
  auto r = download_file(options("/loop"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().to_string();
  EXPECT_NE(r.status().message().find("redirects"), std::string::npos);
  EXPECT_LE(server_.requests("/loop"), 11);
}

TEST_F(DownloadTest, ResumesAfterInterruptedTransfer) {
  auto first = download_file(options("/flaky"));
  ASSERT_FALSE(first.ok());
  EXPECT_EQ(first.status().code(), StatusCode::kUnavailable) << first.status().to_string();
  EXPECT_FALSE(fs::exists(dest_));
  ASSERT_TRUE(fs::exists(part_));
  const uint64_t kept = fs::file_size(part_);
  EXPECT_GT(kept, 0u);
  EXPECT_LT(kept, server_.data().size());
  EXPECT_NE(first.status().message().find("resume"), std::string::npos) << first.status().message();

  auto second = download_file(options("/flaky"));
  ASSERT_TRUE(second.ok()) << second.status().to_string();
  EXPECT_TRUE(second->resumed);
  EXPECT_EQ(second->sha256, server_.sha());
  EXPECT_EQ(read_all(dest_), server_.data());
  EXPECT_FALSE(fs::exists(part_));
  const std::vector<std::string> ranges = server_.ranges("/flaky");
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0], "");
  EXPECT_EQ(ranges[1], "bytes=" + std::to_string(kept) + "-");
}

TEST_F(DownloadTest, RestartsWhenServerIgnoresRange) {
  fs::create_directories(fs::path(dest_).parent_path());
  write_all(part_, std::string(100000, 'x'));  // not even the right bytes: must be discarded
  auto r = download_file(options("/norange"));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_FALSE(r->resumed);
  EXPECT_EQ(read_all(dest_), server_.data());
  EXPECT_EQ(server_.ranges("/norange"), std::vector<std::string>{"bytes=100000-"});
}

TEST_F(DownloadTest, CompletePartAnswered416IsVerified) {
  fs::create_directories(fs::path(dest_).parent_path());
  write_all(part_, server_.data());
  auto r = download_file(options("/repo/resolve/main/model.gguf"));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->resumed);
  EXPECT_EQ(read_all(dest_), server_.data());

  fs::remove(dest_);
  std::string bad = server_.data();
  bad[12345] ^= 1;
  write_all(part_, bad);
  auto corrupt = download_file(options("/repo/resolve/main/model.gguf"));
  ASSERT_FALSE(corrupt.ok());
  EXPECT_EQ(corrupt.status().code(), StatusCode::kDataLoss);
  EXPECT_FALSE(fs::exists(part_));
  EXPECT_FALSE(fs::exists(dest_));
}

TEST_F(DownloadTest, WrongExpectedShaIsDataLoss) {
  DownloadOptions o = options("/repo/resolve/main/model.gguf");
  o.expected_sha256 = sha256_hex("something else");
  auto r = download_file(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(r.status().message().find(o.expected_sha256), std::string::npos);
  EXPECT_NE(r.status().message().find(server_.sha()), std::string::npos);
  EXPECT_FALSE(fs::exists(dest_));
  EXPECT_FALSE(fs::exists(part_));
}

TEST_F(DownloadTest, HttpErrors) {
  auto missing = download_file(options("/nope"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("not found at " + server_.url("/nope")), std::string::npos);

  auto gated = download_file(options("/gated"));
  ASSERT_FALSE(gated.ok());
  EXPECT_EQ(gated.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(gated.status().message().find("token"), std::string::npos);
  EXPECT_FALSE(fs::exists(part_));  // nothing received: no litter

  DownloadOptions o = options("/gated");
  o.bearer_token = "wrong";
  gated = download_file(o);
  ASSERT_FALSE(gated.ok());
  EXPECT_EQ(gated.status().message().find("wrong"), std::string::npos);  // never echoed
  o.bearer_token = kToken;
  auto ok = download_file(o);
  ASSERT_TRUE(ok.ok()) << ok.status().to_string();
  EXPECT_EQ(read_all(dest_), server_.data());
}

TEST_F(DownloadTest, MissingDigest) {
  auto r = download_file(options("/noetag"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("--allow-unverified"), std::string::npos);
  EXPECT_FALSE(fs::exists(dest_));
  EXPECT_FALSE(fs::exists(part_));

  DownloadOptions o = options("/noetag");
  o.allow_unverified = true;
  r = download_file(o);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_EQ(r->sha256, server_.sha());

  fs::remove(dest_);
  o.allow_unverified = false;
  o.expected_sha256 = server_.sha();
  for (char& c : o.expected_sha256) c = static_cast<char>(std::toupper(c));  // either case
  r = download_file(o);
  ASSERT_TRUE(r.ok()) << r.status().to_string();
}

TEST_F(DownloadTest, ExistingDestIsReused) {
  const std::string path = "/repo/resolve/main/model.gguf";
  ASSERT_TRUE(download_file(options(path)).ok());
  ASSERT_EQ(server_.requests(path), 1);

  DownloadOptions o = options(path);
  o.expected_sha256 = server_.sha();
  auto r = download_file(o);  // digest given: no request at all
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->reused);
  EXPECT_EQ(r->bytes, server_.data().size());
  EXPECT_EQ(server_.requests(path), 1);

  r = download_file(options(path));  // digest from the headers; the body is not fetched
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_TRUE(r->reused);
  EXPECT_EQ(r->sha256, server_.sha());
  EXPECT_FALSE(fs::exists(part_));

  write_all(dest_, "stale");  // wrong contents: downloaded again, replaced atomically
  r = download_file(options(path));
  ASSERT_TRUE(r.ok()) << r.status().to_string();
  EXPECT_FALSE(r->reused);
  EXPECT_EQ(read_all(dest_), server_.data());
}

TEST_F(DownloadTest, CancelKeepsPart) {
  DownloadOptions o = options("/slow");
  std::atomic<bool> stop{false};
  o.progress = [&](uint64_t done, uint64_t) {
    if (done >= (256 << 10)) stop = true;
  };
  o.cancelled = [&] { return stop.load(); };
  auto r = download_file(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled) << r.status().to_string();
  EXPECT_FALSE(fs::exists(dest_));
  ASSERT_TRUE(fs::exists(part_));
  EXPECT_GE(fs::file_size(part_), 256u << 10);
  EXPECT_LT(fs::file_size(part_), server_.data().size());
}

TEST_F(DownloadTest, InvalidArguments) {
  DownloadOptions o = options("/x");
  o.url = "ftp://127.0.0.1/model.gguf";
  EXPECT_EQ(download_file(o).status().code(), StatusCode::kInvalidArgument);
  o.url = "model.gguf";
  EXPECT_EQ(download_file(o).status().code(), StatusCode::kInvalidArgument);
  o = options("/x");
  o.expected_sha256 = "abc";
  EXPECT_EQ(download_file(o).status().code(), StatusCode::kInvalidArgument);
  o = options("/x");
  o.dest_path.clear();
  EXPECT_EQ(download_file(o).status().code(), StatusCode::kInvalidArgument);
}

TEST_F(DownloadTest, ConnectionRefused) {
  std::string url;
  {
    http::ServerOptions so;
    so.port = 0;
    http::Server closed(so, [](Request&&, std::shared_ptr<Responder> s) { s->send(200, {}, ""); });
    ASSERT_TRUE(closed.start().ok());
    url = "http://127.0.0.1:" + std::to_string(closed.port()) + "/model.gguf";
  }
  DownloadOptions o = options("/x");
  o.url = url;
  auto r = download_file(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable) << r.status().to_string();
  EXPECT_FALSE(fs::exists(part_));
}

}  // namespace
}  // namespace maas
