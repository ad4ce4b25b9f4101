// What answers an infer request once the server has admitted, parsed and checked it.
//
// Without a dispatcher the server runs the request on the edge model and answers that
// (parameters.source = "edge"). A dispatcher (the hybrid router's, src/router/serve_dispatcher)
// gets the same edge run as `local` and may answer otherwise: from the cloud, from a cache.
// `local` holds an execution context only while the model runs, so a slow cloud leg never keeps
// a context from other requests. The server adds queue_ms to the answer's parameters and
// observes the whole dispatch in the duration histogram under parameters.source.
#pragma once

#include <functional>

#include "serve/model_host.hpp"
#include "serve/oip.hpp"

namespace petrel::serve {

using LocalRun = std::function<Result<oip::InferResponse>(const oip::InferRequest&)>;

class Dispatcher {
 public:
  virtual ~Dispatcher() = default;
  // Must call `local` at most once; its error is the request's error. Thread-safe.
  virtual Result<oip::InferResponse> dispatch(const ModelHost& host, const oip::InferRequest& request,
                                              const LocalRun& local) = 0;
};

}  // namespace petrel::serve
