/* wattprint's stable C API (C99): measure the energy and the CO2e of a
 * region of a C, C++ or Fortran program, with the same figures, records and
 * configuration as `wattprint run` and the Python trackers.
 *
 *   wp_options *o; wp_tracker *t; double j;
 *   wp_options_new(&o);
 *   wp_options_set(o, "country", "FRA");
 *   if (wp_tracker_new(o, &t) != WP_OK) { puts(wp_tracker_errmsg(t)); }
 *   wp_options_free(o);
 *   wp_tracker_start(t);
 *   ... the work ...
 *   wp_tracker_stop(t);
 *   wp_tracker_energy_j(t, WP_RUN, WP_KIND_TOTAL, WP_SCOPE_MACHINE, &j);
 *   wp_tracker_write_csv(t, WP_RUN, NULL, NULL);
 *   wp_tracker_free(t);
 *
 * ABI: stable within a major version (the library's SONAME is
 * libwattprint.so.MAJOR). Handles are opaque; options are key/value
 * setters, so settings can be added without changing a type; enums only
 * gain values at the end. Nothing here is removed or changes meaning within
 * a major version.
 *
 * Errors: every function that can fail returns a wp_status. WP_OK is 0. The
 * message of the last failed call on a handle is wp_tracker_errmsg() or
 * wp_options_errmsg(); wp_status_name() names a code. No C++ exception
 * crosses this interface: the library catches everything and returns
 * WP_ERR_INTERNAL (or WP_ERR_NO_MEMORY) with the message.
 *
 * Unknown is not zero: a figure the run could not measure (no channel of
 * that kind, no process share, no marginal intensity for the place) is
 * WP_ERR_UNAVAILABLE, never a 0 written to the output pointer.
 *
 * Strings: a `const char *` returned by the library is owned by the handle
 * it came from. It stays valid until the next call on that handle that
 * changes its state (wp_tracker_start, _stop, _flush, _start_task,
 * _stop_task) or until the handle is freed; error messages until the next
 * call on the handle. Copy a string to keep it longer. A `char **` output
 * is the caller's, to be released with wp_free_string().
 *
 * Thread safety: a wp_tracker is internally synchronised; every wp_tracker_*
 * call may be made from any thread, and calls on one handle are serialised
 * (a sampler thread of the library reads the counters in the background).
 * Strings borrowed from a handle may be invalidated by another thread's
 * state-changing call on it, and wp_tracker_errmsg() describes the last
 * failed call of any thread: share a handle between threads only with your
 * own ordering of those calls. A wp_options is a plain builder: use it from
 * one thread at a time. Distinct handles are independent: any number of
 * trackers may live in one process. Functions without a handle
 * (wp_version, wp_status_name, wp_free_string) are thread-safe.
 *
 * MPI: in an MPI job (OMPI_COMM_WORLD_RANK, PMI_RANK or SLURM_PROCID set),
 * every rank's record is tagged with its rank, and in machine scope only the
 * tracker of local rank 0 on each node measures the node; the others count
 * no node energy (docs/C_API.md, "MPI").
 */
#ifndef WATTPRINT_WATTPRINT_H_
#define WATTPRINT_WATTPRINT_H_

