/* A program outside wattprint, built against its installed C API: it
 * measures a fake powercap tree whose counters it moves itself, by known
 * amounts, around a task, and checks the figures exactly.
 *
 *   measure TREE OUT              one tracker (consumer_test.py checks OUT)
 *   measure TREE OUT --mpi BARRIER  a rank of an MPI job: every rank starts,
 *                                 local rank 0 moves the counters while all
 *                                 run, then every rank stops and writes
 *
 * TREE holds sys/class/powercap/intel-rapl:0 (package) and intel-rapl:0:0
 * (dram) with 10-digit counters, as consumer_test.py writes it. Exit 0 when
 * every check passed; each failed check prints a line. */
#define _POSIX_C_SOURCE 200809L /* pwrite, nanosleep: the program is strict C99 */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <wattprint/wattprint.h>

static int failures = 0;

#define CHECK(cond, ...)                          \
  do {                                            \
    if (!(cond)) {                                \
      fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      fprintf(stderr, __VA_ARGS__);               \
      fputc('\n', stderr);                        \
      ++failures;                                 \
    }                                             \
  } while (0)

#define OK(call, t)                                                                 \
  do {                                                                              \
    wp_status st_ = (call);                                                         \
    if (st_ != WP_OK) {                                                             \
      fprintf(stderr, "FAIL %s:%d: %s: %s (%s)\n", __FILE__, __LINE__, #call,     \
              wp_status_name(st_), (t) ? wp_tracker_errmsg(t) : "");              \
      exit(1);                                                                      \
    }                                                                               \
  } while (0)

static const char *kPkg = "sys/class/powercap/intel-rapl:0/energy_uj";
static const char *kDram = "sys/class/powercap/intel-rapl:0:0/energy_uj";

/* Moves a counter forward by `uj`, in place and at the same width (the
 * source keeps the file open and re-reads it at offset 0). */
static void add_uj(const char *tree, const char *counter, unsigned long long uj) {
  char path[4096], text[32];
  snprintf(path, sizeof path, "%s/%s", tree, counter);
  FILE *f = fopen(path, "r");
  unsigned long long cur = 0;
  if (f == NULL || fscanf(f, "%llu", &cur) != 1) {
    fprintf(stderr, "cannot read %s\n", path);
    exit(1);
  }
  fclose(f);
  int n = snprintf(text, sizeof text, "%010llu\n", cur + uj);
  int fd = open(path, O_WRONLY);
  if (fd < 0 || pwrite(fd, text, (size_t)n, 0) != n) {
    fprintf(stderr, "cannot write %s\n", path);
    exit(1);
  }
  close(fd);
}

static int near(double a, double b) { return fabs(a - b) <= 1e-9 * fabs(b) + 1e-12; }

static double energy(wp_tracker *t, int slice, wp_kind kind, wp_scope scope) {
  double j = -1;
  OK(wp_tracker_energy_j(t, slice, kind, scope, &j), t);
  return j;
}

static wp_options *options(const char *tree, const char *out) {
  wp_options *o = NULL;
  char sysfs[4096];
  snprintf(sysfs, sizeof sysfs, "%s/sys", tree);
  OK(wp_options_new(&o), NULL);
  /* A misspelt key is refused with a did-you-mean, and sets nothing. */
  CHECK(wp_options_set(o, "contry", "FRA") == WP_ERR_INVALID_ARGUMENT, "misspelt key accepted");
  CHECK(strstr(wp_options_errmsg(o), "did you mean 'country'") != NULL, "no did-you-mean: %s",
        wp_options_errmsg(o));
  CHECK(wp_options_set(o, "pue", "0.5") == WP_ERR_INVALID_ARGUMENT, "pue 0.5 accepted");
  const char *kv[][2] = {{"sysfs_root", sysfs}, {"country", "FRA"},         {"pue", "1.5"},
                         {"interval", "30"},  {"cloud_metadata", "false"}, {"output_dir", out},
                         {"project_name", "capi-consumer"}};
  for (size_t i = 0; i < sizeof kv / sizeof kv[0]; ++i) {
    if (wp_options_set(o, kv[i][0], kv[i][1]) != WP_OK) {
      fprintf(stderr, "FAIL: wp_options_set %s: %s\n", kv[i][0], wp_options_errmsg(o));
      exit(1);
    }
  }
  return o;
}

