// Pieces of the router's decision, kept apart from its control flow so tests can pin them:
// reading confidence/OOD from the edge answer, checking a cloud answer against it, hashing a
// request for the cache.
#pragma once

#include <string>

#include "router/lru_cache.hpp"
#include "serve/oip.hpp"
#include "telemetry/drift.hpp"

namespace petrel::router {

struct EdgeVerdict {
  bool has_scores = false;  // false: no float32 score output, nothing to decide on
  double confidence = 0;    // the lowest top-1 confidence over the batch's rows
  bool ood = false;         // any row OOD (only with a detector)
};

// The score output is `name` if given, else the detector's, else the first float32 output
// whose last dimension is >= 2. Without a detector each row is read as probabilities when it
// looks like them (values in [0,1] summing to 1), else as logits.
EdgeVerdict edge_verdict(const serve::oip::InferResponse& edge, const std::string& name, const telemetry::OodDetector* detector);

// The cloud answer must have exactly the edge answer's outputs (same names, dtypes, shapes).
// On success `cloud.outputs` is reordered to the edge's order; otherwise `why` says what differs.
bool match_outputs(const serve::oip::InferResponse& edge, serve::oip::InferResponse& cloud, std::string& why);

// BLAKE2b-256 (libsodium crypto_generichash) of the cloud model name, the requested outputs
// and each input's name, dtype, shape and bytes, all length-prefixed so no two different
// requests share an encoding. Call sodium_init() once before.
Digest request_digest(const std::string& model, const serve::oip::InferRequest& request);

// Bytes of the tensors of an answer (the cache's size bound).
size_t response_bytes(const serve::oip::InferResponse& r);

}  // namespace petrel::router
