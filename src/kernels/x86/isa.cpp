#include "kernels/x86/isa.hpp"

#include <atomic>
#include <cstdio>
#include <cstdlib>

namespace petrel::x86 {
namespace {

Isa detect_cpu() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("fma")) return Isa::kAvx512;
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::kAvx2;
#endif
  return Isa::kPortable;
}

Isa from_env() {
  const Isa best = detect_isa();
  const char* env = std::getenv("PETREL_ISA");
  if (env == nullptr || *env == '\0') return best;
  const std::optional<Isa> want = parse_isa(env);
  if (!want) {
    std::fprintf(stderr, "petrel: PETREL_ISA=%s is not one of avx512, avx2, portable; using %s\n", env, isa_name(best));
    return best;
  }
  if (int(*want) > int(best)) {
    std::fprintf(stderr, "petrel: PETREL_ISA=%s is not supported by this CPU; using %s\n", env, isa_name(best));
    return best;
  }
  return *want;
}

// -1: not decided yet.
std::atomic<int> g_active{-1};

}  // namespace

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kAvx512: return "avx512";
    case Isa::kAvx2: return "avx2";
    case Isa::kPortable: return "portable";
  }
  return "portable";
}

std::optional<Isa> parse_isa(std::string_view name) {
  if (name == "avx512") return Isa::kAvx512;
  if (name == "avx2") return Isa::kAvx2;
  if (name == "portable") return Isa::kPortable;
  return std::nullopt;
}

Isa detect_isa() {
  static const Isa best = detect_cpu();
  return best;
}

bool isa_supported(Isa isa) { return int(isa) <= int(detect_isa()); }

Isa active_isa() {
  int v = g_active.load(std::memory_order_relaxed);
  if (v < 0) {
    v = int(from_env());
    int expected = -1;
    if (!g_active.compare_exchange_strong(expected, v)) v = expected;
  }
  return Isa(v);
}

bool set_isa(Isa isa) {
  if (!isa_supported(isa)) return false;
  g_active.store(int(isa), std::memory_order_relaxed);
  return true;
}

void reset_isa() { g_active.store(int(from_env()), std::memory_order_relaxed); }

}  // namespace petrel::x86