static void check_provenance(wp_tracker *t) {
  const char *zone = NULL, *basis = NULL, *source = NULL, *resolution = NULL;
  OK(wp_tracker_provenance(t, WP_BASIS_AVERAGE, "zone", &zone), t);
  OK(wp_tracker_provenance(t, WP_BASIS_AVERAGE, "basis", &basis), t);
  OK(wp_tracker_provenance(t, WP_BASIS_AVERAGE, "source", &source), t);
  OK(wp_tracker_provenance(t, WP_BASIS_AVERAGE, "resolution", &resolution), t);
  const char *country = NULL;
  OK(wp_tracker_provenance(t, WP_BASIS_AVERAGE, "country", &country), t);
  CHECK(strcmp(zone, "FR") == 0, "zone %s", zone); /* Electricity Maps' zone of France */
  CHECK(strcmp(country, "FRA") == 0, "country %s", country);
  CHECK(strcmp(basis, "average") == 0, "basis %s", basis);
  CHECK(strlen(source) > 0, "no source");
  CHECK(strstr(resolution, "country") != NULL, "resolution %s", resolution);
  const char *v = NULL;
  CHECK(wp_tracker_provenance(t, WP_BASIS_AVERAGE, "colour", &v) == WP_ERR_INVALID_ARGUMENT, "unknown field");
  printf("provenance zone=%s basis=%s source=%s resolution=%s\n", zone, basis, source, resolution);
}

/* CO2e = energy (kWh) x intensity x PUE, under both bases. */
static void check_co2e(wp_tracker *t, int slice, double joules) {
  double g_avg = 0, co2e = 0;
  OK(wp_tracker_intensity_g_per_kwh(t, WP_BASIS_AVERAGE, &g_avg), t);
  OK(wp_tracker_co2e_g(t, slice, WP_BASIS_AVERAGE, WP_SCOPE_MACHINE, &co2e), t);
  CHECK(near(co2e, joules / 3.6e6 * g_avg * 1.5), "average co2e %.17g g, expected %.17g", co2e,
        joules / 3.6e6 * g_avg * 1.5);
  double g_marg = 0;
  wp_status st = wp_tracker_intensity_g_per_kwh(t, WP_BASIS_MARGINAL, &g_marg);
  if (st == WP_OK) {
    OK(wp_tracker_co2e_g(t, slice, WP_BASIS_MARGINAL, WP_SCOPE_MACHINE, &co2e), t);
    CHECK(near(co2e, joules / 3.6e6 * g_marg * 1.5), "marginal co2e %.17g g", co2e);
    CHECK(g_marg != g_avg, "marginal equals average: %g", g_marg);
    printf("slice %d marginal %.6g g/kWh\n", slice, g_marg);
  } else {
    CHECK(st == WP_ERR_UNAVAILABLE, "marginal: %s", wp_status_name(st));
  }
  printf("slice %d energy %.17g J co2e_average %.17g g\n", slice, joules, joules / 3.6e6 * g_avg * 1.5);
}

static int single(const char *tree, const char *out) {
  wp_options *o = options(tree, out);
  wp_tracker *t = NULL;
  OK(wp_tracker_new(o, &t), t);
  wp_options_free(o); /* the tracker keeps nothing of it */
  CHECK(wp_tracker_stop(t) == WP_ERR_STATE, "stop before start");
  OK(wp_tracker_start(t), t);
  add_uj(tree, kPkg, 5000000);  /* 5 J */
  add_uj(tree, kDram, 1000000); /* 1 J */
  OK(wp_tracker_start_task(t, "solve"), t);
  add_uj(tree, kPkg, 2000000);
  add_uj(tree, kDram, 500000);
  OK(wp_tracker_stop_task(t), t);
  CHECK(wp_tracker_stop_task(t) == WP_ERR_STATE, "stop_task with no task");
  add_uj(tree, kPkg, 3000000);
  OK(wp_tracker_stop(t), t);

  CHECK(near(energy(t, WP_RUN, WP_KIND_CPU, WP_SCOPE_MACHINE), 10.0), "run cpu");
  CHECK(near(energy(t, WP_RUN, WP_KIND_DRAM, WP_SCOPE_MACHINE), 1.5), "run dram");
  CHECK(near(energy(t, WP_RUN, WP_KIND_TOTAL, WP_SCOPE_MACHINE), 11.5), "run total");
  CHECK(near(energy(t, 0, WP_KIND_CPU, WP_SCOPE_MACHINE), 2.0), "task cpu");
  CHECK(near(energy(t, 0, WP_KIND_DRAM, WP_SCOPE_MACHINE), 0.5), "task dram");
  double j = 0;
  /* No psys zone: platform energy is unknown, never 0. */
  CHECK(wp_tracker_energy_j(t, WP_RUN, WP_KIND_PLATFORM, WP_SCOPE_MACHINE, &j) == WP_ERR_UNAVAILABLE, "platform");
  CHECK(wp_tracker_energy_j(t, 1, WP_KIND_CPU, WP_SCOPE_MACHINE, &j) == WP_ERR_INVALID_ARGUMENT, "task 1");
  int n = 0;
  const char *name = NULL;
  OK(wp_tracker_task_count(t, &n), t);
  OK(wp_tracker_task_name(t, 0, &name), t);
  CHECK(n == 1 && strcmp(name, "solve") == 0, "tasks: %d %s", n, name);
  check_provenance(t);
  check_co2e(t, WP_RUN, 11.5);
  check_co2e(t, 0, 2.5);

  char json[4096];
  snprintf(json, sizeof json, "%s/record.json", out);
  OK(wp_tracker_write_csv(t, WP_RUN, NULL, NULL), t);
  OK(wp_tracker_write_csv(t, 0, NULL, "tasks.csv"), t);
  OK(wp_tracker_write_json(t, json), t);
  char *text = NULL;
  OK(wp_tracker_json(t, &text), t);
  CHECK(strstr(text, wp_tracker_run_id(t)) != NULL, "run id not in the record");
  wp_free_string(text);
  printf("run_id %s version %s\n", wp_tracker_run_id(t), wp_version());
  wp_tracker_free(t);
  return failures == 0 ? 0 : 1;
}

