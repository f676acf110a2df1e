// Where a process sits in an MPI job, from the variables the launchers set
// (Open MPI's mpirun, MPICH/Intel MPI's Hydra, Slurm's srun), and the rule
// that keeps the ranks sharing a node from counting its energy twice: in
// machine scope only the tracker of local rank 0 measures the node
// (docs/C_API.md, "MPI"). CodeCarbon has every rank measure the whole node,
// so a job of N ranks per node reports N times the node's energy.
//
// Thread safety: pure functions of their inputs.
#pragma once

#include <optional>
#include <span>
#include <string>

#include "wattprint/record.h"

namespace wattprint {

// Rank, local rank and size of the job, from the first launcher whose rank
// variable is set: OMPI_COMM_WORLD_RANK (with OMPI_COMM_WORLD_LOCAL_RANK,
// OMPI_COMM_WORLD_SIZE), PMI_RANK (MPI_LOCALRANKID, PMI_SIZE), then
// SLURM_PROCID (SLURM_LOCALID, SLURM_NTASKS). A variable that is not a
// non-negative integer is ignored. nullopt outside an MPI job.
// `environment` holds "KEY=VALUE" strings. measures_node is left true.
std::optional<MpiRank> MpiRankFromEnvironment(std::span<const std::string> environment);

// Which trackers of a job measure the node in machine scope.
enum class MpiMachineRule {
  kLocalRankZero,  // local rank 0 only; a rank with no local rank: rank 0 only
  kEveryRank,      // each one, as outside MPI (each record has the whole node)
};

// Whether this rank's tracker measures the node. Process scope: always (the
// ranks' process trees are disjoint, so their shares add up). Machine scope
// under kLocalRankZero: local rank 0 only; when the launcher gives no local
// rank, the tracker cannot tell which ranks share a node, and only world
// rank 0 measures (one node is measured rather than one counted twice).
bool MeasuresNode(const MpiRank& rank, Scope scope, MpiMachineRule rule);

}  // namespace wattprint
