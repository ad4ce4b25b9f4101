// Path parsing for the OIP v2 REST API.
#include "serve/route.hpp"

#include <vector>

namespace petrel::serve {

Route parse_route(std::string_view path) {
  Route r;
  if (path == "/metrics") { r.kind = Route::kMetrics; return r; }
  // Split on '/'; empty segments (//, trailing /) make the path unknown.
  std::vector<std::string_view> seg;
  if (path.empty() || path[0] != '/') return r;
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    seg.push_back(path.substr(start, end - start));
    if (seg.back().empty() || seg.size() > 6) return r;
    start = end + 1;
  }
  if (seg.empty() || seg[0] != "v2") return r;
  if (seg.size() == 1) { r.kind = Route::kServer; return r; }
  if (seg[1] == "health" && seg.size() == 3) {
    if (seg[2] == "live") r.kind = Route::kLive;
    if (seg[2] == "ready") r.kind = Route::kReady;
    return r;
  }
  if (seg[1] != "models" || seg.size() < 3) return r;
  r.model = std::string(seg[2]);
  size_t i = 3;
  if (seg.size() >= 5 && seg[3] == "versions") {
    r.version = std::string(seg[4]);
    i = 5;
  }
  if (seg.size() == i) r.kind = Route::kModel;
  else if (seg.size() == i + 1 && seg[i] == "ready") r.kind = Route::kModelReady;
  else if (seg.size() == i + 1 && seg[i] == "infer") r.kind = Route::kInfer;
  if (r.kind == Route::kNone) r.model.clear(), r.version.clear();
  return r;
}

}  // namespace petrel::serve