#ifdef __cplusplus
extern "C" {
#endif

/* The version of this header; wp_version() gives the library's. */
#define WP_VERSION_MAJOR 0
#define WP_VERSION_MINOR 1
#define WP_VERSION_PATCH 0

#if defined(__GNUC__)
#define WP_API __attribute__((visibility("default")))
#else
#define WP_API
#endif

typedef enum wp_status {
  WP_OK = 0,
  WP_ERR_INVALID_ARGUMENT = 1, /* a bad key, value or argument (NULL handle, index) */
  WP_ERR_NOT_FOUND = 2,        /* e.g. an unknown country */
  WP_ERR_PERMISSION_DENIED = 3,
  WP_ERR_NOT_SUPPORTED = 4,
  WP_ERR_IO = 5,               /* a file could not be read or written */
  WP_ERR_CORRUPT = 6,
  WP_ERR_STATE = 7,            /* not allowed now: stop before start, no task open */
  WP_ERR_UNAVAILABLE = 8,      /* the figure is unknown (not measured); nothing written */
  WP_ERR_NO_MEMORY = 9,
  WP_ERR_INTERNAL = 10         /* an unexpected failure inside the library */
} wp_status;

/* Device kinds of the energy figures. WP_KIND_TOTAL is the counted energy
 * (what feeds emissions: platform counts only when there is no CPU
 * channel), without PUE. */
typedef enum wp_kind {
  WP_KIND_CPU = 0,
  WP_KIND_DRAM = 1,
  WP_KIND_GPU = 2,
  WP_KIND_PLATFORM = 3,
  WP_KIND_TOTAL = 4
} wp_kind;

/* Machine: the whole node. Process: this process tree's share of it. */
typedef enum wp_scope { WP_SCOPE_MACHINE = 0, WP_SCOPE_PROCESS = 1 } wp_scope;

/* The grid intensity CO2e is computed with: the average (mean of the
 * generation), the marginal (the plant that answers extra demand), or the
 * one the configuration chose (intensity_basis, average by default). */
typedef enum wp_basis { WP_BASIS_AVERAGE = 0, WP_BASIS_MARGINAL = 1, WP_BASIS_CHOSEN = 2 } wp_basis;

/* The slice a figure is read for: the whole run, or a task's index
 * (0 = the first task started). */
#define WP_RUN (-1)

typedef struct wp_options wp_options;
typedef struct wp_tracker wp_tracker;

/* The library's version, "0.1.0": a static string. */
WP_API const char *wp_version(void);
/* "ok", "invalid_argument", ...: a static string; "unknown" for other values. */
WP_API const char *wp_status_name(wp_status status);
/* Releases a string the library handed over through a char ** (NULL: no-op). */
WP_API void wp_free_string(char *s);

/* ---- Options ---------------------------------------------------------- */

/* A new, empty set of options: every key keeps the value the environment
 * (WATTPRINT_*), the config files (./wattprint.toml, the user's and the
 * site's) or the defaults give it. */
WP_API wp_status wp_options_new(wp_options **out);
/* Sets one key, as a flag would (it wins over the environment and the
 * files). Keys and values are those of wattprint.toml (docs/CONFIG.md):
 * "country" = "FRA", "pue" = "1.2", "scope" = "process", "output_dir", ...;
 * booleans are "true"/"false". The value is checked now: an unknown key or
 * a bad value is WP_ERR_INVALID_ARGUMENT, and wp_options_errmsg() says why
 * (with a did-you-mean for a misspelt key). Setting a key again replaces
 * it. Two keys are the C API's own:
 *   "mpi_machine_scope": "local_rank0" (default; see MPI above) or
 *                        "every_rank" (each tracker measures its node);
 *   "detect_location":   "true" (default: cloud metadata, then the time
 *                        zone, as `wattprint run`) or "false" (the
 *                        configured place only, else the world average). */
WP_API wp_status wp_options_set(wp_options *opts, const char *key, const char *value);
/* The message of the last failed wp_options_set ("" if none). */
WP_API const char *wp_options_errmsg(const wp_options *opts);
WP_API void wp_options_free(wp_options *opts);

/* ---- Tracker ---------------------------------------------------------- */

/* Builds a tracker: loads the configuration (options > environment >
 * files > defaults), finds the location and the grid intensity, and probes
 * the energy sources. `opts` may be NULL (no options) and may be freed as
 * soon as this returns. As sqlite3_open, *out receives a handle even on
 * failure (except WP_ERR_NO_MEMORY, where it is NULL): read the reason with
 * wp_tracker_errmsg() and release it with wp_tracker_free(). */
WP_API wp_status wp_tracker_new(const wp_options *opts, wp_tracker **out);
/* Stops the tracker if it runs and releases it (NULL: no-op). Writes
 * nothing. */
WP_API void wp_tracker_free(wp_tracker *t);
/* The message of the last failed call on this handle ("" if none). */
WP_API const char *wp_tracker_errmsg(const wp_tracker *t);

/* Takes the first reading and starts the background sampler.
 * WP_ERR_STATE if it runs already. */
WP_API wp_status wp_tracker_start(wp_tracker *t);
/* Takes the last reading; the figures then cover the whole run.
 * WP_ERR_STATE if it does not run. */
WP_API wp_status wp_tracker_stop(wp_tracker *t);
/* Takes a reading without stopping; the figures then cover the run so far. */
WP_API wp_status wp_tracker_flush(wp_tracker *t);
/* Opens a task (a named slice, read with its index); one that is open is
 * closed first. Takes a reading at the boundary, so the slice is exact. */
WP_API wp_status wp_tracker_start_task(wp_tracker *t, const char *name);
/* Closes the open task; WP_ERR_STATE if none is open. */
WP_API wp_status wp_tracker_stop_task(wp_tracker *t);

/* ---- Figures (of the last stop, flush or stop_task) ------------------- */

/* Number of closed tasks, and a task's name (index 0..count-1). */
WP_API wp_status wp_tracker_task_count(const wp_tracker *t, int *count);
WP_API wp_status wp_tracker_task_name(const wp_tracker *t, int task, const char **name);
/* Seconds covered by a slice (WP_RUN or a task index). */
WP_API wp_status wp_tracker_duration_s(const wp_tracker *t, int slice, double *seconds);
/* Energy of one kind in one scope, in joules, without PUE. A GPU-less
 * machine's GPU energy is a measured 0. */
WP_API wp_status wp_tracker_energy_j(const wp_tracker *t, int slice, wp_kind kind, wp_scope scope,
                                     double *joules);
/* CO2e in grams of the slice's counted energy (PUE applied) in one scope,
 * under one basis of grid intensity. */
WP_API wp_status wp_tracker_co2e_g(const wp_tracker *t, int slice, wp_basis basis, wp_scope scope,
                                   double *grams);
/* The grid intensity of a basis, g CO2e/kWh (its first value when live
 * readings vary over the run). */
WP_API wp_status wp_tracker_intensity_g_per_kwh(const wp_tracker *t, wp_basis basis, double *g_per_kwh);
/* The provenance of a basis's intensity, by field: "zone" ("FRA"),
 * "country", "region", "source" ("Ember (2023), yearly country average"),
 * "year", "basis" ("average"), "resolution" ("explicit --country"...),
 * "location_step", "note". An empty field is ""; an unknown field is
 * WP_ERR_INVALID_ARGUMENT. */
WP_API wp_status wp_tracker_provenance(const wp_tracker *t, wp_basis basis, const char *field,
                                       const char **value);

/* ---- Records ---------------------------------------------------------- */

/* Appends the slice's CodeCarbon-compatible row to dir/file (NULL: the
 * configured output_dir and output_file, "./emissions.csv" by default),
 * creating the file and its header as needed. */
WP_API wp_status wp_tracker_write_csv(const wp_tracker *t, int slice, const char *dir, const char *file);
/* Writes the whole run's JSON record (docs/OUTPUTS.md) to path (NULL: the
 * configured `json` key; WP_ERR_INVALID_ARGUMENT when neither is set). */
WP_API wp_status wp_tracker_write_json(const wp_tracker *t, const char *path);
/* The JSON record as text; release *json with wp_free_string(). */
WP_API wp_status wp_tracker_json(const wp_tracker *t, char **json);
/* The run's id (a UUID, also in the CSV row and the record). */
WP_API const char *wp_tracker_run_id(const wp_tracker *t);

/* ---- MPI -------------------------------------------------------------- */

/* This process's MPI rank and local rank (-1 when unknown; both -1
 * outside an MPI job) and whether its tracker measures the node (1) or
 * leaves it to local rank 0 (0). */
WP_API wp_status wp_tracker_mpi(const wp_tracker *t, int *rank, int *local_rank, int *measures_node);

#ifdef __cplusplus
}
#endif

#endif /* WATTPRINT_WATTPRINT_H_ */
