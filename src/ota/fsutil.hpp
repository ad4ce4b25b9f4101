// Durable file operations for the store: everything that must survive a power cut is written to a
// temporary name, fsynced, renamed over its final name, and the directory fsynced.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.hpp"

namespace petrel::ota {

Status fsync_dir(const std::string& dir);
// Writes `data` to DIR/NAME atomically (DIR/NAME.tmp, fsync, rename, fsync DIR). The failpoint
// `fp` (may be null) simulates a failed write; `after_rename_fp` fires between rename and dir fsync.
Status write_file_atomic(const std::string& dir, const std::string& name, const std::string& data, const char* fp,
                         const char* after_rename_fp = nullptr);
Status make_dir(const std::string& path);
// Removes a file or a directory tree; missing is fine.
Status remove_all(const std::string& path);

// An output file written sequentially (with a failpoint on every write) and fsynced on close.
class FileWriter {
 public:
  ~FileWriter();
  Status open(const std::string& path);
  Status write(const uint8_t* data, size_t n, const char* fp);
  Status close_synced();  // fsync + close
  uint64_t written() const { return written_; }

 private:
  int fd_ = -1;
  std::string path_;
  uint64_t written_ = 0;
};

}  // namespace petrel::ota
