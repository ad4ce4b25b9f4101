// petrel keygen / pack / verify: signed (optionally encrypted) model bundles.
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <map>
#include <optional>
#include <sstream>

#include "bundle/keys.hpp"
#include "bundle/reader.hpp"
#include "bundle/writer.hpp"
#include "cli_common.hpp"
#include "commands.hpp"
#include "core/npy.hpp"
#include "onnx/model.hpp"
#include "ota/smoke.hpp"

namespace petrel::cli {
namespace {

std::string created_now() {
  std::time_t t = std::time(nullptr);
  if (const char* e = std::getenv("SOURCE_DATE_EPOCH")) t = std::time_t(std::strtoll(e, nullptr, 10));  // reproducible packs
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Compatible runtimes by default: from this version up to the next breaking one (semver; for 0.y
// a minor bump breaks).
void default_range(std::string& lo, std::string& hi) {
  unsigned a = 0, b = 0, c = 0;
  std::sscanf(version(), "%u.%u.%u", &a, &b, &c);
  if (lo.empty()) lo = version();
  if (hi.empty()) hi = a == 0 ? "0." + std::to_string(b + 1) + ".0" : std::to_string(a + 1) + ".0.0";
}

std::vector<bundle::TensorSignature> signature(const std::vector<TensorInfo>& infos) {
  std::vector<bundle::TensorSignature> v;
  for (const TensorInfo& t : infos) {
    bundle::TensorSignature s{t.name, std::string(dtype_name(t.dtype)), {}};
    for (int64_t d : t.shape) s.shape.push_back(d < 0 ? -1 : d);
    v.push_back(std::move(s));
  }
  return v;
}

Result<std::string> read_text(const std::string& path) {
  std::ifstream f(path);
  if (!f) return not_found("cannot open " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

Status load_trusted(const std::vector<std::string>& files, std::vector<bundle::PublicKey>& out) {
  if (files.empty()) return invalid_argument("give at least one trusted public key with --trust NAME.pub");
  for (const auto& f : files) {
    PETREL_ASSIGN_OR_RETURN(bundle::PublicKey k, bundle::read_public_key(f));
    out.push_back(k);
  }
  return Status::ok();
}

}  // namespace

Status load_trusted_keys(const std::vector<std::string>& files, std::vector<bundle::PublicKey>& out) { return load_trusted(files, out); }

int cmd_keygen(const KeygenArgs& a) {
  Status st = a.encryption ? bundle::generate_encryption_key(a.out) : bundle::generate_signing_keys(a.out);
  if (!st) return report(st);
  if (a.encryption) std::printf("wrote %s.enc (encryption key: keep it secret, give it to the devices)\n", a.out.c_str());
  else std::printf("wrote %s.key (secret: keep it off devices) and %s.pub (give it to devices as --trust)\n", a.out.c_str(), a.out.c_str());
  return kExitOk;
}

int cmd_pack(const PackArgs& a) {
  Status st = bundle::init_crypto();
  if (!st) return report(st);
  auto sk = bundle::read_secret_key(a.key);
  if (!sk) return report(sk.status());
  std::optional<bundle::SymmetricKey> enc;
  if (!a.encrypt_key.empty()) {
    auto k = bundle::read_symmetric_key(a.encrypt_key);
    if (!k) return report(k.status());
    enc = *k;
  }
  bundle::Manifest m;
  m.name = a.name;
  m.version = a.version;
  m.created = created_now();
  m.runtime_min = a.runtime_min;
  m.runtime_max = a.runtime_max;
  default_range(m.runtime_min, m.runtime_max);
  // A bundle carries one file: weights in external data files would be missing on the device.
  onnx::LoadOptions lo;
  lo.allow_external_data = false;
  auto model = onnx::load_model(a.model, lo);
  if (!model) return report(model.status().with_context("packing " + a.model + " (a bundle carries the model file only: external data is refused)"));
  m.required_ops = ota::ops_of(*model.value()->graph);
  auto sess = Session::open(a.model);
  if (!sess) return report(sess.status());
  m.inputs = signature(sess.value()->inputs());
  m.outputs = signature(sess.value()->outputs());

  // Golden inputs: given .npy files, or deterministic random data for the rest.
  std::map<std::string, std::string> files;
  for (const auto& g : a.golden_inputs) {
    size_t eq = g.find('=');
    if (eq == std::string::npos) {
      if (m.inputs.size() != 1) return report(invalid_argument("--golden-input " + g + ": use NAME=FILE.npy"));
      files[m.inputs[0].name] = g;
    } else {
      files[g.substr(0, eq)] = g.substr(eq + 1);
    }
  }
  InputGenerator gen;
  ShapeOverrides ov;
  for (const TensorInfo& in : sess.value()->inputs()) {
    Tensor t;
    if (auto it = files.find(in.name); it != files.end()) {
      auto r = read_npy(it->second);
      if (!r) return report(r.status());
      t = std::move(r).value();
      files.erase(it);
    } else {
      auto shape = resolve_shape(in, ov);
      if (!shape) return report(shape.status());
      auto r = gen.make(in.dtype, *shape);
      if (!r) return report(r.status().with_context("golden input '" + in.name + "'"));
      t = std::move(r).value();
    }
    auto bytes = encode_npy(t);
    if (!bytes) return report(bytes.status());
    m.golden_inputs.push_back({in.name, std::move(bytes).value()});
  }
  if (!files.empty()) return report(invalid_argument("--golden-input " + files.begin()->first + ": the model has no such input"));
  sess.value().reset();
  auto outs = ota::run_model(a.model, m.golden_inputs);
  if (!outs) return report(outs.status().with_context("computing the golden output"));
  m.golden_outputs = std::move(outs).value();
  if (!a.calibration.empty()) {
    auto text = read_text(a.calibration);
    if (!text) return report(text.status());
    m.calibration_json = *text;
  }
  st = bundle::write_bundle(m, a.model, *sk, enc ? &*enc : nullptr, a.out);
  if (!st) return report(st);
  std::printf("wrote %s: %s %s, %zu ops, golden %zu in / %zu out%s\n", a.out.c_str(), m.name.c_str(), m.version.c_str(),
              m.required_ops.size(), m.golden_inputs.size(), m.golden_outputs.size(), enc ? ", model encrypted" : "");
  return kExitOk;
}

int cmd_verify(const VerifyArgs& a) {
  std::vector<bundle::PublicKey> trusted;
  if (Status st = load_trusted(a.trust, trusted); !st) return report(st);
  const double t0 = now_ms();
  auto src = bundle::FileSource::open(a.bundle);
  if (!src) return report(src.status());
  auto vb = bundle::verify_bundle(**src, trusted);
  if (!vb) return report(vb.status().with_context(a.bundle));
  const double t_verify = now_ms() - t0;
  if (a.full || !a.decrypt_key.empty()) {  // also decrypt / re-read the model bytes
    std::optional<bundle::SymmetricKey> key;
    if (!a.decrypt_key.empty()) {
      auto k = bundle::read_symmetric_key(a.decrypt_key);
      if (!k) return report(k.status());
      key = *k;
    }
    Status st = bundle::extract_model(**src, *vb, key ? &*key : nullptr, [](const uint8_t*, size_t) { return Status::ok(); });
    if (!st) return report(st.with_context(a.bundle));
  }
  const bundle::Manifest& m = vb->manifest;
  std::printf("ok: %s %s, signed by trusted key %s (%s), %s model bytes%s; signature checked in %.1f ms\n", m.name.c_str(),
              m.version.c_str(), bundle::to_hex(vb->header.key_id.data(), 8).c_str(), a.trust[vb->trusted_key_index].c_str(),
              std::to_string(m.model_size).c_str(), vb->header.encrypted() ? " (encrypted)" : "", t_verify);
  if (Status st = ota::check_runtime(m); !st) std::printf("note: %s\n", st.message().c_str());
  if (Status st = ota::check_required_ops(m); !st) std::printf("note: %s\n", st.message().c_str());
  return kExitOk;
}

}  // namespace petrel::cli
