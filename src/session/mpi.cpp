// The MPI rank variables and the one-measurer-per-node rule
// (wattprint/mpi.h).
#include "wattprint/mpi.h"

#include <charconv>
#include <string_view>

namespace wattprint {
namespace {

struct Launcher {
  const char* rank;
  const char* local_rank;
  const char* size;
};
// In the order they are tried: srun also sets SLURM_PROCID for an mpirun
// started inside a job step, so the MPI launchers' own variables come first.
constexpr Launcher kLaunchers[] = {
    {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_LOCAL_RANK", "OMPI_COMM_WORLD_SIZE"},
    {"PMI_RANK", "MPI_LOCALRANKID", "PMI_SIZE"},
    {"SLURM_PROCID", "SLURM_LOCALID", "SLURM_NTASKS"},
};

std::optional<std::string_view> Lookup(std::span<const std::string> env, std::string_view name) {
  for (const std::string& e : env) {
    const std::string_view v(e);
    if (v.size() > name.size() && v.starts_with(name) && v[name.size()] == '=') return v.substr(name.size() + 1);
  }
  return std::nullopt;
}

std::optional<int> NonNegative(std::span<const std::string> env, std::string_view name) {
  const std::optional<std::string_view> text = Lookup(env, name);
  if (!text) return std::nullopt;
  int v = -1;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), v);
  if (ec != std::errc() || end != text->data() + text->size() || v < 0) return std::nullopt;
  return v;
}

}  // namespace

std::optional<MpiRank> MpiRankFromEnvironment(std::span<const std::string> environment) {
  for (const Launcher& l : kLaunchers) {
    const std::optional<int> rank = NonNegative(environment, l.rank);
    if (!rank) continue;
    MpiRank r;
    r.rank = *rank;
    r.rank_variable = l.rank;
    r.local_rank = NonNegative(environment, l.local_rank);
    r.world_size = NonNegative(environment, l.size);
    return r;
  }
  return std::nullopt;
}

bool MeasuresNode(const MpiRank& rank, Scope scope, MpiMachineRule rule) {
  if (scope == Scope::kProcess || rule == MpiMachineRule::kEveryRank) return true;
  if (rank.local_rank) return *rank.local_rank == 0;
  return rank.rank == 0;
}

}  // namespace wattprint