static void touch(const char *dir, const char *name) {
  char path[4096];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "w");
  if (f) fclose(f);
}

/* Waits (at most 60 s) until `count` files named PREFIX0.. exist in dir. */
static void wait_for(const char *dir, const char *prefix, int count) {
  for (int tries = 0; tries < 6000; ++tries) {
    int seen = 0;
    for (int i = 0; i < count; ++i) {
      char path[4096];
      snprintf(path, sizeof path, "%s/%s%d", dir, prefix, i);
      seen += access(path, F_OK) == 0;
    }
    if (seen == count) return;
    struct timespec ts = {0, 10000000};
    nanosleep(&ts, NULL);
  }
  fprintf(stderr, "FAIL: timed out waiting for %s*\n", prefix);
  exit(1);
}

static int mpi_rank(const char *tree, const char *out, const char *barrier) {
  wp_options *o = options(tree, out);
  wp_tracker *t = NULL;
  OK(wp_tracker_new(o, &t), t);
  wp_options_free(o);
  int rank = -1, local = -1, measures = -1;
  OK(wp_tracker_mpi(t, &rank, &local, &measures), t);
  CHECK(rank >= 0 && local >= 0, "not in an MPI job: rank %d local %d", rank, local);
  CHECK(measures == (local == 0), "rank %d local %d measures %d", rank, local, measures);
  const char *size_text = getenv("OMPI_COMM_WORLD_SIZE");
  const int size = size_text ? atoi(size_text) : 4;
  char name[64];
  OK(wp_tracker_start(t), t);
  snprintf(name, sizeof name, "started%d", rank);
  touch(barrier, name);
  wait_for(barrier, "started", size);
  if (local == 0) {
    add_uj(tree, kPkg, 4000000); /* 4 J, while every rank's tracker runs */
    add_uj(tree, kDram, 1000000);
    touch(barrier, "moved0");
  }
  wait_for(barrier, "moved", 1);
  OK(wp_tracker_stop(t), t);
  double j = 0;
  if (measures) {
    CHECK(near(energy(t, WP_RUN, WP_KIND_TOTAL, WP_SCOPE_MACHINE), 5.0), "node total");
  } else {
    CHECK(wp_tracker_energy_j(t, WP_RUN, WP_KIND_TOTAL, WP_SCOPE_MACHINE, &j) == WP_ERR_UNAVAILABLE,
          "rank %d reports node energy %g J", rank, j);
  }
  char path[4096];
  snprintf(path, sizeof path, "%s/record-%d.json", out, rank);
  OK(wp_tracker_write_json(t, path), t);
  OK(wp_tracker_write_csv(t, WP_RUN, NULL, NULL), t);
  printf("rank %d local %d measures %d\n", rank, local, measures);
  wp_tracker_free(t);
  return failures == 0 ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc == 3) return single(argv[1], argv[2]);
  if (argc == 5 && strcmp(argv[3], "--mpi") == 0) return mpi_rank(argv[1], argv[2], argv[4]);
  fprintf(stderr, "usage: measure TREE OUT [--mpi BARRIER_DIR]\n");
  return 2;
}
