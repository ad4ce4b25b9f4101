#include "ota/fsutil.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "ota/failpoint.hpp"

namespace petrel::ota {

Status fsync_dir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("cannot open directory " + dir + ": " + std::strerror(errno));
  const int r = ::fsync(fd);
  const int e = errno;
  ::close(fd);
  if (r != 0) return io_error("fsync " + dir + ": " + std::strerror(e));
  return Status::ok();
}

Status make_dir(const std::string& path) {
  if (::mkdir(path.c_str(), 0755) != 0 && errno != EEXIST) return io_error("cannot create " + path + ": " + std::strerror(errno));
  return Status::ok();
}

Status remove_all(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return io_error("cannot remove " + path + ": " + ec.message());
  return Status::ok();
}

FileWriter::~FileWriter() {
  if (fd_ >= 0) ::close(fd_);
}

Status FileWriter::open(const std::string& path) {
  path_ = path;
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) return io_error("cannot create " + path + ": " + std::strerror(errno));
  return Status::ok();
}

Status FileWriter::write(const uint8_t* p, size_t n, const char* fp) {
  if (fp) PETREL_RETURN_IF_ERROR(failpoint(fp).with_context("writing " + path_));
  while (n > 0) {
    ssize_t w = ::write(fd_, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return io_error("writing " + path_ + ": " + std::strerror(errno));
    p += w;
    n -= size_t(w);
    written_ += uint64_t(w);
  }
  return Status::ok();
}

Status FileWriter::close_synced() {
  const int r = ::fsync(fd_);
  const int e = errno;
  const int c = ::close(fd_);
  fd_ = -1;
  if (r != 0) return io_error("fsync " + path_ + ": " + std::strerror(e));
  if (c != 0) return io_error("closing " + path_ + ": " + std::strerror(errno));
  return Status::ok();
}

Status write_file_atomic(const std::string& dir, const std::string& name, const std::string& data, const char* fp,
                         const char* after_rename_fp) {
  const std::string tmp = dir + "/" + name + ".tmp", dst = dir + "/" + name;
  FileWriter w;
  Status st = w.open(tmp);
  if (st) st = w.write(reinterpret_cast<const uint8_t*>(data.data()), data.size(), fp);
  if (st) st = w.close_synced();
  if (st && std::rename(tmp.c_str(), dst.c_str()) != 0) st = io_error("cannot rename " + tmp + ": " + std::strerror(errno));
  if (!st) {
    ::unlink(tmp.c_str());
    return st;
  }
  if (after_rename_fp) PETREL_RETURN_IF_ERROR(failpoint(after_rename_fp));
  return fsync_dir(dir);
}

}  // namespace petrel::ota
