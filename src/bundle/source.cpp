#include "bundle/source.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace petrel::bundle {

Result<std::unique_ptr<FileSource>> FileSource::open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? not_found("cannot open bundle " + path + ": no such file") : io_error("cannot open bundle " + path + ": " + std::strerror(errno));
  struct stat st{};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return invalid_argument(path + " is not a regular file");
  }
  return std::unique_ptr<FileSource>(new FileSource(fd, uint64_t(st.st_size), path));
}

FileSource::~FileSource() { ::close(fd_); }

Status FileSource::read(uint64_t offset, void* out, size_t n) const {
  auto* p = static_cast<uint8_t*>(out);
  while (n > 0) {
    ssize_t r = ::pread(fd_, p, n, off_t(offset));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) return io_error("reading " + path_ + " at byte offset " + std::to_string(offset) + ": " + std::strerror(errno));
    if (r == 0) return invalid_model(path_ + " ended early at byte offset " + std::to_string(offset) + " (file changed while reading?)");
    p += r;
    n -= size_t(r);
    offset += uint64_t(r);
  }
  return Status::ok();
}

Status MemorySource::read(uint64_t offset, void* out, size_t n) const {
  if (offset > size_ || n > size_ - offset) return invalid_model("read past the end of the bundle at byte offset " + std::to_string(offset));
  std::memcpy(out, data_ + offset, n);
  return Status::ok();
}

}  // namespace petrel::bundle
