// Checks that a bundle can run on this build: runtime compatibility range, required operators,
// and the smoke test (golden input → output compared with the golden output, within tolerance).
#pragma once

#include <string>
#include <vector>

#include "bundle/manifest.hpp"
#include "core/graph.hpp"

namespace petrel::ota {

// The ops a graph uses (subgraphs included), sorted and unique: "Conv", or "domain:Op".
std::vector<std::string> ops_of(const Graph& g);
// Is this entry of required_ops implemented by this build?
bool op_supported(const std::string& op);
// Unsupported: "bundle requires operator 'X', which this build does not implement".
Status check_required_ops(const bundle::Manifest& m);
// Unsupported: "bundle requires Petrel runtime >= A, < B; this is C".
Status check_runtime(const bundle::Manifest& m);

// Runs the model on the given .npy inputs (by name) and returns every output as .npy bytes.
Result<std::vector<bundle::GoldenTensor>> run_model(const std::string& model_path,
                                                    const std::vector<bundle::GoldenTensor>& inputs);
// Runs the golden inputs and compares with the golden outputs (ok when the manifest has none
// only if the model loads and plans). Errors name the output and first differing element.
Status smoke_test(const std::string& model_path, const bundle::Manifest& m);

}  // namespace petrel::ota
