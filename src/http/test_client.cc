// test_client.cc — the blocking test client (see test_client.h).
#include "http/test_client.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "http/wire.h"

namespace maas::http::testing {

const std::string* Response::header(std::string_view name) const {
  for (const Header& h : headers) {
    if (wire::iequals(h.name, name)) return &h.value;
  }
  return nullptr;
}

Client::Client(uint16_t port, int rcvbuf) {
  fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd_ < 0) return;
  if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) close();
}

Client::~Client() { close(); }

void Client::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool Client::send(std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

bool Client::fill(int timeout_ms) {
  if (fd_ < 0) return false;
  pollfd p{fd_, POLLIN, 0};
  int r = ::poll(&p, 1, timeout_ms);
  if (r <= 0) return false;
  char tmp[16384];
  ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
  if (n <= 0) return false;
  buf_.append(tmp, static_cast<size_t>(n));
  return true;
}

bool Client::read_line(std::string* line, int timeout_ms) {
  for (;;) {
    size_t eol = buf_.find("\r\n");
    if (eol != std::string::npos) {
      *line = buf_.substr(0, eol);
      buf_.erase(0, eol + 2);
      return true;
    }
    if (!fill(timeout_ms)) return false;
  }
}

bool Client::read_exact(size_t n, std::string* out, int timeout_ms) {
  while (buf_.size() < n) {
    if (!fill(timeout_ms)) return false;
  }
  out->append(buf_, 0, n);
  buf_.erase(0, n);
  return true;
}

bool Client::read_head(Response* out, int timeout_ms) {
  *out = Response();
  std::string line;
  if (!read_line(&line, timeout_ms)) return false;
  if (line.rfind("HTTP/1.", 0) != 0 || line.size() < 12) return false;
  out->status = std::atoi(line.c_str() + 9);
  for (;;) {
    if (!read_line(&line, timeout_ms)) return false;
    if (line.empty()) return true;
    size_t colon = line.find(':');
    if (colon == std::string::npos) return false;
    size_t v = line.find_first_not_of(' ', colon + 1);
    out->headers.push_back({line.substr(0, colon), v == std::string::npos ? "" : line.substr(v)});
  }
}

bool Client::read_chunk(std::string* data, int timeout_ms) {
  data->clear();
  std::string line;
  if (!read_line(&line, timeout_ms)) return false;
  size_t size = std::strtoul(line.c_str(), nullptr, 16);
  if (size == 0) {
    read_line(&line, timeout_ms);  // the CRLF after the last chunk
    return false;
  }
  if (!read_exact(size, data, timeout_ms)) return false;
  return read_line(&line, timeout_ms) && line.empty();
}

bool Client::read_response(Response* out, int timeout_ms, bool head_only) {
  if (!read_head(out, timeout_ms)) return false;
  if (out->status < 200) return true;  // interim: the caller reads again
  if (head_only || out->status == 204 || out->status == 304) return true;
  const std::string* te = out->header("transfer-encoding");
  if (te != nullptr && te->find("chunked") != std::string::npos) {
    std::string chunk;
    while (read_chunk(&chunk, timeout_ms)) {
      out->body += chunk;
      out->chunks.push_back(chunk);
    }
    return true;
  }
  if (const std::string* cl = out->header("content-length")) {
    return read_exact(std::strtoul(cl->c_str(), nullptr, 10), &out->body, timeout_ms);
  }
  while (fill(timeout_ms)) {
  }
  out->body = std::move(buf_);
  buf_.clear();
  return true;
}

bool Client::wait_closed(int timeout_ms) {
  if (fd_ < 0) return true;
  for (;;) {
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, timeout_ms);
    if (r <= 0) return false;
    char tmp[4096];
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) return true;
  }
}

std::string make_request(std::string_view method, std::string_view path, std::string_view body,
                         std::string_view extra_headers) {
  std::string r;
  r.append(method).append(" ").append(path).append(" HTTP/1.1\r\nhost: t\r\n");
  r.append(extra_headers);
  if (!body.empty() || method == "POST") {
    r.append("content-length: ").append(std::to_string(body.size())).append("\r\n");
  }
  r.append("\r\n").append(body);
  return r;
}

}  // namespace maas::http::testing
