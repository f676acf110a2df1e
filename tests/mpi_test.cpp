// The MPI rank variables and the one-measurer-per-node rule (wattprint/mpi.h).
#include "wattprint/mpi.h"

#include <gtest/gtest.h>

namespace wattprint {
namespace {

using Env = std::vector<std::string>;

TEST(Mpi, OutsideAJobThereIsNoRank) {
  EXPECT_FALSE(MpiRankFromEnvironment(Env{"HOME=/root", "OMPI_COMM_WORLD_LOCAL_RANK=0"}).has_value());
}

TEST(Mpi, OpenMpiVariables) {
  const auto r = MpiRankFromEnvironment(
      Env{"OMPI_COMM_WORLD_RANK=5", "OMPI_COMM_WORLD_LOCAL_RANK=1", "OMPI_COMM_WORLD_SIZE=8"});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rank, 5);
  EXPECT_EQ(r->local_rank, 1);
  EXPECT_EQ(r->world_size, 8);
  EXPECT_EQ(r->rank_variable, "OMPI_COMM_WORLD_RANK");
}

TEST(Mpi, HydraAndSlurmVariables) {
  const auto hydra = MpiRankFromEnvironment(Env{"PMI_RANK=2", "MPI_LOCALRANKID=0", "PMI_SIZE=4"});
  ASSERT_TRUE(hydra.has_value());
  EXPECT_EQ(hydra->rank, 2);
  EXPECT_EQ(hydra->local_rank, 0);
  EXPECT_EQ(hydra->rank_variable, "PMI_RANK");
  const auto srun = MpiRankFromEnvironment(Env{"SLURM_PROCID=7", "SLURM_LOCALID=3", "SLURM_NTASKS=16"});
  ASSERT_TRUE(srun.has_value());
  EXPECT_EQ(srun->rank, 7);
  EXPECT_EQ(srun->local_rank, 3);
  EXPECT_EQ(srun->world_size, 16);
}

// mpirun inside an srun step: both sets are there; the MPI launcher's own
// numbering is the job's.
TEST(Mpi, TheMpiLauncherWinsOverSlurm) {
  const auto r = MpiRankFromEnvironment(
      Env{"SLURM_PROCID=0", "SLURM_LOCALID=0", "OMPI_COMM_WORLD_RANK=3", "OMPI_COMM_WORLD_LOCAL_RANK=3"});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->rank, 3);
  EXPECT_EQ(r->rank_variable, "OMPI_COMM_WORLD_RANK");
}

TEST(Mpi, MalformedValuesAreIgnored) {
  EXPECT_FALSE(MpiRankFromEnvironment(Env{"PMI_RANK=-1"}).has_value());
  EXPECT_FALSE(MpiRankFromEnvironment(Env{"PMI_RANK=1x"}).has_value());
  EXPECT_FALSE(MpiRankFromEnvironment(Env{"PMI_RANK="}).has_value());
  const auto r = MpiRankFromEnvironment(Env{"PMI_RANK=1", "MPI_LOCALRANKID=one"});
  ASSERT_TRUE(r.has_value());
  EXPECT_FALSE(r->local_rank.has_value());
}

TEST(Mpi, OnlyLocalRankZeroMeasuresTheNodeInMachineScope) {
  MpiRank r;
  int measuring = 0;
  for (int local = 0; local < 4; ++local) {
    r.rank = 4 + local;  // the second node of a job
    r.local_rank = local;
    measuring += MeasuresNode(r, Scope::kMachine, MpiMachineRule::kLocalRankZero) ? 1 : 0;
    EXPECT_EQ(MeasuresNode(r, Scope::kMachine, MpiMachineRule::kLocalRankZero), local == 0);
    // Process shares are disjoint, and every-rank is what the user asked for.
    EXPECT_TRUE(MeasuresNode(r, Scope::kProcess, MpiMachineRule::kLocalRankZero));
    EXPECT_TRUE(MeasuresNode(r, Scope::kMachine, MpiMachineRule::kEveryRank));
  }
  EXPECT_EQ(measuring, 1);
}

// No local rank: which ranks share a node is unknown, so only rank 0
// measures (one node left out rather than one counted twice).
TEST(Mpi, WithoutALocalRankOnlyRankZeroMeasures) {
  MpiRank r;
  r.rank = 0;
  EXPECT_TRUE(MeasuresNode(r, Scope::kMachine, MpiMachineRule::kLocalRankZero));
  r.rank = 1;
  EXPECT_FALSE(MeasuresNode(r, Scope::kMachine, MpiMachineRule::kLocalRankZero));
}

}  // namespace
}  // namespace wattprint
