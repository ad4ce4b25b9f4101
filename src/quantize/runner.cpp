#include "quantize/runner.hpp"

#include "optimize/optimizer.hpp"
#include "runtime/providers.hpp"

namespace petrel::quant {

Result<std::unique_ptr<GraphRunner>> GraphRunner::create(const Graph& g, const RunnerOptions& o) {
  auto r = std::unique_ptr<GraphRunner>(new GraphRunner());
  r->graph_ = std::make_shared<Graph>(g);
  if (o.optimize) {
    (void)opt::optimize_graph(*r->graph_);  // leaves a valid graph even when it gives up
    (void)opt::mark_activation_bits(*r->graph_, o.activation_bits);
  }
  PETREL_RETURN_IF_ERROR(assign_providers(*r->graph_, o.xnnpack));
  PETREL_ASSIGN_OR_RETURN(r->exec_, GraphExecutor::create(r->graph_, true));
  r->pool_ = std::make_unique<ThreadPool>(o.threads);
  r->exec_->set_thread_pool(r->pool_.get());
  return r;
}

Status GraphRunner::run(const std::vector<Tensor>& inputs) {
  if (inputs.size() != graph_->inputs.size())
    return invalid_argument("the model takes " + std::to_string(graph_->inputs.size()) + " inputs, got " + std::to_string(inputs.size()));
  inputs_.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) inputs_[i] = Value::of(Tensor::view(inputs[i].dtype, inputs[i].shape, inputs[i].data));
  return exec_->run(inputs_, {}, outputs_);
}

}  // namespace petrel::quant
