#include <string>

#include "petrel/petrel.h"
#include "petrel/petrel.hpp"

struct petrel_session {
  std::unique_ptr<petrel::Session> s;
  std::vector<std::vector<int64_t>> out_dims;
};

namespace {
thread_local std::string g_last_error;

petrel_status fail(const petrel::Status& st) {
  g_last_error = st.to_string();
  switch (st.code()) {
    case petrel::StatusCode::kInvalidArgument: return PETREL_INVALID_ARGUMENT;
    case petrel::StatusCode::kInvalidModel: return PETREL_INVALID_MODEL;
    case petrel::StatusCode::kUnsupported: return PETREL_UNSUPPORTED;
    case petrel::StatusCode::kNotFound: return PETREL_NOT_FOUND;
    case petrel::StatusCode::kIoError: return PETREL_IO_ERROR;
    case petrel::StatusCode::kOutOfRange: return PETREL_OUT_OF_RANGE;
    default: return PETREL_INTERNAL;
  }
}
petrel_status bad_arg(const char* what) { return fail(petrel::invalid_argument(what)); }
}  // namespace

extern "C" {

const char* petrel_version(void) { return petrel::version(); }
const char* petrel_last_error(void) { return g_last_error.c_str(); }

petrel_status petrel_session_open(const char* model_path, int threads, petrel_session** out) {
  if (!model_path || !out) return bad_arg("model_path and out must not be null");
  *out = nullptr;
  petrel::SessionOptions o;
  o.threads = threads;
  auto r = petrel::Session::open(model_path, o);
  if (!r) return fail(r.status());
  *out = new petrel_session{std::move(r).value(), {}};
  return PETREL_OK;
}

void petrel_session_free(petrel_session* s) { delete s; }

size_t petrel_input_count(const petrel_session* s) { return s ? s->s->inputs().size() : 0; }
size_t petrel_output_count(const petrel_session* s) { return s ? s->s->outputs().size() : 0; }
const char* petrel_input_name(const petrel_session* s, size_t i) {
  return s && i < s->s->inputs().size() ? s->s->inputs()[i].name.c_str() : nullptr;
}
const char* petrel_output_name(const petrel_session* s, size_t i) {
  return s && i < s->s->outputs().size() ? s->s->outputs()[i].name.c_str() : nullptr;
}

petrel_status petrel_input_info(const petrel_session* s, size_t i, int32_t* dtype, size_t* rank, int64_t* dims, size_t max_rank) {
  if (!s || !dtype || !rank) return bad_arg("session, dtype and rank must not be null");
  if (i >= s->s->inputs().size()) return bad_arg("input index out of range");
  const auto& t = s->s->inputs()[i];
  *dtype = int32_t(t.dtype);
  *rank = t.shape.size();
  for (size_t d = 0; d < t.shape.size() && d < max_rank && dims; ++d) dims[d] = t.shape[d];
  return PETREL_OK;
}

petrel_status petrel_set_input(petrel_session* s, const char* name, int32_t dtype, const int64_t* dims, size_t rank, const void* data) {
  if (!s || !name) return bad_arg("session and name must not be null");
  if (rank > 0 && !dims) return bad_arg("dims must not be null when rank > 0");
  if (!petrel::dtype_is_valid(dtype)) return bad_arg("invalid dtype");
  std::vector<int64_t> shape(dims, dims + rank);
  petrel::Status st = s->s->set_input(name, petrel::DataType(dtype), shape, data);
  return st ? PETREL_OK : fail(st);
}

petrel_status petrel_run(petrel_session* s) {
  if (!s) return bad_arg("session must not be null");
  petrel::Status st = s->s->run();
  if (!st) return fail(st);
  s->out_dims.assign(s->s->outputs().size(), {});
  return PETREL_OK;
}

petrel_status petrel_get_output(const petrel_session* s, size_t i, int32_t* dtype, size_t* rank, const int64_t** dims, const void** data) {
  if (!s || !dtype || !rank || !dims || !data) return bad_arg("no argument may be null");
  auto r = s->s->output(i);
  if (!r) return fail(r.status());
  auto& slot = const_cast<petrel_session*>(s)->out_dims;
  if (slot.size() <= i) slot.resize(i + 1);
  slot[i] = r->shape;
  *dtype = int32_t(r->dtype);
  *rank = r->shape.size();
  *dims = slot[i].data();
  *data = r->data;
  return PETREL_OK;
}

}  // extern "C"
