// Writing a bundle: header, manifest, model bytes (optionally encrypted), Ed25519ph signature.
// The model file is streamed (never held in memory); the output appears atomically (written to
// OUT.tmp, fsynced, renamed).
#pragma once

#include <string>

#include "bundle/keys.hpp"
#include "bundle/manifest.hpp"

namespace petrel::bundle {

// `m.model_size` is filled from the model file. `encrypt` may be null (plaintext payload).
Status write_bundle(Manifest m, const std::string& model_path, const SecretKey& sk, const SymmetricKey* encrypt,
                    const std::string& out_path);

}  // namespace petrel::bundle
