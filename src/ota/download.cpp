#include "ota/download.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>

namespace petrel::ota {
namespace {

struct Url {
  std::string host, port = "80", path = "/";
};

Result<Url> parse_url(const std::string& s) {
  if (s.rfind("http://", 0) != 0) return invalid_argument("only http:// URLs are supported: " + s);
  Url u;
  std::string rest = s.substr(7);
  size_t slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  if (slash != std::string::npos) u.path = rest.substr(slash);
  size_t colon = hostport.rfind(':');
  if (colon != std::string::npos) {
    u.port = hostport.substr(colon + 1);
    hostport = hostport.substr(0, colon);
  }
  u.host = hostport;
  if (u.host.empty() || u.port.empty() || u.port.size() > 5 || u.path.size() > 4096) return invalid_argument("bad URL " + s);
  for (char c : u.path + u.host)
    if (c <= ' ' || c == 0x7f) return invalid_argument("URL contains whitespace or control characters");
  return u;
}

class Socket {
 public:
  ~Socket() {
    if (fd >= 0) ::close(fd);
  }
  int fd = -1;
};

Status connect_to(const Url& u, int timeout_ms, Socket& sock) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  if (int e = ::getaddrinfo(u.host.c_str(), u.port.c_str(), &hints, &res); e != 0)
    return io_error("cannot resolve " + u.host + ": " + gai_strerror(e));
  Status st = io_error("cannot connect to " + u.host + ":" + u.port);
  for (addrinfo* a = res; a; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) continue;
    int r = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (r != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int err = 0;
      socklen_t len = sizeof err;
      if (::poll(&p, 1, timeout_ms) == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0) r = 0;
      else st = io_error("cannot connect to " + u.host + ":" + u.port + ": " + (err ? std::strerror(err) : "timed out"));
    }
    if (r == 0) {
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
      timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
      sock.fd = fd;
      ::freeaddrinfo(res);
      return Status::ok();
    }
    ::close(fd);
  }
  ::freeaddrinfo(res);
  return st;
}

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool parse_u64(const std::string& s, uint64_t& v) {
  if (s.empty() || s.size() > 19) return false;
  v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + uint64_t(c - '0');
  }
  return true;
}

