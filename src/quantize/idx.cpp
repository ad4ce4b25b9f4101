// IDX files (the MNIST / Fashion-MNIST format), gzip, and bounded whole-file reads.
#include <cstdio>
#include <cstring>

#include "quantize/dataset.hpp"

#ifdef PETREL_HAVE_ZLIB
#include <zlib.h>
#endif

namespace petrel::quant {

Result<std::vector<uint8_t>> read_file(const std::string& path, size_t max_bytes) {
  FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return not_found("cannot open " + path);
  std::vector<uint8_t> out;
  uint8_t buf[1 << 16];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) {
    if (out.size() + n > max_bytes) {
      std::fclose(f);
      return invalid_argument(path + ": larger than the limit of " + std::to_string(max_bytes) + " bytes");
    }
    out.insert(out.end(), buf, buf + n);
  }
  const bool err = std::ferror(f) != 0;
  std::fclose(f);
  if (err) return io_error("error reading " + path);
  return out;
}

Result<std::vector<uint8_t>> gunzip(const uint8_t* data, size_t size, size_t max_bytes) {
#ifdef PETREL_HAVE_ZLIB
  z_stream zs{};
  if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) return internal_error("zlib initialisation failed");
  std::vector<uint8_t> out;
  zs.next_in = const_cast<Bytef*>(data);
  size_t fed = 0;
  int rc = Z_OK;
  uint8_t buf[1 << 16];
  while (rc != Z_STREAM_END) {
    if (zs.avail_in == 0 && fed < size) {
      const size_t chunk = std::min<size_t>(size - fed, 1u << 30);
      zs.next_in = const_cast<Bytef*>(data + fed);
      zs.avail_in = uInt(chunk);
      fed += chunk;
    }
    zs.next_out = buf;
    zs.avail_out = sizeof buf;
    rc = inflate(&zs, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) {
      const bool truncated = rc == Z_BUF_ERROR && fed == size;
      inflateEnd(&zs);
      return invalid_argument(truncated ? "gzip stream is truncated"
                                        : "gzip stream is corrupt at input byte " + std::to_string(zs.total_in));
    }
    const size_t got = sizeof buf - zs.avail_out;
    if (out.size() + got > max_bytes) {
      inflateEnd(&zs);
      return invalid_argument("gzip stream expands past the limit of " + std::to_string(max_bytes) + " bytes");
    }
    out.insert(out.end(), buf, buf + got);
  }
  inflateEnd(&zs);
  return out;
#else
  (void)data; (void)size; (void)max_bytes;
  return unsupported("this build has no zlib: decompress the .gz file first (gunzip)");
#endif
}

Result<IdxData> parse_idx(const uint8_t* data, size_t size) {
  if (size < 4) return invalid_argument("IDX file too short for its 4-byte magic");
  if (data[0] != 0 || data[1] != 0)
    return invalid_argument("bad IDX magic (first two bytes must be 0, got " + std::to_string(data[0]) + "," + std::to_string(data[1]) + ")");
  IdxData d;
  d.type = data[2];
  size_t esize = 0;
  switch (d.type) {
    case 0x08: case 0x09: esize = 1; break;
    case 0x0B: esize = 2; break;
    case 0x0C: case 0x0D: esize = 4; break;
    case 0x0E: esize = 8; break;
    default: {
      char hex[8];
      std::snprintf(hex, sizeof hex, "0x%02x", d.type);
      return invalid_argument(std::string("bad IDX magic: unknown element type ") + hex);
    }
  }
  const int rank = data[3];
  if (rank < 1 || rank > 8) return invalid_argument("IDX rank " + std::to_string(rank) + " (expected 1..8)");
  const size_t head = 4 + 4 * size_t(rank);
  if (size < head) return invalid_argument("IDX header truncated: " + std::to_string(size) + " bytes, dims need " + std::to_string(head));
  for (int i = 0; i < rank; ++i) {
    const uint8_t* p = data + 4 + 4 * i;
    d.dims.push_back(int64_t(uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]));
  }
  auto n = checked_numel(d.dims);
  if (!n) return invalid_argument("IDX dims " + shape_to_string(d.dims) + ": " + n.status().message());
  const uint64_t need = uint64_t(n.value()) * esize;
  if (need > kMaxFileBytes) return invalid_argument("IDX dims " + shape_to_string(d.dims) + " exceed the size limit");
  if (size - head != need)
    return invalid_argument("IDX payload has " + std::to_string(size - head) + " bytes, dims " + shape_to_string(d.dims) +
                            " need " + std::to_string(need) + (size - head < need ? " (truncated)" : " (trailing bytes)"));
  d.bytes.assign(data + head, data + size);
  return d;
}

Result<IdxData> read_idx(const std::string& path) {
  PETREL_ASSIGN_OR_RETURN(auto raw, read_file(path));
  std::vector<uint8_t> unpacked;
  const uint8_t* p = raw.data();
  size_t n = raw.size();
  if (n >= 2 && raw[0] == 0x1f && raw[1] == 0x8b) {
    auto r = gunzip(raw.data(), raw.size(), kMaxFileBytes + 64);
    if (!r) return r.status().with_context(path);
    unpacked = std::move(r).value();
    p = unpacked.data();
    n = unpacked.size();
  }
  auto d = parse_idx(p, n);
  if (!d) return d.status().with_context(path);
  return d;
}

}  // namespace petrel::quant
