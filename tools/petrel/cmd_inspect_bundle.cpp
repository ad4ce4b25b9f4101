// petrel inspect BUNDLE: the fixed header always; the manifest only once --trust verifies the
// signature (nothing past the header is parsed before that).
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bundle/reader.hpp"
#include "cli_common.hpp"
#include "commands.hpp"
#include "ota/smoke.hpp"

namespace petrel::cli {
namespace {

std::string shape_str(const std::vector<int64_t>& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) r.push_back(',');
    r.append(s[i] < 0 ? std::string("?") : std::to_string(s[i]));
  }
  r.push_back(']');
  return r;
}

}  // namespace

bool is_bundle_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  char magic[8] = {};
  return f.read(magic, 8) && std::memcmp(magic, bundle::kMagic, 8) == 0;
}

// --json: one object; the manifest (golden tensors as byte counts) only once the signature verifies.
static int inspect_bundle_json(const InspectArgs& args, const bundle::ByteSource& src, const bundle::Header& h) {
  nlohmann::json j = {{"bundle", args.model},
                      {"file_bytes", src.size()},
                      {"format_version", h.format_version},
                      {"encrypted", h.encrypted()},
                      {"manifest_bytes", h.manifest_size},
                      {"payload_bytes", h.payload_size},
                      {"key_id", bundle::to_hex(h.key_id.data(), h.key_id.size())},
                      {"signature", "unchecked"}};
  if (!args.trust.empty()) {
    std::vector<bundle::PublicKey> trusted;
    if (Status st = load_trusted_keys(args.trust, trusted); !st) return report(st);
    auto vb = bundle::verify_bundle(src, trusted);
    if (!vb) return report(vb.status().with_context(args.model));
    const bundle::Manifest& m = vb->manifest;
    j["signature"] = "valid";
    j["trusted_key"] = args.trust[vb->trusted_key_index];
    auto sig = [](const std::vector<bundle::TensorSignature>& v) {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& t : v) a.push_back({{"name", t.name}, {"dtype", t.dtype}, {"shape", t.shape}});
      return a;
    };
    auto golden = [](const std::vector<bundle::GoldenTensor>& v) {
      nlohmann::json a = nlohmann::json::array();
      for (const auto& t : v) a.push_back({{"name", t.name}, {"npy_bytes", t.npy.size()}});
      return a;
    };
    j["manifest"] = {{"name", m.name}, {"version", m.version}, {"created", m.created},
                     {"runtime", {{"min", m.runtime_min}, {"max", m.runtime_max}}},
                     {"compatible", ota::check_runtime(m).is_ok()}, {"required_ops", m.required_ops},
                     {"inputs", sig(m.inputs)}, {"outputs", sig(m.outputs)}, {"model_bytes", m.model_size},
                     {"golden", {{"inputs", golden(m.golden_inputs)}, {"outputs", golden(m.golden_outputs)},
                                 {"rtol", m.golden_rtol}, {"atol", m.golden_atol}}},
                     {"calibration_bytes", m.calibration_json.size()}};
  }
  std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  return kExitOk;
}

int cmd_inspect_bundle(const InspectArgs& args) {
  auto src = bundle::FileSource::open(args.model);
  if (!src) return report(src.status());
  auto h = bundle::read_header(**src);
  if (!h) return report(h.status().with_context(args.model));
  if (args.json) return inspect_bundle_json(args, **src, *h);
  std::printf("bundle:     %s (%s), format %u\n", args.model.c_str(), format_bytes(double((*src)->size())).c_str(), unsigned(h->format_version));
  std::printf("manifest:   %llu bytes\n", (unsigned long long)h->manifest_size);
  std::printf("payload:    %llu bytes%s\n", (unsigned long long)h->payload_size, h->encrypted() ? " (XChaCha20-Poly1305 encrypted)" : "");
  std::printf("signer:     key %s\n", bundle::to_hex(h->key_id.data(), h->key_id.size()).c_str());
  if (args.trust.empty()) {
    std::printf("signature:  not checked; pass --trust NAME.pub to verify it and show the manifest\n");
    return kExitOk;
  }
  std::vector<bundle::PublicKey> trusted;
  if (Status st = load_trusted_keys(args.trust, trusted); !st) return report(st);
  auto vb = bundle::verify_bundle(**src, trusted);
  if (!vb) return report(vb.status().with_context(args.model));
  const bundle::Manifest& m = vb->manifest;
  std::printf("signature:  valid (trusted key %s)\n", args.trust[vb->trusted_key_index].c_str());
  std::printf("name:       %s\nversion:    %s\ncreated:    %s\n", m.name.c_str(), m.version.c_str(), m.created.c_str());
  std::printf("runtime:    >= %s%s (this is %s: %s)\n", m.runtime_min.c_str(), m.runtime_max.empty() ? "" : (", < " + m.runtime_max).c_str(),
              version(), ota::check_runtime(m) ? "compatible" : "incompatible");
  std::printf("model:      %llu bytes\n", (unsigned long long)m.model_size);
  for (const auto& t : m.inputs) std::printf("input:      %s %s%s\n", t.name.c_str(), t.dtype.c_str(), shape_str(t.shape).c_str());
  for (const auto& t : m.outputs) std::printf("output:     %s %s%s\n", t.name.c_str(), t.dtype.c_str(), shape_str(t.shape).c_str());
  std::string ops;
  for (const auto& op : m.required_ops) ops += (ops.empty() ? "" : ", ") + op + (ota::op_supported(op) ? "" : " (unsupported)");
  std::printf("ops:        %zu (%s)\n", m.required_ops.size(), ops.c_str());
  std::printf("golden:     %zu input(s), %zu output(s), rtol %g, atol %g\n", m.golden_inputs.size(), m.golden_outputs.size(), m.golden_rtol, m.golden_atol);
  std::printf("calibration: %s\n", m.calibration_json.empty() ? "none" : (std::to_string(m.calibration_json.size()) + " bytes").c_str());
  return kExitOk;
}

}  // namespace petrel::cli
