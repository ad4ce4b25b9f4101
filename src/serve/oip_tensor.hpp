// Tensor <-> JSON for the OIP v2 codec (internal to src/serve).
#pragma once

#include <nlohmann/json.hpp>

#include "serve/oip.hpp"
#include "serve/oip_numbers.hpp"

namespace petrel::serve::oip::detail {

// Parses {"name","datatype","shape","data"} (data required when `with_data`). `where` names the
// tensor in errors ("inputs[0]"); `total` accumulates elements across tensors for the limit.
// `lifted`: the tensor's "data" numbers when scan_message() took them out of the parsed text.
Result<Tensor> parse_tensor(const nlohmann::json& j, const Limits& limits, const std::string& where,
                            int64_t& total, const DataText* lifted = nullptr);
// {"name","datatype","shape","data"} with flat data.
nlohmann::json tensor_to_json(const Tensor& t);

}  // namespace petrel::serve::oip::detail