// One attempt. `retry` says whether a failure is worth another attempt.
Status attempt(const Url& u, const std::string& part, const DownloadOptions& o, bool& retry, bool& done) {
  retry = true;
  done = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(o.attempt_deadline_s);
  struct stat stt{};
  uint64_t have = ::stat(part.c_str(), &stt) == 0 ? uint64_t(stt.st_size) : 0;
  Socket sock;
  PETREL_RETURN_IF_ERROR(connect_to(u, o.timeout_ms, sock));
  std::string req = "GET " + u.path + " HTTP/1.1\r\nHost: " + u.host + "\r\nConnection: close\r\nUser-Agent: petrel-update\r\n";
  if (have > 0) req += "Range: bytes=" + std::to_string(have) + "-\r\n";
  req += "\r\n";
  if (::send(sock.fd, req.data(), req.size(), MSG_NOSIGNAL) != ssize_t(req.size())) return io_error("sending the request failed or timed out");

  // Response head (bounded).
  std::string head;
  char buf[65536];
  size_t body_start = std::string::npos;
  while (body_start == std::string::npos) {
    if (std::chrono::steady_clock::now() > deadline) return io_error("no complete response head before the attempt deadline");
    ssize_t r = ::recv(sock.fd, buf, sizeof buf, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return io_error(r == 0 ? "connection closed before the response head" : std::string("receiving: ") + std::strerror(errno));
    head.append(buf, size_t(r));
    body_start = head.find("\r\n\r\n");
    if (body_start == std::string::npos && head.size() > 16384) { retry = false; return io_error("HTTP response head larger than 16 KiB"); }
  }
  std::string body = head.substr(body_start + 4);
  head.resize(body_start);
  int code = 0;
  if (head.size() < 12 || head.compare(0, 5, "HTTP/") != 0 || std::sscanf(head.c_str() + 9, "%3d", &code) != 1) {
    retry = false;
    return io_error("not an HTTP response");
  }
  uint64_t content_length = UINT64_MAX, range_start = 0;
  bool chunked = false;
  size_t p = head.find("\r\n");
  while (p != std::string::npos && p + 2 < head.size()) {
    size_t q = head.find("\r\n", p + 2);
    std::string line = head.substr(p + 2, q == std::string::npos ? std::string::npos : q - p - 2);
    p = q;
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = lower(line.substr(0, colon)), val = line.substr(colon + 1);
    while (!val.empty() && val[0] == ' ') val.erase(0, 1);
    if (key == "content-length" && !parse_u64(val, content_length)) { retry = false; return io_error("bad Content-Length"); }
    if (key == "transfer-encoding" && lower(val) != "identity") chunked = true;
    if (key == "content-range") {
      // bytes START-END/TOTAL
      size_t dash = val.find('-');
      if (val.rfind("bytes ", 0) != 0 || dash == std::string::npos || !parse_u64(val.substr(6, dash - 6), range_start)) {
        retry = false;
        return io_error("bad Content-Range '" + val + "'");
      }
    }
  }
  if (code == 416 && have > 0) { done = true; return Status::ok(); }  // nothing left to fetch
  if (code != 200 && code != 206) {
    retry = code >= 500 || code == 408 || code == 429;
    return io_error("HTTP status " + std::to_string(code) + " for " + u.path);
  }
  if (chunked) { retry = false; return unsupported("chunked transfer encoding is not supported"); }
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC;
  if (code == 200) { flags |= O_TRUNC; have = 0; }  // the server ignored Range: start over
  else if (range_start != have) { retry = false; return io_error("server resumed at byte " + std::to_string(range_start) + ", asked for " + std::to_string(have)); }
  if (content_length != UINT64_MAX && have + content_length > o.max_bytes) {
    retry = false;
    return out_of_range("download of " + std::to_string(have + content_length) + " bytes exceeds the limit of " + std::to_string(o.max_bytes));
  }
  int fd = ::open(part.c_str(), flags | O_APPEND, 0644);
  if (fd < 0) { retry = false; return io_error("cannot write " + part + ": " + std::strerror(errno)); }
  uint64_t got = 0;
  Status st = Status::ok();
  auto put = [&](const char* d, size_t n) {
    if (have + got + n > o.max_bytes) { retry = false; return out_of_range("download exceeds the limit of " + std::to_string(o.max_bytes) + " bytes"); }
    if (::write(fd, d, n) != ssize_t(n)) { retry = false; return io_error("writing " + part + ": " + std::strerror(errno)); }
    got += n;
    return Status::ok();
  };
  if (!body.empty()) st = put(body.data(), std::min<uint64_t>(body.size(), content_length));
  while (st && got < content_length) {
    if (std::chrono::steady_clock::now() > deadline) {
      st = io_error("download attempt exceeded " + std::to_string(o.attempt_deadline_s) + " s");
      break;
    }
    ssize_t r = ::recv(sock.fd, buf, size_t(std::min<uint64_t>(sizeof buf, content_length - got)), 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) { st = io_error(std::string("receiving: ") + std::strerror(errno)); break; }
    if (r == 0) {
      if (content_length != UINT64_MAX) st = io_error("connection closed after " + std::to_string(have + got) + " bytes");
      break;
    }
    st = put(buf, size_t(r));
  }
  if (st && ::fsync(fd) != 0) st = io_error("fsync " + part);
  ::close(fd);
  if (st) done = true;
  return st;
}

}  // namespace

bool is_url(const std::string& s) { return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0; }

Result<uint64_t> download(const std::string& url, const std::string& part, const DownloadOptions& o) {
  PETREL_ASSIGN_OR_RETURN(Url u, parse_url(url));
  int backoff = o.backoff_ms;
  Status last;
  for (int i = 0; i <= o.retries; ++i) {
    if (i > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
      backoff = std::min(backoff * 2, 10000);
    }
    bool retry = true, done = false;
    last = attempt(u, part, o, retry, done);
    if (last && done) {
      struct stat st{};
      if (::stat(part.c_str(), &st) != 0) return io_error("download vanished: " + part);
      return uint64_t(st.st_size);
    }
    if (!retry) break;
  }
  return last.with_context("downloading " + url);
}

}  // namespace petrel::ota
