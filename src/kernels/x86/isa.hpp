// Runtime ISA dispatch for the x86 kernels. The level is chosen once, on first use, from the
// CPU (cpuid via __builtin_cpu_supports, which also checks that the OS saves the wide
// registers) and the environment variable PETREL_ISA=avx512|avx2|portable, which can only
// lower the level (asking for one the CPU lacks falls back to the best it has, with a note on
// stderr). Tests force each level with set_isa(); kernels read active_isa() when they compute,
// so a change takes effect on the next compute (packed weights are re-packed for the new tile).
#pragma once

#include <optional>
#include <string_view>

namespace petrel::x86 {

enum class Isa : int { kPortable = 0, kAvx2 = 1, kAvx512 = 2 };

// "portable", "avx2", "avx512".
const char* isa_name(Isa isa);
std::optional<Isa> parse_isa(std::string_view name);

// The best level this CPU (and this build) supports.
Isa detect_isa();
bool isa_supported(Isa isa);
// The level kernels use now: detect_isa() lowered by PETREL_ISA, or the last set_isa().
Isa active_isa();
// Forces a level (tests, benchmarks). Returns false (and changes nothing) when the CPU lacks it.
bool set_isa(Isa isa);
// Back to detect_isa() lowered by PETREL_ISA.
void reset_isa();

}  // namespace petrel::x86
